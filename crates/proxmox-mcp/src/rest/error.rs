//! REST error answers: mcpo's body shape `{"detail": {"message": ...}}` (plus `kind`, and `param`
//! when a parameter is at fault) with one status per failure: 422 parameters, 403 policy, 404 no
//! such tool, 409 a refusal of Proxmox VE, 502/504 a cluster that does not answer.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use crate::error::ToolError;
use crate::registry::RateLimited;

/// A failed REST request, ready to answer.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RestError {
    pub(crate) status: StatusCode,
    pub(crate) message: String,
    /// Short machine-readable reason (`invalid_params`, `pve`, `malformed_json`, ...).
    pub(crate) kind: &'static str,
    /// The parameter at fault, when known.
    pub(crate) param: Option<String>,
    /// Methods allowed, for a 405.
    allow: Option<&'static str>,
    /// Seconds to wait, for a 429.
    retry_after: Option<u64>,
}

impl RestError {
    pub(crate) fn new(status: StatusCode, kind: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            kind,
            param: None,
            allow: None,
            retry_after: None,
        }
    }

    /// 422 naming `param`.
    pub(crate) fn invalid(param: Option<String>, message: impl Into<String>) -> Self {
        Self {
            param,
            ..Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_params", message)
        }
    }

    /// 404 for a path that is no tool.
    pub(crate) fn not_found(path: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "unknown_tool",
            format!("no tool at `{path}`: see /openapi.json or /docs for the tools"),
        )
    }

    /// 405 with the methods the path accepts.
    pub(crate) fn method_not_allowed(message: impl Into<String>, allow: &'static str) -> Self {
        Self {
            allow: Some(allow),
            ..Self::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                message,
            )
        }
    }

    /// 429 for a key over its rate limit, with `Retry-After`.
    pub(crate) fn rate_limited(limited: &RateLimited) -> Self {
        Self {
            retry_after: Some(limited.retry_after),
            ..Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                limited.message(),
            )
        }
    }

    /// The JSON body.
    pub(crate) fn body(&self) -> Value {
        let mut detail = Map::new();
        detail.insert("message".into(), Value::String(self.message.clone()));
        detail.insert("kind".into(), Value::String(self.kind.into()));
        if let Some(p) = &self.param {
            detail.insert("param".into(), Value::String(p.clone()));
        }
        json!({ "detail": detail })
    }
}

impl From<ToolError> for RestError {
    fn from(e: ToolError) -> Self {
        let message = e.to_string();
        let kind = e.kind();
        let status = match &e {
            ToolError::UnknownTool(_) => StatusCode::NOT_FOUND,
            ToolError::InvalidParams { param, .. } => {
                return RestError::invalid(param.clone(), message);
            }
            ToolError::Policy(_) => StatusCode::FORBIDDEN,
            ToolError::Pve { status, .. } => pve_status(*status),
            ToolError::Timeout(_) => StatusCode::GATEWAY_TIMEOUT,
            ToolError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        RestError::new(status, kind, message)
    }
}

/// The status for an error Proxmox VE answered with `status` (`None`: a task that failed).
///
/// Proxmox VE answers 500 for nearly every refusal of its API handlers ("VM 100 not running",
/// "VM is locked (backup)", "already running", "insufficient free space"), and a failed task is
/// the same refusal reached later: the operation conflicts with the cluster's current state,
/// which the caller can act on, so it is a 409 (4xx: the caller's side), not a gateway failure.
/// PVE's 400 (a parameter PVE refused) is a 422 like ours; 403 (a privilege the server's PVE
/// token lacks) and 404 stay. What the caller cannot fix is a 502: our credentials refused (401),
/// a node or the API unreachable (595/596), any other status.
pub(super) fn pve_status(status: Option<u16>) -> StatusCode {
    match status {
        Some(400) => StatusCode::UNPROCESSABLE_ENTITY,
        Some(403) => StatusCode::FORBIDDEN,
        Some(404) => StatusCode::NOT_FOUND,
        Some(409 | 500) | None => StatusCode::CONFLICT,
        Some(_) => StatusCode::BAD_GATEWAY,
    }
}

impl IntoResponse for RestError {
    fn into_response(self) -> Response {
        let mut resp = (self.status, Json(self.body())).into_response();
        if let Some(allow) = self.allow {
            resp.headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static(allow));
        }
        if let Some(secs) = self.retry_after {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        resp
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tool_errors_map_to_the_design_table() {
        let cases: Vec<(ToolError, u16)> = vec![
            (ToolError::UnknownTool("x".into()), 404),
            (ToolError::invalid("vmid", "is required"), 422),
            (ToolError::policy("confirm must be true"), 403),
            (
                ToolError::Pve {
                    status: Some(500),
                    message: "VM 100 not running".into(),
                },
                409,
            ),
            (
                ToolError::Pve {
                    status: Some(401),
                    message: "authentication failure".into(),
                },
                502,
            ),
            (
                ToolError::Pve {
                    status: Some(596),
                    message: "unreachable".into(),
                },
                502,
            ),
            (
                ToolError::Pve {
                    status: Some(400),
                    message: "bad".into(),
                },
                422,
            ),
            (ToolError::pve("task failed"), 409),
            (ToolError::Timeout("slow".into()), 504),
            (ToolError::Internal("bug".into()), 500),
        ];
        for (e, want) in cases {
            let r = RestError::from(e.clone());
            assert_eq!(r.status.as_u16(), want, "{e:?}");
            assert_eq!(r.body()["detail"]["message"], e.to_string());
        }
        let r = RestError::from(ToolError::invalid("vmid", "is required"));
        assert_eq!(r.body()["detail"]["param"], "vmid");
    }
}
