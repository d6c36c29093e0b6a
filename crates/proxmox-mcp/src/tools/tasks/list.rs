//! `list_tasks` (toolset `tasks`): recent tasks of one node or of every online node, newest
//! first, filtered by guest, state and type, paged (`limit`, `offset`, see `paging.rs`).

use futures_util::future::join_all;
use pve_client::api::tasks::{TaskListQuery, TaskSummary};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::ToolError;
use crate::handler;
use crate::registry::lenient;
use crate::registry::{Access, ToolCtx, ToolDef, ToolSpec};
use crate::tools::paging::{PageInfo, Window};

/// Default number of tasks returned.
const DEFAULT_LIMIT: usize = 20;
/// Most tasks returned.
const MAX_LIMIT: usize = 500;

/// `list_tasks`.
pub(crate) fn list_tasks() -> ToolSpec {
    ToolSpec::new(
        ToolDef {
            name: "list_tasks",
            title: "List tasks",
            description: "Recent tasks, newest first. Use it to see what ran or failed; get_task for a log.",
            toolset: "tasks",
            access: Access::Read,
            idempotent: true,
        },
        handler!(list_tasks_handler),
    )
}

/// The state of a task, for filtering.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub(super) enum TaskStateFilter {
    /// Still running.
    Running,
    /// Ended successfully (`OK`).
    Ok,
    /// Ended with an error (warnings not included).
    Error,
    /// Ended with warnings (`WARNINGS: n`).
    Warning,
}

/// Parameters of `list_tasks`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct ListTasksParams {
    /// Only this node.
    #[serde(default)]
    pub(crate) node: Option<String>,
    /// Only this guest.
    #[serde(default, deserialize_with = "lenient::opt_int")]
    #[schemars(range(min = 100))]
    pub(crate) vmid: Option<u32>,
    /// Task state.
    #[serde(default)]
    pub(crate) status: Option<TaskStateFilter>,
    /// Task type (vzdump, qmstart...).
    #[serde(default, rename = "type")]
    pub(crate) task_type: Option<String>,
    /// Since this Unix time.
    #[serde(default, deserialize_with = "lenient::opt_int")]
    pub(crate) since: Option<i64>,
    /// Rows (default 20).
    #[serde(default, deserialize_with = "lenient::opt_int")]
    #[schemars(range(min = 1, max = 500))]
    pub(crate) limit: Option<u32>,
    /// Rows to skip.
    #[serde(default, deserialize_with = "lenient::opt_int")]
    pub(crate) offset: Option<u32>,
}

/// One task.
#[derive(Debug, Serialize, JsonSchema)]
pub(super) struct TaskLine {
    /// Task id; pass it to get_task (log) or stop_task.
    pub(crate) upid: String,
    pub(crate) node: String,
    /// `vzdump`, `qmstart`, ...
    #[serde(rename = "type")]
    pub(crate) task_type: String,
    /// The guest it works on, when its id is a VMID.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) vmid: Option<u32>,
    /// The task's id when it is not a VMID (a storage, a node...).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub(crate) id: String,
    pub(crate) user: String,
    /// `running`, `ok`, `warning` or `error`.
    pub(crate) status: String,
    /// Once ended: PVE's exit status (`OK`, `WARNINGS: 1`, or the error).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) exitstatus: Option<String>,
    /// Start, Unix epoch seconds.
    pub(crate) starttime: i64,
    /// Once ended: how long it ran, in seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) duration_seconds: Option<i64>,
}

/// Output of `list_tasks`.
#[derive(Debug, Serialize, JsonSchema)]
pub(super) struct ListTasksOutput {
    pub(crate) tasks: Vec<TaskLine>,
    #[serde(flatten)]
    pub(crate) page: PageInfo,
    /// Nodes whose tasks could not be read, with the reason.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) unreachable_nodes: Vec<String>,
}

