//! Proxmox VE nodes over SSH, for what the API cannot do: `pct exec` in a container, and
//! diagnostic commands on a node.
//!
//! # Usage
//! ```no_run
//! # async fn demo(api: pve_client::PveClient) -> Result<(), pve_client::Error> {
//! use std::time::Duration;
//! use pve_client::ssh::{RunOptions, SshClient, SshConfig};
//!
//! let Some(config) = SshConfig::from_env()? else { return Ok(()) }; // PROXMOX_SSH_*
//! let ssh = SshClient::new(config, Some(api))?;              // loads the key; connects lazily
//! let opts = RunOptions::with_timeout(Duration::from_secs(20)).with_max_output(64 * 1024);
//! let out = ssh.pct_exec("pve1", 101, &["cat", "/etc/os-release"], &opts).await?;
//! println!("{:?} {}", out.exit_code, out.stdout);              // runs `pct exec 101 -- cat /etc/os-release`
//! let diag = ssh.run("pve1", &["pveversion", "-v"], &opts).await?; // a node command (argv)
//! let key = ssh.probe_host_key("pve1").await?;                // for doctor: no authentication
//! println!("{} {}", key.fingerprint, key.trusted);
//! # let _ = diag; Ok(()) }
//! ```
//!
//! # Behaviour
//! - Host keys: a pinned node accepts only its pins; others are looked up in the known_hosts
//!   file. There is no trust on first use: an unknown, changed or revoked key refuses the call
//!   (`ErrorKind::HostKey`), naming the fingerprint the node presented.
//! - Commands are argv: every word is quoted for the node's POSIX login shell ([`quote`]), so
//!   nothing in an argument is read by a shell. [`command_line`] is the exact line sent.
//! - One connection per node, opened on first use and shared by every call (channels on it);
//!   reopened when it died; at most `max_channels_per_node` commands at once per node.
//! - Timeouts and cancellation hang the command up: the channel closes and the command's process
//!   group gets SIGHUP (see [`session_line`] for how, with OpenSSH and root logins); dropping the
//!   call's future does the same.
//! - Node addresses: `SshConfig::addresses`, else the node's `ip` in `/cluster/status`, else
//!   (a node with no address there, the one that answered the API) the API's host.
//!
//! The crypto is russh's with ring: no OpenSSL, no aws-lc.

mod checked;
mod config;
mod conn;
mod key;
mod quote;
mod run;
pub(crate) mod trust;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use russh::keys::PrivateKey;
use tokio::sync::Semaphore;
use tokio::time::Instant;

pub use config::{HostKeyFingerprint, NodeAddress, SshConfig};
pub use key::ClientKey;
pub use quote::{command_line, pct_exec_argv, quote};
pub use run::{RunOptions, RunOutput, session_line};

use crate::client::PveClient;
use crate::error::{Error, ErrorKind, human_duration};
use conn::{Connection, Dial};
use trust::Trust;

/// SSH to the nodes of one cluster. Cheap to clone (shared state); connects lazily.
#[derive(Clone)]
pub struct SshClient {
    inner: Arc<Inner>,
}

struct Inner {
    config: SshConfig,
    key: Arc<PrivateKey>,
    trust: Arc<Trust>,
    api: Option<PveClient>,
    nodes: Mutex<HashMap<String, Arc<NodeState>>>,
}

/// One node: its connection (opened under the lock, so concurrent callers share one) and its
/// channel slots.
struct NodeState {
    conn: tokio::sync::Mutex<Option<Arc<Connection>>>,
    slots: Arc<Semaphore>,
}

/// A node's host key as `probe_host_key` saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostKeyProbe {
    pub node: String,
    /// The address dialled, with its port.
    pub address: NodeAddress,
    /// `ssh-ed25519`, `ecdsa-sha2-nistp256`, `ssh-rsa`, ...
    pub algorithm: String,
    pub fingerprint: HostKeyFingerprint,
    /// The key in OpenSSH's one-line format (`ssh-ed25519 AAAA...`), for a known_hosts line.
    pub public_key: String,
    /// Whether the configured trust accepts it.
    pub trusted: bool,
    /// Why not, when it is not trusted (the same words a refused call gets).
    pub refusal: Option<String>,
}

impl std::fmt::Debug for SshClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SshClient")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

