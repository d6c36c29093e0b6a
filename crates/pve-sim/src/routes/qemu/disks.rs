//! VM disks off and between storages: `PUT .../unlink` (detach disks: with `force`, or for an
//! `unusedN`, the volume is destroyed; otherwise it becomes `unusedN`) and `POST .../move_disk`
//! (a `qmmove` task copying the disk to another storage, running or not; the source is freed
//! with `delete`, else kept as `unusedN`).

use serde_json::{Value, json};

use crate::Sim;
use crate::auth;
use crate::guest::{self, disk_volid, parse_props, print_disk};
use crate::route::{ApiError, Call, Method, Perm, Route};
use crate::state::{Cluster, GuestKind, format_size, is_disk_key};
use crate::tasks::TaskSpec;

/// The routes of this module.
pub(super) fn routes() -> Vec<Route> {
    vec![
        Route::new(
            Method::Put,
            "/nodes/{node}/qemu/{vmid}/unlink",
            Perm::Vm(&["VM.Config.Disk"]),
            unlink,
        ),
        Route::new(
            Method::Post,
            "/nodes/{node}/qemu/{vmid}/move_disk",
            Perm::Vm(&["VM.Config.Disk"]),
            move_disk,
        ),
    ]
}

/// Writes `volid` into the first free `unusedN` of the VM's config.
fn add_unused(cluster: &mut Cluster, vmid: u32, volid: &str) {
    if let Some(g) = cluster.guests.get_mut(&vmid)
        && !g.config.values().any(|v| v.as_str() == Some(volid))
        && let Some(n) = (0..256).find(|n| !g.config.contains_key(&format!("unused{n}")))
    {
        g.config.insert(format!("unused{n}"), json!(volid));
    }
}

/// `PUT .../unlink`: synchronous; `null`.
fn unlink(sim: &mut Sim, call: &Call) -> Result<Value, ApiError> {
    let node = call.node()?.to_string();
    let vmid = call.vmid()?;
    let force = call.bool("force").unwrap_or(false);
    let ids: Vec<String> = crate::params::split_list(call.req_str("idlist")?)
        .into_iter()
        .map(str::to_string)
        .collect();
    let g = sim.guest_on(&node, vmid, GuestKind::Qemu)?;
    guest::check_lock(g, false)?;
    for id in &ids {
        let disk = is_disk_key(GuestKind::Qemu, id) || id.starts_with("unused");
        if !disk {
            return Err(ApiError::param(
                "idlist",
                format!("'{id}' is not a disk of the VM"),
            ));
        }
    }
    let mut free = Vec::new();
    let mut detach = Vec::new();
    if let Some(g) = sim.cluster.guests.get_mut(&vmid) {
        for id in &ids {
            let Some(v) = g.config.remove(id) else {
                continue;
            };
            let Some(volid) = v
                .as_str()
                .filter(|s| !s.contains("media=cdrom") || super::cloudinit::is_drive(s))
                .and_then(disk_volid)
                .filter(|v| v.contains(':'))
                .map(str::to_string)
            else {
                continue;
            };
            if force || id.starts_with("unused") || super::cloudinit::is_drive(&volid) {
                free.push(volid);
            } else {
                detach.push(volid);
            }
        }
    }
    for volid in detach {
        add_unused(&mut sim.cluster, vmid, &volid);
    }
    guest::free_volumes(&mut sim.cluster, &free);
    Ok(Value::Null)
}

/// `POST .../move_disk`: PVE's checks, then a `qmmove` task.
fn move_disk(sim: &mut Sim, call: &Call) -> Result<Value, ApiError> {
    let node = call.node()?.to_string();
    let vmid = call.vmid()?;
    let disk = call.req_str("disk")?.to_string();
    if call.str("target-vmid").is_some() || call.str("target-disk").is_some() {
        return Err(ApiError::internal(
            "reassigning a disk to another VM is not supported by the simulator",
        ));
    }
    let storage = call
        .str("storage")
        .ok_or_else(|| ApiError::param("storage", "property is missing and it is not optional"))?
        .to_string();
    let delete = call.bool("delete").unwrap_or(false);
    let format = call.str("format").map(str::to_string);
    let g = sim.guest_on(&node, vmid, GuestKind::Qemu)?;
    guest::check_lock(g, false)?;
    guest::check_digest(g, call.str("digest"))?;
    let spec = g
        .config
        .get(&disk)
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::internal(format!("disk '{disk}' does not exist")))?
        .to_string();
    if spec.contains("media=cdrom") {
        return Err(ApiError::internal("you can't move a cdrom"));
    }
    let volid = disk_volid(&spec)
        .filter(|v| v.contains(':'))
        .ok_or_else(|| ApiError::internal(format!("disk '{disk}' has no volume")))?
        .to_string();
    let src = sim.cluster.volumes.iter().find(|v| v.volid == volid);
    let same_format = format
        .as_deref()
        .is_none_or(|f| src.is_some_and(|v| v.format == f));
    if guest::volid_storage(&volid) == Some(storage.as_str()) && same_format {
        return Err(ApiError::internal(
            "you can't move to the same storage with same format",
        ));
    }
    let size = src
        .map(|v| v.size)
        .or_else(|| crate::state::disk_size_bytes(&spec))
        .unwrap_or(0);
    guest::check_storage(&sim.cluster, &storage, &node, "images").map_err(ApiError::internal)?;
    let spath = format!("/storage/{storage}");
    auth::require(
        &call.identity,
        &spath,
        "Datastore.AllocateSpace",
        &sim.cluster,
    )?;
    let running = g.status == crate::state::PowerState::Running;
    let upid = sim.spawn_task(TaskSpec {
        node: node.clone(),
        kind: "qmmove".into(),
        id: vmid.to_string(),
        user: guest::task_user(call),
        duration: 2.0 + size as f64 / f64::from(1u32 << 30) * 0.5,
        log: Vec::new(),
        lock_vmid: None,
        finish: Box::new(move |cluster, t| {
            let a = guest::alloc_disk(
                cluster,
                &node,
                &storage,
                vmid,
                GuestKind::Qemu,
                size,
                format.as_deref(),
                t as i64,
            )?;
            let gib = size as f64 / f64::from(1u32 << 30);
            let mut log = a.log;
            if running {
                log.push(format!("drive mirror is starting for drive-{disk}"));
                log.push(format!(
                    "drive-{disk}: transferred {gib:.1} GiB of {gib:.1} GiB (100.00%) in 5s, ready"
                ));
                log.push("all 'mirror' jobs are ready".into());
            } else {
                log.push(format!("create full clone of drive {disk} ({volid})"));
                log.push(format!(
                    "transferred {gib:.1} GiB of {gib:.1} GiB (100.00%)"
                ));
            }
            let mut opts: Vec<(String, String)> = parse_props(&spec)
                .into_iter()
                .filter(|(k, _)| !k.is_empty() && k != "size" && k != "file")
                .collect();
            opts.push(("size".into(), format_size(size)));
            let g = cluster
                .guests
                .get_mut(&vmid)
                .ok_or_else(|| crate::missing_config_message(&node, vmid, GuestKind::Qemu))?;
            g.config
                .insert(disk.clone(), json!(print_disk(&a.volid, &opts)));
            if delete {
                guest::free_volumes(cluster, std::slice::from_ref(&volid));
                log.push(format!("removing volume '{volid}'"));
            } else {
                add_unused(cluster, vmid, &volid);
            }
            Ok(log)
        }),
    });
    Ok(Value::String(upid))
}
