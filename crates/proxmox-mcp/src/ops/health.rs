//! `/healthz` (alive: answers without calling anything) and `/readyz` (ready: the cluster
//! answers `GET /version` within [`READY_TIMEOUT`]).

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use pve_client::PveClient;

/// How long `/readyz` waits for the cluster.
pub(crate) const READY_TIMEOUT: Duration = Duration::from_secs(3);

/// 200 `ok` while the process serves requests.
pub(super) async fn healthz() -> &'static str {
    "ok\n"
}

/// 200 `{"status":"ready","pve_version":...}` when the cluster answers, else 503
/// `{"status":"unavailable","reason":...}`.
pub(super) async fn readyz(State(client): State<Arc<PveClient>>) -> Response {
    let client = client.with_timeout(READY_TIMEOUT);
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
    tracing::debug!(%reason, "not ready");
    (
        StatusCode::SERVICE_UNAVAILABLE,
        Json(json!({ "status": "unavailable", "reason": reason })),
    )
        .into_response()
}
