//! The MCP logging capability: after `logging/setLevel` (or with the level in a 2026-07-28
//! request's `_meta`), the log lines of the Proxmox VE tasks a call waits for arrive as
//! `notifications/message` at `info`, before the answer, in the task log's order; without a level
//! (or above `info`), none. Over Streamable HTTP (the rmcp client) and legacy SSE (raw).
// rmcp marks the logging types deprecated (later revisions drop them); the session revisions
// still define them.
#![allow(deprecated)]

use std::sync::{Arc, Mutex};

use proxmox_mcp::McpHttpConfig;
use rmcp::model::{CallToolRequestParams, LoggingLevel, SetLevelRequestParams};
use rmcp::service::{NotificationContext, RunningService};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::{ClientHandler, RoleClient, ServiceExt};
use serde_json::{Value, json};

use crate::support::demo::Demo;
use crate::support::mcp::{Server, open_legacy, start_with};

/// A client keeping the log messages it gets.
#[derive(Clone, Default)]
struct Listener(Arc<Mutex<Vec<Value>>>);

impl ClientHandler for Listener {
    async fn on_logging_message(
        &self,
        params: rmcp::model::LoggingMessageNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        assert_eq!(params.level, LoggingLevel::Info);
        assert_eq!(params.logger.as_deref(), Some("proxmox-ve"));
        self.0.lock().unwrap().push(params.data);
    }
}

async fn backup(client: &RunningService<RoleClient, Listener>) -> Value {
    let Value::Object(args) = json!({"vmid": 100, "storage": "nfs-backup"}) else {
        unreachable!()
    };
    let r = client
        .call_tool(CallToolRequestParams::new("create_backup").with_arguments(args))
        .await
        .unwrap();
    assert_eq!(r.is_error, Some(false), "{r:?}");
    r.structured_content.unwrap()
}

/// The task's log as get_task reads it.
async fn task_log(demo: &Demo, upid: &str) -> Vec<String> {
    let t = demo
        .call("get_task", json!({"upid": upid, "log_lines": 500}))
        .await
        .unwrap();
    t["log"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap().to_string())
        .collect()
}

async fn connect(server: &Server, l: &Listener) -> RunningService<RoleClient, Listener> {
    let transport = StreamableHttpClientTransport::from_uri(server.url("/proxmox/mcp"));
    l.clone().serve(transport).await.unwrap()
}

#[tokio::test]
async fn task_log_lines_follow_the_session_level() {
    let demo = Demo::start().await;
    let server = start_with(demo.app.host().clone(), McpHttpConfig::default()).await;
    let quiet = Listener::default();
    let client = connect(&server, &quiet).await;
    assert!(client.peer_info().unwrap().capabilities.logging.is_some());
    backup(&client).await;
    assert!(quiet.0.lock().unwrap().is_empty(), "no level set: no log");

    client
        .set_level(SetLevelRequestParams::new(LoggingLevel::Info))
        .await
        .unwrap();
    let out = backup(&client).await;
    let upid = out["upid"].as_str().unwrap();
    let got: Vec<Value> = quiet.0.lock().unwrap().drain(..).collect();
    assert!(got.iter().all(|d| d["upid"] == upid), "{got:?}");
    let lines: Vec<String> = got
        .iter()
        .map(|d| d["line"].as_str().unwrap().to_string())
        .collect();
    assert!(!lines.is_empty());
    assert_eq!(lines, task_log(&demo, upid).await);

    client
        .set_level(SetLevelRequestParams::new(LoggingLevel::Warning))
        .await
        .unwrap();
    backup(&client).await;
    assert!(
        quiet.0.lock().unwrap().is_empty(),
        "warning lets no info through"
    );

    // Another session keeps its own level (none).
    let other = Listener::default();
    let second = connect(&server, &other).await;
    backup(&second).await;
    assert!(other.0.lock().unwrap().is_empty());
    client.cancel().await.unwrap();
    second.cancel().await.unwrap();
}

