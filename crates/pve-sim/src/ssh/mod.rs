//! The simulated nodes over SSH, for what the API cannot do: `pct exec` in a container and the
//! node's diagnostic commands. Each node of the cluster gets its own SSH server (russh on ring)
//! next to the HTTPS API, on the same simulated cluster.
//!
//! # Usage
//! ```no_run
//! # async fn demo(pub_key_line: String) -> Result<(), pve_sim::SimError> {
//! let api = pve_sim::spawn(pve_sim::SimConfig::default(), pve_sim::seed::demo()).await?;
//! let config = pve_sim::ssh::SshConfig::new("127.0.0.1:0".parse().unwrap(), [pub_key_line]);
//! let ssh = pve_sim::ssh::spawn(&api, config).await?;
//! for n in ssh.nodes() {
//!     println!("{} at {} host key {}", n.node, n.addr, n.fingerprint);
//! }
//! # Ok(()) }
//! ```
//!
//! # Behaviour
//! - Addressing: one listener per node, in node-name order. With port 0 every node gets a free
//!   port; with port P the nodes take P, P+1, … . A client reaches node X at [`SshNode::addr`]
//!   (per-node address overrides, as for nodes behind NAT). A node that is offline in the
//!   simulation closes connections at once.
//! - Host keys: ed25519, derived from [`SshConfig::host_key_seed`] and the node's name, so a
//!   restart with the same seed keeps every fingerprint and nodes differ from one another.
//! - Login: public keys only, for [`SshConfig::user`] with one of the authorized keys; anything
//!   else is refused.
//! - Commands: one exec request per channel, read as a POSIX login shell would (see
//!   [`PROLOGUE_HEAD`] for the hang-up prologue accepted around a command): `pct exec VMID --
//!   ARGV…` in the node's containers (the guest agent's fake OS answers ARGV: `hostname`,
//!   `cat /etc/os-release`, `uname -a`, `echo`, `seq`, `sleep N`, `true`, `false`, `sh -c` with
//!   `;`, `&&`, `||`, `exit N`, `>&2`), and the node commands `pveversion [-v]`, `zpool status`,
//!   `journalctl -u pve-cluster -n N`, `pvecm status`, `df -h`, `uptime`, `hostname`. PVE's
//!   errors and exit status 255 for a stopped or missing container.
//! - Time: `sleep` runs in wall-clock time (not scaled like tasks); a hang-up (the channel closed,
//!   its input ended under the prologue, the connection lost) or a `signal` request ends it.
//! - Every exec request is logged ([`SshServer::records`]): what ran, how it ended.

mod cluster;
mod commands;
mod date;
mod keys;
pub(crate) mod line;
mod log;
mod node;
mod pct;
mod session;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use russh::keys::PrivateKey;
use russh::{MethodKind, MethodSet};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

pub use keys::DEFAULT_HOST_KEY_SEED;
pub(crate) use keys::key_source;
pub use line::{PROLOGUE_HEAD, PROLOGUE_TAIL};
pub use log::{Ran, SSH_LOG_CAPACITY, SshRecord};

use crate::server::{Shared, SimError, SimServer, accept_until_stopped, lock};
use log::SshLog;
use session::{Conn, Logins};

/// How to run the nodes' SSH servers.
#[derive(Debug, Clone)]
pub struct SshConfig {
    /// Where the first node listens (loopback in tests and demos); the others take the next
    /// ports, or free ports when the port is 0.
    pub listen: SocketAddr,
    /// Public keys allowed to log in: `authorized_keys` text, one key a line (several texts may
    /// be given, e.g. one per file).
    pub authorized_keys: Vec<String>,
    /// The login user (default `root`, as on a PVE node).
    pub user: String,
    /// Seed of the host keys (default [`DEFAULT_HOST_KEY_SEED`]).
    pub host_key_seed: String,
}

