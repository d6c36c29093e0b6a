//! High availability, read-only: `GET /cluster/ha` (index), `/cluster/ha/status/current` (quorum,
//! manager, one LRM per node, one entry per service), `/status/manager_status`, the HA
//! resources (the guests with an HA state) and the rules (PVE 9's `node-affinity` and
//! `resource-affinity` rules, which replace groups).

use serde_json::{Map, Value, json};

use crate::Sim;
use crate::guest;
use crate::route::{ApiError, Call, Method, Perm, Route};
use crate::state::{Cluster, Guest, GuestKind};

/// The routes of this module.
pub(super) fn routes() -> Vec<Route> {
    use Method::Get;
    let r = Route::new;
    let audit = Perm::Root(&["Sys.Audit"]);
    vec![
        r(Get, "/cluster/ha", audit, |_, _| {
            Ok(json!([{"id": "resources"}, {"id": "groups"}, {"id": "rules"}, {"id": "status"}]))
        }),
        r(Get, "/cluster/ha/status", Perm::All, |_, _| {
            Ok(json!([{"name": "current"}, {"name": "manager_status"}]))
        }),
        r(Get, "/cluster/ha/status/current", audit, current),
        r(
            Get,
            "/cluster/ha/status/manager_status",
            audit,
            manager_status,
        ),
        r(Get, "/cluster/ha/resources", audit, resources),
        r(Get, "/cluster/ha/resources/{sid}", audit, resource),
        r(Get, "/cluster/ha/rules", audit, rules),
        r(Get, "/cluster/ha/rules/{rule}", audit, rule),
    ]
}

/// `vm:100` / `ct:200`.
fn sid(g: &Guest) -> String {
    let t = if g.kind == GuestKind::Qemu {
        "vm"
    } else {
        "ct"
    };
    format!("{t}:{}", g.vmid)
}

fn managed(c: &Cluster) -> impl Iterator<Item = &Guest> {
    c.guests.values().filter(|g| g.hastate.is_some())
}

/// The manager runs on the first online node.
fn master(c: &Cluster) -> Option<&str> {
    c.nodes.values().find(|n| n.online).map(|n| n.name.as_str())
}

fn stamp(now: f64) -> String {
    let t = now as i64;
    let (y, m, d) = crate::clock::civil_from_days(t.div_euclid(86_400));
    let s = t.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        s / 3600,
        s % 3600 / 60,
        s % 60
    )
}

fn current(sim: &mut Sim, _: &Call) -> Result<Value, ApiError> {
    let c = &sim.cluster;
    let now = sim.now as i64;
    let Some(master) = master(c) else {
        return Ok(
            json!([{"id": "quorum", "type": "quorum", "node": "", "status": "No quorum", "quorate": 0}]),
        );
    };
    let any = managed(c).next().is_some();
    let mut out = vec![
        json!({"id": "quorum", "type": "quorum", "node": master, "status": "OK", "quorate": 1}),
        json!({
            "id": "master",
            "type": "master",
            "node": master,
            "status": format!("{master} (active, {})", stamp(sim.now)),
            "timestamp": now,
        }),
    ];
    for n in c.nodes.values() {
        let busy = managed(c).any(|g| g.node == n.name);
        let state = match (n.online, busy || any) {
            (false, _) => "old timestamp - dead?",
            (true, true) => "active",
            (true, false) => "idle",
        };
        out.push(json!({
            "id": format!("lrm:{}", n.name),
            "type": "lrm",
            "node": n.name,
            "status": format!("{} ({state}, {})", n.name, stamp(sim.now)),
            "timestamp": now,
        }));
    }
    for g in managed(c) {
        let state = g.hastate.clone().unwrap_or_default();
        let running = g.status == crate::state::PowerState::Running;
        // The CRM's own states (a resource that failed, or is being fenced or recovered)
        // show as they are; otherwise the state follows the guest.
        let crm = match state.as_str() {
            s @ ("error" | "fence" | "recovery" | "freeze") => s,
            _ if running => "started",
            _ => "stopped",
        };
        out.push(json!({
            "id": format!("service:{}", sid(g)),
            "type": "service",
            "sid": sid(g),
            "node": g.node,
            "state": crm,
            "request_state": state,
            "crm_state": crm,
            "status": crm,
            "max_restart": 1,
            "max_relocate": 1,
            "failback": 1,
        }));
    }
    Ok(Value::Array(out))
}

