//! Serving an axum router on a bound listener, shared by the MCP and REST doors: `TCP_NODELAY`
//! on every accepted connection and a graceful drain when the shutdown token is cancelled.

use axum::Router;
use axum::serve::ListenerExt;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// Serves `router` on `listener` until `shutdown` is cancelled, then drains open connections
/// (event streams end on shutdown too).
pub async fn serve_http(
    listener: TcpListener,
    router: Router,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    // No Nagle delay: a response written in several pieces (rmcp's SSE-framed answers) would
    // otherwise wait for the client's delayed ACK (40 ms on Linux) before its last piece.
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "cannot set TCP_NODELAY");
        }
    });
    axum::serve(listener, router)
        .with_graceful_shutdown(async move { shutdown.cancelled().await })
        .await
}
