//! `PUT /nodes/{node}/qemu/{vmid}/resize`: grows a VM disk (`+NG` relative or `NG` absolute).
//!
//! Since PVE 8 the call is asynchronous: after the parameter checks it answers a `resize` task
//! at once, and everything else (digest, lock, disk, shrinking, storage permission and space)
//! is checked by the task, which fails with PVE's message. The same size again is a task that
//! ends `OK` without a change. The shared volume growth is `guest::resize`.

use serde_json::Value;

use crate::Sim;
use crate::auth;
use crate::guest::{self, resize};
use crate::route::{ApiError, Call, Identity, Method, Perm, Route};
use crate::state::{Cluster, GuestKind};
use crate::tasks::TaskSpec;

/// The routes of this module.
pub(crate) fn routes() -> Vec<Route> {
    vec![Route::new(
        Method::Put,
        "/nodes/{node}/qemu/{vmid}/resize",
        Perm::Vm(&["VM.Config.Disk"]),
        resize_vm,
    )]
}

/// What the `resize` task was asked to do.
struct Request {
    node: String,
    vmid: u32,
    disk: String,
    size: String,
    digest: Option<String>,
    skiplock: bool,
    identity: Identity,
}

/// `PUT /nodes/{node}/qemu/{vmid}/resize`: the parameter checks (the `size` pattern, `skiplock`
/// for root only), the VM must exist, then a `resize` task does the rest.
fn resize_vm(sim: &mut Sim, call: &Call) -> Result<Value, ApiError> {
    let node = call.node()?.to_string();
    let vmid = call.vmid()?;
    let disk = call.req_str("disk")?.to_string();
    let size = call.req_str("size")?.to_string();
    if resize::requested_size(&size, 0).is_none() {
        return Err(ApiError::param(
            "size",
            "value does not match the regex pattern",
        ));
    }
    let skiplock = guest::skiplock(call)?;
    sim.guest_on(&node, vmid, GuestKind::Qemu)?;
    let req = Request {
        node: node.clone(),
        vmid,
        disk,
        size,
        digest: call.str("digest").map(str::to_string),
        skiplock,
        identity: call.identity.clone(),
    };
    let upid = sim.spawn_task(TaskSpec {
        node,
        kind: "resize".into(),
        id: vmid.to_string(),
        user: guest::task_user(call),
        duration: 2.0,
        log: Vec::new(),
        lock_vmid: None,
        finish: Box::new(move |cluster, _| resize_now(cluster, &req)),
    });
    Ok(Value::String(upid))
}

/// The task's work, under the config lock as PVE's `resize_vm` worker: checks, grows the volume,
/// writes the new `size=` into the drive.
fn resize_now(cluster: &mut Cluster, req: &Request) -> Result<Vec<String>, String> {
    let (vmid, disk) = (req.vmid, req.disk.as_str());
    let g = cluster
        .guests
        .get(&vmid)
        .filter(|g| g.node == req.node && g.kind == GuestKind::Qemu)
        .ok_or_else(|| crate::missing_config_message(&req.node, vmid, GuestKind::Qemu))?;
    guest::check_digest(g, req.digest.as_deref()).map_err(|e| e.message)?;
    guest::check_lock(g, req.skiplock).map_err(|e| e.message)?;
    let spec = g
        .config
        .get(disk)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("disk '{disk}' does not exist"))?
        .to_string();
    let volid = guest::disk_volid(&spec)
        .filter(|v| !v.is_empty() && *v != "none")
        .ok_or_else(|| format!("disk '{disk}' has no associated volume"))?
        .to_string();
    if guest::prop(&spec, "media") == Some("cdrom") {
        return Err("you can't resize a cdrom".into());
    }
    let storage = guest::volid_storage(&volid).unwrap_or_default();
    let path = format!("/storage/{storage}");
    if !auth::allowed(&req.identity, &path, &["Datastore.AllocateSpace"], cluster) {
        return Err(ApiError::forbidden(&path, "Datastore.AllocateSpace").message);
    }
    let node = g.node.clone();
    let current = cluster
        .volumes
        .iter()
        .find(|v| v.volid == volid && v.node == node)
        .or_else(|| cluster.volumes.iter().find(|v| v.volid == volid))
        .map(|v| v.size)
        .ok_or_else(|| format!("Could not determine current size of volume '{volid}'"))?;
    let new = resize::requested_size(&req.size, current)
        .ok_or_else(|| format!("invalid size string '{}'", req.size))?;
    if new < current {
        return Err("shrinking disks is not supported".into());
    }
    if new == current {
        return Ok(Vec::new());
    }
    let grown = resize::grow_volume(cluster, &node, &volid, new)?;
    if let Some(g) = cluster.guests.get_mut(&vmid) {
        g.config.insert(
            disk.to_string(),
            Value::String(resize::with_size(&spec, new)),
        );
    }
    Ok(grown.log)
}
