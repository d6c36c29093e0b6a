//! Network and firewall reads: a node's interfaces (`GET /nodes/{node}/network`) and the
//! firewall at its three levels (datacenter, node, guest): rules, options, aliases, IP sets
//! and the datacenter's security groups.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::guest::guest_path;
use crate::cache::GuestKind;
use crate::client::PveClient;
use crate::de;
use crate::error::Error;
use crate::params::{ApiPath, Params, node_path};

/// One interface of `GET /nodes/{node}/network`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct NetworkInterface {
    /// `eno1`, `vmbr0`, `bond0`, `vmbr0.20`.
    pub iface: String,
    /// `eth`, `bridge`, `bond`, `vlan`, `alias`, `OVSBridge`, ...
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(deserialize_with = "de::bool01")]
    pub active: bool,
    #[serde(deserialize_with = "de::bool01")]
    pub autostart: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cidr: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub netmask: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gateway: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cidr6: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gateway6: Option<String>,
    /// `static`, `manual`, `dhcp`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// A bridge's ports (`eno1 eno2`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bridge_ports: Option<String>,
    #[serde(deserialize_with = "de::bool01")]
    pub bridge_vlan_aware: bool,
    /// VLAN ids a VLAN-aware bridge carries (`2-4094`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bridge_vids: Option<String>,
    /// A bond's members.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slaves: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bond_mode: Option<String>,
    /// A VLAN interface's tag and the device under it.
    #[serde(
        rename = "vlan-id",
        deserialize_with = "de::opt_int",
        skip_serializing_if = "Option::is_none"
    )]
    pub vlan_id: Option<u32>,
    #[serde(rename = "vlan-raw-device", skip_serializing_if = "Option::is_none")]
    pub vlan_raw_device: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comments: Option<String>,
    /// Everything else (`families`, `priority`, `mtu`, `ovs_*`...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Which firewall: the datacenter's, a node's or a guest's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FirewallLevel {
    Cluster,
    Node(String),
    Guest {
        node: String,
        kind: GuestKind,
        vmid: u32,
    },
}

impl FirewallLevel {
    fn path(&self) -> ApiPath {
        match self {
            FirewallLevel::Cluster => ApiPath::new("/cluster/firewall"),
            FirewallLevel::Node(node) => node_path(node).lit("firewall"),
            FirewallLevel::Guest { node, kind, vmid } => {
                guest_path(node, *kind, *vmid).lit("firewall")
            }
        }
    }
}

/// One rule of a firewall ruleset (or of a security group).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FirewallRule {
    #[serde(deserialize_with = "de::int")]
    pub pos: u32,
    /// `in`, `out`, `forward` or `group`.
    #[serde(rename = "type")]
    pub kind: String,
    /// `ACCEPT`, `DROP`, `REJECT`, or the security group's name.
    pub action: String,
    #[serde(
        deserialize_with = "de::opt_int",
        skip_serializing_if = "Option::is_none"
    )]
    pub enable: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub r#macro: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proto: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dest: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sport: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dport: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iface: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log: Option<String>,
    #[serde(rename = "icmp-type", skip_serializing_if = "Option::is_none")]
    pub icmp_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

/// One alias (a named address or network).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FirewallAlias {
    pub name: String,
    pub cidr: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

/// One IP set of the list (`GET .../ipset`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FirewallIpSet {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

/// One entry of an IP set (`GET .../ipset/{name}`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct IpSetEntry {
    pub cidr: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// Excluded from the set.
    #[serde(deserialize_with = "de::bool01")]
    pub nomatch: bool,
}

/// One security group of the datacenter (`GET /cluster/firewall/groups`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SecurityGroup {
    pub group: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

impl PveClient {
    /// `GET /nodes/{node}/network[?type=..]`: the node's interfaces.
    pub async fn node_network(
        &self,
        node: &str,
        kind: Option<&str>,
    ) -> Result<Vec<NetworkInterface>, Error> {
        let path = node_path(node).lit("network");
        self.get(&path, Params::new().opt("type", kind)).await
    }

    /// `GET {level}/firewall/rules`.
    pub async fn firewall_rules(&self, level: &FirewallLevel) -> Result<Vec<FirewallRule>, Error> {
        self.get(&level.path().lit("rules"), Params::new()).await
    }

    /// `GET {level}/firewall/options` (keys as PVE writes them: `enable`, `policy_in`...).
    pub async fn firewall_options(
        &self,
        level: &FirewallLevel,
    ) -> Result<Map<String, Value>, Error> {
        self.get(&level.path().lit("options"), Params::new()).await
    }

    /// `GET {level}/firewall/aliases` (datacenter and guests; nodes have none).
    pub async fn firewall_aliases(
        &self,
        level: &FirewallLevel,
    ) -> Result<Vec<FirewallAlias>, Error> {
        self.get(&level.path().lit("aliases"), Params::new()).await
    }

    /// `GET {level}/firewall/ipset` (datacenter and guests).
    pub async fn firewall_ipsets(
        &self,
        level: &FirewallLevel,
    ) -> Result<Vec<FirewallIpSet>, Error> {
        self.get(&level.path().lit("ipset"), Params::new()).await
    }

    /// `GET {level}/firewall/ipset/{name}`: the set's entries.
    pub async fn firewall_ipset(
        &self,
        level: &FirewallLevel,
        name: &str,
    ) -> Result<Vec<IpSetEntry>, Error> {
        self.get(&level.path().lit("ipset").seg(name), Params::new())
            .await
    }

    /// `GET /cluster/firewall/groups`: the datacenter's security groups.
    pub async fn firewall_groups(&self) -> Result<Vec<SecurityGroup>, Error> {
        self.get(&ApiPath::new("/cluster/firewall/groups"), Params::new())
            .await
    }

    /// `GET /cluster/firewall/groups/{group}`: a security group's rules.
    pub async fn firewall_group_rules(&self, group: &str) -> Result<Vec<FirewallRule>, Error> {
        let path = ApiPath::new("/cluster/firewall/groups").seg(group);
        self.get(&path, Params::new()).await
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn interfaces_and_rules_parse() {
        let i: Vec<NetworkInterface> = serde_json::from_str(
            r#"[{"iface":"vmbr1","type":"bridge","active":1,"autostart":"1","bridge_ports":"eno2",
                "bridge_vlan_aware":1,"bridge_vids":"2-4094","priority":4},
               {"iface":"vmbr0.20","type":"vlan","vlan-id":"20","vlan-raw-device":"vmbr0"}]"#,
        )
        .unwrap();
        assert!(i[0].active && i[0].autostart && i[0].bridge_vlan_aware);
        assert_eq!(i[0].extra["priority"], 4);
        assert_eq!(
            (i[1].vlan_id, i[1].vlan_raw_device.as_deref()),
            (Some(20), Some("vmbr0"))
        );
        let r: Vec<FirewallRule> = serde_json::from_str(
            r#"[{"pos":0,"type":"in","action":"ACCEPT","macro":"SSH","enable":1,"icmp-type":"any"}]"#,
        )
        .unwrap();
        assert_eq!(r[0].r#macro.as_deref(), Some("SSH"));
        assert_eq!(r[0].icmp_type.as_deref(), Some("any"));
        assert_eq!(
            FirewallLevel::Guest {
                node: "pve1".into(),
                kind: GuestKind::Lxc,
                vmid: 200
            }
            .path()
            .as_str(),
            "/nodes/pve1/lxc/200/firewall"
        );
    }
}
