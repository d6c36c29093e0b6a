//! Fault injection for reliability tests: latency, a given HTTP status, a dropped connection or
//! an expired ticket, for the next N requests matching a method and a path regex (on the path
//! below `/api2/json`). Injected programmatically (`SimServer::inject`) or through the admin
//! route `POST /_sim/faults` with the same JSON shape:
//!
//! ```json
//! {"kind": "status", "status": 500, "message": "boom", "method": "GET", "path": "^/cluster/resources$", "count": 2}
//! {"kind": "latency", "ms": 300}
//! {"kind": "drop", "path": "/status/start$"}
//! {"kind": "expire_ticket"}
//! ```

use std::time::Duration;

use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::route::Method;

/// What a fault does to a matching request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FaultKind {
    /// Waits this long before serving the request normally (slept outside the simulator lock).
    Latency { ms: u64 },
    /// Answers this status and message (as reason phrase and body `message`) instead.
    Status { status: u16, message: String },
    /// Closes the connection without a complete response.
    Drop,
    /// Treats the request's ticket as expired: 401 `permission denied - invalid PVE ticket`.
    /// Only requests carrying a ticket cookie match.
    ExpireTicket,
}

/// One fault rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fault {
    #[serde(flatten)]
    pub kind: FaultKind,
    /// `GET`, `POST`, `PUT` or `DELETE`; `None` matches any method.
    #[serde(default)]
    pub method: Option<String>,
    /// Regex searched in the path below `/api2/json` (`^/cluster/resources$`); `None` matches any.
    #[serde(default)]
    pub path: Option<String>,
    /// How many matching requests it applies to.
    #[serde(default = "one")]
    pub count: u32,
}

fn one() -> u32 {
    1
}

impl Fault {
    fn new(kind: FaultKind) -> Self {
        Self {
            kind,
            method: None,
            path: None,
            count: 1,
        }
    }

    pub fn latency(ms: u64) -> Self {
        Self::new(FaultKind::Latency { ms })
    }

    pub fn status(status: u16, message: impl Into<String>) -> Self {
        Self::new(FaultKind::Status {
            status,
            message: message.into(),
        })
    }

    pub fn drop_connection() -> Self {
        Self::new(FaultKind::Drop)
    }

    pub fn expire_ticket() -> Self {
        Self::new(FaultKind::ExpireTicket)
    }

    /// Restricts the fault to one method and a path regex.
    pub fn on(mut self, method: Method, path_regex: &str) -> Self {
        self.method = Some(method.as_str().to_string());
        self.path = Some(path_regex.to_string());
        self
    }

    /// Restricts the fault to a path regex, any method.
    pub fn path(mut self, path_regex: &str) -> Self {
        self.path = Some(path_regex.to_string());
        self
    }

    /// Applies to the next `n` matching requests.
    pub fn times(mut self, n: u32) -> Self {
        self.count = n;
        self
    }
}

/// What the server must do for one request, once the faults are consulted.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Plan {
    pub latency: Duration,
    /// The first terminal fault (status, drop, expired ticket), if any.
    pub action: Option<FaultKind>,
}

#[derive(Debug)]
struct Armed {
    fault: Fault,
    path: Option<Regex>,
    remaining: u32,
}

/// The armed faults, in injection order.
#[derive(Debug, Default)]
pub struct Faults {
    armed: Vec<Armed>,
}

impl Faults {
    /// Arms a fault; fails on a bad regex or method.
    pub fn inject(&mut self, fault: Fault) -> Result<(), String> {
        if let Some(m) = &fault.method
            && !matches!(m.as_str(), "GET" | "POST" | "PUT" | "DELETE")
        {
            return Err(format!("unknown method '{m}'"));
        }
        let path = fault
            .path
            .as_deref()
            .map(Regex::new)
            .transpose()
            .map_err(|e| format!("invalid path regex: {e}"))?;
        let remaining = fault.count;
        self.armed.push(Armed {
            fault,
            path,
            remaining,
        });
        Ok(())
    }

    pub fn clear(&mut self) {
        self.armed.clear();
    }

    /// The faults still armed, with their remaining counts.
    pub fn list(&self) -> Vec<Fault> {
        self.armed
            .iter()
            .map(|a| Fault {
                count: a.remaining,
                ..a.fault.clone()
            })
            .collect()
    }

    /// Consumes the faults that match this request: every latency adds up, the first terminal
    /// fault wins (later terminal ones are left armed).
    pub fn take(&mut self, method: &str, path: &str, has_ticket: bool) -> Plan {
        let mut plan = Plan::default();
        for a in &mut self.armed {
            let matches = a.remaining > 0
                && a.fault.method.as_deref().is_none_or(|m| m == method)
                && a.path.as_ref().is_none_or(|r| r.is_match(path));
            if !matches {
                continue;
            }
            match &a.fault.kind {
                FaultKind::Latency { ms } => plan.latency += Duration::from_millis(*ms),
                FaultKind::ExpireTicket if !has_ticket => continue,
                kind => {
                    if plan.action.is_some() {
                        continue;
                    }
                    plan.action = Some(kind.clone());
                }
            }
            a.remaining -= 1;
        }
        self.armed.retain(|a| a.remaining > 0);
        plan
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn counts_and_matching() {
        let mut f = Faults::default();
        f.inject(
            Fault::status(500, "boom")
                .on(Method::Get, "^/version$")
                .times(2),
        )
        .unwrap();
        f.inject(Fault::latency(10)).unwrap();
        assert_eq!(f.take("POST", "/version", false).action, None);
        let p = f.take("GET", "/version", false);
        assert_eq!(p.latency, Duration::ZERO);
        assert!(matches!(
            p.action,
            Some(FaultKind::Status { status: 500, .. })
        ));
        assert!(f.take("GET", "/version", false).action.is_some());
        assert_eq!(f.take("GET", "/version", false).action, None);
        assert!(f.list().is_empty());
        assert!(f.inject(Fault::drop_connection().path("(")).is_err());
    }

    #[test]
    fn json_shape() {
        let f: Fault =
            serde_json::from_str(r#"{"kind":"status","status":503,"message":"x","count":3}"#)
                .unwrap();
        assert_eq!(f, Fault::status(503, "x").times(3));
        let f: Fault = serde_json::from_str(r#"{"kind":"expire_ticket","method":"GET"}"#).unwrap();
        assert_eq!(f.kind, FaultKind::ExpireTicket);
    }
}
