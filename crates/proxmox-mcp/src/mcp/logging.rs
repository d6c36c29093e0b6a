//! The MCP logging capability: each session's level (`logging/setLevel`; on MCP 2026-07-28
//! requests, the level in the request's `_meta`), and the log lines of the Proxmox VE tasks a
//! call waits for, sent as `notifications/message` at level `info` (logger `proxmox-ve`, data
//! `{upid, line}`) when the level lets `info` through. Lines go out in order and before the
//! call's answer: the call site drains them with [`LogForwarder::finish`].
// rmcp marks the logging types deprecated (SEP-2577 drops logging from later revisions); the
// revisions the sessions speak still define it.
#![allow(deprecated)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

use rmcp::model::{
    LoggingLevel, LoggingMessageNotification, LoggingMessageNotificationParam,
    ServerJsonRpcMessage, ServerNotification,
};
use serde_json::json;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use super::progress::ProgressTarget;
use crate::registry::TaskLog;

/// No level set yet: the session gets no log messages.
const UNSET: u8 = u8::MAX;

/// One session's logging level (shared by the clones of its handler).
#[derive(Debug, Clone)]
pub(crate) struct SessionLevel(Arc<AtomicU8>);

impl Default for SessionLevel {
    fn default() -> Self {
        Self(Arc::new(AtomicU8::new(UNSET)))
    }
}

impl SessionLevel {
    /// Sets the level (`logging/setLevel`).
    pub(crate) fn set(&self, level: LoggingLevel) {
        self.0.store(rank(level), Ordering::Relaxed);
    }

    /// Whether `info` messages pass: the request's own level when it carries one, else the
    /// session's.
    pub(crate) fn wants_info(&self, request_level: Option<LoggingLevel>) -> bool {
        let level = request_level.map_or_else(|| self.0.load(Ordering::Relaxed), rank);
        level <= rank(LoggingLevel::Info)
    }
}

/// Severity order of RFC 5424 (debug lowest).
fn rank(level: LoggingLevel) -> u8 {
    match level {
        LoggingLevel::Debug => 0,
        LoggingLevel::Info => 1,
        LoggingLevel::Notice => 2,
        LoggingLevel::Warning => 3,
        LoggingLevel::Error => 4,
        LoggingLevel::Critical => 5,
        LoggingLevel::Alert => 6,
        LoggingLevel::Emergency => 7,
    }
}

type Line = (String, String);

/// Forwards one call's task log lines to its client.
pub(crate) struct LogForwarder {
    sink: Arc<ChannelLog>,
    done: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl LogForwarder {
    /// Starts forwarding to `target`.
    pub(crate) fn start(target: ProgressTarget) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        let (done, done_rx) = oneshot::channel();
        let task = tokio::spawn(forward(target, rx, done_rx));
        Self {
            sink: Arc::new(ChannelLog { tx }),
            done,
            task,
        }
    }

    /// The sink to put in the call's context.
    pub(crate) fn sink(&self) -> Arc<dyn TaskLog> {
        self.sink.clone()
    }

    /// Sends what is still queued, then stops.
    pub(crate) async fn finish(self) {
        let _ = self.done.send(());
        if let Err(e) = self.task.await {
            tracing::debug!(error = %e, "log forwarder ended abnormally");
        }
    }
}

struct ChannelLog {
    tx: mpsc::UnboundedSender<Line>,
}

impl TaskLog for ChannelLog {
    fn line(&self, upid: &str, text: &str) {
        // Gone once the call has been answered: late lines are dropped.
        let _ = self.tx.send((upid.to_string(), text.to_string()));
    }
}

async fn forward(
    target: ProgressTarget,
    mut rx: mpsc::UnboundedReceiver<Line>,
    mut done: oneshot::Receiver<()>,
) {
    loop {
        tokio::select! {
            biased;
            line = rx.recv() => match line {
                Some(line) => send(&target, line).await,
                None => return,
            },
            _ = &mut done => break,
        }
    }
    rx.close();
    while let Ok(line) = rx.try_recv() {
        send(&target, line).await;
    }
}

async fn send(target: &ProgressTarget, (upid, line): Line) {
    let mut param = LoggingMessageNotificationParam::new(
        LoggingLevel::Info,
        json!({"upid": upid, "line": line}),
    );
    param.logger = Some("proxmox-ve".into());
    let message =
        ServerNotification::LoggingMessageNotification(LoggingMessageNotification::new(param));
    match target {
        ProgressTarget::Peer(peer) => {
            if let Err(e) = peer.send_notification(message).await {
                tracing::debug!(error = %e, "could not send a log message");
            }
        }
        ProgressTarget::Stream(events) => {
            events
                .send(&ServerJsonRpcMessage::notification(message))
                .await;
        }
    }
}
