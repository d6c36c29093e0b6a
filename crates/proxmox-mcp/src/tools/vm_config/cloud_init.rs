//! `update_cloud_init`: change an existing VM's cloud-init user, password, SSH keys, IP
//! settings and DNS (PVE's `digest` catches concurrent edits), then regenerate its cloud-init
//! drive. The password is never shown back: the answer says only whether one is set, and the
//! guard masks it (`password` here, `cipassword` for PVE) in dry runs and the audit log.

use std::collections::BTreeMap;
use std::net::IpAddr;

use pve_client::api::guest::GuestConfig;
use pve_client::{GuestKind, Params};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{TOOLSET, digest_error};
use crate::error::ToolError;
use crate::handler;
use crate::registry::lenient;
use crate::registry::{Access, ToolCtx, ToolDef, ToolSpec};
use crate::tools::common::{guest_error, guest_node, is_false};
use crate::tools::power::guest_status;
use crate::tools::provisioning::{SshKeys, check_public_keys, ipconfig, is_dns_name, url_encode};

const KIND: GuestKind = GuestKind::Qemu;

/// `update_cloud_init`.
pub(crate) fn update_cloud_init() -> ToolSpec {
    ToolSpec::new(
        ToolDef {
            name: "update_cloud_init",
            title: "Change VM cloud-init",
            description: "Change a VM's cloud-init user, password, SSH keys, IPs or DNS (empty removes) and regenerate its drive, read at next boot. Use create_vm_from_template for a new VM.",
            toolset: TOOLSET,
            access: Access::Write,
            idempotent: true,
        },
        handler!(update_cloud_init_handler),
    )
}

/// Words given as a list or as one text separated by spaces or commas.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(untagged)]
pub(crate) enum Words {
    List(Vec<String>),
    Text(String),
}

impl Words {
    pub(crate) fn to_list(&self) -> Vec<String> {
        let all: Vec<&str> = match self {
            Words::List(l) => l.iter().flat_map(|w| w.split([' ', ','])).collect(),
            Words::Text(t) => t.split([' ', ',']).collect(),
        };
        all.into_iter()
            .map(str::trim)
            .filter(|w| !w.is_empty())
            .map(str::to_string)
            .collect()
    }
}

// The IP settings of one NIC (no doc comment: it would cost tokens in every tool list).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NicIp {
    /// NIC number (0: net0).
    #[serde(deserialize_with = "lenient::int")]
    #[schemars(range(max = 31))]
    pub(crate) nic: u32,
    /// IPv4: dhcp or 10.0.0.5/24.
    #[serde(default)]
    pub(crate) ip: Option<String>,
    /// IPv4 gateway.
    #[serde(default)]
    pub(crate) gateway: Option<String>,
    /// IPv6: dhcp, auto or fd00::5/64.
    #[serde(default)]
    pub(crate) ip6: Option<String>,
    /// IPv6 gateway.
    #[serde(default)]
    pub(crate) gateway6: Option<String>,
    /// Remove its settings.
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    pub(crate) remove: Option<bool>,
}

/// Parameters of `update_cloud_init`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct CloudInitParams {
    /// VMID.
    #[serde(deserialize_with = "lenient::int")]
    pub(crate) vmid: u32,
    /// Accepted but not shown in the schema: found from the VMID when absent.
    #[serde(default)]
    #[schemars(skip)]
    pub(crate) node: Option<String>,
    /// User.
    #[serde(default)]
    pub(crate) ciuser: Option<String>,
    /// Its password (never shown back).
    #[serde(default)]
    pub(crate) password: Option<String>,
    /// SSH public keys replacing the current ones.
    #[serde(default)]
    pub(crate) ssh_keys: Option<SshKeys>,
    /// IPv4 of net0: dhcp or 10.0.0.5/24.
    #[serde(default)]
    pub(crate) ip: Option<String>,
    /// Gateway for a static ip.
    #[serde(default)]
    pub(crate) gateway: Option<String>,
    /// Per NIC, for other NICs or IPv6.
    #[serde(default)]
    pub(crate) ipconfigs: Option<Vec<NicIp>>,
    /// DNS servers.
    #[serde(default)]
    pub(crate) nameserver: Option<Words>,
    /// DNS search domains.
    #[serde(default)]
    pub(crate) searchdomain: Option<Words>,
    /// Digest from get_vm_config: refused if changed since.
    #[serde(default)]
    pub(crate) digest: Option<String>,
}

