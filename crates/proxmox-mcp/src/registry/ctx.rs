//! `ToolCtx`: what a handler gets besides its parameters (the PVE client, progress, cancellation,
//! who is calling). Built per call by `ToolHost::ctx`, and only there; never holds transport
//! types.

use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use pve_client::PveClient;
use tokio_util::sync::CancellationToken;

use super::confirm::Confirmer;
use crate::caller::Caller;
use crate::clusters::Clusters;
use crate::guard::Guard;

/// Everything a tool handler may use. Cheap to clone (all `Arc`s).
#[derive(Clone)]
pub struct ToolCtx {
    /// The Proxmox VE API client (a real cluster, or the embedded simulator in demo mode): the
    /// client of the cluster the call acts on (`Registry::call` sets it from `cluster`).
    pub(crate) client: Arc<PveClient>,
    /// Name of the cluster `client` reaches.
    pub(crate) cluster: Arc<str>,
    /// Every configured cluster (the first is the default).
    pub(crate) clusters: Arc<Clusters>,
    /// Where progress goes while a handler waits on a PVE task.
    pub(crate) progress: Arc<dyn Progress>,
    /// How long the call waits for the tasks it starts (its `wait_seconds`, bounded; see
    /// `ToolSpec::waits`).
    pub(crate) wait: Duration,
    /// Cancelled when the caller gives up or the server shuts down.
    pub cancel: CancellationToken,
    /// Cancelled shortly before the server's drain ends on shutdown: task waits stop and answer
    /// that the task is still running (with its UPID), while the answer can still be delivered.
    pub(crate) stop_waiting: CancellationToken,
    /// The Proxmox VE tasks this call started (recorded by the task wait), so that a call that
    /// times out or is cancelled can name them.
    pub(crate) started: Arc<StartedTasks>,
    /// Who is calling, for logs, policy and the audit log.
    pub(crate) caller: Caller,
    /// The registry's guard (protected guests, exec policy, audit log).
    pub(crate) guard: Arc<Guard>,
    /// Asks the human behind the client to confirm a destructive call (`None`: the client
    /// cannot ask, or the door is not MCP).
    pub(crate) confirmer: Option<Arc<dyn Confirmer>>,
    /// Where the log lines of the tasks the call waits for go (`None`: nobody listens).
    pub(crate) log: Option<Arc<dyn TaskLog>>,
}

impl std::fmt::Debug for ToolCtx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ToolCtx")
            .field("caller", &self.caller)
            .field("cluster", &self.cluster)
            .finish_non_exhaustive()
    }
}

impl ToolCtx {
    /// This context, with `log` told the log lines of the tasks the call waits for.
    pub(crate) fn with_log(mut self, log: Option<Arc<dyn TaskLog>>) -> Self {
        self.log = log;
        self
    }

    /// This context, with `confirmer` to ask the human (see `flow.rs`).
    pub(crate) fn with_confirmer(mut self, confirmer: Option<Arc<dyn Confirmer>>) -> Self {
        self.confirmer = confirmer;
        self
    }

    /// Runs `f` with a token cancelled when the call is interrupted (the caller gave up, or the
    /// server is about to end its drain), so that a wait given it ends and still answers.
    pub(crate) async fn until_interrupted<F, Fut>(&self, f: F) -> Fut::Output
    where
        F: FnOnce(CancellationToken) -> Fut,
        Fut: Future,
    {
        let token = self.cancel.child_token();
        let fut = f(token.clone());
        tokio::pin!(fut);
        tokio::select! {
            out = &mut fut => return out,
            () = self.stop_waiting.cancelled() => token.cancel(),
        }
        fut.await
    }

    /// Reports progress (`progress` out of `total`) with a message.
    pub fn report(&self, progress: f64, total: Option<f64>, message: impl Into<String>) {
        self.progress.report(progress, total, Some(message.into()));
    }
}

/// The UPIDs of the tasks one call started, in order.
#[derive(Debug, Default)]
pub(crate) struct StartedTasks(Mutex<Vec<String>>);

impl StartedTasks {
    /// Records a task the call started (once).
    pub(crate) fn record(&self, upid: &str) {
        let mut list = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if !list.iter().any(|u| u == upid) {
            list.push(upid.to_string());
        }
    }

    /// The tasks recorded so far.
    pub(crate) fn list(&self) -> Vec<String> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// A sink for progress notifications; the MCP side turns them into `notifications/progress`.
pub trait Progress: Send + Sync {
    fn report(&self, progress: f64, total: Option<f64>, message: Option<String>);
}

/// A sink for the log lines of the Proxmox VE tasks a call waits for; the MCP side turns them
/// into `notifications/message` at level `info`.
pub(crate) trait TaskLog: Send + Sync {
    /// Line `text` of task `upid`'s log.
    fn line(&self, upid: &str, text: &str);
}

/// Drops progress reports (REST, tests, MCP calls without a progress token).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn report(&self, _progress: f64, _total: Option<f64>, _message: Option<String>) {}
}
