//! The simulator's command line (`pve-sim --listen 127.0.0.1:8006`, with `--ssh-listen` for the
//! nodes' SSH servers), as a `clap::Args` struct so `proxmox-mcp sim` can reuse it, and [`run`],
//! which serves until Ctrl-C or SIGTERM. [`ClusterArgs`] (`--nodes`, `--vms`, `--containers`,
//! `--seed`) chooses the cluster; other commands that start a simulator (`proxmox-mcp serve
//! --demo`) can flatten it too.

use std::net::SocketAddr;
use std::path::PathBuf;

use crate::seed::ClusterBuilder;
use crate::server::{SimConfig, SimError, SimServer, spawn};
use crate::ssh::{DEFAULT_HOST_KEY_SEED, SshConfig};
use crate::state::Cluster;

/// Which cluster to simulate: the demo cluster, or, when any size is given, a built one of that
/// shape (deterministic for the same flags).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ClusterArgs {
    /// Build a cluster of this many nodes (1-50) instead of the demo cluster.
    #[arg(long, value_name = "N", env = "PVE_SIM_NODES")]
    pub nodes: Option<usize>,
    /// Build a cluster with this many QEMU VMs (at most 10,000 guests in all).
    #[arg(long, value_name = "N", env = "PVE_SIM_VMS")]
    pub vms: Option<usize>,
    /// Build a cluster with this many LXC containers.
    #[arg(long, value_name = "N", env = "PVE_SIM_CONTAINERS")]
    pub containers: Option<usize>,
    /// Vary the built cluster's guests (names, sizes, which run): the same seed gives the same
    /// cluster.
    #[arg(long, value_name = "N", env = "PVE_SIM_SEED")]
    pub seed: Option<u64>,
}

impl ClusterArgs {
    /// Whether the flags ask for a built cluster rather than the demo one.
    pub fn is_built(&self) -> bool {
        self.nodes.is_some()
            || self.vms.is_some()
            || self.containers.is_some()
            || self.seed.is_some()
    }

    /// The cluster the flags describe: the demo cluster without any of them; otherwise a
    /// `ClusterBuilder` cluster (3 nodes, no guests, seed 0 unless given), named `sim-cluster`.
    pub fn cluster(&self) -> Cluster {
        if !self.is_built() {
            return crate::seed::demo();
        }
        ClusterBuilder::new()
            .name("sim-cluster")
            .nodes(self.nodes.unwrap_or(3))
            .vms(self.vms.unwrap_or(0))
            .cts(self.containers.unwrap_or(0))
            .seed(self.seed.unwrap_or(0))
            .build()
    }

    /// A line saying what the flags chose, for banners.
    pub fn describe(&self, cluster: &Cluster) -> String {
        let vms = cluster
            .guests
            .values()
            .filter(|g| g.kind == crate::state::GuestKind::Qemu)
            .count();
        let cts = cluster.guests.len() - vms;
        let what = if self.is_built() {
            format!("built cluster (seed {})", self.seed.unwrap_or(0))
        } else {
            "demo cluster".to_string()
        };
        format!(
            "{what}: {} nodes, {vms} VMs, {cts} containers",
            cluster.nodes.len()
        )
    }
}

/// Flags of `pve-sim` (and `proxmox-mcp sim`).
#[derive(Debug, Clone, clap::Args)]
pub struct SimArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8006", env = "PVE_SIM_LISTEN")]
    pub listen: SocketAddr,
    /// Password accepted for root@pam (default: the demo password `demo`).
    #[arg(long, env = "PVE_SIM_ROOT_PASSWORD", hide_env_values = true)]
    pub root_password: Option<String>,
    /// API token with admin privileges, as USER@REALM!TOKENID=SECRET (repeatable).
    #[arg(long = "api-token", value_name = "USER@REALM!TOKENID=SECRET")]
    pub api_tokens: Vec<String>,
    /// API token with read-only (PVEAuditor) privileges, same form (repeatable).
    #[arg(long = "audit-token", value_name = "USER@REALM!TOKENID=SECRET")]
    pub audit_tokens: Vec<String>,
    /// Write the generated certificate (PEM) to this file.
    #[arg(long, value_name = "FILE")]
    pub cert_out: Option<PathBuf>,
    /// Serve plain HTTP instead of HTTPS.
    #[arg(long)]
    pub plain_http: bool,
    /// Multiplier on task durations: 1 is realistic, 0.1 ten times faster, 0 instant.
    #[arg(long, default_value_t = 1.0)]
    pub time_scale: f64,
    /// Serve SSH for the nodes too: the first node listens here, the others on the next ports
    /// (port 0: a free port each). Needs --ssh-authorized-keys.
    #[arg(long, value_name = "ADDR", env = "PVE_SIM_SSH_LISTEN")]
    pub ssh_listen: Option<SocketAddr>,
    /// Public key allowed to log in over SSH: an authorized_keys file, or the key text itself
    /// (`ssh-ed25519 AAAA...`). Repeatable.
    #[arg(
        long = "ssh-authorized-keys",
        value_name = "FILE|KEY",
        env = "PVE_SIM_SSH_AUTHORIZED_KEYS"
    )]
    pub ssh_authorized_keys: Vec<String>,
    /// SSH login user.
    #[arg(long, default_value = "root", env = "PVE_SIM_SSH_USER")]
    pub ssh_user: String,
    /// Seed of the nodes' SSH host keys: the same seed gives the same fingerprints.
    #[arg(long, default_value = DEFAULT_HOST_KEY_SEED, env = "PVE_SIM_SSH_HOST_KEY_SEED")]
    pub ssh_host_key_seed: String,
    #[command(flatten)]
    pub cluster: ClusterArgs,
}

