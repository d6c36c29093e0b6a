//! [`ToolHost`]: what the doors call tools through: the registry, the clusters calls act on,
//! and the token that ends task waits when the server drains. It builds each call's
//! [`ToolCtx`] (the only place one is made) and admits calls (`admission.rs`). Cheap to clone.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::{Progress, Registry, ToolCtx};
use crate::caller::Caller;
use crate::clusters::Clusters;

/// The tools of one server and what their calls need (see the module documentation).
#[derive(Clone)]
pub struct ToolHost {
    registry: Arc<Registry>,
    clusters: Arc<Clusters>,
    stop_waiting: CancellationToken,
}

impl std::fmt::Debug for ToolHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ToolHost")
            .field("tools", &self.registry.len())
            .field("clusters", &self.clusters.names())
            .finish_non_exhaustive()
    }
}

impl ToolHost {
    /// `registry`'s tools acting on `clusters` (the first is the default); `stop_waiting` is
    /// cancelled shortly before the server's drain ends (see `ToolCtx::stop_waiting`).
    pub(crate) fn new(
        registry: Arc<Registry>,
        clusters: Arc<Clusters>,
        stop_waiting: CancellationToken,
    ) -> Self {
        Self {
            registry,
            clusters,
            stop_waiting,
        }
    }

    /// The tools this server offers (already narrowed by the server-wide filters).
    pub(crate) fn registry(&self) -> &Arc<Registry> {
        &self.registry
    }

    /// Every configured cluster; the first is the default.
    pub(crate) fn clusters(&self) -> &Arc<Clusters> {
        &self.clusters
    }

    /// The context of one call of `caller`: the default cluster (the call's `cluster` argument
    /// may pick another), the registry's guard, progress to `progress`, cancelled with
    /// `cancel`.
    pub(crate) fn ctx(
        &self,
        caller: Caller,
        progress: Arc<dyn Progress>,
        cancel: CancellationToken,
    ) -> ToolCtx {
        let first = self.clusters.first().clone();
        ToolCtx {
            client: first.client,
            cluster: first.name,
            clusters: self.clusters.clone(),
            progress,
            wait: Duration::from_secs(u64::from(super::DEFAULT_WAIT_SECONDS)),
            cancel,
            stop_waiting: self.stop_waiting.clone(),
            started: Arc::default(),
            caller,
            guard: self.registry.guard().clone(),
            confirmer: None,
            log: None,
        }
    }
}
