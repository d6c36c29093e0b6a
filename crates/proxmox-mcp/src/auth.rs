//! Authentication of the HTTP front doors: turns `Authorization: Bearer <key>` into an
//! [`Identity`] (which key is calling) or a refusal (401 missing, 403 wrong).
//!
//! Doors use it through [`require_identity`], an axum middleware that stores the `Identity` in
//! the request's extensions; routes read it and never look at headers themselves. What checks
//! keys is the [`Authenticator`] trait: today [`SingleKey`] (one key from `PROXMOX_MCP_API_KEY`)
//! or [`NoAuth`]; named, scoped keys replace them without touching any route.
//! Keys are compared as SHA-256 digests in constant time; a key is never logged.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Environment variable holding the single API key of the HTTP doors (until named keys land).
pub const API_KEY_ENV: &str = "PROXMOX_MCP_API_KEY";

/// Who is calling, as established by the door's [`Authenticator`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Identity {
    /// Name of the key used; `None` when the door does not authenticate.
    pub key: Option<String>,
}

/// Why a request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No usable `Authorization: Bearer` header (401).
    #[error("missing API key: send `Authorization: Bearer <key>`")]
    Missing,
    /// A key that matches none (403).
    #[error("invalid API key")]
    Wrong,
}

impl AuthError {
    /// The HTTP status of the refusal.
    pub fn status(&self) -> StatusCode {
        match self {
            AuthError::Missing => StatusCode::UNAUTHORIZED,
            AuthError::Wrong => StatusCode::FORBIDDEN,
        }
    }
}

impl IntoResponse for AuthError {
    /// mcpo's error shape, `{"detail": {"message": ...}}`; a 401 carries `WWW-Authenticate: Bearer`.
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "detail": { "message": self.to_string(), "kind": "auth" } });
        let mut resp = (self.status(), axum::Json(body)).into_response();
        if self == AuthError::Missing {
            resp.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
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
        Ok(Identity::default())
    }

    fn enabled(&self) -> bool {
        false
    }
}

/// One shared key; callers that present it are identified as `name`.
pub struct SingleKey {
    name: String,
    digest: [u8; 32],
}

impl std::fmt::Debug for SingleKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SingleKey")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl SingleKey {
    /// A key named `name` (shown in logs and audit, never the key itself).
    pub fn new(name: impl Into<String>, key: &str) -> Self {
        Self {
            name: name.into(),
            digest: digest(key),
        }
    }
}

impl Authenticator for SingleKey {
    fn authenticate(&self, headers: &HeaderMap) -> Result<Identity, AuthError> {
        let presented = bearer(headers).ok_or(AuthError::Missing)?;
        if bool::from(digest(presented).ct_eq(&self.digest)) {
            Ok(Identity {
                key: Some(self.name.clone()),
            })
        } else {
            Err(AuthError::Wrong)
        }
    }

    fn enabled(&self) -> bool {
        true
    }
}

/// The authenticator `env` asks for: [`SingleKey`] named `default` when `PROXMOX_MCP_API_KEY`
/// is set and not blank, else [`NoAuth`].
pub fn from_env(env: &HashMap<String, String>) -> Arc<dyn Authenticator> {
    match env
        .get(API_KEY_ENV)
        .map(|k| k.trim())
        .filter(|k| !k.is_empty())
    {
        Some(key) => Arc::new(SingleKey::new("default", key)),
        None => Arc::new(NoAuth),
    }
}

/// axum middleware: authenticates the request and stores its [`Identity`] in the extensions,
/// or answers the refusal. Mount with
/// `axum::middleware::from_fn_with_state(authenticator, require_identity)`.
pub async fn require_identity(
    State(auth): State<Arc<dyn Authenticator>>,
    mut req: Request,
    next: Next,
) -> Response {
    match auth.authenticate(req.headers()) {
        Ok(identity) => {
            req.extensions_mut().insert(identity);
            next.run(req).await
        }
        Err(e) => {
            tracing::info!(path = %req.uri().path(), error = %e, "refused an unauthenticated request");
            e.into_response()
        }
    }
}

/// The token of an `Authorization: Bearer <token>` header (scheme case-insensitive).
fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

fn digest(key: &str) -> [u8; 32] {
    Sha256::digest(key.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn headers(auth: Option<&str>) -> HeaderMap {
        let mut h = HeaderMap::new();
        if let Some(a) = auth {
            h.insert(header::AUTHORIZATION, a.parse().unwrap());
        }
        h
    }

    #[test]
    fn single_key_accepts_only_its_key() {
        let k = SingleKey::new("default", "s3cret");
        type Case<'a> = (Option<&'a str>, Result<Option<&'a str>, AuthError>);
        let cases: &[Case] = &[
            (Some("Bearer s3cret"), Ok(Some("default"))),
            (Some("bearer  s3cret "), Ok(Some("default"))),
            (Some("Bearer s3cre"), Err(AuthError::Wrong)),
            (Some("Bearer s3cret2"), Err(AuthError::Wrong)),
            (Some("Basic czNjcmV0"), Err(AuthError::Missing)),
            (Some("Bearer "), Err(AuthError::Missing)),
            (None, Err(AuthError::Missing)),
        ];
        for (h, want) in cases {
            let got = k.authenticate(&headers(*h)).map(|i| i.key);
            let want = want.clone().map(|k| k.map(str::to_string));
            assert_eq!(got, want, "{h:?}");
        }
        assert!(!format!("{k:?}").contains("s3cret"));
    }

    #[test]
    fn env_picks_the_authenticator() {
        let mut env = HashMap::new();
        assert!(!from_env(&env).enabled());
        env.insert(API_KEY_ENV.to_string(), "  ".to_string());
        assert!(!from_env(&env).enabled());
        env.insert(API_KEY_ENV.to_string(), "k".to_string());
        let a = from_env(&env);
        assert!(a.enabled());
        assert!(a.authenticate(&headers(Some("Bearer k"))).is_ok());
    }
}
