//! Running one command on an open session channel: `exec` the command line, collect stdout and
//! stderr (each capped, the rest read and dropped so the command is never blocked on a full
//! pipe), the exit status, and the duration. A timeout, a cancellation or the caller dropping the
//! future hangs the command up by closing the channel.
//!
//! How the command gets SIGHUP: OpenSSH refuses the protocol's `signal` request for root logins
//! ("session signalling requires privilege separation"), and closing a channel without a pty
//! only closes the command's pipes. A pty would merge stderr into stdout and start pagers, so the
//! line sent ([`session_line`]) runs the command behind a one-line POSIX prologue: a watcher
//! reads the channel's input, which this client never writes nor ends while the command runs;
//! when the channel closes, sshd closes that input and the watcher sends SIGHUP to the session's
//! process group (the shell, the command and its children), as a terminal hang-up would.

use std::time::Duration;

use russh::client::Msg;
use russh::{Channel, ChannelMsg, ChannelWriteHalf, Sig};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::error::{Error, ErrorKind};

/// How to run a command over SSH.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Bound on the whole call (waiting for a channel slot, connecting, running; default 30 s).
    /// Once the command has started, reaching it hangs the command up and returns what it had
    /// written with `timed_out: true`; before, the call fails with a Timeout error.
    pub timeout: Duration,
    /// Bytes kept of stdout and of stderr each (default 64 KiB); the rest is read, dropped and
    /// flagged.
    pub max_output: usize,
    /// Cancels the call: before the command starts, nothing runs (an `ErrorKind::Cancelled`
    /// error); once started, the command is hung up and the output so far returned with
    /// `cancelled: true`.
    pub cancel: Option<CancellationToken>,
}

impl Default for RunOptions {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(30),
            max_output: 64 * 1024,
            cancel: None,
        }
    }
}

impl RunOptions {
    /// Defaults with this timeout.
    pub fn with_timeout(timeout: Duration) -> Self {
        Self {
            timeout,
            ..Self::default()
        }
    }
    /// Sets the output cap (bytes per stream).
    pub fn with_max_output(mut self, max_output: usize) -> Self {
        self.max_output = max_output;
        self
    }
    /// Cancels the call when `token` is cancelled.
    pub fn cancel_on(mut self, token: CancellationToken) -> Self {
        self.cancel = Some(token);
        self
    }
}

/// What a command over SSH did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunOutput {
    /// The command line run (every argument quoted), as the node's shell read it; it travels
    /// inside [`session_line`].
    pub command_line: String,
    /// Exit status, once the command exited by itself.
    pub exit_code: Option<u32>,
    /// Signal that ended the session's shell, when sshd reports one (a command killed by a
    /// signal inside it shows as exit status 128+N).
    pub signal: Option<String>,
    /// Standard output (UTF-8; invalid bytes replaced), at most `max_output` bytes.
    pub stdout: String,
    /// Standard error, at most `max_output` bytes.
    pub stderr: String,
    pub stdout_truncated: bool,
    pub stderr_truncated: bool,
    /// The timeout passed while the command ran; it was hung up.
    pub timed_out: bool,
    /// The call was cancelled while the command ran; it was hung up.
    pub cancelled: bool,
    /// From the moment the command was sent until it ended (or was hung up).
    pub duration: Duration,
}

impl RunOutput {
    /// Exited by itself with status 0.
    pub fn success(&self) -> bool {
        self.exit_code == Some(0) && !self.timed_out && !self.cancelled
    }
}

/// The line sent for `command` (a [`super::command_line`]): the hang-up prologue, then the
/// command with stdin from /dev/null, its exit status passed on (a command killed by signal N
/// exits 128+N, as in a shell).
pub fn session_line(command: &str) -> String {
    format!(
        "exec 3<&0 </dev/null 4>&2 2>/dev/null; {{ read -r _ <&3; kill -s HUP 0; }} >/dev/null & \
         w=$!; {command} 3<&- 2>&4 4>&-; r=$?; kill $w; exit $r"
    )
}

