//! The rmcp `ServerHandler` every MCP transport serves: `initialize`/`server/discover` answer
//! with our name and version, `tools/list` and `tools/call` come from the registry.
//!
//! Derived, never hand-written: a tool's MCP annotations come from its `Access` (and its
//! `idempotent` flag), its schemas from its parameter and output structs.
//!
//! Per caller: the HTTP door's gate stores the caller's [`Identity`] in the HTTP request, which
//! rmcp hands over in the request context (`http::request::Parts` in its extensions; the legacy
//! SSE door passes it directly). `tools/list` shows only what the key's scope allows; a
//! `tools/call` goes through the registry's admission (`ToolHost::admit`: scope, then rate),
//! whose refusal is a tool error (`isError: true`) saying what would allow it. stdio has no keys.
//!
//! Dynamic toolsets: each handler of a session (the stdio process, a Streamable HTTP or legacy
//! SSE session) holds the session's toolsets; `tools/list` shows the tools of those on, and a
//! call that changed them is followed by `notifications/tools/list_changed`, before its answer.
//! A 2026-07-28 request (no session) carries them in `_meta` (`tools::toolsets::META_KEY`).

use std::sync::Arc;

use rmcp::model::{
    CacheScope, CallToolRequestParams, CallToolResponse, CallToolResult, CompleteRequestParams,
    CompleteResult, ContentBlock, GetPromptRequestParams, GetPromptResponse, Implementation,
    ListPromptsResult, ListResourceTemplatesResult, ListResourcesResult, ListToolsResult,
    PaginatedRequestParams, ReadResourceRequestParams, ReadResourceResponse, RequestMetaObject,
    ServerCapabilities, ServerConfig, Tool, ToolAnnotations,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData as McpError, RoleServer, ServerHandler};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use super::elicit::PeerConfirmer;
use super::input::InputConfirmer;
use super::logging::{LogForwarder, SessionLevel};
use super::progress::{ProgressForwarder, ProgressTarget};
use crate::auth::Identity;
use crate::caller::{Caller, SessionToolsets};
use crate::error::ToolError;
use crate::registry::{
    Confirmer, NoProgress, Progress, RateLimiter, Refused, Scope, ToolHost, ToolSpec,
};

/// Text sent in `initialize`/`server/discover` to tell agents how to use the server.
pub(crate) const INSTRUCTIONS: &str = "Tools to inspect and operate a Proxmox VE cluster: nodes, \
virtual machines (QEMU), containers (LXC), storage and tasks. Read-only tools are safe to call \
at any time. Operations that take time (start, stop, migrate, ...) wait a bounded time and then \
return the task id (UPID) and its current state; follow a task with the task tool rather than \
calling the operation again.";

/// The MCP server handler. Cheap to clone; one per session (the factory clones an `Arc`).
#[derive(Clone)]
pub(crate) struct McpHandler {
    shared: Arc<Shared>,
    pub(super) transport: &'static str,
    /// This session's logging level (`logging/setLevel`).
    pub(super) level: SessionLevel,
    /// This session's toolsets, when the server serves dynamic toolsets.
    pub(super) toolsets: Option<SessionToolsets>,
}

/// How long a client may keep the tool list of a server whose list never changes while it runs
/// (no dynamic toolsets): 5 minutes, for this caller only (the list follows the key's scope).
const TOOLS_TTL_MS: u64 = 300_000;

struct Shared {
    host: ToolHost,
    /// The tools each scope may call (read, operate, admin), in the registry's order.
    tools: [Vec<Tool>; 3],
    /// Calls per minute per key (`tools/call` only).
    rate: Arc<RateLimiter>,
}

impl std::fmt::Debug for McpHandler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("McpHandler")
            .field("transport", &self.transport)
            .field("tools", &self.tools().len())
            .finish()
    }
}

impl McpHandler {
    /// A handler over `host`'s tools, for the transport named `transport`
    /// (`"streamable-http"`, `"sse"`, `"stdio"`), with no rate limit. Builds the tool lists once.
    pub(crate) fn new(host: ToolHost, transport: &'static str) -> Self {
        Self::with_rate(host, transport, Arc::new(RateLimiter::unlimited()))
    }

