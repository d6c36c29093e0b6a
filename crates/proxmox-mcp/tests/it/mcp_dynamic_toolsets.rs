//! Dynamic toolsets (`--dynamic-toolsets`): a session starts with the default toolsets and the
//! toolset tools; `enable_toolset` turns one on for that session only, announced by
//! `notifications/tools/list_changed` before the call's answer; key scope and read-only mode
//! still filter what it offers; a tool of a toolset that is off is refused (and audited).
//! Over Streamable HTTP (the rmcp client), legacy SSE (raw), stdio (the binary), 2026-07-28
//! requests and `[server] stateless` (toolsets in `_meta`), and REST (what a new session starts
//! with).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use proxmox_mcp::{
    App, Guard, GuardConfig, McpHttpConfig, RateLimiter, RestConfig, ToolFilter, builtin_tools,
};
use pve_client::PveClient;
use rmcp::model::CallToolRequestParams;
use rmcp::service::{NotificationContext, RunningService};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::{ClientHandler, RoleClient, ServiceExt};
use serde_json::{Value, json};

use crate::support::demo::{Demo, test_client_config};
use crate::support::door::{Door, gate, names};
use crate::support::mcp::{eventually, messages_until_answer, post};
use crate::support::rest::Rest;

const ADMIN: &str = "key-admin-0123456789";
const READER: &str = "key-read-0123456789";

/// The tools of the snapshots toolset (from the registry, not a list written here).
fn snapshot_tools() -> Vec<String> {
    builtin_tools()
        .unwrap()
        .tools()
        .filter(|t| t.toolset == "snapshots")
        .map(|t| t.name.to_string())
        .collect()
}

/// What a server with `filter` serves by default (the registry's static selection).
fn static_names(filter: ToolFilter) -> Vec<String> {
    filter
        .apply(&builtin_tools().unwrap())
        .unwrap()
        .tools()
        .map(|t| t.name.to_string())
        .collect()
}

fn dynamic(read_only: bool) -> ToolFilter {
    ToolFilter {
        read_only,
        dynamic: true,
        ..ToolFilter::default()
    }
}

fn temp_log(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pmcp-dyn-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{name}.jsonl"));
    let _ = std::fs::remove_file(&path);
    path
}

