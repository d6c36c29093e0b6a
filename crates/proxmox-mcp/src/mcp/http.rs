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
//! Before any of that, on every request of both transports: `Host`/`Origin` (403,
//! `auth::host`), then the API key (401 with `WWW-Authenticate: Bearer`, `auth::require_key`);
//! the caller's `Identity` rides in the request's extensions to the handler, which filters
//! `tools/list` and checks scope and rate on `tools/call`. Then the limits: a POST body over 1 MB
//! is a 413; a request that would open a session (legacy GET, `initialize`) while
//! `max_sessions` are open is a 503; sessions idle for `session_idle_timeout` are closed.
//! Event streams are never compressed or buffered.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{OriginalUri, Request, State};
use axum::http::{Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use rmcp::transport::StreamableHttpServerConfig;
use rmcp::transport::streamable_http_server::StreamableHttpService;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use tokio_util::sync::CancellationToken;

use super::coalesce;
use super::handler::{McpHandler, ToolHost};
use super::sse::SseSessions;
use crate::auth::host::check_host;
use crate::auth::{AuthError, Gate, HostPolicy, Identity, require_key};
use crate::config::{Limits, MAX_BODY_BYTES};

/// The paths the MCP endpoint answers on.
pub const PATHS: [&str; 2] = ["/proxmox/mcp", "/mcp"];

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
    /// Who may call (keys, scopes) and how often (`tools/call` per key); default: no key.
    pub gate: Gate,
    /// Open sessions at most, both transports together.
    pub max_sessions: usize,
    /// A session without messages for this long is closed.
    pub session_idle_timeout: Duration,
}

