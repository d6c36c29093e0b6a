//! SSH test support: a simulator with its nodes' SSH servers, a russh client pinned to their
//! host keys, and the hang-up prologue pve-client wraps commands in.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use pve_sim::ssh::{SshConfig, SshRecord, SshServer};
use russh::client::{self, Handle};
use russh::keys::ssh_key::private::Ed25519Keypair;
use russh::keys::{PrivateKey, PrivateKeyWithHashAlg, PublicKeyOrCertificate};
use russh::{Channel, ChannelMsg};

use super::{TestSim, start};

/// The client key the test servers authorize (fixed, so failures reproduce).
pub fn client_key() -> PrivateKey {
    PrivateKey::from(Ed25519Keypair::from_seed(&[7; 32]))
}

/// A key no test server authorizes.
pub fn stranger_key() -> PrivateKey {
    PrivateKey::from(Ed25519Keypair::from_seed(&[9; 32]))
}

/// `key`'s public half as an authorized_keys line.
pub fn public_line(key: &PrivateKey) -> String {
    key.public_key().to_openssh().unwrap()
}

/// The demo cluster's API (plain HTTP) and its nodes' SSH servers on free loopback ports.
pub struct SshSim {
    pub api: TestSim,
    pub ssh: SshServer,
}

pub async fn start_ssh() -> SshSim {
    let api = start().await;
    let config = SshConfig::new(
        "127.0.0.1:0".parse().unwrap(),
        [format!("{} test@client", public_line(&client_key()))],
    );
    let ssh = pve_sim::ssh::spawn(&api.server, config).await.unwrap();
    SshSim { api, ssh }
}

impl SshSim {
    pub fn addr(&self, node: &str) -> SocketAddr {
        self.ssh.addr(node).unwrap()
    }

    /// A logged-in connection to `node` as root, its host key pinned to the one announced.
    pub async fn login(&self, node: &str) -> Conn {
        let pin = self.ssh.node(node).unwrap().fingerprint.clone();
        let mut conn = Conn::connect(self.addr(node), Some(pin)).await.unwrap();
        assert!(conn.login("root", &client_key()).await, "login to {node}");
        conn
    }

    /// The log record of the exec request whose line is `line`, once its command has ended.
    pub async fn ended(&self, line: &str) -> SshRecord {
        for _ in 0..200 {
            if let Some(r) = self
                .ssh
                .records()
                .into_iter()
                .find(|r| r.line == line && r.ended())
            {
                return r;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("no ended record for {line:?}: {:#?}", self.ssh.records());
    }
}

/// The russh client's handler: accepts the host key whose fingerprint is pinned (any key when
/// there is no pin) and remembers it.
pub struct Pinned {
    pin: Option<String>,
    seen: Arc<std::sync::Mutex<Option<String>>>,
}

impl client::Handler for Pinned {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        key: &PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        let PublicKeyOrCertificate::PublicKey { key, .. } = key else {
            return Ok(false);
        };
        let fp = key.fingerprint(russh::keys::HashAlg::Sha256).to_string();
        *self.seen.lock().unwrap() = Some(fp.clone());
        Ok(self.pin.as_ref().is_none_or(|p| *p == fp))
    }
}

/// One SSH connection.
pub struct Conn {
    pub handle: Handle<Pinned>,
    /// The host key fingerprint the server presented.
    pub seen: Option<String>,
}

/// What a command did, as the client saw it.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Out {
    pub status: Option<u32>,
    pub signal: Option<String>,
    pub stdout: String,
    pub stderr: String,
    /// The server refused a request on the channel.
    pub refused: bool,
}

impl Conn {
    pub async fn connect(addr: SocketAddr, pin: Option<String>) -> Result<Self, russh::Error> {
        let seen = Arc::default();
        let handler = Pinned {
            pin,
            seen: Arc::clone(&seen),
        };
        let handle = client::connect(Arc::new(client::Config::default()), addr, handler).await?;
        let seen = seen.lock().unwrap().clone();
        Ok(Self { handle, seen })
    }

    pub async fn login(&mut self, user: &str, key: &PrivateKey) -> bool {
        self.handle
            .authenticate_publickey(
                user,
                PrivateKeyWithHashAlg::new(Arc::new(key.clone()), None),
            )
            .await
            .unwrap()
            .success()
    }

    /// Opens a channel and sends `line` as its exec request.
    pub async fn start(&self, line: &str) -> Channel<client::Msg> {
        let channel = self.handle.channel_open_session().await.unwrap();
        channel.exec(true, line.as_bytes()).await.unwrap();
        channel
    }

    /// Runs `line` to its end.
    pub async fn run(&self, line: &str) -> Out {
        collect(self.start(line).await).await
    }
}

/// Reads a channel until it closes.
pub async fn collect(mut channel: Channel<client::Msg>) -> Out {
    let mut out = Out::default();
    let read = async {
        while let Some(msg) = channel.wait().await {
            match msg {
                ChannelMsg::Data { data } => out.stdout.push_str(&String::from_utf8_lossy(&data)),
                ChannelMsg::ExtendedData { data, ext: 1 } => {
                    out.stderr.push_str(&String::from_utf8_lossy(&data));
                }
                ChannelMsg::ExitStatus { exit_status } => out.status = Some(exit_status),
                ChannelMsg::ExitSignal { signal_name, .. } => {
                    out.signal = Some(format!("{signal_name:?}"));
                }
                ChannelMsg::Failure => out.refused = true,
                ChannelMsg::Close => break,
                _ => {}
            }
        }
    };
    // A guard against a hang, not a speed check: every command here ends within seconds.
    tokio::time::timeout(Duration::from_secs(20), read)
        .await
        .expect("the channel closed");
    out
}

/// The line the SSH client sends for `command`: the command inside the hang-up prologue.
pub fn in_prologue(command: &str) -> String {
    format!(
        "{}{command}{}",
        pve_sim::ssh::PROLOGUE_HEAD,
        pve_sim::ssh::PROLOGUE_TAIL
    )
}

/// `argv` as a POSIX shell command line, every word single-quoted (`'` as `'\''`).
pub fn quoted(argv: &[&str]) -> String {
    argv.iter()
        .map(|a| format!("'{}'", a.replace('\'', r"'\''")))
        .collect::<Vec<_>>()
        .join(" ")
}
