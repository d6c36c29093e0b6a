//! The MCP front doors: one rmcp `ServerHandler` over the tool registry, served over stdio,
//! Streamable HTTP and legacy HTTP+SSE. This is the only module of the crate that imports rmcp.

mod coalesce;
mod elicit;
pub(crate) mod handler;
pub(crate) mod http;
mod input;
pub(crate) mod jsonrpc;
mod logging;
mod owners;
mod progress;
mod prompts;
mod resources;
pub(crate) mod sse;
pub(crate) mod stdio;

pub(crate) use handler::McpHandler;
pub use http::{McpHttp, McpHttpConfig, PATHS};
pub use stdio::serve_stdio;
