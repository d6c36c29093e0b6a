//! MCP over legacy HTTP+SSE (2024-11-05): what `curl -N` sees, the whole session with rmcp's
//! client on both paths, every protocol version, unknown sessions, Host checks, progress, and
//! cleanup when clients go away.

use proxmox_mcp::MCP_PATHS;
use rmcp::ServiceExt;
use rmcp::transport::StreamableHttpClientTransport;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::mcp::{
    LegacySseClient, SseItem, WAIT_CANCEL_ENDED, eventually, messages_until_answer, open_legacy,
    start,
};
use crate::support::scenarios::{check_progress, fixture_scenario};

/// A raw HTTP/1.1 GET as `curl -N` sends it; returns everything read until `until` shows up.
async fn curl_n(port: u16, path: &str, until: &str) -> String {
    let mut sock = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    let req = format!(
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n\r\n"
    );
    sock.write_all(req.as_bytes()).await.unwrap();
    let mut seen = String::new();
    let mut buf = [0u8; 4096];
    while !seen.contains(until) {
        let n = sock.read(&mut buf).await.unwrap();
        assert!(n > 0, "connection closed; got {seen:?}");
        seen.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    seen
}

#[tokio::test]
async fn curl_get_stays_open_with_endpoint_and_keep_alive() {
    let server = start().await;
    for path in MCP_PATHS {
        // Read past the endpoint event up to a keep-alive comment: the stream stayed open.
        let seen = curl_n(server.port, path, ": keep-alive").await;
        let (head, body) = seen.split_once("\r\n\r\n").unwrap();
        let head = head.to_ascii_lowercase();
        assert!(head.starts_with("http/1.1 200"), "{head}");
        assert!(head.contains("content-type: text/event-stream"), "{head}");
        assert!(head.contains("cache-control: no-cache"), "{head}");
        assert!(head.contains("x-accel-buffering: no"), "{head}");
        assert!(!head.contains("content-encoding"), "{head}");
        let prefix = format!("event: endpoint\r\ndata: {path}?sessionId=sse-");
        let prefix_lf = format!("event: endpoint\ndata: {path}?sessionId=sse-");
        assert!(
            body.contains(&prefix) || body.contains(&prefix_lf),
            "{body:?}"
        );
    }
}

#[tokio::test]
async fn rmcp_client_full_session_on_both_paths() {
    let server = start().await;
    for path in MCP_PATHS {
        let transport = LegacySseClient::connect(&server.url(path)).await;
        let client = ().serve(transport).await.unwrap();
        fixture_scenario(&client).await;
        assert_eq!(server.mcp.sse_session_count(), 1);
        client.cancel().await.unwrap();
        eventually("the legacy session is closed", async || {
            server.mcp.sse_session_count() == 0
        })
        .await;
    }
}

#[tokio::test]
async fn every_protocol_version_over_legacy_sse() {
    let server = start().await;
    let http = reqwest::Client::new();
    let cases = [
        ("2024-11-05", "2024-11-05"),
        ("2025-03-26", "2025-03-26"),
        ("2025-06-18", "2025-06-18"),
        ("2025-11-25", "2025-11-25"),
        ("2026-07-28", "2025-11-25"),
    ];
    for (asked, answered) in cases {
        let (mut reader, endpoint) = open_legacy(&http, &server.url("/proxmox/mcp")).await;
        let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": asked, "capabilities": {},
            "clientInfo": {"name": "test", "version": "1"}}});
        let resp = http.post(&endpoint).json(&init).send().await.unwrap();
        assert_eq!(resp.status(), 202);
        let msgs = messages_until_answer(&mut reader, 1).await;
        let result = &msgs.last().unwrap()["result"];
        assert_eq!(result["protocolVersion"], answered, "asked {asked}");
        assert_eq!(result["serverInfo"]["name"], "proxmox-mcp");
        let list = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"});
        let resp = http.post(&endpoint).json(&list).send().await.unwrap();
        assert_eq!(resp.status(), 202);
        let msgs = messages_until_answer(&mut reader, 2).await;
        assert_eq!(
            msgs.last().unwrap()["result"]["tools"]
                .as_array()
                .unwrap()
                .len(),
            4
        );
    }
}

