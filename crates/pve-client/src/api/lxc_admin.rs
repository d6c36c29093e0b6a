//! Container addressing: `GET /nodes/{node}/lxc/{vmid}/interfaces`, the interfaces and
//! addresses PVE reads from a running container's network namespace (no agent needed).

use serde::{Deserialize, Serialize};

use super::agent::IpAddress;
use super::guest::guest_path;
use crate::cache::GuestKind;
use crate::client::PveClient;
use crate::error::Error;
use crate::params::Params;

/// One entry of `GET .../lxc/{vmid}/interfaces`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct LxcInterface {
    pub name: String,
    /// The MAC address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hwaddr: Option<String>,
    /// The IPv4 address with prefix (`10.0.0.5/24`), when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inet: Option<String>,
    /// The IPv6 address with prefix, when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inet6: Option<String>,
    /// Every address; `ip-address-type` is `inet` or `inet6` here.
    #[serde(rename = "ip-addresses")]
    pub ip_addresses: Vec<IpAddress>,
}

impl LxcInterface {
    /// Every address as `(address, prefix, is_ipv6)`: from `ip-addresses`, or from `inet` and
    /// `inet6` when a PVE release does not list them.
    pub fn addresses(&self) -> Vec<(String, u8, bool)> {
        if !self.ip_addresses.is_empty() {
            return self
                .ip_addresses
                .iter()
                .map(|a| {
                    let v6 = matches!(a.ip_address_type.as_str(), "inet6" | "ipv6")
                        || a.ip_address.contains(':');
                    (a.ip_address.clone(), a.prefix, v6)
                })
                .collect();
        }
        let mut out = Vec::new();
        for (text, v6) in [(&self.inet, false), (&self.inet6, true)] {
            for cidr in text.iter().flat_map(|t| t.split_whitespace()) {
                let (addr, prefix) = cidr.split_once('/').unwrap_or((cidr, ""));
                let prefix = prefix.parse().unwrap_or(if v6 { 128 } else { 32 });
                out.push((addr.to_string(), prefix, v6));
            }
        }
        out
    }
}

impl PveClient {
    /// `GET /nodes/{node}/lxc/{vmid}/interfaces`: a running container's interfaces.
    pub async fn lxc_interfaces(&self, node: &str, vmid: u32) -> Result<Vec<LxcInterface>, Error> {
        let path = guest_path(node, GuestKind::Lxc, vmid).lit("interfaces");
        self.get(&path, Params::new()).await
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn addresses_come_from_the_list_or_from_inet() {
        let listed: LxcInterface = serde_json::from_str(
            r#"{"name": "eth0", "hwaddr": "bc:24:11:00:00:01", "inet": "10.0.0.5/24",
                "ip-addresses": [{"ip-address": "10.0.0.5", "ip-address-type": "inet", "prefix": 24},
                                 {"ip-address": "fe80::1", "ip-address-type": "inet6", "prefix": "64"}]}"#,
        )
        .unwrap();
        assert_eq!(
            listed.addresses(),
            [
                ("10.0.0.5".to_string(), 24, false),
                ("fe80::1".to_string(), 64, true)
            ]
        );
        let bare: LxcInterface = serde_json::from_str(
            r#"{"name": "eth0", "inet": "10.0.0.5/24", "inet6": "fd00::5/64"}"#,
        )
        .unwrap();
        assert_eq!(
            bare.addresses(),
            [
                ("10.0.0.5".to_string(), 24, false),
                ("fd00::5".to_string(), 64, true)
            ]
        );
    }
}
