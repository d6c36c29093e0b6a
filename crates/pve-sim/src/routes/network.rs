//! A node's network configuration, read-only: `GET /nodes/{node}/network` (filtered by
//! `type`) and `GET /nodes/{node}/network/{iface}`. Every node has two NICs, `vmbr0` (the
//! management bridge on the first, with the node's address) and `vmbr1`, a VLAN-aware bridge
//! on the second with no address of its own, as a typical install has.

use serde_json::{Map, Value, json};

use crate::Sim;
use crate::route::{ApiError, Call, Method, Perm, Route};
use crate::state::Node;

/// The routes of this module.
pub(super) fn routes() -> Vec<Route> {
    let audit = Perm::Node(&["Sys.Audit"]);
    vec![
        Route::new(Method::Get, "/nodes/{node}/network", audit, list),
        Route::new(Method::Get, "/nodes/{node}/network/{iface}", audit, read),
    ]
}

/// The node's interfaces, in PVE's order (by name).
pub(crate) fn interfaces(node: &Node) -> Vec<Map<String, Value>> {
    let ip = &node.ip;
    let gateway = ip
        .rsplit_once('.')
        .map_or_else(|| ip.clone(), |(net, _)| format!("{net}.1"));
    let out = [
        nic("eno1", true),
        nic("eno2", true),
        json!({
            "iface": "vmbr0",
            "type": "bridge",
            "method": "static",
            "method6": "manual",
            "families": ["inet"],
            "address": ip,
            "netmask": "24",
            "cidr": format!("{ip}/24"),
            "gateway": gateway,
            "bridge_ports": "eno1",
            "bridge_stp": "off",
            "bridge_fd": "0",
            "autostart": 1,
            "active": 1,
            "priority": 3,
            "comments": "management and guest network\n",
        }),
        json!({
            "iface": "vmbr1",
            "type": "bridge",
            "method": "manual",
            "method6": "manual",
            "families": ["inet"],
            "bridge_ports": "eno2",
            "bridge_stp": "off",
            "bridge_fd": "0",
            "bridge_vlan_aware": 1,
            "bridge_vids": "2-4094",
            "autostart": 1,
            "active": 1,
            "priority": 4,
            "comments": "VLAN trunk for guests\n",
        }),
    ];
    out.into_iter()
        .filter_map(|v| match v {
            Value::Object(m) => Some(m),
            _ => None,
        })
        .collect()
}

fn nic(name: &str, active: bool) -> Value {
    json!({
        "iface": name,
        "type": "eth",
        "method": "manual",
        "method6": "manual",
        "families": ["inet"],
        "exists": 1,
        "active": u8::from(active),
        "autostart": 1,
        "priority": if name == "eno1" { 1 } else { 2 },
    })
}

/// Which interfaces a `type` filter keeps (`any_bridge` also takes OVS bridges).
fn matches(kind: Option<&str>, iface_type: &str) -> bool {
    match kind {
        None => true,
        Some("any_bridge") => matches!(iface_type, "bridge" | "OVSBridge"),
        Some("any_local_bridge") => iface_type == "bridge",
        Some(k) => k == iface_type,
    }
}

fn list(sim: &mut Sim, call: &Call) -> Result<Value, ApiError> {
    let node = crate::routes::node_of(sim, call)?;
    let kind = call.str("type");
    Ok(Value::Array(
        interfaces(node)
            .into_iter()
            .filter(|i| matches(kind, i["type"].as_str().unwrap_or("")))
            .map(Value::Object)
            .collect(),
    ))
}

fn read(sim: &mut Sim, call: &Call) -> Result<Value, ApiError> {
    let node = crate::routes::node_of(sim, call)?;
    let name = call.req_str("iface")?;
    let mut iface = interfaces(node)
        .into_iter()
        .find(|i| i["iface"] == name)
        .ok_or_else(|| ApiError::internal(format!("interface '{name}' does not exist")))?;
    iface.remove("iface");
    Ok(Value::Object(iface))
}
