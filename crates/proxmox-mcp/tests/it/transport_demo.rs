//! The real tools through the MCP doors: an `App` over the embedded simulator (demo cluster),
//! served over Streamable HTTP and legacy SSE; `get_vms` and `start_vm 103` change what the
//! simulator holds, and progress notifications arrive while the start task runs.

use proxmox_mcp::McpHttpConfig;
use rmcp::ServiceExt;
use rmcp::transport::StreamableHttpClientTransport;
use serde_json::{Value, json};

use crate::support::demo::Demo;
use crate::support::mcp::post;
use crate::support::mcp::{
    LegacySseClient, Server, init_tls, messages_until_answer, open_legacy, start_with,
};
use crate::support::scenarios::real_tools_scenario;

/// The demo App served over HTTP; `time_scale` stretches simulated task durations (a VM start
/// takes 2-4 simulated seconds).
async fn start_demo(time_scale: f64) -> (Server, Demo) {
    init_tls();
    let demo = Demo::with(pve_sim::seed::demo(), time_scale).await;
    let server = start_with(demo.app.host().clone(), McpHttpConfig::default()).await;
    (server, demo)
}

#[tokio::test]
async fn real_tools_over_streamable_http() {
    let (server, demo) = start_demo(0.0).await;
    let transport = StreamableHttpClientTransport::from_uri(server.url("/proxmox/mcp"));
    let client = ().serve(transport).await.unwrap();
    real_tools_scenario(&client).await;
    assert_eq!(demo.guest_status(103).as_deref(), Some("running"));
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn real_tools_over_legacy_sse() {
    let (server, demo) = start_demo(0.0).await;
    let transport = LegacySseClient::connect(&server.url("/mcp")).await;
    let client = ().serve(transport).await.unwrap();
    real_tools_scenario(&client).await;
    assert_eq!(demo.guest_status(103).as_deref(), Some("running"));
    client.cancel().await.unwrap();
}

/// `msgs` hold at least one progress notification for `token`, all before the answer to `id`,
/// which reports the started VM.
fn check_start_progress(msgs: &[Value], id: i64, token: &Value) {
    let (answer, notes) = msgs.split_last().unwrap();
    assert_eq!(answer["id"], id, "{msgs:?}");
    assert_eq!(answer["result"]["isError"], false, "{answer}");
    assert_eq!(answer["result"]["structuredContent"]["task_status"], "done");
    let progress: Vec<&Value> = notes
        .iter()
        .filter(|m| m["method"] == "notifications/progress")
        .collect();
    assert!(!progress.is_empty(), "no progress: {msgs:?}");
    let mut last = -1.0;
    for p in progress {
        assert_eq!(&p["params"]["progressToken"], token);
        let v = p["params"]["progress"].as_f64().unwrap();
        assert!(v >= last, "progress goes up: {msgs:?}");
        last = v;
        assert!(p["params"]["message"].as_str().unwrap().contains("103"));
    }
}

#[tokio::test]
async fn start_vm_reports_progress_on_both_transports() {
    // A start takes 1-2 s here: the tool polls the task and reports progress meanwhile.
    let (server, demo) = start_demo(0.5).await;
    let http = reqwest::Client::new();

    // Streamable HTTP.
    let url = server.url("/proxmox/mcp");
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {},
        "clientInfo": {"name": "test", "version": "1"}}});
    let (status, hdrs, _) = post(&http, &url, &[], init.clone()).await;
    assert_eq!(status, 200);
    let session = hdrs["mcp-session-id"].to_str().unwrap().to_string();
    let h = [
        ("mcp-session-id", session.as_str()),
        ("mcp-protocol-version", "2025-06-18"),
    ];
    post(
        &http,
        &url,
        &h,
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
    )
    .await;
    let (status, _, msgs) = post(
        &http,
        &url,
        &h,
        json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {
            "name": "start_vm", "arguments": {"vmid": 103}, "_meta": {"progressToken": "s1"}}}),
    )
    .await;
    assert_eq!(status, 200);
    check_start_progress(&msgs, 2, &json!("s1"));

    // Legacy SSE: stop it, then start it again with a progress token.
    let (mut reader, endpoint) = open_legacy(&http, &server.url("/mcp")).await;
    let send = async |body: Value| {
        let resp = http.post(&endpoint).json(&body).send().await.unwrap();
        assert_eq!(resp.status(), 202);
    };
    send(init).await;
    messages_until_answer(&mut reader, 1).await;
    send(json!({"jsonrpc": "2.0", "method": "notifications/initialized"})).await;
    send(
        json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {
        "name": "stop_vm", "arguments": {"vmid": 103, "confirm": true}}}),
    )
    .await;
    let msgs = messages_until_answer(&mut reader, 2).await;
    assert_eq!(msgs.last().unwrap()["result"]["isError"], false, "{msgs:?}");
    send(
        json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {
        "name": "start_vm", "arguments": {"vmid": 103}, "_meta": {"progressToken": 7}}}),
    )
    .await;
    let msgs = messages_until_answer(&mut reader, 3).await;
    check_start_progress(&msgs, 3, &json!(7));
    assert_eq!(demo.guest_status(103).as_deref(), Some("running"));
}