/// Output of `update_cloud_init`.
#[derive(Debug, Serialize, JsonSchema)]
pub(super) struct CloudInitOutput {
    pub(crate) vmid: u32,
    pub(crate) node: String,
    /// Config keys changed or removed (`ciuser`, `cipassword`, `sshkeys`, `ipconfigN`,
    /// `nameserver`, `searchdomain`).
    pub(crate) changed: Vec<String>,
    /// The new digest of the config.
    pub(crate) digest: String,
    /// The cloud-init drive (`ide2`...), regenerated from the config.
    pub(crate) drive: String,
    /// Settings after the change, read back from the config.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) ciuser: Option<String>,
    /// A password is set (it is never shown).
    pub(crate) password_set: bool,
    /// Number of SSH public keys set.
    pub(crate) ssh_keys: usize,
    /// `ipconfigN` values by key (`ip=dhcp`, `ip=10.0.0.5/24,gw=10.0.0.1`).
    pub(crate) ipconfigs: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) nameserver: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) searchdomain: Option<String>,
    /// Options the drive still lacks after regeneration (normally none).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) pending: Vec<String>,
    /// The VM runs: the guest reads the drive at boot, so reboot it to apply.
    #[serde(skip_serializing_if = "is_false")]
    pub(crate) reboot_needed: bool,
}

async fn update_cloud_init_handler(
    ctx: &ToolCtx,
    p: CloudInitParams,
) -> Result<CloudInitOutput, ToolError> {
    let vmid = p.vmid;
    let (changes, changed) = cloud_init_changes(&p)?;
    let node = guest_node(ctx, vmid, p.node.clone(), KIND).await?;
    let before = ctx
        .client
        .qemu_config(&node, vmid, None, None)
        .await
        .map_err(|e| guest_error(e, vmid, KIND))?;
    let Some(drive) = cloud_init_drive(&before) else {
        return Err(ToolError::policy(format!(
            "VM {vmid} has no cloud-init drive, so its guest would never see these settings: \
             add one first (a config key such as `ide2: local-lvm:cloudinit`, e.g. with \
             proxmox_api), or create the VM with create_vm_from_template"
        )));
    };
    let digest = p.digest.as_deref().map(str::trim).filter(|d| !d.is_empty());
    ctx.client
        .qemu_set_config(&node, vmid, changes.opt("digest", digest))
        .await
        .map_err(|e| digest_error(e, vmid))?;
    ctx.client
        .qemu_cloudinit_regenerate(&node, vmid)
        .await
        .map_err(|e| guest_error(e, vmid, KIND))?;
    let config = ctx
        .client
        .qemu_config(&node, vmid, None, None)
        .await
        .map_err(|e| guest_error(e, vmid, KIND))?;
    let pending = ctx
        .client
        .qemu_cloudinit(&node, vmid)
        .await
        .map_err(|e| guest_error(e, vmid, KIND))?
        .into_iter()
        .filter(|e| e.is_pending())
        .map(|e| e.key)
        .collect();
    let running = guest_status(ctx, KIND, &node, vmid).await? == "running";
    Ok(CloudInitOutput {
        vmid,
        node,
        changed,
        digest: config.digest().unwrap_or_default(),
        drive,
        ciuser: config.get_str("ciuser"),
        password_set: config.0.contains_key("cipassword"),
        ssh_keys: key_count(config.get_str("sshkeys").as_deref()),
        ipconfigs: config.numbered("ipconfig").into_iter().collect(),
        nameserver: config.get_str("nameserver"),
        searchdomain: config.get_str("searchdomain"),
        pending,
        reboot_needed: running,
    })
}

/// The config key of a VM's cloud-init drive (`local-lvm:vm-100-cloudinit,media=cdrom`).
fn cloud_init_drive(config: &GuestConfig) -> Option<String> {
    config.0.iter().find_map(|(k, v)| {
        let volid = v.as_str()?.split(',').next()?;
        let is_drive = volid.ends_with("-cloudinit") || volid.ends_with("-cloudinit.qcow2");
        (is_drive && !k.starts_with("unused")).then(|| k.clone())
    })
}

/// Number of keys in PVE's URL-encoded `sshkeys`.
fn key_count(sshkeys: Option<&str>) -> usize {
    sshkeys
        .unwrap_or("")
        .replace("%0A", "\n")
        .replace("%0a", "\n")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .count()
}

