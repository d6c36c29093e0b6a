//! One SSH connection to a simulated node (russh's server handler): public-key login for the
//! configured user and keys only; session channels that run one exec request each; no shell,
//! pty, subsystem or forwarding.
//!
//! A command's "process" lives in a task: it waits its run time, then sends its output, exit
//! status, EOF and close. It is hung up (ends by `HUP`, reported as an exit signal while the
//! channel is open) when the channel closes, when the connection drops, or, for a command inside
//! the hang-up prologue, when the channel's input ends, as the prologue's watcher would; a
//! `signal` request ends it by that signal. A plain command's input ending changes nothing (the
//! OpenSSH client ends it at once when its own input is empty).

use std::collections::HashMap;
use std::sync::Arc;

use russh::keys::PublicKey;
use russh::server::{Auth, Handle, Msg, Session};
use russh::{Channel, ChannelId, MethodKind, MethodSet, Sig};
use tokio::sync::watch;

use super::NodeCtx;
use super::commands::{self, Reply};
use super::log::SshLog;

/// Who may log in.
#[derive(Debug)]
pub(super) struct Logins {
    pub user: String,
    pub keys: Vec<PublicKey>,
}

impl Logins {
    fn allow(&self, user: &str, key: &PublicKey) -> bool {
        user == self.user && self.keys.iter().any(|k| k.key_data() == key.key_data())
    }
}

/// What ends a running command early.
#[derive(Debug, Clone)]
enum Stop {
    HangUp,
    Signal(Sig),
}

/// A session channel.
struct Chan {
    started: bool,
    hangup_on_eof: bool,
    stop: watch::Sender<Option<Stop>>,
}

impl Chan {
    fn stop(&self, why: Stop) {
        self.stop.send_if_modified(|s| {
            if s.is_some() {
                return false;
            }
            *s = Some(why);
            true
        });
    }
}

/// The handler of one connection.
pub(super) struct Conn {
    ctx: Arc<NodeCtx>,
    user: String,
    channels: HashMap<ChannelId, Chan>,
}

impl Conn {
    pub(super) fn new(ctx: Arc<NodeCtx>) -> Self {
        Self {
            ctx,
            user: String::new(),
            channels: HashMap::new(),
        }
    }

    fn login(&mut self, user: &str, key: &PublicKey) -> Auth {
        if self.ctx.logins.allow(user, key) {
            self.user = user.to_owned();
            Auth::Accept
        } else {
            keys_only()
        }
    }
}

/// A refusal that tells the client public keys are the only way in.
fn keys_only() -> Auth {
    Auth::Reject {
        proceed_with_methods: Some(MethodSet::from(&[MethodKind::PublicKey][..])),
        partial_success: false,
    }
}

impl russh::server::Handler for Conn {
    type Error = russh::Error;

    async fn auth_none(&mut self, _user: &str) -> Result<Auth, Self::Error> {
        Ok(keys_only())
    }

    async fn auth_password(&mut self, _user: &str, _password: &str) -> Result<Auth, Self::Error> {
        Ok(keys_only())
    }

    async fn auth_publickey_offered(
        &mut self,
        user: &str,
        key: &PublicKey,
    ) -> Result<Auth, Self::Error> {
        if self.ctx.logins.allow(user, key) {
            Ok(Auth::Accept)
        } else {
            Ok(keys_only())
        }
    }

    async fn auth_publickey(&mut self, user: &str, key: &PublicKey) -> Result<Auth, Self::Error> {
        Ok(self.login(user, key))
    }

    async fn channel_open_session(
        &mut self,
        channel: Channel<Msg>,
        reply: russh::server::ChannelOpenHandle,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        let (stop, _) = watch::channel(None);
        self.channels.insert(
            channel.id(),
            Chan {
                started: false,
                hangup_on_eof: false,
                stop,
            },
        );
        reply.accept().await;
        Ok(())
    }

