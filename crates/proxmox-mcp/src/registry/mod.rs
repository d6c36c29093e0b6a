//! The registry of tools: what a tool is (`ToolSpec`), how dangerous it is (`Access`), and the
//! one call flow every front door uses: admission by key scope and rate (`admission.rs`, through
//! [`ToolHost`]), then `Registry::call` (the `cluster` argument, confirmation, dry run and
//! protected guests for mutating tools in `flow.rs`, the audit record, panics and
//! cancellation), told to a [`CallObserver`] (the server's metrics).
//!
//! Must not import rmcp or axum: the registry knows nothing of transports.

mod admission;
mod confirm;
mod ctx;
pub(crate) mod dynamic;
pub(crate) mod filter;
mod flow;
mod host;
pub(crate) mod lenient;
mod observe;
pub(crate) mod rate;
pub(crate) mod scope;
pub(crate) mod toolsets;
mod typed;
mod wait;

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Instant;

use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use schemars::JsonSchema;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::error::ToolError;
use crate::guard::Guard;
pub(crate) use admission::{Hidden, Refusal, Refused};
pub(crate) use confirm::{Answer, Confirmer, Question};
pub(crate) use ctx::TaskLog;
pub use ctx::{NoProgress, Progress, ToolCtx};
pub use filter::ToolFilter;
pub use host::ToolHost;
pub(crate) use observe::{CallObserver, NoObserver};
pub(crate) use rate::RateLimited;
pub use rate::RateLimiter;
pub use scope::Scope;
pub(crate) use typed::{output_schema_for, schema_for};
pub(crate) use wait::{DEFAULT_WAIT_SECONDS, TaskWait};

/// How much a tool can change. Required on every tool, no default: the MCP annotations, the
/// read-only filter, the key scope needed and the REST method all derive from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Access {
    /// Reads only.
    Read,
    /// Changes state in a way that can be undone (start, stop, resize, create).
    Write,
    /// Can destroy data or interrupt work for good (delete, hard reset).
    Destructive,
}

impl Access {
    /// MCP `readOnlyHint`.
    pub fn read_only_hint(self) -> bool {
        matches!(self, Access::Read)
    }

    /// MCP `destructiveHint`.
    pub fn destructive_hint(self) -> bool {
        matches!(self, Access::Destructive)
    }

    /// MCP `idempotentHint` default: reads are idempotent; others say so per tool
    /// (see [`ToolSpec::idempotent`]).
    pub(crate) fn idempotent_hint(self) -> bool {
        matches!(self, Access::Read)
    }

    /// The word used in docs and tables: `read`, `write`, `destructive`.
    pub fn as_str(self) -> &'static str {
        match self {
            Access::Read => "read",
            Access::Write => "write",
            Access::Destructive => "destructive",
        }
    }
}

/// The access of a tool whose calls differ by their arguments (the generic API tool: a GET
/// reads, a POST can destroy): `least` is what its mildest call needs, `most` the most it can
/// do, `of` gives one call's access from its arguments (`most` when they do not say), and
/// `narrow` restricts an input schema to the mildest calls (read-only mode's view).
#[derive(Debug, Clone, Copy)]
pub(crate) struct ArgAccess {
    pub(crate) least: Access,
    pub(crate) most: Access,
    pub(crate) of: fn(&Value) -> Option<Access>,
    pub(crate) narrow: fn(&mut Map<String, Value>),
}

/// A type-erased handler: JSON arguments (an object) in, JSON object out.
pub(crate) type ErasedHandler =
    Arc<dyn Fn(ToolCtx, Value) -> BoxFuture<'static, Result<Value, ToolError>> + Send + Sync>;

/// The static facts about a tool, written once in its file under `tools/`.
#[derive(Debug, Clone, Copy)]
pub struct ToolDef {
    pub name: &'static str,
    pub title: &'static str,
    pub description: &'static str,
    pub toolset: &'static str,
    pub access: Access,
    /// Calling twice with the same arguments has no further effect (MCP `idempotentHint`).
    pub idempotent: bool,
}

impl ToolDef {
    /// The facts of tool `name` of `toolset`, in the order the fields are declared.
    pub(crate) const fn new(
        toolset: &'static str,
        name: &'static str,
        title: &'static str,
        description: &'static str,
        access: Access,
        idempotent: bool,
    ) -> Self {
        Self {
            name,
            title,
            description,
            toolset,
            access,
            idempotent,
        }
    }
}

