//! `/healthz` (alive: answers without calling anything) and `/readyz` (ready: not draining,
//! and the cluster answers `GET /version` within [`READY_TIMEOUT`]).

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use pve_client::PveClient;
use tokio_util::sync::CancellationToken;

/// How long `/readyz` waits for the cluster.
pub(crate) const READY_TIMEOUT: Duration = Duration::from_secs(3);

/// 200 `ok` while the process serves requests.
pub(super) async fn healthz() -> &'static str {
    "ok\n"
}

/// What `/readyz` asks: the shutdown signal, then the cluster.
#[derive(Clone)]
pub(super) struct Ready {
    pub(super) client: Arc<PveClient>,
    /// Cancelled at the shutdown signal.
    pub(super) draining: CancellationToken,
}

/// 503 `{"status":"draining","reason":...}` once the shutdown signal came; otherwise 200
/// `{"status":"ready","pve_version":...}` when the cluster answers, else 503
/// `{"status":"unavailable","reason":...}`.
pub(super) async fn readyz(State(ready): State<Ready>) -> Response {
    if ready.draining.is_cancelled() {
        return refused(
            "draining",
            "the server is shutting down: calls in flight finish, new work goes elsewhere".into(),
        );
    }
    let client = ready.client.with_timeout(READY_TIMEOUT);
    match tokio::time::timeout(READY_TIMEOUT * 2, client.version()).await {
        Ok(Ok(v)) => Json(json!({ "status": "ready", "pve_version": v.version })).into_response(),
        Ok(Err(e)) => unavailable(format!("the Proxmox VE API does not answer: {e}")),
        Err(_) => unavailable(format!(
            "the Proxmox VE API did not answer within {} s",
            READY_TIMEOUT.as_secs() * 2
        )),
    }
}

fn unavailable(reason: String) -> Response {
    refused("unavailable", reason)
}

fn refused(status: &str, reason: String) -> Response {
    tracing::debug!(%reason, "not ready");
    (
        StatusCode::SERVICE_UNAVAILABLE,
        Json(json!({ "status": status, "reason": reason })),
    )
        .into_response()
}
