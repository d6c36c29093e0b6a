//! MCP over HTTP at `/proxmox/mcp` (alias `/mcp`): one URL for Streamable HTTP (rmcp's
//! `StreamableHttpService`) and legacy HTTP+SSE (`sse/`), dispatched so:
//!
//! | request | goes to |
//! |---|---|
//! | GET without `Mcp-Session-Id` and without `?sessionId=` | legacy SSE stream |
//! | the same GET with `MCP-Protocol-Version` or `Last-Event-ID`, in stateless mode | Streamable HTTP (405) |
//! | POST with `?sessionId=` of a live legacy session | legacy message endpoint (202) |
//! | POST with an unknown `?sessionId=` | 404 |
//! | anything else | Streamable HTTP |
//!
//! Before any of that, on every request of both transports: `Host`/`Origin` (403,
//! `auth::host`), then the API key (401 with `WWW-Authenticate: Bearer`, `auth::require_key`);
//! the caller's `Identity` rides in the request's extensions to the handler, which filters
//! `tools/list` and checks scope and rate on `tools/call`. A session belongs to the key that
//! opened it: for any other key its id is unknown (404), on both transports. Then the limits: a
//! POST body over 1 MB is a 413; a POST body that is not one JSON-RPC message is a 400 with a
//! JSON-RPC error (`jsonrpc.rs`); a request that would open a session (legacy GET,
//! `initialize`) is a 429 when its key already holds `max_sessions_per_key`, a 503 when
//! `max_sessions` are open; sessions idle for `session_idle_timeout` are closed. A session
//! `DELETE` answers 204. Event streams are never compressed or buffered.
//!
//! Stateless mode (`[server] stateless`): Streamable HTTP keeps no session for any protocol
//! revision (rmcp's `legacy_session_mode` off). Every POST is answered in its own response and
//! no `Mcp-Session-Id` is issued, so any replica behind a balancer can answer any request; the
//! Streamable HTTP `GET` stream and `DELETE` answer 405, as the specification allows. Only what
//! rides in one request's answer works then (progress of that call); nothing reaches a client
//! outside a request. Legacy SSE keeps its sessions (its answers travel on the stream), so
//! legacy clients need sticky routing. Requests of the 2026-07-28 revision are stateless in
//! both modes.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{OriginalUri, Request, State};
use axum::http::{Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use futures_util::future::BoxFuture;
use rmcp::transport::StreamableHttpServerConfig;
use rmcp::transport::streamable_http_server::StreamableHttpService;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use tokio_util::sync::CancellationToken;

use super::coalesce;
use super::handler::McpHandler;
use super::jsonrpc;
use super::owners::{Opening, Owners};
use super::sse::SseSessions;
use crate::auth::host::check_host;
use crate::auth::{AuthError, Gate, HostPolicy, Identity, require_key};
use crate::config::{Limits, MAX_BODY_BYTES};
use crate::conns::Connections;
use crate::ops::metrics::SessionSource;
use crate::registry::ToolHost;

/// The paths the MCP endpoint answers on.
pub const PATHS: [&str; 2] = ["/proxmox/mcp", "/mcp"];

/// Settings of the MCP HTTP endpoint.
#[derive(Debug, Clone)]
pub struct McpHttpConfig {
    /// `Host` values accepted (`host` for any port, or `host:port`); empty accepts any host.
    /// Loopback names by default: a server reached from another machine or a Docker network
    /// must list the names it is reached by.
    pub allowed_hosts: Vec<String>,
    /// Browser `Origin`s accepted besides the server's own (`http://host:port`, `http://host:*`,
    /// `null`, `*` for any); requests without `Origin`, such as n8n's, always pass.
    pub allowed_origins: Vec<String>,
    /// Interval of keep-alive comments on idle event streams (both transports).
    pub sse_keep_alive: Duration,
    /// Who may call (keys, scopes) and how often (`tools/call` per key); default: no key.
    pub gate: Gate,
    /// Open sessions at most, both transports together.
    pub max_sessions: usize,
    /// Open sessions at most per key (both transports together); callers without a key (a
    /// door with no keys) share `max_sessions` only.
    pub max_sessions_per_key: usize,
    /// A session without messages for this long is closed.
    pub session_idle_timeout: Duration,
    /// The connection budget (caps, timeouts), shared with the REST door by `serve`.
    pub conns: Arc<Connections>,
    /// Streamable HTTP without sessions for every protocol revision (see the module's doc).
    pub stateless: bool,
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
            max_sessions_per_key: limits.max_sessions_per_key,
            session_idle_timeout: limits.session_idle_timeout,
            conns: Arc::default(),
            stateless: false,
        }
    }
}

