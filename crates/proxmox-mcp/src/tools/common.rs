//! What several tools share: finding a guest's node from its VMID, clear not-found messages,
//! the bounded task wait (the call's `wait_seconds`, over `pve_client`'s `wait_task`), unit
//! conversions for compact outputs, and the common parameter types.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use pve_client::task::{TaskOutcome as Waited, WaitOptions};
use pve_client::{ErrorKind, GuestKind, Upid};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::ToolError;
use crate::registry::{DEFAULT_WAIT_SECONDS, TaskWait, ToolCtx};

/// Parameters of a tool that takes none.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NoParams {}

/// A guest power state filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum StatusFilter {
    Running,
    Stopped,
}

impl StatusFilter {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            StatusFilter::Running => "running",
            StatusFilter::Stopped => "stopped",
        }
    }
}

/// The node of guest `vmid` of kind `kind`: `node` when given, else looked up from the VMID
/// (one cached `/cluster/resources` call). A VMID that is missing, or of the other kind, gives
/// an error an agent can act on.
pub(crate) async fn guest_node(
    ctx: &ToolCtx,
    vmid: u32,
    node: Option<String>,
    kind: GuestKind,
) -> Result<String, ToolError> {
    if let Some(node) = node.filter(|n| !n.trim().is_empty()) {
        return Ok(node);
    }
    let loc = ctx
        .client
        .find_guest(vmid)
        .await
        .map_err(|e| guest_error(e, vmid, kind))?;
    if loc.kind != kind {
        return Err(wrong_kind(vmid, kind));
    }
    Ok(loc.node)
}

/// A client error about guest `vmid`, with not-found worded so the agent knows what to do.
pub(crate) fn guest_error(e: pve_client::Error, vmid: u32, kind: GuestKind) -> ToolError {
    // 501 is "not implemented", not a missing guest.
    if e.kind() == ErrorKind::NotFound && e.status() != Some(501) {
        let list = match kind {
            GuestKind::Qemu => "get_vms",
            GuestKind::Lxc => "get_containers",
        };
        return ToolError::Pve {
            status: e.status().or(Some(404)),
            message: format!(
                "{} {vmid} does not exist (call {list} to see the existing VMIDs)",
                kind.noun()
            ),
        };
    }
    e.into()
}

fn wrong_kind(vmid: u32, wanted: GuestKind) -> ToolError {
    let (is, use_instead) = match wanted {
        GuestKind::Qemu => ("a container (LXC), not a VM", "the *_container tools"),
        GuestKind::Lxc => ("a VM (QEMU), not a container", "the *_vm tools"),
    };
    ToolError::Pve {
        status: Some(400),
        message: format!("guest {vmid} is {is}: use {use_instead}"),
    }
}

/// The `wait_seconds` of most tools that start a task (see `ToolSpec::waits`).
pub(crate) const WAIT_FOR_TASK: TaskWait = TaskWait {
    default_seconds: DEFAULT_WAIT_SECONDS,
    description: "Seconds to wait (default 20).",
};

/// Whether the task finished within the wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum TaskState {
    /// The task finished successfully.
    Done,
    /// The task was still running when the wait ended; follow it with `get_task`.
    Running,
}

/// The task a tool started and how far it got.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub(crate) struct TaskOutcome {
    /// The PVE task id; pass it to `get_task` to follow the task.
    pub(crate) upid: String,
    /// `done` or `running`.
    pub(crate) task_status: TaskState,
    /// PVE's exit status once finished (`OK`, `WARNINGS: n`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) exitstatus: Option<String>,
    /// What to do next when the task is still running.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) hint: Option<String>,
}

impl TaskOutcome {
    /// Finished successfully.
    pub(crate) fn is_done(&self) -> bool {
        self.task_status == TaskState::Done
    }
}

