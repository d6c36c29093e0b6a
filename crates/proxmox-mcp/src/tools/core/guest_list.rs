//! The compact guest list shared by `get_vms` and `get_containers`: one
//! `/cluster/resources?type=vm` call, filtered by kind, node and status.

use pve_client::GuestKind;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::ToolError;
use crate::registry::ToolCtx;
use crate::tools::common::{StatusFilter, gib, is_false, mib, percent, split_tags};

/// Parameters of `get_vms` and `get_containers`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct GuestListParams {
    /// Only this node.
    #[serde(default)]
    pub(crate) node: Option<String>,
    /// Only this state.
    #[serde(default)]
    pub(crate) status: Option<StatusFilter>,
}

/// One guest in a list.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct GuestLine {
    pub(crate) vmid: u32,
    pub(crate) name: String,
    pub(crate) node: String,
    /// `running` or `stopped`.
    pub(crate) status: String,
    /// Virtual CPUs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) cpus: Option<f64>,
    /// CPU use in percent of its CPUs (running guests).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) cpu_percent: Option<f64>,
    /// Memory in use (running guests).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) memory_used_mb: Option<u64>,
    /// Configured memory.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) memory_mb: Option<u64>,
    /// Disk in use (containers; PVE does not know it for VMs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) disk_used_gb: Option<f64>,
    /// Size of the boot disk (VMs) or root volume (containers).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) disk_gb: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) uptime_seconds: Option<u64>,
    /// A template (clone it; it cannot be started).
    #[serde(skip_serializing_if = "is_false")]
    pub(crate) template: bool,
    /// A lock held by a running operation (`backup`, `migrate`, `snapshot`, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) lock: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) tags: Vec<String>,
}

/// The guests of `kind`, filtered and sorted by VMID.
pub(super) async fn list(
    ctx: &ToolCtx,
    kind: GuestKind,
    p: GuestListParams,
) -> Result<Vec<GuestLine>, ToolError> {
    let node = p.node.as_deref().map(str::trim).filter(|n| !n.is_empty());
    let mut out: Vec<GuestLine> = ctx
        .client
        .list_guests()
        .await?
        .into_iter()
        .filter(|r| r.guest_kind() == Some(kind))
        .filter(|r| node.is_none() || r.node.as_deref() == node)
        .filter(|r| match p.status {
            None => true,
            Some(s) => r.status.as_deref() == Some(s.as_str()),
        })
        .filter_map(|r| {
            let vmid = r.vmid?;
            let running = r.status.as_deref() == Some("running");
            Some(GuestLine {
                vmid,
                name: r.name.unwrap_or_default(),
                node: r.node.unwrap_or_default(),
                status: r.status.unwrap_or_else(|| "unknown".into()),
                cpus: r.maxcpu,
                cpu_percent: r.cpu.filter(|_| running).map(percent),
                memory_used_mb: r.mem.filter(|_| running).map(mib),
                memory_mb: r.maxmem.map(mib),
                disk_used_gb: r.disk.filter(|d| kind == GuestKind::Lxc && *d > 0).map(gib),
                disk_gb: r.maxdisk.filter(|d| *d > 0).map(gib),
                uptime_seconds: r.uptime.filter(|_| running),
                template: r.template,
                lock: r.lock,
                tags: split_tags(r.tags.as_deref()),
            })
        })
        .collect();
    out.sort_by_key(|g| g.vmid);
    Ok(out)
}
