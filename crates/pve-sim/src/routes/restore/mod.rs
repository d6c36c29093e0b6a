//! Restores from backup archives. PVE serves them on the create endpoints:
//! `POST /nodes/{node}/qemu` with `archive` (a `qmrestore` task) and `POST /nodes/{node}/lxc`
//! with `restore=1` and the archive as `ostemplate` (`vzrestore`). [`wrap`] puts a handler in
//! front of each that sends restores here and every other call to the route's own create
//! handler (the routes declare the restore parameters, and that `force`/`unique` require them).
//!
//! As in PVE: the archive must exist and be readable (`VM.Backup` on its guest), an existing
//! guest is only overwritten with `force` (never when protected, running, a template or on
//! another node), and the task recreates the guest from the config saved in the archive, with
//! new disks on `storage` (or the original storages) and new MAC addresses with `unique`.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde_json::{Value, json};

use crate::Sim;
use crate::auth;
use crate::guest::{self, disk_volid, new_mac, parse_props, print_disk};
use crate::route::{ApiError, Call, Handler, Method, Route};
use crate::state::{AgentState, Cluster, Guest, GuestKind, PowerState, SimTime, is_disk_key};
use crate::tasks::TaskSpec;

/// Parameters a QEMU restore accepts besides `archive` (any other conflicts with it).
const QEMU_RESTORE_KEYS: &[&str] = &[
    "node",
    "vmid",
    "archive",
    "storage",
    "force",
    "unique",
    "pool",
    "bwlimit",
    "start",
    "live-restore",
];

static QEMU_CREATE: OnceLock<Handler> = OnceLock::new();
static LXC_CREATE: OnceLock<Handler> = OnceLock::new();

/// Puts restore in front of the QEMU and LXC create handlers of `routes`.
pub(super) fn wrap(routes: &mut [Route]) {
    for r in routes.iter_mut().filter(|r| r.method == Method::Post) {
        let (handler, front): (_, Handler) = match r.path {
            "/nodes/{node}/qemu" => (&QEMU_CREATE, qemu_front),
            "/nodes/{node}/lxc" => (&LXC_CREATE, lxc_front),
            _ => continue,
        };
        let own = r.handler;
        handler.get_or_init(|| own);
        r.handler = front;
    }
}

fn qemu_front(sim: &mut Sim, call: &Call) -> Result<Value, ApiError> {
    if call.params.contains_key("archive") {
        return restore(sim, call, GuestKind::Qemu);
    }
    QEMU_CREATE.get().map_or_else(not_wrapped, |h| h(sim, call))
}

fn lxc_front(sim: &mut Sim, call: &Call) -> Result<Value, ApiError> {
    if call.bool("restore").unwrap_or(false) {
        return restore(sim, call, GuestKind::Lxc);
    }
    LXC_CREATE.get().map_or_else(not_wrapped, |h| h(sim, call))
}

fn not_wrapped() -> Result<Value, ApiError> {
    Err(ApiError::internal("create handler missing"))
}

fn allowed(sim: &Sim, call: &Call, path: &str, privs: &[&str]) -> bool {
    auth::allowed(&call.identity, path, privs, &sim.cluster)
}

/// What the archive's name says it holds.
fn archive_kind(volid: &str) -> Option<GuestKind> {
    let name = volid.rsplit('/').next().unwrap_or(volid);
    if name.starts_with("vzdump-qemu-") {
        Some(GuestKind::Qemu)
    } else if name.starts_with("vzdump-lxc-") || name.starts_with("vzdump-openvz-") {
        Some(GuestKind::Lxc)
    } else {
        None
    }
}

