//! LXC containers: list (`GET /nodes/{node}/lxc`), create (`POST`, in `create.rs`), the
//! per-container index, destroy, config (`config.rs`) and disk resize.
//!
//! Container volumes on block storages are named `subvol-VMID-disk-N` (as the demo seeds them);
//! on directory storages `VMID/vm-VMID-disk-N.raw` through `guest::alloc_disk`.

mod config;
mod copy;
mod create;

use serde_json::{Value, json};

use crate::Sim;
use crate::auth;
use crate::guest::{self, kind_word};
use crate::route::{ApiError, Call, Method, Perm, Route};
use crate::state::{Cluster, GuestKind, PowerState, Volume, format_size};
use crate::tasks::TaskSpec;

/// The subdirectories of `/nodes/{node}/lxc/{vmid}`.
const CT_DIRS: &[&str] = &[
    "config",
    "status",
    "snapshot",
    "firewall",
    "rrd",
    "rrddata",
    "vncproxy",
    "termproxy",
    "vncwebsocket",
    "spiceproxy",
    "remote_migrate",
    "migrate",
    "feature",
    "template",
    "clone",
    "resize",
    "move_volume",
    "pending",
    "interfaces",
    "mtunnel",
    "mtunnelwebsocket",
];

/// Parameters of `PUT .../config` that are not container options.
const UPDATE_CONTROLS: &[&str] = &["node", "vmid", "digest", "delete", "revert"];

/// Whether `key` is a container option (what `PUT .../config` declares besides its controls).
pub(super) fn is_config_key(key: &str) -> bool {
    !UPDATE_CONTROLS.contains(&key)
        && crate::params::decl::params_for(Method::Put, "/nodes/{node}/lxc/{vmid}/config")
            .iter()
            .any(|s| crate::params::name_matches(s.name, key))
}

/// A parameter value as the container's config stores it (tags in PVE's canonical form).
pub(super) fn config_value(key: &str, value: &Value) -> Value {
    match (key, value) {
        ("tags", Value::String(t)) => Value::String(guest::unique_tags(t)),
        _ => guest::config_value(value),
    }
}

/// The routes of this module.
pub(super) fn routes() -> Vec<Route> {
    let r = Route::new;
    let mut v = vec![
        r(Method::Get, "/nodes/{node}/lxc", Perm::All, list),
        r(Method::Get, "/nodes/{node}/lxc/{vmid}", Perm::All, index),
        r(
            Method::Delete,
            "/nodes/{node}/lxc/{vmid}",
            Perm::Vm(&["VM.Allocate"]),
            destroy,
        ),
        r(
            Method::Put,
            "/nodes/{node}/lxc/{vmid}/resize",
            Perm::Vm(&["VM.Config.Disk"]),
            resize,
        ),
    ];
    v.extend(create::routes());
    v.extend(config::routes());
    v.extend(copy::routes());
    v
}

/// `GET /nodes/{node}/lxc`: the containers on the node the caller may audit.
fn list(sim: &mut Sim, call: &Call) -> Result<Value, ApiError> {
    let node = call.node()?;
    let c = &sim.cluster;
    Ok(Value::Array(
        c.guests
            .values()
            .filter(|g| g.kind == GuestKind::Lxc && g.node == node)
            .filter(|g| {
                auth::allowed(
                    &call.identity,
                    &format!("/vms/{}", g.vmid),
                    &["VM.Audit"],
                    c,
                )
            })
            .map(|g| super::power::lxc_status(g, sim.now, false))
            .collect(),
    ))
}

/// `GET /nodes/{node}/lxc/{vmid}`: the directory index (the container must exist).
fn index(sim: &mut Sim, call: &Call) -> Result<Value, ApiError> {
    sim.guest_on(call.node()?, call.vmid()?, GuestKind::Lxc)?;
    Ok(Value::Array(
        CT_DIRS.iter().map(|d| json!({ "subdir": d })).collect(),
    ))
}

