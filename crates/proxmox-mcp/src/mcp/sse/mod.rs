//! Legacy HTTP+SSE transport (MCP 2024-11-05), written here because rmcp 3 removed its own.
//!
//! A GET opens a session: the response is an endless `text/event-stream` whose first event is
//! `event: endpoint` naming the POST URL (`<path>?sessionId=<id>`); every message the server
//! sends goes out as `event: message`, and idle streams get `: keep-alive` comments. A POST to
//! that URL hands one JSON-RPC message to the session and answers `202 Accepted`; the answer goes
//! out on the stream. The session ends when the client goes away or the server shuts down.
//!
//! A session holds no rmcp service: an idle stream costs its connection, a small queue of encoded
//! events and the client's `initialize` parameters (10,000 idle sessions must fit in 200 MB).
//! `initialize`, `ping`, `tools/list` and `tools/call` are answered here with the handler's own
//! methods and rmcp's negotiation, as an rmcp service would answer them; any other message is
//! served by a short-lived rmcp service over that one message (see [`Single`]). A tool call
//! of a client that declared the `elicitation` capability may put a question to its user
//! (`ask.rs`); the client's answer comes back as a POST of a JSON-RPC response.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::stream;
use rand::RngCore;
use rmcp::model::{
    CallToolRequestParams, ClientJsonRpcMessage, ClientNotification, ClientRequest, GetExtensions,
    GetMeta, InitializeRequestParams, JsonRpcMessage, JsonRpcRequest, RequestId,
    ServerJsonRpcMessage, ServerNotification, ServerResult, ToolListChangedNotification,
};
use rmcp::service::{RoleServer, RxJsonRpcMessage, ServerInitializeError, TxJsonRpcMessage};
use rmcp::transport::Transport;
use rmcp::{ErrorData as McpError, ServerHandler, ServiceExt};
use tokio::sync::{Notify, oneshot};
use tokio_util::sync::CancellationToken;

use super::McpHandler;
use super::logging::{LogForwarder, SessionLevel};
use super::progress::{ProgressForwarder, ProgressTarget};
use crate::auth::Identity;
use crate::caller::SessionToolsets;
use crate::registry::Confirmer;

/// Prefix of legacy session ids; Streamable HTTP session ids (rmcp's) never start with it.
pub(crate) const SESSION_PREFIX: &str = "sse-";

/// Encoded events queued for a stream before a sender waits.
const QUEUE_CAPACITY: usize = 32;

/// The live legacy SSE sessions of one server.
#[derive(Debug)]
pub(crate) struct SseSessions {
    handler: McpHandler,
    /// Keyed by the 128 random bits of the session id.
    sessions: Mutex<HashMap<u128, Arc<Session>>>,
    keep_alive: Duration,
    /// A session with no POST for this long and no call in flight is closed (checked at each
    /// keep-alive).
    idle_timeout: Duration,
}

/// One session: its queue of events for the stream, what ends it, and what the client said.
/// One allocation with no channel: a tokio channel would cost ~1.5 kB per idle session.
#[derive(Debug)]
struct Session {
    /// Wakes the stream when an event is queued.
    ready: Notify,
    /// Wakes senders waiting for room in the queue.
    room: Notify,
    /// Cancelled when the stream ends; calls in flight are its children.
    cancel: CancellationToken,
    /// The key that opened the session (`None`: a door without keys); only it may post.
    owner: Option<Box<str>>,
    /// This session's logging level (`logging/setLevel`).
    level: SessionLevel,
    /// This session's toolsets, when the server serves dynamic toolsets.
    toolsets: Option<SessionToolsets>,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// Encoded events not yet taken by the stream (at most [`QUEUE_CAPACITY`]).
    queue: VecDeque<Bytes>,
    /// The stream has ended: nothing more is queued.
    closed: bool,
    /// The client's `initialize` parameters with the negotiated version, once initialized, as
    /// compact JSON: ~100 bytes instead of ~450 for the decoded struct, on every idle session,
    /// while only the rare requests served by rmcp (`single`) read them back.
    client: Option<Box<str>>,
    /// Tool calls in flight, for `notifications/cancelled`.
    calls: HashMap<RequestId, CancellationToken>,
    /// When the client last posted a message (`None`: not yet; the stream knows its start).
    active: Option<tokio::time::Instant>,
    /// Questions put to the client (`elicitation/create`) and waiting for its answer.
    asked: HashMap<RequestId, oneshot::Sender<ask::Reply>>,
    /// The number of the last question (ids `ask-N`).
    next_ask: u64,
}

