//! DNS-rebinding and cross-site protection for the HTTP doors: `Host` and `Origin` checks (403
//! when refused, 400 for a malformed `Host`).
//!
//! Rules: an empty `allowed_hosts` list (or one holding `*`) allows every host; an entry without
//! a port matches any port, `host:port` only that port. A `Host` carrying user info
//! (`evil.example@127.0.0.1`) is malformed, and so is an absolute-form request target whose
//! authority differs from `Host`. A request without `Origin` passes (n8n, scripts, mcpo
//! clients); a browser's `Origin` passes when it is the server's own (same host and port as
//! `Host`: the `/docs` page) or matches an `allowed_origins` entry: `scheme://host` matches that
//! scheme's default port only, `scheme://host:port` that port, `scheme://host:*` any port, `null`
//! matches `Origin: null` and `*` every Origin. Any other Origin is refused, also when the list is
//! empty: a web page the operator opens must not reach the doors.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, Uri, header, uri::Authority};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The `Host` and `Origin` values a door accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostPolicy {
    /// `host` (any port) or `host:port`; empty or `*`: any host.
    pub(crate) allowed_hosts: Vec<String>,
    /// Browser origins accepted besides the server's own; `*` among them: any origin.
    pub(crate) allowed_origins: Vec<String>,
}

impl Default for HostPolicy {
    /// Loopback names only, no browser origin but the server's own.
    fn default() -> Self {
        Self::loopback()
    }
}

impl HostPolicy {
    /// The loopback names, which every policy accepts.
    pub(crate) const LOOPBACK: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

    /// Loopback `Host` names only, no browser origin but the server's own.
    pub(crate) fn loopback() -> Self {
        Self {
            allowed_hosts: Self::LOOPBACK.iter().map(|s| s.to_string()).collect(),
            allowed_origins: Vec::new(),
        }
    }

    /// Loopback names plus `hosts` (`*` among them: any host), and `origins` (`*` among them:
    /// any origin).
    pub(crate) fn new(hosts: &[String], origins: &[String]) -> Self {
        let mut p = Self::loopback();
        if hosts.iter().any(|h| h.trim() == "*") {
            p.allowed_hosts.clear();
        } else {
            for h in hosts {
                if !p.allowed_hosts.contains(h) {
                    p.allowed_hosts.push(h.clone());
                }
            }
        }
        p.allowed_origins = if origins.iter().any(|o| o.trim() == "*") {
            vec!["*".to_string()]
        } else {
            origins.to_vec()
        };
        p
    }

    /// Checks a request's `Host` and `Origin`.
    pub(crate) fn check(&self, uri: &Uri, headers: &HeaderMap) -> Result<(), Refusal> {
        check(uri, headers, &self.allowed_hosts, &self.allowed_origins)
    }
}

/// axum middleware refusing a request whose `Host` or `Origin` the policy does not allow (403,
/// or 400 for a malformed Host), in mcpo's error shape. Mount with
/// `axum::middleware::from_fn_with_state(Arc<HostPolicy>, check_host)`.
pub(crate) async fn check_host(
    State(policy): State<Arc<HostPolicy>>,
    req: Request,
    next: Next,
) -> Response {
    match policy.check(req.uri(), req.headers()) {
        Ok(()) => next.run(req).await,
        Err(r) => {
            let body = serde_json::json!({"detail": {"message": r.message, "kind": "host"}});
            (r.status, axum::Json(body)).into_response()
        }
    }
}

/// Why a request was refused, with the status and text to answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refusal {
    pub(crate) status: StatusCode,
    pub(crate) message: &'static str,
}

impl Refusal {
    fn forbidden(message: &'static str) -> Self {
        Self {
            status: StatusCode::FORBIDDEN,
            message,
        }
    }

    fn bad_request(message: &'static str) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            message,
        }
    }
}