/// `DELETE /nodes/{node}/lxc/{vmid}`: PVE's early checks, then a `vzdestroy` task.
fn destroy(sim: &mut Sim, call: &Call) -> Result<Value, ApiError> {
    let node = call.node()?.to_string();
    let vmid = call.vmid()?;
    let force = call.bool("force").unwrap_or(false);
    let purge = call.bool("purge").unwrap_or(false);
    let unreferenced = call.bool("destroy-unreferenced-disks").unwrap_or(false);
    let g = sim.guest_on(&node, vmid, GuestKind::Lxc)?;
    if crate::state::config_bool(&g.config, "protection") {
        return Err(ApiError::internal(format!(
            "can't remove CT {vmid} - protection mode enabled"
        )));
    }
    guest::check_lock(g, false)?;
    if g.hastate.is_some() && !purge {
        return Err(ApiError::internal(format!(
            "unable to remove CT {vmid} - used in HA resources and purge parameter not set."
        )));
    }
    if g.status == PowerState::Running && !force {
        return Err(ApiError::internal(format!(
            "unable to destroy CT {vmid} - container is running"
        )));
    }
    let n = guest::referenced_volumes(g).len() as f64;
    let upid = sim.spawn_task(TaskSpec {
        node: node.clone(),
        kind: "vzdestroy".into(),
        id: vmid.to_string(),
        user: guest::task_user(call),
        duration: 1.0 + 0.5 * n,
        log: Vec::new(),
        lock_vmid: None,
        finish: Box::new(move |cluster, _| {
            destroy_now(cluster, &node, vmid, force, purge, unreferenced)
        }),
    });
    Ok(Value::String(upid))
}

fn destroy_now(
    cluster: &mut Cluster,
    node: &str,
    vmid: u32,
    force: bool,
    purge: bool,
    unreferenced: bool,
) -> Result<Vec<String>, String> {
    let g = cluster
        .guests
        .get(&vmid)
        .filter(|g| g.node == node && g.kind == GuestKind::Lxc)
        .cloned()
        .ok_or_else(|| crate::missing_config_message(node, vmid, GuestKind::Lxc))?;
    if let Some(l) = g.lock() {
        return Err(guest::lock_message(GuestKind::Lxc, &l));
    }
    let mut log = Vec::new();
    if g.status == PowerState::Running {
        if !force {
            return Err(format!(
                "unable to destroy CT {vmid} - container is running"
            ));
        }
        log.push(format!("stopping CT {vmid} (force)"));
    }
    for volid in guest::free_guest_volumes(cluster, &g, unreferenced) {
        let (storage, name) = volid.split_once(':').unwrap_or(("", volid.as_str()));
        let lvm = cluster
            .storages
            .get(storage)
            .is_some_and(|s| matches!(s.kind.as_str(), "lvm" | "lvmthin"));
        if lvm {
            log.push(format!("  Logical volume \"{name}\" successfully removed."));
        }
    }
    if purge {
        log.push(format!("purging CT {vmid} from related configurations.."));
    }
    cluster.guests.remove(&vmid);
    Ok(log)
}

/// The volume and options of a mount point property string (`local-lvm:subvol-200-disk-0,
/// size=8G` or `volume=...,mp=/data`).
pub(crate) fn parse_mount(spec: &str) -> (String, Vec<(String, String)>) {
    let mut volume = String::new();
    let mut opts = Vec::new();
    for (k, v) in guest::parse_props(spec) {
        if k.is_empty() || k == "volume" {
            volume = v;
        } else {
            opts.push((k, v));
        }
    }
    (volume, opts)
}

/// Allocates a container volume of `size` bytes on `storage` for `vmid` on `node`: pushes it
/// into `cluster.volumes` and returns its volid and the task log lines, or PVE's error text.
pub(crate) fn alloc_ct_volume(
    cluster: &mut Cluster,
    node: &str,
    storage: &str,
    vmid: u32,
    size: u64,
    ctime: i64,
) -> Result<(String, Vec<String>), String> {
    guest::check_storage(cluster, storage, node, "rootdir")?;
    let kind = cluster
        .storages
        .get(storage)
        .map(|s| s.kind.clone())
        .unwrap_or_default();
    if guest::is_file_storage(&kind) {
        let a = guest::alloc_disk(
            cluster,
            node,
            storage,
            vmid,
            GuestKind::Lxc,
            size,
            Some("raw"),
            ctime,
        )?;
        return Ok((a.volid, a.log));
    }
    let taken = |n: u32| {
        let volid = format!("{storage}:subvol-{vmid}-disk-{n}");
        cluster.volumes.iter().any(|v| v.volid == volid)
    };
    let n = (0..).find(|n| !taken(*n)).unwrap_or(0);
    let name = format!("subvol-{vmid}-disk-{n}");
    let log = guest::alloc_space(cluster, node, storage, &name, size)?;
    let volid = format!("{storage}:{name}");
    cluster.volumes.push(Volume {
        volid: volid.clone(),
        storage: storage.to_string(),
        node: node.to_string(),
        content: "rootdir".into(),
        format: if kind == "zfspool" { "subvol" } else { "raw" }.into(),
        size,
        ctime,
        vmid: Some(vmid),
        notes: None,
        protected: false,
    });
    Ok((volid, log))
}

