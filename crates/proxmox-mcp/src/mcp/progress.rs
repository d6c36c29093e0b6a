//! Turns a tool's progress reports (`registry::Progress`, a sync call) into MCP
//! `notifications/progress` for the request's progress token, in order, and never after the
//! request's answer: the call site drains the queue with [`ProgressForwarder::finish`] before it
//! replies.

use std::sync::Arc;

use rmcp::model::{
    ProgressNotification, ProgressNotificationParam, ProgressToken, ServerJsonRpcMessage,
    ServerNotification,
};
use rmcp::{Peer, RoleServer};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::registry::Progress;

type Report = (f64, Option<f64>, Option<String>);

/// Where the notifications go.
pub(crate) enum ProgressTarget {
    /// The peer of an rmcp service (stdio, Streamable HTTP).
    Peer(Peer<RoleServer>),
    /// A legacy SSE session's stream.
    Stream(super::sse::EventSender),
}

/// Forwards progress reports to one MCP peer for one progress token.
pub(crate) struct ProgressForwarder {
    sink: Arc<ChannelProgress>,
    done: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl ProgressForwarder {
    /// Starts the forwarding task for `token` to `peer`.
    pub(crate) fn start(peer: ProgressTarget, token: ProgressToken) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        let (done, done_rx) = oneshot::channel();
        let task = tokio::spawn(forward(peer, token, rx, done_rx));
        Self {
            sink: Arc::new(ChannelProgress { tx }),
            done,
            task,
        }
    }

    /// The `Progress` to put in the tool's context.
    pub(crate) fn sink(&self) -> Arc<dyn Progress> {
        self.sink.clone()
    }

    /// Sends what is still queued, then stops; reports made after this are dropped.
    pub(crate) async fn finish(self) {
        let _ = self.done.send(());
        if let Err(e) = self.task.await {
            tracing::debug!(error = %e, "progress forwarder ended abnormally");
        }
    }
}

struct ChannelProgress {
    tx: mpsc::UnboundedSender<Report>,
}

impl Progress for ChannelProgress {
    fn report(&self, progress: f64, total: Option<f64>, message: Option<String>) {
        // The receiver is gone once the call has been answered: late reports are dropped.
        let _ = self.tx.send((progress, total, message));
    }
}

async fn forward(
    peer: ProgressTarget,
    token: ProgressToken,
    mut rx: mpsc::UnboundedReceiver<Report>,
    mut done: oneshot::Receiver<()>,
) {
    loop {
        tokio::select! {
            biased;
            report = rx.recv() => match report {
                Some(report) => send(&peer, &token, report).await,
                None => return,
            },
            _ = &mut done => break,
        }
    }
    rx.close();
    while let Ok(report) = rx.try_recv() {
        send(&peer, &token, report).await;
    }
}

async fn send(target: &ProgressTarget, token: &ProgressToken, report: Report) {
    let (progress, total, message) = report;
    let mut param = ProgressNotificationParam::new(token.clone(), progress);
    param.total = total;
    param.message = message;
    match target {
        ProgressTarget::Peer(peer) => {
            if let Err(e) = peer.notify_progress(param).await {
                tracing::debug!(error = %e, "could not send a progress notification");
            }
        }
        ProgressTarget::Stream(events) => {
            let message = ServerJsonRpcMessage::notification(
                ServerNotification::ProgressNotification(ProgressNotification::new(param)),
            );
            // A closed stream has no one left to tell.
            events.send(&message).await;
        }
    }
}