    /// The same, counting each key's `tools/call` messages against `rate`.
    pub(crate) fn with_rate(
        host: ToolHost,
        transport: &'static str,
        rate: Arc<RateLimiter>,
    ) -> Self {
        // With dynamic toolsets, each session's list is narrowed further at `tools/list`.
        let registry = host.registry();
        let all: Vec<(Scope, Tool)> = registry
            .tools()
            .filter(|t| registry.is_dynamic() || registry.offered(t, None))
            .map(|t| (t.required_scope(), mcp_tool(t)))
            .collect();
        let tools = Scope::ALL.map(|scope| {
            all.iter()
                .filter(|(needs, _)| *needs <= scope)
                .map(|(_, t)| t.clone())
                .collect()
        });
        let toolsets = host.registry().new_session();
        Self {
            shared: Arc::new(Shared { host, tools, rate }),
            transport,
            level: SessionLevel::default(),
            toolsets,
        }
    }

    /// The same handler in a legacy SSE session with this logging level and these toolsets.
    pub(crate) fn in_session(
        &self,
        level: &SessionLevel,
        toolsets: Option<&SessionToolsets>,
    ) -> Self {
        Self {
            shared: self.shared.clone(),
            transport: self.transport,
            level: level.clone(),
            toolsets: toolsets.cloned(),
        }
    }

    /// The same handler for a new session: its own logging level and toolsets. `stateless`:
    /// the session is one request (`[server] stateless`), whose toolsets ride in its `_meta`.
    pub(crate) fn for_session(&self, stateless: bool) -> Self {
        let registry = self.host().registry();
        Self {
            shared: self.shared.clone(),
            transport: self.transport,
            level: SessionLevel::default(),
            toolsets: if stateless {
                registry.carried_session(None::<std::iter::Empty<&str>>)
            } else {
                registry.new_session()
            },
        }
    }

    /// The same tools, served on another transport.
    pub(crate) fn for_transport(&self, transport: &'static str) -> Self {
        Self {
            shared: self.shared.clone(),
            transport,
            level: SessionLevel::default(),
            toolsets: self.host().registry().new_session(),
        }
    }

    /// The toolsets of a request with `meta`: carried in its `_meta` by a request without a
    /// session (MCP 2026-07-28, `[server] stateless`), the session's otherwise (`None` without
    /// dynamic toolsets).
    pub(crate) fn toolsets_of(&self, meta: &RequestMetaObject) -> Option<SessionToolsets> {
        let stateless = meta.protocol_version().is_some_and(|v| !v.has_initialize())
            || self.toolsets.as_ref().is_some_and(SessionToolsets::carried);
        if !stateless {
            return self.toolsets.clone();
        }
        let names = meta
            .get(crate::tools::toolsets::META_KEY)
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str));
        self.host().registry().carried_session(names)
    }

    /// A session's toolsets, to compare after a call (`None`: nothing to tell the client).
    pub(crate) fn changes_of(toolsets: Option<&SessionToolsets>) -> Option<u64> {
        toolsets
            .filter(|t| !t.carried())
            .map(SessionToolsets::changes)
    }

    /// The tools, clusters and admission calls go through.
    pub(crate) fn host(&self) -> &ToolHost {
        &self.shared.host
    }

    /// Calls (and reads) per minute per key.
    pub(crate) fn rate(&self) -> &RateLimiter {
        &self.shared.rate
    }

    /// The tools as MCP describes them, in the registry's order.
    pub(crate) fn tools(&self) -> &[Tool] {
        self.tools_for(Scope::Admin)
    }

    /// The tools a key of `scope` may call.
    pub(crate) fn tools_for(&self, scope: Scope) -> &[Tool] {
        let i = Scope::ALL.iter().position(|s| *s == scope).unwrap_or(0);
        &self.shared.tools[i]
    }

    /// The tools `identity` may call in a session with `toolsets` on (none without an
    /// identity).
    pub(crate) fn tools_of(
        &self,
        identity: Option<&Identity>,
        toolsets: Option<&SessionToolsets>,
    ) -> Vec<Tool> {
        let Some(id) = identity else {
            return Vec::new();
        };
        let registry = self.host().registry();
        if !registry.is_dynamic() {
            return self.tools_for(id.scope).to_vec();
        }
        self.tools_for(id.scope)
            .iter()
            .filter(|t| {
                registry
                    .get(&t.name)
                    .is_some_and(|spec| registry.offered(spec, toolsets))
            })
            .cloned()
            .collect()
    }

    /// `tools/list` for `identity` in a session with `toolsets` on, with its caching
    /// directives: a static list may be kept [`TOOLS_TTL_MS`], a dynamic one not at all (its
    /// changes are announced, or carried by the client).
    pub(crate) fn tool_list(
        &self,
        identity: Option<&Identity>,
        toolsets: Option<&SessionToolsets>,
    ) -> ListToolsResult {
        let ttl = if self.host().registry().is_dynamic() {
            0
        } else {
            TOOLS_TTL_MS
        };
        ListToolsResult::with_all_items(self.tools_of(identity, toolsets))
            .with_ttl_ms(ttl)
            .with_cache_scope(CacheScope::Private)
    }

    /// Who sent a request: the [`Identity`] the HTTP door's gate stored (directly in `ext`, or
    /// in the HTTP request's parts rmcp put there); over stdio, the anonymous caller. `None`
    /// when an HTTP request carries none (a router without the gate): nothing is allowed then.
    pub(crate) fn identity(&self, ext: &rmcp::model::Extensions) -> Option<Identity> {
        if let Some(id) = ext.get::<Identity>() {
            return Some(id.clone());
        }
        if let Some(parts) = ext.get::<axum::http::request::Parts>() {
            return parts.extensions.get::<Identity>().cloned();
        }
        (self.transport == "stdio").then(Identity::anonymous)
    }
}