/// The PVE parameters of a request and the keys it changes; refuses an empty one.
fn cloud_init_changes(p: &CloudInitParams) -> Result<(Params, Vec<String>), ToolError> {
    let mut c = Changes::default();
    if let Some(u) = &p.ciuser {
        let u = u.trim();
        if u.contains(char::is_whitespace) || u.contains(':') {
            return Err(ToolError::invalid(
                "ciuser",
                "must be a user name (no spaces)",
            ));
        }
        c.put("ciuser", u);
    }
    if let Some(pw) = &p.password {
        c.put("cipassword", pw);
    }
    if let Some(keys) = &p.ssh_keys {
        let keys = keys.lines();
        check_public_keys(&keys)?;
        c.put("sshkeys", &url_encode(&keys.join("\n")));
    }
    let mut nics: BTreeMap<u32, String> = BTreeMap::new();
    if p.ip.is_some() || p.gateway.is_some() {
        let v = ipconfig(p.ip.as_deref(), p.gateway.as_deref())?.unwrap_or_default();
        nics.insert(0, v);
    }
    for n in p.ipconfigs.iter().flatten() {
        if n.nic > 31 {
            return Err(ToolError::invalid("ipconfigs", "nic must be 0 to 31"));
        }
        if nics.contains_key(&n.nic) {
            return Err(ToolError::invalid(
                "ipconfigs",
                format!("NIC {} is given twice (ip and gateway set NIC 0)", n.nic),
            ));
        }
        nics.insert(n.nic, nic_value(n)?);
    }
    for (nic, v) in nics {
        c.put(&format!("ipconfig{nic}"), &v);
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
    if c.changed.is_empty() {
        return Err(ToolError::InvalidParams {
            param: None,
            message: "nothing to change: give at least one of ciuser, password, ssh_keys, ip, \
                      gateway, ipconfigs, nameserver, searchdomain"
                .into(),
        });
    }
    Ok(c.finish())
}

/// Config keys to set and to delete (an empty value deletes), in the order given.
#[derive(Default)]
pub(crate) struct Changes {
    set: Params,
    delete: Vec<String>,
    changed: Vec<String>,
}

impl Changes {
    /// Sets `key` to `value`, or deletes it when `value` is blank.
    pub(crate) fn put(&mut self, key: &str, value: &str) {
        if value.trim().is_empty() {
            self.delete.push(key.to_string());
        } else {
            self.set = std::mem::take(&mut self.set).set(key, value);
        }
        self.changed.push(key.to_string());
    }

    /// Whether nothing changes.
    pub(crate) fn is_empty(&self) -> bool {
        self.changed.is_empty()
    }

    /// The PVE parameters (with `delete`) and the keys changed.
    pub(crate) fn finish(self) -> (Params, Vec<String>) {
        let mut set = self.set;
        if !self.delete.is_empty() {
            set = set.set("delete", self.delete.join(","));
        }
        (set, self.changed)
    }
}

/// `ipconfigN` of one NIC entry (empty when removed).
fn nic_value(n: &NicIp) -> Result<String, ToolError> {
    let ip6 = n.ip6.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let gw6 = n
        .gateway6
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    if n.remove == Some(true) {
        if n.ip.is_some() || ip6.is_some() {
            return Err(ToolError::invalid(
                "ipconfigs",
                format!("NIC {}: remove goes without ip or ip6", n.nic),
            ));
        }
        return Ok(String::new());
    }
    let mut parts: Vec<String> = ipconfig(n.ip.as_deref(), n.gateway.as_deref())
        .map_err(|e| ToolError::invalid("ipconfigs", format!("NIC {}: {e}", n.nic)))?
        .into_iter()
        .collect();
    match ip6 {
        Some(v) if v.eq_ignore_ascii_case("dhcp") || v.eq_ignore_ascii_case("auto") => {
            if gw6.is_some() {
                return Err(ToolError::invalid(
                    "ipconfigs",
                    format!("NIC {}: gateway6 needs a static ip6", n.nic),
                ));
            }
            parts.push(format!("ip6={}", v.to_ascii_lowercase()));
        }
        Some(v) => {
            let ok = v.split_once('/').is_some_and(|(a, p)| {
                a.parse::<IpAddr>().is_ok_and(|a| a.is_ipv6())
                    && p.parse::<u8>().is_ok_and(|p| p <= 128)
            });
            if !ok {
                return Err(ToolError::invalid(
                    "ipconfigs",
                    format!(
                        "NIC {}: `{v}` is neither dhcp, auto nor an IPv6 address with prefix",
                        n.nic
                    ),
                ));
            }
            parts.push(format!("ip6={v}"));
            if let Some(g) = gw6 {
                if !g.parse::<IpAddr>().is_ok_and(|a| a.is_ipv6()) {
                    return Err(ToolError::invalid(
                        "ipconfigs",
                        format!("NIC {}: `{g}` is not an IPv6 address", n.nic),
                    ));
                }
                parts.push(format!("gw6={g}"));
            }
        }
        None if gw6.is_some() => {
            return Err(ToolError::invalid(
                "ipconfigs",
                format!("NIC {}: gateway6 needs a static ip6", n.nic),
            ));
        }
        None => {}
    }
    if parts.is_empty() {
        return Err(ToolError::invalid(
            "ipconfigs",
            format!("NIC {}: give ip or ip6, or remove: true", n.nic),
        ));
    }
    Ok(parts.join(","))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    fn changes(v: serde_json::Value) -> Result<(String, Vec<String>), ToolError> {
        let p: CloudInitParams = serde_json::from_value(v).unwrap();
        cloud_init_changes(&p).map(|(params, changed)| (params.encode(), changed))
    }

    #[test]
    fn settings_map_to_pve_keys_and_blanks_delete() {
        let (encoded, changed) = changes(json!({
            "vmid": 1, "ciuser": "ops", "password": "", "ip": "10.0.0.5/24",
            "gateway": "10.0.0.1",
            "ipconfigs": [{"nic": 1, "ip6": "fd00::5/64", "gateway6": "fd00::1"},
                          {"nic": 2, "remove": true}],
            "nameserver": "1.1.1.1, 9.9.9.9", "searchdomain": ["lab.example"]
        }))
        .unwrap();
        assert_eq!(
            changed,
            [
                "ciuser",
                "cipassword",
                "ipconfig0",
                "ipconfig1",
                "ipconfig2",
                "nameserver",
                "searchdomain"
            ]
        );
        assert_eq!(
            encoded,
            "ciuser=ops&ipconfig0=ip%3D10.0.0.5%2F24%2Cgw%3D10.0.0.1&\
             ipconfig1=ip6%3Dfd00%3A%3A5%2F64%2Cgw6%3Dfd00%3A%3A1&\
             nameserver=1.1.1.1+9.9.9.9&searchdomain=lab.example&\
             delete=cipassword%2Cipconfig2"
                .replace(' ', "")
        );
    }

    #[test]
    fn bad_settings_name_their_parameter() {
        for (args, param) in [
            (json!({"vmid": 1}), None),
            (json!({"vmid": 1, "ciuser": "a b"}), Some("ciuser")),
            (json!({"vmid": 1, "ssh_keys": ["nope"]}), Some("ssh_keys")),
            (json!({"vmid": 1, "ip": "10.0.0.5"}), Some("ip")),
            (
                json!({"vmid": 1, "nameserver": "dns.example"}),
                Some("nameserver"),
            ),
            (
                json!({"vmid": 1, "searchdomain": "a_b"}),
                Some("searchdomain"),
            ),
            (
                json!({"vmid": 1, "ip": "dhcp", "ipconfigs": [{"nic": 0, "ip": "dhcp"}]}),
                Some("ipconfigs"),
            ),
            (
                json!({"vmid": 1, "ipconfigs": [{"nic": 1}]}),
                Some("ipconfigs"),
            ),
            (
                json!({"vmid": 1, "ipconfigs": [{"nic": 1, "ip6": "10.0.0.1/24"}]}),
                Some("ipconfigs"),
            ),
            (
                json!({"vmid": 1, "ipconfigs": [{"nic": 32, "ip": "dhcp"}]}),
                Some("ipconfigs"),
            ),
        ] {
            let e = changes(args.clone()).unwrap_err();
            assert_eq!(e.kind(), "invalid_params", "{args}: {e}");
            if let Some(p) = param {
                assert!(e.to_string().contains(&format!("`{p}`")), "{args}: {e}");
            }
        }
    }

    #[test]
    fn keys_are_counted_from_the_encoded_list() {
        assert_eq!(
            key_count(Some("ssh-ed25519%20AAAA%20a%0Assh-rsa%20BBBB%20b")),
            2
        );
        assert_eq!(key_count(None), 0);
    }
}
