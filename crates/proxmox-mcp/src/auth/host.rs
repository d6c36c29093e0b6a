//! DNS-rebinding protection for the HTTP doors: `Host` and `Origin` checks (403 when refused).
//!
//! Rules: an empty `allowed_hosts` list (or one holding `*`) allows every host; an entry without
//! a port matches any port, `host:port` only that port. An empty `allowed_origins` list disables
//! the Origin check; a request without `Origin` passes; an entry `scheme://host` matches any
//! port, `:*` any port, `scheme://host:port` that port (the scheme's default port when the Origin
//! has none); `null` matches `Origin: null`; `*` matches every Origin.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, Uri, header, uri::Authority};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The `Host` and `Origin` values a door accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostPolicy {
    /// `host` (any port) or `host:port`; empty or `*`: any host.
    pub allowed_hosts: Vec<String>,
    /// Browser origins; empty: no Origin check.
    pub allowed_origins: Vec<String>,
}

impl Default for HostPolicy {
    /// Loopback names only, no Origin check.
    fn default() -> Self {
        Self::loopback()
    }
}

impl HostPolicy {
    /// The loopback names, which every policy accepts.
    pub const LOOPBACK: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

    /// Loopback `Host` names only, no Origin check.
    pub fn loopback() -> Self {
        Self {
            allowed_hosts: Self::LOOPBACK.iter().map(|s| s.to_string()).collect(),
            allowed_origins: Vec::new(),
        }
    }

    /// Loopback names plus `hosts` (`*` among them: any host), and `origins`.
    pub fn new(hosts: &[String], origins: &[String]) -> Self {
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
            Vec::new()
        } else {
            origins.to_vec()
        };
        p
    }

    /// Checks a request's `Host` and `Origin`.
    pub fn check(&self, uri: &Uri, headers: &HeaderMap) -> Result<(), Refusal> {
        check(uri, headers, &self.allowed_hosts, &self.allowed_origins)
    }
}

/// axum middleware refusing a request whose `Host` or `Origin` the policy does not allow (403,
/// or 400 for a malformed Host), in mcpo's error shape. Mount with
/// `axum::middleware::from_fn_with_state(Arc<HostPolicy>, check_host)`.
pub async fn check_host(
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
pub struct Refusal {
    pub status: StatusCode,
    pub message: &'static str,
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

/// Checks `Host` (or the URI authority) against `allowed_hosts` and `Origin` against
/// `allowed_origins`.
pub fn check(
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
    if allowed_origins.is_empty() {
        return Ok(());
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return Ok(());
    };
    let origin = origin
        .to_str()
        .ok()
        .and_then(parse_origin)
        .ok_or(Refusal::forbidden("Forbidden: Invalid Origin header"))?;
    if allowed_origins
        .iter()
        .filter_map(|a| parse_allowed_origin(a))
        .any(|a| a.matches(&origin))
    {
        Ok(())
    } else {
        tracing::warn!(
            ?origin,
            "refused a request with an Origin that is not allowed"
        );
        Err(Refusal::forbidden(
            "Forbidden: Origin header is not allowed",
        ))
    }
}

fn request_host(uri: &Uri, headers: &HeaderMap) -> Result<(String, Option<u16>), Refusal> {
    if let Some(host) = headers.get(header::HOST) {
        let host = host
            .to_str()
            .map_err(|_| Refusal::bad_request("Bad Request: Invalid Host header encoding"))?;
        let authority = Authority::try_from(host)
            .map_err(|_| Refusal::bad_request("Bad Request: Invalid Host header"))?;
        return Ok((normalize(authority.host()), authority.port_u16()));
    }
    let authority = uri
        .authority()
        .ok_or(Refusal::bad_request("Bad Request: missing Host header"))?;
    Ok((normalize(authority.host()), authority.port_u16()))
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
    Some(Origin::Tuple {
        scheme: uri.scheme_str()?.to_ascii_lowercase(),
        host: normalize(authority.host()),
        port: authority.port_u16(),
    })
}

#[derive(Debug)]
enum AllowedOrigin {
    Null,
    Tuple {
        scheme: String,
        host: String,
        /// `None`: any port.
        port: Option<u16>,
    },
}

impl AllowedOrigin {
    fn matches(&self, origin: &Origin) -> bool {
        match (self, origin) {
            (AllowedOrigin::Null, Origin::Null) => true,
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
                    && port.is_none_or(|port| p.or_else(|| default_port(s)) == Some(port))
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
    let (base, any_port) = match value.strip_suffix(":*") {
        Some(base) => (base, true),
        None => (value, false),
    };
    match parse_origin(base)? {
        Origin::Null if !any_port => Some(AllowedOrigin::Null),
        Origin::Null => None,
        Origin::Tuple { port: Some(_), .. } if any_port => None,
        Origin::Tuple { scheme, host, port } => Some(AllowedOrigin::Tuple { scheme, host, port }),
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
                200,
            ),
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
        assert!(p.allowed_hosts.is_empty() && p.allowed_origins.is_empty());
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