/// One tool: its facts, its schemas and its handler.
#[derive(Clone)]
pub struct ToolSpec {
    pub name: &'static str,
    pub title: &'static str,
    pub description: &'static str,
    /// The toolset it belongs to (declared in `toolsets.rs`).
    pub toolset: &'static str,
    pub access: Access,
    pub(crate) idempotent: bool,
    /// Reserved to admin keys whatever `access` says (see [`ToolSpec::admin_only`]).
    pub(crate) admin_only: bool,
    /// How the tool waits for the tasks it starts (`wait_seconds`), if it starts any.
    pub(crate) wait: Option<TaskWait>,
    /// When the access of one call depends on its arguments (see [`ToolSpec::access_by_args`]).
    pub(crate) by_args: Option<ArgAccess>,
    /// Output fields the audit log keeps of a call (see [`ToolSpec::audits`]).
    pub(crate) audited: &'static [&'static str],
    /// JSON Schema (draft 2020-12) of the parameters; always `type: object`. Shared, not
    /// copied, by the registry's views and the MCP tool list.
    pub input_schema: Arc<Map<String, Value>>,
    /// JSON Schema of the output; always `type: object`.
    pub output_schema: Arc<Map<String, Value>>,
    pub(crate) handler: ErasedHandler,
}

impl std::fmt::Debug for ToolSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ToolSpec")
            .field("name", &self.name)
            .field("toolset", &self.toolset)
            .field("access", &self.access)
            .finish_non_exhaustive()
    }
}

impl ToolSpec {
    /// Builds a tool from its facts and a typed handler. `P` is the parameter struct, `O` the
    /// output struct; use the [`handler!`](crate::handler) macro to pass an
    /// `async fn(&ToolCtx, P) -> Result<O, ToolError>`.
    pub fn new<P, O, F>(def: ToolDef, f: F) -> Self
    where
        P: DeserializeOwned + JsonSchema + Send + 'static,
        O: Serialize + JsonSchema + Send + 'static,
        F: Fn(ToolCtx, P) -> BoxFuture<'static, Result<O, ToolError>> + Send + Sync + 'static,
    {
        let mut input_schema = schema_for::<P>();
        let mut output_schema = output_schema_for::<O>();
        // `confirm` and `dry_run` come from `Access`, in this one place (`cluster` is added by
        // `Registry::for_clusters`, which knows how many there are).
        flow::augment_input(def.access, &mut input_schema);
        flow::augment_output(def.access, &mut output_schema);
        ToolSpec {
            name: def.name,
            title: def.title,
            description: def.description,
            toolset: def.toolset,
            access: def.access,
            idempotent: def.idempotent,
            admin_only: false,
            wait: None,
            by_args: None,
            audited: &[],
            input_schema: Arc::new(input_schema),
            output_schema: Arc::new(output_schema),
            handler: typed::erase::<P, O, F>(f),
        }
    }

    /// Keeps these fields of the tool's output in its audit records (with the call's
    /// `elapsed_ms`): what a command did, never what it printed.
    pub(crate) fn audits(mut self, fields: &'static [&'static str]) -> Self {
        self.audited = fields;
        self
    }

    /// MCP `idempotentHint`.
    pub fn idempotent_hint(&self) -> bool {
        self.idempotent || self.access.idempotent_hint()
    }

    /// This tool's access depends on its arguments (see [`ArgAccess`]): `access` stays the
    /// most it can do (its annotations, `confirm` and `dry_run` in its schema); admission
    /// (scope, read-only mode) and the call flow use each call's own access. `narrow`
    /// restricts its input schema to its mildest calls.
    pub(crate) fn access_by_args(
        mut self,
        least: Access,
        of: fn(&Value) -> Option<Access>,
        narrow: fn(&mut Map<String, Value>),
    ) -> Self {
        self.by_args = Some(ArgAccess {
            least,
            most: self.access,
            of,
            narrow,
        });
        self
    }

    /// The view of this tool a read-only server offers: for a tool whose access depends on its
    /// arguments, its mildest calls only (`access` and the input schema narrowed to them;
    /// admission still refuses any other call); any other tool as it is.
    pub(crate) fn mildest_view(&self) -> ToolSpec {
        let mut view = self.clone();
        if let Some(b) = self.by_args {
            view.access = b.least;
            let mut schema = (*self.input_schema).clone();
            if b.least == Access::Read {
                flow::strip_input(&mut schema);
            }
            (b.narrow)(&mut schema);
            view.input_schema = Arc::new(schema);
        }
        view
    }

    /// The access the docs show: `destructive`, or for a tool whose access depends on its
    /// arguments, the range (`read to destructive, by call`).
    pub fn access_label(&self) -> String {
        match self.by_args {
            Some(b) if b.least != b.most => {
                format!("{} to {}, by call", b.least.as_str(), b.most.as_str())
            }
            _ => self.access.as_str().to_string(),
        }
    }

    /// The access of the mildest call of this tool (what tool lists and read-only mode go by).
    pub(crate) fn least_access(&self) -> Access {
        self.by_args.map_or(self.access, |b| b.least)
    }

    /// The access of one call with `args` (as received; `None` when unreadable): the tool's
    /// `access`, or for a tool whose access depends on its arguments, what they ask for (the
    /// most the tool can do when they do not say).
    pub(crate) fn call_access(&self, args: Option<&Value>) -> Access {
        match (self.by_args, args) {
            (Some(b), Some(args)) => (b.of)(args).unwrap_or(b.most),
            (Some(b), None) => b.most,
            (None, _) => self.access,
        }
    }
}

