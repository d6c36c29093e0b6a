//! MCP over HTTP at `/proxmox/mcp` (alias `/mcp`): one URL for Streamable HTTP (rmcp's
//! `StreamableHttpService`) and legacy HTTP+SSE (`sse.rs`), dispatched as MCP-NOTES.md says:
//!
//! | request | goes to |
//! |---|---|
//! | GET without `Mcp-Session-Id` and without `?sessionId=` | legacy SSE stream |
//! | POST with `?sessionId=` of a live legacy session | legacy message endpoint (202) |
//! | POST with an unknown `?sessionId=` | 404 |
//! | anything else | Streamable HTTP |
//!
//! rmcp checks `Host`/`Origin` on what it handles; the legacy branch is checked here with the same
//! rules (`guard.rs`). Event streams are never compressed or buffered.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{OriginalUri, Request, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use rmcp::transport::StreamableHttpServerConfig;
use rmcp::transport::streamable_http_server::StreamableHttpService;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use tokio_util::sync::CancellationToken;

use super::guard;
use super::handler::{McpHandler, ToolHost};
use super::sse::SseSessions;

/// The paths the MCP endpoint answers on.
pub const PATHS: [&str; 2] = ["/proxmox/mcp", "/mcp"];

/// Largest JSON-RPC message accepted on the legacy endpoint (rmcp's limit for Streamable HTTP).
const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

/// Settings of the MCP HTTP endpoint.
#[derive(Debug, Clone)]
pub struct McpHttpConfig {
    /// `Host` values accepted (`host` for any port, or `host:port`); empty accepts any host.
    /// Loopback names by default: a server reached from another machine or a Docker network
    /// must list the names it is reached by.
    pub allowed_hosts: Vec<String>,
    /// Browser `Origin`s accepted (`http://host:port`, `http://host:*`, `null`); empty turns the
    /// check off (requests without `Origin`, such as n8n's, always pass).
    pub allowed_origins: Vec<String>,
    /// Interval of keep-alive comments on idle event streams (both transports).
    pub sse_keep_alive: Duration,
}

impl Default for McpHttpConfig {
    fn default() -> Self {
        Self {
            allowed_hosts: vec!["localhost".into(), "127.0.0.1".into(), "::1".into()],
            allowed_origins: Vec::new(),
            sse_keep_alive: Duration::from_secs(15),
        }
    }
}

/// The MCP HTTP endpoint: both transports and their sessions.
pub struct McpHttp {
    streamable: StreamableHttpService<McpHandler, LocalSessionManager>,
    streamable_sessions: Arc<LocalSessionManager>,
    sse: Arc<SseSessions>,
    cfg: McpHttpConfig,
    shutdown: CancellationToken,
}

impl std::fmt::Debug for McpHttp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("McpHttp")
            .field("cfg", &self.cfg)
            .finish_non_exhaustive()
    }
}

impl McpHttp {
    /// The endpoint over `host`'s tools. Cancelling `shutdown` ends every session.
    pub fn new(
        host: Arc<dyn ToolHost>,
        cfg: McpHttpConfig,
        shutdown: CancellationToken,
    ) -> Arc<Self> {
        let handler = McpHandler::new(host, "streamable-http");
        let streamable_sessions = Arc::new(LocalSessionManager::default());
        let rmcp_cfg = StreamableHttpServerConfig::default()
            .with_allowed_hosts(cfg.allowed_hosts.clone())
            .with_allowed_origins(cfg.allowed_origins.clone())
            .with_sse_keep_alive(Some(cfg.sse_keep_alive))
            .with_cancellation_token(shutdown.child_token());
        let sse = Arc::new(SseSessions::new(
            handler.for_transport("sse"),
            cfg.sse_keep_alive,
        ));
        let factory_handler = handler.clone();
        let streamable = StreamableHttpService::new(
            move || Ok(factory_handler.clone()),
            streamable_sessions.clone(),
            rmcp_cfg,
        );
        Arc::new(Self {
            streamable,
            streamable_sessions,
            sse,
            cfg,
            shutdown,
        })
    }

    /// An axum router serving the endpoint on [`PATHS`].
    pub fn router(self: &Arc<Self>) -> Router {
        PATHS
            .iter()
            .fold(Router::new(), |r, path| r.route(path, any(dispatch)))
            .with_state(Arc::clone(self))
    }

    /// Open legacy SSE sessions.
    pub fn sse_session_count(&self) -> usize {
        self.sse.count()
    }

    /// Open Streamable HTTP sessions.
    pub async fn streamable_session_count(&self) -> usize {
        self.streamable_sessions.sessions.read().await.len()
    }
}

/// The MCP endpoint over `host`'s tools as a router; see [`McpHttp`] to also see its sessions.
pub fn router(host: Arc<dyn ToolHost>, cfg: McpHttpConfig, shutdown: CancellationToken) -> Router {
    McpHttp::new(host, cfg, shutdown).router()
}

async fn dispatch(State(mcp): State<Arc<McpHttp>>, req: Request) -> Response {
    let legacy_id = legacy_session_id(req.uri().query());
    let has_session_header = req.headers().contains_key("mcp-session-id");
    match (req.method(), legacy_id) {
        (&Method::GET, None) if !has_session_header => open_legacy(&mcp, req),
        (&Method::POST, Some(id)) => post_legacy(&mcp, &id, req).await,
        _ => mcp.streamable.handle(req).await.map(Body::new),
    }
}

fn open_legacy(mcp: &Arc<McpHttp>, req: Request) -> Response {
    if let Some(refusal) = refusal(mcp, &req) {
        return refusal;
    }
    // The public path as the client sent it, even when this router is nested under a prefix.
    let path = req
        .extensions()
        .get::<OriginalUri>()
        .map_or_else(|| req.uri().path().to_owned(), |u| u.path().to_owned());
    mcp.sse.open(&path, &mcp.shutdown)
}

async fn post_legacy(mcp: &McpHttp, id: &str, req: Request) -> Response {
    if let Some(refusal) = refusal(mcp, &req) {
        return refusal;
    }
    let body = match axum::body::to_bytes(req.into_body(), MAX_BODY_BYTES).await {
        Ok(b) => b,
        Err(_) => return (StatusCode::PAYLOAD_TOO_LARGE, "Payload Too Large").into_response(),
    };
    mcp.sse.post(id, &body).await
}

/// The answer refusing `req` when its `Host` or `Origin` is not allowed.
fn refusal(mcp: &McpHttp, req: &Request) -> Option<Response> {
    guard::check(
        req.uri(),
        req.headers(),
        &mcp.cfg.allowed_hosts,
        &mcp.cfg.allowed_origins,
    )
    .err()
    .map(|r| (r.status, r.message).into_response())
}

/// The `sessionId` query parameter, if any.
fn legacy_session_id(query: Option<&str>) -> Option<String> {
    form_urlencoded::parse(query?.as_bytes())
        .find(|(k, _)| k == "sessionId")
        .map(|(_, v)| v.into_owned())
}
