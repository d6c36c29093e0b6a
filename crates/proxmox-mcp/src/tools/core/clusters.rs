//! `list_clusters`: the clusters this server is configured for, and whether each answers.

use std::time::Duration;

use futures_util::future::join_all;
use schemars::JsonSchema;
use serde::Serialize;

use crate::clusters::ClusterEntry;
use crate::error::ToolError;
use crate::handler;
use crate::registry::{Access, ToolCtx, ToolDef, ToolSpec};
use crate::tools::common::NoParams;

/// How long each cluster has to answer.
pub(crate) const ANSWER_TIMEOUT: Duration = Duration::from_secs(3);

/// `list_clusters`.
pub(crate) fn list_clusters() -> ToolSpec {
    ToolSpec::new(
        ToolDef {
            name: "list_clusters",
            title: "List clusters",
            description: "Configured clusters: name, address, reachable, version, nodes. Use it to pick the cluster parameter.",
            toolset: "core",
            access: Access::Read,
            idempotent: true,
        },
        handler!(list_clusters_handler),
    )
}

/// One configured cluster.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct ClusterInfo {
    /// Its name on this server (the `cluster` parameter's value).
    pub(crate) name: String,
    /// `https://host:port` of its API.
    pub(crate) address: String,
    /// Whether tools act on it when `cluster` is not given.
    pub(crate) default: bool,
    /// Whether its API answered `GET /version` within 3 s.
    pub(crate) answers: bool,
    /// Its Proxmox VE version, when it answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) pve_version: Option<String>,
    /// How many nodes it has, when it answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) nodes: Option<usize>,
    /// Why it does not answer (or why its nodes could not be listed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) error: Option<String>,
}

/// Output of `list_clusters`.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct ListClustersOutput {
    /// In the configured order; the first is the default.
    pub(crate) clusters: Vec<ClusterInfo>,
    /// How many answered.
    pub(crate) answering: usize,
}

async fn list_clusters_handler(
    ctx: &ToolCtx,
    _p: NoParams,
) -> Result<ListClustersOutput, ToolError> {
    let first = ctx.clusters.first().name.clone();
    let clusters = join_all(ctx.clusters.iter().map(|c| ask(c, c.name == first))).await;
    Ok(ListClustersOutput {
        answering: clusters.iter().filter(|c| c.answers).count(),
        clusters,
    })
}

/// Asks one cluster for its version and nodes, bounded by [`ANSWER_TIMEOUT`].
async fn ask(c: &ClusterEntry, default: bool) -> ClusterInfo {
    let client = c.client.with_timeout(ANSWER_TIMEOUT);
    let mut info = ClusterInfo {
        name: c.name.to_string(),
        address: c.address.clone(),
        default,
        answers: false,
        pve_version: None,
        nodes: None,
        error: None,
    };
    let asked = tokio::time::timeout(ANSWER_TIMEOUT, async {
        let version = client.version().await?;
        let nodes = client.nodes().await.map(|n| n.len());
        Ok::<_, pve_client::Error>((version, nodes))
    })
    .await;
    match asked {
        Err(_) => info.error = Some(format!("no answer within {} s", ANSWER_TIMEOUT.as_secs())),
        Ok(Err(e)) => info.error = Some(e.to_string()),
        Ok(Ok((version, nodes))) => {
            info.answers = true;
            info.pve_version = Some(version.version);
            match nodes {
                Ok(n) => info.nodes = Some(n),
                Err(e) => info.error = Some(format!("cannot list its nodes: {e}")),
            }
        }
    }
    info
}
