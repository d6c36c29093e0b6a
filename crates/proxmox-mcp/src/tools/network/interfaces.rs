//! `list_networks`: a node's interfaces and bridges (type, CIDR, gateway, ports, VLAN awareness,
//! active) from `GET /nodes/{node}/network`, and the guests of the node attached to each
//! bridge, read from their `netN` config (`bridge=`, `tag=`).

use futures_util::future::join_all;
use pve_client::GuestKind;
use pve_client::api::network::NetworkInterface;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::TOOLSET;
use crate::error::ToolError;
use crate::handler;
use crate::registry::{Access, ToolCtx, ToolDef, ToolSpec};
use crate::tools::common::is_false;

/// `list_networks`.
pub(crate) fn list_networks() -> ToolSpec {
    ToolSpec::new(
        ToolDef::new(
            TOOLSET,
            "list_networks",
            "List a node's networks",
            "A node's interfaces and bridges (CIDR, gateway, ports, VLAN-aware, active) and the guests on each bridge. Use it to pick the bridge for create_vm.",
            Access::Read,
            true,
        ),
        handler!(list_networks_handler),
    )
}

/// Parameters of `list_networks`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListNetworksParams {
    /// Node name.
    pub(crate) node: String,
}

/// A guest NIC on a bridge.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub(crate) struct BridgeGuest {
    pub(crate) vmid: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) name: Option<String>,
    /// `qemu` (VM) or `lxc` (container).
    pub(crate) kind: String,
    /// The config key of the NIC (`net0`).
    pub(crate) nic: String,
    /// The VLAN tag the NIC uses on the bridge.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) vlan: Option<u32>,
}

/// One interface.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct InterfaceLine {
    pub(crate) name: String,
    /// `eth`, `bridge`, `bond`, `vlan`, `OVSBridge`, ...
    #[serde(rename = "type")]
    pub(crate) kind: String,
    pub(crate) active: bool,
    /// IPv4 address with prefix.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) cidr: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) gateway: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) cidr6: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) gateway6: Option<String>,
    /// Bridge ports or bond members.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) ports: Vec<String>,
    /// A bridge that carries VLAN tags (guests set `tag=`).
    #[serde(skip_serializing_if = "is_false")]
    pub(crate) vlan_aware: bool,
    /// VLAN ids a VLAN-aware bridge carries.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) vlan_ids: Option<String>,
    /// A VLAN interface's tag.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) vlan: Option<u32>,
    /// The device under a VLAN interface.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) vlan_device: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) comment: Option<String>,
    /// Bridges: the guest NICs on it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) guests: Vec<BridgeGuest>,
}

/// Output of `list_networks`.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct ListNetworksOutput {
    pub(crate) node: String,
    pub(crate) interfaces: Vec<InterfaceLine>,
    /// Names of the bridges (what create_vm and containers take as `bridge`).
    pub(crate) bridges: Vec<String>,
    /// Guests whose config could not be read, with the reason.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) unreadable: Vec<String>,
}

/// `bridge=` and `tag=` of a `netN` value (`virtio=..,bridge=vmbr0,tag=20`).
pub(crate) fn nic_bridge(value: &str) -> Option<(String, Option<u32>)> {
    let mut bridge = None;
    let mut tag = None;
    for part in value.split(',') {
        match part.split_once('=') {
            Some(("bridge", b)) if !b.is_empty() => bridge = Some(b.to_string()),
            Some(("tag", t)) => tag = t.trim().parse().ok(),
            _ => {}
        }
    }
    bridge.map(|b| (b, tag))
}

fn words(text: Option<&str>) -> Vec<String> {
    text.unwrap_or("")
        .split_whitespace()
        .map(str::to_string)
        .collect()
}

fn line(i: NetworkInterface) -> InterfaceLine {
    let cidr = i.cidr.clone().or_else(|| match (&i.address, &i.netmask) {
        (Some(a), Some(m)) if !m.contains('.') => Some(format!("{a}/{m}")),
        (Some(a), _) => Some(a.clone()),
        _ => None,
    });
    let ports = if i.bridge_ports.is_some() {
        words(i.bridge_ports.as_deref())
    } else {
        words(i.slaves.as_deref())
    };
    InterfaceLine {
        name: i.iface,
        kind: i.kind,
        active: i.active,
        cidr,
        gateway: i.gateway,
        cidr6: i.cidr6,
        gateway6: i.gateway6,
        ports,
        vlan_aware: i.bridge_vlan_aware,
        vlan_ids: i.bridge_vids.filter(|_| i.bridge_vlan_aware),
        vlan: i.vlan_id,
        vlan_device: i.vlan_raw_device,
        comment: i
            .comments
            .map(|c| c.trim().to_string())
            .filter(|c| !c.is_empty()),
        guests: Vec::new(),
    }
}

async fn list_networks_handler(
    ctx: &ToolCtx,
    p: ListNetworksParams,
) -> Result<ListNetworksOutput, ToolError> {
    let node = p.node.trim().to_string();
    if node.is_empty() {
        return Err(ToolError::invalid("node", "must not be empty"));
    }
    let mut interfaces: Vec<InterfaceLine> = ctx
        .client
        .node_network(&node, None)
        .await?
        .into_iter()
        .map(line)
        .collect();
    interfaces.sort_by(|a, b| a.name.cmp(&b.name));
    let guests: Vec<(u32, Option<String>, GuestKind)> = ctx
        .client
        .list_guests()
        .await?
        .into_iter()
        .filter(|g| g.node.as_deref() == Some(node.as_str()))
        .filter_map(|g| Some((g.vmid?, g.name.clone(), g.guest_kind()?)))
        .collect();
    let configs = join_all(guests.iter().map(|(vmid, _, kind)| {
        let node = node.as_str();
        async move { ctx.client.guest_config(node, *kind, *vmid, None).await }
    }))
    .await;
    let mut unreadable = Vec::new();
    for ((vmid, name, kind), config) in guests.into_iter().zip(configs) {
        let config = match config {
            Ok(c) => c,
            Err(e) => {
                unreadable.push(format!("{} {vmid}: {e}", kind.noun()));
                continue;
            }
        };
        for (nic, value) in config.numbered("net") {
            let Some((bridge, vlan)) = nic_bridge(&value) else {
                continue;
            };
            if let Some(i) = interfaces.iter_mut().find(|i| i.name == bridge) {
                i.guests.push(BridgeGuest {
                    vmid,
                    name: name.clone(),
                    kind: kind.as_str().to_string(),
                    nic,
                    vlan,
                });
            }
        }
    }
    for i in &mut interfaces {
        i.guests
            .sort_by(|a, b| (a.vmid, &a.nic).cmp(&(b.vmid, &b.nic)));
    }
    let bridges = interfaces
        .iter()
        .filter(|i| matches!(i.kind.as_str(), "bridge" | "OVSBridge"))
        .map(|i| i.name.clone())
        .collect();
    Ok(ListNetworksOutput {
        node,
        interfaces,
        bridges,
        unreadable,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nic_bridge_reads_bridge_and_tag() {
        assert_eq!(
            nic_bridge("virtio=BC:24:11:00:00:01,bridge=vmbr1,tag=20,firewall=1"),
            Some(("vmbr1".to_string(), Some(20)))
        );
        assert_eq!(
            nic_bridge("name=eth0,bridge=vmbr0,ip=dhcp"),
            Some(("vmbr0".to_string(), None))
        );
        assert_eq!(nic_bridge("virtio=BC:24:11:00:00:01"), None);
    }
}