impl SimArgs {
    pub fn config(&self) -> SimConfig {
        SimConfig {
            listen: self.listen,
            tls: !self.plain_http,
            root_password: self.root_password.clone(),
            api_tokens: self.api_tokens.clone(),
            audit_tokens: self.audit_tokens.clone(),
            time_scale: self.time_scale,
        }
    }

    /// The SSH settings, when `--ssh-listen` asks for SSH (authorized key files read here).
    pub fn ssh_config(&self) -> Result<Option<SshConfig>, SimError> {
        let Some(listen) = self.ssh_listen else {
            if self.ssh_authorized_keys.is_empty() {
                return Ok(None);
            }
            return Err(SimError::Ssh(
                "--ssh-authorized-keys needs --ssh-listen".into(),
            ));
        };
        if self.ssh_authorized_keys.is_empty() {
            return Err(SimError::Ssh(
                "--ssh-listen needs --ssh-authorized-keys (a public key file or key text)".into(),
            ));
        }
        let keys = self
            .ssh_authorized_keys
            .iter()
            .map(|v| crate::ssh::key_source(v))
            .collect::<Result<Vec<_>, _>>()
            .map_err(SimError::Ssh)?;
        if !listen.ip().is_loopback() && self.ssh_host_key_seed == DEFAULT_HOST_KEY_SEED {
            tracing::warn!(
                %listen,
                "SSH listens beyond loopback with host keys from the default, public seed: set \
                 --ssh-host-key-seed"
            );
        }
        let mut config = SshConfig::new(listen, keys);
        config.user = self.ssh_user.clone();
        config.host_key_seed = self.ssh_host_key_seed.clone();
        Ok(Some(config))
    }
}

/// Starts the simulator with the chosen cluster, prints the banner, serves until
/// Ctrl-C/SIGTERM.
pub async fn run(args: SimArgs) -> Result<(), SimError> {
    let ssh_config = args.ssh_config()?;
    let cluster = args.cluster.cluster();
    let described = args.cluster.describe(&cluster);
    let server = spawn(args.config(), cluster).await?;
    if let Some(path) = &args.cert_out {
        std::fs::write(path, server.cert_pem())?;
    }
    let ssh = match ssh_config {
        Some(config) => Some(crate::ssh::spawn(&server, config).await?),
        None => None,
    };
    println!("{}\n{described}", banner(&args, &server));
    if let Some(ssh) = &ssh {
        println!("{}", ssh.banner());
    }
    wait_for_signal().await;
    tracing::info!("shutting down");
    if let Some(ssh) = ssh {
        ssh.shutdown().await;
    }
    server.shutdown().await;
    Ok(())
}

/// What the simulator prints at start: address, fingerprint, credentials in effect.
pub fn banner(args: &SimArgs, server: &SimServer) -> String {
    let mut out = vec![
        format!(
            "pve-sim: Proxmox VE API simulator listening on {}",
            server.base_url()
        ),
        format!("certificate SHA-256 fingerprint: {}", server.fingerprint()),
    ];
    if let Some(path) = &args.cert_out {
        out.push(format!("certificate written to {}", path.display()));
    }
    if args.plain_http {
        out.push("serving plain HTTP (no TLS)".to_string());
    }
    match &args.root_password {
        Some(pw) => out.push(format!("user: root@pam  password: {pw}")),
        None => {
            out.push(format!(
                "user: root@pam  password: {}",
                crate::DEFAULT_ROOT_PASSWORD
            ));
            out.push(
                "(demo default credentials: set --root-password for anything but a demo)"
                    .to_string(),
            );
        }
    }
    for t in &args.api_tokens {
        out.push(format!("API token (admin): {t}"));
    }
    for t in &args.audit_tokens {
        out.push(format!("API token (read-only): {t}"));
    }
    out.push(format!("task time scale: {}", args.time_scale));
    out.join("\n")
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