/// `PUT /nodes/{node}/lxc/{vmid}/resize`: checks at once (shrinking refused), then a `resize`
/// task grows the volume (or fails when the storage is full). Same size: `null`, no task.
fn resize(sim: &mut Sim, call: &Call) -> Result<Value, ApiError> {
    let node = call.node()?.to_string();
    let vmid = call.vmid()?;
    let disk = call.req_str("disk")?.to_string();
    let size_text = call.req_str("size")?;
    let g = sim.guest_on(&node, vmid, GuestKind::Lxc)?;
    guest::check_lock(g, false)?;
    guest::check_digest(g, call.str("digest"))?;
    let Some(spec) = g.config.get(&disk).and_then(Value::as_str) else {
        return Err(ApiError::internal(format!("disk '{disk}' does not exist")));
    };
    let (volid, opts) = parse_mount(spec);
    let vol = sim
        .cluster
        .volumes
        .iter()
        .find(|v| v.volid == volid)
        .ok_or_else(|| {
            ApiError::internal(format!("Size of volume {volid} couldn't be determined"))
        })?;
    if let Some(owner) = vol.vmid
        && owner != vmid
    {
        return Err(ApiError::internal(format!(
            "can't resize mount point owned by another container ({owner})"
        )));
    }
    let storage = vol.storage.clone();
    let path = format!("/storage/{storage}");
    auth::require(
        &call.identity,
        &path,
        "Datastore.AllocateSpace",
        &sim.cluster,
    )?;
    let current = vol.size;
    let new = guest::resize::requested_size(size_text, current)
        .ok_or_else(|| ApiError::param("size", "value does not match the regex pattern"))?;
    if new < current {
        return Err(ApiError::internal("unable to shrink disk size"));
    }
    if new == current {
        return Ok(Value::Null);
    }
    let upid = sim.spawn_task(TaskSpec {
        node: node.clone(),
        kind: "resize".into(),
        id: vmid.to_string(),
        user: guest::task_user(call),
        duration: 2.0,
        log: Vec::new(),
        lock_vmid: None,
        finish: Box::new(move |cluster, _| grow(cluster, &node, vmid, &disk, &volid, &opts, new)),
    });
    Ok(Value::String(upid))
}

/// Grows a container volume to `new` bytes and writes the new size into its mount point.
fn grow(
    cluster: &mut Cluster,
    node: &str,
    vmid: u32,
    disk: &str,
    volid: &str,
    opts: &[(String, String)],
    new: u64,
) -> Result<Vec<String>, String> {
    let grown = guest::resize::grow_volume(cluster, node, volid, new)?;
    let mut opts: Vec<(String, String)> =
        opts.iter().filter(|(k, _)| k != "size").cloned().collect();
    opts.push(("size".into(), format_size(new)));
    let spec = guest::print_disk(volid, &opts);
    if let Some(g) = cluster.guests.get_mut(&vmid) {
        g.config.insert(disk.to_string(), Value::String(spec));
    }
    let word = kind_word(GuestKind::Lxc);
    let mut log = grown.log;
    log.push("resize2fs 1.47.2 (1-Jan-2025)".to_string());
    log.push(format!(
        "Resizing the filesystem of {word} {vmid} ({disk}) to {} blocks",
        new / 4096
    ));
    Ok(log)
}

#[cfg(test)]
mod tests;
