//! Operations endpoints both HTTP doors serve, and the drain on shutdown.
//!
//! - `GET /healthz`: the process is alive (no cluster call); answers whatever the `Host`.
//! - `GET /readyz`: the cluster answers a cheap `GET /version` within [`READY_TIMEOUT`]; 503
//!   with the reason otherwise, and 503 `draining` from the shutdown signal on (see `health.rs`).
//! - `GET /metrics`: Prometheus text (see `metrics.rs`); public unless `[server] metrics_auth`
//!   asks for an API key (any scope).
//!
//! `/readyz` and `/metrics` follow the door's `Host`/`Origin` rules. [`Ops::shutdown_after`]
//! turns the signal into the moment doors stop accepting, `drain_delay` later (meanwhile
//! `/readyz` answers 503 and everything else is served, so that a balancer stops sending work
//! first). [`Ops::drain_token`] turns
//! the shutdown signal into the later moment where calls in flight have ended (or the grace
//! period is over): doors stop accepting at the signal and close sessions at that moment.

mod health;
pub(crate) mod metrics;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tokio_util::sync::CancellationToken;

use pve_client::PveClient;

use crate::auth::host::check_host;
use crate::auth::{Gate, HostPolicy};
pub(crate) use metrics::Metrics;

/// How long calls in flight may run on after SIGTERM before they are cancelled.
pub(crate) const DRAIN_GRACE: Duration = Duration::from_secs(10);
/// How long answers of calls that ended during the drain get to leave before sessions close.
pub(crate) const ANSWER_FLUSH: Duration = Duration::from_millis(250);
/// How long before the end of the grace period task waits stop (at most half the grace), so
/// that their "still running" answers leave before sessions close.
pub(crate) const WRAP_UP: Duration = Duration::from_secs(2);

/// The operations state of one server: its metrics and who may read them.
#[derive(Debug)]
pub struct Ops {
    pub metrics: Arc<Metrics>,
    /// `/metrics` asks for an API key (checked by `gate`).
    pub metrics_auth: bool,
    /// Keys of the HTTP doors (for `metrics_auth`).
    pub gate: Gate,
    /// `Host`/`Origin` rules of `/readyz` and `/metrics`.
    pub hosts: HostPolicy,
    /// How long calls in flight may run on after the shutdown signal.
    pub drain_grace: Duration,
    /// Cancelled [`WRAP_UP`] before the grace period ends when calls are still running: their
    /// task waits stop and answer with the task still running (calls' `ToolCtx::stop_waiting`).
    pub stop_waiting: CancellationToken,
    /// Cancelled at the shutdown signal: `/readyz` answers 503 from then on.
    pub draining: CancellationToken,
    /// How long the doors go on serving after the signal before they stop accepting.
    pub drain_delay: Duration,
}

impl Default for Ops {
    /// Fresh metrics, public, loopback `Host` names only, [`DRAIN_GRACE`].
    fn default() -> Self {
        Self::new(Metrics::new())
    }
}

impl Ops {
    /// Public metrics over `metrics`, loopback `Host` names, [`DRAIN_GRACE`].
    pub fn new(metrics: Arc<Metrics>) -> Self {
        Self {
            metrics,
            metrics_auth: false,
            gate: Gate::default(),
            hosts: HostPolicy::default(),
            drain_grace: DRAIN_GRACE,
            stop_waiting: CancellationToken::new(),
            draining: CancellationToken::new(),
            drain_delay: Duration::ZERO,
        }
    }

    /// A token cancelled `drain_delay` after `signal`, the moment doors stop accepting; from
    /// `signal` on, `/readyz` answers 503 (`draining`).
    pub fn shutdown_after(&self, signal: &CancellationToken) -> CancellationToken {
        let shutdown = CancellationToken::new();
        let (signal, draining, delay, out) = (
            signal.clone(),
            self.draining.clone(),
            self.drain_delay,
            shutdown.clone(),
        );
        tokio::spawn(async move {
            signal.cancelled().await;
            draining.cancel();
            if !delay.is_zero() {
                tracing::info!(
                    delay_s = delay.as_secs(),
                    "draining: /readyz answers 503, the doors serve on until the delay is over"
                );
                tokio::time::sleep(delay).await;
            }
            out.cancel();
        });
        shutdown
    }

    /// A token cancelled once `shutdown` is cancelled and then every tool call has ended, or
    /// `drain_grace` has passed: the moment doors end sessions, streams and leftover calls.
    /// Calls still running [`WRAP_UP`] before that are told to stop waiting (`stop_waiting`).
    pub(crate) fn drain_token(&self, shutdown: &CancellationToken) -> CancellationToken {
        let done = CancellationToken::new();
        let (shutdown, metrics, grace, out, stop_waiting) = (
            shutdown.clone(),
            self.metrics.clone(),
            self.drain_grace,
            done.clone(),
            self.stop_waiting.clone(),
        );
        let wrap_up = WRAP_UP.min(grace / 2);
        tokio::spawn(async move {
            shutdown.cancelled().await;
            let left = metrics.in_flight();
            if left > 0 {
                tracing::info!(
                    calls = left,
                    grace_s = grace.as_secs(),
                    "waiting for calls in flight"
                );
            }
            if !metrics.drained(grace - wrap_up).await {
                stop_waiting.cancel();
            }
            if !metrics.drained(wrap_up).await {
                tracing::warn!(
                    calls = metrics.in_flight(),
                    "calls still running after the grace period: cancelling them"
                );
            } else if left > 0 {
                // A call counts as ended when its tool returns; its answer still has to reach
                // the session's stream before sessions close.
                tokio::time::sleep(ANSWER_FLUSH).await;
            }
            out.cancel();
        });
        done
    }
}

/// `/healthz`, `/readyz` (asking `ready`, the default cluster's client) and `/metrics` (with
/// `ops`'s settings), for either door to merge.
pub(crate) fn router(ops: &Ops, ready: Arc<PveClient>) -> Router {
    let mut metrics = Router::new()
        .route("/metrics", get(metrics_text))
        .with_state(ops.metrics.clone());
    if ops.metrics_auth {
        metrics = metrics.route_layer(from_fn_with_state(
            ops.gate.clone(),
            crate::auth::require_key,
        ));
    }
    let guarded = Router::new()
        .route("/readyz", get(health::readyz))
        .with_state(health::Ready {
            client: ready,
            draining: ops.draining.clone(),
        })
        .merge(metrics)
        .layer(from_fn_with_state(Arc::new(ops.hosts.clone()), check_host));
    Router::new()
        .route("/healthz", get(health::healthz))
        .merge(guarded)
}

async fn metrics_text(State(metrics): State<Arc<Metrics>>) -> Response {
    let body = metrics.render().await;
    (
        [(axum::http::header::CONTENT_TYPE, metrics::CONTENT_TYPE)],
        body,
    )
        .into_response()
}
