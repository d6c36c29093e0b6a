//! VM and container details (toolset `vm_config`): `get_vm_config` (the config with its
//! `digest`, secrets masked), `update_vm_config` (cores, sockets, memory, name, tags,
//! description; PVE's `digest` catches concurrent edits) and `get_vm_ip_addresses` (through the
//! guest agent). In `vm_config/`: `update_cloud_init`, `get_container_ip_addresses` and
//! `update_container_config`.

mod cloud_init;
mod container_config;
mod container_ip;

pub(crate) use cloud_init::update_cloud_init;
pub(crate) use container_config::update_container_config;
pub(crate) use container_ip::get_container_ip_addresses;

use std::collections::BTreeMap;

use pve_client::api::agent::NetworkInterface;
use pve_client::api::guest::GuestConfig;
use pve_client::dry_run::{MASK, is_secret};
use pve_client::{GuestKind, Params};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::common::{guest_error, guest_node, split_tags};
use crate::error::ToolError;
use crate::handler;
use crate::registry::lenient;
use crate::registry::{Access, ToolCtx, ToolDef, ToolSpec};

const TOOLSET: &str = "vm_config";
const KIND: GuestKind = GuestKind::Qemu;

/// Parameters of the tools that only name a VM.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct VmRef {
    /// VMID.
    #[serde(deserialize_with = "lenient::int")]
    pub(crate) vmid: u32,
    /// Accepted but not shown in the schema: found from the VMID when absent.
    #[serde(default)]
    #[schemars(skip)]
    pub(crate) node: Option<String>,
}

/// `get_vm_config`.
pub(super) fn get_vm_config() -> ToolSpec {
    ToolSpec::new(
        ToolDef {
            name: "get_vm_config",
            title: "Show VM config",
            description: "A VM's stored configuration (passwords masked) and digest. Use it before update_vm_config.",
            toolset: TOOLSET,
            access: Access::Read,
            idempotent: true,
        },
        handler!(get_vm_config_handler),
    )
}

/// Output of `get_vm_config`.
#[derive(Debug, Serialize, JsonSchema)]
pub(super) struct VmConfigOutput {
    pub(crate) vmid: u32,
    pub(crate) node: String,
    /// SHA-1 of the config; pass it to update_vm_config to detect concurrent edits.
    pub(crate) digest: String,
    /// Whether the VM is a template.
    pub(crate) template: bool,
    /// Every config key with its value as text; secrets (`cipassword`...) shown as `********`.
    pub(crate) config: BTreeMap<String, String>,
}

async fn get_vm_config_handler(ctx: &ToolCtx, p: VmRef) -> Result<VmConfigOutput, ToolError> {
    let node = guest_node(ctx, p.vmid, p.node, KIND).await?;
    let config = ctx
        .client
        .qemu_config(&node, p.vmid, None, None)
        .await
        .map_err(|e| guest_error(e, p.vmid, KIND))?;
    Ok(VmConfigOutput {
        vmid: p.vmid,
        node,
        digest: config.digest().unwrap_or_default(),
        template: config.flag("template"),
        config: masked(&config),
    })
}

/// A config as text values, without `digest`, secrets masked.
pub(super) fn masked(config: &GuestConfig) -> BTreeMap<String, String> {
    config
        .0
        .keys()
        .filter(|k| k.as_str() != "digest")
        .filter_map(|k| {
            let v = if is_secret(k) {
                MASK.to_string()
            } else {
                config.get_str(k)?
            };
            Some((k.clone(), v))
        })
        .collect()
}

/// Tags as a list (`["web", "prod"]`) or as PVE writes them (`"web;prod"`).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(untagged)]
pub(super) enum Tags {
    List(Vec<String>),
    Text(String),
}

impl Tags {
    fn to_list(&self) -> Vec<String> {
        match self {
            Tags::List(l) => l.iter().flat_map(|t| split_tags(Some(t))).collect(),
            Tags::Text(t) => split_tags(Some(t)),
        }
    }
}

