//! `update_container_config`: change a container's network (merged into each `netN`, keeping
//! its MAC), DNS, features, start at boot, description and tags. The update carries the
//! digest of the config it was computed from (or the caller's), so PVE refuses it when
//! someone changed the config in between.

use std::collections::BTreeMap;
use std::net::IpAddr;

use pve_client::GuestKind;
use pve_client::api::guest::GuestConfig;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::cloud_init::{Changes, Words};
use super::{TOOLSET, Tags, digest_error};
use crate::error::ToolError;
use crate::handler;
use crate::registry::lenient;
use crate::registry::{Access, ToolCtx, ToolDef, ToolSpec};
use crate::tools::common::{guest_error, guest_node, split_tags};
use crate::tools::provisioning::is_dns_name;

const KIND: GuestKind = GuestKind::Lxc;

/// `update_container_config`.
pub(crate) fn update_container_config() -> ToolSpec {
    ToolSpec::new(
        ToolDef {
            name: "update_container_config",
            title: "Change container config",
            description: "Change a container's network, DNS, features, start at boot, notes or tags (empty removes). Use update_container_resources for CPU and memory.",
            toolset: TOOLSET,
            access: Access::Write,
            idempotent: true,
        },
        handler!(update_container_config_handler),
    )
}

// Changes to one network interface; what is not given stays as it is (no doc comment: it
// would cost tokens in every tool list).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct NicChange {
    /// NIC number (0: net0); a new one is added.
    #[serde(deserialize_with = "lenient::int")]
    #[schemars(range(max = 31))]
    pub(crate) nic: u32,
    /// Bridge (new NIC: vmbr0).
    #[serde(default)]
    pub(crate) bridge: Option<String>,
    /// IPv4: dhcp, manual or 10.0.0.5/24.
    #[serde(default)]
    pub(crate) ip: Option<String>,
    /// IPv4 gateway.
    #[serde(default)]
    pub(crate) gateway: Option<String>,
    /// IPv6: dhcp, auto, manual or fd00::5/64.
    #[serde(default)]
    pub(crate) ip6: Option<String>,
    /// IPv6 gateway.
    #[serde(default)]
    pub(crate) gateway6: Option<String>,
    /// VLAN tag; 0 removes it.
    #[serde(default, deserialize_with = "lenient::opt_int")]
    #[schemars(range(max = 4094))]
    pub(crate) vlan: Option<u32>,
    /// PVE firewall on it.
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    pub(crate) firewall: Option<bool>,
    /// Remove this NIC.
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    pub(crate) remove: Option<bool>,
}

// Container features to turn on (true) or off (false); others stay.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct Features {
    /// Nested containers, Docker.
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    pub(crate) nesting: Option<bool>,
    /// keyctl() (Docker, unprivileged).
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    pub(crate) keyctl: Option<bool>,
    /// FUSE mounts.
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    pub(crate) fuse: Option<bool>,
}

/// Parameters of `update_container_config`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct UpdateCtParams {
    /// VMID.
    #[serde(deserialize_with = "lenient::int")]
    pub(crate) vmid: u32,
    /// Accepted but not shown in the schema: found from the VMID when absent.
    #[serde(default)]
    #[schemars(skip)]
    pub(crate) node: Option<String>,
    /// NIC changes.
    #[serde(default)]
    pub(crate) network: Option<Vec<NicChange>>,
    /// DNS servers; empty: the host's.
    #[serde(default)]
    pub(crate) nameserver: Option<Words>,
    /// DNS search domains; empty: the host's.
    #[serde(default)]
    pub(crate) searchdomain: Option<Words>,
    /// Features on (true) or off.
    #[serde(default)]
    pub(crate) features: Option<Features>,
    /// Start at node boot.
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    pub(crate) onboot: Option<bool>,
    /// Notes; an empty string removes them.
    #[serde(default)]
    pub(crate) description: Option<String>,
    /// Tags replacing the current ones: a list (or "a;b").
    #[serde(default)]
    pub(crate) tags: Option<Tags>,
    /// Digest from get_container_config: refused if changed since.
    #[serde(default)]
    pub(crate) digest: Option<String>,
}

