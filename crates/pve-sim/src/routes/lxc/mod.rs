//! LXC containers: list (`GET /nodes/{node}/lxc`), create (`POST`, in `create.rs`), the
//! per-container index, destroy, config (`config.rs`) and disk resize.
//!
//! Container volumes on block storages are named `subvol-VMID-disk-N` (as the demo seeds them);
//! on directory storages `VMID/vm-VMID-disk-N.raw` through `guest::alloc_disk`.

mod config;
mod create;

use serde_json::{Value, json};

use crate::Sim;
use crate::auth;
use crate::guest::{self, kind_word};
use crate::route::{ApiError, Call, Handler, Method, ParamSpec, Perm, Route, p};
use crate::routes::storage::st;
use crate::state::{Cluster, GuestKind, PowerState, Volume, format_size};
use crate::tasks::TaskSpec;

const NV: &[ParamSpec] = &[p::node(), p::vmid()];
const LIST: &[ParamSpec] = &[p::node()];
const DESTROY: &[ParamSpec] = &[
    p::bool("destroy-unreferenced-disks", true),
    p::bool("force", true),
    p::node(),
    p::bool("purge", true),
    p::vmid(),
];
const RESIZE_DISKS: &[&str] = &[
    "rootfs", "mp0", "mp1", "mp2", "mp3", "mp4", "mp5", "mp6", "mp7", "mp8", "mp9", "mp10", "mp11",
    "mp12", "mp13", "mp14", "mp15", "mp16", "mp17", "mp18", "mp19", "mp20", "mp21", "mp22", "mp23",
    "mp24", "mp25", "mp26", "mp27", "mp28", "mp29", "mp30", "mp31", "mp32", "mp33", "mp34", "mp35",
    "mp36", "mp37", "mp38", "mp39", "mp40", "mp41", "mp42", "mp43", "mp44", "mp45", "mp46", "mp47",
    "mp48", "mp49", "mp50", "mp51", "mp52", "mp53", "mp54", "mp55", "mp56", "mp57", "mp58", "mp59",
    "mp60", "mp61", "mp62", "mp63", "mp64", "mp65", "mp66", "mp67", "mp68", "mp69", "mp70", "mp71",
    "mp72", "mp73", "mp74", "mp75", "mp76", "mp77", "mp78", "mp79", "mp80", "mp81", "mp82", "mp83",
    "mp84", "mp85", "mp86", "mp87", "mp88", "mp89", "mp90", "mp91", "mp92", "mp93", "mp94", "mp95",
    "mp96", "mp97", "mp98", "mp99", "mp100", "mp101", "mp102", "mp103", "mp104", "mp105", "mp106",
    "mp107", "mp108", "mp109", "mp110", "mp111", "mp112", "mp113", "mp114", "mp115", "mp116",
    "mp117", "mp118", "mp119", "mp120", "mp121", "mp122", "mp123", "mp124", "mp125", "mp126",
    "mp127", "mp128", "mp129", "mp130", "mp131", "mp132", "mp133", "mp134", "mp135", "mp136",
    "mp137", "mp138", "mp139", "mp140", "mp141", "mp142", "mp143", "mp144", "mp145", "mp146",
    "mp147", "mp148", "mp149", "mp150", "mp151", "mp152", "mp153", "mp154", "mp155", "mp156",
    "mp157", "mp158", "mp159", "mp160", "mp161", "mp162", "mp163", "mp164", "mp165", "mp166",
    "mp167", "mp168", "mp169", "mp170", "mp171", "mp172", "mp173", "mp174", "mp175", "mp176",
    "mp177", "mp178", "mp179", "mp180", "mp181", "mp182", "mp183", "mp184", "mp185", "mp186",
    "mp187", "mp188", "mp189", "mp190", "mp191", "mp192", "mp193", "mp194", "mp195", "mp196",
    "mp197", "mp198", "mp199", "mp200", "mp201", "mp202", "mp203", "mp204", "mp205", "mp206",
    "mp207", "mp208", "mp209", "mp210", "mp211", "mp212", "mp213", "mp214", "mp215", "mp216",
    "mp217", "mp218", "mp219", "mp220", "mp221", "mp222", "mp223", "mp224", "mp225", "mp226",
    "mp227", "mp228", "mp229", "mp230", "mp231", "mp232", "mp233", "mp234", "mp235", "mp236",
    "mp237", "mp238", "mp239", "mp240", "mp241", "mp242", "mp243", "mp244", "mp245", "mp246",
    "mp247", "mp248", "mp249", "mp250", "mp251", "mp252", "mp253", "mp254", "mp255",
];
const RESIZE: &[ParamSpec] = &[
    st("digest", None, Some(40), true),
    p::one_of("disk", RESIZE_DISKS, false),
    p::node(),
    p::string("size", false),
    p::vmid(),
];

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

/// The routes of this module.
pub(super) fn routes() -> Vec<Route> {
    let r = |method, path, params, perm, handler: Handler| Route {
        method,
        path,
        params,
        perm,
        allow_token: true,
        handler,
    };
    let mut v = vec![
        r(Method::Get, "/nodes/{node}/lxc", LIST, Perm::All, list),
        r(
            Method::Get,
            "/nodes/{node}/lxc/{vmid}",
            NV,
            Perm::All,
            index,
        ),
        r(
            Method::Delete,
            "/nodes/{node}/lxc/{vmid}",
            DESTROY,
            Perm::Vm(&["VM.Allocate"]),
            destroy,
        ),
        r(
            Method::Put,
            "/nodes/{node}/lxc/{vmid}/resize",
            RESIZE,
            Perm::Vm(&["VM.Config.Disk"]),
            resize,
        ),
    ];
    v.extend(create::routes());
    v.extend(config::routes());
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
    if !auth::allowed(
        &call.identity,
        &path,
        &["Datastore.AllocateSpace"],
        &sim.cluster,
    ) {
        return Err(ApiError::forbidden(&path, "Datastore.AllocateSpace"));
    }
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
