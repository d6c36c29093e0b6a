//! Waiting for a PVE task: poll `/tasks/{upid}/status` (quickly at first, then every
//! `poll_interval`) until it stops or the wait times out, reporting progress; on failure fetch
//! the tail of the task log. This is the one task wait: the server's tools use it too, including
//! [`PveClient::stop_task_and_wait`] (stop a task, then wait for it to end). A timed-out or
//! cancelled wait is a normal outcome that still carries the UPID, so callers can hand it to the
//! agent to poll later.

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::api::tasks::TaskStatus;
use crate::client::PveClient;
use crate::error::{Error, ErrorKind, human_duration};
use crate::upid::Upid;

/// Progress callback: called after every status poll.
pub type ProgressFn = Arc<dyn Fn(&TaskProgress<'_>) + Send + Sync>;

/// What a progress callback sees.
#[derive(Debug)]
pub struct TaskProgress<'a> {
    pub upid: &'a Upid,
    pub status: &'a TaskStatus,
    /// Time since the wait began.
    pub elapsed: Duration,
    /// Number of status polls so far (from 1).
    pub polls: u32,
}

/// How to wait for a task.
#[derive(Clone)]
pub struct WaitOptions {
    /// Longest pause between polls (default 1 s; the first polls come sooner).
    pub poll_interval: Duration,
    /// Give up waiting after this long (default 5 min); the task keeps running.
    pub timeout: Duration,
    /// Called after every poll.
    pub progress: Option<ProgressFn>,
    /// Log lines to fetch when the task failed (default 20).
    pub log_tail: u64,
    /// Ends the wait early (a `TimedOut` outcome with `cancelled: true`); the task keeps running.
    pub cancel: Option<CancellationToken>,
}

impl Default for WaitOptions {
    fn default() -> Self {
        Self {
            poll_interval: Duration::from_secs(1),
            timeout: Duration::from_secs(300),
            progress: None,
            log_tail: 20,
            cancel: None,
        }
    }
}

impl std::fmt::Debug for WaitOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WaitOptions")
            .field("poll_interval", &self.poll_interval)
            .field("timeout", &self.timeout)
            .field("progress", &self.progress.is_some())
            .field("log_tail", &self.log_tail)
            .field("cancel", &self.cancel)
            .finish()
    }
}

impl WaitOptions {
    /// Defaults with this timeout.
    pub fn with_timeout(timeout: Duration) -> Self {
        Self {
            timeout,
            ..Self::default()
        }
    }
    /// Sets the progress callback.
    pub fn on_progress(mut self, f: impl Fn(&TaskProgress<'_>) + Send + Sync + 'static) -> Self {
        self.progress = Some(Arc::new(f));
        self
    }
    /// Ends the wait when `token` is cancelled.
    pub fn cancel_on(mut self, token: CancellationToken) -> Self {
        self.cancel = Some(token);
        self
    }
}

/// How a wait ended.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum TaskOutcome {
    /// Stopped with `OK` (or `WARNINGS: n`).
    Succeeded { status: TaskStatus },
    /// Stopped with another exit status; `log_tail` holds the last log lines
    /// (the last is usually `TASK ERROR: ...`).
    Failed {
        status: TaskStatus,
        exitstatus: String,
        log_tail: Vec<String>,
    },
    /// Still running when the wait gave up (its timeout passed, or it was `cancelled`); poll
    /// `upid` again later.
    TimedOut {
        upid: Upid,
        last: Option<TaskStatus>,
        waited_secs: f64,
        cancelled: bool,
    },
}

/// How [`PveClient::stop_task_and_wait`] ended.
#[derive(Debug, Clone, Serialize)]
pub struct StopOutcome {
    /// This call asked PVE to stop the task (false: it had already ended, nothing was sent).
    pub requested: bool,
    /// The wait for the task to end after the request (or its status when it had ended).
    pub outcome: TaskOutcome,
}

impl TaskOutcome {
    /// Whether the task finished successfully.
    pub fn is_success(&self) -> bool {
        matches!(self, TaskOutcome::Succeeded { .. })
    }

