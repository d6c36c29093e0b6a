//! Dynamic toolsets (`--dynamic-toolsets`): the registry then holds the tools of every toolset a
//! session may turn on, and [`Offer`] says which of them a caller is offered: those of the
//! toolsets its session has on (`caller::SessionToolsets`), the tools named in `--tools`, and
//! the toolset tools (`list_toolsets`, `enable_toolset`, `disable_toolset`, MCP sessions only).
//! A caller without a session (REST) is offered what a new session starts with. Admission
//! refuses the rest as not offered; key scope and read-only mode apply as to any tool.

use std::collections::BTreeSet;
use std::sync::Arc;

use super::{Registry, ToolSpec};
use crate::caller::{Allowed, SessionToolsets};

/// The toolset of the toolset tools: served when dynamic toolsets are on, never named.
pub(crate) const TOOLSET: &str = "dynamic";

/// What a server with dynamic toolsets offers, decided by the server-wide filters.
#[derive(Debug, Clone, Default)]
pub(crate) struct Offer {
    /// The toolsets a session starts with (the default ones among `allowed`).
    pub(crate) start: BTreeSet<&'static str>,
    /// The toolsets a session may turn on (`--toolsets`, or every toolset), with their tools.
    pub(crate) allowed: Arc<Allowed>,
    /// Tools offered whatever the toolsets (`--tools`).
    pub(crate) pinned: BTreeSet<&'static str>,
}

impl Registry {
    /// This registry serving dynamic toolsets as `offer` says.
    pub(crate) fn with_offer(mut self, offer: Offer) -> Self {
        self.offer = Some(Arc::new(offer));
        self
    }

    /// Whether this registry serves dynamic toolsets.
    pub(crate) fn is_dynamic(&self) -> bool {
        self.offer.is_some()
    }

    /// The toolsets of a new session, when this registry serves dynamic toolsets.
    pub(crate) fn new_session(&self) -> Option<SessionToolsets> {
        let offer = self.offer.as_ref()?;
        Some(SessionToolsets::new(
            offer.allowed.clone(),
            offer.start.clone(),
        ))
    }

    /// A session of one request carrying the toolsets it has on (`names`, MCP 2026-07-28):
    /// the names this registry may turn on are kept, the rest ignored.
    pub(crate) fn carried_session<'a>(
        &self,
        names: Option<impl Iterator<Item = &'a str>>,
    ) -> Option<SessionToolsets> {
        let offer = self.offer.as_ref()?;
        let on = match names {
            None => offer.start.clone(),
            Some(names) => names
                .filter_map(|n| offer.allowed.get_key_value(n).map(|(k, _)| *k))
                .collect(),
        };
        Some(SessionToolsets::new(offer.allowed.clone(), on).carried_by_request())
    }

    /// Whether `spec` is offered to a caller whose session has `session` on (`None`: no
    /// session, the starting toolsets apply and the toolset tools are not offered). Without
    /// dynamic toolsets, every tool but the toolset tools.
    pub(crate) fn offered(&self, spec: &ToolSpec, session: Option<&SessionToolsets>) -> bool {
        let Some(offer) = &self.offer else {
            return spec.toolset != TOOLSET;
        };
        if spec.toolset == TOOLSET {
            return session.is_some();
        }
        if offer.pinned.contains(spec.name) {
            return true;
        }
        match session {
            Some(s) => s.is_on(spec.toolset),
            None => offer.start.contains(spec.toolset),
        }
    }

    /// The tools a caller without a session is offered (the REST door's OpenAPI document).
    pub(crate) fn sessionless_view(&self) -> Registry {
        self.filtered(|t| self.offered(t, None))
    }
}