/// Sends the lines of task `upid`'s log after the first `next` to `log`, and moves `next` past
/// them.
/// A log that cannot be read now is tried again at the next look.
async fn forward_log(
    ctx: &ToolCtx,
    upid: &Upid,
    next: &std::sync::atomic::AtomicU64,
    log: &dyn crate::registry::TaskLog,
) {
    use std::sync::atomic::Ordering;
    let start = next.load(Ordering::Relaxed);
    match ctx.client.task_log(upid, Some(start), Some(500)).await {
        Ok(page) => {
            // Line `n` (from 1) is the line after `start` lines; an empty page holds one
            // placeholder line (`no content`) numbered at or before `start`.
            let mut last = start;
            for line in page.lines.iter().filter(|l| l.n > start) {
                log.line(upid.as_str(), &line.t);
                last = last.max(line.n);
            }
            next.store(last, Ordering::Relaxed);
        }
        Err(e) => tracing::debug!(upid = %upid, error = %e, "could not read a task's log"),
    }
}

/// Waits up to `wait` for task `upid` (pve-client's bounded wait), reporting progress to the
/// caller; `what` names the operation in messages ("start of VM 101"). A failed task is a
/// `ToolError::Pve` with PVE's exit status and the last log line.
///
/// The task is recorded in `ctx.started`. The wait ends early, answering "still running" as a
/// timeout does, when the call is interrupted (the server's drain, the caller gone). When
/// Proxmox VE stopped answering the status polls (none answered in the last
/// [`SILENCE`], nor one last look), the answer is a timeout error saying since when, not
/// "still running".
pub(crate) async fn wait_task(
    ctx: &ToolCtx,
    upid: &Upid,
    wait: Duration,
    what: &str,
) -> Result<TaskOutcome, ToolError> {
    let id = upid.as_str();
    ctx.started.record(id);
    let total = wait.as_secs_f64().max(1.0);
    let progress = ctx.progress.clone();
    let label = what.to_string();
    let began = SystemTime::now();
    let heard = Arc::new(Mutex::new(None::<(Instant, SystemTime)>));
    let opts = WaitOptions {
        poll_interval: Duration::from_secs(1),
        log_tail: 3,
        ..WaitOptions::with_timeout(wait)
    }
    .on_progress({
        let heard = heard.clone();
        move |p| {
            *heard.lock().unwrap_or_else(PoisonError::into_inner) =
                Some((Instant::now(), SystemTime::now()));
            let elapsed = p.elapsed.as_secs_f64();
            progress.report(
                elapsed.min(total),
                Some(total),
                Some(format!("waiting for {label} ({elapsed:.0}s)")),
            );
        }
    });
    let next_line = std::sync::atomic::AtomicU64::new(0);
    let waiting = ctx.until_interrupted(|stop| async move {
        ctx.client.wait_task(upid, &opts.cancel_on(stop)).await
    });
    let waited = match ctx.log.as_deref() {
        None => waiting.await,
        Some(log) => {
            let tail = async {
                loop {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    forward_log(ctx, upid, &next_line, log).await;
                }
            };
            let waited = tokio::select! {
                waited = waiting => waited,
                () = tail => unreachable!("the log tail loops until the wait ends"),
            };
            // The lines written since the last look, the task's end included.
            forward_log(ctx, upid, &next_line, log).await;
            waited
        }
    };
    if let Ok(Waited::TimedOut {
        cancelled: true, ..
    }) = waited
    {
        let why = if ctx.stop_waiting.is_cancelled() {
            "the server is shutting down, so it stopped waiting"
        } else {
            "the call was interrupted"
        };
        return Ok(running(
            id,
            format!(
                "{why}: {what} is still running on Proxmox VE; call get_task with this upid to \
                 follow it (do not repeat the operation)"
            ),
        ));
    }
    let waited = match waited {
        Ok(Waited::TimedOut { .. }) => {
            let last = *heard.lock().unwrap_or_else(PoisonError::into_inner);
            if last.is_some_and(|(at, _)| at.elapsed() < SILENCE) {
                waited
            } else {
                match last_look(ctx, upid).await {
                    Some(r) => r,
                    None => {
                        let since = last.map_or(began, |(_, t)| t);
                        return Err(ToolError::Timeout(format!(
                            "Proxmox VE stopped answering at {} while the server waited for \
                             {what} (task {id}): the task's state is unknown",
                            crate::audit::rfc3339_at(since)
                        )));
                    }
                }
            }
        }
        other => other,
    };
    match waited {
        Ok(Waited::Succeeded { status }) => Ok(TaskOutcome {
            upid: id.to_string(),
            task_status: TaskState::Done,
            exitstatus: status.exitstatus,
            hint: None,
        }),
        Ok(Waited::Failed {
            exitstatus,
            log_tail,
            ..
        }) => {
            let log = log_tail
                .iter()
                .rev()
                .find(|l| !l.trim().is_empty() && l.as_str() != exitstatus)
                .map(|l| format!("; log: {l}"))
                .unwrap_or_default();
            Err(ToolError::pve(format!(
                "{what} failed: {exitstatus} (task {id}{log})"
            )))
        }
        Ok(Waited::TimedOut { .. }) => Ok(running(
            id,
            format!(
                "{what} is still running after {}s; call get_task with this upid to follow it \
                 (do not repeat the operation)",
                wait.as_secs()
            ),
        )),
        Err(e) => Err(ToolError::Pve {
            status: e.status(),
            message: format!(
                "{what} was started as task {id} but its status could not be read: {e}; \
                 call get_task with this upid to check it"
            ),
        }),
    }
}

