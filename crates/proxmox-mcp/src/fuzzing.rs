//! Entry points for the fuzz targets in `fuzz/` (hidden from the docs, not an API): what the
//! doors do with the bytes of a request before a tool runs, reached the way the doors reach it.

use futures_util::FutureExt;
use serde_json::{Map, Value};

/// What the MCP doors make of one POST body.
#[derive(Debug)]
pub struct McpPost {
    /// The answer when the body is refused before any handler: status and JSON body.
    pub refusal: Option<(u16, Value)>,
    /// Whether the legacy SSE door then reads it as one JSON-RPC message (the error otherwise).
    pub parsed: Result<(), String>,
}

/// The checks both MCP doors run on a POST body, then the legacy SSE door's reading of it.
pub fn mcp_post(body: &[u8]) -> McpPost {
    let refusal = crate::mcp::jsonrpc::message_refusal(body).map(|resp| {
        let status = resp.status().as_u16();
        let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
            .now_or_never()
            .and_then(Result::ok)
            .unwrap_or_default();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    });
    let parsed = crate::mcp::jsonrpc::parse_message(body)
        .map(drop)
        .map_err(|e| e.to_string());
    McpPost { refusal, parsed }
}

/// A REST refusal: status, `kind`, message and the parameter named.
pub type RestRefusal = (u16, &'static str, String, Option<String>);

fn refusal(e: crate::rest::error::RestError) -> RestRefusal {
    (e.status.as_u16(), e.kind, e.message, e.param)
}

/// `GET /<tool>?query`: the query string as the arguments of a tool with `schema` as its input
/// schema.
pub fn rest_query(query: &str, schema: &Map<String, Value>) -> Result<Value, RestRefusal> {
    crate::rest::query::to_args(Some(query), schema).map_err(refusal)
}

/// `POST /<tool>`: the body (with its `Content-Type`) as the arguments.
pub fn rest_body(content_type: Option<&str>, body: &[u8]) -> Result<Value, RestRefusal> {
    crate::rest::routes::args_from_body(content_type, body).map_err(refusal)
}
