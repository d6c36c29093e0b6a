//! A small MCP client over Streamable HTTP for the benchmarks (plain reqwest, no MCP library):
//! the initialize handshake, JSON-RPC requests, `tools/list` with paging, `tools/call`, ending a
//! session, and stateless 2026-07-28 requests.
//! Answers may come as plain JSON or as server-sent events; both are read.

use std::time::Duration;

use reqwest::header::{ACCEPT, CONTENT_TYPE};
use serde_json::{Value, json};

use crate::Res;

/// The protocol version asked for (initialize-based, as n8n and Claude Desktop).
pub const PROTOCOL_VERSION: &str = "2025-06-18";

/// Longest wait for any single answer.
pub const ANSWER_TIMEOUT: Duration = Duration::from_secs(30);

/// The `initialize` request with JSON-RPC id `id`.
pub fn initialize_request(id: u64) -> String {
    json!({
        "jsonrpc": "2.0",
        "id": id,
        "method": "initialize",
        "params": {
            "protocolVersion": PROTOCOL_VERSION,
            "capabilities": {},
            "clientInfo": {"name": "proxmox-mcp-bench", "version": "0"}
        }
    })
    .to_string()
}

/// The notification that ends the handshake.
pub const INITIALIZED: &str = r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#;

/// The JSON-RPC response with `id` in a Streamable HTTP answer body (plain JSON, or SSE events
/// whose `data:` carries JSON).
pub fn find_response(body: &[u8], id: u64) -> Res<Value> {
    let text = std::str::from_utf8(body)?;
    if let Ok(v) = serde_json::from_str::<Value>(text)
        && v["id"] == json!(id)
    {
        return Ok(v);
    }
    for event in text.split("\n\n") {
        let data: Vec<&str> = event
            .lines()
            .filter_map(|l| l.strip_prefix("data:"))
            .map(str::trim_start)
            .collect();
        if data.is_empty() {
            continue;
        }
        if let Ok(v) = serde_json::from_str::<Value>(&data.join("\n"))
            && v["id"] == json!(id)
        {
            return Ok(v);
        }
    }
    Err(format!("no JSON-RPC response with id {id} in: {}", clip(text)).into())
}

/// One MCP POST (Streamable HTTP); fails on a non-2xx status.
pub async fn post_mcp(
    client: &reqwest::Client,
    url: &str,
    session: Option<&str>,
    body: String,
) -> Res<reqwest::Response> {
    let mut req = client
        .post(url)
        .header(ACCEPT, "application/json, text/event-stream")
        .header(CONTENT_TYPE, "application/json")
        .timeout(ANSWER_TIMEOUT)
        .body(body);
    if let Some(s) = session {
        req = req
            .header("Mcp-Session-Id", s)
            .header("MCP-Protocol-Version", PROTOCOL_VERSION);
    }
    let resp = req.send().await?;
    if !resp.status().is_success() {
        return Err(format!("MCP POST answered {}", resp.status()).into());
    }
    Ok(resp)
}

/// An initialized Streamable HTTP session.
#[derive(Debug)]
pub struct Session {
    client: reqwest::Client,
    url: String,
    /// The `Mcp-Session-Id` the server gave, if any (a stateless server gives none).
    session: Option<String>,
    next_id: u64,
    /// The `initialize` result (server info, capabilities, instructions).
    pub init: Value,
}

impl Session {
    /// Initializes a session at `url` (the handshake: `initialize`, then `initialized`).
    pub async fn connect(client: reqwest::Client, url: String) -> Res<Self> {
        let resp = post_mcp(&client, &url, None, initialize_request(1)).await?;
        let session = match resp.headers().get("mcp-session-id") {
            Some(v) => Some(v.to_str()?.to_string()),
            None => None,
        };
        let body = resp.bytes().await?;
        let answer = find_response(&body, 1)?;
        let init = answer
            .get("result")
            .cloned()
            .ok_or_else(|| format!("initialize failed: {}", clip(&answer.to_string())))?;
        let resp = post_mcp(&client, &url, session.as_deref(), INITIALIZED.to_string()).await?;
        resp.bytes().await?;
        Ok(Self {
            client,
            url,
            session,
            next_id: 2,
            init,
        })
    }

