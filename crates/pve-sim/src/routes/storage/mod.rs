//! Storages: the cluster-wide configuration (`GET/POST /storage`, `GET/PUT/DELETE
//! /storage/{storage}`) and the per-node status (`GET /nodes/{node}/storage`,
//! `GET /nodes/{node}/storage/{storage}[/status]`). Volumes live in `content.rs`.
//!
//! Used space is the sum of the volumes on a storage (this node's for a local storage, all of
//! them for a shared one), so creating disks fills the storage.

mod content;
mod download;
mod status;

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};
use sha1::{Digest, Sha1};

use crate::Sim;
use crate::auth;
use crate::route::{ApiError, Call, Identity, Method, Perm, Route};
use crate::state::{Cluster, Storage};

pub(crate) const AUDIT: &[&str] = &["Datastore.Audit", "Datastore.AllocateSpace"];

/// The routes of this module.
pub(crate) fn routes() -> Vec<Route> {
    let r = Route::new;
    let admin = Perm::Path("/storage", &["Datastore.Allocate"]);
    let mut v = vec![
        r(
            Method::Get,
            "/storage",
            Perm::All,
            list as crate::route::Handler,
        ),
        r(Method::Post, "/storage", admin, create),
        r(
            Method::Get,
            "/storage/{storage}",
            Perm::Storage(&["Datastore.Allocate"]),
            read,
        ),
        r(Method::Put, "/storage/{storage}", admin, update),
        r(Method::Delete, "/storage/{storage}", admin, delete),
    ];
    v.extend(content::routes());
    v.extend(status::routes());
    v.extend(download::routes());
    v
}

/// The storage configuration file (`/etc/pve/storage.cfg`) as PVE writes it; its SHA-1 is the
/// `digest` of `GET /storage`.
pub(crate) fn storage_cfg_text(c: &Cluster) -> String {
    let mut out = String::new();
    for s in c.storages.values() {
        out.push_str(&format!("{}: {}\n", s.kind, s.id));
        for (k, v) in &s.extra {
            out.push_str(&format!("\t{k} {}\n", crate::params::value_text(v)));
        }
        out.push_str(&format!("\tcontent {}\n", s.content.join(",")));
        if let Some(n) = &s.nodes {
            out.push_str(&format!("\tnodes {}\n", n.join(",")));
        }
        if s.shared && !implicitly_shared(&s.kind) {
            out.push_str("\tshared 1\n");
        }
        if !s.enabled {
            out.push_str("\tdisable\n");
        }
        out.push('\n');
    }
    out
}

/// The `digest` of the storage configuration.
pub(crate) fn storage_cfg_digest(c: &Cluster) -> String {
    hex::encode(Sha1::digest(storage_cfg_text(c).as_bytes()))
}

/// Storage types PVE always treats as shared.
fn implicitly_shared(kind: &str) -> bool {
    matches!(
        kind,
        "nfs" | "cifs" | "cephfs" | "rbd" | "pbs" | "iscsi" | "iscsidirect" | "zfs" | "glusterfs"
    )
}

/// PVE's message for an unknown storage in the configuration.
pub(crate) fn no_storage(id: &str) -> ApiError {
    ApiError::internal(format!("storage '{id}' does not exist"))
}

/// Whether the caller may see a storage (`Datastore.Audit` or `Datastore.AllocateSpace`).
pub(crate) fn may_audit(id: &Identity, c: &Cluster, storage: &str) -> bool {
    auth::allowed(id, &format!("/storage/{storage}"), AUDIT, c)
}

/// One storage as `GET /storage` and `GET /storage/{storage}` show it.
fn config_entry(s: &Storage, digest: &str) -> Value {
    let mut e = Map::new();
    e.insert("storage".into(), json!(s.id));
    e.insert("type".into(), json!(s.kind));
    e.insert("content".into(), json!(s.content.join(",")));
    for (k, v) in &s.extra {
        e.insert(k.clone(), v.clone());
    }
    if let Some(n) = &s.nodes {
        e.insert("nodes".into(), json!(n.join(",")));
    }
    if s.shared {
        e.insert("shared".into(), json!(1));
    }
    if !s.enabled {
        e.insert("disable".into(), json!(1));
    }
    e.insert("digest".into(), json!(digest));
    Value::Object(e)
}

