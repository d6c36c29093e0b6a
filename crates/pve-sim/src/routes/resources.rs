//! `GET /cluster/resources` (guests, nodes, storages and pools in one list, filtered by `type`
//! and by what the caller may audit) and `GET /cluster/nextid`.
//!
//! `/cluster/resources` is on the hot path (10,000 guests well under 20 ms): figures come from
//! `metrics` in one pass, node figures from one sum over the guests, storage use from one pass
//! over the volumes, and no guest config is cloned.

use std::collections::{BTreeSet, HashMap};
use std::hash::{BuildHasherDefault, Hasher};

use serde_json::{Map, Value};

use crate::Sim;
use crate::auth;
use crate::json::{self, ObjWriter};
use crate::metrics;
use crate::route::{ApiError, Call, Identity, Method, ParamSpec, Perm, Role, Route, p};
use crate::state::{Cluster, Guest, GuestKind, PowerState, SimTime};

use super::nodes::{node_entry, round4};

const RESOURCES: &[ParamSpec] = &[p::one_of("type", &["vm", "storage", "node", "sdn"], true)];
const NEXTID: &[ParamSpec] = &[p::int("vmid", Some(100), Some(999_999_999), true)];

/// The routes of this module.
pub fn routes() -> Vec<Route> {
    vec![
        Route {
            method: Method::Get,
            path: "/cluster/resources",
            params: RESOURCES,
            perm: Perm::All,
            allow_token: true,
            handler: resources,
        },
        Route {
            method: Method::Get,
            path: "/cluster/nextid",
            params: NEXTID,
            perm: Perm::All,
            allow_token: true,
            handler: nextid,
        },
    ]
}

/// `GET /cluster/resources[?type=vm|storage|node|sdn]`. Written as JSON text (the list can
/// hold 10,000 guests): no `serde_json::Map` per guest.
fn resources(sim: &mut Sim, call: &Call) -> Result<Value, ApiError> {
    let filter = call.str("type");
    let want = |t: &str| filter.is_none_or(|f| f == t);
    let now = sim.now;
    let tasks_ended = sim.tasks.ended;
    let Sim {
        cluster: c, facts, ..
    } = sim;
    let c = &*c;
    let id = &call.identity;
    let mut out = String::with_capacity(64 + 480 * c.guests.len() + 320 * c.nodes.len() * 4);
    out.push('[');
    let mut first = true;
    let mut next = |out: &mut String| {
        if !first {
            out.push(',');
        }
        first = false;
    };
    // One pass over the guests: their entries, and the running ones summed per node.
    let (want_vm, want_node) = (want("vm"), want("node"));
    let all = sees_everything(id);
    let mut sums: FastMap<&str, metrics::GuestSum> = FastMap::default();
    let online_nodes: FastMap<&str, bool> = c
        .nodes
        .values()
        .map(|n| (n.name.as_str(), n.online))
        .collect();
    let all_online = c.nodes.values().all(|n| n.online);
    if want_vm || want_node {
        let cached = facts.get(c, tasks_ended);
        for (g, of) in c.guests.values().zip(cached) {
            let f = of.facts();
            let online = all_online || online_nodes.get(g.node.as_str()).copied().unwrap_or(false);
            let u = if online {
                metrics::guest_usage_with(g, &f, now)
            } else {
                metrics::GuestUsage::default()
            };
            if want_node && online && g.status == PowerState::Running {
                sums.entry(g.node.as_str()).or_default().add(&f, &u);
            }
            if want_vm && (all || auth::allowed(id, &format!("/vms/{}", g.vmid), &["VM.Audit"], c))
            {
                next(&mut out);
                write_guest(&mut out, g, &f, &u, online, now);
            }
        }
    }
    let mut others: Vec<Value> = Vec::new();
    if want_node {
        for n in c.nodes.values() {
            let audit = auth::allowed(id, &format!("/nodes/{}", n.name), &["Sys.Audit"], c);
            let sum = sums.get(n.name.as_str()).copied().unwrap_or_default();
            let usage = metrics::node_usage_from(n, sum, now);
            let mut e = node_entry(n, Some(&usage).filter(|_| audit));
            if n.online && audit {
                e.insert("cgroup-mode".into(), Value::from(2));
            }
            others.push(Value::Object(e));
        }
    }
    if want("storage") {
        others.extend(storage_resources(c, id));
    }
    if filter.is_none() {
        others.extend(pool_resources(c, id));
    }
    for v in &others {
        next(&mut out);
        json::push_value(&mut out, v);
    }
    out.push(']');
    sim.respond_raw(out);
    Ok(Value::Null)
}

/// A hash map keyed by short strings (node names) with FNV-1a instead of SipHash: looked up
/// once per guest on the hot path.
type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<Fnv>>;

/// FNV-1a, 64 bits.
#[derive(Debug, Clone, Copy)]
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3);
        }
    }
}

/// Admins and auditors audit every guest: no per-guest ACL lookup needed.
fn sees_everything(id: &Identity) -> bool {
    matches!(id.role, Role::Admin | Role::Auditor)
}

