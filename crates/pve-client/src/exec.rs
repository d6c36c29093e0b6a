//! Running a command in a VM through the QEMU guest agent: `agent/exec`, then poll
//! `agent/exec-status` until the process exits or the timeout passes; output capped.
//!
//! The command is an argv: no shell unless asked (`shell: true` runs `/bin/sh -c <command>`),
//! so arguments are never re-interpreted by accident. The wait reports progress after every poll
//! that finds the process still running, rides out transient poll failures, and ends early when
//! the request's cancellation token fires (the process goes on in the guest; the agent has no
//! kill).

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::client::PveClient;
use crate::error::{Error, ErrorKind};

/// Progress callback of a guest command's wait: called after every poll that found the process
/// still running.
pub type ExecProgressFn = Arc<dyn Fn(&ExecProgress<'_>) + Send + Sync>;

/// What an exec progress callback sees.
#[derive(Debug)]
pub struct ExecProgress<'a> {
    pub node: &'a str,
    pub vmid: u32,
    /// Guest process id.
    pub pid: u64,
    /// Time since the command was sent.
    pub elapsed: Duration,
    /// The request's timeout (the wait ends at `timeout`).
    pub timeout: Duration,
    /// Status polls so far (from 1).
    pub polls: u32,
}

/// What to run.
#[derive(Clone)]
pub struct ExecRequest {
    /// Program and arguments (with `shell`, the words are joined by spaces into one script).
    pub command: Vec<String>,
    /// Run through `/bin/sh -c`.
    pub shell: bool,
    /// Sent to the process's stdin.
    pub input_data: Option<String>,
    /// Stop waiting after this long (default 30 s); the process keeps running in the guest.
    pub timeout: Duration,
    /// Longest pause between status polls (default 500 ms; the first polls come sooner).
    pub poll_interval: Duration,
    /// Bytes kept of stdout and of stderr each (default 64 KiB); the rest is dropped and flagged.
    pub max_output: usize,
    /// Called after every poll that found the process still running.
    pub progress: Option<ExecProgressFn>,
    /// Ends the wait early (`cancelled: true`); when already cancelled, nothing is started.
    pub cancel: Option<CancellationToken>,
}

impl std::fmt::Debug for ExecRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExecRequest")
            .field("command", &self.command)
            .field("shell", &self.shell)
            .field("input_data", &self.input_data.as_ref().map(String::len))
            .field("timeout", &self.timeout)
            .field("poll_interval", &self.poll_interval)
            .field("max_output", &self.max_output)
            .field("progress", &self.progress.is_some())
            .field("cancel", &self.cancel)
            .finish()
    }
}

impl ExecRequest {
    /// Runs `argv` directly (no shell).
    pub fn argv<S: Into<String>>(argv: impl IntoIterator<Item = S>) -> Self {
        Self {
            command: argv.into_iter().map(Into::into).collect(),
            shell: false,
            input_data: None,
            timeout: Duration::from_secs(30),
            poll_interval: Duration::from_millis(500),
            max_output: 64 * 1024,
            progress: None,
            cancel: None,
        }
    }

    /// Runs `script` with `/bin/sh -c`.
    pub fn shell(script: impl Into<String>) -> Self {
        Self {
            shell: true,
            ..Self::argv([script.into()])
        }
    }

    /// Sets the timeout.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets the output cap (bytes per stream).
    pub fn with_max_output(mut self, max_output: usize) -> Self {
        self.max_output = max_output;
        self
    }

    /// Sets the progress callback.
    pub fn on_progress(mut self, f: impl Fn(&ExecProgress<'_>) + Send + Sync + 'static) -> Self {
        self.progress = Some(Arc::new(f));
        self
    }

    /// Ends the wait when `token` is cancelled.
    pub fn cancel_on(mut self, token: CancellationToken) -> Self {
        self.cancel = Some(token);
        self
    }

    /// The argv actually sent to the agent.
    pub fn effective_argv(&self) -> Vec<String> {
        if self.shell {
            vec![
                "/bin/sh".to_owned(),
                "-c".to_owned(),
                self.command.join(" "),
            ]
        } else {
            self.command.clone()
        }
    }
}

/// The result of a guest command.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ExecOutput {
    /// Guest process id.
    pub pid: u64,
    /// The process finished (false when the wait timed out).
    pub exited: bool,
    /// The wait gave up before the process finished.
    pub timed_out: bool,
    /// The wait was cancelled before the process finished.
    pub cancelled: bool,
    pub exit_code: Option<i64>,
    /// Signal that killed the process, if any.
    pub signal: Option<i64>,
    pub stdout: String,
    pub stderr: String,
    /// Stdout was cut (by the agent or by `max_output`).
    pub stdout_truncated: bool,
    pub stderr_truncated: bool,
}

