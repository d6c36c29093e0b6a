//! `POST /nodes/{node}/lxc`: creates a container from a `vztmpl` template. The config is
//! written at once with `lock: create` (as PVE does before forking); the `vzcreate` task then
//! allocates the root disk and mount points, fills the config and optionally starts it. A full
//! storage makes the task fail with the storage's error, and the half-made container vanishes.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::{alloc_ct_volume, parse_mount};
use crate::Sim;
use crate::auth;
use crate::guest;
use crate::route::{ApiError, Call, Method, Perm, Route};
use crate::state::{AgentState, Cluster, Guest, GuestKind, PowerState, SimTime};
use crate::tasks::TaskSpec;

/// The routes of this module.
pub(super) fn routes() -> Vec<Route> {
    vec![Route::new(
        Method::Post,
        "/nodes/{node}/lxc",
        Perm::All,
        create,
    )]
}

/// A disk to allocate when the task runs: config key, storage, size, mount options.
struct NewDisk {
    key: String,
    storage: String,
    size: u64,
    opts: Vec<(String, String)>,
}

/// `POST /nodes/{node}/lxc`.
fn create(sim: &mut Sim, call: &Call) -> Result<Value, ApiError> {
    let node = call.node()?.to_string();
    let vmid = call.vmid()?;
    let id = &call.identity;
    let c = &sim.cluster;
    let vm_path = format!("/vms/{vmid}");
    let pool = call.str("pool");
    let pool_ok =
        pool.is_some_and(|p| auth::allowed(id, &format!("/pool/{p}"), &["VM.Allocate"], c));
    if !pool_ok && !auth::allowed(id, &vm_path, &["VM.Allocate"], c) {
        return Err(ApiError::forbidden(&vm_path, "VM.Allocate"));
    }
    if let Some(g) = c.guests.get(&vmid) {
        return Err(ApiError::internal(format!(
            "unable to create CT {vmid} - {} {vmid} already exists on node '{}'",
            guest::kind_word(g.kind),
            g.node
        )));
    }
    let template = call.req_str("ostemplate")?;
    let tvol = c
        .volumes
        .iter()
        .find(|v| {
            v.volid == template
                && (v.node == node || c.storages.get(&v.storage).is_some_and(|s| s.shared))
        })
        .ok_or_else(|| ApiError::internal(format!("can't find file '{template}'")))?;
    let tpath = format!("/storage/{}", tvol.storage);
    if !auth::allowed(
        id,
        &tpath,
        &["Datastore.AllocateSpace", "Datastore.Audit"],
        c,
    ) {
        return Err(ApiError::forbidden(&tpath, "Datastore.AllocateSpace"));
    }
    let template_size = tvol.size;
    let is_vztmpl = tvol.content == "vztmpl";
    let storage = call.str("storage").unwrap_or("local");
    let rootfs = call
        .str("rootfs")
        .map_or_else(|| format!("{storage}:4"), str::to_string);
    let mut disks = vec![new_disk(c, call, &node, "rootfs", &rootfs)?];
    let mut config: BTreeMap<String, Value> = BTreeMap::new();
    let mut errors = BTreeMap::new();
    for (key, value) in &call.params {
        let text = value.as_str().unwrap_or_default();
        if key.starts_with("mp") && key[2..].bytes().all(|b| b.is_ascii_digit()) {
            disks.push(new_disk(c, call, &node, key, text)?);
        } else if key.starts_with("net") {
            match normalize_net(vmid, key, text, None) {
                Ok(v) => {
                    config.insert(key.clone(), json!(v));
                }
                Err(e) => {
                    errors.insert(key.clone(), e);
                }
            }
        } else if key != "rootfs" && super::is_config_key(key) {
            config.insert(key.clone(), super::config_value(key, value));
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::params(errors));
    }
    config
        .entry("arch".into())
        .or_insert_with(|| json!("amd64"));
    config
        .entry("ostype".into())
        .or_insert_with(|| json!(detect_ostype(template)));
    let start = call.bool("start").unwrap_or(false);
    let mut locked = BTreeMap::new();
    locked.insert("lock".to_string(), json!("create"));
    sim.cluster
        .guests
        .insert(vmid, new_guest(vmid, &node, locked, pool));
    let ctime = sim.now as i64;
    let file = template
        .split_once('/')
        .map_or(template, |(_, f)| f)
        .to_string();
    let upid = sim.spawn_task(TaskSpec {
        node: node.clone(),
        kind: "vzcreate".into(),
        id: vmid.to_string(),
        user: guest::task_user(call),
        duration: 6.0 + template_size as f64 / 60e6,
        log: Vec::new(),
        lock_vmid: Some(vmid),
        finish: Box::new(move |cluster, end| {
            let made = Made {
                vmid,
                node,
                disks,
                config,
                start,
                ctime,
                is_vztmpl,
                file,
            };
            finish_create(cluster, end, made)
                .map_err(|e| format!("unable to create CT {vmid} - {e}"))
        }),
    });
    Ok(Value::String(upid))
}

/// Checks a disk parameter (`local-lvm:8`, `volume=local-lvm:8,mp=/data`) before forking.
fn new_disk(
    c: &Cluster,
    call: &Call,
    node: &str,
    key: &str,
    spec: &str,
) -> Result<NewDisk, ApiError> {
    let (volume, opts) = parse_mount(spec);
    let Some((storage, size)) = guest::new_volume_request(&volume) else {
        return Err(ApiError::param(
            key,
            format!(
                "invalid format - '{volume}' is not a new volume request (STORAGE:SIZE_IN_GiB)"
            ),
        ));
    };
    if key != "rootfs" && !opts.iter().any(|(k, _)| k == "mp") {
        return Err(ApiError::param(
            key,
            format!(
                "invalid format - format error\n{key}.mp: property is missing and it is not optional"
            ),
        ));
    }
    if size == 0 {
        return Err(ApiError::param(
            key,
            "invalid format - disk size must be at least 1 GiB",
        ));
    }
    guest::check_storage(c, storage, node, "rootdir").map_err(ApiError::internal)?;
    let path = format!("/storage/{storage}");
    auth::require(&call.identity, &path, "Datastore.AllocateSpace", c)?;
    Ok(NewDisk {
        key: key.to_string(),
        storage: storage.to_string(),
        size,
        opts,
    })
}