impl SshConfig {
    /// Defaults (user `root`, the default seed) with these authorized keys.
    pub fn new<S: Into<String>>(
        listen: SocketAddr,
        authorized_keys: impl IntoIterator<Item = S>,
    ) -> Self {
        Self {
            listen,
            authorized_keys: authorized_keys.into_iter().map(Into::into).collect(),
            user: "root".to_owned(),
            host_key_seed: DEFAULT_HOST_KEY_SEED.to_owned(),
        }
    }
}

/// One node's SSH server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SshNode {
    pub node: String,
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its host key's fingerprint, `SHA256:…` as `ssh-keygen -l` prints it.
    pub fingerprint: String,
    /// Its host key in OpenSSH's one-line format (`ssh-ed25519 AAAA…`).
    pub public_key: String,
}

/// The running SSH servers of the simulated nodes. Dropping it stops accepting connections;
/// [`SshServer::shutdown`] also disconnects the open ones and waits.
#[derive(Debug)]
pub struct SshServer {
    nodes: Vec<SshNode>,
    log: Arc<SshLog>,
    user: String,
    stop: watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

/// What a connection to one node shares with the others.
#[derive(Debug)]
struct NodeCtx {
    node: String,
    sim: Arc<Shared>,
    logins: Arc<Logins>,
    log: Arc<SshLog>,
}

/// Starts one SSH server per node of `sim`'s cluster, serving that cluster.
pub async fn spawn(sim: &SimServer, config: SshConfig) -> Result<SshServer, SimError> {
    let keys = keys::authorized_keys(&config.authorized_keys).map_err(SimError::Ssh)?;
    if config.user.is_empty() {
        return Err(SimError::Ssh("the SSH login user is empty".into()));
    }
    let shared = sim.shared().clone();
    let names: Vec<String> = lock(&shared.sim).cluster.nodes.keys().cloned().collect();
    let logins = Arc::new(Logins {
        user: config.user.clone(),
        keys,
    });
    let log = Arc::new(SshLog::default());
    let (stop, stop_rx) = watch::channel(false);
    let mut nodes = Vec::new();
    let mut tasks = Vec::new();
    for (i, name) in names.into_iter().enumerate() {
        let port = match config.listen.port() {
            0 => Some(0),
            p => u16::try_from(i).ok().and_then(|i| p.checked_add(i)),
        };
        let Some(port) = port else {
            return Err(SimError::Ssh(format!(
                "no port left for node {name} after {}",
                config.listen
            )));
        };
        let want = SocketAddr::new(config.listen.ip(), port);
        let listener = TcpListener::bind(want)
            .await
            .map_err(|source| SimError::Bind { addr: want, source })?;
        let addr = listener.local_addr()?;
        let key = keys::host_key(&config.host_key_seed, &name);
        let public_key = key
            .public_key()
            .to_openssh()
            .map_err(|e| SimError::Ssh(format!("cannot encode the host key: {e}")))?;
        nodes.push(SshNode {
            node: name.clone(),
            addr,
            fingerprint: keys::fingerprint(key.public_key()),
            public_key,
        });
        let ctx = Arc::new(NodeCtx {
            node: name,
            sim: shared.clone(),
            logins: logins.clone(),
            log: log.clone(),
        });
        let server = Arc::new(server_config(key));
        tasks.push(tokio::spawn(accept_loop(
            listener,
            server,
            ctx,
            stop_rx.clone(),
        )));
    }
    tracing::info!(nodes = nodes.len(), "pve-sim SSH listening");
    Ok(SshServer {
        nodes,
        log,
        user: config.user,
        stop,
        tasks,
    })
}

impl SshServer {
    /// Every node's server, in node-name order.
    pub fn nodes(&self) -> &[SshNode] {
        &self.nodes
    }

    /// The server of `node`.
    pub fn node(&self, node: &str) -> Option<&SshNode> {
        self.nodes.iter().find(|n| n.node == node)
    }

