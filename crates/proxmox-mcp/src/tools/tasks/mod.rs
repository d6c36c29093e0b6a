//! The task tools: `get_task` (status, exit status and log tail of one task, to follow what a
//! long operation left running; toolset `core`), `stop_task` (stop one running task; toolset
//! `tasks`) and, in `list.rs`, `list_tasks` (toolset `tasks`).

mod list;

pub(crate) use list::list_tasks;

use std::time::Duration;

use pve_client::task::WaitOptions;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::ToolError;
use crate::handler;
use crate::registry::TaskWait;
use crate::registry::lenient;
use crate::registry::{Access, ToolCtx, ToolDef, ToolSpec};
use crate::tools::common::parse_upid;

/// Default number of log lines returned.
const DEFAULT_LOG_LINES: u64 = 20;
/// Most log lines returned.
const MAX_LOG_LINES: u64 = 500;
/// Longest pause between the status polls of `stop_task`'s wait.
const STOP_POLL: Duration = Duration::from_millis(500);

/// `get_task`.
pub(super) fn get_task() -> ToolSpec {
    ToolSpec::new(
        ToolDef {
            name: "get_task",
            title: "Task status",
            description: "A task's state, exit status and last log lines. Use it to follow a task a tool left running.",
            toolset: "core",
            access: Access::Read,
            idempotent: true,
        },
        handler!(get_task_handler),
    )
}

/// Parameters of `get_task`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct TaskParams {
    /// Task id (UPID:...).
    pub(crate) upid: String,
    /// Log lines to return (default 20).
    #[serde(default, deserialize_with = "lenient::opt_int")]
    #[schemars(range(max = 500))]
    pub(crate) log_lines: Option<u64>,
}

/// Output of `get_task`.
#[derive(Debug, Serialize, JsonSchema)]
pub(super) struct TaskOutput {
    pub(crate) upid: String,
    pub(crate) node: String,
    /// Task type: `qmstart`, `qmcreate`, `vzdump`, ...
    #[serde(rename = "type")]
    pub(crate) task_type: String,
    /// The object it works on (usually a VMID).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub(crate) id: String,
    pub(crate) user: String,
    /// `running` or `stopped`.
    pub(crate) status: String,
    /// Once stopped: `OK`, `WARNINGS: n`, or the error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) exitstatus: Option<String>,
    /// Once stopped: whether it succeeded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) ok: Option<bool>,
    /// Start time, Unix epoch seconds.
    pub(crate) starttime: i64,
    /// The last log lines.
    pub(crate) log: Vec<String>,
}

async fn get_task_handler(ctx: &ToolCtx, p: TaskParams) -> Result<TaskOutput, ToolError> {
    let lines = p.log_lines.unwrap_or(DEFAULT_LOG_LINES);
    if lines > MAX_LOG_LINES {
        return Err(ToolError::invalid(
            "log_lines",
            format!("must be at most {MAX_LOG_LINES}"),
        ));
    }
    let upid = parse_upid(&p.upid)?;
    let status = ctx.client.task_status(&upid).await?;
    let log = if lines == 0 {
        Vec::new()
    } else {
        ctx.client
            .task_log_tail(&upid, lines)
            .await?
            .into_iter()
            .map(|l| l.t)
            .collect()
    };
    let running = status.is_running();
    Ok(TaskOutput {
        ok: (!running).then(|| status.is_ok()),
        upid: upid.as_str().to_string(),
        node: upid.node.clone(),
        task_type: upid.task_type.clone(),
        id: upid.id.clone(),
        user: upid.user.clone(),
        status: status.status,
        exitstatus: status.exitstatus,
        starttime: upid.starttime,
        log,
    })
}

/// `stop_task`.
pub(super) fn stop_task() -> ToolSpec {
    ToolSpec::new(
        ToolDef {
            name: "stop_task",
            title: "Stop task",
            description: "Stop a running task. Use it to interrupt a backup, migration or clone.",
            toolset: "tasks",
            access: Access::Write,
            idempotent: true,
        },
        handler!(stop_task_handler),
    )
    .waits(TaskWait {
        default_seconds: 5,
        description: "Seconds to wait for the task to end (default 5).",
    })
}

/// Parameters of `stop_task`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct StopTaskParams {
    /// Task id (UPID:...).
    pub(crate) upid: String,
}

/// Output of `stop_task`.
#[derive(Debug, Serialize, JsonSchema)]
pub(super) struct StopTaskOutput {
    pub(crate) upid: String,
    pub(crate) node: String,
    /// True when this call stopped the task; false when it had already ended.
    pub(crate) stopped: bool,
    /// The task's state now: `running` (still ending: check get_task) or `stopped`.
    pub(crate) status: String,
    /// Once ended: PVE's exit status (an interrupted task's error, or what it ended with).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) exitstatus: Option<String>,
}

async fn stop_task_handler(ctx: &ToolCtx, p: StopTaskParams) -> Result<StopTaskOutput, ToolError> {
    let upid = parse_upid(&p.upid)?;
    // PVE signals the worker, which ends shortly after: the bounded wait looks again.
    let opts = WaitOptions {
        poll_interval: STOP_POLL,
        log_tail: 0,
        ..WaitOptions::with_timeout(ctx.wait)
    };
    let stop = ctx
        .until_interrupted(|token| {
            let (upid, opts) = (&upid, opts.cancel_on(token));
            async move { ctx.client.stop_task_and_wait(upid, &opts).await }
        })
        .await?;
    let last = stop.outcome.last_status();
    Ok(StopTaskOutput {
        upid: upid.as_str().to_string(),
        node: upid.node.clone(),
        stopped: stop.requested,
        status: last.map_or_else(|| "running".to_string(), |s| s.status.clone()),
        exitstatus: last.and_then(|s| s.exitstatus.clone()),
    })
}