/// Runs `line` on `channel` until it ends, `deadline` passes or `cancel` fires. `at` names the
/// node in errors.
pub(crate) async fn drive(
    channel: Channel<Msg>,
    line: &str,
    max_output: usize,
    deadline: Instant,
    cancel: &CancellationToken,
    at: &str,
) -> Result<RunOutput, Error> {
    let (mut read, write) = channel.split();
    let mut hangup = Hangup(Some(write));
    let started = Instant::now();
    let lost = |e: russh::Error| super::conn::ssh_error(at, e);
    if let Some(w) = &hangup.0 {
        // The channel's input stays open (and empty) until the hang-up: see `session_line`.
        w.exec(true, session_line(line).as_bytes())
            .await
            .map_err(lost)?;
    }
    let mut stdout = Capped::new(max_output);
    let mut stderr = Capped::new(max_output);
    let mut out = RunOutput {
        command_line: line.to_owned(),
        ..RunOutput::default()
    };
    loop {
        let msg = tokio::select! {
            biased;
            () = cancel.cancelled() => {
                hangup.now().await;
                out.cancelled = true;
                break;
            }
            () = tokio::time::sleep_until(deadline) => {
                hangup.now().await;
                out.timed_out = true;
                break;
            }
            msg = read.wait() => msg,
        };
        match msg {
            Some(ChannelMsg::Data { data }) => stdout.push(&data),
            Some(ChannelMsg::ExtendedData { data, ext: 1 }) => stderr.push(&data),
            Some(ChannelMsg::ExitStatus { exit_status }) => out.exit_code = Some(exit_status),
            Some(ChannelMsg::ExitSignal { signal_name, .. }) => {
                out.signal = Some(signal_text(&signal_name));
            }
            Some(ChannelMsg::Failure) => {
                hangup.now().await;
                return Err(Error::new(
                    ErrorKind::Pve,
                    format!("{at} refused to run the command over SSH (exec request denied)"),
                ));
            }
            Some(ChannelMsg::Close) | None => {
                hangup.disarm();
                if out.exit_code.is_none() && out.signal.is_none() {
                    return Err(Error::new(
                        ErrorKind::Unreachable,
                        format!(
                            "the SSH channel to {at} closed before the command reported how it \
                             ended; it may have run"
                        ),
                    ));
                }
                break;
            }
            Some(_) => {}
        }
    }
    out.duration = started.elapsed();
    (out.stdout, out.stdout_truncated) = stdout.finish();
    (out.stderr, out.stderr_truncated) = stderr.finish();
    Ok(out)
}

/// Hangs the command up unless disarmed: now, or when dropped (the caller's future was dropped).
struct Hangup(Option<ChannelWriteHalf<Msg>>);

impl Hangup {
    async fn now(&mut self) {
        if let Some(w) = self.0.take() {
            hang_up(w).await;
        }
    }
    fn disarm(&mut self) {
        self.0 = None;
    }
}

impl Drop for Hangup {
    fn drop(&mut self) {
        if let Some(w) = self.0.take()
            && let Ok(rt) = tokio::runtime::Handle::try_current()
        {
            rt.spawn(hang_up(w));
        }
    }
}

/// Ends the channel's input and closes it: the prologue of `session_line` sends SIGHUP.
async fn hang_up(w: ChannelWriteHalf<Msg>) {
    if let Err(e) = w.eof().await {
        tracing::debug!(error = %e, "could not end the SSH channel's input");
    }
    let _ = w.close().await;
}

fn signal_text(s: &Sig) -> String {
    let name = match s {
        Sig::ABRT => "ABRT",
        Sig::ALRM => "ALRM",
        Sig::FPE => "FPE",
        Sig::HUP => "HUP",
        Sig::ILL => "ILL",
        Sig::INT => "INT",
        Sig::KILL => "KILL",
        Sig::PIPE => "PIPE",
        Sig::QUIT => "QUIT",
        Sig::SEGV => "SEGV",
        Sig::TERM => "TERM",
        Sig::USR1 => "USR1",
        Sig::Custom(name) => name,
    };
    name.to_owned()
}

/// One output stream: the first `max` bytes kept, the rest counted as cut.
struct Capped {
    buf: Vec<u8>,
    max: usize,
    cut: bool,
}

impl Capped {
    fn new(max: usize) -> Self {
        Self {
            buf: Vec::new(),
            max,
            cut: false,
        }
    }

    fn push(&mut self, data: &[u8]) {
        let room = self.max.saturating_sub(self.buf.len());
        if data.len() > room {
            self.cut = true;
        }
        self.buf.extend_from_slice(&data[..data.len().min(room)]);
    }

    /// The text kept (a character cut by the cap is dropped whole) and whether anything was cut.
    fn finish(mut self) -> (String, bool) {
        if self.cut
            && let Err(e) = std::str::from_utf8(&self.buf)
            && e.error_len().is_none()
        {
            self.buf.truncate(e.valid_up_to());
        }
        (String::from_utf8_lossy(&self.buf).into_owned(), self.cut)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capped_streams_keep_the_head_and_whole_characters() {
        let mut c = Capped::new(5);
        c.push(b"abc");
        c.push(b"def");
        c.push(b"ghi");
        assert_eq!(c.finish(), ("abcde".to_owned(), true));
        let mut c = Capped::new(4);
        c.push("aé☃".as_bytes()); // 1 + 2 + 3 bytes: the snowman is cut
        assert_eq!(c.finish(), ("aé".to_owned(), true));
        let mut c = Capped::new(10);
        c.push(b"ok\xff");
        assert_eq!(c.finish(), ("ok\u{fffd}".to_owned(), false));
        let mut c = Capped::new(0);
        c.push(b"");
        assert_eq!(c.finish(), (String::new(), false));
    }

    #[test]
    fn success_means_exit_zero_by_itself() {
        let ok = RunOutput {
            exit_code: Some(0),
            ..RunOutput::default()
        };
        assert!(ok.success());
        assert!(
            !RunOutput {
                timed_out: true,
                ..ok.clone()
            }
            .success()
        );
        assert!(!RunOutput::default().success());
    }
}
