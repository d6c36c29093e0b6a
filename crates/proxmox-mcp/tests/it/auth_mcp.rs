//! The outcome matrix of the MCP door: every MCP route (Streamable HTTP POST/GET/DELETE, both
//! legacy SSE requests, on both paths) with no key, a wrong key and a key of each scope, with
//! exact statuses; per-key `tools/list` and scope refusals on `tools/call` on both transports;
//! the audit line of a refusal at the MCP and REST doors.

use proxmox_mcp::GuardConfig;
use proxmox_mcp::MCP_PATHS;
use proxmox_mcp::McpHttpConfig;
use reqwest::Method;
use rmcp::model::{CallToolRequestParams, ErrorCode};
use serde_json::{Value, json};

use crate::support::door::{Door, answer, gate, init};
use crate::support::rest::KEYS;

/// The callers: label, key presented.
fn callers() -> Vec<(&'static str, Option<&'static str>)> {
    let mut v = vec![("no key", None), ("wrong key", Some("key-admin-012345678"))];
    v.extend(
        KEYS.iter()
            .map(|(_, scope, key)| (scope.as_str(), Some(*key))),
    );
    v
}

/// The tools of the demo registry a scope may call, in the registry's order (written from the
/// REST matrix's table, not derived).
fn tools_for(scope: &str) -> Vec<String> {
    const READ: &[&str] = &[
        "get_nodes",
        "get_node_status",
        "get_vms",
        "get_containers",
        "get_storage",
        "get_cluster_status",
        "get_task",
        "get_cluster_overview",
        "list_clusters",
        "get_vm_config",
        "get_vm_ip_addresses",
        "get_container_ip_addresses",
        "get_container_config",
        "check_migration",
        "list_tasks",
        "list_snapshots",
        "list_backups",
        "list_storage_content",
        "list_networks",
        "get_firewall_rules",
        "list_available_templates",
        "list_backup_jobs",
        "get_backup_coverage",
        "get_ha_status",
        "list_pools",
        // Listed for every key: each call needs the scope of its method.
        "proxmox_api",
        "get_metrics",
        "get_node_logs",
        "get_cluster_log",
        "list_node_services",
        "list_updates",
    ];
    const ADMIN: &[&str] = &[
        "stop_vm",
        "reset_vm",
        "delete_vm",
        "execute_vm_command",
        "execute_container_command",
        "execute_node_command",
        "convert_to_template",
        "delete_container",
        "convert_container_to_template",
        "rollback_snapshot",
        "delete_snapshot",
        "restore_backup",
        "delete_backup",
    ];
    let registry = proxmox_mcp::builtin_tools().unwrap();
    // The toolset tools are served with dynamic toolsets only.
    registry
        .tools()
        .filter(|t| t.toolset != "dynamic")
        .map(|t| t.name)
        .filter(|n| match scope {
            "read" => READ.contains(n),
            "operate" => !ADMIN.contains(n),
            _ => true,
        })
        .map(str::to_string)
        .collect()
}

fn assert_unauthorized(who: &str, what: &str, status: u16, headers: &reqwest::header::HeaderMap) {
    assert_eq!(status, 401, "{who}: {what}");
    assert_eq!(headers["www-authenticate"], "Bearer", "{who}: {what}");
}