impl Session {
    fn state(&self) -> MutexGuard<'_, State> {
        // Single inserts, removes and replacements: a poisoned lock is still consistent.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The client's `initialize` parameters, once initialized.
    fn client(&self) -> Option<InitializeRequestParams> {
        let json = self.state().client.clone()?;
        match serde_json::from_str(&json) {
            Ok(params) => Some(params),
            Err(e) => {
                tracing::error!(error = %e, "stored initialize parameters do not decode");
                None
            }
        }
    }

    /// Queues `message` on the stream; a closed stream drops it.
    async fn send(&self, message: &ServerJsonRpcMessage) {
        self.push(message_event(message)).await;
    }

    /// Queues an event, waiting while the queue is full; `false` once the stream has ended.
    async fn push(&self, event: Bytes) -> bool {
        loop {
            // Registered before looking, so a `pop` in between is not missed.
            let room = self.room.notified();
            tokio::pin!(room);
            room.as_mut().enable();
            {
                let mut state = self.state();
                if state.closed {
                    return false;
                }
                if state.queue.len() < QUEUE_CAPACITY {
                    state.queue.push_back(event);
                    drop(state);
                    // Stored as a permit when the stream is not waiting yet.
                    self.ready.notify_one();
                    return true;
                }
            }
            room.await;
        }
    }

    /// The next queued event, if any.
    fn pop(&self) -> Option<Bytes> {
        let event = self.state().queue.pop_front();
        if event.is_some() {
            self.room.notify_waiters();
        }
        event
    }

    /// The stream has ended: drops what is queued and releases waiting senders.
    fn close(&self) {
        {
            let mut state = self.state();
            state.closed = true;
            state.queue = VecDeque::new();
        }
        self.room.notify_waiters();
    }

    fn is_closed(&self) -> bool {
        self.state().closed
    }
}

/// A handle that queues server messages on one legacy session's stream (progress
/// notifications of a call).
#[derive(Debug, Clone)]
pub(crate) struct EventSender(Arc<Session>);

impl EventSender {
    /// Queues `message`; dropped if the stream has ended.
    pub(crate) async fn send(&self, message: &ServerJsonRpcMessage) {
        self.0.send(message).await;
    }
}

impl SseSessions {
    /// No sessions yet; `handler` answers their messages, idle streams get a keep-alive comment
    /// every `keep_alive`.
    pub(crate) fn new(handler: McpHandler, keep_alive: Duration) -> Self {
        Self {
            handler,
            sessions: Mutex::new(HashMap::new()),
            keep_alive,
            idle_timeout: Duration::MAX,
        }
    }

    /// Closes sessions idle for `idle` (no POST, no call in flight).
    pub(crate) fn with_idle_timeout(mut self, idle: Duration) -> Self {
        self.idle_timeout = idle;
        self
    }

    /// Number of open legacy SSE sessions.
    pub(crate) fn count(&self) -> usize {
        self.lock().len()
    }