fn records(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The demo cluster behind an app whose tools `filter` selects, auditing to `audit`.
async fn demo(filter: ToolFilter, audit: &Path) -> Demo {
    let d = Demo::start().await;
    let client = PveClient::new(test_client_config(&d.demo)).unwrap();
    let guard = Guard::new(&GuardConfig {
        audit_log: Some(audit.to_path_buf()),
        ..GuardConfig::default()
    })
    .unwrap();
    let registry = filter
        .apply(&builtin_tools().unwrap().with_guard(guard))
        .unwrap();
    Demo {
        app: Arc::new(App::new(registry, client)),
        demo: d.demo,
    }
}

/// The MCP door with the test keys over `demo`.
async fn door(demo: Demo) -> Door {
    let cfg = McpHttpConfig {
        gate: gate(RateLimiter::unlimited()),
        ..McpHttpConfig::default()
    };
    Door::start(demo, cfg).await
}

/// A client counting the `notifications/tools/list_changed` it gets.
#[derive(Clone, Default)]
struct Watcher(Arc<AtomicUsize>);

impl ClientHandler for Watcher {
    async fn on_tool_list_changed(&self, _context: NotificationContext<RoleClient>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

type Client = RunningService<RoleClient, Watcher>;

async fn connect(door: &Door, key: &str) -> (Client, Watcher) {
    let w = Watcher::default();
    let cfg =
        StreamableHttpClientTransportConfig::with_uri(door.url("/proxmox/mcp")).auth_header(key);
    let client = w
        .clone()
        .serve(StreamableHttpClientTransport::from_config(cfg))
        .await
        .unwrap();
    (client, w)
}

async fn listed(client: &Client) -> Vec<String> {
    client
        .list_all_tools()
        .await
        .unwrap()
        .iter()
        .map(|t| t.name.to_string())
        .collect()
}

async fn call(client: &Client, tool: &str, args: Value) -> rmcp::model::CallToolResult {
    let Value::Object(args) = args else {
        unreachable!()
    };
    client
        .call_tool(CallToolRequestParams::new(tool.to_string()).with_arguments(args))
        .await
        .unwrap()
}

fn text(r: &rmcp::model::CallToolResult) -> String {
    r.content
        .iter()
        .filter_map(|c| c.as_text().map(|t| t.text.clone()))
        .collect()
}

const TOOLSET_TOOLS: [&str; 3] = ["list_toolsets", "enable_toolset", "disable_toolset"];

#[tokio::test]
async fn a_streamable_http_session_turns_a_toolset_on_for_itself_only() {
    let log = temp_log("http");
    let d = door(demo(dynamic(false), &log).await).await;
    let (client, watcher) = connect(&d, ADMIN).await;
    let caps = client.peer_info().unwrap().capabilities.clone();
    assert_eq!(caps.tools.unwrap().list_changed, Some(true));

    // The session starts with the default toolsets plus the toolset tools.
    let mut want = static_names(ToolFilter::default());
    want.extend(TOOLSET_TOOLS.map(String::from));
    let before = listed(&client).await;
    assert_eq!(before, want);

    // A tool of a toolset that is off is refused, saying how to turn it on; nothing is done.
    let r = call(
        &client,
        "create_snapshot",
        json!({"vmid": 100, "snapname": "s1"}),
    )
    .await;
    assert_eq!(r.is_error, Some(true));
    assert!(text(&r).contains("enable_toolset"), "{}", text(&r));
    assert!(
        d.demo.sim().requests().iter().all(|r| r.method == "GET"),
        "a refused call wrote to PVE"
    );

    let r = call(&client, "list_toolsets", json!({})).await;
    let sets = r.structured_content.unwrap();
    let snap = sets["toolsets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "snapshots")
        .unwrap()
        .clone();
    assert_eq!(snap["on"], false);
    assert_eq!(snap["tools"], json!(snapshot_tools()));

    let r = call(&client, "enable_toolset", json!({"toolset": "snapshots"})).await;
    assert_eq!(r.is_error, Some(false), "{r:?}");
    let out = r.structured_content.unwrap();
    assert_eq!(out["changed"], true);
    assert_eq!(out["tools"], json!(snapshot_tools()));
    eventually("notifications/tools/list_changed", async || {
        watcher.0.load(Ordering::SeqCst) == 1
    })
    .await;
    let after = listed(&client).await;
    for t in snapshot_tools() {
        assert!(after.contains(&t), "{t} missing from {after:?}");
    }
    assert_eq!(after.len(), before.len() + snapshot_tools().len());
    let r = call(&client, "list_snapshots", json!({"vmid": 100})).await;
    assert_eq!(r.is_error, Some(false), "{r:?}");

    // Another session of the same key still has the defaults.
    let (other, _) = connect(&d, ADMIN).await;
    assert_eq!(listed(&other).await, before);
    let r = call(&other, "list_snapshots", json!({"vmid": 100})).await;
    assert_eq!(r.is_error, Some(true));

    // Enabling again changes nothing and announces nothing; an unknown name says which exist.
    let r = call(&client, "enable_toolset", json!({"toolset": "snapshots"})).await;
    assert_eq!(r.structured_content.unwrap()["changed"], false);
    let r = call(&client, "enable_toolset", json!({"toolset": "snapshotz"})).await;
    assert_eq!(r.is_error, Some(true));
    assert!(text(&r).contains("backups"), "{}", text(&r));
    let r = call(&client, "enable_toolset", json!({"toolset": "dynamic"})).await;
    assert_eq!(r.is_error, Some(true), "the toolset tools' own toolset");

    // Disabling takes them out again.
    let r = call(&client, "disable_toolset", json!({"toolset": "snapshots"})).await;
    assert_eq!(r.structured_content.unwrap()["on"], false);
    eventually("a second list_changed", async || {
        watcher.0.load(Ordering::SeqCst) == 2
    })
    .await;
    assert_eq!(listed(&client).await, before);

    // The changes and the refusal are in the audit log, with the key that made them.
    let recs = records(&log);
    let turned: Vec<(&str, &str)> = recs
        .iter()
        .filter(|r| r["tool"].as_str().unwrap().ends_with("_toolset"))
        .map(|r| (r["tool"].as_str().unwrap(), r["key"].as_str().unwrap()))
        .collect();
    assert_eq!(
        turned,
        [("enable_toolset", "admin"), ("disable_toolset", "admin")]
    );
    let refused = recs
        .iter()
        .find(|r| r["tool"] == "create_snapshot")
        .unwrap();
    assert_eq!(refused["outcome"], "refused");
    client.cancel().await.unwrap();
    other.cancel().await.unwrap();
}

#[tokio::test]
async fn key_scope_and_read_only_still_filter_an_enabled_toolset() {
    let reads: Vec<String> = builtin_tools()
        .unwrap()
        .tools()
        .filter(|t| t.toolset == "snapshots" && t.access == proxmox_mcp::Access::Read)
        .map(|t| t.name.to_string())
        .collect();
    assert!(!reads.is_empty() && reads.len() < snapshot_tools().len());

    // A read key: the toolset's write tools stay hidden, and a call to one is refused.
    let d = door(demo(dynamic(false), &temp_log("scope")).await).await;
    let (client, _) = connect(&d, READER).await;
    call(&client, "enable_toolset", json!({"toolset": "snapshots"})).await;
    let tools = listed(&client).await;
    let shown: Vec<String> = snapshot_tools()
        .into_iter()
        .filter(|t| tools.contains(t))
        .collect();
    assert_eq!(shown, reads);
    let r = call(
        &client,
        "create_snapshot",
        json!({"vmid": 100, "snapname": "s1"}),
    )
    .await;
    assert_eq!(r.is_error, Some(true));
    assert!(text(&r).contains("scope"), "{}", text(&r));
    client.cancel().await.unwrap();

    // Read-only mode: an admin sees only the reading tools of the toolset it turned on.
    let d = door(demo(dynamic(true), &temp_log("ro")).await).await;
    let (client, _) = connect(&d, ADMIN).await;
    call(&client, "enable_toolset", json!({"toolset": "snapshots"})).await;
    let tools = listed(&client).await;
    for t in snapshot_tools() {
        assert_eq!(tools.contains(&t), reads.contains(&t), "{t}: {tools:?}");
    }
    let err = client
        .call_tool(
            CallToolRequestParams::new("delete_snapshot").with_arguments(
                json!({"vmid": 100, "snapname": "s1", "confirm": true})
                    .as_object()
                    .unwrap()
                    .clone(),
            ),
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("unknown tool"), "{err}");
    assert!(d.demo.sim().requests().iter().all(|r| r.method == "GET"));
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn a_legacy_sse_session_is_told_before_the_answer() {
    let d = door(demo(dynamic(false), &temp_log("sse")).await).await;
    let mut legacy = d.legacy(ADMIN).await;
    let before = legacy.tool_names().await;
    assert!(before.iter().any(|t| t == "enable_toolset"));
    assert!(!before.iter().any(|t| t == "list_backups"));

    let msg = json!({"jsonrpc": "2.0", "id": 50, "method": "tools/call",
        "params": {"name": "enable_toolset", "arguments": {"toolset": "backups"}}});
    assert_eq!(legacy.send(&msg, Some(ADMIN)).await, 202);
    let msgs = messages_until_answer(&mut legacy.reader, 50).await;
    let methods: Vec<&str> = msgs.iter().filter_map(|m| m["method"].as_str()).collect();
    assert_eq!(methods, ["notifications/tools/list_changed"], "{msgs:?}");
    assert_eq!(msgs.last().unwrap()["result"]["isError"], false);

    let after = legacy.tool_names().await;
    assert!(after.iter().any(|t| t == "list_backups"), "{after:?}");
    // A second legacy session keeps the defaults.
    let mut other = d.legacy(ADMIN).await;
    assert_eq!(other.tool_names().await, before);
}

/// A 2026-07-28 request (no session) of `method` with `params`, carrying `toolsets` in `_meta`.
async fn request_2026(d: &Door, method: &str, params: Value, toolsets: Option<Value>) -> Value {
    let mut meta = json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientInfo": {"name": "dyn", "version": "1"},
        "io.modelcontextprotocol/clientCapabilities": {},
    });
    if let Some(t) = toolsets {
        meta["proxmox-mcp/toolsets"] = t;
    }
    let mut params = params;
    params["_meta"] = meta;
    let mut headers = vec![
        ("mcp-protocol-version", "2026-07-28"),
        ("mcp-method", method),
        ("authorization", "Bearer key-admin-0123456789"),
    ];
    let name = params["name"].as_str().map(str::to_string);
    if let Some(n) = &name {
        headers.push(("mcp-name", n));
    }
    let body = json!({"jsonrpc": "2.0", "id": 3, "method": method, "params": params});
    let (status, _, mut msgs) = post(&d.http, &d.url("/proxmox/mcp"), &headers, body).await;
    assert_eq!(status, 200, "{msgs:?}");
    msgs.pop().unwrap()
}

#[tokio::test]
async fn protocol_2026_07_28_carries_the_toolsets_in_meta_and_caches_only_a_static_list() {
    let d = door(demo(dynamic(false), &temp_log("2026")).await).await;
    let list = request_2026(&d, "tools/list", json!({}), None).await;
    assert_eq!(list["result"]["ttlMs"], 0, "{list}");
    assert!(!names(&list["result"]["tools"]).contains(&"list_snapshots".to_string()));

    let r = request_2026(
        &d,
        "tools/call",
        json!({"name": "enable_toolset", "arguments": {"toolset": "snapshots"}}),
        None,
    )
    .await;
    let meta = r["result"]["structuredContent"]["meta"].clone();
    let carried = meta["proxmox-mcp/toolsets"].clone();
    assert!(
        carried.as_array().unwrap().contains(&json!("snapshots")),
        "{r}"
    );
    // Without the `_meta` the next request is back to the start; with it, the toolset is on.
    let list = request_2026(&d, "tools/list", json!({}), None).await;
    assert!(!names(&list["result"]["tools"]).contains(&"list_snapshots".to_string()));
    let list = request_2026(&d, "tools/list", json!({}), Some(carried.clone())).await;
    assert!(names(&list["result"]["tools"]).contains(&"list_snapshots".to_string()));
    let r = request_2026(
        &d,
        "tools/call",
        json!({"name": "list_snapshots", "arguments": {"vmid": 100}}),
        Some(carried),
    )
    .await;
    assert_eq!(r["result"]["isError"], false, "{r}");

    // A server without dynamic toolsets: the list may be cached, per caller.
    let d = door(demo(ToolFilter::default(), &temp_log("2026s")).await).await;
    let list = request_2026(&d, "tools/list", json!({}), None).await;
    assert_eq!(list["result"]["ttlMs"], 300_000, "{list}");
    assert_eq!(list["result"]["cacheScope"], "private");
    assert!(!names(&list["result"]["tools"]).contains(&"enable_toolset".to_string()));
}

#[tokio::test]
async fn a_stateless_server_carries_the_toolsets_of_the_session_revisions_in_meta() {
    let demo = demo(dynamic(false), &temp_log("stateless")).await;
    let cfg = McpHttpConfig {
        gate: gate(RateLimiter::unlimited()),
        stateless: true,
        ..McpHttpConfig::default()
    };
    let d = Door::start(demo, cfg).await;
    let send = async |id: i64, method: &str, params: Value| {
        let headers = [
            ("mcp-protocol-version", "2025-06-18"),
            ("authorization", "Bearer key-admin-0123456789"),
        ];
        let body = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        let (status, _, msgs) = post(&d.http, &d.url("/proxmox/mcp"), &headers, body).await;
        assert_eq!(status, 200, "{msgs:?}");
        msgs
    };
    let msgs = send(
        1,
        "tools/call",
        json!({"name": "enable_toolset", "arguments": {"toolset": "snapshots"}}),
    )
    .await;
    // No session to announce a change to: the answer alone, with what to send back.
    assert_eq!(msgs.len(), 1, "{msgs:?}");
    let meta = msgs[0]["result"]["structuredContent"]["meta"].clone();
    assert!(meta["proxmox-mcp/toolsets"].is_array(), "{msgs:?}");
    let listed = |msgs: &[Value]| names(&msgs.last().unwrap()["result"]["tools"]);
    let plain = send(2, "tools/list", json!({})).await;
    assert!(!listed(&plain).contains(&"list_snapshots".to_string()));
    let carried = send(3, "tools/list", json!({"_meta": meta})).await;
    assert!(listed(&carried).contains(&"list_snapshots".to_string()));
}

#[tokio::test]
async fn rest_serves_what_a_session_starts_with() {
    let registry = dynamic(false).apply(&builtin_tools().unwrap()).unwrap();
    let r = Rest::with_registry(Some(registry), RestConfig::default()).await;
    let (s, _, doc) = r
        .send(reqwest::Method::GET, "/openapi.json", None, None)
        .await;
    assert_eq!(s, 200);
    let mut paths: Vec<String> = doc["paths"]
        .as_object()
        .unwrap()
        .keys()
        .map(|p| p.trim_start_matches('/').to_string())
        .collect();
    paths.sort();
    let mut want = static_names(ToolFilter::default());
    want.sort();
    assert_eq!(paths, want);
    let (status, _) = r.post("list_snapshots", json!({"vmid": 100})).await;
    assert_eq!(status, 404);
    let (status, _) = r
        .post("enable_toolset", json!({"toolset": "snapshots"}))
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn stdio_turns_a_toolset_on_for_the_process() {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_proxmox-mcp"));
    cmd.args([
        "stdio",
        "--demo",
        "--dynamic-toolsets",
        "--toolsets",
        "core,migration",
    ]);
    let (transport, _) = rmcp::transport::TokioChildProcess::builder(cmd)
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let w = Watcher::default();
    let client = w.clone().serve(transport).await.unwrap();
    // `--toolsets` bounds what may be turned on: the session starts with the default ones
    // among them (core), and may turn on migration, not snapshots.
    let mut want = static_names(ToolFilter {
        toolsets: Some(vec!["core".into()]),
        ..ToolFilter::default()
    });
    want.extend(TOOLSET_TOOLS.map(String::from));
    assert_eq!(listed(&client).await, want);
    let r = call(&client, "enable_toolset", json!({"toolset": "snapshots"})).await;
    assert_eq!(r.is_error, Some(true));
    let r = call(&client, "enable_toolset", json!({"toolset": "migration"})).await;
    assert_eq!(r.is_error, Some(false), "{r:?}");
    eventually("notifications/tools/list_changed", async || {
        w.0.load(Ordering::SeqCst) == 1
    })
    .await;
    let tools = listed(&client).await;
    assert!(tools.contains(&"check_migration".to_string()), "{tools:?}");
    let r = call(
        &client,
        "check_migration",
        json!({"vmid": 100, "target_node": "pve02"}),
    )
    .await;
    assert_eq!(r.is_error, Some(false), "{r:?}");
    client.cancel().await.unwrap();
}
