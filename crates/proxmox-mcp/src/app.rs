//! `App`: the one place where settings become components, each built once: the gate (keys and
//! their rate budget, shared by both doors), the guard, the clusters and their clients, the
//! registry (filtered, guarded, observed by the metrics), the metrics and drain settings
//! (`ops`), the doors' settings with one connection budget; in demo mode, the embedded
//! simulator first. `serve_mcp` and `serve_rest` run the doors on listeners the caller binds (tests
//! pass 127.0.0.1:0), each with the `ops` endpoints.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use pve_client::PveClient;
use pve_client::ssh::SshClient;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::auth::{Gate, HostPolicy, KeyRing, NoAuth};
use crate::caller::Caller;
use crate::clusters::{ClusterEntry, Clusters};
use crate::config::{ClusterChoice, ConfigError, Settings};
use crate::conns::{ConnLimits, Connections};
use crate::demo::{DemoCluster, DemoError};
use crate::guard::{Guard, GuardError};
use crate::mcp::{McpHttp, McpHttpConfig};
use crate::ops::{DRAIN_GRACE, Ops};
use crate::registry::filter::FilterError;
use crate::registry::{DuplicateTool, Progress, RateLimiter, Registry, ToolCtx, ToolHost};
use crate::rest::RestConfig;

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Guard(#[from] GuardError),
    #[error("cannot set up the Proxmox VE client: {0}")]
    Client(#[from] pve_client::Error),
    #[error(transparent)]
    Registry(#[from] DuplicateTool),
    #[error(transparent)]
    Filter(#[from] FilterError),
    #[error(transparent)]
    Demo(#[from] DemoError),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// The server's components: tools and the clusters they act on, the gate, metrics and drain.
pub struct App {
    host: ToolHost,
    /// Keys and their rate budget, for both doors and `/metrics`.
    gate: Gate,
    /// The embedded simulator, when in demo mode (kept alive as long as the app).
    demo: Option<DemoCluster>,
    /// Metrics, health and drain settings.
    ops: Arc<Ops>,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("host", &self.host)
            .field("demo", &self.demo.is_some())
            .field("ops", &self.ops)
            .finish()
    }
}

impl App {
    /// An app over these tools and this client (one cluster named `default`), no key; its
    /// metrics see every call and PVE request.
    pub fn new(registry: Registry, client: PveClient) -> Self {
        Self::over(
            registry,
            Clusters::single(crate::clusters::DEFAULT_NAME, Arc::new(client), None),
        )
    }

    /// The same, with SSH to the cluster's nodes through `ssh`.
    pub fn with_ssh(registry: Registry, client: PveClient, ssh: SshClient) -> Self {
        Self::over(
            registry,
            Clusters::single(crate::clusters::DEFAULT_NAME, Arc::new(client), Some(ssh)),
        )
    }

    /// An app over these tools and these clusters (the first is the default), no key.
    pub(crate) fn over(registry: Registry, clusters: Clusters) -> Self {
        Self::assemble(registry, clusters, Ops::default(), Gate::default(), None)
    }

    /// The built-in tools `settings` keep (server-wide filters) over the clusters they name,
    /// behind their keys; in demo mode, starts the embedded simulator first (it stops when the
    /// app is dropped).
    pub async fn from_settings(settings: &Settings) -> Result<Self, AppError> {
        let registry = settings
            .security
            .filter
            .apply(&crate::tools::registry()?)?
            .with_guard(Guard::new(&settings.guard)?);
        if let Some((warning, hint)) =
            crate::tools::deny_only_warning(&registry, &registry.guard().exec)
        {
            tracing::warn!("{warning}: {hint}");
        }
        let mut demo = None;
        let mut entries = Vec::with_capacity(settings.clusters.len());
        for c in &settings.clusters {
            let (client, ssh) = match &c.choice {
                ClusterChoice::Demo => {
                    let d = DemoCluster::start(&settings.demo_shape).await?;
                    let client = PveClient::new(d.client_config()?)?;
                    let ssh = d.ssh_client(client.clone())?;
                    demo = Some(d);
                    (client, Some(ssh))
                }
                ClusterChoice::Remote(cfg) => {
                    let client = PveClient::new((**cfg).clone())?;
                    let ssh = match &c.ssh {
                        Some(s) => Some(SshClient::new(s.clone(), Some(client.clone()))?),
                        None => None,
                    };
                    (client, ssh)
                }
            };
            let client = Arc::new(client);
            entries.push(ClusterEntry {
                name: c.name.as_str().into(),
                address: crate::clusters::address_of(&client),
                client,
                ssh,
            });
        }
        let clusters = Clusters::new(entries).ok_or(ConfigError::NoCluster)?;
        let gate = gate_of(settings);
        let ops = Ops {
            metrics_auth: settings.metrics_auth,
            gate: gate.clone(),
            hosts: HostPolicy::new(&settings.allowed_hosts, &settings.allowed_origins),
            drain_grace: DRAIN_GRACE,
            drain_delay: settings.drain_delay,
            ..Ops::default()
        };
        Ok(Self::assemble(registry, clusters, ops, gate, demo))
    }

    /// The app of these components: the metrics of `ops` observe the registry and every
    /// cluster's client.
    fn assemble(
        registry: Registry,
        clusters: Clusters,
        ops: Ops,
        gate: Gate,
        demo: Option<DemoCluster>,
    ) -> Self {
        for c in clusters.iter() {
            c.client.set_observer(ops.metrics.clone());
        }
        let registry = registry
            .for_clusters(&clusters)
            .with_observer(ops.metrics.clone());
        let host = ToolHost::new(
            Arc::new(registry),
            Arc::new(clusters),
            ops.stop_waiting.clone(),
        );
        Self {
            host,
            gate,
            demo,
            ops: Arc::new(ops),
        }
    }

    /// The tools this server offers.
    pub fn registry(&self) -> &Registry {
        self.host.registry()
    }

    /// What the doors call tools through.
    pub fn host(&self) -> &ToolHost {
        &self.host
    }

    /// The Proxmox VE client of the default cluster (the first configured).
    pub(crate) fn client(&self) -> &Arc<PveClient> {
        &self.host.clusters().first().client
    }

    /// Every configured cluster.
    pub fn clusters(&self) -> &Arc<Clusters> {
        self.host.clusters()
    }

    /// This app with other ops settings. The registry and the clients keep reporting to the
    /// metrics they had: build `ops` with `Ops::new(app.ops().metrics.clone())`.
    pub fn with_ops(mut self, ops: Ops) -> Self {
        self.host = ToolHost::new(
            self.host.registry().clone(),
            self.host.clusters().clone(),
            ops.stop_waiting.clone(),
        );
        self.ops = Arc::new(ops);
        self
    }

    /// Metrics, health and drain settings.
    pub fn ops(&self) -> &Arc<Ops> {
        &self.ops
    }

    /// The keys and their rate budget.
    pub fn gate(&self) -> &Gate {
        &self.gate
    }

    /// The embedded simulator, in demo mode.
    pub fn demo(&self) -> Option<&DemoCluster> {
        self.demo.as_ref()
    }

    /// The context of one call (see [`ToolHost::ctx`]).
    pub fn ctx(
        &self,
        caller: Caller,
        progress: Arc<dyn Progress>,
        cancel: CancellationToken,
    ) -> ToolCtx {
        self.host.ctx(caller, progress, cancel)
    }

    /// `/healthz`, `/readyz` and `/metrics`, as both doors serve them.
    fn ops_router(&self) -> Router {
        crate::ops::router(&self.ops, self.client().clone())
    }
}

/// The settings of both doors as `settings` ask: `gate` for both (the app's: a key's calls
/// count once whatever door they use), one connection budget (sized after the open-files
/// limit, so build it once that limit is raised), `Host`/`Origin` rules, session limits, CORS,
/// and `tls` for both.
pub fn door_configs(
    settings: &Settings,
    gate: Gate,
    tls: Option<Arc<rustls::ServerConfig>>,
) -> (McpHttpConfig, RestConfig) {
    let hosts = HostPolicy::new(&settings.allowed_hosts, &settings.allowed_origins);
    let limits = &settings.security.limits;
    let conns = Arc::new(Connections::new(ConnLimits::from_limits(limits)));
    let mcp = McpHttpConfig {
        allowed_hosts: hosts.allowed_hosts.clone(),
        allowed_origins: hosts.allowed_origins.clone(),
        gate: gate.clone(),
        max_sessions: limits.max_sessions,
        max_sessions_per_key: limits.max_sessions_per_key,
        session_idle_timeout: limits.session_idle_timeout,
        stateless: settings.stateless,
        conns: conns.clone(),
        ..McpHttpConfig::default()
    };
    let rest = RestConfig {
        gate,
        hosts,
        cors_origins: settings.cors_origins.clone(),
        api_key_header: settings.security.api_key_header.clone(),
        tls,
        conns,
    };
    (mcp, rest)
}

/// The gate `settings` ask for: their keys (none: no authentication) and rate limits.
fn gate_of(settings: &Settings) -> Gate {
    let sec = &settings.security;
    let gate = if sec.keys.is_empty() {
        Gate::new(Arc::new(NoAuth))
    } else {
        Gate::with_ring(Arc::new(KeyRing::new(
            sec.keys.clone(),
            sec.api_key_header.as_deref(),
        )))
    };
    let per_key = sec
        .keys
        .iter()
        .filter_map(|k| Some((k.name.clone(), k.rate_limit_per_minute?)))
        .collect();
    gate.with_rate(RateLimiter::new(sec.limits.rate_limit_per_minute, per_key))
}

/// Binds `addr` (port 0 picks a free port).
pub async fn bind(addr: SocketAddr) -> Result<TcpListener, AppError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| AppError::Listen { addr, source })
}

/// Serves MCP (Streamable HTTP and legacy SSE on `/proxmox/mcp` and `/mcp`) and the `ops`
/// endpoints on `listener`, over HTTPS when `tls` is given. When `shutdown` is cancelled it stops
/// accepting, lets calls in flight end (see [`Ops::drain_token`]), then closes sessions.
pub async fn serve_mcp(
    app: Arc<App>,
    listener: TcpListener,
    cfg: McpHttpConfig,
    tls: Option<Arc<rustls::ServerConfig>>,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let conns = Arc::clone(&cfg.conns);
    let mcp = McpHttp::new(app.host.clone(), cfg, app.ops.drain_token(&shutdown));
    app.ops.metrics.watch_sessions(Arc::downgrade(&mcp) as _);
    let router = mcp.router().merge(app.ops_router());
    crate::serve::serve_router(listener, router, tls, conns, shutdown).await
}

/// Serves the REST door and the `ops` endpoints on `listener` (HTTPS when `cfg.tls` is set);
/// when `shutdown` is cancelled it stops accepting and lets calls in flight end (see
/// [`Ops::drain_token`]).
pub async fn serve_rest(
    app: Arc<App>,
    listener: TcpListener,
    cfg: RestConfig,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let tls = cfg.tls.clone();
    let conns = Arc::clone(&cfg.conns);
    let calls_end = app.ops.drain_token(&shutdown);
    let router = crate::rest::router(app.host.clone(), cfg, calls_end).merge(app.ops_router());
    crate::serve::serve_router(listener, router, tls, conns, shutdown).await
}