#[tokio::test]
async fn every_mcp_route_with_every_kind_of_caller() {
    let door = Door::with_keys().await;
    let admin = KEYS[2].2;
    for (who, key) in callers() {
        let allowed = key.is_some() && who != "wrong key";
        // Streamable HTTP: POST initialize, on both paths.
        for path in MCP_PATHS {
            let (s, headers, text) = door.post(path, key, None, &init(1)).await;
            if allowed {
                assert_eq!(s, 200, "{who}: POST {path}: {text}");
                assert!(headers.contains_key("mcp-session-id"), "{who}");
                assert!(answer(&text)["result"]["serverInfo"].is_object(), "{text}");
            } else {
                assert_unauthorized(who, &format!("POST {path}"), s, &headers);
                let v: Value = serde_json::from_str(&text).unwrap();
                assert_eq!(v["detail"]["kind"], "auth", "{v}");
            }
        }
        // Streamable HTTP: GET (the server stream) and DELETE of a session opened by the
        // caller's own key (admin's for the callers that cannot open one).
        let sid = door.session(key.filter(|_| allowed).unwrap_or(admin)).await;
        let send = |method: Method| {
            door.request(method, "/proxmox/mcp", key)
                .header("mcp-session-id", &sid)
                .header("mcp-protocol-version", "2025-06-18")
                .send()
        };
        let resp = send(Method::GET).await.unwrap();
        let (s, h) = (resp.status().as_u16(), resp.headers().clone());
        if allowed {
            assert_eq!(s, 200, "{who}: GET with a session");
            assert_eq!(h["content-type"], "text/event-stream", "{who}");
        } else {
            assert_unauthorized(who, "GET with a session", s, &h);
        }
        drop(resp);
        let resp = send(Method::DELETE).await.unwrap();
        let (s, h) = (resp.status().as_u16(), resp.headers().clone());
        if allowed {
            assert_eq!(s, 204, "{who}: DELETE");
        } else {
            assert_unauthorized(who, "DELETE", s, &h);
        }
        // Legacy SSE: the GET that opens a stream, on both paths.
        for path in MCP_PATHS {
            let mut req = door
                .http
                .get(door.url(path))
                .header("accept", "text/event-stream");
            if let Some(k) = key {
                req = req.bearer_auth(k);
            }
            let resp = req.send().await.unwrap();
            let (s, h) = (resp.status().as_u16(), resp.headers().clone());
            if allowed {
                assert_eq!(s, 200, "{who}: legacy GET {path}");
                assert_eq!(h["content-type"], "text/event-stream");
            } else {
                assert_unauthorized(who, &format!("legacy GET {path}"), s, &h);
            }
        }
        // Legacy SSE: a POST to a session (opened with the caller's key; admin's for the
        // callers that cannot open one) needs a key too.
        let legacy = door.legacy(key.filter(|_| allowed).unwrap_or(admin)).await;
        let ping = json!({"jsonrpc": "2.0", "id": 99, "method": "ping"});
        let s = legacy.send(&ping, key).await;
        assert_eq!(s, if allowed { 202 } else { 401 }, "{who}: legacy POST");
        // An unknown legacy session is a 404 only for a caller with a key.
        let (s, _, _) = door.post("/mcp?sessionId=sse-0000", key, None, &ping).await;
        assert_eq!(s, if allowed { 404 } else { 401 }, "{who}: unknown session");
        // The ops routes keep their own rules (public here); other paths are 404.
        for (path, want) in [
            ("/healthz", 200),
            ("/readyz", 200),
            ("/metrics", 200),
            ("/nope", 404),
        ] {
            let resp = door.request(Method::GET, path, key).send().await.unwrap();
            assert_eq!(resp.status().as_u16(), want, "{who}: GET {path}");
        }
    }
    // The X-API-Key header works like Bearer.
    let resp = door
        .http
        .post(door.url("/mcp"))
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "application/json")
        .header("x-api-key", KEYS[0].2)
        .body(init(1).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn each_key_lists_and_calls_only_what_its_scope_allows_over_streamable_http() {
    let door = Door::with_keys().await;
    for (_, scope, key) in KEYS {
        let client = door.client(key).await;
        let tools = client.list_all_tools().await.unwrap();
        let got: Vec<String> = tools.iter().map(|t| t.name.to_string()).collect();
        assert_eq!(got, tools_for(scope.as_str()), "{scope}");
        // A tool above the scope: a tool error naming the scope that allows it.
        let r = client
            .call_tool(
                CallToolRequestParams::new("delete_vm").with_arguments(
                    json!({"vmid": 9999, "confirm": true})
                        .as_object()
                        .unwrap()
                        .clone(),
                ),
            )
            .await
            .unwrap();
        let text = r.content[0].as_text().unwrap().text.clone();
        if scope.as_str() == "admin" {
            // Allowed: PVE answers (there is no VM 9999).
            assert!(!text.contains("scope") && text.contains("9999"), "{text}");
        } else {
            assert_eq!(r.is_error, Some(true), "{scope}: {text}");
            assert!(
                text.contains("`admin` scope") && text.contains(&format!("`{scope}` scope")),
                "{scope}: the refusal must say which scope allows it: {text}"
            );
        }
        // An unknown tool stays a JSON-RPC error.
        let e = client
            .call_tool(CallToolRequestParams::new("no_such_tool"))
            .await
            .unwrap_err();
        match e {
            rmcp::ServiceError::McpError(e) => assert_eq!(e.code, ErrorCode::INVALID_PARAMS),
            other => panic!("unknown tool: {other:?}"),
        }
        client.cancel().await.unwrap();
    }
    // An operate key may start a guest.
    let client = door.client(KEYS[1].2).await;
    let r = client
        .call_tool(
            CallToolRequestParams::new("start_vm")
                .with_arguments(json!({"vmid": 103}).as_object().unwrap().clone()),
        )
        .await
        .unwrap();
    assert_eq!(r.is_error, Some(false), "{r:?}");
    assert_eq!(door.demo.guest_status(103).as_deref(), Some("running"));
}

#[tokio::test]
async fn each_key_lists_and_calls_only_what_its_scope_allows_over_legacy_sse() {
    let door = Door::with_keys().await;
    for (_, scope, key) in KEYS {
        let mut legacy = door.legacy(key).await;
        assert_eq!(
            legacy.tool_names().await,
            tools_for(scope.as_str()),
            "{scope}"
        );
        let v = legacy
            .request(
                "tools/call",
                json!({"name": "start_vm", "arguments": {"vmid": 103}}),
            )
            .await;
        let text = v["result"]["content"][0]["text"].as_str().unwrap_or("");
        if scope.as_str() == "read" {
            assert_eq!(v["result"]["isError"], true, "{v}");
            assert!(text.contains("`operate` scope"), "{text}");
            assert_eq!(door.demo.guest_status(103).as_deref(), Some("stopped"));
        } else {
            // Allowed: it ran (the second start finds VM 103 running: PVE's error, not ours).
            assert!(!text.contains("scope"), "{scope}: {v}");
            assert_eq!(door.demo.guest_status(103).as_deref(), Some("running"));
        }
        // Unknown tool: a JSON-RPC error.
        let v = legacy
            .request("tools/call", json!({"name": "no_such_tool"}))
            .await;
        assert_eq!(v["error"]["code"], -32602, "{v}");
    }
    // A session belongs to the key that opened it: a POST with another key finds no session.
    let legacy = door.legacy(KEYS[2].2).await;
    let stop = json!({"jsonrpc": "2.0", "id": 50, "method": "tools/call",
        "params": {"name": "stop_vm", "arguments": {"vmid": 103}}});
    assert_eq!(legacy.send(&stop, Some(KEYS[0].2)).await, 404);
    assert_eq!(door.demo.guest_status(103).as_deref(), Some("running"));
}

#[tokio::test]
async fn refusals_at_both_doors_write_an_audit_line() {
    let dir = std::env::temp_dir().join(format!("pmcp-auth-mcp-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("refusals.jsonl");
    let _ = std::fs::remove_file(&path);
    let demo = crate::support::demo::guarded(GuardConfig {
        audit_log: Some(path.clone()),
        ..GuardConfig::default()
    })
    .await;
    let cfg = McpHttpConfig {
        gate: gate(proxmox_mcp::RateLimiter::unlimited()),
        ..McpHttpConfig::default()
    };
    let door = Door::start(demo, cfg).await;
    let (reader, operator) = (KEYS[0].2, KEYS[1].2);

    let client = door.client(operator).await;
    let r = client
        .call_tool(
            CallToolRequestParams::new("delete_vm").with_arguments(
                json!({"vmid": 100, "confirm": true, "password": "hunter2"})
                    .as_object()
                    .unwrap()
                    .clone(),
            ),
        )
        .await
        .unwrap();
    assert_eq!(r.is_error, Some(true));
    let mut legacy = door.legacy(reader).await;
    let v = legacy
        .request(
            "tools/call",
            json!({"name": "start_vm", "arguments": {"vmid": 103}}),
        )
        .await;
    assert_eq!(v["result"]["isError"], true, "{v}");

    // The REST door over the same app.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let rest = format!("http://{}", listener.local_addr().unwrap());
    let shutdown = tokio_util::sync::CancellationToken::new();
    tokio::spawn(proxmox_mcp::serve_rest(
        door.demo.app.clone(),
        listener,
        proxmox_mcp::RestConfig {
            gate: gate(proxmox_mcp::RateLimiter::unlimited()),
            ..Default::default()
        },
        shutdown.clone(),
    ));
    let resp = door
        .http
        .post(format!("{rest}/reset_vm"))
        .bearer_auth(operator)
        .header("content-type", "application/json")
        .body(r#"{"vmid": 101}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    shutdown.cancel();

    let recs: Vec<Value> = std::fs::read_to_string(&path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let summary: Vec<(&str, &str, &str, &str)> = recs
        .iter()
        .map(|r| {
            (
                r["tool"].as_str().unwrap(),
                r["key"].as_str().unwrap(),
                r["transport"].as_str().unwrap(),
                r["outcome"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("delete_vm", "operator", "streamable-http", "refused"),
            ("start_vm", "reader", "sse", "refused"),
            ("reset_vm", "operator", "rest", "refused"),
        ]
    );
    assert_eq!(recs[0]["args"]["vmid"], 100);
    assert_eq!(recs[0]["args"]["password"], "********");
    assert_eq!(recs[2]["args"], json!({"vmid": 101}));
    for r in &recs {
        assert!(r["message"].as_str().unwrap().contains("scope"), "{r}");
    }
    assert_eq!(proxmox_mcp::verify_audit_log(&path).unwrap().records, 3);
    // Nothing was changed.
    assert_eq!(door.demo.guest_status(103).as_deref(), Some("stopped"));
    assert!(door.demo.guest_status(100).is_some());
}
