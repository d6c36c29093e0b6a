//! QEMU VMs: list, create, directory index, destroy, config, clone, template, disk resize.
//! This file holds the route table, the list, the index, destroy and template; create and clone
//! live in `create.rs`, the config calls in `config.rs`, option parsing in `spec.rs`, disk
//! growth in `resize.rs`.

pub(crate) mod cloudinit;
mod config;
mod create;
pub(crate) mod resize;
pub(crate) mod spec;

use std::sync::LazyLock;

use serde_json::{Value, json};

use crate::Sim;
use crate::auth;
use crate::guest::{self, free_guest_volumes, lock_message};
use crate::route::{ApiError, Call, Handler, Method, ParamSpec, Perm, Route, p};
use crate::routes::power::qemu_status;
use crate::state::{Cluster, GuestKind, PowerState, SimTime};
use crate::tasks::TaskSpec;

const OSTYPES: &[&str] = &[
    "other", "wxp", "w2k", "w2k3", "w2k8", "wvista", "win7", "win8", "win10", "win11", "l24",
    "l26", "solaris",
];
const SCSIHW: &[&str] = &[
    "lsi",
    "lsi53c810",
    "virtio-scsi-pci",
    "virtio-scsi-single",
    "megasas",
    "pvscsi",
];

/// The VM options accepted by create and config updates.
const OPTIONS: &[ParamSpec] = &[
    p::fmt("name", "dns-name", true),
    p::string("memory", true),
    p::int("cores", Some(1), None, true),
    p::int("sockets", Some(1), None, true),
    p::int("vcpus", Some(1), None, true),
    p::fmt("cpu", "pve-vm-cpu-conf", true),
    p::num("cpulimit", Some(0.0), Some(128.0), true),
    p::int("cpuunits", Some(1), Some(262_144), true),
    p::int("balloon", Some(0), None, true),
    p::bool("numa", true),
    p::one_of("ostype", OSTYPES, true),
    p::one_of("scsihw", SCSIHW, true),
    p::one_of("bios", &["seabios", "ovmf"], true),
    p::string("machine", true),
    p::string("vga", true),
    p::string("scsi[n]", true),
    p::string("virtio[n]", true),
    p::string("sata[n]", true),
    p::string("ide[n]", true),
    p::string("efidisk0", true),
    p::string("tpmstate0", true),
    p::string("unused[n]", true),
    p::string("net[n]", true),
    p::fmt("ipconfig[n]", "pve-qm-ipconfig", true),
    p::string("serial[n]", true),
    p::fmt("boot", "pve-qm-boot", true),
    p::string("agent", true),
    p::maxlen("description", 8192, true),
    p::fmt("tags", "pve-tag-list", true),
    p::bool("onboot", true),
    p::bool("protection", true),
    p::bool("acpi", true),
    p::bool("kvm", true),
    p::bool("tablet", true),
    p::bool("localtime", true),
    p::fmt("startup", "pve-startup-order", true),
    p::fmt("hotplug", "pve-hotplug-features", true),
    p::string("ciuser", true),
    p::string("cipassword", true),
    p::fmt("nameserver", "address-list", true),
    p::string("searchdomain", true),
    p::fmt("sshkeys", "urlencoded", true),
    p::fmt("cdrom", "pve-qm-ide", true),
];

static CREATE: LazyLock<Vec<ParamSpec>> = LazyLock::new(|| {
    [
        &[
            p::node(),
            p::vmid(),
            p::bool("start", true),
            p::fmt("storage", "pve-storage-id", true),
            p::fmt("pool", "pve-poolid", true),
            p::bool("template", true),
            p::bool("unique", true),
        ],
        OPTIONS,
    ]
    .concat()
});
static UPDATE_SYNC: LazyLock<Vec<ParamSpec>> = LazyLock::new(|| {
    [
        &[
            p::node(),
            p::vmid(),
            p::fmt("delete", "pve-configid-list", true),
            p::maxlen("digest", 40, true),
            p::bool("skiplock", true),
        ],
        OPTIONS,
    ]
    .concat()
});
static UPDATE_ASYNC: LazyLock<Vec<ParamSpec>> = LazyLock::new(|| {
    let mut v = UPDATE_SYNC.clone();
    v.push(p::int("background_delay", Some(1), Some(30), true));
    v
});