    /// A fresh JSON-RPC id.
    pub fn next_id(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    /// Posts `body` in this session and returns the answer's bytes as they arrived.
    pub async fn post_raw(&self, body: String) -> Res<bytes::Bytes> {
        let resp = post_mcp(&self.client, &self.url, self.session.as_deref(), body).await?;
        Ok(resp.bytes().await?)
    }

    /// Sends `method` with `params` and returns the JSON-RPC `result`; a JSON-RPC error fails.
    pub async fn request(&mut self, method: &str, params: Value) -> Res<Value> {
        let id = self.next_id();
        let body = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        let raw = self.post_raw(body.to_string()).await?;
        let mut answer = find_response(&raw, id)?;
        match answer.get_mut("result") {
            Some(result) => Ok(result.take()),
            None => Err(format!("{method} failed: {}", clip(&answer.to_string())).into()),
        }
    }

    /// Every tool of `tools/list`, following `nextCursor` across pages.
    pub async fn list_tools(&mut self) -> Res<Vec<Value>> {
        let mut tools = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let params = match &cursor {
                Some(c) => json!({"cursor": c}),
                None => json!({}),
            };
            let mut page = self.request("tools/list", params).await?;
            match page.get_mut("tools").map(Value::take) {
                Some(Value::Array(list)) => tools.extend(list),
                _ => return Err("tools/list answered without a tools array".into()),
            }
            match page.get("nextCursor").and_then(Value::as_str) {
                Some(next) if !next.is_empty() => cursor = Some(next.to_string()),
                _ => return Ok(tools),
            }
        }
    }

    /// `tools/call` of `name` with `arguments`; returns the call result (a tool error included:
    /// the caller looks at `isError`).
    pub async fn call_tool(&mut self, name: &str, arguments: Value) -> Res<Value> {
        self.request("tools/call", json!({"name": name, "arguments": arguments}))
            .await
    }

    /// Ends the session (`DELETE` with its id); a session without an id has nothing to end.
    pub async fn close(self) -> Res<()> {
        let Some(id) = &self.session else {
            return Ok(());
        };
        let resp = self
            .client
            .delete(&self.url)
            .header("Mcp-Session-Id", id)
            .header("MCP-Protocol-Version", PROTOCOL_VERSION)
            .timeout(ANSWER_TIMEOUT)
            .send()
            .await?;
        if !resp.status().is_success() {
            return Err(format!("session DELETE answered {}", resp.status()).into());
        }
        Ok(())
    }
}

/// The stateless protocol revision: no `initialize`, no session; each request carries the
/// version and the client's description in `_meta`, and names its method (and tool) in headers.
pub const STATELESS_VERSION: &str = "2026-07-28";

/// One stateless (2026-07-28) request of `method` with `params` (their `_meta` added); returns
/// the JSON-RPC `result`, a JSON-RPC error fails. `tool` names the tool of a `tools/call`.
pub async fn stateless_request(
    client: &reqwest::Client,
    url: &str,
    id: u64,
    method: &str,
    mut params: Value,
) -> Res<Value> {
    params["_meta"] = json!({
        "io.modelcontextprotocol/protocolVersion": STATELESS_VERSION,
        "io.modelcontextprotocol/clientInfo": {"name": "proxmox-mcp-bench", "version": "0"},
        "io.modelcontextprotocol/clientCapabilities": {}
    });
    let mut req = client
        .post(url)
        .header(ACCEPT, "application/json, text/event-stream")
        .header(CONTENT_TYPE, "application/json")
        .header("MCP-Protocol-Version", STATELESS_VERSION)
        .header("Mcp-Method", method)
        .timeout(ANSWER_TIMEOUT);
    if let Some(tool) = params["name"].as_str().filter(|_| method == "tools/call") {
        req = req.header("Mcp-Name", tool);
    }
    let body = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
    let resp = req.body(body.to_string()).send().await?;
    if !resp.status().is_success() {
        return Err(format!("stateless {method} answered {}", resp.status()).into());
    }
    let raw = resp.bytes().await?;
    let mut answer = find_response(&raw, id)?;
    match answer.get_mut("result") {
        Some(result) => Ok(result.take()),
        None => Err(format!("{method} failed: {}", clip(&answer.to_string())).into()),
    }
}

/// The first 300 characters of `s`, for error messages.
pub fn clip(s: &str) -> String {
    s.chars().take(300).collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn finds_the_response_in_plain_json_and_in_sse_framing() {
        let plain = br#"{"jsonrpc":"2.0","id":7,"result":{}}"#;
        assert_eq!(find_response(plain, 7).unwrap()["id"], 7);
        let sse = b"id: 0\nretry: 3000\ndata: \n\nevent: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":7,\"result\":{\"x\":1}}\n\n";
        assert_eq!(find_response(sse, 7).unwrap()["result"]["x"], 1);
        assert!(find_response(sse, 8).is_err());
    }
}