/// Output of `update_container_config`.
#[derive(Debug, Serialize, JsonSchema)]
pub(super) struct UpdateCtOutput {
    pub(crate) vmid: u32,
    pub(crate) node: String,
    /// Config keys changed or removed (`net0`, `nameserver`, `features`, `onboot`...).
    pub(crate) changed: Vec<String>,
    /// The new digest of the config.
    pub(crate) digest: String,
    /// Settings after the change, read back from the config: `netN` values by key.
    pub(crate) network: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) nameserver: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) searchdomain: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) features: Option<String>,
    pub(crate) onboot: bool,
    pub(crate) tags: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) description: Option<String>,
}

async fn update_container_config_handler(
    ctx: &ToolCtx,
    p: UpdateCtParams,
) -> Result<UpdateCtOutput, ToolError> {
    let vmid = p.vmid;
    check_static(&p)?;
    let node = guest_node(ctx, vmid, p.node.clone(), KIND).await?;
    let before = ctx
        .client
        .lxc_config(&node, vmid, None, None)
        .await
        .map_err(|e| guest_error(e, vmid, KIND))?;
    let (changes, changed) = ct_changes(&p, &before)?;
    let digest = p
        .digest
        .as_deref()
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map(str::to_string)
        .or_else(|| before.digest());
    ctx.client
        .lxc_set_config(&node, vmid, changes.opt("digest", digest.as_deref()))
        .await
        .map_err(|e| {
            if e.message().contains("detected modified configuration") {
                digest_error(e, vmid)
            } else {
                guest_error(e, vmid, KIND)
            }
        })?;
    let config = ctx
        .client
        .lxc_config(&node, vmid, None, None)
        .await
        .map_err(|e| guest_error(e, vmid, KIND))?;
    Ok(UpdateCtOutput {
        vmid,
        node,
        changed,
        digest: config.digest().unwrap_or_default(),
        network: config.numbered("net").into_iter().collect(),
        nameserver: config.get_str("nameserver"),
        searchdomain: config.get_str("searchdomain"),
        features: config.get_str("features"),
        onboot: config.flag("onboot"),
        tags: split_tags(config.get_str("tags").as_deref()),
        description: config.get_str("description"),
    })
}

/// Checks what needs no config: an empty request, NIC numbers, DNS values.
fn check_static(p: &UpdateCtParams) -> Result<(), ToolError> {
    let nothing = p.network.as_ref().is_none_or(Vec::is_empty)
        && p.nameserver.is_none()
        && p.searchdomain.is_none()
        && p.features.is_none()
        && p.onboot.is_none()
        && p.description.is_none()
        && p.tags.is_none();
    if nothing {
        return Err(ToolError::InvalidParams {
            param: None,
            message: "nothing to change: give at least one of network, nameserver, \
                      searchdomain, features, onboot, description, tags"
                .into(),
        });
    }
    let mut seen = Vec::new();
    for n in p.network.iter().flatten() {
        if n.nic > 31 {
            return Err(ToolError::invalid("network", "nic must be 0 to 31"));
        }
        if seen.contains(&n.nic) {
            return Err(ToolError::invalid(
                "network",
                format!("NIC {} is given twice", n.nic),
            ));
        }
        seen.push(n.nic);
    }
    Ok(())
}

