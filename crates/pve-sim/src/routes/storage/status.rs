//! Storage status per node: `GET /nodes/{node}/storage` (with PVE's filters), the storage's
//! directory index and `GET /nodes/{node}/storage/{storage}/status`. Used space is the sum of
//! the volumes on the storage as seen from the node.

use std::collections::HashMap;

use serde_json::{Map, Value, json};

use super::{AUDIT, may_audit};
use crate::Sim;
use crate::route::{ApiError, Call, Method, Perm, Route};
use crate::state::{Cluster, Storage};

/// The routes of this module.
pub(super) fn routes() -> Vec<Route> {
    let r = Route::new;
    vec![
        r(Method::Get, "/nodes/{node}/storage", Perm::All, node_list),
        r(
            Method::Get,
            "/nodes/{node}/storage/{storage}",
            Perm::Storage(AUDIT),
            node_index,
        ),
        r(
            Method::Get,
            "/nodes/{node}/storage/{storage}/status",
            Perm::Storage(AUDIT),
            node_status,
        ),
    ]
}

/// Whether a storage is defined for this node (enabled or not).
fn defined_on(s: &Storage, node: &str) -> bool {
    s.nodes.as_ref().is_none_or(|n| n.iter().any(|x| x == node))
}

/// Bytes used on every storage as seen from `node`, in one pass over the volumes.
pub(super) fn used_on_node<'a>(c: &'a Cluster, node: &str) -> HashMap<&'a str, u64> {
    let mut used: HashMap<&str, u64> = HashMap::with_capacity(c.storages.len());
    for v in &c.volumes {
        let shared = c.storages.get(&v.storage).is_some_and(|s| s.shared);
        if shared || v.node == node {
            *used.entry(v.storage.as_str()).or_default() += v.size;
        }
    }
    used
}

/// The status PVE's `storage_info` gives for a storage on a node.
fn status_entry(s: &Storage, used: u64) -> Map<String, Value> {
    let mut e = Map::new();
    e.insert("storage".into(), json!(s.id));
    e.insert("type".into(), json!(s.kind));
    e.insert("content".into(), json!(s.content.join(",")));
    e.insert("shared".into(), json!(u8::from(s.shared)));
    e.insert("enabled".into(), json!(u8::from(s.enabled)));
    e.insert("active".into(), json!(u8::from(s.enabled)));
    let (total, used) = if s.enabled {
        (s.total, used.min(s.total))
    } else {
        (0, 0)
    };
    e.insert("total".into(), json!(total));
    e.insert("used".into(), json!(used));
    e.insert("avail".into(), json!(total - used));
    e
}

/// The image formats a storage type supports, and its default.
fn formats(kind: &str) -> (&'static str, &'static [&'static str]) {
    match kind {
        "dir" | "nfs" | "cifs" | "btrfs" | "glusterfs" | "cephfs" => {
            ("raw", &["raw", "qcow2", "vmdk", "subvol"])
        }
        "zfspool" => ("raw", &["raw", "subvol"]),
        _ => ("raw", &["raw"]),
    }
}

/// `GET /nodes/{node}/storage`.
fn node_list(sim: &mut Sim, call: &Call) -> Result<Value, ApiError> {
    let node = call.node()?;
    let c = &sim.cluster;
    if let Some(id) = call.str("storage")
        && !c.storages.get(id).is_some_and(|s| defined_on(s, node))
    {
        return Err(ApiError::param("storage", "No such storage."));
    }
    let want: Option<Vec<&str>> = call
        .str("content")
        .map(|l| l.split([',', ';', ' ']).filter(|s| !s.is_empty()).collect());
    let target = call
        .str("target")
        .filter(|t| *t != node && *t != "localhost");
    let used = used_on_node(c, node);
    let mut out = Vec::new();
    for s in c.storages.values() {
        if !defined_on(s, node) || !may_audit(&call.identity, c, &s.id) {
            continue;
        }
        if call.str("storage").is_some_and(|id| id != s.id)
            || (call.bool("enabled") == Some(true) && !s.enabled)
            || want
                .as_ref()
                .is_some_and(|w| !s.content.iter().any(|ct| w.contains(&ct.as_str())))
            || target.is_some_and(|t| !s.shared || !defined_on(s, t))
        {
            continue;
        }
        let mut e = status_entry(s, used.get(s.id.as_str()).copied().unwrap_or(0));
        let total = e["total"].as_u64().unwrap_or(0);
        if total > 0 {
            let u = e["used"].as_u64().unwrap_or(0);
            e.insert("used_fraction".into(), json!(u as f64 / total as f64));
        }
        if call.bool("format") == Some(true) {
            let (default, supported) = formats(&s.kind);
            e.insert(
                "formats".into(),
                json!({ "default": default, "supported": supported }),
            );
            let hash: Map<String, Value> = supported
                .iter()
                .map(|f| ((*f).to_string(), json!(1)))
                .collect();
            e.insert("format".into(), json!([hash, default]));
            e.insert(
                "select_existing".into(),
                json!(u8::from(s.kind.starts_with("iscsi"))),
            );
        }
        out.push(Value::Object(e));
    }
    Ok(Value::Array(out))
}

/// The storage `id` as defined on `node`, or 400 `No such storage.` as PVE answers.
fn on_node<'a>(c: &'a Cluster, node: &str, id: &str) -> Result<&'a Storage, ApiError> {
    c.storages
        .get(id)
        .filter(|s| defined_on(s, node))
        .ok_or_else(|| ApiError::param("storage", "No such storage."))
}

/// `GET /nodes/{node}/storage/{storage}`: the directory index.
fn node_index(_sim: &mut Sim, _call: &Call) -> Result<Value, ApiError> {
    let dirs = [
        "content",
        "download-url",
        "file-restore",
        "import-metadata",
        "oci-registry-pull",
        "prunebackups",
        "rrd",
        "rrddata",
        "status",
        "upload",
    ];
    Ok(Value::Array(
        dirs.iter().map(|d| json!({ "subdir": d })).collect(),
    ))
}

/// `GET /nodes/{node}/storage/{storage}/status`.
fn node_status(sim: &mut Sim, call: &Call) -> Result<Value, ApiError> {
    let node = call.node()?;
    let id = call.req_str("storage")?;
    let c = &sim.cluster;
    let s = on_node(c, node, id)?;
    let used = crate::guest::storage_used(c, id, node);
    let mut e = status_entry(s, used);
    e.remove("storage");
    Ok(Value::Object(e))
}