/// `GET /storage[?type=]`.
fn list(sim: &mut Sim, call: &Call) -> Result<Value, ApiError> {
    let c = &sim.cluster;
    let digest = storage_cfg_digest(c);
    let kind = call.str("type");
    Ok(Value::Array(
        c.storages
            .values()
            .filter(|s| kind.is_none_or(|k| k == s.kind))
            .filter(|s| may_audit(&call.identity, c, &s.id))
            .map(|s| config_entry(s, &digest))
            .collect(),
    ))
}

/// `GET /storage/{storage}`.
fn read(sim: &mut Sim, call: &Call) -> Result<Value, ApiError> {
    let id = call.req_str("storage")?;
    let c = &sim.cluster;
    let s = c.storages.get(id).ok_or_else(|| no_storage(id))?;
    Ok(config_entry(s, &storage_cfg_digest(c)))
}

/// Content types each storage type can hold, and the default when `content` is not given.
fn content_types(kind: &str) -> (&'static [&'static str], &'static [&'static str]) {
    const FILES: &[&str] = &[
        "images", "rootdir", "vztmpl", "iso", "backup", "snippets", "import",
    ];
    match kind {
        "dir" | "btrfs" => (FILES, &["images", "rootdir"]),
        "nfs" | "cifs" => (FILES, &["images"]),
        "cephfs" => (
            &["vztmpl", "iso", "backup", "snippets", "import"],
            &["backup"],
        ),
        "lvmthin" | "zfspool" => (&["images", "rootdir"], &["images", "rootdir"]),
        "lvm" | "rbd" | "zfs" => (&["images", "rootdir"], &["images"]),
        "iscsi" | "iscsidirect" => (&["images", "none"], &["images"]),
        "pbs" => (&["backup"], &["backup"]),
        "esxi" => (&["import"], &["import"]),
        _ => (FILES, &["images"]),
    }
}

/// Keys each storage type requires on creation.
fn required_keys(kind: &str) -> &'static [&'static str] {
    match kind {
        "dir" | "btrfs" => &["path"],
        "nfs" => &["server", "export"],
        "cifs" => &["server", "share"],
        "lvm" => &["vgname"],
        "lvmthin" => &["vgname", "thinpool"],
        "zfspool" => &["pool"],
        "pbs" => &["server", "datastore"],
        "iscsi" => &["portal", "target"],
        "esxi" => &["server", "username", "password"],
        _ => &[],
    }
}

/// A believable capacity for a new storage of this type.
fn default_capacity(kind: &str) -> u64 {
    const TIB: u64 = 1 << 40;
    match kind {
        "dir" | "btrfs" => TIB / 2,
        "lvm" | "lvmthin" | "zfspool" => 2 * TIB,
        "nfs" | "cifs" | "cephfs" | "pbs" => 8 * TIB,
        _ => 4 * TIB,
    }
}

/// Parses and checks a `content` list against what the storage type supports.
fn parse_content(kind: &str, list: &str) -> Result<Vec<String>, ApiError> {
    let (allowed, _) = content_types(kind);
    let mut out = Vec::new();
    for ct in list.split([',', ';', ' ']).filter(|s| !s.is_empty()) {
        if !allowed.contains(&ct) {
            return Err(ApiError::param(
                "content",
                format!("storage type '{kind}' does not support content type '{ct}'"),
            ));
        }
        if !out.iter().any(|x| x == ct) {
            out.push(ct.to_string());
        }
    }
    Ok(out)
}

/// Parameters stored as plain keys of the storage's configuration.
const META_KEYS: &[&str] = &[
    "storage", "type", "content", "nodes", "shared", "disable", "delete", "digest", "password",
];

