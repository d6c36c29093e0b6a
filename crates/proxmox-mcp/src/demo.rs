//! Demo mode: the embedded Proxmox VE simulator on a loopback port, reached by the ordinary
//! client over HTTPS with the certificate pinned by fingerprint and a random API token, and its
//! nodes' SSH servers reached with a key made in memory and their host keys pinned: the same
//! code paths as a real cluster.

use pve_client::ssh::{ClientKey, NodeAddress, SshClient};
use pve_client::{ClientConfig, Credentials, PveClient, Secret, TlsMode};
use pve_sim::server::{SimConfig, SimError, SimServer};
use pve_sim::ssh::SshServer;
use pve_sim::state::Cluster;

/// User the demo token belongs to.
const DEMO_USER: &str = "root@pam";
/// Token id of the demo token.
const DEMO_TOKEN_NAME: &str = "proxmox-mcp";

/// The simulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("cannot start the embedded Proxmox VE simulator: {0}")]
    Sim(#[from] SimError),
    #[error("the embedded simulator's certificate fingerprint is unreadable: {0}")]
    Fingerprint(String),
    #[error("cannot set up SSH to the embedded simulator's nodes: {0}")]
    Ssh(#[from] pve_client::Error),
}

/// A running embedded simulator and the credentials to reach it.
#[derive(Debug)]
pub struct DemoCluster {
    server: SimServer,
    token_value: String,
    /// The nodes' SSH servers, with `ssh_key` authorized.
    ssh: SshServer,
    ssh_key: ClientKey,
}

impl DemoCluster {
    /// Starts the cluster `shape` describes (`pve_sim::seed::demo()` when it gives no size) on
    /// 127.0.0.1, a free port, with realistic task durations.
    pub(crate) async fn start(shape: &pve_sim::cli::ClusterArgs) -> Result<Self, DemoError> {
        Self::spawn(shape.cluster(), 1.0).await
    }

    /// Starts a simulator over `cluster` on 127.0.0.1, a free port; `time_scale` multiplies
    /// task durations (0 ends tasks at once).
    pub async fn spawn(cluster: Cluster, time_scale: f64) -> Result<Self, DemoError> {
        let token_value = random_hex(16);
        let config = SimConfig {
            api_tokens: vec![format!("{DEMO_USER}!{DEMO_TOKEN_NAME}={token_value}")],
            time_scale,
            ..SimConfig::default()
        };
        let server = pve_sim::server::spawn(config, cluster).await?;
        let ssh_key = ClientKey::generate();
        let ssh = pve_sim::ssh::spawn(
            &server,
            pve_sim::ssh::SshConfig::new(
                std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
                [ssh_key.public_openssh()?],
            ),
        )
        .await?;
        Ok(Self {
            server,
            token_value,
            ssh,
            ssh_key,
        })
    }

    /// SSH to the simulated nodes as `root` with the demo's key, each node's address and host
    /// key pinned as its server announces them; `api` is the demo's API client.
    pub fn ssh_client(&self, api: PveClient) -> Result<SshClient, DemoError> {
        let mut config = pve_client::ssh::SshConfig::new("(demo key, in memory)");
        for n in self.ssh.nodes() {
            let fingerprint = n.fingerprint.parse().map_err(DemoError::Ssh)?;
            config = config
                .address(
                    n.node.clone(),
                    NodeAddress::with_port(n.addr.ip().to_string(), n.addr.port()),
                )
                .pin(n.node.clone(), fingerprint);
        }
        Ok(SshClient::with_key(config, &self.ssh_key, Some(api))?)
    }

    /// The nodes' SSH servers (tests read their exec log).
    pub fn ssh(&self) -> &SshServer {
        &self.ssh
    }

    /// The client configuration that reaches this simulator: HTTPS, pinned fingerprint, token.
    pub fn client_config(&self) -> Result<ClientConfig, DemoError> {
        let fp = pve_client::config::parse_fingerprint(self.server.fingerprint())
            .map_err(|e| DemoError::Fingerprint(e.to_string()))?;
        let addr = self.server.addr();
        Ok(ClientConfig::new(
            addr.ip().to_string(),
            DEMO_USER,
            Credentials::Token {
                name: DEMO_TOKEN_NAME.to_string(),
                value: Secret::new(self.token_value.clone()),
            },
        )
        .with_port(addr.port())
        .with_tls(TlsMode::Fingerprint(fp)))
    }

    /// The simulator (tests reach into it: state, faults, clock).
    pub fn server(&self) -> &SimServer {
        &self.server
    }

    /// Lines for stderr saying that this is a simulator, not a cluster.
    pub fn banner(&self) -> String {
        format!(
            "DEMO MODE: tools act on an embedded Proxmox VE simulator at {} \
             (certificate {}), not on a real cluster",
            self.server.base_url(),
            self.server.fingerprint()
        )
    }
}

fn random_hex(bytes: usize) -> String {
    let buf: Vec<u8> = (0..bytes).map(|_| rand::random::<u8>()).collect();
    hex::encode(buf)
}