/// `update_vm_config`.
pub(super) fn update_vm_config() -> ToolSpec {
    ToolSpec::new(
        ToolDef {
            name: "update_vm_config",
            title: "Change VM config",
            description: "Change a VM's cores, sockets, memory, name, tags or description; CPU and memory may need a reboot. Use it to resize or rename a VM.",
            toolset: TOOLSET,
            access: Access::Write,
            idempotent: true,
        },
        handler!(update_vm_config_handler),
    )
}

/// Parameters of `update_vm_config`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct UpdateVmParams {
    /// VMID.
    #[serde(deserialize_with = "lenient::int")]
    pub(crate) vmid: u32,
    /// Accepted but not shown in the schema: found from the VMID when absent.
    #[serde(default)]
    #[schemars(skip)]
    pub(crate) node: Option<String>,
    /// CPU cores per socket.
    #[serde(default, deserialize_with = "lenient::opt_int")]
    #[schemars(range(min = 1, max = 1024))]
    pub(crate) cores: Option<u32>,
    /// CPU sockets.
    #[serde(default, deserialize_with = "lenient::opt_int")]
    #[schemars(range(min = 1, max = 16))]
    pub(crate) sockets: Option<u32>,
    /// Memory in MiB.
    #[serde(default, deserialize_with = "lenient::opt_int")]
    #[schemars(range(min = 16))]
    pub(crate) memory_mb: Option<u64>,
    /// VM name (a DNS name).
    #[serde(default)]
    pub(crate) name: Option<String>,
    /// Tags replacing the current ones: a list (or "a;b").
    #[serde(default)]
    pub(crate) tags: Option<Tags>,
    /// Notes; an empty string removes them.
    #[serde(default)]
    pub(crate) description: Option<String>,
    /// Digest from get_vm_config: refused if the config changed since.
    #[serde(default)]
    pub(crate) digest: Option<String>,
}

/// Output of `update_vm_config`.
#[derive(Debug, Serialize, JsonSchema)]
pub(super) struct UpdateVmOutput {
    pub(crate) vmid: u32,
    pub(crate) node: String,
    /// Config keys changed or removed: `cores`, `sockets`, `memory`, `name`, `tags`, `description`.
    pub(crate) changed: Vec<String>,
    /// The new digest of the config.
    pub(crate) digest: String,
    /// Settings after the change, read back from the config.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) cores: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) sockets: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) memory_mb: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) name: Option<String>,
    pub(crate) tags: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) description: Option<String>,
}

async fn update_vm_config_handler(
    ctx: &ToolCtx,
    p: UpdateVmParams,
) -> Result<UpdateVmOutput, ToolError> {
    let vmid = p.vmid;
    let (changes, changed) = vm_changes(&p)?;
    let node = guest_node(ctx, vmid, p.node.clone(), KIND).await?;
    let digest = p.digest.as_deref().map(str::trim).filter(|d| !d.is_empty());
    let changes = changes.opt("digest", digest);
    ctx.client
        .qemu_set_config(&node, vmid, changes)
        .await
        .map_err(|e| digest_error(e, vmid))?;
    let config = ctx
        .client
        .qemu_config(&node, vmid, None, None)
        .await
        .map_err(|e| guest_error(e, vmid, KIND))?;
    Ok(UpdateVmOutput {
        vmid,
        node,
        changed,
        digest: config.digest().unwrap_or_default(),
        cores: config.get_int("cores"),
        sockets: config.get_int("sockets"),
        memory_mb: config.get_int("memory"),
        name: config.get_str("name"),
        tags: split_tags(config.get_str("tags").as_deref()),
        description: config.get_str("description"),
    })
}

