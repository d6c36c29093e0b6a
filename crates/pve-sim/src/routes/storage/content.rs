//! Storage content: list volumes (`GET .../content`), allocate a disk image (`POST`), and one
//! volume's attributes, notes/protection, copy and deletion (`.../content/{volume}`).
//!
//! Access follows PVE's `check_volume_access`: ISOs and templates need read access to the
//! storage, backups `VM.Backup` on their guest, disk images `VM.Config.Disk`, anything else
//! `Datastore.Allocate`. Deletion is an `imgdel` task; a protected volume makes it fail.

use serde_json::{Map, Value, json};

use super::no_storage;
use crate::Sim;
use crate::auth;
use crate::guest;
use crate::route::{ApiError, Call, Identity, Method, Perm, Route};
use crate::state::{Cluster, Volume, is_disk_key};
use crate::tasks::TaskSpec;

const AUDIT: &[&str] = &["Datastore.Audit", "Datastore.AllocateSpace"];
const VOLUME_PATH: &str = "/nodes/{node}/storage/{storage}/content/{volume}";

/// The routes of this module.
pub(super) fn routes() -> Vec<Route> {
    let r = Route::new;
    let content = "/nodes/{node}/storage/{storage}/content";
    vec![
        r(
            Method::Get,
            content,
            Perm::Storage(AUDIT),
            list as crate::route::Handler,
        ),
        r(
            Method::Post,
            content,
            Perm::Storage(&["Datastore.AllocateSpace"]),
            alloc,
        ),
        r(Method::Get, VOLUME_PATH, Perm::All, info),
        r(Method::Put, VOLUME_PATH, Perm::All, update),
        r(Method::Post, VOLUME_PATH, Perm::All, copy),
        r(Method::Delete, VOLUME_PATH, Perm::All, delete),
    ]
}

/// Checks that a storage exists, is defined on `node` and enabled, with PVE's messages.
fn usable<'a>(c: &'a Cluster, node: &str, id: &str) -> Result<&'a crate::state::Storage, ApiError> {
    let s = c.storages.get(id).ok_or_else(|| no_storage(id))?;
    if !s.nodes.as_ref().is_none_or(|n| n.iter().any(|x| x == node)) {
        return Err(ApiError::internal(format!(
            "storage '{id}' is not available on node '{node}'"
        )));
    }
    if !s.enabled {
        return Err(ApiError::internal(format!("storage '{id}' is disabled")));
    }
    Ok(s)
}

/// Whether `v` is visible from `node` (a shared storage's volumes are visible everywhere).
fn visible(c: &Cluster, v: &Volume, node: &str) -> bool {
    v.node == node || c.storages.get(&v.storage).is_some_and(|s| s.shared)
}

/// PVE's `check_volume_access`; `Err` is the 403 PVE answers.
fn access(id: &Identity, c: &Cluster, v: &Volume) -> Result<(), ApiError> {
    let need = |path: String, privs: &[&str]| {
        if auth::allowed(id, &path, privs, c) {
            Ok(())
        } else {
            Err(ApiError::forbidden(&path, privs[0]))
        }
    };
    let st = format!("/storage/{}", v.storage);
    match (v.content.as_str(), v.vmid) {
        ("iso" | "vztmpl" | "import", _) => {
            need(st, &["Datastore.AllocateSpace", "Datastore.Audit"])
        }
        ("backup", Some(vmid)) => {
            need(st, &["Datastore.AllocateSpace"])?;
            need(format!("/vms/{vmid}"), &["VM.Backup"])
        }
        ("images" | "rootdir", Some(vmid)) => {
            need(st, &["Datastore.Audit"])?;
            need(format!("/vms/{vmid}"), &["VM.Config.Disk"])
        }
        _ => need(st, &["Datastore.Allocate"]),
    }
}

/// The first line of a volume's notes, as the content list shows it.
fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or("")
}

