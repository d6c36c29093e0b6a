//! QEMU VMs: list, create, directory index, destroy, config, clone, template, disk resize.
//! This file holds the route table, the list, the index, destroy and template; create and clone
//! live in `create.rs`, the config calls in `config.rs`, option parsing in `spec.rs`, disk
//! growth in `resize.rs`.

pub(crate) mod cloudinit;
pub(crate) mod cloudinit_api;
mod config;
mod create;
mod disks;
pub(crate) mod resize;
pub(crate) mod spec;

use serde_json::{Value, json};

use crate::Sim;
use crate::auth;
use crate::guest::{self, free_guest_volumes, lock_message};
use crate::route::{ApiError, Call, Method, Perm, Route};
use crate::routes::power::qemu_status;
use crate::state::{Cluster, GuestKind, PowerState, SimTime};
use crate::tasks::TaskSpec;

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
    let r = Route::new;
    use Method::{Delete, Get, Post, Put};
    let allocate = Perm::Vm(&["VM.Allocate"]);
    vec![
        r(Get, "/nodes/{node}/qemu", Perm::All, list),
        r(Post, "/nodes/{node}/qemu", Perm::All, create::create),
        r(Get, "/nodes/{node}/qemu/{vmid}", Perm::All, index),
        r(Delete, "/nodes/{node}/qemu/{vmid}", allocate, destroy),
        r(
            Get,
            "/nodes/{node}/qemu/{vmid}/config",
            Perm::Vm(&["VM.Audit"]),
            config::get,
        ),
        r(
            Put,
            "/nodes/{node}/qemu/{vmid}/config",
            Perm::Vm(CONFIG_PRIVS),
            config::put,
        ),
        r(
            Post,
            "/nodes/{node}/qemu/{vmid}/config",
            Perm::Vm(CONFIG_PRIVS),
            config::post,
        ),
        r(
            Post,
            "/nodes/{node}/qemu/{vmid}/clone",
            Perm::Vm(&["VM.Clone"]),
            create::clone,
        ),
        r(
            Post,
            "/nodes/{node}/qemu/{vmid}/template",
            allocate,
            template,
        ),
    ]
    .into_iter()
    .chain(disks::routes())
    .chain(cloudinit_api::routes())
    .collect()
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
