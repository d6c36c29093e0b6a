//! Legacy HTTP+SSE transport (MCP 2024-11-05), written here because rmcp 3 removed its own.
//!
//! A GET opens a session: an rmcp service runs the handler over a pair of channels, and the
//! response is an endless `text/event-stream` whose first event is `event: endpoint` naming the
//! POST URL (`<path>?sessionId=<id>`); every message the service sends goes out as
//! `event: message`, and idle streams get `: keep-alive` comments. A POST to that URL feeds one
//! JSON-RPC message to the service and answers `202 Accepted`. The session (and its service) ends
//! when the client goes away, the service stops, or the server shuts down.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::stream;
use rand::RngCore;
use rmcp::ServiceExt;
use rmcp::model::{ClientJsonRpcMessage, ServerJsonRpcMessage};
use rmcp::service::{RoleServer, RxJsonRpcMessage, TxJsonRpcMessage};
use rmcp::transport::Transport;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::McpHandler;

/// Prefix of legacy session ids; Streamable HTTP session ids (rmcp's) never start with it.
pub const SESSION_PREFIX: &str = "sse-";

/// Messages queued per direction before a sender waits.
const CHANNEL_CAPACITY: usize = 64;

/// The live legacy SSE sessions of one server.
#[derive(Debug)]
pub struct SseSessions {
    sessions: Mutex<HashMap<String, Session>>,
    keep_alive: Duration,
}

#[derive(Debug)]
struct Session {
    to_service: mpsc::Sender<ClientJsonRpcMessage>,
}

impl SseSessions {
    /// No sessions yet; idle streams get a keep-alive comment every `keep_alive`.
    pub fn new(keep_alive: Duration) -> Self {
        Self {
            sessions: Mutex::new(HashMap::new()),
            keep_alive,
        }
    }