/// The checks PVE makes before forking the restore worker, then the task.
fn restore(sim: &mut Sim, call: &Call, kind: GuestKind) -> Result<Value, ApiError> {
    let node = call.node()?.to_string();
    let vmid = call.vmid()?;
    let archive_key = if kind == GuestKind::Qemu {
        "archive"
    } else {
        "ostemplate"
    };
    let archive = call.req_str(archive_key)?.to_string();
    if kind == GuestKind::Qemu {
        let mut others: Vec<&str> = call
            .params
            .keys()
            .map(String::as_str)
            .filter(|k| !QEMU_RESTORE_KEYS.contains(k))
            .collect();
        others.sort_unstable();
        if !others.is_empty() {
            return Err(ApiError::param(
                "archive",
                format!("option conflicts with other options ({})", others.join(" ")),
            ));
        }
    }
    let storage = call.str("storage").map(str::to_string);
    if let Some(st) = &storage {
        let path = format!("/storage/{st}");
        if !allowed(sim, call, &path, &["Datastore.AllocateSpace"]) {
            return Err(ApiError::forbidden(&path, "Datastore.AllocateSpace"));
        }
    }
    let force = call.bool("force").unwrap_or(false);
    let existing = sim.cluster.guests.get(&vmid).cloned();
    let vm_path = format!("/vms/{vmid}");
    let pool = call.str("pool").map(str::to_string);
    let may = allowed(sim, call, &vm_path, &["VM.Allocate"])
        || pool
            .as_ref()
            .is_some_and(|p| allowed(sim, call, &format!("/pool/{p}"), &["VM.Allocate"]))
        || (force
            && existing.as_ref().is_some_and(|g| g.node == node)
            && allowed(sim, call, &vm_path, &["VM.Backup"]));
    if !may {
        return Err(ApiError::forbidden(&vm_path, "VM.Allocate"));
    }
    // The archive: readable by the caller, and there.
    let c = &sim.cluster;
    let vol = c
        .volumes
        .iter()
        .find(|v| {
            v.volid == archive
                && v.content == "backup"
                && (v.node == node || c.storages.get(&v.storage).is_some_and(|s| s.shared))
        })
        .cloned()
        .ok_or_else(|| ApiError::internal(format!("can't find file '{archive}'")))?;
    let spath = format!("/storage/{}", vol.storage);
    if !allowed(sim, call, &spath, &["Datastore.AllocateSpace"]) {
        return Err(ApiError::forbidden(&spath, "Datastore.AllocateSpace"));
    }
    if let Some(owner) = vol.vmid {
        let opath = format!("/vms/{owner}");
        if !allowed(sim, call, &opath, &["VM.Backup"]) {
            return Err(ApiError::forbidden(&opath, "VM.Backup"));
        }
    }
    if let Some(g) = &existing {
        check_overwrite(g, &node, vmid, kind, force)?;
    }
    // The config the archive holds: recorded by vzdump, else what the guest looks like now.
    let saved = c.backup_configs.get(&archive).cloned().or_else(|| {
        c.guests
            .get(&vol.vmid.unwrap_or(0))
            .filter(|g| Some(g.kind) == archive_kind(&archive))
            .map(|g| g.config.clone())
    });
    let job = Job {
        node: node.clone(),
        vmid,
        kind,
        archive: archive.clone(),
        archive_kind: archive_kind(&archive),
        archive_size: vol.size,
        storage,
        unique: call.bool("unique").unwrap_or(false),
        start: call.bool("start").unwrap_or(false),
        pool: pool.clone(),
        saved,
        previous: existing.clone(),
    };
    let lock = if existing.is_some() {
        "restore"
    } else {
        "create"
    };
    match sim.cluster.guests.get_mut(&vmid) {
        Some(g) => {
            g.config.insert("lock".into(), json!(lock));
        }
        None => {
            let mut config = BTreeMap::new();
            config.insert("lock".to_string(), json!(lock));
            sim.cluster
                .guests
                .insert(vmid, blank(vmid, kind, &node, config, pool));
        }
    }
    let path = dump_path(&sim.cluster, &vol.storage, &archive);
    let task = if kind == GuestKind::Qemu {
        "qmrestore"
    } else {
        "vzrestore"
    };
    let upid = sim.spawn_task(TaskSpec {
        node,
        kind: task.into(),
        id: vmid.to_string(),
        user: guest::task_user(call),
        duration: 3.0 + vol.size as f64 / 200e6,
        log: vec![format!("restore {} archive: {path}", archive_word(kind))],
        lock_vmid: None,
        finish: Box::new(move |cluster, t| run(cluster, &job, t)),
    });
    Ok(Value::String(upid))
}

/// Where a backup archive lives on disk (`/mnt/pve/nfs-backup/dump/vzdump-...`).
fn dump_path(c: &Cluster, storage: &str, volid: &str) -> String {
    let file = volid.rsplit('/').next().unwrap_or(volid);
    let base = c
        .storages
        .get(storage)
        .and_then(|s| s.extra.get("path"))
        .and_then(Value::as_str)
        .map_or_else(|| format!("/mnt/pve/{storage}"), str::to_string);
    format!("{base}/dump/{file}")
}

fn archive_word(kind: GuestKind) -> &'static str {
    match kind {
        GuestKind::Qemu => "vma",
        GuestKind::Lxc => "tar",
    }
}