/// Checks `Host` (or the URI authority) against `allowed_hosts` and `Origin` against the
/// request's own origin and `allowed_origins`.
pub(crate) fn check(
    uri: &Uri,
    headers: &HeaderMap,
    allowed_hosts: &[String],
    allowed_origins: &[String],
) -> Result<(), Refusal> {
    let (host, port) = request_host(uri, headers)?;
    if !allowed_hosts.is_empty()
        && !allowed_hosts
            .iter()
            .filter_map(|a| parse_allowed_host(a))
            .any(|(h, p)| h == host && p.is_none_or(|p| Some(p) == port))
    {
        tracing::warn!(%host, "refused a request with a Host that is not allowed");
        return Err(Refusal::forbidden("Forbidden: Host header is not allowed"));
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return Ok(());
    };
    let origin = origin
        .to_str()
        .ok()
        .and_then(parse_origin)
        .ok_or(Refusal::forbidden("Forbidden: Invalid Origin header"))?;
    let own = match &origin {
        Origin::Tuple {
            scheme,
            host: h,
            port: p,
        } => {
            *h == host
                && p.or_else(|| default_port(scheme)) == port.or_else(|| default_port(scheme))
        }
        Origin::Null => false,
    };
    if own
        || allowed_origins
            .iter()
            .filter_map(|a| parse_allowed_origin(a))
            .any(|a| a.matches(&origin))
    {
        Ok(())
    } else {
        tracing::warn!(
            ?origin,
            "refused a request with an Origin that is not allowed (a web page on another site?)"
        );
        Err(Refusal::forbidden(
            "Forbidden: Origin header is not allowed (list the browser origins that may call with \
             --allowed-origin)",
        ))
    }
}

/// The `Host` header's name and port, or the request target's authority when there is no
/// `Host` (HTTP/2). User info in either, or a target authority that is not the `Host`, is a 400.
fn request_host(uri: &Uri, headers: &HeaderMap) -> Result<(String, Option<u16>), Refusal> {
    let target = uri.authority();
    if target.is_some_and(|a| a.as_str().contains('@')) {
        return Err(Refusal::bad_request(
            "Bad Request: the request target carries user info",
        ));
    }
    let Some(host) = headers.get(header::HOST) else {
        let authority = target.ok_or(Refusal::bad_request("Bad Request: missing Host header"))?;
        return Ok((normalize(authority.host()), authority.port_u16()));
    };
    let host = host
        .to_str()
        .map_err(|_| Refusal::bad_request("Bad Request: Invalid Host header encoding"))?;
    if host.contains('@') {
        tracing::warn!(%host, "refused a Host header with user info");
        return Err(Refusal::bad_request(
            "Bad Request: Invalid Host header (user info is not allowed)",
        ));
    }
    let authority = Authority::try_from(host)
        .map_err(|_| Refusal::bad_request("Bad Request: Invalid Host header"))?;
    let named = (normalize(authority.host()), authority.port_u16());
    if let Some(t) = target
        && (normalize(t.host()), t.port_u16()) != named
    {
        tracing::warn!(%host, target = %t, "refused an absolute-form target naming another host");
        return Err(Refusal::bad_request(
            "Bad Request: the request target's host differs from the Host header",
        ));
    }
    Ok(named)
}

fn normalize(host: &str) -> String {
    host.trim_matches(['[', ']']).to_ascii_lowercase()
}

fn parse_allowed_host(allowed: &str) -> Option<(String, Option<u16>)> {
    let allowed = allowed.trim();
    if allowed.is_empty() {
        return None;
    }
    match Authority::try_from(allowed) {
        Ok(a) => Some((normalize(a.host()), a.port_u16())),
        Err(_) => Some((normalize(allowed), None)),
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Origin {
    Null,
    Tuple {
        scheme: String,
        host: String,
        port: Option<u16>,
    },
}

fn parse_origin(value: &str) -> Option<Origin> {
    let value = value.trim();
    if value.eq_ignore_ascii_case("null") {
        return Some(Origin::Null);
    }
    let uri = Uri::try_from(value).ok()?;
    let authority = uri.authority()?;
    if authority.as_str().contains('@') {
        return None;
    }
    Some(Origin::Tuple {
        scheme: uri.scheme_str()?.to_ascii_lowercase(),
        host: normalize(authority.host()),
        port: authority.port_u16(),
    })
}

#[derive(Debug)]
enum AllowedOrigin {
    Any,
    Null,
    Tuple {
        scheme: String,
        host: String,
        /// `None`: any port (`:*`); else the port (the scheme's default when the entry has none).
        port: Option<Option<u16>>,
    },
}

impl AllowedOrigin {
    fn matches(&self, origin: &Origin) -> bool {
        match (self, origin) {
            (AllowedOrigin::Any, _) | (AllowedOrigin::Null, Origin::Null) => true,
            (
                AllowedOrigin::Tuple { scheme, host, port },
                Origin::Tuple {
                    scheme: s,
                    host: h,
                    port: p,
                },
            ) => {
                scheme == s
                    && host == h
                    && port.is_none_or(|port| p.or_else(|| default_port(s)) == port)
            }
            _ => false,
        }
    }
}

fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" => Some(80),
        "https" => Some(443),
        _ => None,
    }
}

