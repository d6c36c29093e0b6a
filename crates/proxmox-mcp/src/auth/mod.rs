//! The gate of the HTTP front doors: who is calling ([`Authenticator`] → [`Identity`] with a
//! [`Scope`]), the key's rate budget ([`RateLimiter`], counted by the registry's admission), and
//! from which `Host`/`Origin` ([`HostPolicy`]).
//!
//! Doors use it through [`require_key`], an axum middleware that stores the `Identity` in the
//! request's extensions; routes read it and never look at headers themselves. Keys are named and
//! scoped ([`KeyRing`], from `[[keys]]` in the config and `PROXMOX_MCP_API_KEY`), kept as
//! SHA-256 digests and compared in constant time; a key is never logged. A missing and a wrong
//! key are both 401 with `WWW-Authenticate: Bearer`. `keygen.rs` makes new keys (`keys new`).

pub(crate) mod host;
pub(crate) mod keygen;
pub(crate) mod keys;

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::registry::{RateLimiter, Scope};
pub(crate) use host::HostPolicy;
pub use keys::{KeyRing, KeySpec};

/// Environment variable holding a quick admin key named `default` (`_FILE` reads it from a file).
pub(crate) const API_KEY_ENV: &str = "PROXMOX_MCP_API_KEY";

/// Who is calling, as established by the door's [`Authenticator`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// Name of the key used; `None` when the door does not authenticate.
    pub(crate) key: Option<String>,
    /// What the caller may call.
    pub(crate) scope: Scope,
}

impl Identity {
    /// A caller of a door that checks no key: it may call every tool the server offers (the
    /// operator chose to run without keys; server-wide filters still apply).
    pub(crate) fn anonymous() -> Self {
        Self {
            key: None,
            scope: Scope::Admin,
        }
    }

    /// The caller of key `name` with `scope`.
    pub(crate) fn key(name: impl Into<String>, scope: Scope) -> Self {
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
    pub(crate) fn status(&self) -> StatusCode {
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
pub(crate) struct NoAuth;

impl Authenticator for NoAuth {
    fn authenticate(&self, _headers: &HeaderMap) -> Result<Identity, AuthError> {
        Ok(Identity::anonymous())
    }

    fn enabled(&self) -> bool {
        false
    }
}

/// What both HTTP doors check: the key (every request) and its rate (tool calls, through the
/// registry's admission). Cheap to clone.
#[derive(Clone)]
pub struct Gate {
    pub(crate) auth: Arc<dyn Authenticator>,
    /// Shared by both doors: a key's calls count once whatever door they use.
    pub(crate) rate: Arc<RateLimiter>,
    /// The key ring behind `auth` when keys are configured: what a reload replaces.
    ring: Option<Arc<KeyRing>>,
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
            ring: None,
        }
    }

    /// A gate checking the keys of `ring`, which [`Gate::reload_keys`] can replace later.
    pub fn with_ring(ring: Arc<KeyRing>) -> Self {
        Self {
            ring: Some(ring.clone()),
            ..Self::new(ring)
        }
    }

    /// Replaces the keys (and their own rate limits) of both doors at once, without a
    /// restart; answers how many keys there are now. Refused, keeping the keys in place, when
    /// the server started without keys or `keys` is empty: turning authentication on or off
    /// takes a restart.
    pub fn reload_keys(&self, keys: Vec<KeySpec>) -> Result<usize, String> {
        let Some(ring) = &self.ring else {
            return Err("the server started without API keys: adding keys takes a restart".into());
        };
        if keys.is_empty() {
            return Err(
                "the configuration now has no API key: the current keys stay (turning \
                        authentication off takes a restart)"
                    .into(),
            );
        }
        let per_key = keys
            .iter()
            .filter_map(|k| Some((k.name.clone(), k.rate_limit_per_minute?)))
            .collect();
        let n = keys.len();
        ring.replace(keys);
        self.rate.set_per_key(per_key);
        Ok(n)
    }

    /// With this rate limiter.
    pub fn with_rate(mut self, rate: RateLimiter) -> Self {
        self.rate = Arc::new(rate);
        self
    }
}

/// axum middleware: authenticates the request and stores its [`Identity`] in the extensions, or
/// answers 401. No rate check: the rate counts tool calls (the registry's admission), not HTTP
/// requests (an MCP session also sends `initialize`, `tools/list`, pings and stream GETs).
/// Mount with `axum::middleware::from_fn_with_state(gate, require_key)`.
pub(crate) async fn require_key(
    State(gate): State<Gate>,
    mut req: Request,
    next: Next,
) -> Response {
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
