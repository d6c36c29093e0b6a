//! MCP over Streamable HTTP (rmcp's client and raw requests): the whole session on both paths,
//! every protocol version, Host checks, progress notifications and session cleanup.

use proxmox_mcp::MCP_PATHS;
use proxmox_mcp::McpHttpConfig;
use reqwest::header::HeaderMap;
use rmcp::ServiceExt;
use rmcp::model::{CallToolRequestParams, ErrorCode};
use rmcp::transport::StreamableHttpClientTransport;
use serde_json::{Value, json};

use super::transport_support::{SseReader, eventually, fixture_host, start, start_with};

/// What every transport must do with the fixture tools: identify as us, list the tools with
/// their annotations and schemas, answer calls, report tool errors as `isError`, refuse unknown
/// tools with -32602.
pub async fn fixture_scenario<S: rmcp::Service<rmcp::RoleClient>>(
    client: &rmcp::service::RunningService<rmcp::RoleClient, S>,
) {
    let info = client.peer_info().expect("server info after initialize");
    let server = info.server_info.as_ref().expect("serverInfo");
    assert_eq!(server.name, "proxmox-mcp");
    assert_eq!(server.version, env!("CARGO_PKG_VERSION"));
    assert!(info.capabilities.tools.is_some());
    assert!(
        info.instructions
            .as_deref()
            .unwrap_or("")
            .contains("Proxmox VE")
    );

    let tools = client.list_all_tools().await.unwrap();
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    assert_eq!(names, ["echo", "steps", "fail", "wait_cancel"]);
    // name, readOnly, destructive, idempotent
    let want = [
        ("echo", true, false, true),
        ("steps", false, false, true),
        ("fail", false, true, false),
        ("wait_cancel", false, false, false),
    ];
    for (tool, (name, ro, destructive, idempotent)) in tools.iter().zip(want) {
        let a = tool.annotations.as_ref().expect("annotations");
        assert_eq!(
            (
                a.read_only_hint,
                a.destructive_hint,
                a.idempotent_hint,
                a.open_world_hint
            ),
            (Some(ro), Some(destructive), Some(idempotent), Some(false)),
            "annotations of {name}"
        );
        assert_eq!(tool.title.as_deref(), Some("Fixture tool"));
        assert_eq!(
            tool.input_schema["type"], "object",
            "input schema of {name}"
        );
        let out = tool.output_schema.as_ref().expect("output schema");
        assert_eq!(out["type"], "object", "output schema of {name}");
    }
    let echo = &tools[0];
    assert_eq!(echo.input_schema["properties"]["text"]["type"], "string");
    assert_eq!(echo.input_schema["required"], json!(["text"]));

    let mut args = serde_json::Map::new();
    args.insert("text".into(), json!("héllo"));
    let r = client
        .call_tool(CallToolRequestParams::new("echo").with_arguments(args))
        .await
        .unwrap();
    assert_eq!(r.is_error, Some(false));
    assert_eq!(r.structured_content, Some(json!({"text": "héllo"})));
    let text = &r.content[0].as_text().expect("one text block").text;
    assert_eq!(text, r#"{"text":"héllo"}"#);

    let r = client
        .call_tool(CallToolRequestParams::new("fail"))
        .await
        .unwrap();
    assert_eq!(r.is_error, Some(true));
    assert_eq!(r.structured_content, None);
    let text = &r.content[0].as_text().expect("one text block").text;
    assert_eq!(text, "Proxmox VE error: VM 999 does not exist");

    // Bad arguments are a tool error naming the parameter, not a protocol error.
    let r = client
        .call_tool(CallToolRequestParams::new("echo"))
        .await
        .unwrap();
    assert_eq!(r.is_error, Some(true));
    assert!(r.content[0].as_text().unwrap().text.contains("text"));

    match client.call_tool(CallToolRequestParams::new("nope")).await {
        Err(rmcp::ServiceError::McpError(e)) => {
            assert_eq!(e.code, ErrorCode::INVALID_PARAMS);
            assert!(e.message.contains("nope"));
        }
        other => panic!("unknown tool gave {other:?}"),
    }
}

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

/// Sends one JSON-RPC POST and returns the status, headers and the JSON messages of the answer
/// (a JSON body or an event stream).
pub async fn post(
    http: &reqwest::Client,
    url: &str,
    headers: &[(&str, &str)],
    body: Value,
) -> (u16, HeaderMap, Vec<Value>) {
    let mut req = http
        .post(url)
        .header("accept", "application/json, text/event-stream")
        .json(&body);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let hdrs = resp.headers().clone();
    let ctype = hdrs
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let msgs = if ctype.starts_with("text/event-stream") {
        let mut reader = SseReader::new(resp);
        let mut out = Vec::new();
        while let Some((_, data)) = reader.next_event().await {
            if let Ok(v) = serde_json::from_str::<Value>(&data) {
                let done = v.get("result").is_some() || v.get("error").is_some();
                out.push(v);
                if done {
                    break;
                }
            }
        }
        out
    } else if ctype.starts_with("application/json") {
        vec![resp.json().await.unwrap()]
    } else {
        vec![Value::String(resp.text().await.unwrap())]
    };
    (status, hdrs, msgs)
}

fn initialize(version: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": version, "capabilities": {},
        "clientInfo": {"name": "test", "version": "1"}}})
}

/// Runs initialize + initialized over Streamable HTTP; returns the session id and the result.
pub async fn handshake(http: &reqwest::Client, url: &str, version: &str) -> (String, Value) {
    let (status, hdrs, msgs) = post(http, url, &[], initialize(version)).await;
    assert_eq!(status, 200, "initialize {version}");
    let session = hdrs["mcp-session-id"].to_str().unwrap().to_string();
    let result = msgs.last().unwrap()["result"].clone();
    let negotiated = result["protocolVersion"].as_str().unwrap().to_string();
    let (status, _, _) = post(
        http,
        url,
        &[
            ("mcp-session-id", &session),
            ("mcp-protocol-version", &negotiated),
        ],
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
    )
    .await;
    assert_eq!(status, 202);
    (session, result)
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

/// `msgs` are three progress notifications for `token` (1/3, 2/3, 3/3), then the answer to `id`.
pub fn check_progress(msgs: &[Value], id: i64, token: Value, steps: u32) {
    let progress: Vec<&Value> = msgs
        .iter()
        .filter(|m| m["method"] == "notifications/progress")
        .collect();
    assert_eq!(progress.len(), steps as usize, "{msgs:?}");
    for (i, p) in progress.iter().enumerate() {
        assert_eq!(p["params"]["progressToken"], token);
        assert_eq!(p["params"]["progress"], json!(i as f64 + 1.0));
        assert_eq!(p["params"]["total"], json!(f64::from(steps)));
        assert_eq!(p["params"]["message"], json!(format!("step {}", i + 1)));
    }
    let last = msgs.last().unwrap();
    assert_eq!(last["id"], id, "the answer comes last: {msgs:?}");
    assert_eq!(last["result"]["structuredContent"], json!({"done": steps}));
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
