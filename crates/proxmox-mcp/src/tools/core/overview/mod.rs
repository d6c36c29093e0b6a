//! `get_cluster_overview`: "is anything wrong?" in one call and a few hundred tokens, from four
//! cluster-wide requests sent together (`/cluster/resources`, `/cluster/status`,
//! `/cluster/tasks`, `/cluster/ha/status/current`): nodes with CPU, memory and guests by
//! status, storage fullest first, guests locked or whose last task failed, HA and quorum, and
//! a short list of problems. The reduction lives in `build.rs`.

mod build;

use schemars::JsonSchema;
use serde::Serialize;

use crate::error::ToolError;
use crate::handler;
use crate::registry::{Access, ToolCtx, ToolDef, ToolSpec};
use crate::tools::common::NoParams;

/// `get_cluster_overview`.
pub(crate) fn get_cluster_overview() -> ToolSpec {
    ToolSpec::new(
        ToolDef {
            name: "get_cluster_overview",
            title: "Cluster overview",
            description: "Health in one call: nodes, guest counts, fullest storage, locked \
                          guests, failed tasks, HA, quorum. Use it first to see if anything is wrong.",
            toolset: "core",
            access: Access::Read,
            idempotent: true,
        },
        handler!(get_cluster_overview_handler),
    )
}

/// How many locked guests and failed tasks the answer names (`problems` counts all).
pub(super) const LIST_CAP: usize = 8;
/// How many storages the answer names, the fullest (`storage_total` counts all).
pub(super) const STORAGE_CAP: usize = 5;

/// Output of `get_cluster_overview`.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct OverviewOutput {
    /// Cluster name; absent for a standalone node.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) cluster: Option<String>,
    /// Whether the cluster has quorum (a standalone node always has).
    pub(crate) quorate: bool,
    /// What needs a look, one line each; empty when all is well.
    pub(crate) problems: Vec<String>,
    /// Every node, by name.
    pub(crate) nodes: Vec<NodeLine>,
    /// Guests of the whole cluster by status.
    pub(crate) guests: GuestCounts,
    /// The fullest storages, fullest first (a shared storage once).
    pub(crate) storage: Vec<StorageUse>,
    /// Storages in all (shared ones once).
    pub(crate) storage_total: usize,
    /// Guests holding a lock (`backup`, `migrate`, `snapshot`...).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) locked: Vec<LockedGuest>,
    /// Guests (and node jobs) whose last recent task failed, newest first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) failed_tasks: Vec<FailedTask>,
    /// High availability, when the cluster manages guests with it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) ha: Option<HaSummary>,
}

/// One node.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct NodeLine {
    pub(crate) node: String,
    /// `online` or `offline`.
    pub(crate) status: String,
    /// CPU use in percent (online nodes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) cpu_percent: Option<u32>,
    /// Memory use in percent (online nodes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) memory_percent: Option<u32>,
    /// Guests running on it.
    pub(crate) running: usize,
    /// Guests stopped on it (templates not counted).
    pub(crate) stopped: usize,
}

/// Guest counts.
#[derive(Debug, Default, Serialize, JsonSchema)]
pub(crate) struct GuestCounts {
    pub(crate) vms: usize,
    pub(crate) containers: usize,
    pub(crate) running: usize,
    /// Stopped, templates not counted.
    pub(crate) stopped: usize,
    pub(crate) templates: usize,
}

/// One storage's use.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct StorageUse {
    pub(crate) storage: String,
    /// Its node; absent for a shared storage.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) node: Option<String>,
    pub(crate) used_percent: u32,
    pub(crate) total_gb: u64,
}

/// A locked guest.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct LockedGuest {
    pub(crate) vmid: u32,
    pub(crate) node: String,
    /// The lock: `backup`, `migrate`, `snapshot`, `suspended`...
    pub(crate) lock: String,
}

/// A failed task.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct FailedTask {
    /// The guest, for a guest's task.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) vmid: Option<u32>,
    pub(crate) node: String,
    /// Task type (`qmstart`, `vzdump`...).
    #[serde(rename = "type")]
    pub(crate) kind: String,
    /// PVE's exit status.
    pub(crate) error: String,
    /// The task id, for `get_task`.
    pub(crate) upid: String,
}

/// High availability in brief.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct HaSummary {
    /// The HA quorum status (`OK`, or why not).
    pub(crate) quorum: String,
    /// The node running the HA manager.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) master: Option<String>,
    /// Managed guests per HA state (`started`, `stopped`, `error`, `fence`...).
    pub(crate) resources: std::collections::BTreeMap<String, usize>,
}

async fn get_cluster_overview_handler(
    ctx: &ToolCtx,
    _p: NoParams,
) -> Result<OverviewOutput, ToolError> {
    let c = &ctx.client;
    let (resources, status, tasks, ha) = tokio::join!(
        c.cluster_resources(None),
        c.cluster_status(),
        c.cluster_tasks(),
        c.ha_status()
    );
    // Resources and status are the overview; without the task list (said in `problems`) or
    // HA (a token without the right, a standalone node) the rest still answers.
    Ok(build::overview(build::Inputs {
        resources: resources?,
        status: status?,
        tasks: tasks.map_err(|e| e.to_string()),
        ha: ha.ok(),
    }))
}
