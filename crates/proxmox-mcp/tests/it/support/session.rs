//! Tool calls in one Streamable HTTP session (protocol 2025-06-18), as a client that reads
//! `structuredContent` and the text content of each result.

use serde_json::{Value, json};

use crate::support::mcp::{handshake, post};

/// A Streamable HTTP session on an MCP door.
pub struct Mcp {
    http: reqwest::Client,
    url: String,
    session: String,
    version: String,
}

impl Mcp {
    /// `initialize` on `{base}/proxmox/mcp`.
    pub async fn open(base: &str) -> Mcp {
        let http = reqwest::Client::new();
        let url = format!("{base}/proxmox/mcp");
        let (session, init) = handshake(&http, &url, "2025-06-18").await;
        let version = init["protocolVersion"].as_str().unwrap().to_string();
        Mcp {
            http,
            url,
            session,
            version,
        }
    }

    /// `tools/call`: the result (content, structuredContent, isError).
    pub async fn call(&self, tool: &str, args: Value) -> Value {
        let (status, _, msgs) = post(
            &self.http,
            &self.url,
            &[
                ("mcp-session-id", &self.session),
                ("mcp-protocol-version", &self.version),
            ],
            json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call",
                   "params": {"name": tool, "arguments": args}}),
        )
        .await;
        assert_eq!(status, 200);
        msgs.last().unwrap()["result"].clone()
    }
}

/// The text content of a `tools/call` result.
pub fn text(result: &Value) -> String {
    result["content"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["text"].as_str())
        .collect()
}