const NV: &[ParamSpec] = &[p::node(), p::vmid()];
const LIST: &[ParamSpec] = &[p::node(), p::bool("full", true)];
const DESTROY: &[ParamSpec] = &[
    p::node(),
    p::vmid(),
    p::bool("purge", true),
    p::bool("destroy-unreferenced-disks", true),
    p::bool("skiplock", true),
];
const GET_CONFIG: &[ParamSpec] = &[
    p::node(),
    p::vmid(),
    p::bool("current", true),
    p::fmt("snapshot", "pve-configid", true),
];
const CLONE: &[ParamSpec] = &[
    p::node(),
    p::vmid(),
    p::int("newid", Some(100), Some(999_999_999), false),
    p::fmt("name", "dns-name", true),
    p::string("description", true),
    p::fmt("target", "pve-node", true),
    p::bool("full", true),
    p::fmt("storage", "pve-storage-id", true),
    p::one_of("format", &["raw", "qcow2", "vmdk"], true),
    p::fmt("snapname", "pve-configid", true),
    p::fmt("pool", "pve-poolid", true),
];
const CONFIG_PRIVS: &[&str] = &[
    "VM.Config.Disk",
    "VM.Config.CDROM",
    "VM.Config.CPU",
    "VM.Config.Memory",
    "VM.Config.Network",
    "VM.Config.HWType",
    "VM.Config.Options",
    "VM.Config.Cloudinit",
];

/// The routes of this module.
pub(crate) fn routes() -> Vec<Route> {
    let r = |method: Method,
             path: &'static str,
             params: &'static [ParamSpec],
             perm: Perm,
             handler: Handler| Route {
        method,
        path,
        params,
        perm,
        allow_token: true,
        handler,
    };
    use Method::{Delete, Get, Post, Put};
    let allocate = Perm::Vm(&["VM.Allocate"]);
    vec![
        r(Get, "/nodes/{node}/qemu", LIST, Perm::All, list),
        r(
            Post,
            "/nodes/{node}/qemu",
            CREATE.as_slice(),
            Perm::All,
            create::create,
        ),
        r(Get, "/nodes/{node}/qemu/{vmid}", NV, Perm::All, index),
        r(
            Delete,
            "/nodes/{node}/qemu/{vmid}",
            DESTROY,
            allocate,
            destroy,
        ),
        r(
            Get,
            "/nodes/{node}/qemu/{vmid}/config",
            GET_CONFIG,
            Perm::Vm(&["VM.Audit"]),
            config::get,
        ),
        r(
            Put,
            "/nodes/{node}/qemu/{vmid}/config",
            UPDATE_SYNC.as_slice(),
            Perm::Vm(CONFIG_PRIVS),
            config::put,
        ),
        r(
            Post,
            "/nodes/{node}/qemu/{vmid}/config",
            UPDATE_ASYNC.as_slice(),
            Perm::Vm(CONFIG_PRIVS),
            config::post,
        ),
        r(
            Post,
            "/nodes/{node}/qemu/{vmid}/clone",
            CLONE,
            Perm::Vm(&["VM.Clone"]),
            create::clone,
        ),
        r(
            Post,
            "/nodes/{node}/qemu/{vmid}/template",
            NV,
            allocate,
            template,
        ),
    ]
}

/// `GET /nodes/{node}/qemu`: the VMs of a node the caller may audit, by VMID.
fn list(sim: &mut Sim, call: &Call) -> Result<Value, ApiError> {
    let node = call.node()?;
    let full = call.bool("full").unwrap_or(false);
    let out: Vec<Value> = sim
        .cluster
        .guests
        .values()
        .filter(|g| g.node == node && g.kind == GuestKind::Qemu)
        .filter(|g| {
            auth::allowed(
                &call.identity,
                &format!("/vms/{}", g.vmid),
                &["VM.Audit"],
                &sim.cluster,
            )
        })
        .map(|g| qemu_status(g, sim.now, full, false))
        .collect();
    Ok(Value::Array(out))
}

