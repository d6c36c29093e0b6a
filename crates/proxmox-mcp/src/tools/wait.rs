//! Bounded waiting on a PVE task: every tool that starts a task waits at most `wait_seconds`
//! (default 20, at most 50, because n8n abandons a call after 60 s), reports progress while
//! waiting, then returns the outcome or the UPID of the task still running. A failed task is a
//! `ToolError::Pve` carrying PVE's exit status.

use std::time::{Duration, Instant};

use pve_client::Upid;
use pve_client::api::tasks::TaskStatus;
use schemars::JsonSchema;
use serde::Serialize;

use crate::error::ToolError;
use crate::registry::ToolCtx;

/// Default wait when `wait_seconds` is absent.
pub const DEFAULT_WAIT_SECONDS: u32 = 20;
/// Longest wait accepted (n8n gives up on a call after 60 s).
pub const MAX_WAIT_SECONDS: u32 = 50;

/// The `wait_seconds` parameter checked and turned into a duration.
pub fn wait_for(wait_seconds: Option<u32>) -> Result<Duration, ToolError> {
    let secs = wait_seconds.unwrap_or(DEFAULT_WAIT_SECONDS);
    if secs > MAX_WAIT_SECONDS {
        return Err(ToolError::invalid(
            "wait_seconds",
            format!(
                "must be at most {MAX_WAIT_SECONDS} (clients give up after 60 s); \
                 a longer task keeps running and get_task follows it"
            ),
        ));
    }
    Ok(Duration::from_secs(u64::from(secs)))
}

/// Whether the task finished within the wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum TaskState {
    /// The task finished successfully.
    Done,
    /// The task was still running when the wait ended; follow it with `get_task`.
    Running,
}

/// The task a tool started and how far it got.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct TaskOutcome {
    /// The PVE task id; pass it to `get_task` to follow the task.
    pub upid: String,
    /// `done` or `running`.
    pub task_status: TaskState,
    /// PVE's exit status once finished (`OK`, `WARNINGS: n`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exitstatus: Option<String>,
    /// What to do next when the task is still running.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

impl TaskOutcome {
    /// Finished successfully.
    pub fn is_done(&self) -> bool {
        self.task_status == TaskState::Done
    }
}

/// Waits up to `wait` for task `upid`, reporting progress; `what` names the operation in
/// messages ("start of VM 101").
pub async fn wait_task(
    ctx: &ToolCtx,
    upid: &Upid,
    wait: Duration,
    what: &str,
) -> Result<TaskOutcome, ToolError> {
    let started = Instant::now();
    let deadline = started + wait;
    let total = wait.as_secs_f64().max(1.0);
    let mut delay = Duration::from_millis(100);
    let mut last_error: Option<pve_client::Error>;
    loop {
        match ctx.client.task_status(upid).await {
            Ok(st) if !st.is_running() => return finished(upid, st, what),
            Ok(_) => last_error = None,
            Err(e) => last_error = Some(e),
        }
        let now = Instant::now();
        if now >= deadline {
            break;
        }
        let elapsed = now.duration_since(started).as_secs_f64();
        ctx.report(
            elapsed.min(total),
            Some(total),
            format!("waiting for {what} ({elapsed:.0}s)"),
        );
        let nap = delay.min(deadline.saturating_duration_since(now));
        tokio::select! {
            () = tokio::time::sleep(nap) => {}
            () = ctx.cancel.cancelled() => break,
        }
        delay = (delay * 2).min(Duration::from_secs(1));
    }
    if let Some(e) = last_error {
        return Err(ToolError::Pve {
            status: e.status(),
            message: format!(
                "{what} was started as task {upid} but its status could not be read: {e}; \
                 call get_task with this upid to check it",
                upid = upid.as_str()
            ),
        });
    }
    Ok(TaskOutcome {
        upid: upid.as_str().to_string(),
        task_status: TaskState::Running,
        exitstatus: None,
        hint: Some(format!(
            "{what} is still running after {}s; call get_task with this upid to follow it \
             (do not repeat the operation)",
            wait.as_secs()
        )),
    })
}

fn finished(upid: &Upid, st: TaskStatus, what: &str) -> Result<TaskOutcome, ToolError> {
    if st.is_ok() {
        return Ok(TaskOutcome {
            upid: upid.as_str().to_string(),
            task_status: TaskState::Done,
            exitstatus: st.exitstatus,
            hint: None,
        });
    }
    let exit = st.exitstatus.unwrap_or_else(|| "unknown error".into());
    Err(ToolError::pve(format!(
        "{what} failed: {exit} (task {})",
        upid.as_str()
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wait_seconds_is_bounded() {
        assert_eq!(wait_for(None).ok(), Some(Duration::from_secs(20)));
        assert_eq!(wait_for(Some(0)).ok(), Some(Duration::ZERO));
        assert_eq!(wait_for(Some(50)).ok(), Some(Duration::from_secs(50)));
        match wait_for(Some(51)) {
            Err(ToolError::InvalidParams { param, .. }) => {
                assert_eq!(param.as_deref(), Some("wait_seconds"));
            }
            other => panic!("{other:?}"),
        }
    }
}