    /// Number of open legacy SSE sessions.
    pub fn count(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, Session>> {
        // A panic while holding this lock cannot leave the map inconsistent (single inserts
        // and removes), so a poisoned lock is still usable.
        self.sessions
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Opens a session for a GET on `path` and returns the event-stream response.
    /// `shutdown` ends the session when the server stops.
    pub fn open(
        self: &Arc<Self>,
        handler: McpHandler,
        path: &str,
        shutdown: &CancellationToken,
    ) -> Response {
        let id = new_session_id();
        let cancel = shutdown.child_token();
        let (to_service, from_client) = mpsc::channel(CHANNEL_CAPACITY);
        let (to_client, from_service) = mpsc::channel(CHANNEL_CAPACITY);
        self.lock().insert(id.clone(), Session { to_service });
        tracing::info!(session = %id, "legacy SSE session opened");

        let transport = ChannelTransport {
            from_client,
            to_client,
        };
        let service_cancel = cancel.clone();
        let session_id = id.clone();
        tokio::spawn(async move {
            match handler
                .serve_with_ct(transport, service_cancel.clone())
                .await
            {
                Ok(running) => {
                    if let Err(e) = running.waiting().await {
                        tracing::warn!(session = %session_id, error = %e, "legacy SSE service failed");
                    }
                }
                Err(e) => {
                    tracing::debug!(session = %session_id, error = %e, "legacy SSE session ended before initialize")
                }
            }
            // The service is over: end the event stream too.
            service_cancel.cancel();
        });

        let endpoint = format!("{path}?sessionId={id}");
        let guard = SessionGuard {
            sessions: Arc::clone(self),
            id,
            cancel: cancel.clone(),
        };
        let mut keep_alive = tokio::time::interval_at(
            tokio::time::Instant::now() + self.keep_alive,
            self.keep_alive,
        );
        keep_alive.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let events = EventStream {
            endpoint: Some(endpoint),
            from_service,
            keep_alive,
            cancel,
            _guard: guard,
        };
        let body = stream::unfold(events, |mut s| async move {
            let chunk = s.next().await?;
            Some((Ok::<_, std::convert::Infallible>(chunk), s))
        });
        (
            [
                (header::CONTENT_TYPE, "text/event-stream"),
                (header::CACHE_CONTROL, "no-cache"),
                (header::HeaderName::from_static("x-accel-buffering"), "no"),
            ],
            Body::from_stream(body),
        )
            .into_response()
    }

    /// Feeds one client message (a POST body) to session `id`.
    pub async fn post(&self, id: &str, body: &[u8]) -> Response {
        let Some(sender) = self.lock().get(id).map(|s| s.to_service.clone()) else {
            return (StatusCode::NOT_FOUND, "Session not found").into_response();
        };
        let message: ClientJsonRpcMessage = match serde_json::from_slice(body) {
            Ok(m) => m,
            Err(e) => {
                tracing::debug!(session = %id, error = %e, "invalid JSON-RPC message on the legacy endpoint");
                return (
                    StatusCode::BAD_REQUEST,
                    format!("Invalid JSON-RPC message: {e}"),
                )
                    .into_response();
            }
        };
        if sender.send(message).await.is_err() {
            return (StatusCode::NOT_FOUND, "Session not found").into_response();
        }
        (StatusCode::ACCEPTED, "Accepted").into_response()
    }
}

/// `sse-` followed by 128 random bits in hex.
fn new_session_id() -> String {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    format!("{SESSION_PREFIX}{}", hex::encode(bytes))
}

/// Removes the session and stops its service when the event stream is dropped (client gone,
/// service over, or shutdown).
struct SessionGuard {
    sessions: Arc<SseSessions>,
    id: String,
    cancel: CancellationToken,
}

impl Drop for SessionGuard {
    fn drop(&mut self) {
        self.cancel.cancel();
        self.sessions.lock().remove(&self.id);
        tracing::info!(session = %self.id, "legacy SSE session closed");
    }
}

/// The state behind one session's event-stream body.
struct EventStream {
    endpoint: Option<String>,
    from_service: mpsc::Receiver<ServerJsonRpcMessage>,
    keep_alive: tokio::time::Interval,
    cancel: CancellationToken,
    _guard: SessionGuard,
}

impl EventStream {
    /// The next chunk of the stream, or `None` when it ends.
    async fn next(&mut self) -> Option<Bytes> {
        if let Some(endpoint) = self.endpoint.take() {
            return Some(Bytes::from(format!(
                "event: endpoint\ndata: {endpoint}\n\n"
            )));
        }
        tokio::select! {
            biased;
            message = self.from_service.recv() => {
                self.keep_alive.reset();
                message_event(&message?)
            }
            () = self.cancel.cancelled() => None,
            _ = self.keep_alive.tick() => Some(Bytes::from_static(b": keep-alive\n\n")),
        }
    }
}

fn message_event(message: &ServerJsonRpcMessage) -> Option<Bytes> {
    match serde_json::to_string(message) {
        // Serialized JSON has no raw newlines, so one `data:` line carries it.
        Ok(json) => Some(Bytes::from(format!("event: message\ndata: {json}\n\n"))),
        Err(e) => {
            tracing::error!(error = %e, "could not serialize a server message");
            Some(Bytes::from_static(
                b": dropped an unserializable message\n\n",
            ))
        }
    }
}

/// The rmcp transport of one legacy session: client messages in, server messages out.
struct ChannelTransport {
    from_client: mpsc::Receiver<ClientJsonRpcMessage>,
    to_client: mpsc::Sender<ServerJsonRpcMessage>,
}

/// The event stream of a legacy session has closed.
#[derive(Debug, thiserror::Error)]
#[error("the SSE stream of this session is closed")]
pub struct StreamClosed;

impl Transport<RoleServer> for ChannelTransport {
    type Error = StreamClosed;

    fn send(
        &mut self,
        item: TxJsonRpcMessage<RoleServer>,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send + 'static {
        let tx = self.to_client.clone();
        async move { tx.send(item).await.map_err(|_| StreamClosed) }
    }

    async fn receive(&mut self) -> Option<RxJsonRpcMessage<RoleServer>> {
        self.from_client.recv().await
    }

    async fn close(&mut self) -> Result<(), Self::Error> {
        self.from_client.close();
        Ok(())
    }
}