/// How long status polls may go unanswered before a wait that ran out takes a last look.
pub(crate) const SILENCE: Duration = Duration::from_secs(2);
/// How long that last look may take.
const LAST_LOOK: Duration = Duration::from_secs(5);

/// One more look at the task (bounded); `None` when Proxmox VE does not answer it either.
async fn last_look(ctx: &ToolCtx, upid: &Upid) -> Option<Result<Waited, pve_client::Error>> {
    let once = WaitOptions {
        log_tail: 3,
        ..WaitOptions::with_timeout(Duration::ZERO)
    };
    match tokio::time::timeout(LAST_LOOK, ctx.client.wait_task(upid, &once)).await {
        Err(_) | Ok(Ok(Waited::TimedOut { last: None, .. })) => None,
        Ok(r) => Some(r),
    }
}

/// A task still running, with what to do about it.
fn running(id: &str, hint: String) -> TaskOutcome {
    TaskOutcome {
        upid: id.to_string(),
        task_status: TaskState::Running,
        exitstatus: None,
        hint: Some(hint),
    }
}

/// The `upid` parameter as a task id, or a bad-parameter error showing the expected shape.
pub(crate) fn parse_upid(text: &str) -> Result<Upid, ToolError> {
    text.trim().parse().map_err(|_| {
        ToolError::invalid(
            "upid",
            "is not a task id (expected UPID:node:pid:pstart:starttime:type:id:user:)",
        )
    })
}

/// Bytes to MiB (rounded down).
pub(crate) fn mib(bytes: u64) -> u64 {
    bytes / (1024 * 1024)
}

/// Bytes to GiB, one decimal.
pub(crate) fn gib(bytes: u64) -> f64 {
    round1(bytes as f64 / (1024.0 * 1024.0 * 1024.0))
}

/// A 0..1 fraction as a percentage, one decimal.
pub(crate) fn percent(fraction: f64) -> f64 {
    round1(fraction * 100.0)
}

/// One decimal.
pub(crate) fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// PVE tags (`a;b` or `a,b`) as a list.
pub(crate) fn split_tags(tags: Option<&str>) -> Vec<String> {
    tags.unwrap_or("")
        .split([';', ',', ' '])
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .collect()
}

/// `Some(trimmed)` unless absent or blank: an optional name as agents send it.
pub(crate) fn trimmed(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

/// `false` is the common case: skip it in compact lists.
pub(crate) fn is_false(b: &bool) -> bool {
    !*b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_are_compact() {
        assert_eq!(mib(2 * 1024 * 1024 * 1024), 2048);
        assert_eq!(gib(32 * 1024 * 1024 * 1024 + 100 * 1024 * 1024), 32.1);
        assert_eq!(percent(0.12345), 12.3);
        assert_eq!(split_tags(Some("web;prod")), vec!["web", "prod"]);
        assert!(split_tags(None).is_empty());
    }
}
