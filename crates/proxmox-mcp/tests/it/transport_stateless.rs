//! Stateless Streamable HTTP (`[server] stateless`): every protocol revision served without
//! `Mcp-Session-Id`, each POST answered in its own response (so one replica may answer what
//! another saw the handshake of), the Streamable HTTP GET and DELETE refused with 405, legacy
//! SSE sessions still opened, and the setting read from flags, environment and file.

use std::collections::HashMap;
use std::time::Duration;

use proxmox_mcp::{McpHttpConfig, Overrides, Settings};
use rmcp::ServiceExt;
use rmcp::transport::StreamableHttpClientTransport;
use serde_json::json;

use crate::support::mcp::{
    Server, fixture_host, initialize, messages_until_answer, open_legacy, post, start_with,
};
use crate::support::process::temp_file;
use crate::support::scenarios::{check_progress, fixture_scenario};

async fn stateless() -> Server {
    let cfg = McpHttpConfig {
        sse_keep_alive: Duration::from_millis(100),
        stateless: true,
        ..McpHttpConfig::default()
    };
    start_with(fixture_host(), cfg).await
}

#[tokio::test]
async fn every_session_revision_is_served_without_a_session_by_any_replica() {
    // Two replicas: the handshake goes to one, every later request to the other.
    let (a, b) = (stateless().await, stateless().await);
    let http = reqwest::Client::new();
    for version in ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"] {
        let (status, hdrs, msgs) =
            post(&http, &a.url("/proxmox/mcp"), &[], initialize(version)).await;
        assert_eq!(status, 200, "initialize {version}: {msgs:?}");
        assert!(
            !hdrs.contains_key("mcp-session-id"),
            "{version}: a session id was issued"
        );
        assert_eq!(msgs.last().unwrap()["result"]["protocolVersion"], version);
        let url = b.url("/proxmox/mcp");
        let v = ("mcp-protocol-version", version);
        let (status, _, _) = post(
            &http,
            &url,
            &[v],
            json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
        )
        .await;
        assert_eq!(status, 202, "{version}");
        let (status, hdrs, msgs) = post(
            &http,
            &url,
            &[v],
            json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}),
        )
        .await;
        assert_eq!(status, 200, "tools/list {version}: {msgs:?}");
        assert!(!hdrs.contains_key("mcp-session-id"));
        assert_eq!(msgs[0]["result"]["tools"].as_array().unwrap().len(), 4);
        // Progress of a call rides in that call's own answer.
        let (status, _, msgs) = post(
            &http,
            &url,
            &[v],
            json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {
                "name": "steps", "arguments": {"steps": 3}, "_meta": {"progressToken": "p"}}}),
        )
        .await;
        assert_eq!(status, 200, "{version}");
        check_progress(&msgs, 7, json!("p"), 3);
    }
    assert_eq!(a.mcp.streamable_session_count().await, 0);
    assert_eq!(b.mcp.streamable_session_count().await, 0);
}

#[tokio::test]
async fn rmcp_client_runs_its_whole_scenario_without_a_session() {
    let server = stateless().await;
    let transport = StreamableHttpClientTransport::from_uri(server.url("/mcp"));
    let client = ().serve(transport).await.unwrap();
    fixture_scenario(&client).await;
    assert_eq!(server.mcp.streamable_session_count().await, 0);
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn streamable_get_and_delete_answer_405_while_legacy_sse_still_opens() {
    let server = stateless().await;
    let http = reqwest::Client::new();
    let url = server.url("/proxmox/mcp");
    for header in [
        ("mcp-protocol-version", "2025-06-18"),
        ("last-event-id", "0"),
    ] {
        let resp = http
            .get(&url)
            .header("accept", "text/event-stream")
            .header(header.0, header.1)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 405, "GET with {}", header.0);
        let allow = resp.headers()["allow"].to_str().unwrap().to_string();
        assert_eq!(allow, "POST");
    }
    let resp = http
        .delete(&url)
        .header("mcp-protocol-version", "2025-06-18")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 405);
    assert_eq!(server.mcp.sse_session_count(), 0);

    // A GET before any negotiation opens a legacy session, which answers on its stream.
    let (mut reader, endpoint) = open_legacy(&http, &url).await;
    assert_eq!(server.mcp.sse_session_count(), 1);
    let resp = http
        .post(&endpoint)
        .json(&initialize("2024-11-05"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 202);
    let msgs = messages_until_answer(&mut reader, 1).await;
    assert_eq!(
        msgs.last().unwrap()["result"]["serverInfo"]["name"],
        "proxmox-mcp"
    );
}

#[tokio::test]
async fn revision_2026_07_28_stays_stateless_in_stateless_mode() {
    let server = stateless().await;
    let http = reqwest::Client::new();
    let meta = json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientInfo": {"name": "test", "version": "1"},
        "io.modelcontextprotocol/clientCapabilities": {}
    });
    let (status, hdrs, msgs) = post(
        &http,
        &server.url("/mcp"),
        &[
            ("mcp-protocol-version", "2026-07-28"),
            ("mcp-method", "server/discover"),
        ],
        json!({"jsonrpc": "2.0", "id": 1, "method": "server/discover", "params": {"_meta": meta}}),
    )
    .await;
    assert_eq!(status, 200, "{msgs:?}");
    assert!(!hdrs.contains_key("mcp-session-id"));
    let versions = msgs[0]["result"]["supportedVersions"].as_array().unwrap();
    assert!(versions.contains(&json!("2026-07-28")), "{msgs:?}");
}

#[test]
fn stateless_is_read_from_flag_environment_and_file() {
    let resolve = |flag: bool, env: &[(&str, &str)], file: Option<&str>| {
        let file = file.map(|text| temp_file("stateless.toml", text));
        let flags = Overrides {
            demo: true,
            stateless: flag,
            config: file.as_ref().map(|f| f.path.clone()),
            ..Overrides::default()
        };
        let env: HashMap<String, String> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::resolve(&flags, &env).map(|s| s.stateless)
    };
    assert!(!resolve(false, &[], None).unwrap());
    assert!(resolve(true, &[], None).unwrap());
    assert!(resolve(false, &[("PROXMOX_MCP_STATELESS", "true")], None).unwrap());
    let file = "[server]\nstateless = true\n";
    assert!(resolve(false, &[], Some(file)).unwrap());
    // The environment wins over the file.
    assert!(!resolve(false, &[("PROXMOX_MCP_STATELESS", "0")], Some(file)).unwrap());
    let err = resolve(false, &[("PROXMOX_MCP_STATELESS", "maybe")], None).unwrap_err();
    assert!(err.to_string().contains("PROXMOX_MCP_STATELESS"), "{err}");
}
