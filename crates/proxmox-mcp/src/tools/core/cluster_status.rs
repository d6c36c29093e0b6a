//! Cluster tool: `get_cluster_status` (quorum, nodes online, name, versions).

use schemars::JsonSchema;
use serde::Serialize;

use crate::error::ToolError;
use crate::handler;
use crate::registry::{Access, ToolCtx, ToolDef, ToolSpec};
use crate::tools::common::NoParams;

/// `get_cluster_status`.
pub(crate) fn get_cluster_status() -> ToolSpec {
    ToolSpec::new(
        ToolDef {
            name: "get_cluster_status",
            title: "Cluster status",
            description: "Cluster name, quorum, nodes online, PVE version. Use it to check cluster health.",
            toolset: "core",
            access: Access::Read,
            idempotent: true,
        },
        handler!(get_cluster_status_handler),
    )
}

/// A node as the cluster sees it.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct ClusterNode {
    pub(crate) name: String,
    pub(crate) online: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) ip: Option<String>,
}

/// Output of `get_cluster_status`.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct ClusterStatusOutput {
    /// Cluster name; absent for a standalone node.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) cluster_name: Option<String>,
    /// Whether the cluster has quorum (a standalone node always has).
    pub(crate) quorate: bool,
    pub(crate) nodes_total: usize,
    pub(crate) nodes_online: usize,
    pub(crate) nodes: Vec<ClusterNode>,
    /// Cluster configuration version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) config_version: Option<u64>,
    /// Proxmox VE version of the node that answered (`9.1.3`).
    pub(crate) pve_version: String,
}

async fn get_cluster_status_handler(
    ctx: &ToolCtx,
    _p: NoParams,
) -> Result<ClusterStatusOutput, ToolError> {
    let (status, version) = tokio::join!(ctx.client.cluster_status(), ctx.client.version());
    let status = status?;
    let version = version?;
    let cluster = status.iter().find(|e| e.kind == "cluster");
    let mut nodes: Vec<ClusterNode> = status
        .iter()
        .filter(|e| e.kind == "node")
        .map(|e| ClusterNode {
            name: e.name.clone(),
            online: e.online.unwrap_or(false),
            ip: e.ip.clone(),
        })
        .collect();
    nodes.sort_by(|a, b| a.name.cmp(&b.name));
    let nodes_online = nodes.iter().filter(|n| n.online).count();
    Ok(ClusterStatusOutput {
        cluster_name: cluster.map(|c| c.name.clone()),
        quorate: cluster.and_then(|c| c.quorate).unwrap_or(true),
        nodes_total: nodes.len(),
        nodes_online,
        nodes,
        config_version: cluster.and_then(|c| c.version),
        pve_version: version.version,
    })
}