/// PVE's refusals to restore over an existing guest.
fn check_overwrite(
    g: &Guest,
    node: &str,
    vmid: u32,
    kind: GuestKind,
    force: bool,
) -> Result<(), ApiError> {
    let fail = |why: String| Err(ApiError::internal(why));
    if g.node != node {
        return fail(match kind {
            GuestKind::Qemu => format!(
                "unable to restore vm {vmid} - already existing on cluster node '{}'",
                g.node
            ),
            GuestKind::Lxc => format!("CT {vmid} already exists on node '{}'", g.node),
        });
    }
    if g.kind != kind {
        return fail(crate::missing_config_message(node, vmid, kind));
    }
    if guest::value_text(g.config.get("protection").unwrap_or(&Value::Null)) == "1" {
        let noun = if kind == GuestKind::Qemu { "VM" } else { "CT" };
        return fail(format!(
            "unable to restore {noun} {vmid} - protection mode enabled"
        ));
    }
    if !force {
        return fail(match kind {
            GuestKind::Qemu => format!("unable to restore vm {vmid} - config file already exists"),
            GuestKind::Lxc => format!("CT {vmid} already exists on node '{node}'"),
        });
    }
    if let Some(l) = g.lock() {
        return fail(guest::lock_message(kind, &l));
    }
    if g.status == PowerState::Running {
        return fail(match kind {
            GuestKind::Qemu => format!("unable to restore vm {vmid} - vm is running"),
            GuestKind::Lxc => format!("unable to restore CT {vmid} - container is running"),
        });
    }
    if g.is_template() {
        return fail(match kind {
            GuestKind::Qemu => format!("unable to restore vm {vmid} - vm is a template"),
            GuestKind::Lxc => format!("unable to restore CT {vmid} - container is a template"),
        });
    }
    Ok(())
}

/// A stopped guest holding `config`, with the usual load figures.
fn blank(
    vmid: u32,
    kind: GuestKind,
    node: &str,
    config: BTreeMap<String, Value>,
    pool: Option<String>,
) -> Guest {
    Guest {
        vmid,
        kind,
        node: node.to_string(),
        status: PowerState::Stopped,
        qmpstatus: "stopped".into(),
        config,
        started_at: None,
        agent: AgentState::Missing,
        snapshots: Vec::new(),
        parent_snapshot: None,
        base_cpu: 0.05,
        mem_fraction: 0.3,
        disk_fraction: 0.12,
        pid: 0,
        pool,
        hastate: None,
        cloudinit: None,
    }
}

/// The restore as its task runs it.
#[derive(Debug, Clone)]
struct Job {
    node: String,
    vmid: u32,
    kind: GuestKind,
    archive: String,
    archive_kind: Option<GuestKind>,
    archive_size: u64,
    storage: Option<String>,
    unique: bool,
    start: bool,
    pool: Option<String>,
    saved: Option<BTreeMap<String, Value>>,
    previous: Option<Guest>,
}

/// A config for an archive nothing is known about: a small guest with one disk.
fn fallback_config(job: &Job) -> BTreeMap<String, Value> {
    let gib = (job.archive_size * 2).div_ceil(1 << 30).max(4);
    let mut c = BTreeMap::new();
    match job.kind {
        GuestKind::Qemu => {
            c.insert("name".into(), json!(format!("restored-{}", job.vmid)));
            c.insert("memory".into(), json!("2048"));
            c.insert("cores".into(), json!(2));
            c.insert("ostype".into(), json!("l26"));
            c.insert("scsihw".into(), json!("virtio-scsi-single"));
            c.insert(
                "scsi0".into(),
                json!(format!("local-lvm:vm-0-disk-0,size={gib}G")),
            );
            c.insert(
                "net0".into(),
                json!("virtio=BC:24:11:00:00:00,bridge=vmbr0"),
            );
        }
        GuestKind::Lxc => {
            c.insert("hostname".into(), json!(format!("restored-{}", job.vmid)));
            c.insert("memory".into(), json!(512));
            c.insert("cores".into(), json!(1));
            c.insert("ostype".into(), json!("debian"));
            c.insert(
                "rootfs".into(),
                json!(format!("local-lvm:vm-0-disk-0,size={gib}G")),
            );
            c.insert(
                "net0".into(),
                json!("name=eth0,bridge=vmbr0,hwaddr=BC:24:11:00:00:00,ip=dhcp,type=veth"),
            );
        }
    }
    c
}

