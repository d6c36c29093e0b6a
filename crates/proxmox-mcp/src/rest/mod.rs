//! The REST front door (port 8811), shaped like mcpo so existing callers keep working:
//! `POST /<tool>` with the arguments as the JSON body, `GET /<tool>?param=value` for read tools,
//! `/openapi.json` (OpenAPI 3.1) and an offline docs page at `/docs`.
//!
//! Everything here is derived from the registry: there is no per-tool code in this module.
//! Calls go through `Registry::call` like every other door (caller transport `"rest"`).
//! The gate is `crate::auth`: a key (401), its rate (429) and, per tool, its scope (403);
//! `Host`/`Origin` checks (403) cover every path. `/openapi.json` and `/docs` are public;
//! `/openapi.json` called with a valid key lists only what that key may call.

mod docs_page;
mod error;
pub mod openapi;
mod query;
mod routes;

use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderName, HeaderValue, Method, header};
use axum::routing::get;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::app::App;
use crate::auth::host::check_host;
use crate::auth::{Gate, HostPolicy, require_identity};

pub use error::RestError;

/// Default REST listen address (mcpo's port).
pub const DEFAULT_REST_LISTEN: &str = "127.0.0.1:8811";

/// Settings of the REST door (default: no key, loopback `Host` names, no CORS, plain HTTP).
#[derive(Clone, Default)]
pub struct RestConfig {
    /// Who may call tools, and how often (`/openapi.json` and `/docs` stay public).
    pub gate: Gate,
    /// `Host` and `Origin` values accepted (the CORS origins are accepted too).
    pub hosts: HostPolicy,
    /// Browser origins allowed by CORS (`https://host:port`, or `*` for any); empty: CORS off.
    pub cors_origins: Vec<String>,
    /// Serve HTTPS with this configuration.
    pub tls: Option<Arc<rustls::ServerConfig>>,
}

impl std::fmt::Debug for RestConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RestConfig")
            .field("gate", &self.gate)
            .field("hosts", &self.hosts)
            .field("cors_origins", &self.cors_origins)
            .field("tls", &self.tls.is_some())
            .finish()
    }
}

/// Shared state of the REST routes.
pub(crate) struct RestState {
    pub app: Arc<App>,
    /// The OpenAPI document for each scope (read, operate, admin), rendered on its first
    /// request: building one takes about 1 MB of heap for a moment, which a server that is never
    /// asked for it should not keep (docs/PERFORMANCE.md, idle RSS).
    pub openapi: [std::sync::OnceLock<axum::body::Bytes>; 3],
    /// To tell who asks for `/openapi.json`.
    pub gate: Gate,
    /// Cancelled on shutdown: running calls end with it.
    pub shutdown: CancellationToken,
}

/// The REST door over `app`'s tools as an axum router.
pub fn router(app: Arc<App>, cfg: RestConfig, shutdown: CancellationToken) -> Router {
    let state = Arc::new(RestState {
        openapi: Default::default(),
        app,
        gate: cfg.gate.clone(),
        shutdown,
    });
    // One route per tool, so a path that is no tool is a 404 before any key is asked for; the
    // mutating tools the filters hide are routed too, so that calls to them are refused on the
    // record (a 404 all the same).
    let registry = state.app.registry();
    let tools = registry
        .tools()
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
            require_identity,
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
    match cors_layer(&cfg.cors_origins) {
        Some(cors) => router.layer(cors),
        None => router,
    }
}

/// Serves the REST door and the `ops` endpoints on `listener`; when `shutdown` is cancelled it
/// stops accepting and lets calls in flight end (see `ops::Ops::drain_token`).
pub async fn serve(
    app: Arc<App>,
    listener: TcpListener,
    cfg: RestConfig,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let tls = cfg.tls.clone();
    let ops = crate::ops::router(&app);
    let calls_end = app.ops().drain_token(&shutdown);
    let router = router(app, cfg, calls_end).merge(ops);
    crate::serve::serve_router(listener, router, tls, shutdown).await
}

/// The Host/Origin policy of the REST door: the configured one, with the CORS origins accepted.
fn host_policy(cfg: &RestConfig) -> HostPolicy {
    let mut p = cfg.hosts.clone();
    if cfg.cors_origins.iter().any(|o| o.trim() == "*") {
        p.allowed_origins.clear();
    } else if !p.allowed_origins.is_empty() || !cfg.cors_origins.is_empty() {
        p.allowed_origins.extend(cfg.cors_origins.iter().cloned());
    }
    p
}

/// CORS for `origins` (`*` allows any origin); `None` when the list is empty.
fn cors_layer(origins: &[String]) -> Option<CorsLayer> {
    if origins.is_empty() {
        return None;
    }
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
            .allow_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                HeaderName::from_static("x-requested-with"),
            ])
            .max_age(std::time::Duration::from_secs(600)),
    )
}

/// The REST settings `settings` ask for, with the `gate` and TLS configuration both doors share.
pub fn config_from(
    settings: &crate::config::Settings,
    gate: Gate,
    tls: Option<Arc<rustls::ServerConfig>>,
) -> RestConfig {
    RestConfig {
        gate,
        hosts: HostPolicy::new(&settings.allowed_hosts, &settings.allowed_origins),
        cors_origins: settings.cors_origins.clone(),
        tls,
    }
}