    /// The task's last known status: the final one once it stopped, the last poll's while it
    /// runs (`None` when no poll answered).
    pub fn last_status(&self) -> Option<&TaskStatus> {
        match self {
            TaskOutcome::Succeeded { status } | TaskOutcome::Failed { status, .. } => Some(status),
            TaskOutcome::TimedOut { last, .. } => last.as_ref(),
        }
    }

    /// Whether the task is still running (as far as the wait saw).
    pub fn is_running(&self) -> bool {
        matches!(self, TaskOutcome::TimedOut { .. })
    }

    /// PVE's exit status once stopped (`OK`, `WARNINGS: n`, the error); `None` while running.
    pub fn exitstatus(&self) -> Option<&str> {
        match self {
            TaskOutcome::Succeeded { status } => status.exitstatus.as_deref(),
            TaskOutcome::Failed { exitstatus, .. } => Some(exitstatus),
            TaskOutcome::TimedOut { .. } => None,
        }
    }

    /// `Ok(status)` on success; a TaskFailed error (with the exit status) or a Timeout error
    /// (naming the UPID) otherwise.
    pub fn into_result(self) -> Result<TaskStatus, Error> {
        match self {
            TaskOutcome::Succeeded { status } => Ok(status),
            TaskOutcome::Failed {
                status, exitstatus, ..
            } => Err(Error::new(
                ErrorKind::TaskFailed,
                format!("task {} failed: {exitstatus}", describe(&status)),
            )),
            TaskOutcome::TimedOut {
                upid,
                waited_secs,
                cancelled,
                ..
            } => {
                let (kind, ended) = if cancelled {
                    (ErrorKind::Cancelled, "wait cancelled")
                } else {
                    (ErrorKind::Timeout, "still running")
                };
                Err(Error::new(
                    kind,
                    format!(
                        "task {upid} {ended} after {}; it continues on node {}",
                        human_duration(Duration::from_secs_f64(waited_secs)),
                        upid.node
                    ),
                ))
            }
        }
    }
}

/// `qmstart 101 on pve1`.
fn describe(s: &TaskStatus) -> String {
    if s.id.is_empty() {
        format!("{} on {}", s.task_type, s.node)
    } else {
        format!("{} {} on {}", s.task_type, s.id, s.node)
    }
}

impl PveClient {
    /// Polls a task until it stops, `opts.timeout` passes or `opts.cancel` fires. Transport
    /// errors that may pass (node briefly unreachable) are ridden out; others end the wait with
    /// `Err`. The first poll always happens (a zero timeout means "look once").
    pub async fn wait_task(&self, upid: &Upid, opts: &WaitOptions) -> Result<TaskOutcome, Error> {
        let started = Instant::now();
        let deadline = started + opts.timeout;
        let cancel = opts.cancel.clone().unwrap_or_default();
        let mut last: Option<TaskStatus> = None;
        let mut polls = 0u32;
        let mut first = true;
        let cancelled = loop {
            let poll = async {
                if std::mem::take(&mut first) {
                    Ok(self.task_status(upid).await)
                } else {
                    tokio::time::timeout_at(deadline, self.task_status(upid)).await
                }
            };
            let polled = tokio::select! {
                biased;
                () = cancel.cancelled() => break true,
                polled = poll => polled,
            };
            match polled {
                Err(_elapsed) => break false,
                Ok(Ok(status)) => {
                    polls += 1;
                    if let Some(cb) = &opts.progress {
                        cb(&TaskProgress {
                            upid,
                            status: &status,
                            elapsed: started.elapsed(),
                            polls,
                        });
                    }
                    if !status.is_running() {
                        return Ok(self.finished(upid, status, opts.log_tail).await);
                    }
                    last = Some(status);
                }
                Ok(Err(e)) if e.is_transient() => {
                    tracing::warn!(upid = %upid, error = %e, "task status poll failed; will retry");
                }
                Ok(Err(e)) => return Err(e),
            }
            let now = Instant::now();
            if now >= deadline {
                break false;
            }
            let ramp = Duration::from_millis(100).saturating_mul(1 << polls.min(8));
            let pause = ramp.min(opts.poll_interval).min(deadline - now);
            tokio::select! {
                biased;
                () = cancel.cancelled() => break true,
                () = tokio::time::sleep(pause) => {}
            }
        };
        Ok(TaskOutcome::TimedOut {
            upid: upid.clone(),
            last,
            waited_secs: started.elapsed().as_secs_f64(),
            cancelled,
        })
    }

