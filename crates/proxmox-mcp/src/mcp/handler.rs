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

use std::sync::Arc;

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, CompleteRequestParams, CompleteResult,
    ContentBlock, GetPromptRequestParams, GetPromptResponse, Implementation, ListPromptsResult,
    ListResourceTemplatesResult, ListResourcesResult, ListToolsResult, PaginatedRequestParams,
    ReadResourceRequestParams, ReadResourceResponse, ServerCapabilities, ServerConfig, Tool,
    ToolAnnotations,
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
use crate::caller::Caller;
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
}

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
        let all: Vec<(Scope, Tool)> = host
            .registry()
            .tools()
            .map(|t| (t.required_scope(), mcp_tool(t)))
            .collect();
        let tools = Scope::ALL.map(|scope| {
            all.iter()
                .filter(|(needs, _)| *needs <= scope)
                .map(|(_, t)| t.clone())
                .collect()
        });
        Self {
            shared: Arc::new(Shared { host, tools, rate }),
            transport,
            level: SessionLevel::default(),
        }
    }

    /// The same handler with the logging level `level` (a legacy SSE session's).
    pub(crate) fn with_level(&self, level: &SessionLevel) -> Self {
        Self {
            shared: self.shared.clone(),
            transport: self.transport,
            level: level.clone(),
        }
    }

    /// The same handler for a new session: its own logging level.
    pub(crate) fn for_session(&self) -> Self {
        Self {
            shared: self.shared.clone(),
            transport: self.transport,
            level: SessionLevel::default(),
        }
    }

    /// The same tools, served on another transport.
    pub(crate) fn for_transport(&self, transport: &'static str) -> Self {
        Self {
            shared: self.shared.clone(),
            transport,
            level: SessionLevel::default(),
        }
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

    /// The tools `identity` may call (none without an identity).
    pub(crate) fn tools_of(&self, identity: Option<&Identity>) -> Vec<Tool> {
        identity.map_or_else(Vec::new, |id| self.tools_for(id.scope).to_vec())
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
        let capabilities = ServerCapabilities::builder()
            .enable_tools()
            .enable_resources()
            .enable_prompts()
            .enable_completions()
            .enable_logging()
            .build();
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
        Ok(ListToolsResult::with_all_items(
            self.tools_of(identity.as_ref()),
        ))
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
        let forwarder = context
            .meta
            .get_progress_token()
            .map(|token| ProgressForwarder::start(ProgressTarget::Peer(context.peer), token));
        let answer = self
            .run_call(request, identity, forwarder, confirmer, log, context.ct)
            .await;
        match input.and_then(|i| i.input_required()) {
            Some(question) => Ok(question.into()),
            None => answer,
        }
    }
}

impl McpHandler {
    /// Runs one `tools/call` for `identity` (admitted first: scope, then rate): progress
    /// through `forwarder` and task log lines through `log` (both drained before the answer),
    /// questions to the human through `confirmer`, `ct` cancels the call. Shared by rmcp's
    /// services and the legacy SSE sessions.
    pub(crate) async fn run_call(
        &self,
        request: CallToolRequestParams,
        identity: Option<Identity>,
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
                Refused::NotOffered(_) => Err(unknown_tool(&name)),
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
