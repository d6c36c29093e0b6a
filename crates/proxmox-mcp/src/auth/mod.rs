//! The gate of the HTTP front doors: who is calling ([`Authenticator`] → [`Identity`] with a
//! [`Scope`]), how often ([`RateLimiter`]), and from which `Host`/`Origin` ([`HostPolicy`]).
//!
//! Doors use it through [`require_identity`], an axum middleware that stores the `Identity` in
//! the request's extensions; routes read it and never look at headers themselves. Keys are
//! named and scoped ([`KeyRing`], from `[[keys]]` in the config and `PROXMOX_MCP_API_KEY`),
//! kept as SHA-256 digests and compared in constant time; a key is never logged. A missing and a
//! wrong key are both 401 with `WWW-Authenticate: Bearer`.

pub mod host;
pub mod keygen;
pub mod keys;
pub mod rate;

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

pub use crate::registry::Scope;
pub use host::HostPolicy;
pub use keys::{KeyRing, KeySpec};
pub use rate::{RateLimited, RateLimiter};

/// Environment variable holding a quick admin key named `default` (`_FILE` reads it from a file).
pub const API_KEY_ENV: &str = "PROXMOX_MCP_API_KEY";

/// Who is calling, as established by the door's [`Authenticator`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// Name of the key used; `None` when the door does not authenticate.
    pub key: Option<String>,
    /// What the caller may call.
    pub scope: Scope,
}

impl Identity {
    /// A caller of a door that checks no key: it may call every tool the server offers (the
    /// operator chose to run without keys; server-wide filters still apply).
    pub fn anonymous() -> Self {
        Self {
            key: None,
            scope: Scope::Admin,
        }
    }

    /// The caller of key `name` with `scope`.
    pub fn key(name: impl Into<String>, scope: Scope) -> Self {
        Self {
            key: Some(name.into()),
            scope,
        }
    }
}

/// Why a request was refused before reaching a tool.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No key presented (401).
    #[error("missing API key: send `Authorization: Bearer <key>`")]
    Missing,
    /// A key that matches none (401).
    #[error("invalid API key")]
    Wrong,
}

impl AuthError {
    /// The HTTP status of the refusal: 401 for both, as the MCP authorization spec asks.
    pub fn status(&self) -> StatusCode {
        StatusCode::UNAUTHORIZED
    }
}

impl IntoResponse for AuthError {
    /// mcpo's error shape, `{"detail": {"message": ...}}`, with `WWW-Authenticate: Bearer`.
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "detail": { "message": self.to_string(), "kind": "auth" } });
        let mut resp = (self.status(), axum::Json(body)).into_response();
        resp.headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        resp
    }
}

/// Decides who a request comes from.
pub trait Authenticator: Send + Sync + 'static {
    /// The identity behind `headers`, or why it is refused.
    fn authenticate(&self, headers: &HeaderMap) -> Result<Identity, AuthError>;
    /// Whether this authenticator checks anything (false: every request passes, anonymous).
    fn enabled(&self) -> bool;
}

/// Lets everyone in, anonymously (no key configured).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoAuth;

impl Authenticator for NoAuth {
    fn authenticate(&self, _headers: &HeaderMap) -> Result<Identity, AuthError> {
        Ok(Identity::anonymous())
    }

    fn enabled(&self) -> bool {
        false
    }
}

/// What both HTTP doors check before a tool runs: the key and the rate. Cheap to clone.
#[derive(Clone)]
pub struct Gate {
    pub auth: Arc<dyn Authenticator>,
    /// Shared by both doors: a key's calls count once whatever door they use.
    pub rate: Arc<RateLimiter>,
}

impl std::fmt::Debug for Gate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gate")
            .field("auth", &self.auth.enabled())
            .field("rate", &self.rate)
            .finish()
    }
}

impl Default for Gate {
    /// No key, no rate limit.
    fn default() -> Self {
        Self::new(Arc::new(NoAuth))
    }
}

impl Gate {
    /// A gate checking keys with `auth` and no rate limit.
    pub fn new(auth: Arc<dyn Authenticator>) -> Self {
        Self {
            auth,
            rate: Arc::new(RateLimiter::unlimited()),
        }
    }

    /// With this rate limiter.
    pub fn with_rate(mut self, rate: RateLimiter) -> Self {
        self.rate = Arc::new(rate);
        self
    }

    /// The gate `settings` ask for: their keys (none: [`NoAuth`]) and rate limits.
    pub fn from_settings(settings: &crate::config::Settings) -> Self {
        let sec = &settings.security;
        let auth: Arc<dyn Authenticator> = if sec.keys.is_empty() {
            Arc::new(NoAuth)
        } else {
            Arc::new(KeyRing::new(
                sec.keys.clone(),
                sec.api_key_header.as_deref(),
            ))
        };
        let per_key = sec
            .keys
            .iter()
            .filter_map(|k| Some((k.name.clone(), k.rate_limit_per_minute?)))
            .collect();
        Self::new(auth).with_rate(RateLimiter::new(sec.limits.rate_limit_per_minute, per_key))
    }
}

/// axum middleware: authenticates the request and stores its [`Identity`] in the extensions, or
/// answers 401. No rate check: the MCP door counts `tools/call` messages, not HTTP requests
/// (an MCP session also sends `initialize`, `tools/list`, pings and stream GETs). Mount with
/// `axum::middleware::from_fn_with_state(gate, require_key)`.
pub async fn require_key(State(gate): State<Gate>, mut req: Request, next: Next) -> Response {
    match gate.auth.authenticate(req.headers()) {
        Ok(identity) => {
            req.extensions_mut().insert(identity);
            next.run(req).await
        }
        Err(e) => {
            tracing::info!(path = %req.uri().path(), method = %req.method(), error = %e, "refused an unauthenticated request");
            e.into_response()
        }
    }
}

/// axum middleware: authenticates the request, checks the caller's rate, and stores its
/// [`Identity`] in the extensions; or answers the refusal (401, 429). Mount with
/// `axum::middleware::from_fn_with_state(gate, require_identity)`.
pub async fn require_identity(State(gate): State<Gate>, mut req: Request, next: Next) -> Response {
    match gate.auth.authenticate(req.headers()) {
        Ok(identity) => {
            if let Err(limited) = gate.rate.check(identity.key.as_deref()) {
                tracing::info!(path = %req.uri().path(), key = identity.key.as_deref().unwrap_or("-"), "rate limited");
                return limited.into_response();
            }
            req.extensions_mut().insert(identity);
            next.run(req).await
        }
        Err(e) => {
            tracing::info!(path = %req.uri().path(), error = %e, "refused an unauthenticated request");
            e.into_response()
        }
    }
}
