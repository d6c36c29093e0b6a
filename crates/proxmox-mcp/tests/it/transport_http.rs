//! MCP over Streamable HTTP (rmcp's client and raw requests): the whole session on both paths,
//! every protocol version, Host checks, progress notifications and session cleanup.

use proxmox_mcp::MCP_PATHS;
use proxmox_mcp::McpHttpConfig;
use rmcp::ServiceExt;
use rmcp::transport::StreamableHttpClientTransport;
use serde_json::{Value, json};

use crate::support::mcp::initialize;
use crate::support::mcp::{eventually, fixture_host, start, start_with};
use crate::support::mcp::{handshake, post};
use crate::support::scenarios::{check_progress, fixture_scenario};

#[tokio::test]
async fn rmcp_client_full_session_on_both_paths() {
    let server = start().await;
    for path in MCP_PATHS {
        let transport = StreamableHttpClientTransport::from_uri(server.url(path));
        let client = ().serve(transport).await.unwrap();
        fixture_scenario(&client).await;
        assert_eq!(server.mcp.streamable_session_count().await, 1, "{path}");
        client.cancel().await.unwrap();
        eventually("the Streamable session is closed", async || {
            server.mcp.streamable_session_count().await == 0
        })
        .await;
    }
}

#[tokio::test]
async fn initialize_with_every_protocol_version() {
    let server = start().await;
    let http = reqwest::Client::new();
    let url = server.url("/proxmox/mcp");
    // requested -> answered (2026-07-28 has no initialize: the newest version that has one).
    let cases = [
        ("2024-11-05", "2024-11-05"),
        ("2025-03-26", "2025-03-26"),
        ("2025-06-18", "2025-06-18"),
        ("2025-11-25", "2025-11-25"),
        ("2026-07-28", "2025-11-25"),
    ];
    for (asked, answered) in cases {
        let (session, result) = handshake(&http, &url, asked).await;
        assert_eq!(result["protocolVersion"], answered, "asked {asked}");
        assert_eq!(result["serverInfo"]["name"], "proxmox-mcp");
        let (status, _, msgs) = post(
            &http,
            &url,
            &[
                ("mcp-session-id", &session),
                ("mcp-protocol-version", answered),
            ],
            json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}),
        )
        .await;
        assert_eq!(status, 200, "tools/list after {asked}");
        assert_eq!(msgs[0]["result"]["tools"].as_array().unwrap().len(), 4);
    }
}

fn meta_2026() -> Value {
    json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientInfo": {"name": "test", "version": "1"},
        "io.modelcontextprotocol/clientCapabilities": {}
    })
}

#[tokio::test]
async fn protocol_2026_07_28_without_initialize() {
    let server = start().await;
    let http = reqwest::Client::new();
    let url = server.url("/mcp");
    // 2026-07-28 requests also name their method (and tool) in headers (SEP-2243).
    let v = ("mcp-protocol-version", "2026-07-28");

    let (status, _, msgs) = post(
        &http,
        &url,
        &[v, ("mcp-method", "server/discover")],
        json!({"jsonrpc": "2.0", "id": 1, "method": "server/discover", "params": {"_meta": meta_2026()}}),
    )
    .await;
    assert_eq!(status, 200, "{msgs:?}");
    let result = &msgs[0]["result"];
    assert!(
        result["supportedVersions"]
            .as_array()
            .unwrap()
            .contains(&json!("2026-07-28")),
        "{result}"
    );
    // 2026-07-28 carries serverInfo in `_meta`.
    let info = &result["_meta"]["io.modelcontextprotocol/serverInfo"];
    assert_eq!(info["name"], "proxmox-mcp", "{result}");
    assert_eq!(info["version"], env!("CARGO_PKG_VERSION"));
    assert!(
        result["instructions"]
            .as_str()
            .unwrap()
            .contains("Proxmox VE")
    );

    let (status, _, msgs) = post(
        &http,
        &url,
        &[v, ("mcp-method", "tools/list")],
        json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {"_meta": meta_2026()}}),
    )
    .await;
    assert_eq!(status, 200, "{msgs:?}");
    assert_eq!(msgs[0]["result"]["tools"].as_array().unwrap().len(), 4);

    let (status, _, msgs) = post(
        &http,
        &url,
        &[v, ("mcp-method", "tools/call"), ("mcp-name", "echo")],
        json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {
            "_meta": meta_2026(), "name": "echo", "arguments": {"text": "x"}}}),
    )
    .await;
    assert_eq!(status, 200, "{msgs:?}");
    assert_eq!(msgs[0]["result"]["structuredContent"], json!({"text": "x"}));
    assert_eq!(msgs[0]["result"]["resultType"], "complete");
    assert_eq!(server.mcp.streamable_session_count().await, 0);
}

#[tokio::test]
async fn progress_notifications_come_before_the_answer() {
    let server = start().await;
    let http = reqwest::Client::new();
    let url = server.url("/proxmox/mcp");
    let (session, _) = handshake(&http, &url, "2025-06-18").await;
    let (status, _, msgs) = post(
        &http,
        &url,
        &[
            ("mcp-session-id", &session),
            ("mcp-protocol-version", "2025-06-18"),
        ],
        json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {
            "name": "steps", "arguments": {"steps": 3}, "_meta": {"progressToken": "tok-1"}}}),
    )
    .await;
    assert_eq!(status, 200);
    check_progress(&msgs, 7, json!("tok-1"), 3);
}

#[tokio::test]
async fn host_and_origin_checks() {
    let server = start().await;
    let http = reqwest::Client::new();
    let url = server.url("/proxmox/mcp");
    let evil = format!("evil.example:{}", server.port);
    let (status, _, _) = post(&http, &url, &[("host", &evil)], initialize("2025-06-18")).await;
    assert_eq!(status, 403);
    let (status, _, _) = post(
        &http,
        &url,
        &[("host", "localhost")],
        initialize("2025-06-18"),
    )
    .await;
    assert_eq!(status, 200);

    // A server configured for its public name accepts it, and only it.
    let cfg = McpHttpConfig {
        allowed_hosts: vec!["pve-mcp.lan".into()],
        allowed_origins: vec!["https://n8n.lan".into()],
        ..McpHttpConfig::default()
    };
    let server = start_with(fixture_host(), cfg).await;
    let url = server.url("/mcp");
    let good = format!("pve-mcp.lan:{}", server.port);
    let cases: &[(&[(&str, &str)], u16)] = &[
        (&[("host", &good)], 200),
        (&[("host", &good), ("origin", "https://n8n.lan")], 200),
        (&[("host", &good), ("origin", "https://evil.example")], 403),
        (&[], 403), // Host: 127.0.0.1:port is not in the list
    ];
    for (headers, want) in cases {
        let (status, _, _) = post(&http, &url, headers, initialize("2025-06-18")).await;
        assert_eq!(status, *want, "{headers:?}");
    }
}
