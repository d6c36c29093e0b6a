//! The REST front door (port 8811), shaped like mcpo so existing callers keep working:
//! `POST /<tool>` with the arguments as the JSON body, `GET /<tool>?param=value` for read tools,
//! `/openapi.json` (OpenAPI 3.1) and an offline docs page at `/docs`.
//!
//! Everything here is derived from the registry: there is no per-tool code in this module.
//! Calls go through the registry's admission and `Registry::call` like every other door (caller
//! transport `"rest"`): the key (401, `crate::auth`), then per tool its scope (403) and its rate
//! (429); `Host`/`Origin` checks (403) cover every path. `/openapi.json` and `/docs` are public;
//! `/openapi.json` called with a valid key lists only what that key may call.

mod docs_page;
pub(crate) mod error;
pub(crate) mod openapi;
pub(crate) mod query;
pub(crate) mod routes;

use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderName, HeaderValue, Method, header};
use axum::routing::get;
use tokio_util::sync::CancellationToken;
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::auth::host::check_host;
use crate::auth::{Gate, HostPolicy, require_key};
use crate::conns::Connections;
use crate::registry::{ToolHost, dynamic};

/// Settings of the REST door (default: no key, loopback `Host` names, no CORS, plain HTTP).
#[derive(Clone, Default)]
pub struct RestConfig {
    /// Who may call tools, and how often (`/openapi.json` and `/docs` stay public).
    pub gate: Gate,
    /// `Host` and `Origin` values accepted (the CORS origins are accepted too).
    pub hosts: HostPolicy,
    /// Browser origins allowed by CORS (`https://host:port`, or `*` for any); empty: CORS off.
    pub cors_origins: Vec<String>,
    /// The header carrying a key besides `Authorization` (`X-API-Key`), allowed by CORS.
    pub api_key_header: Option<String>,
    /// Serve HTTPS with this configuration.
    pub tls: Option<Arc<rustls::ServerConfig>>,
    /// The connection budget (caps, timeouts), shared with the MCP door by `serve`.
    pub conns: Arc<Connections>,
}

impl std::fmt::Debug for RestConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RestConfig")
            .field("gate", &self.gate)
            .field("hosts", &self.hosts)
            .field("cors_origins", &self.cors_origins)
            .field("api_key_header", &self.api_key_header)
            .field("tls", &self.tls.is_some())
            .finish()
    }
}

/// Shared state of the REST routes.
pub(crate) struct RestState {
    pub(crate) host: ToolHost,
    /// The OpenAPI document for each scope (read, operate, admin), rendered on its first
    /// request: building one takes about 1 MB of heap for a moment, which a server that is never
    /// asked for it should not keep (docs/PERFORMANCE.md, idle RSS).
    pub(crate) openapi: [std::sync::OnceLock<axum::body::Bytes>; 3],
    /// To tell who asks for `/openapi.json`.
    pub(crate) gate: Gate,
    /// Cancelled on shutdown: running calls end with it.
    pub(crate) shutdown: CancellationToken,
}

/// The REST door over `host`'s tools as an axum router; cancelling `shutdown` ends the calls
/// still running.
pub(crate) fn router(host: ToolHost, cfg: RestConfig, shutdown: CancellationToken) -> Router {
    let state = Arc::new(RestState {
        openapi: Default::default(),
        host,
        gate: cfg.gate.clone(),
        shutdown,
    });
    // One route per tool, so a path that is no tool is a 404 before any key is asked for; the
    // mutating tools the filters hide are routed too, so that calls to them are refused on the
    // record (a 404 all the same). The toolset tools of dynamic toolsets are MCP only.
    let registry = state.host.registry();
    let tools = registry
        .tools()
        .filter(|t| t.toolset != dynamic::TOOLSET)
        .map(|t| t.name)
        .chain(registry.hidden_mutating())
        .fold(Router::new(), |r, name| {
            r.route(
                &format!("/{name}"),
                axum::routing::any(move |st, req| routes::call_tool(st, name, req)),
            )
        })
        .route_layer(axum::middleware::from_fn_with_state(
            cfg.gate.clone(),
            require_key,
        ));
    let router = Router::new()
        .route("/openapi.json", get(routes::openapi_json))
        .route("/", axum::routing::any(routes::root))
        .merge(docs_page::router())
        .merge(tools)
        .fallback(routes::not_found)
        .with_state(state)
        .layer(axum::middleware::from_fn_with_state(
            Arc::new(host_policy(&cfg)),
            check_host,
        ));
    match cors_layer(&cfg.cors_origins, cfg.api_key_header.as_deref()) {
        Some(cors) => router.layer(cors),
        None => router,
    }
}

/// The Host/Origin policy of the REST door: the configured one, with the CORS origins accepted.
fn host_policy(cfg: &RestConfig) -> HostPolicy {
    let mut p = cfg.hosts.clone();
    p.allowed_origins.extend(cfg.cors_origins.iter().cloned());
    p
}

/// CORS for `origins` (`*` allows any origin), allowing the headers a caller sends: the key
/// (`Authorization`, or `key_header`) and `Content-Type`; `None` when the list is empty.
fn cors_layer(origins: &[String], key_header: Option<&str>) -> Option<CorsLayer> {
    if origins.is_empty() {
        return None;
    }
    let mut allow_headers = vec![
        header::AUTHORIZATION,
        header::CONTENT_TYPE,
        HeaderName::from_static("x-requested-with"),
    ];
    allow_headers.extend(key_header.and_then(|h| HeaderName::try_from(h.trim()).ok()));
    let allow = if origins.iter().any(|o| o.trim() == "*") {
        AllowOrigin::any()
    } else {
        let list: Vec<HeaderValue> = origins
            .iter()
            .filter_map(|o| {
                let v = HeaderValue::from_str(o.trim().trim_end_matches('/')).ok();
                if v.is_none() {
                    tracing::warn!(origin = %o, "ignoring a CORS origin that is not a header value");
                }
                v
            })
            .collect();
        AllowOrigin::list(list)
    };
    Some(
        CorsLayer::new()
            .allow_origin(allow)
            .allow_methods([Method::GET, Method::POST])
            .allow_headers(allow_headers)
            .max_age(std::time::Duration::from_secs(600)),
    )
}
