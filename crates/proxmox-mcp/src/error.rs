//! `ToolError`: every way a tool call can fail, worded for the agent that made the call.
//!
//! The `Display` text is what the agent reads (MCP `isError` text, REST `detail.message`), so each
//! message says what went wrong and, where there is one, what to do instead.

use thiserror::Error;

/// A failed tool call. Front doors map the variant to their own answer (REST: a status, see
/// `rest/error.rs`; MCP: a tool error, or a JSON-RPC error for an unknown tool).
#[derive(Debug, Clone, Error, PartialEq)]
pub enum ToolError {
    /// No tool by that name.
    #[error("unknown tool `{0}`")]
    UnknownTool(String),
    /// The arguments do not fit the tool's parameters; `param` names the culprit when known.
    #[error("{}", invalid_params_text(.param, .message))]
    InvalidParams {
        param: Option<String>,
        message: String,
    },
    /// Refused by policy (confirmation missing, read-only mode, key scope); says what would allow it.
    #[error("refused: {0}")]
    Policy(String),
    /// Proxmox VE answered with an error, or a task it ran failed. `status` is PVE's HTTP status.
    #[error("{}", pve_text(*.status, .message))]
    Pve {
        status: Option<u16>,
        message: String,
    },
    /// The cluster did not answer in time.
    #[error("timed out: {0}")]
    Timeout(String),
    /// A bug or an unexpected state on our side (a panic in a handler ends here).
    #[error("internal error: {0}")]
    Internal(String),
}

impl ToolError {
    /// Invalid parameter `param` with a message.
    pub(crate) fn invalid(param: impl Into<String>, message: impl Into<String>) -> Self {
        ToolError::InvalidParams {
            param: Some(param.into()),
            message: message.into(),
        }
    }

    /// A policy refusal.
    pub(crate) fn policy(message: impl Into<String>) -> Self {
        ToolError::Policy(message.into())
    }

    /// A PVE error without an HTTP status (a failed task, a refused state change).
    pub fn pve(message: impl Into<String>) -> Self {
        ToolError::Pve {
            status: None,
            message: message.into(),
        }
    }

    /// A short machine-readable name of the variant (`invalid_params`, `pve`, ...), for logs,
    /// metrics and REST bodies.
    pub fn kind(&self) -> &'static str {
        match self {
            ToolError::UnknownTool(_) => "unknown_tool",
            ToolError::InvalidParams { .. } => "invalid_params",
            ToolError::Policy(_) => "policy",
            ToolError::Pve { .. } => "pve",
            ToolError::Timeout(_) => "timeout",
            ToolError::Internal(_) => "internal",
        }
    }
}

impl From<pve_client::Error> for ToolError {
    /// A client error keeps PVE's words and status; a timeout stays a timeout.
    fn from(e: pve_client::Error) -> Self {
        match e.kind() {
            pve_client::ErrorKind::Timeout => ToolError::Timeout(e.to_string()),
            _ => ToolError::Pve {
                status: e.status(),
                message: e.to_string(),
            },
        }
    }
}

fn invalid_params_text(param: &Option<String>, message: &str) -> String {
    match param {
        Some(p) => format!("invalid parameter `{p}`: {message}"),
        None => format!("invalid parameters: {message}"),
    }
}

fn pve_text(status: Option<u16>, message: &str) -> String {
    match status {
        Some(s) => format!("Proxmox VE error ({s}): {message}"),
        None => format!("Proxmox VE error: {message}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_parameter_and_the_status() {
        assert_eq!(
            ToolError::invalid("vmid", "must be a number").to_string(),
            "invalid parameter `vmid`: must be a number"
        );
        let e = ToolError::Pve {
            status: Some(500),
            message: "VM 999 does not exist".into(),
        };
        assert_eq!(
            e.to_string(),
            "Proxmox VE error (500): VM 999 does not exist"
        );
        assert_eq!(e.kind(), "pve");
    }
}
