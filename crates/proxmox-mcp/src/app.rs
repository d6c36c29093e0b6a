//! `App`: the registry of tools tied to the configured clusters' Proxmox VE clients (real
//! clusters, or the embedded simulator in demo mode); builds each call's `ToolCtx`; `serve` runs the MCP HTTP door on a
//! listener the caller binds (tests pass 127.0.0.1:0). The registry it holds is already
//! narrowed by the server-wide filters (toolsets, tools, read-only, exclusions).

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::auth::{Gate, HostPolicy};
use crate::clusters::{ClusterEntry, Clusters};
use crate::config::{ClusterChoice, ConfigError, Settings};
use crate::conns::{ConnLimits, Connections};
use crate::demo::{DemoCluster, DemoError};
use crate::guard::Guard;
use crate::mcp::McpHttpConfig;
use crate::mcp::handler::ToolHost;
use crate::ops::Ops;
use crate::registry::filter::FilterError;
use crate::registry::{Caller, DuplicateTool, Progress, PveClient, Registry, ToolCtx};

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Config(#[from] ConfigError),
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

/// The server's shared state: tools and the clusters they act on.
pub struct App {
    registry: Arc<Registry>,
    /// Every configured cluster; the first is the default.
    clusters: Arc<Clusters>,
    /// The embedded simulator, when in demo mode (kept alive as long as the app).
    demo: Option<DemoCluster>,
    /// Metrics, health and drain settings (`ops`).
    ops: Arc<Ops>,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("tools", &self.registry.len())
            .field("clusters", &self.clusters)
            .field("demo", &self.demo.is_some())
            .field("ops", &self.ops)
            .finish()
    }
}

impl App {
    /// An app over these tools and this client (one cluster named `default`); its metrics see
    /// every call and PVE request.
    pub fn new(registry: Registry, client: PveClient) -> Self {
        Self::over(
            registry,
            Clusters::single(crate::clusters::DEFAULT_NAME, Arc::new(client)),
        )
    }

    /// An app over these tools and these clusters (the first is the default).
    pub fn over(registry: Registry, clusters: Clusters) -> Self {
        let ops = Ops::default();
        for c in clusters.iter() {
            c.client.set_observer(ops.metrics.clone());
        }
        registry
            .guard()
            .set_default_cluster(clusters.first().name.clone());
        Self {
            registry: Arc::new(registry.with_metrics(ops.metrics.clone())),
            clusters: Arc::new(clusters),
            demo: None,
            ops: Arc::new(ops),
        }
    }

    /// The built-in tools `settings` keep (server-wide filters) over the cluster they name; in
    /// demo mode, starts the embedded simulator first (it stops when the app is dropped).
    pub async fn from_settings(settings: &Settings) -> Result<Self, AppError> {
        let registry = settings
            .security
            .filter
            .apply(&Registry::builtin()?)?
            .with_guard(Guard::new(&settings.guard)?);
        if let Some((warning, hint)) =
            crate::tools::deny_only_warning(&registry, &registry.guard().exec)
        {
            tracing::warn!("{warning}: {hint}");
        }
        let mut demo = None;
        let mut entries = Vec::with_capacity(settings.clusters.len());
        for c in &settings.clusters {
            let client = match &c.choice {
                ClusterChoice::Demo => {
                    let d = DemoCluster::start().await?;
                    let client = PveClient::new(d.client_config()?)?;
                    demo = Some(d);
                    client
                }
                ClusterChoice::Remote(cfg) => PveClient::new((**cfg).clone())?,
            };
            let client = Arc::new(client);
            entries.push(ClusterEntry {
                name: c.name.as_str().into(),
                address: crate::clusters::address_of(&client),
                client,
            });
        }
        let clusters = Clusters::new(entries).ok_or(ConfigError::NoCluster)?;
        let mut app = Self::over(registry, clusters);
        app.demo = demo;
        app.ops = Arc::new(app.ops.configured(settings));
        Ok(app)
    }

    /// An app over these tools and a running simulator (demo mode, tests): one cluster named
    /// `demo`.
    pub fn with_demo(registry: Registry, demo: DemoCluster) -> Result<Self, AppError> {
        let client = PveClient::new(demo.client_config()?)?;
        let clusters = Clusters::single(crate::clusters::DEMO_NAME, Arc::new(client));
        let mut app = Self::over(registry, clusters);
        app.demo = Some(demo);
        Ok(app)
    }

    /// The tools this server offers.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// The Proxmox VE client of the default cluster (the first configured).
    pub fn client(&self) -> &Arc<PveClient> {
        &self.clusters.first().client
    }

    /// Every configured cluster.
    pub fn clusters(&self) -> &Arc<Clusters> {
        &self.clusters
    }

    /// This app with other ops settings (`Ops::new(app.ops().metrics.clone())` keeps the
    /// metrics the registry and the client feed).
    pub fn with_ops(mut self, ops: Ops) -> Self {
        self.ops = Arc::new(ops);
        self
    }

    /// Metrics, health and drain settings.
    pub fn ops(&self) -> &Arc<Ops> {
        &self.ops
    }

    /// The embedded simulator, in demo mode.
    pub fn demo(&self) -> Option<&DemoCluster> {
        self.demo.as_ref()
    }

    /// The context of one call.
    pub fn ctx(
        &self,
        caller: Caller,
        progress: Arc<dyn Progress>,
        cancel: CancellationToken,
    ) -> ToolCtx {
        ToolCtx {
            progress,
            cancel,
            stop_waiting: self.ops.stop_waiting.clone(),
            caller,
            guard: self.registry.guard().clone(),
            ..ToolCtx::over(self.clusters.clone())
        }
    }
}

impl ToolHost for App {
    fn registry(&self) -> &Registry {
        &self.registry
    }

    fn ctx(
        &self,
        caller: Caller,
        progress: Arc<dyn Progress>,
        cancel: CancellationToken,
    ) -> ToolCtx {
        App::ctx(self, caller, progress, cancel)
    }
}

/// The MCP HTTP settings for `settings`: loopback `Host` names plus the configured ones (`*`:
/// any), the configured `Origin`s, keys and rate limits (a gate of its own: set `gate` to the
/// REST door's so that a key's calls count once across doors), session caps and idle timeout,
/// and a connection budget of its own (set `conns` to the REST door's to share one).
pub fn mcp_http_config(settings: &Settings) -> McpHttpConfig {
    let hosts = HostPolicy::new(&settings.allowed_hosts, &settings.allowed_origins);
    let limits = &settings.security.limits;
    McpHttpConfig {
        allowed_hosts: hosts.allowed_hosts,
        allowed_origins: hosts.allowed_origins,
        gate: Gate::from_settings(settings),
        max_sessions: limits.max_sessions,
        max_sessions_per_key: limits.max_sessions_per_key,
        session_idle_timeout: limits.session_idle_timeout,
        conns: Arc::new(Connections::new(ConnLimits::from_limits(limits))),
        ..McpHttpConfig::default()
    }
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
pub async fn serve(
    app: Arc<App>,
    listener: TcpListener,
    cfg: McpHttpConfig,
    tls: Option<Arc<rustls::ServerConfig>>,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let conns = Arc::clone(&cfg.conns);
    let mcp = crate::mcp::McpHttp::new(app.clone(), cfg, app.ops().drain_token(&shutdown));
    app.ops().metrics.watch_sessions(Arc::downgrade(&mcp) as _);
    let router = mcp.router().merge(crate::ops::router(&app));
    crate::serve::serve_router(listener, router, tls, conns, shutdown).await
}