/// Wraps `async fn(&ToolCtx, P) -> Result<O, ToolError>` into the closure [`ToolSpec::new`] takes.
#[macro_export]
macro_rules! handler {
    ($f:path) => {
        |ctx: $crate::ToolCtx, p| -> ::futures_util::future::BoxFuture<'static, _> {
            ::std::boxed::Box::pin(async move { $f(&ctx, p).await })
        }
    };
}

/// The set of tools a server offers, in a stable order.
#[derive(Clone)]
pub struct Registry {
    tools: Vec<ToolSpec>,
    index: HashMap<&'static str, usize>,
    /// Protected guests, exec policy and audit log, applied to every call.
    guard: Arc<Guard>,
    /// Told about every call (and those in flight, for the drain on shutdown).
    observer: Arc<dyn CallObserver>,
    /// Tools the server-wide filters removed, so that calls to them are refused on the record.
    hidden: admission::HiddenTools,
    /// Read-only mode: a call that would change something is refused at admission (the tools
    /// that only change things are not even offered).
    read_only: bool,
    /// Dynamic toolsets: which of the tools each caller is offered (`None`: all of them).
    offer: Option<Arc<dynamic::Offer>>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("tools", &self.tools)
            .field("guard", &self.guard)
            .finish_non_exhaustive()
    }
}