/// The MCP HTTP endpoint: both transports and their sessions.
pub struct McpHttp {
    streamable: StreamableHttpService<McpHandler, LocalSessionManager>,
    streamable_sessions: Arc<LocalSessionManager>,
    sse: Arc<SseSessions>,
    /// Who opened each Streamable HTTP session.
    owners: Arc<Owners>,
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
    pub fn new(host: ToolHost, cfg: McpHttpConfig, shutdown: CancellationToken) -> Arc<Self> {
        let handler = McpHandler::with_rate(host, "streamable-http", cfg.gate.rate.clone());
        let mut sessions = LocalSessionManager::default();
        sessions.session_config.keep_alive = Some(cfg.session_idle_timeout);
        let streamable_sessions = Arc::new(sessions);
        // `Origin` is checked by `auth::host` on every request of both transports (rmcp's own
        // check would let an entry without a port match any port).
        let rmcp_cfg = StreamableHttpServerConfig::default()
            .with_allowed_hosts(cfg.allowed_hosts.clone())
            .disable_allowed_origins()
            .with_sse_keep_alive(Some(cfg.sse_keep_alive))
            .with_max_request_body_bytes(MAX_BODY_BYTES)
            .with_legacy_session_mode(!cfg.stateless)
            .with_cancellation_token(shutdown.child_token());
        let sse = Arc::new(
            SseSessions::new(handler.for_transport("sse"), cfg.sse_keep_alive)
                .with_idle_timeout(cfg.session_idle_timeout),
        );
        let factory_handler = handler.clone();
        let stateless = cfg.stateless;
        let streamable = StreamableHttpService::new(
            move || Ok(factory_handler.for_session(stateless)),
            streamable_sessions.clone(),
            rmcp_cfg,
        );
        Arc::new(Self {
            streamable,
            streamable_sessions,
            sse,
            owners: Arc::default(),
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

    /// Admits a new session for `key`, or answers the refusal: 429 when the key holds its
    /// quota of sessions, 503 when the server holds `max_sessions` (both transports, sessions
    /// being opened included). The place is held until the guard is dropped.
    async fn admit(&self, key: Option<&str>) -> Result<Opening, Response> {
        let live: HashSet<Arc<str>> = self
            .streamable_sessions
            .sessions
            .read()
            .await
            .keys()
            .cloned()
            .collect();
        let (held, opening) = self.owners.count(key, &live);
        let open = self.sse_session_count() + live.len() + opening;
        if open >= self.cfg.max_sessions {
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
            return Err(refusal(
                StatusCode::SERVICE_UNAVAILABLE,
                "too_many_sessions",
                message,
            ));
        }
        if let Some(name) = key {
            let held = held + self.sse.count_of(key);
            let quota = self.cfg.max_sessions_per_key;
            if held >= quota {
                tracing::warn!(
                    key = name,
                    held,
                    quota,
                    "refused a new MCP session: the key holds its quota"
                );
                let message = format!(
                    "the API key `{name}` already holds {held} open MCP sessions, its quota of \
                     {quota}: close the sessions it no longer uses (DELETE with its \
                     Mcp-Session-Id, or end the legacy event stream), retry later, or raise \
                     [limits] max_sessions_per_key"
                );
                return Err(refusal(
                    StatusCode::TOO_MANY_REQUESTS,
                    "session_quota",
                    message,
                ));
            }
        }
        Ok(self.owners.opening(key))
    }
}

impl SessionSource for McpHttp {
    fn open_sessions(&self) -> BoxFuture<'_, Vec<(&'static str, usize)>> {
        Box::pin(async move {
            vec![
                ("sse", self.sse_session_count()),
                ("streamable-http", self.streamable_session_count().await),
            ]
        })
    }
}

async fn dispatch(State(mcp): State<Arc<McpHttp>>, req: Request) -> Response {
    // `require_key` stored it; without one (a router built without the gate) nothing is allowed.
    let Some(identity) = req.extensions().get::<Identity>().cloned() else {
        return AuthError::Missing.into_response();
    };
    let key = identity.key.as_deref();
    let legacy_id = legacy_session_id(req.uri().query());
    let session = req
        .headers()
        .get("mcp-session-id")
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    if let Some(id) = &session
        && !mcp.owners.may_use(id, key)
    {
        tracing::info!(
            key = key.unwrap_or("-"),
            "refused a session opened by another key"
        );
        return (StatusCode::NOT_FOUND, "Not Found: Session not found").into_response();
    }
    match (req.method(), legacy_id) {
        (&Method::GET, None)
            if session.is_none() && !(mcp.cfg.stateless && is_streamable_get(&req)) =>
        {
            match mcp.admit(key).await {
                Err(refused) => refused,
                Ok(_opening) => open_legacy(&mcp, req, key),
            }
        }
        (&Method::POST, legacy_id) => {
            let (parts, body) = req.into_parts();
            let body = match read_body(body).await {
                Ok(body) => body,
                Err(too_large) => return too_large,
            };
            if let Some(id) = legacy_id {
                if let Some(refused) = jsonrpc::content_type_refusal(&parts.headers) {
                    return refused;
                }
                return mcp.sse.post(&id, &body, identity).await;
            }
            // Not JSON at all: rmcp answers (415).
            if jsonrpc::content_type_refusal(&parts.headers).is_none()
                && let Some(refused) = jsonrpc::message_refusal(&body)
            {
                return refused;
            }
            let opening = if session.is_none() && !mcp.cfg.stateless && is_initialize(&body) {
                match mcp.admit(key).await {
                    Ok(opening) => Some(opening),
                    Err(refused) => return refused,
                }
            } else {
                None
            };
            let req = Request::from_parts(parts, Body::from(body));
            let resp = mcp.streamable.handle(req).await.map(Body::new);
            if let Some(opening) = opening {
                if let Some(id) = resp
                    .headers()
                    .get("mcp-session-id")
                    .and_then(|v| v.to_str().ok())
                {
                    mcp.owners.opened(id, key);
                }
                drop(opening);
            }
            coalesce::with_first_message(resp, coalesce::HOLD).await
        }
        (&Method::DELETE, _) => {
            let resp = mcp.streamable.handle(req).await.map(Body::new);
            if resp.status() != StatusCode::ACCEPTED {
                return resp;
            }
            if let Some(id) = &session {
                mcp.owners.closed(id);
            }
            // The session is gone and there is nothing to say: 204, which clients (the Python
            // SDK) expect of a clean close.
            StatusCode::NO_CONTENT.into_response()
        }
        _ => mcp.streamable.handle(req).await.map(Body::new),
    }
}

fn open_legacy(mcp: &Arc<McpHttp>, req: Request, key: Option<&str>) -> Response {
    // The public path as the client sent it, even when this router is nested under a prefix.
    let path = req
        .extensions()
        .get::<OriginalUri>()
        .map_or_else(|| req.uri().path().to_owned(), |u| u.path().to_owned());
    mcp.sse.open(&path, key, &mcp.shutdown)
}

/// Whether a `GET` without a session is Streamable HTTP's (a client that has negotiated a
/// revision sends `MCP-Protocol-Version` on every later request; a resumption carries
/// `Last-Event-ID`) rather than one opening a legacy SSE session, which comes before any
/// negotiation.
fn is_streamable_get(req: &Request) -> bool {
    let headers = req.headers();
    headers.contains_key("mcp-protocol-version") || headers.contains_key("last-event-id")
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
    if status == StatusCode::SERVICE_UNAVAILABLE || status == StatusCode::TOO_MANY_REQUESTS {
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