/// `GET /nodes/{node}/storage/{storage}/content[?content=&vmid=]`.
fn list(sim: &mut Sim, call: &Call) -> Result<Value, ApiError> {
    let node = call.node()?;
    let id = call.req_str("storage")?;
    let c = &sim.cluster;
    usable(c, node, id)?;
    let content = call.str("content");
    let vmid = call.int("vmid");
    let mut vols: Vec<&Volume> = c
        .volumes
        .iter()
        .filter(|v| v.storage == id && visible(c, v, node))
        .filter(|v| content.is_none_or(|ct| v.content == ct))
        .filter(|v| vmid.is_none_or(|want| v.vmid.map(i64::from) == Some(want)))
        .filter(|v| access(&call.identity, c, v).is_ok())
        .collect();
    vols.sort_by(|a, b| a.volid.cmp(&b.volid));
    Ok(Value::Array(
        vols.into_iter()
            .map(|v| {
                let mut e = Map::new();
                e.insert("volid".into(), json!(v.volid));
                e.insert("content".into(), json!(v.content));
                e.insert("format".into(), json!(v.format));
                e.insert("size".into(), json!(v.size));
                e.insert("ctime".into(), json!(v.ctime));
                if let Some(vmid) = v.vmid {
                    e.insert("vmid".into(), json!(vmid));
                }
                if let Some(n) = &v.notes {
                    e.insert("notes".into(), json!(first_line(n)));
                }
                if v.protected {
                    e.insert("protected".into(), json!(1));
                }
                Value::Object(e)
            })
            .collect(),
    ))
}

/// Parses `size` as PVE does for allocation: KiB, or `M`/`G` suffixed; returns bytes.
fn parse_alloc_size(s: &str) -> Option<u64> {
    let (num, mul) = match s.strip_suffix('G') {
        Some(n) => (n, 1u64 << 30),
        None => match s.strip_suffix('M') {
            Some(n) => (n, 1 << 20),
            None => (s, 1 << 10),
        },
    };
    if num.is_empty() || !num.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    num.parse::<u64>().ok()?.checked_mul(mul)
}

/// `POST /nodes/{node}/storage/{storage}/content`: allocates a disk image; returns its volid.
fn alloc(sim: &mut Sim, call: &Call) -> Result<Value, ApiError> {
    let node = call.node()?.to_string();
    let id = call.req_str("storage")?.to_string();
    let vmid = call.vmid()?;
    let name = call.req_str("filename")?.to_string();
    let size_text = call.req_str("size")?;
    let size = parse_alloc_size(size_text)
        .ok_or_else(|| ApiError::param("size", format!("unable to parse size '{size_text}'")))?;
    let ext = [".raw", ".qcow2", ".vmdk"]
        .iter()
        .find(|e| name.ends_with(*e))
        .map(|e| e[1..].to_string());
    let mut format = call.str("format").map(str::to_string);
    if let Some(ext) = &ext {
        if let Some(f) = &format
            && f != ext
        {
            return Err(ApiError::param(
                "format",
                format!("different storage formats ({f} != {ext})"),
            ));
        }
        format = Some(ext.clone());
    }
    let c = &sim.cluster;
    let st = usable(c, &node, &id)?;
    guest::check_storage(c, &id, &node, "images").map_err(ApiError::internal)?;
    if !name.starts_with(&format!("vm-{vmid}-")) {
        return Err(ApiError::internal(format!(
            "illegal name '{name}' - should be 'vm-{vmid}-*'"
        )));
    }
    let file = guest::is_file_storage(&st.kind);
    let format = format.unwrap_or_else(|| "raw".to_string());
    let volname = if file {
        if ext.is_none() {
            return Err(ApiError::internal(format!(
                "unable to parse volume filename '{name}'"
            )));
        }
        format!("{vmid}/{name}")
    } else {
        let ok = format == "raw" || (format == "subvol" && st.kind == "zfspool");
        if !ok {
            return Err(ApiError::internal(format!("unsupported format '{format}'")));
        }
        name.clone()
    };
    let volid = format!("{id}:{volname}");
    if c.volumes
        .iter()
        .any(|v| v.volid == volid && visible(c, v, &node))
    {
        return Err(ApiError::internal(format!(
            "volume '{volid}' already exists"
        )));
    }
    guest::alloc_space(c, &node, &id, &volname, size).map_err(ApiError::internal)?;
    sim.cluster.volumes.push(Volume {
        volid: volid.clone(),
        storage: id,
        node,
        content: "images".into(),
        format,
        size,
        ctime: sim.now as i64,
        vmid: Some(vmid),
        notes: None,
        protected: false,
    });
    Ok(Value::String(volid))
}

/// PVE's `real_volume_id`: a full volid, or a name completed with the `storage` parameter.
fn real_volid(storage: Option<&str>, volume: &str) -> Result<(String, String), ApiError> {
    match volume.split_once(':') {
        Some((sid, _)) => {
            if let Some(s) = storage
                && s != sid
            {
                return Err(ApiError::param(
                    "volume",
                    format!("storage ID mismatch ({sid} != {s})"),
                ));
            }
            Ok((volume.to_string(), sid.to_string()))
        }
        None => match storage {
            Some(s) => Ok((format!("{s}:{volume}"), s.to_string())),
            None => Err(ApiError::param(
                "volume",
                "no storage specified - incomplete volume ID",
            )),
        },
    }
}

