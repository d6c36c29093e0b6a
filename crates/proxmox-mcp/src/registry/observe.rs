//! [`CallObserver`]: told about every tool call the registry runs and every call a door's
//! admission refuses; the server's metrics implement it (as pve-client's `RequestObserver`
//! tells them about Proxmox VE requests). An observer must be quick and must not block: it runs
//! on the call's task. It sees names and outcomes, never arguments or keys.

use std::sync::Arc;
use std::time::Duration;

use super::Refusal;

/// Sees every call of a registry (see [`super::Registry::with_observer`]).
pub(crate) trait CallObserver: Send + Sync {
    /// A call began running; [`CallObserver::ended`] follows once it ends or is dropped (the
    /// drain on shutdown waits for the calls in between).
    fn started(&self);
    /// A call that [`CallObserver::started`] ended or was dropped.
    fn ended(&self);
    /// A call ran to its end on `cluster`: `outcome` is `ok` or the error kind.
    fn finished(
        &self,
        tool: &'static str,
        transport: &'static str,
        cluster: &Arc<str>,
        outcome: &'static str,
        elapsed: Duration,
    );
    /// A call was refused before its tool ran (a key's scope or rate, a hidden tool).
    fn refused(
        &self,
        tool: &'static str,
        transport: &'static str,
        cluster: &Arc<str>,
        why: Refusal,
    );
}

/// Observes nothing (a registry no server counts, such as the one docs are generated from).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct NoObserver;

impl CallObserver for NoObserver {
    fn started(&self) {}
    fn ended(&self) {}
    fn finished(
        &self,
        _: &'static str,
        _: &'static str,
        _: &Arc<str>,
        _: &'static str,
        _: Duration,
    ) {
    }
    fn refused(&self, _: &'static str, _: &'static str, _: &Arc<str>, _: Refusal) {}
}

/// Marks one call as running until dropped ([`CallObserver::started`], then `ended`).
pub(super) struct Running(pub(super) Arc<dyn CallObserver>);

impl Running {
    pub(super) fn start(observer: &Arc<dyn CallObserver>) -> Self {
        observer.started();
        Self(observer.clone())
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.0.ended();
    }
}