/// The PVE parameters of an update, merged into the current config `cur`.
fn ct_changes(
    p: &UpdateCtParams,
    cur: &GuestConfig,
) -> Result<(pve_client::Params, Vec<String>), ToolError> {
    let mut c = Changes::default();
    for n in p.network.iter().flatten() {
        let key = format!("net{}", n.nic);
        let value = merge_nic(cur.get_str(&key).as_deref(), n)?;
        c.put(&key, &value);
    }
    if let Some(ns) = &p.nameserver {
        let list = ns.to_list();
        if let Some(bad) = list.iter().find(|a| a.parse::<IpAddr>().is_err()) {
            return Err(ToolError::invalid(
                "nameserver",
                format!("`{bad}` is not an IP address"),
            ));
        }
        c.put("nameserver", &list.join(" "));
    }
    if let Some(sd) = &p.searchdomain {
        let list = sd.to_list();
        if let Some(bad) = list.iter().find(|d| !is_dns_name(d)) {
            return Err(ToolError::invalid(
                "searchdomain",
                format!("`{bad}` is not a DNS name"),
            ));
        }
        c.put("searchdomain", &list.join(" "));
    }
    if let Some(f) = &p.features {
        c.put(
            "features",
            &merge_features(cur.get_str("features").as_deref(), f),
        );
    }
    if let Some(b) = p.onboot {
        c.put("onboot", if b { "1" } else { "0" });
    }
    if let Some(d) = &p.description {
        c.put("description", d);
    }
    if let Some(t) = &p.tags {
        c.put("tags", &t.to_list().join(";"));
    }
    if c.is_empty() {
        return Err(ToolError::InvalidParams {
            param: None,
            message: "nothing to change".into(),
        });
    }
    Ok(c.finish())
}

/// `key=value,...` as ordered pairs.
fn props(s: &str) -> Vec<(String, String)> {
    s.split(',')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (k.to_string(), v.to_string()),
            None => (p.to_string(), String::new()),
        })
        .collect()
}

fn set_prop(list: &mut Vec<(String, String)>, key: &str, value: Option<String>) {
    match (list.iter().position(|(k, _)| k == key), value) {
        (Some(i), Some(v)) => list[i].1 = v,
        (None, Some(v)) => list.push((key.to_string(), v)),
        (Some(i), None) => {
            list.remove(i);
        }
        (None, None) => {}
    }
}

fn get_prop<'a>(list: &'a [(String, String)], key: &str) -> Option<&'a str> {
    list.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

fn is_cidr(s: &str, v6: bool) -> bool {
    s.split_once('/').is_some_and(|(a, p)| {
        a.parse::<IpAddr>().is_ok_and(|a| a.is_ipv6() == v6)
            && p.parse::<u8>()
                .is_ok_and(|p| p <= if v6 { 128 } else { 32 })
    })
}

/// The new `netN` value: `n` merged into `cur` (kept: MAC and what is not given); empty when
/// the NIC is removed.
fn merge_nic(cur: Option<&str>, n: &NicChange) -> Result<String, ToolError> {
    let bad = |m: String| ToolError::invalid("network", format!("NIC {}: {m}", n.nic));
    if n.remove == Some(true) {
        if cur.is_none() {
            return Err(bad(format!("net{} does not exist", n.nic)));
        }
        return Ok(String::new());
    }
    let mut list = match cur {
        Some(c) => props(c),
        None => vec![
            ("name".to_string(), format!("eth{}", n.nic)),
            ("bridge".to_string(), "vmbr0".to_string()),
        ],
    };
    let trim = |s: &Option<String>| s.as_deref().map(str::trim).map(str::to_string);
    if let Some(bridge) = trim(&n.bridge) {
        if bridge.is_empty() || bridge.contains([',', '=', ' ']) {
            return Err(bad(format!("`{bridge}` is not a bridge name")));
        }
        set_prop(&mut list, "bridge", Some(bridge));
    }
    for (ip, gw, v6, ip_key, gw_key, words) in [
        (
            &n.ip,
            &n.gateway,
            false,
            "ip",
            "gw",
            &["dhcp", "manual"][..],
        ),
        (
            &n.ip6,
            &n.gateway6,
            true,
            "ip6",
            "gw6",
            &["dhcp", "auto", "manual"][..],
        ),
    ] {
        if let Some(ip) = trim(ip) {
            let word = ip.to_ascii_lowercase();
            if words.contains(&word.as_str()) {
                set_prop(&mut list, ip_key, Some(word));
                set_prop(&mut list, gw_key, None);
            } else if is_cidr(&ip, v6) {
                set_prop(&mut list, ip_key, Some(ip));
            } else {
                return Err(bad(format!(
                    "`{ip}` is neither {} nor an address with prefix",
                    words.join(", ")
                )));
            }
        }
        if let Some(g) = trim(gw) {
            if !g.parse::<IpAddr>().is_ok_and(|a| a.is_ipv6() == v6) {
                return Err(bad(format!("`{g}` is not a gateway address")));
            }
            if !get_prop(&list, ip_key).is_some_and(|ip| is_cidr(ip, v6)) {
                return Err(bad(format!("a gateway needs a static {ip_key}")));
            }
            set_prop(&mut list, gw_key, Some(g));
        }
    }
    match n.vlan {
        Some(0) => set_prop(&mut list, "tag", None),
        Some(t) if t <= 4094 => set_prop(&mut list, "tag", Some(t.to_string())),
        Some(_) => return Err(bad("vlan must be 1 to 4094 (0 removes it)".into())),
        None => {}
    }
    if let Some(f) = n.firewall {
        set_prop(&mut list, "firewall", Some(u8::from(f).to_string()));
    }
    Ok(list
        .into_iter()
        .map(|(k, v)| if v.is_empty() { k } else { format!("{k}={v}") })
        .collect::<Vec<_>>()
        .join(","))
}