/// Writes one guest's entry, with live figures (zeros when stopped; `unknown` on an offline
/// node); optional members (`tags`, `lock`, `pool`, `hastate`) only when set.
pub fn write_guest(
    out: &mut String,
    g: &Guest,
    f: &metrics::GuestFacts<'_>,
    u: &metrics::GuestUsage,
    online: bool,
    now: SimTime,
) {
    let kind = g.kind.as_str();
    let mut id = String::with_capacity(16);
    id.push_str(kind);
    id.push('/');
    id.push_str(&g.vmid.to_string());
    let mut o = ObjWriter::begin(out);
    o.str("id", &id)
        .str("type", kind)
        .str("node", &g.node)
        .u64("vmid", u64::from(g.vmid));
    match f.name {
        Some(n) => o.str("name", n),
        None => o.str("name", &g.name()),
    };
    o.str("status", if online { g.status.as_str() } else { "unknown" })
        .u64("template", u64::from(f.template))
        .f64("cpu", round4(u.cpu))
        .u64("maxcpu", f.cpus)
        .u64("mem", u.mem)
        .u64("maxmem", f.maxmem);
    if g.kind == GuestKind::Qemu {
        o.u64(
            "memhost",
            if u.mem > 0 {
                u.mem + (f.maxmem >> 6)
            } else {
                0
            },
        );
    }
    o.u64("disk", u.disk)
        .u64("maxdisk", f.maxdisk)
        .u64("uptime", if online { g.uptime(now) } else { 0 })
        .u64("netin", u.netin)
        .u64("netout", u.netout)
        .u64("diskread", u.diskread)
        .u64("diskwrite", u.diskwrite);
    if let Some(t) = f.tags {
        o.str("tags", t);
    }
    if let Some(l) = f.lock {
        o.str("lock", l);
    }
    if let Some(pool) = &g.pool {
        o.str("pool", pool);
    }
    if let Some(ha) = &g.hastate {
        o.str("hastate", ha);
    }
    o.end();
}

/// One entry per (node, storage available there) the caller may audit.
fn storage_resources(c: &Cluster, id: &Identity) -> Vec<Value> {
    let mut used: FastMap<(&str, &str), u64> = FastMap::default();
    let mut shared_used: FastMap<&str, u64> = FastMap::default();
    let shared: FastMap<&str, bool> = c
        .storages
        .values()
        .map(|s| (s.id.as_str(), s.shared))
        .collect();
    for v in &c.volumes {
        if shared.get(v.storage.as_str()).copied().unwrap_or(false) {
            *shared_used.entry(v.storage.as_str()).or_default() += v.size;
        } else {
            *used
                .entry((v.storage.as_str(), v.node.as_str()))
                .or_default() += v.size;
        }
    }
    let mut out = Vec::new();
    for n in c.nodes.values() {
        for s in c.storages.values() {
            let on_node = s
                .nodes
                .as_ref()
                .is_none_or(|l| l.iter().any(|x| x == &n.name));
            if !s.enabled || !on_node {
                continue;
            }
            let path = format!("/storage/{}", s.id);
            if !auth::allowed(
                id,
                &path,
                &["Datastore.Audit", "Datastore.AllocateSpace"],
                c,
            ) {
                continue;
            }
            let mut e = Map::new();
            e.insert(
                "id".into(),
                Value::String(format!("storage/{}/{}", n.name, s.id)),
            );
            e.insert("type".into(), Value::from("storage"));
            e.insert("node".into(), Value::String(n.name.clone()));
            e.insert("storage".into(), Value::String(s.id.clone()));
            let status = if n.online { "available" } else { "unknown" };
            e.insert("status".into(), Value::from(status));
            e.insert("plugintype".into(), Value::String(s.kind.clone()));
            e.insert("content".into(), Value::String(s.content.join(",")));
            e.insert("shared".into(), Value::from(u8::from(s.shared)));
            if n.online {
                let u = if s.shared {
                    shared_used.get(s.id.as_str()).copied()
                } else {
                    used.get(&(s.id.as_str(), n.name.as_str())).copied()
                };
                e.insert("disk".into(), Value::from(u.unwrap_or(0).min(s.total)));
                e.insert("maxdisk".into(), Value::from(s.total));
            }
            out.push(Value::Object(e));
        }
    }
    out
}

/// `pool` entries for the pools guests belong to, when the caller may audit them.
fn pool_resources(c: &Cluster, id: &Identity) -> Vec<Value> {
    let pools: BTreeSet<&str> = c
        .guests
        .values()
        .filter_map(|g| g.pool.as_deref())
        .collect();
    pools
        .into_iter()
        .filter(|p| auth::allowed(id, &format!("/pool/{p}"), &["Pool.Audit"], c))
        .map(|p| {
            let mut e = Map::new();
            e.insert("id".into(), Value::String(format!("/pool/{p}")));
            e.insert("type".into(), Value::from("pool"));
            e.insert("pool".into(), Value::String(p.to_string()));
            Value::Object(e)
        })
        .collect()
}

/// `GET /cluster/nextid`: the lowest free VMID from 100, as a string (as PVE answers); with
/// `vmid`, that VMID if free, else 400 `VM N already exists`.
fn nextid(sim: &mut Sim, call: &Call) -> Result<Value, ApiError> {
    let c = &sim.cluster;
    if let Some(vmid) = call.int("vmid") {
        let taken = u32::try_from(vmid).is_ok_and(|v| c.guests.contains_key(&v));
        if taken {
            return Err(ApiError::param("vmid", format!("VM {vmid} already exists")));
        }
        return Ok(Value::String(vmid.to_string()));
    }
    let mut next: u32 = 100;
    for &vmid in c.guests.keys() {
        if vmid > next {
            break;
        }
        if vmid == next {
            next += 1;
        }
    }
    if next > 999_999_999 {
        return Err(ApiError::internal(
            "unable to get any free VMID in range [100, 999999999]",
        ));
    }
    Ok(Value::String(next.to_string()))
}

#[cfg(test)]
#[path = "resources_tests.rs"]
mod tests;