fn config_value(v: &Value) -> Value {
    match v {
        Value::Bool(b) => json!(u8::from(*b)),
        other => other.clone(),
    }
}

fn node_list_param(call: &Call) -> Option<Vec<String>> {
    call.str("nodes").map(|n| {
        n.split([',', ';', ' '])
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    })
}

/// `POST /storage`.
fn create(sim: &mut Sim, call: &Call) -> Result<Value, ApiError> {
    let id = call.req_str("storage")?;
    let kind = call.req_str("type")?;
    let missing: BTreeMap<String, String> = required_keys(kind)
        .iter()
        .filter(|k| call.str(k).is_none())
        .map(|k| {
            (
                (*k).to_string(),
                "property is missing and it is not optional".to_string(),
            )
        })
        .collect();
    if !missing.is_empty() {
        return Err(ApiError::params(missing));
    }
    let content = match call.str("content") {
        Some(list) => parse_content(kind, list)?,
        None => content_types(kind)
            .1
            .iter()
            .map(|s| (*s).to_string())
            .collect(),
    };
    if sim.cluster.storages.contains_key(id) {
        return Err(ApiError::internal(format!(
            "create storage failed: storage ID '{id}' already defined"
        )));
    }
    let extra = call
        .params
        .iter()
        .filter(|(k, _)| !META_KEYS.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), config_value(v)))
        .collect();
    let storage = Storage {
        id: id.to_string(),
        kind: kind.to_string(),
        content,
        shared: implicitly_shared(kind) || call.bool("shared").unwrap_or(false),
        nodes: node_list_param(call),
        total: default_capacity(kind),
        enabled: !call.bool("disable").unwrap_or(false),
        extra,
    };
    sim.cluster.storages.insert(id.to_string(), storage);
    Ok(json!({ "storage": id, "type": kind }))
}

/// `PUT /storage/{storage}`.
fn update(sim: &mut Sim, call: &Call) -> Result<Value, ApiError> {
    let id = call.req_str("storage")?;
    let digest = storage_cfg_digest(&sim.cluster);
    if let Some(d) = call.str("digest")
        && !d.is_empty()
        && !d.eq_ignore_ascii_case(&digest)
    {
        return Err(ApiError::internal(crate::guest::MODIFIED_CONFIG));
    }
    let s = sim.cluster.storages.get(id).ok_or_else(|| no_storage(id))?;
    let kind = s.kind.clone();
    let content = call
        .str("content")
        .map(|c| parse_content(&kind, c))
        .transpose()?;
    let Some(s) = sim.cluster.storages.get_mut(id) else {
        return Err(no_storage(id));
    };
    for key in call
        .str("delete")
        .unwrap_or("")
        .split([',', ';', ' '])
        .filter(|k| !k.is_empty())
    {
        match key {
            "nodes" => s.nodes = None,
            "disable" => s.enabled = true,
            "shared" if !implicitly_shared(&kind) => s.shared = false,
            other => {
                s.extra.remove(other);
            }
        }
    }
    if let Some(c) = content {
        s.content = c;
    }
    if let Some(n) = node_list_param(call) {
        s.nodes = Some(n);
    }
    if let Some(d) = call.bool("disable") {
        s.enabled = !d;
    }
    if let Some(sh) = call.bool("shared")
        && !implicitly_shared(&kind)
    {
        s.shared = sh;
    }
    for (k, v) in call
        .params
        .iter()
        .filter(|(k, _)| !META_KEYS.contains(&k.as_str()))
    {
        s.extra.insert(k.clone(), config_value(v));
    }
    Ok(json!({ "storage": id, "type": kind }))
}

/// `DELETE /storage/{storage}`: removes the definition (the data stays where it is).
fn delete(sim: &mut Sim, call: &Call) -> Result<Value, ApiError> {
    let id = call.req_str("storage")?;
    if sim.cluster.storages.remove(id).is_none() {
        return Err(no_storage(id));
    }
    Ok(Value::Null)
}

#[cfg(test)]
mod tests;
