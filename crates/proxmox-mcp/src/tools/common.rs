//! What several tools share: finding a guest's node from its VMID, clear not-found messages,
//! unit conversions for compact outputs, and the common parameter types.

use pve_client::{ErrorKind, GuestKind};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::ToolError;
use crate::registry::ToolCtx;

/// Parameters of a tool that takes none.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NoParams {}

/// A guest power state filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum StatusFilter {
    Running,
    Stopped,
}

impl StatusFilter {
    pub fn as_str(self) -> &'static str {
        match self {
            StatusFilter::Running => "running",
            StatusFilter::Stopped => "stopped",
        }
    }
}

/// The node of guest `vmid` of kind `kind`: `node` when given, else looked up from the VMID
/// (one cached `/cluster/resources` call). A VMID that is missing, or of the other kind, gives
/// an error an agent can act on.
pub async fn guest_node(
    ctx: &ToolCtx,
    vmid: u32,
    node: Option<String>,
    kind: GuestKind,
) -> Result<String, ToolError> {
    if let Some(node) = node.filter(|n| !n.trim().is_empty()) {
        return Ok(node);
    }
    let loc = ctx
        .client
        .find_guest(vmid)
        .await
        .map_err(|e| guest_error(e, vmid, kind))?;
    if loc.kind != kind {
        return Err(wrong_kind(vmid, kind));
    }
    Ok(loc.node)
}

/// A client error about guest `vmid`, with not-found worded so the agent knows what to do.
pub fn guest_error(e: pve_client::Error, vmid: u32, kind: GuestKind) -> ToolError {
    // 501 is "not implemented", not a missing guest.
    if e.kind() == ErrorKind::NotFound && e.status() != Some(501) {
        let list = match kind {
            GuestKind::Qemu => "get_vms",
            GuestKind::Lxc => "get_containers",
        };
        return ToolError::Pve {
            status: e.status().or(Some(404)),
            message: format!(
                "{} {vmid} does not exist (call {list} to see the existing VMIDs)",
                kind.noun()
            ),
        };
    }
    e.into()
}

fn wrong_kind(vmid: u32, wanted: GuestKind) -> ToolError {
    let (is, use_instead) = match wanted {
        GuestKind::Qemu => ("a container (LXC), not a VM", "the *_container tools"),
        GuestKind::Lxc => ("a VM (QEMU), not a container", "the *_vm tools"),
    };
    ToolError::Pve {
        status: Some(400),
        message: format!("guest {vmid} is {is}: use {use_instead}"),
    }
}

/// Bytes to MiB (rounded down).
pub fn mib(bytes: u64) -> u64 {
    bytes / (1024 * 1024)
}

/// Bytes to GiB, one decimal.
pub fn gib(bytes: u64) -> f64 {
    round1(bytes as f64 / (1024.0 * 1024.0 * 1024.0))
}

/// A 0..1 fraction as a percentage, one decimal.
pub fn percent(fraction: f64) -> f64 {
    round1(fraction * 100.0)
}

/// One decimal.
pub fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// PVE tags (`a;b` or `a,b`) as a list.
pub fn split_tags(tags: Option<&str>) -> Vec<String> {
    tags.unwrap_or("")
        .split([';', ',', ' '])
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .collect()
}

/// `false` is the common case: skip it in compact lists.
pub fn is_false(b: &bool) -> bool {
    !*b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_are_compact() {
        assert_eq!(mib(2 * 1024 * 1024 * 1024), 2048);
        assert_eq!(gib(32 * 1024 * 1024 * 1024 + 100 * 1024 * 1024), 32.1);
        assert_eq!(percent(0.12345), 12.3);
        assert_eq!(split_tags(Some("web;prod")), vec!["web", "prod"]);
        assert!(split_tags(None).is_empty());
    }
}
