//! Legacy SSE sessions answer without an rmcp service each: their answers must be the ones an
//! rmcp service gives (compared with Streamable HTTP, message by message), `notifications/cancelled`
//! must stop the call it names, and requests before `initialize` get rmcp's answer.

use serde_json::{Value, json};

use crate::support::mcp::post;
use crate::support::mcp::{
    WAIT_CANCEL_ENDED, eventually, messages_until_answer, open_legacy, start,
};

fn initialize(version: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": version, "capabilities": {},
        "clientInfo": {"name": "test", "version": "1"}}})
}

/// Requests answered by the legacy module itself (initialize, ping, tools/list, tools/call)
/// and by a one-message rmcp service (the others).
fn requests() -> Vec<Value> {
    vec![
        json!({"jsonrpc": "2.0", "id": 2, "method": "ping"}),
        json!({"jsonrpc": "2.0", "id": 3, "method": "tools/list"}),
        json!({"jsonrpc": "2.0", "id": 4, "method": "tools/call",
            "params": {"name": "echo", "arguments": {"text": "héllo \"x\"\n"}}}),
        json!({"jsonrpc": "2.0", "id": 5, "method": "tools/call", "params": {"name": "fail"}}),
        json!({"jsonrpc": "2.0", "id": 6, "method": "tools/call", "params": {"name": "nope"}}),
        json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call",
            "params": {"name": "echo", "arguments": {"txt": 1}}}),
        json!({"jsonrpc": "2.0", "id": 8, "method": "prompts/list"}),
        json!({"jsonrpc": "2.0", "id": 9, "method": "resources/list"}),
        json!({"jsonrpc": "2.0", "id": 10, "method": "logging/setLevel",
            "params": {"level": "info"}}),
        json!({"jsonrpc": "2.0", "id": 11, "method": "no/such/method"}),
        json!({"jsonrpc": "2.0", "id": 12, "method": "tools/call",
            "params": {"name": "steps", "arguments": {"steps": 2},
                "_meta": {"progressToken": "t"}}}),
    ]
}

#[tokio::test]
async fn legacy_answers_are_the_ones_rmcp_gives() {
    let server = start().await;
    let http = reqwest::Client::new();
    for version in ["2024-11-05", "2025-06-18", "2025-11-25"] {
        // Streamable HTTP: an rmcp service per session.
        let url = server.url("/mcp");
        let (status, hdrs, msgs) = post(&http, &url, &[], initialize(version)).await;
        assert_eq!(status, 200);
        let session = hdrs["mcp-session-id"].to_str().unwrap().to_string();
        let headers = [
            ("mcp-session-id", session.as_str()),
            ("mcp-protocol-version", version),
        ];
        let mut expected = vec![msgs.last().unwrap().clone()];
        let initialized = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
        assert_eq!(
            post(&http, &url, &headers, initialized.clone()).await.0,
            202
        );
        for request in requests() {
            let (_, _, msgs) = post(&http, &url, &headers, request).await;
            expected.extend(msgs);
        }

        // Legacy SSE, same messages.
        let (mut reader, endpoint) = open_legacy(&http, &url).await;
        let mut got = Vec::new();
        let resp = http.post(&endpoint).json(&initialize(version)).send().await;
        assert_eq!(resp.unwrap().status(), 202);
        got.extend(messages_until_answer(&mut reader, 1).await);
        let resp = http.post(&endpoint).json(&initialized).send().await;
        assert_eq!(resp.unwrap().status(), 202);
        for request in requests() {
            let id = request["id"].as_i64().unwrap();
            let resp = http.post(&endpoint).json(&request).send().await.unwrap();
            assert_eq!(resp.status(), 202);
            got.extend(messages_until_answer(&mut reader, id).await);
        }
        assert_eq!(got.len(), expected.len(), "{version}: {got:#?}");
        for (g, e) in got.iter().zip(&expected) {
            assert_eq!(g, e, "{version}");
        }
        assert!(
            got.iter().any(|m| m["method"] == "notifications/progress"),
            "{got:#?}"
        );
    }
}

#[tokio::test]
async fn cancelled_notification_stops_the_call() {
    let server = start().await;
    let http = reqwest::Client::new();
    let (mut reader, endpoint) = open_legacy(&http, &server.url("/proxmox/mcp")).await;
    http.post(&endpoint)
        .json(&initialize("2024-11-05"))
        .send()
        .await
        .unwrap();
    messages_until_answer(&mut reader, 1).await;
    let before = WAIT_CANCEL_ENDED.load(std::sync::atomic::Ordering::SeqCst);
    let call = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
        "params": {"name": "wait_cancel"}});
    let resp = http.post(&endpoint).json(&call).send().await.unwrap();
    assert_eq!(resp.status(), 202);
    let cancel = json!({"jsonrpc": "2.0", "method": "notifications/cancelled",
        "params": {"requestId": 2, "reason": "changed my mind"}});
    let resp = http.post(&endpoint).json(&cancel).send().await.unwrap();
    assert_eq!(resp.status(), 202);
    eventually("the call is cancelled", async || {
        WAIT_CANCEL_ENDED.load(std::sync::atomic::Ordering::SeqCst) > before
    })
    .await;
    // The session goes on, and the cancelled call got no answer.
    let ping = json!({"jsonrpc": "2.0", "id": 3, "method": "ping"});
    http.post(&endpoint).json(&ping).send().await.unwrap();
    let msgs = messages_until_answer(&mut reader, 3).await;
    assert!(msgs.iter().all(|m| m["id"] != 2), "{msgs:?}");
    assert_eq!(server.mcp.sse_session_count(), 1);
}

#[tokio::test]
async fn requests_before_initialize_are_answered_as_rmcp_does() {
    let server = start().await;
    let http = reqwest::Client::new();
    let (mut reader, endpoint) = open_legacy(&http, &server.url("/mcp")).await;
    let send = async |body: Value| {
        let resp = http.post(&endpoint).json(&body).send().await.unwrap();
        assert_eq!(resp.status(), 202);
    };
    // A ping is fine before initialize.
    send(json!({"jsonrpc": "2.0", "id": 1, "method": "ping"})).await;
    let msgs = messages_until_answer(&mut reader, 1).await;
    assert_eq!(msgs.last().unwrap()["result"], json!({}));
    // tools/list is not: without initialize, rmcp wants the 2026-07-28 request metadata.
    send(json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"})).await;
    let msgs = messages_until_answer(&mut reader, 2).await;
    let error = &msgs.last().unwrap()["error"];
    assert_eq!(error["code"], -32602, "{error}");
    assert!(
        error["message"].as_str().unwrap().contains("_meta"),
        "{error}"
    );
    // The session goes on.
    send(initialize("2025-06-18")).await;
    let msgs = messages_until_answer(&mut reader, 1).await;
    assert_eq!(
        msgs.last().unwrap()["result"]["protocolVersion"],
        "2025-06-18"
    );
    send(json!({"jsonrpc": "2.0", "id": 3, "method": "tools/list"})).await;
    let msgs = messages_until_answer(&mut reader, 3).await;
    assert_eq!(
        msgs.last().unwrap()["result"]["tools"]
            .as_array()
            .unwrap()
            .len(),
        4
    );
    assert_eq!(server.mcp.sse_session_count(), 1);
}
