//! Resource pools: `GET /pools` (each pool with its members; `poolid` and `type` filter),
//! `GET /pools/{poolid}`, create (`POST /pools`), update (`PUT /pools` and the older
//! `PUT /pools/{poolid}`: add or, with `delete`, remove guests and storages, `allow-move` to
//! take a guest from another pool) and removal (`DELETE /pools`, `DELETE /pools/{poolid}`, only
//! when empty). Guests name their pool ([`crate::state::Guest::pool`]); a pool holds its
//! storages. Members are shown as `/cluster/resources` shows them.

use serde_json::{Map, Value, json};

use crate::Sim;
use crate::auth;
use crate::route::{ApiError, Call, Method, Perm, Route};
use crate::state::{Cluster, Pool};

/// The routes of this module.
pub(super) fn routes() -> Vec<Route> {
    use Method::{Delete, Get, Post, Put};
    let r = Route::new;
    let allocate = Perm::Path("/pool/{poolid}", &["Pool.Allocate"]);
    vec![
        r(Get, "/pools", Perm::All, list),
        r(Post, "/pools", allocate, create),
        r(Put, "/pools", allocate, update),
        r(Delete, "/pools", allocate, remove),
        r(
            Get,
            "/pools/{poolid}",
            Perm::Path("/pool/{poolid}", &["Pool.Audit"]),
            read,
        ),
        r(Put, "/pools/{poolid}", allocate, update),
        r(Delete, "/pools/{poolid}", allocate, remove),
    ]
}

/// `GET /pools`: the pools the caller may audit, with their members.
fn list(sim: &mut Sim, call: &Call) -> Result<Value, ApiError> {
    let only = call.str("poolid");
    let kind = call.str("type");
    let c = &sim.cluster;
    let mut out = Vec::new();
    for id in c.pool_ids() {
        if only.is_some_and(|p| p != id) {
            continue;
        }
        if !auth::allowed(&call.identity, &format!("/pool/{id}"), &["Pool.Audit"], c) {
            continue;
        }
        let mut e = Map::new();
        e.insert("poolid".into(), json!(id));
        if let Some(comment) = c.pools.get(&id).and_then(|p| p.comment.clone()) {
            e.insert("comment".into(), json!(comment));
        }
        if only.is_some() {
            let members: Vec<Value> = members(sim, &id)
                .into_iter()
                .filter(|m| kind.is_none_or(|k| m["type"] == k))
                .collect();
            e.insert("members".into(), Value::Array(members));
        }
        out.push(Value::Object(e));
    }
    Ok(Value::Array(out))
}

/// `GET /pools/{poolid}`: comment and members.
fn read(sim: &mut Sim, call: &Call) -> Result<Value, ApiError> {
    let id = call.req_str("poolid")?;
    if !sim.cluster.pool_ids().iter().any(|p| p == id) {
        return Err(ApiError::internal(format!("pool '{id}' does not exist")));
    }
    let kind = call.str("type");
    let mut e = Map::new();
    if let Some(comment) = sim.cluster.pools.get(id).and_then(|p| p.comment.clone()) {
        e.insert("comment".into(), json!(comment));
    }
    let members: Vec<Value> = members(sim, id)
        .into_iter()
        .filter(|m| kind.is_none_or(|k| m["type"] == k))
        .collect();
    e.insert("members".into(), Value::Array(members));
    Ok(Value::Object(e))
}

/// A pool's guests and storages as `/cluster/resources` entries.
fn members(sim: &Sim, pool: &str) -> Vec<Value> {
    let c = &sim.cluster;
    let mut out: Vec<Value> = c
        .guests
        .values()
        .filter(|g| g.pool.as_deref() == Some(pool))
        .map(|g| {
            let u = crate::metrics::guest_usage(g, sim.now);
            json!({
                "id": format!("{}/{}", g.kind.as_str(), g.vmid),
                "type": g.kind.as_str(),
                "vmid": g.vmid,
                "node": g.node,
                "name": g.name(),
                "status": g.status.as_str(),
                "template": u8::from(g.is_template()),
                "maxcpu": g.cpus(),
                "maxmem": g.maxmem(),
                "maxdisk": g.maxdisk(),
                "mem": u.mem,
                "uptime": g.uptime(sim.now),
            })
        })
        .collect();
    if let Some(p) = c.pools.get(pool) {
        for st in &p.storages {
            let Some(s) = c.storages.get(st) else {
                continue;
            };
            let nodes: Vec<&String> = c
                .nodes
                .keys()
                .filter(|n| s.nodes.as_ref().is_none_or(|l| l.contains(n)))
                .collect();
            for node in nodes {
                out.push(json!({
                    "id": format!("storage/{node}/{st}"),
                    "type": "storage",
                    "storage": st,
                    "node": node,
                    "plugintype": s.kind,
                    "shared": u8::from(s.shared),
                    "content": s.content.join(","),
                    "status": "available",
                }));
            }
        }
    }
    out
}