/// The PVE parameters of an update and the keys it changes; refuses an empty update.
fn vm_changes(p: &UpdateVmParams) -> Result<(Params, Vec<String>), ToolError> {
    let mut set = Params::new();
    let mut delete: Vec<&str> = Vec::new();
    let mut changed = Vec::new();
    if let Some(c) = p.cores {
        if c == 0 {
            return Err(ToolError::invalid("cores", "must be at least 1"));
        }
        set = set.set("cores", c);
        changed.push("cores");
    }
    if let Some(s) = p.sockets {
        if s == 0 {
            return Err(ToolError::invalid("sockets", "must be at least 1"));
        }
        set = set.set("sockets", s);
        changed.push("sockets");
    }
    if let Some(m) = p.memory_mb {
        if m < 16 {
            return Err(ToolError::invalid("memory_mb", "must be at least 16 (MiB)"));
        }
        set = set.set("memory", m);
        changed.push("memory");
    }
    if let Some(n) = &p.name {
        let n = n.trim();
        if n.is_empty() {
            return Err(ToolError::invalid("name", "must not be empty"));
        }
        set = set.set("name", n);
        changed.push("name");
    }
    if let Some(t) = &p.tags {
        let list = t.to_list();
        if list.is_empty() {
            delete.push("tags");
        } else {
            set = set.set("tags", list.join(";"));
        }
        changed.push("tags");
    }
    if let Some(d) = &p.description {
        if d.trim().is_empty() {
            delete.push("description");
        } else {
            set = set.set("description", d.as_str());
        }
        changed.push("description");
    }
    if changed.is_empty() {
        return Err(ToolError::InvalidParams {
            param: None,
            message: "nothing to change: give at least one of cores, sockets, memory_mb, name, \
                      tags, description"
                .into(),
        });
    }
    if !delete.is_empty() {
        set = set.set("delete", delete.join(","));
    }
    Ok((set, changed.into_iter().map(str::to_string).collect()))
}

/// A config update error; a digest mismatch says what to do.
pub(super) fn digest_error(e: pve_client::Error, vmid: u32) -> ToolError {
    if e.message().contains("detected modified configuration") {
        return ToolError::Pve {
            status: e.status(),
            message: format!(
                "{}: the config of {vmid} changed since its digest was read; call the config \
                 tool again, check the change, and retry with the new digest",
                e.message()
            ),
        };
    }
    guest_error(e, vmid, KIND)
}

/// `get_vm_ip_addresses`.
pub(super) fn get_vm_ip_addresses() -> ToolSpec {
    ToolSpec::new(
        ToolDef {
            name: "get_vm_ip_addresses",
            title: "VM IP addresses",
            description: "A running VM's IP addresses, from its guest agent. Use it to reach the VM.",
            toolset: TOOLSET,
            access: Access::Read,
            idempotent: true,
        },
        handler!(get_vm_ip_addresses_handler),
    )
}

/// Parameters of `get_vm_ip_addresses`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct IpParams {
    /// VMID.
    #[serde(deserialize_with = "lenient::int")]
    pub(crate) vmid: u32,
    /// Accepted but not shown in the schema: found from the VMID when absent.
    #[serde(default)]
    #[schemars(skip)]
    pub(crate) node: Option<String>,
    /// Also list the loopback interface (default false).
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    pub(crate) include_loopback: Option<bool>,
}

/// One guest network interface.
#[derive(Debug, Serialize, JsonSchema)]
pub(super) struct Interface {
    pub(crate) name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) mac: Option<String>,
    /// `ADDRESS/PREFIX`.
    pub(crate) ipv4: Vec<String>,
    /// `ADDRESS/PREFIX`.
    pub(crate) ipv6: Vec<String>,
}

/// Output of `get_vm_ip_addresses`.
#[derive(Debug, Serialize, JsonSchema)]
pub(super) struct IpOutput {
    pub(crate) vmid: u32,
    pub(crate) node: String,
    pub(crate) interfaces: Vec<Interface>,
    /// Every IPv4 address outside loopback, without prefix: the ones to connect to.
    pub(crate) ipv4: Vec<String>,
    /// Every global IPv6 address (not loopback, not link-local `fe80::`), without prefix.
    pub(crate) ipv6: Vec<String>,
}