/// Building a registry failed (two tools with one name).
#[derive(Debug, thiserror::Error)]
#[error("tool `{0}` is declared twice")]
pub struct DuplicateTool(pub &'static str);

impl Registry {
    /// A registry of these tools, in this order.
    pub fn new(tools: Vec<ToolSpec>) -> Result<Self, DuplicateTool> {
        let mut index = HashMap::with_capacity(tools.len());
        for (i, t) in tools.iter().enumerate() {
            if index.insert(t.name, i).is_some() {
                return Err(DuplicateTool(t.name));
            }
        }
        Ok(Registry {
            tools,
            index,
            guard: Arc::new(Guard::default()),
            observer: Arc::new(NoObserver),
            hidden: Arc::default(),
            read_only: false,
            offer: None,
        })
    }

    /// This registry with `guard` applied to every call.
    pub fn with_guard(mut self, guard: Guard) -> Self {
        self.guard = Arc::new(guard);
        self
    }

    /// This registry with its calls told to `observer` (the server's metrics).
    pub(crate) fn with_observer(mut self, observer: Arc<dyn CallObserver>) -> Self {
        self.observer = observer;
        self
    }

    /// This registry acting on `clusters`: with more than one, every input schema shows the
    /// `cluster` argument as an enumeration of their names.
    pub(crate) fn for_clusters(mut self, clusters: &crate::clusters::Clusters) -> Self {
        let names = clusters.name_list();
        if names.len() > 1 {
            for t in &mut self.tools {
                crate::clusters::augment_input(Arc::make_mut(&mut t.input_schema), &names);
            }
        }
        self
    }

    /// The guard applied to every call.
    pub(crate) fn guard(&self) -> &Arc<Guard> {
        &self.guard
    }

    /// The tools, in a stable order (the order they were given in).
    pub fn tools(&self) -> impl Iterator<Item = &ToolSpec> {
        self.tools.iter()
    }

    /// The tool named `name`.
    pub fn get(&self, name: &str) -> Option<&ToolSpec> {
        self.index.get(name).map(|&i| &self.tools[i])
    }

    /// Number of tools.
    pub fn len(&self) -> usize {
        self.tools.len()
    }

    /// Whether there are no tools.
    pub fn is_empty(&self) -> bool {
        self.tools.is_empty()
    }

    /// This registry with each tool replaced by `view(tool)` (same names, same order).
    pub(crate) fn viewed(mut self, view: impl Fn(&ToolSpec) -> ToolSpec) -> Registry {
        self.tools = self.tools.iter().map(view).collect();
        self
    }

    /// A registry keeping only the tools `keep` accepts (read-only mode, toolsets, allow/deny).
    pub(crate) fn filtered(&self, keep: impl Fn(&ToolSpec) -> bool) -> Registry {
        let tools: Vec<ToolSpec> = self.tools.iter().filter(|t| keep(t)).cloned().collect();
        let index = tools.iter().enumerate().map(|(i, t)| (t.name, i)).collect();
        Registry {
            tools,
            index,
            guard: self.guard.clone(),
            observer: self.observer.clone(),
            hidden: self.hidden.clone(),
            read_only: self.read_only,
            offer: self.offer.clone(),
        }
    }

    /// Calls a tool. The `cluster` argument (any tool) picks the cluster it acts on (see
    /// `clusters`), the first configured by default. Missing or `null` arguments count as `{}`; an unknown tool is
    /// `UnknownTool`; bad arguments are `InvalidParams` naming the parameter; a panic inside the
    /// handler becomes `Internal`; cancellation of `ctx.cancel` ends the call. A mutating tool
    /// runs under the guard's policy (confirmation, dry run, protected guests, audit log: see
    /// `flow.rs`). `ctx` comes from [`ToolHost::ctx`]; the door admitted the call first
    /// ([`ToolHost::admit`]).
    pub async fn call(
        &self,
        name: &str,
        args: Option<Value>,
        mut ctx: ToolCtx,
    ) -> Result<Value, ToolError> {
        let spec = self
            .get(name)
            .ok_or_else(|| ToolError::UnknownTool(name.to_string()))?;
        let mut args = match args {
            None | Some(Value::Null) => Value::Object(Map::new()),
            Some(v @ Value::Object(_)) => v,
            Some(other) => {
                return Err(ToolError::InvalidParams {
                    param: None,
                    message: format!("arguments must be a JSON object, not {}", json_kind(&other)),
                });
            }
        };
        let _running = observe::Running::start(&self.observer);
        let started = Instant::now();
        let transport = ctx.caller.transport;
        let key = ctx.caller.key.clone();
        let clusters = ctx.clusters.clone();
        let picked = clusters.take_from(&mut args);
        if let Ok(Some(entry)) = &picked
            && entry.name != ctx.cluster
        {
            ctx.client = entry.client.clone();
            ctx.cluster = entry.name.clone();
        }
        let cluster = ctx.cluster.clone();
        let waited = match spec.wait {
            Some(wait) => wait::take(wait, &mut args).map(|w| ctx.wait = w),
            None => Ok(()),
        };
        let access = spec.call_access(Some(&args));
        let result = if let Err(e) = picked.and(waited) {
            Err(e)
        } else if access == Access::Read {
            flow::take_read_flags(spec, &mut args);
            invoke(spec, ctx, args).await
        } else {
            flow::call(spec, access, ctx, args, |ctx, args| invoke(spec, ctx, args)).await
        };
        let elapsed = started.elapsed();
        let ms = u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX);
        let key = key.as_deref().unwrap_or("-");
        let outcome = match &result {
            Ok(_) => {
                tracing::info!(
                    tool = name,
                    transport,
                    key,
                    cluster = &*cluster,
                    ms,
                    outcome = "ok",
                    "tool call ok"
                );
                "ok"
            }
            Err(e) => {
                let kind = e.kind();
                tracing::warn!(tool = name, transport, key, cluster = &*cluster, ms, outcome = kind, error = %e, "tool call failed");
                kind
            }
        };
        self.observer
            .finished(spec.name, transport, &cluster, outcome, elapsed);
        result
    }
}

/// Runs a tool's handler: a panic becomes `Internal`, cancellation of `ctx.cancel` ends it
/// (naming the tasks it had started, which may still run).
async fn invoke(spec: &ToolSpec, ctx: ToolCtx, args: Value) -> Result<Value, ToolError> {
    let cancel = ctx.cancel.clone();
    let started = ctx.started.clone();
    let handler = spec.handler.clone();
    let fut = AssertUnwindSafe(async move { handler(ctx, args).await }).catch_unwind();
    tokio::select! {
        r = fut => r.unwrap_or_else(|panic| Err(ToolError::Internal(panic_text(&*panic)))),
        () = cancel.cancelled() => Err(ToolError::Internal(format!(
            "the call was cancelled (the caller went away, or the server shut down) before it \
             ended{}",
            flow::tasks_note(&started.list())
        ))),
    }
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn panic_text(panic: &(dyn std::any::Any + Send)) -> String {
    let what = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_string());
    format!("the tool panicked: {what}")
}