fn index(sim: &mut Sim, call: &Call) -> Result<Value, ApiError> {
    sim.guest_on(call.node()?, call.vmid()?, GuestKind::Qemu)?;
    let dirs = [
        "config",
        "pending",
        "status",
        "unlink",
        "vncproxy",
        "termproxy",
        "migrate",
        "resize",
        "move",
        "rrd",
        "rrddata",
        "monitor",
        "agent",
        "snapshot",
        "spiceproxy",
        "sendkey",
        "firewall",
        "mtunnel",
        "remote_migrate",
    ];
    Ok(Value::Array(
        dirs.iter().map(|d| json!({ "subdir": d })).collect(),
    ))
}

/// `DELETE /nodes/{node}/qemu/{vmid}`: PVE's early checks, then a `qmdestroy` task that removes
/// the VM and its volumes.
fn destroy(sim: &mut Sim, call: &Call) -> Result<Value, ApiError> {
    let node = call.node()?.to_string();
    let vmid = call.vmid()?;
    let skiplock = guest::skiplock(call)?;
    let purge = call.bool("purge").unwrap_or(false);
    let unreferenced = call.bool("destroy-unreferenced-disks").unwrap_or(false);
    let g = sim.guest_on(&node, vmid, GuestKind::Qemu)?;
    if crate::state::config_bool(&g.config, "protection") {
        return Err(ApiError::internal(format!(
            "can't remove VM {vmid} - protection mode enabled"
        )));
    }
    if g.hastate.is_some() && !purge {
        return Err(ApiError::internal(format!(
            "unable to remove VM {vmid} - used in HA resources and purge parameter not set."
        )));
    }
    if g.status == PowerState::Running {
        return Err(ApiError::internal(format!(
            "VM {vmid} is running - destroy failed"
        )));
    }
    let fails = g.lock().is_some() && !skiplock;
    let n = guest::referenced_volumes(g).len() as f64;
    sim.agent.forget(vmid);
    let upid = sim.spawn_task(TaskSpec {
        node: node.clone(),
        kind: "qmdestroy".into(),
        id: vmid.to_string(),
        user: guest::task_user(call),
        duration: if fails { 0.3 } else { 1.0 + 0.5 * n },
        log: Vec::new(),
        lock_vmid: None,
        finish: Box::new(move |cluster, _| {
            destroy_now(cluster, &node, vmid, skiplock, purge, unreferenced)
        }),
    });
    Ok(Value::String(upid))
}

fn destroy_now(
    cluster: &mut Cluster,
    node: &str,
    vmid: u32,
    skiplock: bool,
    purge: bool,
    unreferenced: bool,
) -> Result<Vec<String>, String> {
    let g = cluster
        .guests
        .get(&vmid)
        .filter(|g| g.node == node && g.kind == GuestKind::Qemu)
        .cloned()
        .ok_or_else(|| crate::missing_config_message(node, vmid, GuestKind::Qemu))?;
    if let Some(l) = g.lock()
        && !skiplock
    {
        return Err(lock_message(GuestKind::Qemu, &l));
    }
    if g.status == PowerState::Running {
        return Err(format!("VM {vmid} is running - destroy failed"));
    }
    if g.is_template()
        && let Some(base) = linked_base_in_use(cluster, &g)
    {
        return Err(format!(
            "base volume '{base}' is still in use by linked cloned"
        ));
    }
    let gone = free_guest_volumes(cluster, &g, unreferenced);
    let mut log: Vec<String> = gone
        .iter()
        .filter_map(|volid| {
            let (storage, name) = volid.split_once(':')?;
            let kind = cluster.storages.get(storage).map(|s| s.kind.as_str())?;
            matches!(kind, "lvm" | "lvmthin")
                .then(|| format!("  Logical volume \"{name}\" successfully removed."))
        })
        .collect();
    if purge {
        log.push(format!("purging VM {vmid} from related configurations.."));
    }
    cluster.guests.remove(&vmid);
    Ok(log)
}