fn manager_status(sim: &mut Sim, _: &Call) -> Result<Value, ApiError> {
    let c = &sim.cluster;
    let now = sim.now as i64;
    let master = master(c).unwrap_or_default();
    let node_status: Map<String, Value> = c
        .nodes
        .values()
        .map(|n| {
            (
                n.name.clone(),
                json!(if n.online { "online" } else { "unknown" }),
            )
        })
        .collect();
    let service_status: Map<String, Value> = managed(c)
        .map(|g| {
            (
                sid(g),
                json!({
                    "node": g.node,
                    "state": g.hastate,
                    "uid": guest::new_uuid(&sid(g))[..22].replace('-', ""),
                    "running": u8::from(g.status == crate::state::PowerState::Running),
                }),
            )
        })
        .collect();
    let lrm: Map<String, Value> = c
        .nodes
        .values()
        .filter(|n| n.online)
        .map(|n| {
            (
                n.name.clone(),
                json!({"mode": "active", "state": "active", "results": {}, "timestamp": now}),
            )
        })
        .collect();
    Ok(json!({
        "manager_status": {
            "master_node": master,
            "node_status": node_status,
            "service_status": service_status,
            "timestamp": now,
        },
        "lrm_status": lrm,
        "quorum": {"node": master, "quorate": "1"},
    }))
}

fn resource_entry(g: &Guest) -> Value {
    let sid = sid(g);
    json!({
        "sid": sid,
        "type": if g.kind == GuestKind::Qemu { "vm" } else { "ct" },
        "state": g.hastate,
        "max_restart": 1,
        "max_relocate": 1,
        "failback": 1,
        "digest": crate::routes::digest(&format!("ha:{sid}:{:?}", g.hastate)),
    })
}

fn resources(sim: &mut Sim, call: &Call) -> Result<Value, ApiError> {
    let kind = call.str("type");
    Ok(Value::Array(
        managed(&sim.cluster)
            .filter(|g| match kind {
                Some("vm") => g.kind == GuestKind::Qemu,
                Some("ct") => g.kind == GuestKind::Lxc,
                _ => true,
            })
            .map(resource_entry)
            .collect(),
    ))
}

fn resource(sim: &mut Sim, call: &Call) -> Result<Value, ApiError> {
    let sid = call.req_str("sid")?;
    let vmid: u32 = sid
        .rsplit(':')
        .next()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    managed(&sim.cluster)
        .find(|g| g.vmid == vmid)
        .map(resource_entry)
        .ok_or_else(|| ApiError::internal(format!("no such resource '{sid}'")))
}

fn rule_entry(id: &str, r: &std::collections::BTreeMap<String, Value>) -> Value {
    let mut e: Map<String, Value> = r.clone().into_iter().collect();
    e.insert("rule".into(), json!(id));
    e.insert(
        "digest".into(),
        json!(crate::routes::digest(&format!("rule:{id}:{r:?}"))),
    );
    Value::Object(e)
}

fn rules(sim: &mut Sim, call: &Call) -> Result<Value, ApiError> {
    let kind = call.str("type");
    let resource = call.str("resource");
    Ok(Value::Array(
        sim.cluster
            .ha_rules
            .iter()
            .filter(|(_, r)| kind.is_none_or(|k| r.get("type").and_then(Value::as_str) == Some(k)))
            .filter(|(_, r)| {
                resource.is_none_or(|res| {
                    r.get("resources")
                        .and_then(Value::as_str)
                        .is_some_and(|l| l.split(',').any(|x| x == res))
                })
            })
            .map(|(id, r)| rule_entry(id, r))
            .collect(),
    ))
}

fn rule(sim: &mut Sim, call: &Call) -> Result<Value, ApiError> {
    let id = call.req_str("rule")?;
    sim.cluster
        .ha_rules
        .get(id)
        .map(|r| rule_entry(id, r))
        .ok_or_else(|| ApiError::internal(format!("HA rule '{id}' does not exist")))
}