fn parse_allowed_origin(value: &str) -> Option<AllowedOrigin> {
    let value = value.trim();
    if value == "*" {
        return Some(AllowedOrigin::Any);
    }
    let (base, any_port) = match value.strip_suffix(":*") {
        Some(base) => (base, true),
        None => (value, false),
    };
    match parse_origin(base)? {
        Origin::Null if !any_port => Some(AllowedOrigin::Null),
        Origin::Null => None,
        Origin::Tuple { port: Some(_), .. } if any_port => None,
        Origin::Tuple { scheme, host, port } => {
            let port = (!any_port).then(|| port.or_else(|| default_port(&scheme)));
            Some(AllowedOrigin::Tuple { scheme, host, port })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(host: Option<&str>, origin: Option<&str>, hosts: &[&str], origins: &[&str]) -> u16 {
        let mut headers = HeaderMap::new();
        if let Some(h) = host {
            headers.insert(header::HOST, h.parse().unwrap_or_else(|_| unreachable!()));
        }
        if let Some(o) = origin {
            headers.insert(header::ORIGIN, o.parse().unwrap_or_else(|_| unreachable!()));
        }
        let hosts: Vec<String> = hosts.iter().map(|s| s.to_string()).collect();
        let origins: Vec<String> = origins.iter().map(|s| s.to_string()).collect();
        match check(&Uri::from_static("/mcp"), &headers, &hosts, &origins) {
            Ok(()) => 200,
            Err(r) => r.status.as_u16(),
        }
    }

    #[test]
    fn host_and_origin_rules() {
        let lo = ["localhost", "127.0.0.1", "::1"];
        // Host, Origin, allowed hosts, allowed origins, expected status.
        type Case<'a> = (
            Option<&'a str>,
            Option<&'a str>,
            &'a [&'a str],
            &'a [&'a str],
            u16,
        );
        let cases: &[Case] = &[
            (Some("127.0.0.1:8812"), None, &lo, &[], 200),
            (Some("localhost"), None, &lo, &[], 200),
            (Some("[::1]:8812"), None, &lo, &[], 200),
            (Some("evil.example:8812"), None, &lo, &[], 403),
            (Some("evil.example"), None, &[], &[], 200),
            (Some("pve.lan:8812"), None, &["pve.lan:8812"], &[], 200),
            (Some("pve.lan:9000"), None, &["pve.lan:8812"], &[], 403),
            (None, None, &lo, &[], 400),
            (
                Some("localhost"),
                Some("http://evil.example"),
                &lo,
                &[],
                403,
            ),
            (
                Some("127.0.0.1:8811"),
                Some("http://127.0.0.1:8811"),
                &lo,
                &[],
                200,
            ),
            (
                Some("127.0.0.1:8811"),
                Some("http://127.0.0.1:8812"),
                &lo,
                &[],
                403,
            ),
            (
                Some("localhost"),
                Some("https://n8n.lan:8443"),
                &lo,
                &["https://n8n.lan"],
                403,
            ),
            (
                Some("localhost"),
                Some("http://any.example"),
                &lo,
                &["*"],
                200,
            ),
            (Some("evil.example@127.0.0.1"), None, &lo, &[], 400),
            (Some("evil.example@127.0.0.1"), None, &[], &[], 400),
            (
                Some("localhost"),
                Some("http://evil.example"),
                &lo,
                &["http://localhost:*"],
                403,
            ),
            (
                Some("localhost"),
                Some("http://localhost:5678"),
                &lo,
                &["http://localhost:*"],
                200,
            ),
            (
                Some("localhost"),
                Some("https://n8n.lan"),
                &lo,
                &["https://n8n.lan:443"],
                200,
            ),
            (Some("localhost"), Some("null"), &lo, &["null"], 200),
            (Some("localhost"), None, &lo, &["https://n8n.lan"], 200),
        ];
        for (host, origin, hosts, origins, want) in cases {
            assert_eq!(
                run(*host, *origin, hosts, origins),
                *want,
                "host {host:?} origin {origin:?}"
            );
        }
    }
}

#[cfg(test)]
mod policy_tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn policies_add_to_loopback_and_star_opens() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        let p = HostPolicy::new(&s(&["pve.lan", "localhost"]), &s(&["https://n8n.lan"]));
        assert_eq!(
            p.allowed_hosts,
            s(&["localhost", "127.0.0.1", "::1", "pve.lan"])
        );
        assert_eq!(p.allowed_origins, s(&["https://n8n.lan"]));
        let p = HostPolicy::new(&s(&["*"]), &s(&["*"]));
        assert!(p.allowed_hosts.is_empty() && p.allowed_origins == ["*"]);
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_static("anything.example"));
        assert!(p.check(&Uri::from_static("/x"), &h).is_ok());
        assert!(
            HostPolicy::loopback()
                .check(&Uri::from_static("/x"), &h)
                .is_err()
        );
    }
}