    /// Stops a running task (`DELETE /nodes/{node}/tasks/{upid}`), then waits for it to end with
    /// [`PveClient::wait_task`] and `opts` (PVE signals the worker; it ends shortly after, with
    /// an exit status such as `interrupted by signal`). A task that has already ended is left
    /// alone: `requested: false` and its final status, no DELETE sent. A token already cancelled
    /// before the DELETE is an `ErrorKind::Cancelled` error and nothing is sent.
    pub async fn stop_task_and_wait(
        &self,
        upid: &Upid,
        opts: &WaitOptions,
    ) -> Result<StopOutcome, Error> {
        let before = self.task_status(upid).await?;
        if !before.is_running() {
            return Ok(StopOutcome {
                requested: false,
                outcome: self.finished(upid, before, opts.log_tail).await,
            });
        }
        if opts
            .cancel
            .as_ref()
            .is_some_and(CancellationToken::is_cancelled)
        {
            return Err(Error::new(
                ErrorKind::Cancelled,
                format!("stop of task {upid} cancelled before it was sent"),
            ));
        }
        self.task_stop(upid).await?;
        Ok(StopOutcome {
            requested: true,
            outcome: self.wait_task(upid, opts).await?,
        })
    }

    async fn finished(&self, upid: &Upid, status: TaskStatus, tail: u64) -> TaskOutcome {
        if status.is_ok() {
            return TaskOutcome::Succeeded { status };
        }
        let exitstatus = status
            .exitstatus
            .clone()
            .unwrap_or_else(|| "unknown exit status".to_owned());
        let log_tail = if tail == 0 {
            Vec::new()
        } else {
            match self.task_log_tail(upid, tail).await {
                Ok(lines) => lines.into_iter().map(|l| l.t).collect(),
                Err(e) => {
                    tracing::debug!(upid = %upid, error = %e, "could not read the failed task's log");
                    Vec::new()
                }
            }
        };
        TaskOutcome::Failed {
            status,
            exitstatus,
            log_tail,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn outcomes_become_readable_errors() {
        let status = TaskStatus {
            status: "stopped".into(),
            exitstatus: Some("command 'qmshutdown' failed: got timeout".into()),
            task_type: "qmshutdown".into(),
            id: "101".into(),
            node: "pve1".into(),
            ..Default::default()
        };
        let failed = TaskOutcome::Failed {
            status,
            exitstatus: "command 'qmshutdown' failed: got timeout".into(),
            log_tail: vec![],
        };
        let e = failed.into_result().unwrap_err();
        assert_eq!(e.kind(), ErrorKind::TaskFailed);
        assert_eq!(
            e.to_string(),
            "task qmshutdown 101 on pve1 failed: command 'qmshutdown' failed: got timeout"
        );
        let upid: Upid = "UPID:pve1:000003E8:00001B58:6B05BE88:vzdump:101:root@pam:"
            .parse()
            .unwrap();
        let e = TaskOutcome::TimedOut {
            upid: upid.clone(),
            last: None,
            waited_secs: 30.0,
            cancelled: false,
        }
        .into_result()
        .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Timeout);
        assert_eq!(
            e.to_string(),
            "task UPID:pve1:000003E8:00001B58:6B05BE88:vzdump:101:root@pam: still running after 30 s; it continues on node pve1"
        );
        let e = TaskOutcome::TimedOut {
            upid,
            last: None,
            waited_secs: 2.5,
            cancelled: true,
        }
        .into_result()
        .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Cancelled);
        assert_eq!(
            e.to_string(),
            "task UPID:pve1:000003E8:00001B58:6B05BE88:vzdump:101:root@pam: wait cancelled after 2.5 s; it continues on node pve1"
        );
    }
}