impl SshClient {
    /// Loads the private key (a wrong passphrase or an unreadable key is a Config error now,
    /// not at the first call). `api` finds node addresses in `/cluster/status` for nodes
    /// without an override.
    pub fn new(config: SshConfig, api: Option<PveClient>) -> Result<Self, Error> {
        let passphrase = config.key_passphrase.as_ref().map(|s| s.expose());
        let key = russh::keys::load_secret_key(&config.key_file, passphrase).map_err(|e| {
            let why = match e {
                russh::keys::Error::KeyIsEncrypted => {
                    "the key is encrypted: set PROXMOX_SSH_KEY_PASSPHRASE (or _FILE)".to_owned()
                }
                other if passphrase.is_some() => format!("{other} (is the passphrase right?)"),
                other => other.to_string(),
            };
            Error::config(format!(
                "cannot load the SSH key {}: {why}",
                config.key_file.display()
            ))
        })?;
        Self::with_key(config, &ClientKey(key), api)
    }

    /// A client logging in with `key` (`config.key_file` is not read): for a key made in
    /// memory ([`ClientKey::generate`]).
    pub fn with_key(
        config: SshConfig,
        key: &ClientKey,
        api: Option<PveClient>,
    ) -> Result<Self, Error> {
        let key = key.0.clone();
        if config.max_channels_per_node == 0 {
            return Err(Error::config("max_channels_per_node must be at least 1"));
        }
        Ok(Self {
            inner: Arc::new(Inner {
                trust: Arc::new(Trust::new(&config)),
                key: Arc::new(key),
                config,
                api,
                nodes: Mutex::default(),
            }),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &SshConfig {
        &self.inner.config
    }

    /// Runs `pct exec VMID -- ARGV…` on `node`: the command inside container `vmid`, every
    /// argument kept as it is. pct's own failures (container stopped or missing) come back as
    /// its exit status and stderr.
    pub async fn pct_exec<S: AsRef<str>>(
        &self,
        node: &str,
        vmid: u32,
        argv: &[S],
        opts: &RunOptions,
    ) -> Result<RunOutput, Error> {
        if argv.is_empty() {
            return Err(Error::new(ErrorKind::Params, "the command is empty"));
        }
        self.run(node, &pct_exec_argv(vmid, argv), opts).await
    }

    /// Runs `argv` on `node` itself (the caller decides which commands are allowed).
    pub async fn run<S: AsRef<str>>(
        &self,
        node: &str,
        argv: &[S],
        opts: &RunOptions,
    ) -> Result<RunOutput, Error> {
        let line = command_line(argv)?;
        let started = Instant::now();
        let deadline = started + opts.timeout;
        let cancel = opts.cancel.clone().unwrap_or_default();
        let before_start = |what: &str| {
            if cancel.is_cancelled() {
                Error::new(
                    ErrorKind::Cancelled,
                    format!("command on node {node} cancelled before it started"),
                )
            } else {
                Error::new(
                    ErrorKind::Timeout,
                    format!(
                        "the command on node {node} did not start within {} ({what}); nothing ran",
                        human_duration(opts.timeout)
                    ),
                )
            }
        };
        if cancel.is_cancelled() {
            return Err(before_start(""));
        }
        let state = self.node_state(node);
        let start = async {
            let slot = state
                .slots
                .clone()
                .acquire_owned()
                .await
                .map_err(|_| Error::config("the SSH client is closed"))?;
            let channel = self.open_channel(node, &state).await?;
            Ok::<_, Error>((slot, channel))
        };
        let (_slot, channel) = tokio::select! {
            biased;
            () = cancel.cancelled() => return Err(before_start("")),
            r = tokio::time::timeout_at(deadline, start) => match r {
                Ok(r) => r?,
                Err(_) => return Err(before_start("waiting for a channel or the connection")),
            },
        };
        let at = format!("node {node}");
        run::drive(channel, &line, opts.max_output, deadline, &cancel, &at).await
    }

    /// Where `node` is dialled: its override, else its `/cluster/status` address (the API's
    /// host for the node that answered when it lists none); the port filled in.
    pub async fn node_address(&self, node: &str) -> Result<NodeAddress, Error> {
        let cfg = &self.inner.config;
        let fill = |a: NodeAddress| NodeAddress {
            port: Some(a.port.unwrap_or(cfg.port)),
            host: a.host,
        };
        if let Some(a) = cfg.addresses.get(node) {
            return Ok(fill(a.clone()));
        }
        let Some(api) = &self.inner.api else {
            return Err(Error::config(format!(
                "no SSH address for node {node}: add it to PROXMOX_SSH_ADDRESSES"
            )));
        };
        let status = api.cluster_status().await?;
        let entry = status
            .iter()
            .find(|e| e.kind == "node" && e.name == node)
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::NotFound,
                    format!("node {node} is not in the cluster (GET /cluster/status)"),
                )
            })?;
        let host = match (&entry.ip, entry.local) {
            (Some(ip), _) if !ip.trim().is_empty() => ip.trim().to_owned(),
            (_, Some(true)) => api.config().host.clone(),
            _ => {
                return Err(Error::config(format!(
                    "/cluster/status gives no address for node {node}: add it to \
                     PROXMOX_SSH_ADDRESSES"
                )));
            }
        };
        Ok(fill(NodeAddress::host(host)))
    }

