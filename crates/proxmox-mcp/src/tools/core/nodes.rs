//! Node tools: `get_nodes` (every node, one line each) and `get_node_status` (one node in detail).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::ToolError;
use crate::handler;
use crate::registry::{Access, ToolCtx, ToolDef, ToolSpec};
use crate::tools::common::{NoParams, gib, mib, percent, round1};

/// `get_nodes`.
pub(crate) fn get_nodes() -> ToolSpec {
    ToolSpec::new(
        ToolDef {
            name: "get_nodes",
            title: "List nodes",
            description: "Nodes with status, CPU, memory, disk and uptime. Use it to learn node names.",
            toolset: "core",
            access: Access::Read,
            idempotent: true,
        },
        handler!(get_nodes_handler),
    )
}

/// One node in the list.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct NodeLine {
    /// Node name (use it as `node` in other tools).
    pub(crate) node: String,
    /// `online`, `offline` or `unknown`.
    pub(crate) status: String,
    /// CPU use in percent of all its CPUs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) cpu_percent: Option<f64>,
    /// Logical CPUs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) cpus: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) memory_used_mb: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) memory_total_mb: Option<u64>,
    /// Root filesystem use.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) disk_used_gb: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) disk_total_gb: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) uptime_seconds: Option<u64>,
}

/// Output of `get_nodes`.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct NodesOutput {
    pub(crate) nodes: Vec<NodeLine>,
    /// How many nodes are online.
    pub(crate) online: usize,
}

async fn get_nodes_handler(ctx: &ToolCtx, _p: NoParams) -> Result<NodesOutput, ToolError> {
    let mut nodes: Vec<NodeLine> = ctx
        .client
        .nodes()
        .await?
        .into_iter()
        .map(|n| {
            let online = n.status == "online";
            NodeLine {
                cpu_percent: n.cpu.filter(|_| online).map(percent),
                cpus: n.maxcpu,
                memory_used_mb: n.mem.filter(|_| online).map(mib),
                memory_total_mb: n.maxmem.map(mib),
                disk_used_gb: n.disk.filter(|_| online).map(gib),
                disk_total_gb: n.maxdisk.map(gib),
                uptime_seconds: n.uptime.filter(|_| online),
                node: n.node,
                status: n.status,
            }
        })
        .collect();
    nodes.sort_by(|a, b| a.node.cmp(&b.node));
    let online = nodes.iter().filter(|n| n.status == "online").count();
    Ok(NodesOutput { nodes, online })
}

/// `get_node_status`.
pub(crate) fn get_node_status() -> ToolSpec {
    ToolSpec::new(
        ToolDef {
            name: "get_node_status",
            title: "Node status",
            description: "One node in detail: CPU, memory, disk, kernel, version. Use get_nodes for all nodes.",
            toolset: "core",
            access: Access::Read,
            idempotent: true,
        },
        handler!(get_node_status_handler),
    )
}

/// Parameters of `get_node_status`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NodeParams {
    /// Node name.
    pub(crate) node: String,
}

/// Used and total of a resource.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct UsageMb {
    pub(crate) used_mb: u64,
    pub(crate) total_mb: u64,
}

/// Used and total of a filesystem.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct UsageGb {
    pub(crate) used_gb: f64,
    pub(crate) total_gb: f64,
}

/// Output of `get_node_status`.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct NodeStatusOutput {
    pub(crate) node: String,
    pub(crate) cpu_model: String,
    pub(crate) cpu_sockets: u32,
    /// Logical CPUs (threads).
    pub(crate) cpus: u32,
    /// CPU use in percent of all CPUs.
    pub(crate) cpu_percent: f64,
    /// IO wait in percent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) iowait_percent: Option<f64>,
    /// Load average over 1, 5 and 15 minutes.
    pub(crate) loadavg: Vec<f64>,
    pub(crate) memory: UsageMb,
    pub(crate) swap: UsageMb,
    /// Root filesystem.
    pub(crate) rootfs: UsageGb,
    pub(crate) kernel: String,
    /// Proxmox VE version (`pve-manager/9.1.3/...`).
    pub(crate) pve_version: String,
    pub(crate) uptime_seconds: u64,
}

async fn get_node_status_handler(
    ctx: &ToolCtx,
    p: NodeParams,
) -> Result<NodeStatusOutput, ToolError> {
    let node = p.node.trim();
    if node.is_empty() {
        return Err(ToolError::invalid("node", "must not be empty"));
    }
    let s = ctx.client.node_status(node).await?;
    Ok(NodeStatusOutput {
        node: node.to_string(),
        cpu_model: s.cpuinfo.model,
        cpu_sockets: s.cpuinfo.sockets,
        cpus: s.cpuinfo.cpus,
        cpu_percent: percent(s.cpu),
        iowait_percent: s.wait.map(percent),
        loadavg: s
            .loadavg
            .into_iter()
            .map(|l| (l * 100.0).round() / 100.0)
            .collect(),
        memory: UsageMb {
            used_mb: mib(s.memory.used),
            total_mb: mib(s.memory.total),
        },
        swap: UsageMb {
            used_mb: mib(s.swap.used),
            total_mb: mib(s.swap.total),
        },
        rootfs: UsageGb {
            used_gb: gib(s.rootfs.used),
            total_gb: round1(gib(s.rootfs.total)),
        },
        kernel: s.kversion,
        pve_version: s.pveversion,
        uptime_seconds: s.uptime,
    })
}
