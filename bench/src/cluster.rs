//! The simulated clusters the benchmarks point servers at: a `pve_sim` simulator started in this
//! process over HTTPS on `127.0.0.1:0`, holding a cluster made by `ClusterBuilder`, with one admin
//! API token, and the `PROXMOX_*` environment that points a server (ours or a Python one) at it.

use pve_sim::seed::ClusterBuilder;
use pve_sim::{SimConfig, SimServer};

use crate::Res;

/// The simulator's admin token: user, token id, secret.
pub const USER: &str = "root@pam";
pub const TOKEN_NAME: &str = "bench";
pub const SECRET: &str = "00000000-0000-0000-0000-00000000beef";

/// The shape of a built cluster (also the command-line flags that set it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::Args)]
pub struct Shape {
    /// Nodes of the large simulated cluster (1 to 50).
    #[arg(long, default_value_t = Shape::LARGE.nodes)]
    pub nodes: usize,
    /// VMs of the large simulated cluster.
    #[arg(long, default_value_t = Shape::LARGE.vms)]
    pub vms: usize,
    /// Containers of the large simulated cluster.
    #[arg(long, default_value_t = Shape::LARGE.cts)]
    pub cts: usize,
}

impl Shape {
    /// The 2,000-guest cluster of the published figures: 10 nodes, 1,600 VMs, 400 containers.
    pub const LARGE: Shape = Shape {
        nodes: 10,
        vms: 1_600,
        cts: 400,
    };

    pub fn guests(&self) -> usize {
        self.vms + self.cts
    }

    /// The simulator's cluster (the same guests for a shape: round-robin placement, 70% of the
    /// guests running; live figures such as CPU use and uptime move with time).
    pub fn build(&self) -> pve_sim::state::Cluster {
        ClusterBuilder::new()
            .name("bench")
            .nodes(self.nodes)
            .vms(self.vms)
            .cts(self.cts)
            .build()
    }
}

impl Default for Shape {
    fn default() -> Self {
        Shape::LARGE
    }
}

impl std::fmt::Display for Shape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} guests ({} nodes, {} VMs, {} containers)",
            self.guests(),
            self.nodes,
            self.vms,
            self.cts
        )
    }
}

/// Starts the simulator over a cluster of `shape` (HTTPS, its generated certificate, tasks
/// instant) in this process.
pub async fn start_sim(shape: Shape) -> Res<SimServer> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    Ok(pve_sim::spawn(
        SimConfig {
            tls: true,
            api_tokens: vec![format!("{USER}!{TOKEN_NAME}={SECRET}")],
            time_scale: 0.0,
            ..SimConfig::default()
        },
        shape.build(),
    )
    .await?)
}

/// The environment that points proxmox-mcp at `sim`: the `PROXMOX_*` names of the Python
/// servers, the token, and the certificate pinned by its fingerprint.
pub fn server_env(sim: &SimServer) -> Vec<(String, String)> {
    vec![
        ("PROXMOX_HOST".into(), sim.origin()),
        ("PROXMOX_USER".into(), USER.into()),
        ("PROXMOX_TOKEN_NAME".into(), TOKEN_NAME.into()),
        ("PROXMOX_TOKEN_VALUE".into(), SECRET.into()),
        ("PROXMOX_FINGERPRINT".into(), sim.fingerprint().into()),
    ]
}
