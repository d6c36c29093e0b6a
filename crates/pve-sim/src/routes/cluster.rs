//! GET /cluster/status: one `cluster` entry (when clustered) and one `node` entry per node;
//! GET /cluster/config/qdevice: the cluster has no QDevice (an empty object, as PVE answers).

use serde_json::{Value, json};

use crate::Sim;
use crate::route::{ApiError, Call, Method, Perm, Route};

/// The routes of this module.
pub(super) fn routes() -> Vec<Route> {
    vec![
        Route::new(
            Method::Get,
            "/cluster/status",
            Perm::Root(&["Sys.Audit"]),
            status,
        ),
        Route::new(
            Method::Get,
            "/cluster/config/qdevice",
            Perm::Root(&["Sys.Audit"]),
            |_, _| Ok(json!({})),
        ),
    ]
}

/// The first node (by name) is the one answering (`local: 1`).
fn status(sim: &mut Sim, _call: &Call) -> Result<Value, ApiError> {
    let c = &sim.cluster;
    let mut out = Vec::with_capacity(c.nodes.len() + 1);
    let online = c.nodes.values().filter(|n| n.online).count();
    if let Some(name) = &c.name {
        out.push(json!({
            "type": "cluster",
            "id": "cluster",
            "name": name,
            "nodes": c.nodes.len(),
            "quorate": u8::from(online * 2 > c.nodes.len()),
            "version": c.config_version.max(1),
        }));
    }
    for (i, n) in c.nodes.values().enumerate() {
        out.push(json!({
            "type": "node",
            "id": format!("node/{}", n.name),
            "name": n.name,
            "nodeid": n.nodeid,
            "ip": n.ip,
            "level": "",
            "online": u8::from(n.online),
            "local": u8::from(i == 0),
        }));
    }
    Ok(Value::Array(out))
}