/// `POST /pools`.
fn create(sim: &mut Sim, call: &Call) -> Result<Value, ApiError> {
    let id = call.req_str("poolid")?;
    if sim.cluster.pool_ids().iter().any(|p| p == id) {
        return Err(ApiError::internal(format!(
            "create pool failed: pool '{id}' already exists"
        )));
    }
    sim.cluster.pools.insert(
        id.to_string(),
        Pool {
            comment: call.str("comment").map(str::to_string),
            storages: Vec::new(),
        },
    );
    Ok(Value::Null)
}

/// `PUT /pools` and `PUT /pools/{poolid}`: comment, members added or (with `delete`) removed.
fn update(sim: &mut Sim, call: &Call) -> Result<Value, ApiError> {
    let id = call.req_str("poolid")?.to_string();
    let c = &mut sim.cluster;
    if !c.pool_ids().contains(&id) {
        return Err(ApiError::internal(format!(
            "update pools failed: pool '{id}' does not exist"
        )));
    }
    let delete = call.bool("delete").unwrap_or(false);
    let allow_move = call.bool("allow-move").unwrap_or(false);
    let vmids: Vec<u32> = crate::params::split_list(call.str("vms").unwrap_or(""))
        .into_iter()
        .filter_map(|v| v.parse().ok())
        .collect();
    let storages: Vec<String> = crate::params::split_list(call.str("storage").unwrap_or(""))
        .into_iter()
        .map(str::to_string)
        .collect();
    for vmid in &vmids {
        let path = format!("/vms/{vmid}");
        auth::require(&call.identity, &path, "VM.Allocate", c)?;
        let g = c
            .guests
            .get(vmid)
            .ok_or_else(|| ApiError::internal(format!("no such VM '{vmid}'")))?;
        match (&g.pool, delete) {
            (Some(p), false) if *p != id && !allow_move => {
                return Err(ApiError::internal(format!(
                    "VM {vmid} belongs already to pool '{p}' and allow-move is not set"
                )));
            }
            (p, true) if p.as_deref() != Some(id.as_str()) => {
                return Err(ApiError::internal(format!(
                    "VM {vmid} is not a pool member"
                )));
            }
            _ => {}
        }
    }
    for st in &storages {
        if !c.storages.contains_key(st) {
            return Err(ApiError::internal(format!("storage '{st}' does not exist")));
        }
    }
    for vmid in &vmids {
        if let Some(g) = c.guests.get_mut(vmid) {
            g.pool = (!delete).then(|| id.clone());
        }
    }
    let pool = c.pools.entry(id).or_default();
    if let Some(comment) = call.str("comment") {
        pool.comment = Some(comment.to_string()).filter(|c| !c.is_empty());
    }
    for st in storages {
        if delete {
            pool.storages.retain(|s| *s != st);
        } else if !pool.storages.contains(&st) {
            pool.storages.push(st);
        }
    }
    Ok(Value::Null)
}

/// `DELETE /pools` and `DELETE /pools/{poolid}`: only an empty pool goes.
fn remove(sim: &mut Sim, call: &Call) -> Result<Value, ApiError> {
    let id = call.req_str("poolid")?.to_string();
    let c: &mut Cluster = &mut sim.cluster;
    if !c.pool_ids().contains(&id) {
        return Err(ApiError::internal(format!(
            "delete pool failed: pool '{id}' does not exist"
        )));
    }
    let has_guests = c
        .guests
        .values()
        .any(|g| g.pool.as_deref() == Some(id.as_str()));
    let has_storages = c.pools.get(&id).is_some_and(|p| !p.storages.is_empty());
    if has_guests || has_storages {
        return Err(ApiError::internal(format!(
            "delete pool failed: pool '{id}' is not empty"
        )));
    }
    c.pools.remove(&id);
    Ok(Value::Null)
}
