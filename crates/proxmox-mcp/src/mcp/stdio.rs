//! MCP over stdin/stdout (one client, the process that started us). stdout carries only the
//! protocol: logs must go to stderr (the binary's tracing setup sees to that).

use rmcp::ServiceExt;
use tokio_util::sync::CancellationToken;

use super::handler::McpHandler;
use crate::registry::ToolHost;

/// Why serving over stdio stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum StdioError {
    /// The client never completed the handshake (closed stdin, sent garbage, ...).
    #[error("MCP handshake over stdio failed: {0}")]
    Handshake(String),
    /// The service task failed.
    #[error("MCP service over stdio failed: {0}")]
    Service(String),
}

/// Serves `host`'s tools on stdin/stdout until the client closes stdin or `shutdown` is
/// cancelled.
pub async fn serve_stdio(host: ToolHost, shutdown: CancellationToken) -> Result<(), StdioError> {
    let handler = McpHandler::new(host, "stdio");
    let running = match handler
        .serve_with_ct(rmcp::transport::stdio(), shutdown.child_token())
        .await
    {
        Ok(running) => running,
        // stdin closed or shutdown before the client said anything: a normal end.
        Err(rmcp::service::ServerInitializeError::ConnectionClosed(_))
        | Err(rmcp::service::ServerInitializeError::Cancelled) => return Ok(()),
        Err(e) => return Err(StdioError::Handshake(e.to_string())),
    };
    let reason = running
        .waiting()
        .await
        .map_err(|e| StdioError::Service(e.to_string()))?;
    tracing::info!(?reason, "MCP over stdio ended");
    Ok(())
}