    async fn exec_request(
        &mut self,
        channel: ChannelId,
        data: &[u8],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        let Some(chan) = self.channels.get_mut(&channel).filter(|c| !c.started) else {
            session.channel_failure(channel)?;
            return Ok(());
        };
        chan.started = true;
        let job = commands::prepare(&self.ctx, &self.user, data);
        chan.hangup_on_eof = job.prologue;
        let stop = chan.stop.subscribe();
        session.channel_success(channel)?;
        let seq = self.ctx.log.push(job.record);
        tokio::spawn(process(
            job.reply,
            session.handle(),
            channel,
            stop,
            self.ctx.log.clone(),
            seq,
        ));
        Ok(())
    }

    async fn shell_request(
        &mut self,
        channel: ChannelId,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        session.channel_failure(channel)?;
        Ok(())
    }

    async fn subsystem_request(
        &mut self,
        channel: ChannelId,
        _name: &str,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        session.channel_failure(channel)?;
        Ok(())
    }

    async fn pty_request(
        &mut self,
        channel: ChannelId,
        _term: &str,
        _col_width: u32,
        _row_height: u32,
        _pix_width: u32,
        _pix_height: u32,
        _modes: &[(russh::Pty, u32)],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        session.channel_failure(channel)?;
        Ok(())
    }

    async fn env_request(
        &mut self,
        channel: ChannelId,
        _name: &str,
        _value: &str,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        session.channel_failure(channel)?;
        Ok(())
    }

    async fn signal(
        &mut self,
        channel: ChannelId,
        signal: Sig,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        if let Some(chan) = self.channels.get(&channel).filter(|c| c.started) {
            chan.stop(Stop::Signal(signal));
        }
        Ok(())
    }

    async fn channel_eof(
        &mut self,
        channel: ChannelId,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        if let Some(chan) = self.channels.get(&channel).filter(|c| c.hangup_on_eof) {
            chan.stop(Stop::HangUp);
        }
        Ok(())
    }

    async fn channel_close(
        &mut self,
        channel: ChannelId,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        if let Some(chan) = self.channels.remove(&channel) {
            chan.stop(Stop::HangUp);
        }
        Ok(())
    }
}

/// The command's "process": runs for its wait unless stopped, then reports how it ended and
/// closes the channel.
async fn process(
    reply: Reply,
    handle: Handle,
    id: ChannelId,
    mut stop: watch::Receiver<Option<Stop>>,
    log: Arc<SshLog>,
    seq: u64,
) {
    let stopped = if reply.wait.is_zero() {
        None
    } else {
        tokio::select! {
            () = tokio::time::sleep(reply.wait) => None,
            // The sender gone means the connection dropped: a hang-up too.
            s = stop.wait_for(Option::is_some) => Some(
                s.ok().and_then(|s| s.clone()).unwrap_or(Stop::HangUp)
            ),
        }
    };
    match stopped {
        None => {
            log.end(seq, Some(reply.status), None);
            if !reply.out.is_empty() {
                let _ = handle.data(id, reply.out.into_bytes()).await;
            }
            if !reply.err.is_empty() {
                let _ = handle.extended_data(id, 1, reply.err.into_bytes()).await;
            }
            let _ = handle.eof(id).await;
            let _ = handle.exit_status_request(id, reply.status).await;
        }
        Some(why) => {
            let sig = match why {
                Stop::HangUp => Sig::HUP,
                Stop::Signal(sig) => sig,
            };
            log.end(seq, None, Some(signal_name(&sig)));
            let _ = handle.eof(id).await;
            let _ = handle
                .exit_signal_request(id, sig, false, String::new(), "en".into())
                .await;
        }
    }
    let _ = handle.close(id).await;
}

/// The signal's name without `SIG`, as the protocol carries it.
fn signal_name(sig: &Sig) -> String {
    match sig {
        Sig::Custom(name) => name.clone(),
        // The other variants are named as the protocol names them.
        named => format!("{named:?}"),
    }
}