/// The first base volume of template `g` that a linked clone still uses (a linked clone's
/// volume is named `BASE/vm-NEWID-disk-N`, see `create::clone_disk`).
fn linked_base_in_use(cluster: &Cluster, g: &crate::state::Guest) -> Option<String> {
    guest::referenced_volumes(g).into_iter().find(|base| {
        let prefix = format!("{base}/");
        cluster.volumes.iter().any(|v| v.volid.starts_with(&prefix))
    })
}

/// `POST .../template`: checks, marks the VM a template at once (as PVE writes it before
/// forking), then a `qmtemplate` task renames its disks to `base-VMID-disk-N`.
fn template(sim: &mut Sim, call: &Call) -> Result<Value, ApiError> {
    let node = call.node()?.to_string();
    let vmid = call.vmid()?;
    let g = sim.guest_on(&node, vmid, GuestKind::Qemu)?;
    guest::check_lock(g, false)?;
    if !g.snapshots.is_empty() {
        return Err(ApiError::internal(
            "unable to create template, because VM contains snapshots",
        ));
    }
    if g.is_template() {
        return Err(ApiError::internal(
            "you can't convert a template to a template",
        ));
    }
    if g.status == PowerState::Running {
        return Err(ApiError::internal(
            "you can't convert a VM to template if VM is running",
        ));
    }
    if let Some(g) = sim.cluster.guests.get_mut(&vmid) {
        g.config.insert("template".into(), json!(1));
    }
    let upid = sim.spawn_task(TaskSpec {
        node,
        kind: "qmtemplate".into(),
        id: vmid.to_string(),
        user: guest::task_user(call),
        duration: 1.0,
        log: Vec::new(),
        lock_vmid: None,
        finish: Box::new(move |cluster, _| Ok(to_base_volumes(cluster, vmid))),
    });
    Ok(Value::String(upid))
}

/// Renames a VM's disk volumes `vm-VMID-disk-N` → `base-VMID-disk-N` (config and storage).
pub(crate) fn to_base_volumes(cluster: &mut Cluster, vmid: u32) -> Vec<String> {
    let Some(g) = cluster.guests.get_mut(&vmid) else {
        return Vec::new();
    };
    let mut renames = Vec::new();
    for (k, v) in g.config.iter_mut() {
        if !crate::state::is_disk_key(GuestKind::Qemu, k) {
            continue;
        }
        let Some(s) = v
            .as_str()
            .filter(|s| !s.contains("media=cdrom"))
            .map(str::to_string)
        else {
            continue;
        };
        let Some(volid) = guest::disk_volid(&s).map(str::to_string) else {
            continue;
        };
        let stem = format!("vm-{vmid}-disk-");
        let Some(pos) = volid.rfind(&stem) else {
            continue;
        };
        if volid.contains("base-") {
            continue;
        }
        let new = format!("{}base-{}", &volid[..pos], &volid[pos + 3..]);
        *v = Value::String(s.replacen(&volid, &new, 1));
        renames.push((volid, new));
    }
    let mut log = Vec::new();
    for (old, new) in renames {
        let mut lvm = None;
        for vol in cluster.volumes.iter_mut().filter(|x| x.volid == old) {
            vol.volid = new.clone();
            if let Some(st) = cluster.storages.get(&vol.storage)
                && matches!(st.kind.as_str(), "lvm" | "lvmthin")
            {
                lvm = st
                    .extra
                    .get("vgname")
                    .and_then(Value::as_str)
                    .map(str::to_string);
            }
        }
        let short = |v: &str| v.split_once(':').map_or(v, |(_, n)| n).to_string();
        if let Some(vg) = lvm {
            log.push(format!(
                "  Renamed \"{}\" to \"{}\" in volume group \"{vg}\"",
                short(&old),
                short(&new)
            ));
            log.push(format!("  Logical volume pve/{} changed.", short(&new)));
        }
    }
    log
}

/// The creation time PVE writes into `meta` (`creation-qemu=...,ctime=...`).
pub(crate) fn meta(now: SimTime) -> String {
    format!(
        "creation-qemu={},ctime={}",
        crate::routes::power::RUNNING_QEMU,
        now as i64
    )
}

#[cfg(test)]
mod tests;