/// Puts the guest back as it was before the restore started (a failed restore).
fn undo(cluster: &mut Cluster, job: &Job, allocated: &[String]) {
    guest::free_volumes(cluster, allocated);
    match &job.previous {
        Some(g) => {
            cluster.guests.insert(job.vmid, g.clone());
        }
        None => {
            cluster.guests.remove(&job.vmid);
        }
    }
}

/// The restore itself, when the task ends.
fn run(cluster: &mut Cluster, job: &Job, t: SimTime) -> Result<Vec<String>, String> {
    if job.archive_kind != Some(job.kind) {
        undo(cluster, job, &[]);
        return Err(match job.kind {
            GuestKind::Qemu => format!("unable to restore '{}': not a VM backup", job.archive),
            GuestKind::Lxc => format!(
                "unable to restore '{}': not a container backup",
                job.archive
            ),
        });
    }
    let mut config = job.saved.clone().unwrap_or_else(|| fallback_config(job));
    for k in ["lock", "parent", "snapstate", "vmstate"] {
        config.remove(k);
    }
    // The old guest's disks go first, as PVE destroys the guest it overwrites.
    if let Some(old) = &job.previous {
        guest::free_guest_volumes(cluster, old, true);
    }
    let mut log = Vec::new();
    let mut allocated = Vec::new();
    let disks: Vec<(String, String)> = config
        .iter()
        .filter(|(k, _)| is_disk_key(job.kind, k))
        .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
        .filter(|(_, v)| !v.contains("media=cdrom"))
        .collect();
    for (key, spec) in disks {
        let Some(volid) = disk_volid(&spec).filter(|v| v.contains(':')) else {
            continue;
        };
        let from = volid.split(':').next().unwrap_or("local-lvm");
        let storage = job.storage.clone().unwrap_or_else(|| from.to_string());
        let size = crate::state::disk_size_bytes(&spec).unwrap_or(4 << 30);
        let fmt = volid
            .rsplit_once('.')
            .map(|(_, f)| f)
            .filter(|f| *f == "qcow2");
        match guest::alloc_disk(
            cluster, &job.node, &storage, job.vmid, job.kind, size, fmt, t as i64,
        ) {
            Ok(a) => {
                log.extend(a.log);
                log.push(format!("new volume ID is '{}'", a.volid));
                let opts: Vec<(String, String)> = parse_props(&spec).into_iter().skip(1).collect();
                config.insert(key, json!(print_disk(&a.volid, &opts)));
                allocated.push(a.volid);
            }
            Err(e) => {
                undo(cluster, job, &allocated);
                log.push(format!("error before or during data restore, some or all disks were not completely restored. VM {} state is NOT cleaned up.", job.vmid));
                log.push(e);
                return Err(log.join("\n"));
            }
        }
    }
    if job.unique {
        let nets: Vec<(String, String)> = config
            .iter()
            .filter(|(k, _)| k.starts_with("net"))
            .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
            .collect();
        for (key, spec) in nets {
            let mac = new_mac(&format!("{}-{key}-{t}", job.vmid));
            config.insert(key, json!(replace_mac(job.kind, &spec, &mac)));
        }
    }
    let agent = if job.kind == GuestKind::Qemu
        && config.get("agent").is_some_and(|a| {
            guest::value_text(a).starts_with('1') || guest::value_text(a).contains("enabled=1")
        }) {
        AgentState::Running
    } else {
        AgentState::Missing
    };
    let mut g = blank(job.vmid, job.kind, &job.node, config, job.pool.clone());
    g.agent = agent;
    if let Some(old) = &job.previous {
        g.pool = job.pool.clone().or_else(|| old.pool.clone());
    }
    if job.start {
        guest::power::set_running(&mut g, t);
        log.push(format!(
            "starting {} {}",
            guest::kind_word(job.kind),
            job.vmid
        ));
    }
    cluster.guests.insert(job.vmid, g);
    log.push("rescan volumes...".into());
    Ok(log)
}

/// A NIC spec with its MAC address replaced (`virtio=MAC,...` for VMs, `hwaddr=MAC` for CTs).
fn replace_mac(kind: GuestKind, spec: &str, mac: &str) -> String {
    spec.split(',')
        .map(|part| match part.split_once('=') {
            Some(("hwaddr", _)) if kind == GuestKind::Lxc => format!("hwaddr={mac}"),
            Some((model, v))
                if kind == GuestKind::Qemu && v.len() == 17 && v.matches(':').count() == 5 =>
            {
                format!("{model}={mac}")
            }
            _ => part.to_string(),
        })
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests;