    /// Number of open legacy SSE sessions opened with `key`.
    pub(crate) fn count_of(&self, key: Option<&str>) -> usize {
        self.lock()
            .values()
            .filter(|s| s.owner.as_deref() == key)
            .count()
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<u128, Arc<Session>>> {
        // A panic while holding this lock cannot leave the map inconsistent (single inserts
        // and removes), so a poisoned lock is still usable.
        self.sessions
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Opens a session for a GET on `path` by `owner` (the caller's key) and returns the
    /// event-stream response. `shutdown` ends the session when the server stops.
    pub(crate) fn open(
        self: &Arc<Self>,
        path: &str,
        owner: Option<&str>,
        shutdown: &CancellationToken,
    ) -> Response {
        let mut bytes = [0u8; 16];
        rand::rng().fill_bytes(&mut bytes);
        let key = u128::from_be_bytes(bytes);
        let session = Arc::new(Session {
            ready: Notify::new(),
            room: Notify::new(),
            cancel: shutdown.child_token(),
            owner: owner.map(Box::from),
            level: SessionLevel::default(),
            toolsets: self.handler.host().registry().new_session(),
            state: Mutex::default(),
        });
        self.lock().insert(key, Arc::clone(&session));
        tracing::info!(session = %session_id(key), "legacy SSE session opened");

        let endpoint = format!("{path}?sessionId={}", session_id(key));
        let guard = SessionGuard {
            sessions: Arc::clone(self),
            key,
            session: Arc::clone(&session),
        };
        let mut keep_alive = tokio::time::interval_at(
            tokio::time::Instant::now() + self.keep_alive,
            self.keep_alive,
        );
        keep_alive.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let events = EventStream {
            endpoint: Some(endpoint),
            session,
            keep_alive,
            opened: tokio::time::Instant::now(),
            idle_timeout: self.idle_timeout,
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

    /// Hands one client message (a POST body) from `identity` to session `id`. A session
    /// opened with another key does not exist for this caller (404), so nobody can have answers
    /// sent to someone else's stream.
    pub(crate) async fn post(&self, id: &str, body: &[u8], identity: Identity) -> Response {
        let session = parse_session_id(id)
            .and_then(|key| self.lock().get(&key).cloned())
            .filter(|s| s.owner.as_deref() == identity.key.as_deref());
        let Some(session) = session else {
            return (StatusCode::NOT_FOUND, "Session not found").into_response();
        };
        if let Some(refused) = super::jsonrpc::message_refusal(body) {
            return refused;
        }
        let message: ClientJsonRpcMessage = match super::jsonrpc::parse_message(body) {
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
        if session.is_closed() {
            return (StatusCode::NOT_FOUND, "Session not found").into_response();
        }
        session.state().active = Some(tokio::time::Instant::now());
        match message {
            JsonRpcMessage::Request(request) => self.request(&session, request, identity).await,
            JsonRpcMessage::Notification(n) => notification(&session, n.notification),
            JsonRpcMessage::Response(r) => session.answered(&r.id, Ok(r.result)),
            JsonRpcMessage::Error(e) => match e.id {
                Some(asked) => session.answered(&asked, Err(e.error.message.to_string())),
                None => tracing::debug!(session = %id, "ignored a client error without an id"),
            },
        }
        (StatusCode::ACCEPTED, "Accepted").into_response()
    }

    /// Answers a request, or starts the work that will answer it.
    async fn request(
        &self,
        session: &Arc<Session>,
        request: JsonRpcRequest<ClientRequest>,
        identity: Identity,
    ) {
        let JsonRpcRequest { id, request, .. } = request;
        let initialized = session.state().client.is_some();
        // A request carrying its own protocol version (the 2026-07-28 lifecycle) goes to rmcp.
        let inline = request.get_meta().protocol_version().is_some();
        let progress = request.get_meta().get_progress_token();
        let result = match request {
            ClientRequest::InitializeRequest(init) => self.initialize(session, init.params),
            ClientRequest::PingRequest(_) => Ok(ServerResult::empty(())),
            ClientRequest::ListToolsRequest(_) if initialized && !inline => {
                Ok(ServerResult::ListToolsResult(
                    self.handler
                        .tool_list(Some(&identity), session.toolsets.as_ref()),
                ))
            }
            ClientRequest::CallToolRequest(call) if initialized && !inline => {
                self.call(session, id, call.params, progress, identity);
                return;
            }
            mut other => {
                // The rmcp service finds the caller there (`McpHandler::identity`).
                other.extensions_mut().insert(identity);
                self.single(session, JsonRpcMessage::request(other, id));
                return;
            }
        };
        session.send(&answer(result, id)).await;
    }

    /// `initialize`: rmcp's negotiation; the session remembers the client.
    fn initialize(
        &self,
        session: &Session,
        mut params: InitializeRequestParams,
    ) -> Result<ServerResult, McpError> {
        let result = self.handler.negotiate_initialize(&params)?;
        params.protocol_version = result.protocol_version.clone();
        let json = serde_json::to_string(&params).map_err(|e| {
            McpError::internal_error(format!("cannot keep the initialize parameters: {e}"), None)
        })?;
        session.state().client = Some(json.into_boxed_str());
        Ok(ServerResult::InitializeResult(result))
    }

    /// `tools/call`, in its own task; progress goes out on the session's stream.
    fn call(
        &self,
        session: &Arc<Session>,
        id: RequestId,
        params: CallToolRequestParams,
        progress: Option<rmcp::model::ProgressToken>,
        identity: Identity,
    ) {
        let ct = session.cancel.child_token();
        session.state().calls.insert(id.clone(), ct.clone());
        let handler = self
            .handler
            .in_session(&session.level, session.toolsets.as_ref());
        let session = Arc::clone(session);
        let confirmer = session
            .client()
            .filter(|c| super::elicit::can_ask(&c.capabilities))
            .map(|_| Arc::new(ask::SessionConfirmer(Arc::clone(&session))) as Arc<dyn Confirmer>);
        tokio::spawn(async move {
            let forwarder = progress.map(|token| {
                let events = EventSender(Arc::clone(&session));
                ProgressForwarder::start(ProgressTarget::Stream(events), token)
            });
            let log = handler.level.wants_info(None).then(|| {
                LogForwarder::start(ProgressTarget::Stream(EventSender(Arc::clone(&session))))
            });
            let toolsets = session.toolsets.clone();
            let before = McpHandler::changes_of(toolsets.as_ref());
            let result = handler
                .run_call(
                    params,
                    Some(identity),
                    toolsets.clone(),
                    forwarder,
                    confirmer,
                    log,
                    ct.clone(),
                )
                .await;
            session.state().calls.remove(&id);
            if before != McpHandler::changes_of(toolsets.as_ref()) {
                session.send(&list_changed()).await;
            }
            // As rmcp does: a cancelled request gets no answer.
            if ct.is_cancelled() {
                tracing::debug!(%id, "dropping the answer of a cancelled call");
                return;
            }
            session.send(&answer(result.map(Into::into), id)).await;
        });
    }

    /// Serves one message with a short-lived rmcp service: the requests this module does not
    /// answer itself, and anything before `initialize` (rmcp then ends the session, as it did
    /// when every session had its own service).
    fn single(&self, session: &Arc<Session>, message: ClientJsonRpcMessage) {
        let Some(id) = request_id(&message) else {
            return;
        };
        let transport = Single {
            first: Some(message),
            id,
            answered: false,
            events: EventSender(Arc::clone(session)),
        };
        let handler = self
            .handler
            .in_session(&session.level, session.toolsets.as_ref());
        let session = Arc::clone(session);
        tokio::spawn(async move {
            let ct = session.cancel.child_token();
            let running = match session.client() {
                Some(client) => Ok(rmcp::service::serve_directly_with_ct(
                    handler,
                    transport,
                    Some(client),
                    ct,
                )),
                None => handler.serve_with_ct(transport, ct).await,
            };
            match running {
                Ok(running) => {
                    let _ = running.waiting().await;
                }
                Err(ServerInitializeError::ExpectedInitializeRequest(_)) => {
                    tracing::debug!("legacy SSE session ended: a request before initialize");
                    session.cancel.cancel();
                }
                Err(e) => tracing::debug!(error = %e, "legacy SSE request ended early"),
            }
        });
    }
}

/// A client notification: cancellations stop the call they name; the rest needs nothing here.
fn notification(session: &Session, notification: ClientNotification) {
    match notification {
        ClientNotification::CancelledNotification(n) => {
            let call = n
                .params
                .request_id
                .and_then(|id| session.state().calls.remove(&id));
            if let Some(ct) = call {
                ct.cancel();
            }
        }
        ClientNotification::InitializedNotification(_) => {
            tracing::debug!("legacy SSE client initialized");
        }
        _ => {}
    }
}

/// The answer to request `id`, shaped as rmcp shapes it for peers before 2026-07-28 (legacy
/// sessions never negotiate a later version).
/// `notifications/tools/list_changed`.
fn list_changed() -> ServerJsonRpcMessage {
    ServerJsonRpcMessage::notification(ServerNotification::ToolListChangedNotification(
        ToolListChangedNotification::default(),
    ))
}

fn answer(result: Result<ServerResult, McpError>, id: RequestId) -> ServerJsonRpcMessage {
    match result {
        Ok(mut result) => {
            result.strip_result_type_for_legacy_peer();
            result.strip_non_object_output_for_legacy_peer();
            ServerJsonRpcMessage::response(result, id)
        }
        Err(e) => ServerJsonRpcMessage::error(e, Some(id)),
    }
}

fn request_id(message: &ClientJsonRpcMessage) -> Option<RequestId> {
    match message {
        JsonRpcMessage::Request(r) => Some(r.id.clone()),
        _ => None,
    }
}

/// `sse-` followed by the key's 128 bits in hex.
fn session_id(key: u128) -> String {
    format!("{SESSION_PREFIX}{key:032x}")
}

fn parse_session_id(id: &str) -> Option<u128> {
    let hex = id.strip_prefix(SESSION_PREFIX)?;
    if hex.len() != 32 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u128::from_str_radix(hex, 16).ok()
}

/// Removes the session and cancels its calls when the event stream is dropped (client gone,
/// session ended, or shutdown).
struct SessionGuard {
    sessions: Arc<SseSessions>,
    key: u128,
    session: Arc<Session>,
}

impl Drop for SessionGuard {
    fn drop(&mut self) {
        self.session.cancel.cancel();
        self.session.close();
        self.sessions.lock().remove(&self.key);
        tracing::info!(session = %session_id(self.key), "legacy SSE session closed");
    }
}

/// The state behind one session's event-stream body.
struct EventStream {
    endpoint: Option<String>,
    session: Arc<Session>,
    keep_alive: tokio::time::Interval,
    opened: tokio::time::Instant,
    idle_timeout: Duration,
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
        loop {
            if let Some(event) = self.session.pop() {
                self.keep_alive.reset();
                return Some(event);
            }
            tokio::select! {
                biased;
                () = self.session.ready.notified() => {}
                () = self.session.cancel.cancelled() => return None,
                _ = self.keep_alive.tick() => {
                    if self.is_idle() {
                        tracing::info!("closing an idle legacy SSE session");
                        return None;
                    }
                    return Some(Bytes::from_static(b": keep-alive\n\n"));
                }
            }
        }
    }

    /// No POST for the idle timeout and no call in flight.
    fn is_idle(&self) -> bool {
        let state = self.session.state();
        let since = state.active.unwrap_or(self.opened);
        state.calls.is_empty() && since.elapsed() >= self.idle_timeout
    }
}

/// One server message as an SSE `message` event.
fn message_event(message: &ServerJsonRpcMessage) -> Bytes {
    let mut event = b"event: message\ndata: ".to_vec();
    // Serialized JSON has no raw newlines, so one `data:` line carries it.
    match serde_json::to_writer(&mut event, message) {
        Ok(()) => {
            event.extend_from_slice(b"\n\n");
            Bytes::from(event)
        }
        Err(e) => {
            tracing::error!(error = %e, "could not serialize a server message");
            Bytes::from_static(b": dropped an unserializable message\n\n")
        }
    }
}

/// The rmcp transport of one message: yields it, sends what the service sends to the stream,
/// and ends once the message is answered.
struct Single {
    first: Option<ClientJsonRpcMessage>,
    id: RequestId,
    answered: bool,
    events: EventSender,
}

/// The event stream of a legacy session has closed.
#[derive(Debug, thiserror::Error)]
#[error("the SSE stream of this session is closed")]
pub(crate) struct StreamClosed;

impl Transport<RoleServer> for Single {
    type Error = StreamClosed;

    fn send(
        &mut self,
        item: TxJsonRpcMessage<RoleServer>,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send + 'static {
        let answers = match &item {
            JsonRpcMessage::Response(r) => r.id == self.id,
            JsonRpcMessage::Error(e) => e.id.as_ref() == Some(&self.id),
            _ => false,
        };
        self.answered |= answers;
        let event = message_event(&item);
        let events = self.events.clone();
        async move {
            if events.0.push(event).await {
                Ok(())
            } else {
                Err(StreamClosed)
            }
        }
    }

    async fn receive(&mut self) -> Option<RxJsonRpcMessage<RoleServer>> {
        if let Some(message) = self.first.take() {
            return Some(message);
        }
        if self.answered {
            return None;
        }
        // The service loop polls this again after each of its events, the answer included.
        std::future::pending().await
    }

    async fn close(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}

mod ask;
#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
