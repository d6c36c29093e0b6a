//! The MCP door's limits: the 1 MB body cap (413) on both transports, the cap on open sessions
//! (503, both transports counted together), idle sessions closed, and per-key rate limits on
//! `tools/call` (a tool error; `tools/list` is not counted; both transports share a key's
//! budget).

use std::collections::HashMap;
use std::time::Duration;

use proxmox_mcp::McpHttpConfig;
use proxmox_mcp::RateLimiter;
use reqwest::Method;
use rmcp::model::CallToolRequestParams;
use serde_json::{Value, json};

use crate::support::demo::Demo;
use crate::support::door::{Door, gate, init};
use crate::support::mcp::eventually;
use crate::support::rest::KEYS;

const MB: usize = 1024 * 1024;

async fn door(cfg: McpHttpConfig) -> Door {
    Door::start(Demo::start().await, cfg).await
}

/// `{"detail": {"kind": kind, ...}}` of an error answer.
fn kind(text: &str) -> String {
    let v: Value = serde_json::from_str(text).unwrap_or(Value::Null);
    v["detail"]["kind"].as_str().unwrap_or("").to_string()
}

#[tokio::test]
async fn bodies_over_one_megabyte_are_refused_on_both_transports() {
    let d = door(McpHttpConfig::default()).await;
    // Exactly 1 MB: read (an initialize padded with spaces).
    let text = init(1).to_string();
    let at_cap = format!("{text}{}", " ".repeat(MB - text.len()));
    let post = |body: String, url: String| {
        d.http
            .post(url)
            .header("accept", "application/json, text/event-stream")
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let resp = post(at_cap.clone(), d.url("/mcp")).await.unwrap();
    assert_eq!(resp.status(), 200);
    let over = format!("{at_cap} ");
    let resp = post(over.clone(), d.url("/mcp")).await.unwrap();
    assert_eq!(resp.status(), 413);
    let text = resp.text().await.unwrap();
    assert_eq!(kind(&text), "too_large", "{text}");
    assert!(text.contains("1 MB"), "{text}");
    // Legacy SSE: the same cap on the session's POST.
    let legacy = d.legacy("any").await;
    let resp = post(over, legacy.endpoint.clone()).await.unwrap();
    assert_eq!(resp.status(), 413);
    let ping = json!({"jsonrpc": "2.0", "id": 5, "method": "ping"}).to_string();
    let padded = format!("{ping}{}", " ".repeat(MB - ping.len()));
    assert_eq!(
        post(padded, legacy.endpoint.clone())
            .await
            .unwrap()
            .status(),
        202
    );
    // Without Content-Length (chunked), the cap holds too.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        (0..40).map(|_| Ok(vec![b' '; 64 * 1024])).collect();
    let resp = d
        .http
        .post(d.url("/proxmox/mcp"))
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(futures_util::stream::iter(
            chunks,
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 413);
    // The server still answers.
    assert_eq!(d.post("/mcp", None, None, &init(2)).await.0, 200);
}

#[tokio::test]
async fn new_sessions_over_the_cap_are_refused_with_503() {
    let d = door(McpHttpConfig {
        max_sessions: 2,
        ..McpHttpConfig::default()
    })
    .await;
    let legacy = d.legacy("any").await;
    let sid = d.session("any").await;
    // Both kinds of new session are refused, with a clear message.
    let (s, headers, text) = d.post("/proxmox/mcp", None, None, &init(1)).await;
    assert_eq!(s, 503, "{text}");
    assert_eq!(kind(&text), "too_many_sessions", "{text}");
    assert!(text.contains("max_sessions"), "{text}");
    assert!(headers.contains_key("retry-after"));
    let resp = d
        .http
        .get(d.url("/mcp"))
        .header("accept", "text/event-stream")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 503);
    // Open sessions still work.
    let ping = json!({"jsonrpc": "2.0", "id": 7, "method": "ping"});
    let (s, _, text) = d.post("/proxmox/mcp", None, Some(&sid), &ping).await;
    assert_eq!(s, 200, "{text}");
    assert_eq!(legacy.send(&ping, None).await, 202);
    // Ending a session frees its place.
    let resp = d
        .request(Method::DELETE, "/proxmox/mcp", None)
        .header("mcp-session-id", &sid)
        .header("mcp-protocol-version", "2025-06-18")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    eventually("a session can open again", async || {
        d.post("/proxmox/mcp", None, None, &init(3)).await.0 == 200
    })
    .await;
    // Now full again: the legacy GET is refused until the legacy stream goes away.
    let get = async || {
        d.http
            .get(d.url("/mcp"))
            .header("accept", "text/event-stream")
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    };
    assert_eq!(get().await, 503);
    drop(legacy);
    eventually("the legacy stream's place is free", async || {
        get().await == 200
    })
    .await;
}

#[tokio::test]
async fn idle_sessions_are_closed_on_both_transports() {
    let d = door(McpHttpConfig {
        session_idle_timeout: Duration::from_millis(300),
        sse_keep_alive: Duration::from_millis(50),
        ..McpHttpConfig::default()
    })
    .await;
    let mut legacy = d.legacy("any").await;
    let sid = d.session("any").await;
    // The legacy stream ends by itself (keep-alive comments until then).
    let ended = tokio::time::timeout(Duration::from_secs(20), async {
        while legacy.reader.next_item().await.is_some() {}
    })
    .await;
    assert!(ended.is_ok(), "the idle legacy stream was never closed");
    let ping = json!({"jsonrpc": "2.0", "id": 8, "method": "ping"});
    assert_eq!(legacy.send(&ping, None).await, 404);
    // The Streamable HTTP session is gone too: its id is unknown (404). Every request resets the
    // idle timer, so each try waits longer than the timeout first (a tight poll would keep the
    // session alive for ever).
    let mut status = 0;
    for _ in 0..40 {
        tokio::time::sleep(Duration::from_millis(500)).await;
        status = d.post("/proxmox/mcp", None, Some(&sid), &ping).await.0;
        if status == 404 {
            break;
        }
    }
    assert_eq!(
        status, 404,
        "the idle Streamable HTTP session is still open"
    );
}

#[tokio::test]
async fn tool_calls_are_rate_limited_per_key_across_both_transports() {
    let rate = RateLimiter::new(Some(2), HashMap::from([("admin".to_string(), 3)]));
    let d = door(McpHttpConfig {
        gate: gate(rate),
        ..McpHttpConfig::default()
    })
    .await;
    let (reader, operator) = (KEYS[0].2, KEYS[1].2);
    let client = d.client(reader).await;
    let call = || client.call_tool(CallToolRequestParams::new("get_nodes"));
    // Listing is not counted.
    for _ in 0..3 {
        client.list_all_tools().await.unwrap();
    }
    for _ in 0..2 {
        assert_eq!(call().await.unwrap().is_error, Some(false));
    }
    let r = call().await.unwrap();
    assert_eq!(r.is_error, Some(true));
    let text = &r.content[0].as_text().unwrap().text;
    assert!(
        text.contains("rate limit reached") && text.contains("2 calls per minute"),
        "{text}"
    );
    // The same key over legacy SSE: the budget is the key's, not the transport's.
    let mut legacy = d.legacy(reader).await;
    let v = legacy
        .request("tools/call", json!({"name": "get_nodes"}))
        .await;
    assert_eq!(v["result"]["isError"], true, "{v}");
    // Another key has its own budget.
    let other = d.client(operator).await;
    let r = other
        .call_tool(CallToolRequestParams::new("get_nodes"))
        .await
        .unwrap();
    assert_eq!(r.is_error, Some(false));
    // A wrong key is still a 401, not a rate refusal.
    let (s, _, _) = d.post("/mcp", Some("nope"), None, &init(1)).await;
    assert_eq!(s, 401);
}
