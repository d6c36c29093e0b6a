//! MCP sessions and keys: each key may hold a quota of open sessions (both transports counted
//! together; a client that opens and closes a session per call never runs out), and a session
//! belongs to the key that opened it (any other key gets 404 for its id, on both transports).

use proxmox_mcp::McpHttpConfig;
use proxmox_mcp::RateLimiter;
use reqwest::Method;
use serde_json::{Value, json};

use crate::support::demo::Demo;
use crate::support::door::{Door, gate, init};
use crate::support::mcp::eventually;
use crate::support::rest::KEYS;

async fn keyed(max_sessions: usize, per_key: usize) -> Door {
    let cfg = McpHttpConfig {
        gate: gate(RateLimiter::unlimited()),
        max_sessions,
        max_sessions_per_key: per_key,
        ..McpHttpConfig::default()
    };
    Door::start(Demo::start().await, cfg).await
}

/// Status of a legacy SSE `GET` with `key` (the stream is dropped at once).
async fn legacy_get(d: &Door, key: &str) -> (u16, String) {
    let resp = d
        .http
        .get(d.url("/mcp"))
        .header("accept", "text/event-stream")
        .bearer_auth(key)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let text = if status == 200 {
        String::new()
    } else {
        resp.text().await.unwrap()
    };
    (status, text)
}

async fn delete(d: &Door, key: &str, sid: &str) -> u16 {
    d.request(Method::DELETE, "/proxmox/mcp", Some(key))
        .header("mcp-session-id", sid)
        .header("mcp-protocol-version", "2025-06-18")
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn one_key_cannot_fill_the_session_cap() {
    let d = keyed(8, 3).await;
    let (reader, admin) = (KEYS[0].2, KEYS[2].2);
    let mut held = Vec::new();
    for _ in 0..2 {
        held.push(d.session(reader).await);
    }
    let stream = d.legacy(reader).await;
    // The reader's fourth session is refused, on both transports, with a message naming the quota.
    let (s, headers, text) = d.post("/proxmox/mcp", Some(reader), None, &init(1)).await;
    assert_eq!(s, 429, "{text}");
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["detail"]["kind"], "session_quota", "{v}");
    let msg = v["detail"]["message"].as_str().unwrap();
    assert!(
        msg.contains("reader") && msg.contains('3') && msg.contains("max_sessions_per_key"),
        "{msg}"
    );
    assert!(headers.contains_key("retry-after"));
    let (s, text) = legacy_get(&d, reader).await;
    assert_eq!(s, 429, "{text}");
    // Another key is not affected.
    let other = d.session(admin).await;
    assert_eq!(delete(&d, admin, &other).await, 204);
    // Closing a session frees a place: a client that opens and closes one per call (the
    // LangChain adapters) goes on for ever.
    assert_eq!(delete(&d, reader, &held.pop().unwrap()).await, 204);
    for _ in 0..10 {
        let sid = d.session(reader).await;
        assert_eq!(delete(&d, reader, &sid).await, 204);
    }
    drop(stream);
    eventually("the legacy stream's place is free", async || {
        d.post("/proxmox/mcp", Some(reader), None, &init(2)).await.0 == 200
    })
    .await;
}

#[tokio::test]
async fn sessions_belong_to_the_key_that_opened_them() {
    let d = keyed(16, 8).await;
    let (reader, operator) = (KEYS[0].2, KEYS[1].2);
    let sid = d.session(reader).await;
    let ping = json!({"jsonrpc": "2.0", "id": 5, "method": "ping"});
    // Another key: the session does not exist for it, whatever the method.
    let (s, _, text) = d
        .post("/proxmox/mcp", Some(operator), Some(&sid), &ping)
        .await;
    assert_eq!(s, 404, "{text}");
    assert_eq!(delete(&d, operator, &sid).await, 404);
    let resp = d
        .request(Method::GET, "/proxmox/mcp", Some(operator))
        .header("mcp-session-id", &sid)
        .header("mcp-protocol-version", "2025-06-18")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    // Its owner still has it.
    let (s, _, text) = d
        .post("/proxmox/mcp", Some(reader), Some(&sid), &ping)
        .await;
    assert_eq!(s, 200, "{text}");

    // Legacy SSE: another key cannot post into the session (its answers would go to the
    // owner's stream).
    let mut legacy = d.legacy(reader).await;
    let call = json!({"jsonrpc": "2.0", "id": 77, "method": "tools/call",
        "params": {"name": "start_vm", "arguments": {"vmid": 103}}});
    assert_eq!(legacy.send(&call, Some(operator)).await, 404);
    // The owner's own messages still go through.
    let names = legacy.tool_names().await;
    assert!(names.contains(&"get_vms".to_string()), "{names:?}");
    assert_eq!(d.demo.guest_status(103).as_deref(), Some("stopped"));
    assert_eq!(delete(&d, reader, &sid).await, 204);
}