/// What the `vzcreate` task makes when it ends.
struct Made {
    vmid: u32,
    node: String,
    disks: Vec<NewDisk>,
    config: BTreeMap<String, Value>,
    start: bool,
    ctime: i64,
    is_vztmpl: bool,
    file: String,
}

fn finish_create(cluster: &mut Cluster, end: SimTime, m: Made) -> Result<Vec<String>, String> {
    let mut log = Vec::new();
    let mut made: Vec<String> = Vec::new();
    let fail = |cluster: &mut Cluster, made: &[String], e: String| {
        guest::free_volumes(cluster, made);
        cluster.guests.remove(&m.vmid);
        Err(e)
    };
    let mut config = m.config;
    for d in &m.disks {
        match alloc_ct_volume(cluster, &m.node, &d.storage, m.vmid, d.size, m.ctime) {
            Ok((volid, lines)) => {
                log.extend(lines);
                let mut opts = d.opts.clone();
                opts.retain(|(k, _)| k != "size");
                opts.push(("size".into(), crate::state::format_size(d.size)));
                config.insert(d.key.clone(), json!(guest::print_disk(&volid, &opts)));
                made.push(volid);
            }
            Err(e) => return fail(cluster, &made, e),
        }
    }
    if !m.is_vztmpl {
        return fail(
            cluster,
            &made,
            "unable to detect OS distribution".to_string(),
        );
    }
    log.push(format!(
        "extracting archive '/var/lib/vz/template/cache/{}'",
        m.file
    ));
    log.push("Total bytes read: 524288000 (500MiB, 215MiB/s)".to_string());
    log.push("Detected container architecture: amd64".to_string());
    log.push(
        "Creating SSH host key 'ssh_host_ed25519_key' - this may take some time ...".to_string(),
    );
    let Some(g) = cluster.guests.get_mut(&m.vmid) else {
        return Err(format!("CT {} vanished during creation", m.vmid));
    };
    config.insert("lock".into(), json!("create"));
    g.config = config;
    if m.start {
        g.status = PowerState::Running;
        g.qmpstatus = "running".into();
        g.started_at = Some(end);
        g.pid = 100_000 + m.vmid % 900_000;
        log.push(format!("starting CT {}", m.vmid));
    }
    Ok(log)
}

/// A fresh, stopped container with believable usage figures once it runs.
fn new_guest(vmid: u32, node: &str, config: BTreeMap<String, Value>, pool: Option<&str>) -> Guest {
    let seed = u64::from(vmid);
    Guest {
        vmid,
        kind: GuestKind::Lxc,
        node: node.to_string(),
        status: PowerState::Stopped,
        qmpstatus: "stopped".into(),
        config,
        started_at: None,
        agent: AgentState::Missing,
        snapshots: Vec::new(),
        parent_snapshot: None,
        base_cpu: crate::seed::parts::frac(seed ^ 0xC0, 0.01, 0.08),
        mem_fraction: crate::seed::parts::frac(seed ^ 0xE0, 0.1, 0.3),
        disk_fraction: 0.12,
        pid: 0,
        pool: pool.map(str::to_string),
        hastate: None,
        cloudinit: None,
    }
}

/// The OS type from a template name (`debian-12-standard_...` → `debian`).
fn detect_ostype(template: &str) -> &'static str {
    let name = template.rsplit('/').next().unwrap_or(template);
    [
        "debian",
        "ubuntu",
        "alpine",
        "centos",
        "fedora",
        "opensuse",
        "archlinux",
        "devuan",
        "gentoo",
        "nixos",
    ]
    .into_iter()
    .find(|os| name.starts_with(os))
    .unwrap_or("unmanaged")
}

/// Normalizes a container network device as PVE prints it: `name` first, then the other keys
/// in order, a MAC (`hwaddr`) kept from `existing` or generated, `type=veth` added.
pub(crate) fn normalize_net(
    vmid: u32,
    key: &str,
    spec: &str,
    existing: Option<&str>,
) -> Result<String, String> {
    let mut props: Vec<(String, String)> = guest::parse_props(spec);
    if props.iter().any(|(k, _)| k.is_empty()) {
        return Err(format!(
            "invalid format - format error\n{key}: missing key in comma-separated list"
        ));
    }
    let Some(name) = props
        .iter()
        .find(|(k, _)| k == "name")
        .map(|(_, v)| v.clone())
    else {
        return Err(format!(
            "invalid format - format error\n{key}.name: property is missing and it is not optional"
        ));
    };
    props.retain(|(k, _)| k != "name");
    if !props.iter().any(|(k, _)| k == "hwaddr") {
        let keep = existing
            .and_then(|e| guest::prop(e, "hwaddr"))
            .map(str::to_string);
        let mac = keep.unwrap_or_else(|| guest::new_mac(&format!("{vmid}:{key}:{name}")));
        props.push(("hwaddr".into(), mac));
    }
    if !props.iter().any(|(k, _)| k == "type") {
        props.push(("type".into(), "veth".into()));
    }
    props.sort_by(|a, b| a.0.cmp(&b.0));
    let mut out = format!("name={name}");
    for (k, v) in props {
        out.push_str(&format!(",{k}={v}"));
    }
    Ok(out)
}
