//! `GET /cluster/resources` (guests, nodes, storages and pools in one list, filtered by `type`
//! and by what the caller may audit) and `GET /cluster/nextid`.
//!
//! `/cluster/resources` is on the hot path (10,000 guests well under 20 ms): figures come from
//! `metrics` in one pass, node figures from one sum over the guests, storage use from one pass
//! over the volumes, and no guest config is cloned.

use serde_json::{Map, Value};

use crate::Sim;
use crate::auth;
use crate::facts::Facts;
use crate::json::{self, ObjWriter};
use crate::metrics;
use crate::route::{ApiError, Call, Identity, Method, Perm, Role, Route};
use crate::state::{Cluster, Guest, GuestKind, PowerState, SimTime};

use super::nodes::{node_entry, round4};

/// The routes of this module.
pub(crate) fn routes() -> Vec<Route> {
    vec![
        Route::new(Method::Get, "/cluster/resources", Perm::All, resources),
        Route::new(Method::Get, "/cluster/nextid", Perm::All, nextid),
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
    // One pass over the guests: their entries, and the running ones summed per node (nodes by
    // their position in `c.nodes`, as the facts cache records it).
    let (want_vm, want_node) = (want("vm"), want("node"));
    let all = sees_everything(id);
    let online: Vec<bool> = c.nodes.values().map(|n| n.online).collect();
    let mut sums: Vec<metrics::GuestSum> = vec![metrics::GuestSum::default(); online.len()];
    let facts = facts.get(c, tasks_ended);
    if want_vm || want_node {
        let clock = metrics::Phases::at(now);
        for (g, of) in c.guests.values().zip(&facts.guests) {
            let f = of.facts();
            let on = online.get(of.node).copied().unwrap_or(false);
            let u = if on {
                metrics::guest_usage_at(g, &f, &clock)
            } else {
                metrics::GuestUsage::default()
            };
            if want_node
                && on
                && g.status == PowerState::Running
                && let Some(sum) = sums.get_mut(of.node)
            {
                sum.add(&f, &u);
            }
            if want_vm && (all || auth::allowed(id, &format!("/vms/{}", g.vmid), &["VM.Audit"], c))
            {
                next(&mut out);
                out.push_str(&of.head);
                write_live(&mut out, g, &u, f.maxmem, on, now);
                out.push_str(&of.tail);
            }
        }
    }
    let mut others: Vec<Value> = Vec::new();
    if want_node {
        for (n, sum) in c.nodes.values().zip(&sums) {
            let audit = auth::allowed(id, &format!("/nodes/{}", n.name), &["Sys.Audit"], c);
            let sum = *sum;
            let usage = metrics::node_usage_from(n, sum, now);
            let mut e = node_entry(n, Some(&usage).filter(|_| audit));
            if n.online && audit {
                e.insert("cgroup-mode".into(), Value::from(2));
            }
            others.push(Value::Object(e));
        }
    }
    if want("storage") {
        others.extend(storage_resources(c, facts, id));
    }
    if filter.is_none() {
        others.extend(pool_resources(c, facts, id));
    }
    for v in &others {
        next(&mut out);
        json::push_value(&mut out, v);
    }
    out.push(']');
    sim.respond_raw(out);
    Ok(Value::Null)
}

/// Admins and auditors audit every guest: no per-guest ACL lookup needed.
fn sees_everything(id: &Identity) -> bool {
    matches!(id.role, Role::Admin | Role::Auditor)
}

/// The members of a guest's entry that only a write can change, as JSON text: the head
/// (`{"id":...,"maxdisk":N`, the object left open for the live members) and the tail (the
/// optional members, each with its leading comma, and the closing brace). Kept per guest by
/// `facts::FactsCache`.
pub(crate) fn static_json(g: &Guest, f: &metrics::GuestFacts<'_>) -> (String, String) {
    let kind = g.kind.as_str();
    let mut head = String::with_capacity(160);
    let mut o = ObjWriter::begin(&mut head);
    o.str("id", &format!("{kind}/{}", g.vmid))
        .str("type", kind)
        .str("node", &g.node)
        .u64("vmid", u64::from(g.vmid));
    match f.name {
        Some(n) => o.str("name", n),
        None => o.str("name", &g.name()),
    };
    o.u64("template", u64::from(f.template))
        .u64("maxcpu", f.cpus)
        .u64("maxmem", f.maxmem)
        .u64("maxdisk", f.maxdisk);
    o.leave_open();
    let mut tail = String::new();
    let mut t = ObjWriter::continued(&mut tail);
    if let Some(v) = f.tags {
        t.str("tags", v);
    }
    if let Some(v) = f.lock {
        t.str("lock", v);
    }
    if let Some(v) = &g.pool {
        t.str("pool", v);
    }
    if let Some(v) = &g.hastate {
        t.str("hastate", v);
    }
    t.end();
    (head, tail)
}

/// The live members of a guest's entry, between [`static_json`]'s head and tail. Keys are
/// written as literals: this runs 10,000 times per request on a big cluster.
fn write_live(
    out: &mut String,
    g: &Guest,
    u: &metrics::GuestUsage,
    maxmem: u64,
    online: bool,
    now: SimTime,
) {
    out.push_str(",\"status\":\"");
    out.push_str(if online { g.status.as_str() } else { "unknown" });
    out.push_str("\",\"cpu\":");
    json::push_fixed4(out, round4(u.cpu));
    out.push_str(",\"mem\":");
    json::push_u64(out, u.mem);
    if g.kind == GuestKind::Qemu {
        out.push_str(",\"memhost\":");
        json::push_u64(out, if u.mem > 0 { u.mem + (maxmem >> 6) } else { 0 });
    }
    out.push_str(",\"disk\":");
    json::push_u64(out, u.disk);
    out.push_str(",\"uptime\":");
    json::push_u64(out, if online { g.uptime(now) } else { 0 });
    out.push_str(",\"netin\":");
    json::push_u64(out, u.netin);
    out.push_str(",\"netout\":");
    json::push_u64(out, u.netout);
    out.push_str(",\"diskread\":");
    json::push_u64(out, u.diskread);
    out.push_str(",\"diskwrite\":");
    json::push_u64(out, u.diskwrite);
}

/// One entry per (node, storage available there) the caller may audit.
fn storage_resources(c: &Cluster, facts: &Facts, id: &Identity) -> Vec<Value> {
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
                let u = facts.storage_use(&s.id, &n.name, s.shared);
                e.insert("disk".into(), Value::from(u.min(s.total)));
                e.insert("maxdisk".into(), Value::from(s.total));
            }
            out.push(Value::Object(e));
        }
    }
    out
}

/// `pool` entries for the pools guests belong to, when the caller may audit them.
fn pool_resources(c: &Cluster, facts: &Facts, id: &Identity) -> Vec<Value> {
    facts
        .pools
        .iter()
        .filter(|p| auth::allowed(id, &format!("/pool/{p}"), &["Pool.Audit"], c))
        .map(|p| {
            let mut e = Map::new();
            e.insert("id".into(), Value::String(format!("/pool/{p}")));
            e.insert("type".into(), Value::from("pool"));
            e.insert("pool".into(), Value::String(p.clone()));
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
mod tests;