    /// Reads the host key `node` presents (no authentication) and says whether the configured
    /// trust accepts it: what `doctor` shows so an admin can pin it.
    pub async fn probe_host_key(&self, node: &str) -> Result<HostKeyProbe, Error> {
        let address = self.node_address(node).await?;
        let port = address.port.unwrap_or(self.inner.config.port);
        let dial = self.dial(node, &address.host, port);
        let key = dial.probe().await?;
        let verdict = self.inner.trust.check(
            &trust::Peer {
                node,
                host: &address.host,
                port,
            },
            &key,
        );
        Ok(HostKeyProbe {
            node: node.to_owned(),
            algorithm: key.algorithm().as_str().to_owned(),
            fingerprint: HostKeyFingerprint::of(&key),
            public_key: key
                .to_openssh()
                .map_err(|e| Error::protocol(format!("cannot encode the host key: {e}")))?,
            trusted: verdict.is_ok(),
            refusal: verdict.err().map(|e| e.message().to_owned()),
            address,
        })
    }

    /// Closes every connection (calls in flight end with an error; later calls reconnect).
    pub async fn disconnect_all(&self) {
        let nodes: Vec<Arc<NodeState>> = match self.inner.nodes.lock() {
            Ok(map) => map.values().cloned().collect(),
            Err(_) => return,
        };
        for state in nodes {
            if let Some(conn) = state.conn.lock().await.take() {
                let _ = conn
                    .handle
                    .disconnect(russh::Disconnect::ByApplication, "", "en")
                    .await;
            }
        }
    }

    fn node_state(&self, node: &str) -> Arc<NodeState> {
        let mut nodes = match self.inner.nodes.lock() {
            Ok(n) => n,
            Err(poisoned) => poisoned.into_inner(),
        };
        nodes
            .entry(node.to_owned())
            .or_insert_with(|| {
                Arc::new(NodeState {
                    conn: tokio::sync::Mutex::new(None),
                    slots: Arc::new(Semaphore::new(self.inner.config.max_channels_per_node)),
                })
            })
            .clone()
    }

    fn dial<'a>(&'a self, node: &'a str, host: &'a str, port: u16) -> Dial<'a> {
        Dial {
            node,
            host,
            port,
            user: &self.inner.config.user,
            key: &self.inner.key,
            trust: &self.inner.trust,
            timeout: self.inner.config.connect_timeout,
        }
    }

    /// A session channel on the node's connection; a connection found dead is replaced once.
    async fn open_channel(
        &self,
        node: &str,
        state: &NodeState,
    ) -> Result<russh::Channel<russh::client::Msg>, Error> {
        let mut retried = false;
        loop {
            let conn = self.connection(node, state).await?;
            match conn.handle.channel_open_session().await {
                Ok(channel) => return Ok(channel),
                Err(e) if !retried && connection_gone(&e) => {
                    tracing::info!(node, error = %e, "SSH connection lost; reconnecting");
                    let mut slot = state.conn.lock().await;
                    if slot.as_ref().is_some_and(|c| Arc::ptr_eq(c, &conn)) {
                        *slot = None;
                    }
                    retried = true;
                }
                Err(russh::Error::ChannelOpenFailure(why)) => {
                    return Err(Error::new(
                        ErrorKind::Unreachable,
                        format!("node {node} refused to open an SSH session ({why:?})"),
                    ));
                }
                Err(e) => return Err(conn::ssh_error(&format!("node {node}"), e)),
            }
        }
    }

    /// The node's live connection, opened if there is none (or it closed).
    async fn connection(&self, node: &str, state: &NodeState) -> Result<Arc<Connection>, Error> {
        let mut slot = state.conn.lock().await;
        if let Some(conn) = slot.as_ref()
            && !conn.handle.is_closed()
        {
            return Ok(conn.clone());
        }
        let address = self.node_address(node).await?;
        let port = address.port.unwrap_or(self.inner.config.port);
        let conn = Arc::new(self.dial(node, &address.host, port).connect().await?);
        tracing::debug!(node, host = %address.host, port, "SSH connection opened");
        *slot = Some(conn.clone());
        Ok(conn)
    }
}

/// Errors that mean the connection itself is gone (worth one reconnect).
fn connection_gone(e: &russh::Error) -> bool {
    matches!(
        e,
        russh::Error::SendError
            | russh::Error::Disconnect
            | russh::Error::HUP
            | russh::Error::IO(_)
            | russh::Error::RecvError
            | russh::Error::KeepaliveTimeout
            | russh::Error::InactivityTimeout
    )
}