/// The new `features` value: the flags of `f` turned on or off in `cur` (empty: none left).
fn merge_features(cur: Option<&str>, f: &Features) -> String {
    let mut list = props(cur.unwrap_or(""));
    for (key, on) in [
        ("nesting", f.nesting),
        ("keyctl", f.keyctl),
        ("fuse", f.fuse),
    ] {
        match on {
            Some(true) => set_prop(&mut list, key, Some("1".into())),
            Some(false) => set_prop(&mut list, key, None),
            None => {}
        }
    }
    list.into_iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    fn nic(v: serde_json::Value) -> NicChange {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn a_nic_change_keeps_the_mac_and_what_is_not_given() {
        let cur = "name=eth0,bridge=vmbr0,hwaddr=BC:24:11:00:00:01,ip=dhcp,type=veth";
        let out = merge_nic(
            Some(cur),
            &nic(
                json!({"nic": 0, "ip": "10.0.0.5/24", "gateway": "10.0.0.1", "vlan": 20,
                        "firewall": true}),
            ),
        )
        .unwrap();
        assert_eq!(
            out,
            "name=eth0,bridge=vmbr0,hwaddr=BC:24:11:00:00:01,ip=10.0.0.5/24,type=veth,\
             gw=10.0.0.1,tag=20,firewall=1"
        );
        let back = merge_nic(Some(&out), &nic(json!({"nic": 0, "ip": "DHCP", "vlan": 0}))).unwrap();
        assert_eq!(
            back,
            "name=eth0,bridge=vmbr0,hwaddr=BC:24:11:00:00:01,ip=dhcp,type=veth,firewall=1"
        );
        let new = merge_nic(
            None,
            &nic(json!({"nic": 1, "bridge": "vmbr1", "ip6": "auto"})),
        )
        .unwrap();
        assert_eq!(new, "name=eth1,bridge=vmbr1,ip6=auto");
        for bad in [
            json!({"nic": 0, "ip": "10.0.0.5"}),
            json!({"nic": 0, "gateway": "10.0.0.1"}),
            json!({"nic": 0, "ip6": "10.0.0.5/24"}),
            json!({"nic": 0, "vlan": 5000}),
            json!({"nic": 0, "bridge": "a,b"}),
        ] {
            let e =
                merge_nic(Some("name=eth0,bridge=vmbr0,ip=dhcp"), &nic(bad.clone())).unwrap_err();
            assert!(e.to_string().contains("`network`"), "{bad}: {e}");
        }
        assert!(merge_nic(None, &nic(json!({"nic": 3, "remove": true}))).is_err());
        assert_eq!(
            merge_nic(Some(cur), &nic(json!({"nic": 0, "remove": true}))).unwrap(),
            ""
        );
    }

    #[test]
    fn features_are_merged() {
        let f: Features =
            serde_json::from_value(json!({"keyctl": true, "nesting": false})).unwrap();
        assert_eq!(
            merge_features(Some("nesting=1,mount=nfs"), &f),
            "mount=nfs,keyctl=1"
        );
        let off: Features = serde_json::from_value(json!({"nesting": false})).unwrap();
        assert_eq!(merge_features(Some("nesting=1"), &off), "");
    }
}
