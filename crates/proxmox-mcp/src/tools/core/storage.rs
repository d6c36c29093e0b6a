//! Storage tool: `get_storage` (every storage of every node, from one `/cluster/resources` call).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::ToolError;
use crate::handler;
use crate::registry::{Access, ToolCtx, ToolDef, ToolSpec};
use crate::tools::common::gib;

/// `get_storage`.
pub(crate) fn get_storage() -> ToolSpec {
    ToolSpec::new(
        ToolDef {
            name: "get_storage",
            title: "List storage",
            description: "Storages per node with content types and space. Use it to pick a storage.",
            toolset: "core",
            access: Access::Read,
            idempotent: true,
        },
        handler!(get_storage_handler),
    )
}

/// Parameters of `get_storage`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct StorageParams {
    /// Only this node.
    #[serde(default)]
    pub(crate) node: Option<String>,
}

/// One storage on one node.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct StorageLine {
    /// Storage id (use it as `storage` in create_vm).
    pub(crate) storage: String,
    pub(crate) node: String,
    /// Plugin type: `dir`, `lvmthin`, `zfspool`, `nfs`, `rbd`, ...
    #[serde(rename = "type")]
    pub(crate) kind: String,
    /// What it may hold: `images`, `rootdir`, `iso`, `vztmpl`, `backup`, `snippets`.
    pub(crate) content: Vec<String>,
    pub(crate) used_gb: f64,
    pub(crate) total_gb: f64,
    pub(crate) available_gb: f64,
    /// Shared between nodes (one pool seen by all).
    pub(crate) shared: bool,
    /// `available`, or why not.
    pub(crate) status: String,
}

/// Output of `get_storage`.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct StorageOutput {
    pub(crate) storages: Vec<StorageLine>,
}

async fn get_storage_handler(ctx: &ToolCtx, p: StorageParams) -> Result<StorageOutput, ToolError> {
    let want = p.node.as_deref().map(str::trim).filter(|n| !n.is_empty());
    let mut storages: Vec<StorageLine> = ctx
        .client
        .list_storage()
        .await?
        .into_iter()
        .filter(|r| want.is_none() || r.node.as_deref() == want)
        .map(|r| {
            let used = r.disk.unwrap_or(0);
            let total = r.maxdisk.unwrap_or(0);
            StorageLine {
                storage: r.storage.unwrap_or_default(),
                node: r.node.unwrap_or_default(),
                kind: r.plugintype.unwrap_or_default(),
                content: r
                    .content
                    .unwrap_or_default()
                    .split(',')
                    .map(str::trim)
                    .filter(|c| !c.is_empty())
                    .map(str::to_string)
                    .collect(),
                used_gb: gib(used),
                total_gb: gib(total),
                available_gb: gib(total.saturating_sub(used)),
                shared: r.shared.unwrap_or(false),
                status: r.status.unwrap_or_else(|| "unknown".into()),
            }
        })
        .collect();
    if let Some(node) = want.filter(|_| storages.is_empty()) {
        let known = ctx.client.nodes().await?;
        if !known.iter().any(|n| n.node == node) {
            return Err(ToolError::invalid(
                "node",
                format!("no node named {node:?} (call get_nodes for the names)"),
            ));
        }
    }
    storages.sort_by(|a, b| (&a.node, &a.storage).cmp(&(&b.node, &b.storage)));
    Ok(StorageOutput { storages })
}