impl ServerHandler for McpHandler {
    fn get_info(&self) -> ServerConfig {
        // rmcp marks logging deprecated (later revisions drop it); the session revisions use it.
        #[allow(deprecated)]
        let mut capabilities = ServerCapabilities::builder()
            .enable_tools()
            .enable_resources()
            .enable_prompts()
            .enable_completions()
            .enable_logging()
            .build();
        if self.host().registry().is_dynamic()
            && let Some(tools) = capabilities.tools.as_mut()
        {
            tools.list_changed = Some(true);
        }
        ServerConfig::new(capabilities)
            .with_server_info(
                Implementation::new(env!("CARGO_PKG_NAME"), env!("CARGO_PKG_VERSION"))
                    .with_title("Proxmox VE MCP server"),
            )
            .with_instructions(INSTRUCTIONS)
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        let identity = self.identity(&context.extensions);
        let toolsets = self.toolsets_of(&context.meta);
        Ok(self.tool_list(identity.as_ref(), toolsets.as_ref()))
    }

    #[allow(deprecated)] // rmcp marks logging deprecated; the session revisions define it
    async fn set_level(
        &self,
        request: rmcp::model::SetLevelRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<(), McpError> {
        self.level.set(request.level);
        Ok(())
    }

    async fn list_resources(
        &self,
        request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, McpError> {
        let identity = self.identity(&context.extensions);
        self.resources_page(identity, request).await
    }

    async fn list_resource_templates(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, McpError> {
        Ok(self.resource_templates())
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, McpError> {
        let identity = self.identity(&context.extensions);
        Ok(self.read(identity, request.uri).await?.into())
    }

    async fn complete(
        &self,
        request: CompleteRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CompleteResult, McpError> {
        let identity = self.identity(&context.extensions);
        self.complete_argument(identity, request).await
    }

    async fn list_prompts(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, McpError> {
        Ok(self.prompt_list())
    }

    async fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, McpError> {
        let identity = self.identity(&context.extensions);
        Ok(self.prompt(identity, request).await?.into())
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        self.tools().iter().find(|t| t.name == name).cloned()
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        let identity = self.identity(&context.extensions);
        // 2026-07-28 requests get the question back as an input-required result; sessions of
        // earlier revisions, as an `elicitation/create` request.
        let input = InputConfirmer::of(&context.meta, request.input_responses.as_ref());
        let confirmer = match &input {
            Some(input) => Some(Arc::clone(input) as Arc<dyn Confirmer>),
            None => PeerConfirmer::of(&context.peer),
        };
        let log = self
            .level
            .wants_info(context.meta.log_level())
            .then(|| LogForwarder::start(ProgressTarget::Peer(context.peer.clone())));
        let toolsets = self.toolsets_of(&context.meta);
        let before = Self::changes_of(toolsets.as_ref());
        let peer = context.peer.clone();
        let forwarder = context
            .meta
            .get_progress_token()
            .map(|token| ProgressForwarder::start(ProgressTarget::Peer(context.peer), token));
        let answer = self
            .run_call(
                request,
                identity,
                toolsets.clone(),
                forwarder,
                confirmer,
                log,
                context.ct,
            )
            .await;
        if before != Self::changes_of(toolsets.as_ref())
            && let Err(e) = peer.notify_tool_list_changed().await
        {
            tracing::debug!(error = %e, "could not announce the changed tool list");
        }
        match input.and_then(|i| i.input_required()) {
            Some(question) => Ok(question.into()),
            None => answer,
        }
    }
}

impl McpHandler {
    /// Runs one `tools/call` for `identity` in a session with `toolsets` on (admitted first:
    /// offered, scope, then rate): progress
    /// through `forwarder` and task log lines through `log` (both drained before the answer),
    /// questions to the human through `confirmer`, `ct` cancels the call. Shared by rmcp's
    /// services and the legacy SSE sessions.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn run_call(
        &self,
        request: CallToolRequestParams,
        identity: Option<Identity>,
        toolsets: Option<SessionToolsets>,
        forwarder: Option<ProgressForwarder>,
        confirmer: Option<Arc<dyn Confirmer>>,
        log: Option<LogForwarder>,
        ct: CancellationToken,
    ) -> Result<CallToolResponse, McpError> {
        let host = &self.shared.host;
        let name = request.name;
        let args = request.arguments.map(Value::Object);
        let Some(identity) = identity else {
            tracing::error!(
                tool = %name,
                transport = self.transport,
                "a call without an identity"
            );
            if let Some(f) = forwarder {
                f.finish().await;
            }
            return Ok(tool_error(&ToolError::Internal(
                "the request has no identity".into(),
            )));
        };
        let caller = Caller {
            transport: self.transport,
            key: identity.key,
            toolsets,
        };
        let admitted = host.admit(
            &caller,
            identity.scope,
            &self.shared.rate,
            &name,
            args.as_ref(),
        );
        if let Err(refused) = admitted {
            if let Some(f) = forwarder {
                f.finish().await;
            }
            return match refused {
                Refused::NotOffered(ToolError::UnknownTool(_)) => Err(unknown_tool(&name)),
                other => Ok(tool_error(other.error())),
            };
        }
        let progress: Arc<dyn Progress> = match &forwarder {
            Some(f) => f.sink(),
            None => Arc::new(NoProgress),
        };
        let ctx = host
            .ctx(caller, progress, ct)
            .with_confirmer(confirmer)
            .with_log(log.as_ref().map(LogForwarder::sink));
        let result = host.registry().call(&name, args, ctx).await;
        if let Some(l) = log {
            l.finish().await;
        }
        if let Some(f) = forwarder {
            f.finish().await;
        }
        match result {
            Ok(value) => Ok(CallToolResult::structured(value).into()),
            Err(ToolError::UnknownTool(_)) => Err(unknown_tool(&name)),
            Err(e) => Ok(tool_error(&e)),
        }
    }
}

/// A tool result with `isError: true` and the error's text.
fn tool_error(e: &ToolError) -> CallToolResponse {
    CallToolResult::error(vec![ContentBlock::text(e.to_string())]).into()
}

fn unknown_tool(name: &str) -> McpError {
    McpError::invalid_params(format!("unknown tool `{name}`"), None)
}

/// A registry tool as MCP lists it.
fn mcp_tool(spec: &ToolSpec) -> Tool {
    // Proxmox VE is a closed, known domain (one cluster), hence `openWorldHint: false`.
    let annotations = ToolAnnotations::with_title(spec.title)
        .read_only(spec.access.read_only_hint())
        .destructive(spec.access.destructive_hint())
        .idempotent(spec.idempotent_hint())
        .open_world(false);
    Tool::new(spec.name, spec.description, Arc::clone(&spec.input_schema))
        .with_title(spec.title)
        .with_raw_output_schema(Arc::clone(&spec.output_schema))
        .with_annotations(annotations)
}