/// The volume a `{volume}` call names, checked for access.
fn find<'a>(c: &'a Cluster, call: &Call) -> Result<(usize, &'a Volume), ApiError> {
    let node = call.node()?;
    let (volid, sid) = real_volid(call.str("storage"), call.req_str("volume")?)?;
    c.storages.get(&sid).ok_or_else(|| no_storage(&sid))?;
    let found = c
        .volumes
        .iter()
        .enumerate()
        .find(|(_, v)| v.volid == volid && visible(c, v, node));
    let Some((i, v)) = found else {
        return Err(ApiError::internal(format!(
            "volume_size_info on '{volid}' failed - no format"
        )));
    };
    access(&call.identity, c, v)?;
    Ok((i, v))
}

/// The filesystem or device path of a volume, as PVE's `path` gives it.
pub(super) fn volume_path(c: &Cluster, v: &Volume) -> String {
    let name = v.volid.split_once(':').map_or(v.volid.as_str(), |(_, n)| n);
    let Some(s) = c.storages.get(&v.storage) else {
        return String::new();
    };
    let extra = |k: &str| s.extra.get(k).and_then(Value::as_str).map(str::to_string);
    match s.kind.as_str() {
        "lvm" | "lvmthin" => format!(
            "/dev/{}/{name}",
            extra("vgname").unwrap_or_else(|| "pve".into())
        ),
        "zfspool" => {
            let pool = extra("pool").unwrap_or_else(|| "rpool/data".into());
            if v.format == "subvol" {
                format!("/{pool}/{name}")
            } else {
                format!("/dev/zvol/{pool}/{name}")
            }
        }
        "rbd" => format!("/dev/rbd-pve/{}/{name}", s.id),
        _ => {
            let base = extra("path").unwrap_or_else(|| format!("/mnt/pve/{}", s.id));
            let (kind, file) = name.split_once('/').unwrap_or(("", name));
            match kind {
                "iso" => format!("{base}/template/iso/{file}"),
                "vztmpl" => format!("{base}/template/cache/{file}"),
                "backup" => format!("{base}/dump/{file}"),
                "snippets" => format!("{base}/snippets/{file}"),
                _ => format!("{base}/images/{name}"),
            }
        }
    }
}

/// `GET .../content/{volume}`: `{path, size, used, format, notes?, protected?}`.
fn info(sim: &mut Sim, call: &Call) -> Result<Value, ApiError> {
    let c = &sim.cluster;
    let (_, v) = find(c, call)?;
    let mut e = Map::new();
    e.insert("path".into(), json!(volume_path(c, v)));
    e.insert("size".into(), json!(v.size));
    e.insert("used".into(), json!(v.size));
    e.insert("format".into(), json!(v.format));
    if v.content == "backup" {
        if let Some(n) = &v.notes {
            e.insert("notes".into(), json!(n));
        }
        e.insert("protected".into(), json!(u8::from(v.protected)));
    }
    Ok(Value::Object(e))
}

/// `PUT .../content/{volume}`: notes and protection (backups only).
fn update(sim: &mut Sim, call: &Call) -> Result<Value, ApiError> {
    let (i, v) = find(&sim.cluster, call)?;
    let is_backup = v.content == "backup";
    for attr in ["notes", "protected"] {
        if call.params.contains_key(attr) && !is_backup {
            return Err(ApiError::internal(format!(
                "attribute '{attr}' is only supported for backups"
            )));
        }
    }
    let v = &mut sim.cluster.volumes[i];
    if let Some(n) = call.str("notes") {
        v.notes = (!n.is_empty()).then(|| n.to_string());
    }
    if let Some(p) = call.bool("protected") {
        v.protected = p;
    }
    Ok(Value::Null)
}

/// The guest and config key using a disk volume, if any.
fn used_by(c: &Cluster, v: &Volume) -> Option<(u32, String)> {
    let g = c.guests.get(&v.vmid?)?;
    g.config
        .iter()
        .filter(|(k, _)| is_disk_key(g.kind, k) || k.starts_with("unused"))
        .find(|(_, val)| val.as_str().and_then(guest::disk_volid) == Some(v.volid.as_str()))
        .map(|(k, _)| (g.vmid, k.clone()))
}

