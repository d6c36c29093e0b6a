//! The client's one error type: what failed (method + path), how (a [`ErrorKind`]), and PVE's own
//! words (the HTTP reason line, else the body `message`; the `errors` map of a 400).
//!
//! `Display` is written for an agent to read and act on: `VM 105 is not running`,
//! `Parameter verification failed: vmid: invalid format`, `node pve09 is unreachable (595 ...)`;
//! never a bare `HTTP 500`.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde::Deserialize;

/// What kind of failure this is; callers branch on it (retry, ask for a privilege, fix a parameter).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// 401: bad or expired credentials, missing CSRF token.
    Auth,
    /// 403: the user or token lacks a privilege (`Permission check failed (/vms/100, VM.PowerMgmt)`).
    Permission,
    /// 404, 501, or a 500 saying the object does not exist (`Configuration file ... does not exist`).
    NotFound,
    /// 400: parameter verification failed; see [`Error::errors`].
    Params,
    /// 595/596 or a failed connection: the node (or the whole API) cannot be reached.
    Unreachable,
    /// The request (or a task/exec wait) took longer than allowed.
    Timeout,
    /// TLS handshake or certificate verification failed.
    Tls,
    /// A task finished with an exit status other than OK.
    TaskFailed,
    /// The configuration is incomplete or invalid (missing host, bad fingerprint, ...).
    Config,
    /// PVE answered something the client cannot read (not JSON, wrong shape).
    Protocol,
    /// Any other PVE error (mostly 500 with PVE's message: `VM 100 is running - destroy failed`).
    Pve,
    /// The caller's cancellation token fired before the call started anything.
    Cancelled,
    /// SSH: the node's host key is not trusted (unknown, changed or revoked); the message names
    /// the fingerprint it presented.
    HostKey,
}

/// An error from the PVE client. See the module docs.
#[derive(Debug, thiserror::Error)]
pub struct Error {
    kind: ErrorKind,
    status: Option<u16>,
    message: String,
    errors: BTreeMap<String, String>,
    method: Option<&'static str>,
    path: Option<String>,
    #[source]
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl Error {
    /// A new error of this kind with this message (no HTTP status, no call attached).
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            status: None,
            message: message.into(),
            errors: BTreeMap::new(),
            method: None,
            path: None,
            source: None,
        }
    }

    /// A configuration error.
    pub fn config(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Config, message)
    }

    /// A response PVE sent that the client cannot read.
    pub fn protocol(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Protocol, message)
    }

    /// Builds the error for a non-2xx answer from the status, the reason phrase (if not the
    /// canonical one) and the body.
    pub fn from_response(status: u16, reason: Option<&str>, body: &[u8]) -> Self {
        #[derive(Deserialize, Default)]
        #[serde(default)]
        struct Body {
            message: Option<String>,
            errors: Option<serde_json::Value>,
        }
        // Only an object is PVE's error body (serde would also read an array positionally).
        let is_object = body.trim_ascii_start().starts_with(b"{");
        let parsed: Body = match is_object {
            true => serde_json::from_slice(body).unwrap_or_default(),
            false => Body::default(),
        };
        let from_reason = reason.map(str::trim).filter(|r| !r.is_empty());
        let from_body = parsed
            .message
            .as_deref()
            .map(str::trim)
            .filter(|m| !m.is_empty());
        let message = from_reason
            .or(from_body)
            .map(str::to_owned)
            .unwrap_or_else(|| default_message(status));
        let errors = match parsed.errors {
            Some(serde_json::Value::Object(map)) => map
                .into_iter()
                .map(|(k, v)| {
                    let v = match v {
                        serde_json::Value::String(s) => s.trim().to_owned(),
                        other => other.to_string(),
                    };
                    (k, v)
                })
                .collect(),
            _ => BTreeMap::new(),
        };
        let kind = classify(status, &message, !errors.is_empty());
        Self {
            kind,
            status: Some(status),
            message,
            errors,
            method: None,
            path: None,
            source: None,
        }
    }

    /// A request that did not finish within `after`.
    pub fn timeout(after: Duration) -> Self {
        Self::new(
            ErrorKind::Timeout,
            format!("timed out after {}", human_duration(after)),
        )
    }

    /// Attaches the call that failed.
    pub fn with_call(mut self, method: &'static str, path: impl Into<String>) -> Self {
        self.method = Some(method);
        self.path = Some(path.into());
        self
    }

    /// Attaches an underlying cause.
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }

    /// The kind of failure.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }
    /// The HTTP status PVE answered, if the failure was an HTTP answer.
    pub fn status(&self) -> Option<u16> {
        self.status
    }
    /// PVE's message (reason phrase or body `message`, trimmed), or the client's own.
    pub fn message(&self) -> &str {
        &self.message
    }
    /// The per-parameter reasons of a 400 (`{"vmid": "invalid format - ..."}`).
    pub fn errors(&self) -> &BTreeMap<String, String> {
        &self.errors
    }
    /// The HTTP method of the failed call, if any.
    pub fn method(&self) -> Option<&'static str> {
        self.method
    }
    /// The API path of the failed call (below `/api2/json`), if any.
    pub fn path(&self) -> Option<&str> {
        self.path.as_deref()
    }
    /// Whether retrying the same idempotent request later might succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self.kind, ErrorKind::Unreachable | ErrorKind::Timeout)
            || matches!(self.status, Some(502 | 503))
    }

    /// The node named in the failed call's path (`/nodes/{node}/...`), if any.
    fn node(&self) -> Option<&str> {
        let rest = self.path.as_deref()?.strip_prefix("/nodes/")?;
        let node = rest.split('/').next().filter(|n| !n.is_empty())?;
        Some(node)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.kind, self.status) {
            (ErrorKind::Params, _) if !self.errors.is_empty() => {
                f.write_str(self.message.trim_end_matches('.'))?;
                let mut sep = ": ";
                for (param, why) in &self.errors {
                    write!(f, "{sep}{param}: {}", one_line(why))?;
                    sep = "; ";
                }
            }
            (ErrorKind::Unreachable, Some(status)) => match self.node() {
                Some(node) => write!(f, "node {node} is unreachable ({status} {})", self.message)?,
                None => write!(f, "PVE API is unreachable ({status} {})", self.message)?,
            },
            (ErrorKind::Auth, Some(_)) => {
                write!(f, "authentication failed: {}", self.message)?;
            }
            _ => f.write_str(&self.message)?,
        }
        if let (Some(method), Some(path)) = (self.method, self.path.as_deref()) {
            write!(f, " ({method} {path})")?;
        }
        Ok(())
    }
}

