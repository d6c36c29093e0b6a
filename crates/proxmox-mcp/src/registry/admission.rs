//! Admission: the one check every door makes before a tool runs ([`ToolHost::admit`]): the tool
//! is offered (with dynamic toolsets: its toolset is on in the caller's session), the caller's
//! key scope allows it, and the key is within its rate, in that order.
//! A refusal is logged, counted by the call observer with its reason, and written to the audit
//! log. The server-wide filters' hidden tools are part of it: a call to a hidden tool that would
//! change something is refused on the record (a hidden read tool is simply not there).

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;

use super::rate::{RateLimited, RateLimiter};
use super::{Access, Registry, Scope, ToolHost, ToolSpec};
use crate::caller::Caller;
use crate::error::ToolError;

/// Why a call was refused before its tool ran (the `reason` label of the refusal metrics).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// The key's scope does not allow the tool.
    Scope,
    /// The key is over its rate limit.
    RateLimit,
    /// The server runs in read-only mode and the tool changes things.
    ReadOnly,
    /// The tool is not among those the server offers (toolsets, tools, exclusions).
    NotOffered,
}

impl Refusal {
    /// The metrics label.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Refusal::Scope => "scope",
            Refusal::RateLimit => "rate_limit",
            Refusal::ReadOnly => "read_only",
            Refusal::NotOffered => "not_offered",
        }
    }
}

/// What a door tells a caller it refused, by kind (each door has its own status for each).
#[derive(Debug, Clone, PartialEq)]
pub enum Refused {
    /// The server offers no tool by this name: `ToolError::UnknownTool`.
    NotOffered(ToolError),
    /// The key's scope does not allow the tool: a `ToolError::Policy` naming the scope needed.
    Scope(ToolError),
    /// The server runs in read-only mode and this call would change something (a tool whose
    /// access depends on its arguments): a `ToolError::Policy` saying so.
    ReadOnly(ToolError),
    /// The key is over its rate limit: a `ToolError::Policy` saying when to retry.
    Rate {
        error: ToolError,
        limited: RateLimited,
    },
}

impl Refused {
    /// The error the caller reads.
    pub(crate) fn error(&self) -> &ToolError {
        match self {
            Refused::NotOffered(e)
            | Refused::Scope(e)
            | Refused::ReadOnly(e)
            | Refused::Rate { error: e, .. } => e,
        }
    }
}

/// A tool the filters removed: its name, its access, and why.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Hidden {
    pub(crate) name: &'static str,
    pub(crate) access: Access,
    pub(crate) why: Refusal,
}

/// The hidden tools of a registry, by name.
pub(super) type HiddenTools = Arc<HashMap<&'static str, Hidden>>;

impl Registry {
    /// This registry knowing which tools the filters removed from it (see `ToolFilter::apply`).
    pub(crate) fn with_hidden(mut self, hidden: impl IntoIterator<Item = Hidden>) -> Self {
        self.hidden = Arc::new(hidden.into_iter().map(|h| (h.name, h)).collect());
        self
    }

    /// This registry in read-only mode (see `ToolFilter::apply`).
    pub(crate) fn with_read_only(mut self, read_only: bool) -> Self {
        self.read_only = read_only;
        self
    }

    /// A tool the server-wide filters hide, if `name` is one.
    pub(crate) fn hidden(&self, name: &str) -> Option<Hidden> {
        self.hidden.get(name).copied()
    }

    /// The hidden tools that change things (doors route them, to refuse them on the record).
    pub(crate) fn hidden_mutating(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.hidden
            .values()
            .filter(|h| h.access != Access::Read)
            .map(|h| h.name)
    }
}

