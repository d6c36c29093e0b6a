//! Refusals made before a tool runs, which the doors report here: a key's scope or rate, and
//! calls to tools the server-wide filters hide (read-only mode, toolsets, exclusions) that would
//! change something. Each is counted in the metrics with its reason and written to the audit
//! log. (A hidden read tool is simply not there: a 404, a JSON-RPC error.)

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;

use super::{Access, Registry, ToolCtx};

/// Why a call was refused before its tool ran (the `reason` label of the refusal metrics).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
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
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::Scope => "scope",
            Refusal::RateLimit => "rate_limit",
            Refusal::ReadOnly => "read_only",
            Refusal::NotOffered => "not_offered",
        }
    }
}

/// A tool the filters removed: its name, its access, and why.
#[derive(Debug, Clone, Copy)]
pub struct Hidden {
    pub name: &'static str,
    pub access: Access,
    pub why: Refusal,
}

/// The hidden tools of a registry, by name.
pub(super) type HiddenTools = Arc<HashMap<&'static str, Hidden>>;

impl Registry {
    /// This registry knowing which tools the filters removed from it (see `ToolFilter::apply`).
    pub fn with_hidden(mut self, hidden: impl IntoIterator<Item = Hidden>) -> Self {
        self.hidden = Arc::new(hidden.into_iter().map(|h| (h.name, h)).collect());
        self
    }

    /// A tool the server-wide filters hide, if `name` is one.
    pub fn hidden(&self, name: &str) -> Option<Hidden> {
        self.hidden.get(name).copied()
    }

    /// The hidden tools that change things (doors route them, to refuse them on the record).
    pub fn hidden_mutating(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.hidden
            .values()
            .filter(|h| h.access != Access::Read)
            .map(|h| h.name)
    }

    /// Records a refusal of tool `tool` made by a door before the tool ran: the metrics count
    /// it (with `why`, and as a `policy` outcome of the call), the audit log keeps `message`.
    /// `ctx` is the context the call would have had.
    pub fn refused(
        &self,
        ctx: &ToolCtx,
        tool: &'static str,
        args: Option<&Value>,
        why: Refusal,
        message: &str,
    ) {
        self.count(ctx, tool, args, why);
        self.guard.refused(&ctx.caller, tool, args, message);
    }

    fn count(&self, ctx: &ToolCtx, tool: &'static str, args: Option<&Value>, why: Refusal) {
        // A cluster the call names counts only if it is configured (labels stay bounded).
        let cluster = crate::clusters::named_in(args)
            .and_then(|n| ctx.clusters.get(&n).map(|c| c.name.clone()))
            .unwrap_or_else(|| ctx.cluster.clone());
        self.metrics
            .tool_refused(tool, ctx.caller.transport, &cluster, why.as_str());
    }

    /// A call to `name`, which this server does not offer: if the filters hide it and it changes
    /// things, the refusal is counted and written to the audit log. Returns why it is hidden.
    pub fn refuse_hidden(&self, ctx: &ToolCtx, name: &str, args: Option<&Value>) -> Option<String> {
        let h = self.hidden(name)?;
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
        if h.access != Access::Read {
            self.count(ctx, h.name, args, h.why);
            self.guard.refused(&ctx.caller, h.name, args, &message);
        }
        Some(message)
    }
}