/// `DELETE .../content/{volume}`: an `imgdel` task (with `delay`, waits and returns null or
/// the error). A disk image still used by a guest is refused at once.
fn delete(sim: &mut Sim, call: &Call) -> Result<Value, ApiError> {
    let node = call.node()?.to_string();
    let (volid, sid) = real_volid(call.str("storage"), call.req_str("volume")?)?;
    let c = &sim.cluster;
    let storage = c.storages.get(&sid).ok_or_else(|| no_storage(&sid))?;
    let shared = storage.shared;
    let found = c
        .volumes
        .iter()
        .find(|v| v.volid == volid && visible(c, v, &node));
    let owner = found.and_then(|v| v.vmid);
    let is_backup = found.is_some_and(|v| v.content == "backup");
    let need = |path: String, privs: &[&str]| {
        if auth::allowed(&call.identity, &path, privs, c) {
            Ok(())
        } else {
            Err(ApiError::forbidden(&path, privs[0]))
        }
    };
    match owner {
        Some(vmid) if is_backup => {
            need(format!("/storage/{sid}"), &["Datastore.AllocateSpace"])?;
            need(format!("/vms/{vmid}"), &["VM.Backup"])?;
        }
        _ => need(format!("/storage/{sid}"), &["Datastore.Allocate"])?,
    }
    if let Some((vmid, key)) = found.and_then(|v| used_by(c, v)) {
        return Err(ApiError::internal(format!(
            "unable to delete volume '{volid}' - used by guest {vmid} ({key}); remove it from the guest's hardware first"
        )));
    }
    let task_id = match owner {
        Some(vmid) => format!("{vmid}@{sid}"),
        None => sid.clone(),
    };
    let delay = call.int("delay");
    let target = volid.clone();
    let vol_node = node.clone();
    let spec = TaskSpec {
        node: node.clone(),
        kind: "imgdel".into(),
        id: task_id,
        user: guest::task_user(call),
        duration: if delay.is_some() { 0.0 } else { 1.5 },
        log: Vec::new(),
        lock_vmid: None,
        finish: Box::new(move |cluster, _| {
            let pos = cluster
                .volumes
                .iter()
                .position(|v| v.volid == target && (shared || v.node == vol_node));
            let Some(pos) = pos else {
                return Err(format!("volume '{target}' does not exist"));
            };
            if cluster.volumes[pos].protected {
                let name = target.split_once(':').map_or(target.as_str(), |(_, n)| n);
                return Err(format!(
                    "cannot remove protected volume '{name}' on '{sid}'"
                ));
            }
            cluster.volumes.remove(pos);
            cluster.backup_configs.remove(&target);
            Ok(vec![format!("Removed volume '{target}'")])
        }),
    };
    let upid = sim.spawn_task(spec);
    if delay.is_none() {
        return Ok(Value::String(upid));
    }
    let now = sim.now;
    sim.settle(now);
    match sim
        .tasks
        .by_upid
        .get(&upid)
        .and_then(|t| t.exitstatus.clone())
    {
        Some(s) if s == "OK" => Ok(Value::Null),
        Some(err) => Err(ApiError::internal(err)),
        None => Ok(Value::String(upid)),
    }
}

/// `POST .../content/{volume}`: copies a volume (`imgcopy` task). Root only, as PVE.
fn copy(sim: &mut Sim, call: &Call) -> Result<Value, ApiError> {
    if call.identity.userid != "root@pam" {
        return Err(ApiError::new(
            403,
            "Permission check failed (user != root@pam)",
        ));
    }
    let node = call.node()?.to_string();
    let target_node = call.str("target_node").unwrap_or(&node).to_string();
    let (_, src) = find(&sim.cluster, call)?;
    let src = src.clone();
    let (dst, dst_sid) = real_volid(call.str("storage"), call.req_str("target")?)?;
    let c = &sim.cluster;
    usable(c, &target_node, &dst_sid)?;
    if c.volumes
        .iter()
        .any(|v| v.volid == dst && visible(c, v, &target_node))
    {
        return Err(ApiError::internal(format!("volume '{dst}' already exists")));
    }
    let dst_name = dst
        .split_once(':')
        .map_or(dst.as_str(), |(_, n)| n)
        .to_string();
    guest::alloc_space(c, &target_node, &dst_sid, &dst_name, src.size)
        .map_err(ApiError::internal)?;
    let ctime = sim.now as i64;
    let spec = TaskSpec {
        node,
        kind: "imgcopy".into(),
        id: String::new(),
        user: guest::task_user(call),
        duration: 2.0 + src.size as f64 / 400e6,
        log: vec![format!("DEBUG: COPY {} TO {dst}", src.volid)],
        lock_vmid: None,
        finish: Box::new(move |cluster, _| {
            cluster.volumes.push(Volume {
                volid: dst,
                storage: dst_sid,
                node: target_node,
                ctime,
                ..src
            });
            Ok(Vec::new())
        }),
    };
    Ok(Value::String(sim.spawn_task(spec)))
}