/// `running`, `ok`, `warning` or `error` from PVE's exit status.
fn state_of(exitstatus: Option<&str>) -> &'static str {
    match exitstatus {
        None => "running",
        Some("OK") => "ok",
        Some(s) if s.starts_with("WARNINGS") => "warning",
        Some(_) => "error",
    }
}

fn line(t: TaskSummary) -> TaskLine {
    let vmid = t.id.parse::<u32>().ok().filter(|v| *v >= 100);
    TaskLine {
        status: state_of(t.status.as_deref()).to_string(),
        duration_seconds: t.endtime.map(|e| (e - t.starttime).max(0)),
        upid: t.upid,
        node: t.node,
        task_type: t.task_type,
        id: if vmid.is_some() { String::new() } else { t.id },
        vmid,
        user: t.user,
        exitstatus: t.status,
        starttime: t.starttime,
    }
}

/// The PVE query for these filters, asking each node for its newest `reach` tasks.
fn query(p: &ListTasksParams, reach: usize) -> TaskListQuery {
    let (source, statusfilter) = match p.status {
        None => ("all", None),
        Some(TaskStateFilter::Running) => ("active", None),
        Some(TaskStateFilter::Ok) => ("archive", Some("ok")),
        Some(TaskStateFilter::Error) => ("archive", Some("error")),
        Some(TaskStateFilter::Warning) => ("archive", Some("warning")),
    };
    TaskListQuery {
        limit: Some(u32::try_from(reach).unwrap_or(u32::MAX)),
        vmid: p.vmid,
        typefilter: p
            .task_type
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_string),
        source: Some(source.to_string()),
        statusfilter: statusfilter.map(str::to_string),
        since: p.since,
        ..TaskListQuery::default()
    }
}

async fn list_tasks_handler(
    ctx: &ToolCtx,
    p: ListTasksParams,
) -> Result<ListTasksOutput, ToolError> {
    let window = Window::new(p.limit, p.offset, DEFAULT_LIMIT, MAX_LIMIT)?;
    if let Some(v) = p.vmid
        && v < 100
    {
        return Err(ToolError::invalid("vmid", "VMIDs start at 100"));
    }
    let q = query(&p, window.reach());
    let nodes: Vec<String> = match p.node.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
        Some(n) => vec![n.to_string()],
        None => ctx
            .client
            .nodes()
            .await?
            .into_iter()
            .filter(|n| n.status == "online")
            .map(|n| n.node)
            .collect(),
    };
    let single = nodes.len() == 1 && p.node.is_some();
    let answers = join_all(nodes.iter().map(|n| {
        let q = &q;
        async move { (n.clone(), ctx.client.tasks_page(n, q).await) }
    }))
    .await;
    let mut all = Vec::new();
    let mut total = 0;
    let mut unreachable_nodes = Vec::new();
    for (node, answer) in answers {
        match answer {
            Ok((tasks, node_total)) => {
                // PVE counts every task matching the filters; without it, what came back.
                let counted = node_total.and_then(|t| usize::try_from(t).ok());
                total += counted.unwrap_or(tasks.len()).max(tasks.len());
                all.extend(tasks);
            }
            // Asked for one node: its error is the answer.
            Err(e) if single => return Err(e.into()),
            Err(e) => unreachable_nodes.push(format!("{node}: {e}")),
        }
    }
    all.sort_by(|a, b| {
        b.starttime
            .cmp(&a.starttime)
            .then_with(|| b.upid.cmp(&a.upid))
    });
    let page = window.slice(all);
    let info = window.info(
        page.len(),
        total,
        "tasks",
        "filter (node, vmid, status, type, since)",
    );
    Ok(ListTasksOutput {
        tasks: page.into_iter().map(line).collect(),
        page: info,
        unreachable_nodes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_follow_the_exit_status() {
        assert_eq!(state_of(None), "running");
        assert_eq!(state_of(Some("OK")), "ok");
        assert_eq!(state_of(Some("WARNINGS: 2")), "warning");
        assert_eq!(state_of(Some("job errors")), "error");
    }
}
