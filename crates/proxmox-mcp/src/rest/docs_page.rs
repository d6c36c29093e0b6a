//! The docs page at `/docs`: a small HTML page, its stylesheet and its script, compiled into the
//! binary (no CDN, works offline). The script reads `openapi.json`, lists every tool with its
//! parameters, and can try a call with an API key.

use std::sync::Arc;

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;

use super::RestState;

const HTML: &str = include_str!("assets/docs.html");
const CSS: &str = include_str!("assets/docs.css");
const JS: &str = include_str!("assets/docs.js");

/// Only our own files, no inline script, no third-party origin.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; \
                   img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// `/docs`, `/docs/docs.css`, `/docs/docs.js` (public).
pub(super) fn router() -> Router<Arc<RestState>> {
    Router::new()
        .route("/docs", get(html))
        .route("/docs/docs.css", get(css))
        .route("/docs/docs.js", get(js))
}

async fn html() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CONTENT_SECURITY_POLICY, CSP),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        HTML,
    )
}

async fn css() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        CSS,
    )
}

async fn js() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        JS,
    )
}