    /// Where `node` listens.
    pub fn addr(&self, node: &str) -> Option<SocketAddr> {
        self.node(node).map(|n| n.addr)
    }

    /// Every exec request received so far, oldest first (the last [`SSH_LOG_CAPACITY`]).
    pub fn records(&self) -> Vec<SshRecord> {
        self.log.records()
    }

    pub fn clear_records(&self) {
        self.log.clear();
    }

    /// A known_hosts file for every node: `[IP]:PORT KEY NODE` lines (the node's name is a
    /// comment there).
    pub fn known_hosts(&self) -> String {
        self.nodes
            .iter()
            .map(|n| {
                format!(
                    "[{}]:{} {} {}\n",
                    n.addr.ip(),
                    n.addr.port(),
                    n.public_key,
                    n.node
                )
            })
            .collect()
    }

    /// What the simulator prints at start: each node's address and host-key fingerprint.
    pub fn banner(&self) -> String {
        let mut out = vec![format!(
            "SSH: login {} with an authorized key; one server per node:",
            self.user
        )];
        for n in &self.nodes {
            out.push(format!(
                "  ssh {}: {}  host key {}",
                n.node, n.addr, n.fingerprint
            ));
        }
        out.join("\n")
    }

    /// Stops accepting, disconnects the open connections (their commands are hung up), waits.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        for task in std::mem::take(&mut self.tasks) {
            let _ = task.await;
        }
    }
}

impl Drop for SshServer {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

/// The russh settings of one node: its host key, public keys only, quick refusals (loopback
/// only: a simulator has no brute force to slow down).
fn server_config(key: PrivateKey) -> russh::server::Config {
    russh::server::Config {
        keys: vec![key],
        methods: MethodSet::from(&[MethodKind::PublicKey][..]),
        auth_rejection_time: Duration::from_millis(20),
        auth_rejection_time_initial: Some(Duration::ZERO),
        inactivity_timeout: Some(Duration::from_secs(3600)),
        keepalive_interval: Some(Duration::from_secs(30)),
        nodelay: true,
        ..russh::server::Config::default()
    }
}

/// Serves one node's listener; an offline node closes connections at once.
async fn accept_loop(
    listener: TcpListener,
    config: Arc<russh::server::Config>,
    ctx: Arc<NodeCtx>,
    stop: watch::Receiver<bool>,
) {
    let conn_stop = stop.clone();
    accept_until_stopped(listener, stop, move |stream| {
        let online = lock(&ctx.sim.sim)
            .cluster
            .nodes
            .get(&ctx.node)
            .is_some_and(|n| n.online);
        online.then(|| serve(stream, config.clone(), ctx.clone(), conn_stop.clone()))
    })
    .await;
}

/// One connection, until it ends or the server stops.
async fn serve(
    stream: TcpStream,
    config: Arc<russh::server::Config>,
    ctx: Arc<NodeCtx>,
    mut stop: watch::Receiver<bool>,
) {
    let _ = stream.set_nodelay(true);
    let node = ctx.node.clone();
    let session = tokio::select! {
        _ = stop.changed() => return,
        s = russh::server::run_stream(config, stream, Conn::new(ctx)) => match s {
            Ok(s) => s,
            Err(e) => {
                tracing::debug!(error = %e, node, "SSH connection failed");
                return;
            }
        },
    };
    let handle = session.handle();
    tokio::pin!(session);
    tokio::select! {
        r = &mut session => {
            if let Err(e) = r {
                tracing::debug!(error = %e, node, "SSH connection ended");
            }
        }
        _ = stop.changed() => {
            let _ = handle
                .disconnect(
                    russh::Disconnect::ByApplication,
                    "the simulator is shutting down".into(),
                    "en".into(),
                )
                .await;
            let _ = tokio::time::timeout(Duration::from_secs(2), session).await;
        }
    }
}

#[cfg(test)]
mod tests;