/// Classifies an HTTP failure.
fn classify(status: u16, message: &str, has_errors: bool) -> ErrorKind {
    match status {
        400 => ErrorKind::Params,
        401 => ErrorKind::Auth,
        403 => ErrorKind::Permission,
        404 | 501 => ErrorKind::NotFound,
        595 | 596 => ErrorKind::Unreachable,
        _ if has_errors => ErrorKind::Params,
        500 if looks_not_found(message) => ErrorKind::NotFound,
        _ => ErrorKind::Pve,
    }
}

/// PVE reports a missing guest, storage, volume or snapshot as a 500 with one of these phrasings.
fn looks_not_found(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    m.contains("does not exist")
        || m.contains("doesn't exist")
        || m.contains("no such")
        || m.contains("not found")
}

fn default_message(status: u16) -> String {
    match status {
        400 => "Parameter verification failed.".to_owned(),
        401 => "authentication failure".to_owned(),
        403 => "permission denied".to_owned(),
        _ => format!("HTTP error {status} without a message"),
    }
}

fn one_line(s: &str) -> String {
    s.split('\n')
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" / ")
}

/// `1.5 s`, `30 s`, `2 min 5 s`.
pub(crate) fn human_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 10_000 && !ms.is_multiple_of(1000) {
        format!("{:.1} s", d.as_secs_f64())
    } else if d.as_secs() < 120 {
        format!("{} s", d.as_secs())
    } else {
        let (m, s) = (d.as_secs() / 60, d.as_secs() % 60);
        if s == 0 {
            format!("{m} min")
        } else {
            format!("{m} min {s} s")
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn check(status: u16, reason: Option<&str>, body: &str, kind: ErrorKind, display: &str) {
        let e = Error::from_response(status, reason, body.as_bytes())
            .with_call("POST", "/nodes/pve1/qemu/105/status/shutdown");
        assert_eq!(e.kind(), kind, "{status} {reason:?} {body}");
        assert_eq!(e.to_string(), display);
        assert_eq!(e.status(), Some(status));
    }

    #[test]
    fn messages_read_well() {
        const CALL: &str = " (POST /nodes/pve1/qemu/105/status/shutdown)";
        check(
            500,
            Some("VM 105 is not running"),
            r#"{"data":null}"#,
            ErrorKind::Pve,
            &format!("VM 105 is not running{CALL}"),
        );
        // The reason line wins over the body message; the body message is trimmed.
        check(
            500,
            None,
            "{\"data\":null,\"message\":\"VM 105 is not running\\n\"}",
            ErrorKind::Pve,
            &format!("VM 105 is not running{CALL}"),
        );
        check(
            400,
            Some("Parameter verification failed."),
            r#"{"data":null,"errors":{"vmid":"invalid format - value does not look like a valid VM ID\n","timeout":"type check ('integer') failed - got 'abc'"}}"#,
            ErrorKind::Params,
            &format!(
                "Parameter verification failed: timeout: type check ('integer') failed - got 'abc'; vmid: invalid format - value does not look like a valid VM ID{CALL}"
            ),
        );
        check(
            401,
            Some("authentication failure"),
            "",
            ErrorKind::Auth,
            &format!("authentication failed: authentication failure{CALL}"),
        );
        check(
            403,
            Some("Permission check failed (/vms/105, VM.PowerMgmt)"),
            "",
            ErrorKind::Permission,
            &format!("Permission check failed (/vms/105, VM.PowerMgmt){CALL}"),
        );
        check(
            500,
            Some("Configuration file 'nodes/pve1/qemu-server/105.conf' does not exist"),
            "",
            ErrorKind::NotFound,
            &format!("Configuration file 'nodes/pve1/qemu-server/105.conf' does not exist{CALL}"),
        );
        check(
            595,
            Some("Errors during connection establishment, proxy handshake: No route to host"),
            "",
            ErrorKind::Unreachable,
            &format!(
                "node pve1 is unreachable (595 Errors during connection establishment, proxy handshake: No route to host){CALL}"
            ),
        );
        check(
            501,
            Some("Method 'GET /nodes/pve1/foo' not implemented"),
            "",
            ErrorKind::NotFound,
            &format!("Method 'GET /nodes/pve1/foo' not implemented{CALL}"),
        );
        check(
            502,
            None,
            "not json",
            ErrorKind::Pve,
            &format!("HTTP error 502 without a message{CALL}"),
        );
    }

    #[test]
    fn errors_map_kept_and_multiline_reasons_flattened() {
        let e = Error::from_response(
            400,
            None,
            br#"{"errors":{"net0":"invalid format - format error\nnet0.model: value 'foo' does not have a value in the enumeration\n"}}"#,
        );
        assert_eq!(e.kind(), ErrorKind::Params);
        assert!(e.errors()["net0"].starts_with("invalid format"));
        assert_eq!(
            e.to_string(),
            "Parameter verification failed: net0: invalid format - format error / net0.model: value 'foo' does not have a value in the enumeration"
        );
        assert_eq!(e.path(), None);
    }

    #[test]
    fn only_an_object_body_counts() {
        // Found by fuzz/client_answers: `["msg", {"vmid": "bad"}]` was read positionally as a
        // message and an errors map.
        let e = Error::from_response(400, None, br#"["msg", {"vmid": "bad"}]"#);
        assert!(e.errors().is_empty());
        assert_eq!(e.message(), "Parameter verification failed.");
        let e = Error::from_response(400, None, b" \n{\"errors\": {\"vmid\": \"bad\"}}");
        assert_eq!(e.errors()["vmid"], "bad");
    }

    #[test]
    fn durations_are_human() {
        assert_eq!(human_duration(Duration::from_millis(1500)), "1.5 s");
        assert_eq!(human_duration(Duration::from_secs(30)), "30 s");
        assert_eq!(human_duration(Duration::from_secs(125)), "2 min 5 s");
        assert_eq!(human_duration(Duration::from_secs(600)), "10 min");
        assert_eq!(
            Error::timeout(Duration::from_secs(30))
                .with_call("GET", "/version")
                .to_string(),
            "timed out after 30 s (GET /version)"
        );
    }
}