impl ToolHost {
    /// Admits a call of `caller`, whose key has `scope`, to tool `name` with `args` (as
    /// received; `None` when the door could not read them): the tool is offered, `scope`
    /// allows this call, read-only mode allows it, and the key is within `rate` (this call
    /// counted), in that order. Every door calls this, and only this, before `Registry::call`.
    pub fn admit(
        &self,
        caller: &Caller,
        scope: Scope,
        rate: &RateLimiter,
        name: &str,
        args: Option<&Value>,
    ) -> Result<&ToolSpec, Refused> {
        let Some(spec) = self.registry().get(name) else {
            self.refuse_hidden(caller, name, args);
            return Err(Refused::NotOffered(ToolError::UnknownTool(
                name.to_string(),
            )));
        };
        let key = caller.key.as_deref();
        let (why, refused) = if !self.registry().offered(spec, caller.toolsets.as_ref()) {
            let error = ToolError::policy(not_enabled(spec, caller));
            (Refusal::NotOffered, Refused::NotOffered(error))
        } else if !scope.allows_call(spec, args) {
            let error = ToolError::policy(scope.refusal(spec, args, key));
            (Refusal::Scope, Refused::Scope(error))
        } else if self.registry().read_only && spec.call_access(args) != Access::Read {
            let error = ToolError::policy(format!(
                "this server runs in read-only mode (--read-only): `{}` may only read here (for \
                 proxmox_api: method GET); nothing was done",
                spec.name
            ));
            (Refusal::ReadOnly, Refused::ReadOnly(error))
        } else if let Err(limited) = rate.check(key) {
            let error = ToolError::policy(limited.message());
            (Refusal::RateLimit, Refused::Rate { error, limited })
        } else {
            return Ok(spec);
        };
        let message = refused.error().to_string();
        tracing::info!(
            tool = spec.name,
            transport = caller.transport,
            key = key.unwrap_or("-"),
            scope = scope.as_str(),
            reason = why.as_str(),
            error = %message,
            "call refused"
        );
        self.on_record(caller, spec.name, args, why, &message);
        Err(refused)
    }

    /// Admits a read of `caller` that is not a tool call (`what`: `resources/read`,
    /// `completion/complete`, `prompts/get`), with `args` as received: every key scope reads
    /// (`read` is the least), so what remains is the key's `rate` (this read counted). A
    /// refusal is logged, counted and audited as a tool call's is.
    pub(crate) fn admit_read(
        &self,
        caller: &Caller,
        rate: &RateLimiter,
        what: &'static str,
        args: Option<&Value>,
    ) -> Result<(), Refused> {
        let key = caller.key.as_deref();
        let Err(limited) = rate.check(key) else {
            return Ok(());
        };
        let error = ToolError::policy(limited.message());
        let message = error.to_string();
        tracing::info!(
            what,
            transport = caller.transport,
            key = key.unwrap_or("-"),
            reason = Refusal::RateLimit.as_str(),
            error = %message,
            "read refused"
        );
        self.on_record(caller, what, args, Refusal::RateLimit, &message);
        Err(Refused::Rate { error, limited })
    }

    /// A call to `name`, which this server does not offer: if the filters hide it and it changes
    /// things, the refusal is counted and written to the audit log.
    fn refuse_hidden(&self, caller: &Caller, name: &str, args: Option<&Value>) {
        let Some(h) = self.registry().hidden(name) else {
            return;
        };
        if h.access == Access::Read {
            return;
        }
        let message = match h.why {
            Refusal::ReadOnly => format!(
                "`{}` is not offered: this server runs in read-only mode (--read-only), and \
                 `{}` changes things ({})",
                h.name,
                h.name,
                h.access.as_str()
            ),
            _ => format!(
                "`{}` is not offered by this server: it is not in the toolsets or tools it serves \
                 (--toolsets, --tools, --exclude-tools)",
                h.name
            ),
        };
        self.on_record(caller, h.name, args, h.why, &message);
    }

    /// Counts a refusal (with `why`, and as a `policy` outcome of the call) and writes it to
    /// the audit log: the cluster the call names (the default one when it names none; in the
    /// metrics, only a configured one, so that labels stay bounded).
    fn on_record(
        &self,
        caller: &Caller,
        tool: &'static str,
        args: Option<&Value>,
        why: Refusal,
        message: &str,
    ) {
        let clusters = self.clusters();
        let named = crate::clusters::named_in(args);
        let label = named
            .as_deref()
            .and_then(|n| clusters.get(n))
            .map_or_else(|| clusters.first().name.clone(), |c| c.name.clone());
        self.registry()
            .observer
            .refused(tool, caller.transport, &label, why);
        if let Some(audit) = self.registry().guard().audit() {
            let cluster = named.as_deref().unwrap_or(&clusters.first().name);
            audit.refused(caller, cluster, tool, args, message);
        }
    }
}

/// Why `spec`, which the server holds, is not offered to `caller` (dynamic toolsets).
fn not_enabled(spec: &ToolSpec, caller: &Caller) -> String {
    match &caller.toolsets {
        Some(_) => format!(
            "`{}` is in the toolset `{}`, which is off in this session: turn it on with \
             enable_toolset first; nothing was done",
            spec.name, spec.toolset
        ),
        None => format!(
            "`{}` is not offered here: its toolset `{}` is turned on per MCP session \
             (dynamic toolsets); nothing was done",
            spec.name, spec.toolset
        ),
    }
}
