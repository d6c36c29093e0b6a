//! The REST front door (port 8811), shaped like mcpo so existing callers keep working:
//! `POST /<tool>` with the arguments as the JSON body, `GET /<tool>?param=value` for read tools,
//! `/openapi.json` (OpenAPI 3.1) and an offline docs page at `/docs`.
//!
//! Everything here is derived from the registry: there is no per-tool code in this module.
//! Calls go through `Registry::call` like every other door (caller transport `"rest"`).
//! Authentication is `crate::auth`'s middleware; `/openapi.json` and `/docs` are public.

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
use crate::auth::{Authenticator, NoAuth, require_identity};

pub use error::RestError;

/// Default REST listen address (mcpo's port).
pub const DEFAULT_REST_LISTEN: &str = "127.0.0.1:8811";

/// Settings of the REST door.
#[derive(Clone)]
pub struct RestConfig {
    /// Who may call tools (`/openapi.json` and `/docs` stay public).
    pub auth: Arc<dyn Authenticator>,
    /// Browser origins allowed by CORS (`https://host:port`, or `*` for any); empty: CORS off.
    pub cors_origins: Vec<String>,
}

impl std::fmt::Debug for RestConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RestConfig")
            .field("auth", &self.auth.enabled())
            .field("cors_origins", &self.cors_origins)
            .finish()
    }
}

impl Default for RestConfig {
    fn default() -> Self {
        Self {
            auth: Arc::new(NoAuth),
            cors_origins: Vec::new(),
        }
    }
}

/// Shared state of the REST routes.
pub(crate) struct RestState {
    pub app: Arc<App>,
    /// The OpenAPI document, rendered once.
    pub openapi: axum::body::Bytes,
    /// Cancelled on shutdown: running calls end with it.
    pub shutdown: CancellationToken,
}

/// The REST door over `app`'s tools as an axum router.
pub fn router(app: Arc<App>, cfg: RestConfig, shutdown: CancellationToken) -> Router {
    let state = Arc::new(RestState {
        openapi: openapi::render(app.registry()).into(),
        app,
        shutdown,
    });
    // One route per tool, so a path that is no tool is a 404 before any key is asked for.
    let tools = state
        .app
        .registry()
        .tools()
        .fold(Router::new(), |r, t| {
            let name = t.name;
            r.route(
                &format!("/{name}"),
                axum::routing::any(move |st, req| routes::call_tool(st, name, req)),
            )
        })
        .route_layer(axum::middleware::from_fn_with_state(
            cfg.auth.clone(),
            require_identity,
        ));
    let router = Router::new()
        .route("/openapi.json", get(routes::openapi_json))
        .route("/", axum::routing::any(routes::root))
        .merge(docs_page::router())
        .merge(tools)
        .fallback(routes::not_found)
        .with_state(state);
    match cors_layer(&cfg.cors_origins) {
        Some(cors) => router.layer(cors),
        None => router,
    }
}

/// Serves the REST door on `listener` until `shutdown` is cancelled, then drains.
pub async fn serve(
    app: Arc<App>,
    listener: TcpListener,
    cfg: RestConfig,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let router = router(app, cfg, shutdown.clone());
    crate::serve::serve_http(listener, router, shutdown).await
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

/// The REST settings `settings` and `env` (the process environment) ask for: the API key of
/// `PROXMOX_MCP_API_KEY` (see `crate::auth`) and the CORS origins.
pub fn config_from(
    settings: &crate::config::Settings,
    env: &std::collections::HashMap<String, String>,
) -> RestConfig {
    RestConfig {
        auth: crate::auth::from_env(env),
        cors_origins: settings.cors_origins.clone(),
    }
}