async fn get_vm_ip_addresses_handler(ctx: &ToolCtx, p: IpParams) -> Result<IpOutput, ToolError> {
    let vmid = p.vmid;
    let node = guest_node(ctx, vmid, p.node, KIND).await?;
    let list = ctx
        .client
        .agent_network_interfaces(&node, vmid)
        .await
        .map_err(|e| agent_error(e, vmid))?;
    Ok(ip_output(
        vmid,
        node,
        list,
        p.include_loopback.unwrap_or(false),
    ))
}

fn ip_output(vmid: u32, node: String, list: Vec<NetworkInterface>, loopback: bool) -> IpOutput {
    let mut out = IpOutput {
        vmid,
        node,
        interfaces: Vec::new(),
        ipv4: Vec::new(),
        ipv6: Vec::new(),
    };
    for i in list {
        let is_lo = i.name == "lo"
            || i.ip_addresses
                .iter()
                .any(|a| a.ip_address == "127.0.0.1" || a.ip_address == "::1");
        if is_lo && !loopback {
            continue;
        }
        let mut iface = Interface {
            name: i.name,
            mac: i.hardware_address,
            ipv4: Vec::new(),
            ipv6: Vec::new(),
        };
        for a in i.ip_addresses {
            let text = format!("{}/{}", a.ip_address, a.prefix);
            if a.ip_address_type == "ipv6" {
                let global = !is_lo && !a.ip_address.to_ascii_lowercase().starts_with("fe80");
                if global {
                    out.ipv6.push(a.ip_address);
                }
                iface.ipv6.push(text);
            } else {
                if !is_lo {
                    out.ipv4.push(a.ip_address);
                }
                iface.ipv4.push(text);
            }
        }
        out.interfaces.push(iface);
    }
    out
}

/// A guest-agent error worded so the agent knows what is missing.
fn agent_error(e: pve_client::Error, vmid: u32) -> ToolError {
    let msg = e.message().to_string();
    let hint = if msg.contains("No QEMU guest agent configured") {
        Some(format!(
            "the QEMU guest agent is not enabled for VM {vmid}: set `agent: 1` in its config, \
             install qemu-guest-agent in the guest, then restart the VM"
        ))
    } else if msg.contains("guest agent is not running") {
        Some(format!(
            "the QEMU guest agent of VM {vmid} does not answer: install and start \
             qemu-guest-agent in the guest (the VM itself is running)"
        ))
    } else if msg.contains("is not running") {
        Some(format!(
            "VM {vmid} is not running: start it first (the guest agent answers only in a \
             running VM)"
        ))
    } else {
        None
    };
    match hint {
        Some(h) => ToolError::Pve {
            status: e.status(),
            message: format!("{h} (PVE: {msg})"),
        },
        None => guest_error(e, vmid, KIND),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    #[test]
    fn secrets_are_masked_and_digest_dropped() {
        let c: GuestConfig = serde_json::from_value(json!({
            "cores": 2, "cipassword": "$5$x", "ciuser": "ops", "digest": "d"
        }))
        .unwrap();
        let m = masked(&c);
        assert_eq!(m["cipassword"], MASK);
        assert_eq!(m["ciuser"], "ops");
        assert_eq!(m["cores"], "2");
        assert!(!m.contains_key("digest"));
    }

    #[test]
    fn changes_map_to_pve_keys() {
        let p: UpdateVmParams = serde_json::from_value(json!({
            "vmid": 1, "memory_mb": "2048", "tags": ["a", "b;c"], "description": ""
        }))
        .unwrap();
        let (params, changed) = vm_changes(&p).unwrap();
        assert_eq!(
            params.encode(),
            "memory=2048&tags=a%3Bb%3Bc&delete=description"
        );
        assert_eq!(changed, ["memory", "tags", "description"]);
        let p: UpdateVmParams = serde_json::from_value(json!({"vmid": 1})).unwrap();
        assert!(vm_changes(&p).is_err());
    }
}