#[tokio::test]
async fn progress_over_legacy_sse() {
    let server = start().await;
    let http = reqwest::Client::new();
    let (mut reader, endpoint) = open_legacy(&http, &server.url("/mcp")).await;
    let send = async |body: serde_json::Value| {
        let resp = http.post(&endpoint).json(&body).send().await.unwrap();
        assert_eq!(resp.status(), 202);
    };
    send(
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2024-11-05", "capabilities": {},
        "clientInfo": {"name": "test", "version": "1"}}}),
    )
    .await;
    messages_until_answer(&mut reader, 1).await;
    send(json!({"jsonrpc": "2.0", "method": "notifications/initialized"})).await;
    send(
        json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {
        "name": "steps", "arguments": {"steps": 3}, "_meta": {"progressToken": 42}}}),
    )
    .await;
    let msgs = messages_until_answer(&mut reader, 2).await;
    check_progress(&msgs, 2, json!(42), 3);
}

#[tokio::test]
async fn unknown_or_malformed_posts() {
    let server = start().await;
    let http = reqwest::Client::new();
    let url = server.url("/proxmox/mcp");
    let msg = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"});
    for id in ["sse-00000000000000000000000000000000", "nope", ""] {
        let resp = http
            .post(format!("{url}?sessionId={id}"))
            .json(&msg)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 404, "sessionId={id:?}");
    }
    let (_reader, endpoint) = open_legacy(&http, &url).await;
    let resp = http
        .post(&endpoint)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
}

#[tokio::test]
async fn legacy_branch_checks_host() {
    let server = start().await;
    let http = reqwest::Client::new();
    let url = server.url("/proxmox/mcp");
    let evil = format!("evil.example:{}", server.port);
    let resp = http.get(&url).header("host", &evil).send().await.unwrap();
    assert_eq!(resp.status(), 403);
    assert_eq!(server.mcp.sse_session_count(), 0);

    let (_reader, endpoint) = open_legacy(&http, &url).await;
    let msg = json!({"jsonrpc": "2.0", "id": 1, "method": "ping"});
    let resp = http
        .post(&endpoint)
        .header("host", &evil)
        .json(&msg)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
}

#[tokio::test]
async fn disconnected_clients_are_cleaned_up() {
    let server = start().await;
    let http = reqwest::Client::new();
    let url = server.url("/proxmox/mcp");

    // Three idle sessions, then their clients go away.
    let mut readers = Vec::new();
    for _ in 0..3 {
        readers.push(open_legacy(&http, &url).await);
    }
    assert_eq!(server.mcp.sse_session_count(), 3);
    drop(readers);
    eventually("idle sessions are dropped", async || {
        server.mcp.sse_session_count() == 0
    })
    .await;

    // A client that goes away in the middle of a call that waits for cancellation.
    let (mut reader, endpoint) = open_legacy(&http, &url).await;
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2024-11-05", "capabilities": {},
        "clientInfo": {"name": "test", "version": "1"}}});
    http.post(&endpoint).json(&init).send().await.unwrap();
    messages_until_answer(&mut reader, 1).await;
    let call = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
        "params": {"name": "wait_cancel"}});
    let resp = http.post(&endpoint).json(&call).send().await.unwrap();
    assert_eq!(resp.status(), 202);
    // Keep reading until a keep-alive shows the server is idle-waiting on the call.
    loop {
        match reader.next_item().await {
            Some(SseItem::Comment(_)) => break,
            Some(_) => {}
            None => panic!("the stream ended during the call"),
        }
    }
    drop(reader);
    eventually("the session with a call in flight is dropped", async || {
        server.mcp.sse_session_count() == 0
    })
    .await;
    eventually("the call in flight is cancelled", async || {
        WAIT_CANCEL_ENDED.load(std::sync::atomic::Ordering::SeqCst) >= 1
    })
    .await;
    let resp = http.post(&endpoint).json(&call).send().await.unwrap();
    assert_eq!(resp.status(), 404, "the old session is gone");

    // The server still serves new clients.
    let client = ().serve(LegacySseClient::connect(&url).await).await.unwrap();
    fixture_scenario(&client).await;
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn shutdown_ends_open_streams_and_drains() {
    let server = start().await;
    let http = reqwest::Client::new();
    let (mut legacy, _) = open_legacy(&http, &server.url("/proxmox/mcp")).await;
    let streamable =
        ().serve(StreamableHttpClientTransport::from_uri(server.url("/mcp")))
            .await
            .unwrap();
    assert_eq!(server.mcp.sse_session_count(), 1);
    assert_eq!(server.mcp.streamable_session_count().await, 1);
    let mcp = server.mcp.clone();
    // Returns only once every connection is closed, open event streams included.
    server.stop().await.unwrap();
    while let Some(item) = legacy.next_item().await {
        assert!(matches!(item, SseItem::Comment(_)), "{item:?}");
    }
    assert_eq!(mcp.sse_session_count(), 0);
    drop(streamable);
}
