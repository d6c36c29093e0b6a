//! `list_pools`: the resource pools the caller may see, each with its guests (VMID, kind,
//! name, node, status) and storages, one request per pool sent together.

use futures_util::future::join_all;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::TOOLSET;
use crate::error::ToolError;
use crate::handler;
use crate::registry::{Access, ToolCtx, ToolDef, ToolSpec};

/// `list_pools`.
pub(crate) fn list_pools() -> ToolSpec {
    ToolSpec::new(
        ToolDef {
            name: "list_pools",
            title: "List pools",
            description: "Resource pools with their guests and storages. Use it to learn what \
                          a pool holds; get_vms filters by pool too.",
            toolset: TOOLSET,
            access: Access::Read,
            idempotent: true,
        },
        handler!(list_pools_handler),
    )
}

/// Parameters of `list_pools`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PoolsParams {
    /// Only this pool.
    #[serde(default)]
    pub(crate) pool: Option<String>,
}

/// A guest in a pool.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct PoolGuest {
    pub(crate) vmid: u32,
    /// `qemu` or `lxc`.
    #[serde(rename = "type")]
    pub(crate) kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) name: Option<String>,
    pub(crate) node: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) status: Option<String>,
}

/// One pool.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct PoolLine {
    pub(crate) pool: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) comment: Option<String>,
    pub(crate) guests: Vec<PoolGuest>,
    /// Storage ids (each once).
    pub(crate) storages: Vec<String>,
}

/// Output of `list_pools`.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct PoolsOutput {
    pub(crate) pools: Vec<PoolLine>,
}

async fn list_pools_handler(ctx: &ToolCtx, p: PoolsParams) -> Result<PoolsOutput, ToolError> {
    let want = p.pool.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let mut ids: Vec<String> = ctx
        .client
        .pools()
        .await?
        .into_iter()
        .map(|p| p.poolid)
        .filter(|id| want.is_none_or(|w| w == id))
        .collect();
    if let Some(w) = want.filter(|_| ids.is_empty()) {
        return Err(ToolError::invalid(
            "pool",
            format!("no pool named {w:?} (call list_pools without it for the names)"),
        ));
    }
    ids.sort();
    let answers = join_all(ids.iter().map(|id| ctx.client.pool(id))).await;
    let mut pools = Vec::new();
    for (id, answer) in ids.iter().zip(answers) {
        let entry = answer?.into_iter().find(|p| &p.poolid == id);
        let comment = entry.as_ref().and_then(|p| p.comment.clone());
        let members = entry.and_then(|p| p.members).unwrap_or_default();
        let mut guests: Vec<PoolGuest> = members
            .iter()
            .filter(|m| m.kind == "qemu" || m.kind == "lxc")
            .filter_map(|m| {
                Some(PoolGuest {
                    vmid: m.vmid?,
                    kind: m.kind.clone(),
                    name: m.name.clone(),
                    node: m.node.clone(),
                    status: m.status.clone(),
                })
            })
            .collect();
        guests.sort_by_key(|g| g.vmid);
        let mut storages: Vec<String> = members
            .iter()
            .filter(|m| m.kind == "storage")
            .filter_map(|m| m.storage.clone())
            .collect();
        storages.sort();
        storages.dedup();
        pools.push(PoolLine {
            pool: id.clone(),
            comment: comment.filter(|c| !c.is_empty()),
            guests,
            storages,
        });
    }
    Ok(PoolsOutput { pools })
}