impl ExecOutput {
    /// Exited with code 0.
    pub fn success(&self) -> bool {
        self.exited && self.exit_code == Some(0)
    }
}

impl PveClient {
    /// Runs a command in VM `vmid` on `node` through the guest agent and waits for it.
    /// Agent errors (not running, not enabled) come back as `Err` with PVE's message; a
    /// timeout is `Ok` with `timed_out: true`, a cancelled wait `Ok` with `cancelled: true`
    /// (both keep the pid). Poll failures that may pass (node briefly unreachable, 502/503) are
    /// retried until the timeout. A token cancelled before the call is an `ErrorKind::Cancelled`
    /// error and nothing runs; one cancelled while `agent/exec` is in flight lets that POST end
    /// (the process may have started) and reports its pid.
    pub async fn exec(
        &self,
        node: &str,
        vmid: u32,
        req: &ExecRequest,
    ) -> Result<ExecOutput, Error> {
        if req.command.iter().all(|w| w.trim().is_empty()) {
            return Err(Error::new(ErrorKind::Params, "exec needs a command"));
        }
        let cancel = req.cancel.clone().unwrap_or_default();
        if cancel.is_cancelled() {
            return Err(Error::new(
                ErrorKind::Cancelled,
                format!("exec in VM {vmid} cancelled before it started"),
            ));
        }
        let started = Instant::now();
        let deadline = started + req.timeout;
        let pid = self
            .agent_exec(node, vmid, &req.effective_argv(), req.input_data.as_deref())
            .await?;
        let unfinished = |timed_out: bool| ExecOutput {
            pid,
            timed_out,
            cancelled: !timed_out,
            ..ExecOutput::default()
        };
        let mut polls = 0u32;
        loop {
            let polled = tokio::select! {
                biased;
                () = cancel.cancelled() => return Ok(unfinished(false)),
                polled = tokio::time::timeout_at(deadline, self.agent_exec_status(node, vmid, pid)) => polled,
            };
            polls += 1;
            match polled {
                Err(_elapsed) => break,
                Ok(Err(e)) if e.is_transient() => {
                    tracing::warn!(vmid, pid, error = %e, "exec-status poll failed; will retry");
                }
                Ok(Err(e)) => return Err(e),
                Ok(Ok(st)) if st.exited => {
                    let (stdout, out_cut) = cap(st.out_data.unwrap_or_default(), req.max_output);
                    let (stderr, err_cut) = cap(st.err_data.unwrap_or_default(), req.max_output);
                    return Ok(ExecOutput {
                        pid,
                        exited: true,
                        timed_out: false,
                        cancelled: false,
                        exit_code: st.exitcode,
                        signal: st.signal,
                        stdout,
                        stderr,
                        stdout_truncated: st.out_truncated || out_cut,
                        stderr_truncated: st.err_truncated || err_cut,
                    });
                }
                Ok(Ok(_running)) => {
                    if let Some(cb) = &req.progress {
                        cb(&ExecProgress {
                            node,
                            vmid,
                            pid,
                            elapsed: started.elapsed(),
                            timeout: req.timeout,
                            polls,
                        });
                    }
                }
            }
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            let ramp = Duration::from_millis(50).saturating_mul(1 << polls.min(8));
            let pause = ramp.min(req.poll_interval).min(deadline - now);
            tokio::select! {
                biased;
                () = cancel.cancelled() => return Ok(unfinished(false)),
                () = tokio::time::sleep(pause) => {}
            }
        }
        Ok(unfinished(true))
    }
}

/// Keeps at most `max` bytes (on a char boundary); tells whether it cut.
fn cap(mut s: String, max: usize) -> (String, bool) {
    if s.len() <= max {
        return (s, false);
    }
    let mut end = max;
    while end > 0 && !s.is_char_boundary(end) {
        end -= 1;
    }
    s.truncate(end);
    (s, true)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn argv_and_shell_forms() {
        assert_eq!(
            ExecRequest::argv(["ls", "-l", "/tmp dir"]).effective_argv(),
            ["ls", "-l", "/tmp dir"]
        );
        assert_eq!(
            ExecRequest::shell("echo $HOME | wc -c").effective_argv(),
            ["/bin/sh", "-c", "echo $HOME | wc -c"]
        );
        let mut r = ExecRequest::argv(["uname", "-a"]);
        r.shell = true;
        assert_eq!(r.effective_argv(), ["/bin/sh", "-c", "uname -a"]);
    }

    #[test]
    fn output_cap_respects_char_boundaries() {
        assert_eq!(cap("hello".into(), 10), ("hello".into(), false));
        assert_eq!(cap("hello".into(), 3), ("hel".into(), true));
        assert_eq!(cap("héllo".into(), 2), ("h".into(), true));
        assert_eq!(cap("".into(), 0), ("".into(), false));
    }
}
