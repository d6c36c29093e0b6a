//! The MCP front doors: one rmcp `ServerHandler` over the tool registry, served over stdio,
//! Streamable HTTP and legacy HTTP+SSE. This is the only module of the crate that imports rmcp.

mod coalesce;
pub mod handler;
pub mod http;
mod jsonrpc;
mod owners;
mod progress;
pub mod sse;
pub mod stdio;

pub use crate::serve::serve_http;
pub use handler::McpHandler;
pub use http::{McpHttp, McpHttpConfig, router};
pub use stdio::serve_stdio;