#[tokio::test]
async fn legacy_sse_sessions_get_task_log_lines_before_the_answer() {
    let demo = Demo::start().await;
    let server = start_with(demo.app.host().clone(), McpHttpConfig::default()).await;
    let http = reqwest::Client::new();
    let (mut reader, endpoint) = open_legacy(&http, &server.url("/mcp")).await;
    let mut id = 0;
    let mut ask = async |method: &str, params: Value| {
        id += 1;
        let msg = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        let s = http.post(&endpoint).json(&msg).send().await.unwrap();
        assert_eq!(s.status(), 202);
        crate::support::mcp::messages_until_answer(&mut reader, id).await
    };
    let init = ask(
        "initialize",
        json!({"protocolVersion": "2024-11-05", "capabilities": {},
               "clientInfo": {"name": "sse", "version": "1"}}),
    )
    .await;
    assert!(
        init[0]["result"]["capabilities"]["logging"].is_object(),
        "{init:?}"
    );
    let set = ask("logging/setLevel", json!({"level": "debug"})).await;
    assert!(set.last().unwrap()["result"].is_object(), "{set:?}");
    let msgs = ask(
        "tools/call",
        json!({"name": "create_backup", "arguments": {"vmid": 100, "storage": "nfs-backup"}}),
    )
    .await;
    let (answer, notes) = msgs.split_last().unwrap();
    let upid = answer["result"]["structuredContent"]["upid"]
        .as_str()
        .unwrap();
    let lines: Vec<String> = notes
        .iter()
        .filter(|m| m["method"] == "notifications/message")
        .map(|m| {
            assert_eq!(m["params"]["level"], "info");
            m["params"]["data"]["line"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(lines, task_log(&demo, upid).await);
}

#[tokio::test]
async fn protocol_2026_07_28_takes_the_level_from_the_request() {
    let demo = Demo::start().await;
    let server = start_with(demo.app.host().clone(), McpHttpConfig::default()).await;
    let http = reqwest::Client::new();
    let call = |level: Option<&str>| {
        let mut meta = json!({
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientInfo": {"name": "t", "version": "1"},
            "io.modelcontextprotocol/clientCapabilities": {},
        });
        if let Some(l) = level {
            meta["io.modelcontextprotocol/logLevel"] = json!(l);
        }
        json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"_meta": meta,
            "name": "create_backup", "arguments": {"vmid": 100, "storage": "nfs-backup"}}})
    };
    let headers = [
        ("mcp-protocol-version", "2026-07-28"),
        ("mcp-method", "tools/call"),
        ("mcp-name", "create_backup"),
    ];
    let url = server.url("/proxmox/mcp");
    let (status, _, msgs) =
        crate::support::mcp::post(&http, &url, &headers, call(Some("info"))).await;
    assert_eq!(status, 200, "{msgs:?}");
    let notes = msgs
        .iter()
        .filter(|m| m["method"] == "notifications/message")
        .count();
    assert!(notes > 0, "{msgs:?}");
    let (_, _, msgs) = crate::support::mcp::post(&http, &url, &headers, call(None)).await;
    assert!(
        msgs.iter().all(|m| m["method"] != "notifications/message"),
        "{msgs:?}"
    );
}

#[tokio::test]
async fn a_task_that_runs_a_while_sends_each_line_once() {
    // Tasks take their simulated time: the log is read while the task runs (empty pages
    // included, which PVE fills with a `no content` placeholder), then once more at its end.
    let demo = Demo::with(pve_sim::seed::demo(), 1.0).await;
    let server = start_with(demo.app.host().clone(), McpHttpConfig::default()).await;
    let listener = Listener::default();
    let client = connect(&server, &listener).await;
    client
        .set_level(SetLevelRequestParams::new(LoggingLevel::Info))
        .await
        .unwrap();
    let Value::Object(args) = json!({"vmid": 103}) else {
        unreachable!()
    };
    let r = client
        .call_tool(CallToolRequestParams::new("start_vm").with_arguments(args))
        .await
        .unwrap();
    let out = r.structured_content.unwrap();
    let upid = out["upid"].as_str().unwrap();
    let lines: Vec<String> = listener
        .0
        .lock()
        .unwrap()
        .iter()
        .map(|d| d["line"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(lines, task_log(&demo, upid).await);
    assert!(!lines.iter().any(|l| l == "no content"), "{lines:?}");
    client.cancel().await.unwrap();
}