impl Default for McpHttpConfig {
    fn default() -> Self {
        let limits = Limits::default();
        Self {
            allowed_hosts: vec!["localhost".into(), "127.0.0.1".into(), "::1".into()],
            allowed_origins: Vec::new(),
            sse_keep_alive: Duration::from_secs(15),
            gate: Gate::default(),
            max_sessions: limits.max_sessions,
            session_idle_timeout: limits.session_idle_timeout,
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
        let handler = McpHandler::with_rate(host, "streamable-http", cfg.gate.rate.clone());
        let mut sessions = LocalSessionManager::default();
        sessions.session_config.keep_alive = Some(cfg.session_idle_timeout);
        let streamable_sessions = Arc::new(sessions);
        let rmcp_cfg = StreamableHttpServerConfig::default()
            .with_allowed_hosts(cfg.allowed_hosts.clone())
            .with_allowed_origins(cfg.allowed_origins.clone())
            .with_sse_keep_alive(Some(cfg.sse_keep_alive))
            .with_max_request_body_bytes(MAX_BODY_BYTES)
            .with_cancellation_token(shutdown.child_token());
        let sse = Arc::new(
            SseSessions::new(handler.for_transport("sse"), cfg.sse_keep_alive)
                .with_idle_timeout(cfg.session_idle_timeout),
        );
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

    /// An axum router serving the endpoint on [`PATHS`], behind the `Host`/`Origin` check and
    /// the key check (other paths are 404 without either).
    pub fn router(self: &Arc<Self>) -> Router {
        let hosts = HostPolicy {
            allowed_hosts: self.cfg.allowed_hosts.clone(),
            allowed_origins: self.cfg.allowed_origins.clone(),
        };
        PATHS
            .iter()
            .fold(Router::new(), |r, path| r.route(path, any(dispatch)))
            .with_state(Arc::clone(self))
            .route_layer(axum::middleware::from_fn_with_state(
                self.cfg.gate.clone(),
                require_key,
            ))
            .route_layer(axum::middleware::from_fn_with_state(
                Arc::new(hosts),
                check_host,
            ))
    }

    /// Open legacy SSE sessions.
    pub fn sse_session_count(&self) -> usize {
        self.sse.count()
    }

    /// Open Streamable HTTP sessions.
    pub async fn streamable_session_count(&self) -> usize {
        self.streamable_sessions.sessions.read().await.len()
    }

    /// The 503 refusing a new session while `max_sessions` are open (both transports).
    async fn session_cap(&self) -> Option<Response> {
        let open = self.sse_session_count() + self.streamable_session_count().await;
        if open < self.cfg.max_sessions {
            return None;
        }
        tracing::warn!(
            open,
            max = self.cfg.max_sessions,
            "refused a new MCP session: too many open"
        );
        let message = format!(
            "too many open MCP sessions ({open}; the server allows {}): close unused sessions, \
             retry later, or raise [limits] max_sessions",
            self.cfg.max_sessions
        );
        Some(refusal(
            StatusCode::SERVICE_UNAVAILABLE,
            "too_many_sessions",
            message,
        ))
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
        (&Method::GET, None) if !has_session_header => match mcp.session_cap().await {
            Some(refused) => refused,
            None => open_legacy(&mcp, req),
        },
        (&Method::POST, legacy_id) => {
            let (parts, body) = req.into_parts();
            let body = match read_body(body).await {
                Ok(body) => body,
                Err(too_large) => return too_large,
            };
            if let Some(id) = legacy_id {
                let Some(identity) = parts.extensions.get::<Identity>().cloned() else {
                    return AuthError::Missing.into_response();
                };
                return mcp.sse.post(&id, &body, identity).await;
            }
            if !has_session_header
                && is_initialize(&body)
                && let Some(refused) = mcp.session_cap().await
            {
                return refused;
            }
            let req = Request::from_parts(parts, Body::from(body));
            let resp = mcp.streamable.handle(req).await.map(Body::new);
            coalesce::with_first_message(resp, coalesce::HOLD).await
        }
        _ => mcp.streamable.handle(req).await.map(Body::new),
    }
}

fn open_legacy(mcp: &Arc<McpHttp>, req: Request) -> Response {
    // The public path as the client sent it, even when this router is nested under a prefix.
    let path = req
        .extensions()
        .get::<OriginalUri>()
        .map_or_else(|| req.uri().path().to_owned(), |u| u.path().to_owned());
    mcp.sse.open(&path, &mcp.shutdown)
}

/// A POST body, at most 1 MB (413 otherwise, whatever `Content-Length` says or omits).
async fn read_body(body: Body) -> Result<axum::body::Bytes, Response> {
    axum::body::to_bytes(body, MAX_BODY_BYTES)
        .await
        .map_err(|_| {
            let message = format!(
                "the request body is larger than 1 MB ({MAX_BODY_BYTES} bytes): a JSON-RPC message \
             must fit in 1 MB"
            );
            refusal(StatusCode::PAYLOAD_TOO_LARGE, "too_large", message)
        })
}

/// Whether a POST body is an `initialize` request (which opens a Streamable HTTP session).
fn is_initialize(body: &[u8]) -> bool {
    #[derive(serde::Deserialize)]
    struct Peek<'a> {
        #[serde(borrow)]
        method: Option<std::borrow::Cow<'a, str>>,
    }
    serde_json::from_slice::<Peek<'_>>(body)
        .is_ok_and(|p| p.method.as_deref() == Some("initialize"))
}

/// A refusal in the doors' error shape (`{"detail": {"message", "kind"}}`).
fn refusal(status: StatusCode, kind: &str, message: String) -> Response {
    let body = serde_json::json!({ "detail": { "message": message, "kind": kind } });
    let mut resp = (status, axum::Json(body)).into_response();
    if status == StatusCode::SERVICE_UNAVAILABLE {
        resp.headers_mut()
            .insert(header::RETRY_AFTER, header::HeaderValue::from_static("30"));
    }
    resp
}

/// The `sessionId` query parameter, if any.
fn legacy_session_id(query: Option<&str>) -> Option<String> {
    form_urlencoded::parse(query?.as_bytes())
        .find(|(k, _)| k == "sessionId")
        .map(|(_, v)| v.into_owned())
}
