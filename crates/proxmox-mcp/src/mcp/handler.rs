//! The rmcp `ServerHandler` every MCP transport serves: `initialize`/`server/discover` answer
//! with our name and version, `tools/list` and `tools/call` come from the registry.
//!
//! Derived, never hand-written: a tool's MCP annotations come from its `Access` (and its
//! `idempotent` flag), its schemas from its parameter and output structs.

use std::sync::Arc;

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
    JsonObject, ListToolsResult, PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool,
    ToolAnnotations,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData as McpError, RoleServer, ServerHandler};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use super::progress::{ProgressForwarder, ProgressTarget};
use crate::registry::{Caller, NoProgress, Progress, Registry, ToolCtx, ToolError, ToolSpec};

/// What the MCP side needs from the server: the tools, and a way to build a call's context.
/// Implemented by `App`; tests may implement it over a bare registry.
pub trait ToolHost: Send + Sync + 'static {
    /// The tools this server offers (already filtered by read-only mode, toolsets, ...).
    fn registry(&self) -> &Registry;
    /// The context for one call.
    fn ctx(
        &self,
        caller: Caller,
        progress: Arc<dyn Progress>,
        cancel: CancellationToken,
    ) -> ToolCtx;
}

/// Text sent in `initialize`/`server/discover` to tell agents how to use the server.
pub const INSTRUCTIONS: &str = "Tools to inspect and operate a Proxmox VE cluster: nodes, \
virtual machines (QEMU), containers (LXC), storage and tasks. Read-only tools are safe to call \
at any time. Operations that take time (start, stop, migrate, ...) wait a bounded time and then \
return the task id (UPID) and its current state; follow a task with the task tool rather than \
calling the operation again.";

/// The MCP server handler. Cheap to clone; one per session (the factory clones an `Arc`).
#[derive(Clone)]
pub struct McpHandler {
    shared: Arc<Shared>,
    transport: &'static str,
}

struct Shared {
    host: Arc<dyn ToolHost>,
    tools: Vec<Tool>,
}

impl std::fmt::Debug for McpHandler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("McpHandler")
            .field("transport", &self.transport)
            .field("tools", &self.shared.tools.len())
            .finish()
    }
}

impl McpHandler {
    /// A handler over `host`'s tools, for the transport named `transport`
    /// (`"streamable-http"`, `"sse"`, `"stdio"`). Builds the tool list once.
    pub fn new(host: Arc<dyn ToolHost>, transport: &'static str) -> Self {
        let tools = host.registry().tools().map(mcp_tool).collect();
        Self {
            shared: Arc::new(Shared { host, tools }),
            transport,
        }
    }

    /// The same tools, served on another transport.
    pub fn for_transport(&self, transport: &'static str) -> Self {
        Self {
            shared: self.shared.clone(),
            transport,
        }
    }

    /// The tools as MCP describes them, in the registry's order.
    pub fn tools(&self) -> &[Tool] {
        &self.shared.tools
    }
}

impl ServerHandler for McpHandler {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(
                Implementation::new(env!("CARGO_PKG_NAME"), env!("CARGO_PKG_VERSION"))
                    .with_title("Proxmox VE MCP server"),
            )
            .with_instructions(INSTRUCTIONS)
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        Ok(ListToolsResult::with_all_items(self.shared.tools.clone()))
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        self.shared.tools.iter().find(|t| t.name == name).cloned()
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        let forwarder = context
            .meta
            .get_progress_token()
            .map(|token| ProgressForwarder::start(ProgressTarget::Peer(context.peer), token));
        self.run_call(request, forwarder, context.ct).await
    }
}

impl McpHandler {
    /// Runs one `tools/call`: progress through `forwarder` (drained before the answer), `ct`
    /// cancels the call. Shared by rmcp's services and the legacy SSE sessions.
    pub(crate) async fn run_call(
        &self,
        request: CallToolRequestParams,
        forwarder: Option<ProgressForwarder>,
        ct: CancellationToken,
    ) -> Result<CallToolResponse, McpError> {
        let host = &self.shared.host;
        let name = request.name;
        if host.registry().get(&name).is_none() {
            return Err(unknown_tool(&name));
        }
        let progress: Arc<dyn Progress> = match &forwarder {
            Some(f) => f.sink(),
            None => Arc::new(NoProgress),
        };
        let ctx = host.ctx(Caller::new(self.transport), progress, ct);
        let args = request.arguments.map(Value::Object);
        let result = host.registry().call(&name, args, ctx).await;
        if let Some(f) = forwarder {
            f.finish().await;
        }
        match result {
            Ok(value) => Ok(CallToolResult::structured(value).into()),
            Err(ToolError::UnknownTool(_)) => Err(unknown_tool(&name)),
            Err(e) => Ok(CallToolResult::error(vec![ContentBlock::text(e.to_string())]).into()),
        }
    }
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
    Tool::new(spec.name, spec.description, schema(&spec.input_schema))
        .with_title(spec.title)
        .with_raw_output_schema(schema(&spec.output_schema))
        .with_annotations(annotations)
}

fn schema(map: &serde_json::Map<String, Value>) -> Arc<JsonObject> {
    Arc::new(map.clone())
}
