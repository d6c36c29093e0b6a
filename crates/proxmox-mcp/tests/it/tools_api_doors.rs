//! `proxmox_api` through the doors: over MCP (Streamable HTTP) and REST with keys of each
//! scope (a read key may GET and nothing else, a write needs the admin key and confirm), in
//! read-only mode (only GET), a task-starting POST followed with progress notifications, and
//! the audit line of a write (method, path, parameter names,
//! secrets masked).

use proxmox_mcp::{GuardConfig, McpHttpConfig, RestConfig, ToolFilter};
use rmcp::model::CallToolRequestParams;
use serde_json::{Value, json};

use crate::support::api::hostile_paths;
use crate::support::demo::{Demo, guarded, writes};
use crate::support::door::{Door, gate};
use crate::support::mcp::{init_tls, post, start_with};
use crate::support::rest::{KEYS, Rest};

fn args(v: Value) -> serde_json::Map<String, Value> {
    v.as_object().unwrap().clone()
}

#[tokio::test]
async fn over_mcp_a_read_key_gets_and_only_the_admin_key_writes() {
    let door = Door::with_keys().await;
    let get = json!({"method": "GET", "path": "/cluster/status"});
    let post = json!({"method": "POST", "path": "/pools", "params": {"poolid": "mcp"},
                      "confirm": true});
    for (_, scope, key) in KEYS {
        let client = door.client(key).await;
        let tools = client.list_all_tools().await.unwrap();
        let api = tools.iter().find(|t| t.name == "proxmox_api").unwrap();
        let hints = api.annotations.as_ref().unwrap();
        assert_eq!(hints.destructive_hint, Some(true));
        assert_eq!(hints.read_only_hint, Some(false));
        let r = client
            .call_tool(CallToolRequestParams::new("proxmox_api").with_arguments(args(get.clone())))
            .await
            .unwrap();
        assert_eq!(r.is_error, Some(false), "{scope}: {r:?}");
        let out = r.structured_content.unwrap();
        assert!(
            out["data"].as_array().is_some_and(|a| !a.is_empty()),
            "{out}"
        );
        door.demo.sim().clear_requests();
        let r = client
            .call_tool(CallToolRequestParams::new("proxmox_api").with_arguments(args(post.clone())))
            .await
            .unwrap();
        let text = r.content[0].as_text().unwrap().text.clone();
        if scope.as_str() == "admin" {
            assert_eq!(r.is_error, Some(false), "{text}");
            assert_eq!(writes(&door.demo), vec!["POST /pools".to_string()]);
        } else {
            assert_eq!(r.is_error, Some(true), "{scope}: {text}");
            assert!(
                text.contains("`proxmox_api` needs the `admin` scope for this call"),
                "{scope}: {text}"
            );
            assert_eq!(door.demo.sim().requests().len(), 0, "{scope}: sent");
        }
        client.cancel().await.unwrap();
    }
    // Hostile paths: a tool error naming `path`, nothing sent.
    let client = door.client(KEYS[2].2).await;
    door.demo.sim().clear_requests();
    for path in hostile_paths() {
        let call = json!({"method": "POST", "path": path, "confirm": true});
        let r = client
            .call_tool(CallToolRequestParams::new("proxmox_api").with_arguments(args(call)))
            .await
            .unwrap();
        let text = r.content[0].as_text().unwrap().text.clone();
        assert_eq!(r.is_error, Some(true), "{path:?}: {text}");
        assert!(text.contains("path"), "{path:?}: {text}");
    }
    assert_eq!(
        door.demo.sim().requests().len(),
        0,
        "a hostile path was sent"
    );
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn over_rest_each_scope_and_confirm_decide() {
    let r = Rest::with_keys(proxmox_mcp::RateLimiter::unlimited()).await;
    let send = |key: &'static str, body: Value| {
        let r = &r;
        async move {
            let (s, _, v) = r
                .send(
                    reqwest::Method::POST,
                    "/proxmox_api",
                    Some(&body.to_string()),
                    Some(key),
                )
                .await;
            (s, v)
        }
    };
    let get = json!({"method": "GET", "path": "/nodes", "fields": ["node"]});
    for (_, _, key) in KEYS {
        let (s, v) = send(key, get.clone()).await;
        assert_eq!(s, 200, "{v}");
        assert!(
            v["data"]
                .as_array()
                .unwrap()
                .iter()
                .all(|n| n.as_object().unwrap().len() == 1),
            "{v}"
        );
    }
    let post = json!({"method": "POST", "path": "/pools", "params": {"poolid": "rest"}});
    for (_, _, key) in &KEYS[..2] {
        r.demo.sim().clear_requests();
        let (s, v) = send(key, post.clone()).await;
        assert_eq!(s, 403, "{v}");
        assert!(
            v["detail"]["message"].as_str().unwrap().contains("admin"),
            "{v}"
        );
        assert_eq!(r.demo.sim().requests().len(), 0);
    }
    let admin = KEYS[2].2;
    let (s, v) = send(admin, post.clone()).await;
    assert_eq!(s, 403, "no confirm: {v}");
    assert!(
        v["detail"]["message"]
            .as_str()
            .unwrap()
            .contains("confirm: true"),
        "{v}"
    );
    let mut dry = post.clone();
    dry["dry_run"] = json!(true);
    let (s, v) = send(admin, dry).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["planned_calls"][0]["params"], json!({"poolid": "rest"}));
    let mut go = post.clone();
    go["confirm"] = json!(true);
    let (s, v) = send(admin, go).await;
    assert_eq!(s, 200, "{v}");
    r.demo.sim().clear_requests();
    for path in hostile_paths() {
        for method in ["GET", "DELETE"] {
            let (s, v) = send(
                admin,
                json!({"method": method, "path": path, "confirm": true}),
            )
            .await;
            assert_eq!(s, 422, "{method} {path:?}: {v}");
            assert_eq!(v["detail"]["kind"], "invalid_params", "{v}");
        }
    }
    assert_eq!(r.demo.sim().requests().len(), 0, "a hostile path was sent");
    let (s, v) = send(
        admin,
        json!({"method": "POST", "path": "/nodes/pve01/termproxy", "confirm": true}),
    )
    .await;
    assert_eq!(s, 403, "{v}");
    assert!(
        v["detail"]["message"]
            .as_str()
            .unwrap()
            .contains("**/termproxy"),
        "{v}"
    );
}

#[tokio::test]
async fn read_only_mode_leaves_only_get() {
    let filter = ToolFilter {
        read_only: true,
        toolsets: Some(vec!["api".into()]),
        ..ToolFilter::default()
    };
    let registry = filter
        .apply(&proxmox_mcp::builtin_tools().unwrap())
        .unwrap();
    // Offered as its reading view: read-only annotations, GET only, no confirm or dry_run.
    let view = registry.get("proxmox_api").unwrap();
    assert_eq!(view.access, proxmox_mcp::Access::Read);
    let props = view.input_schema["properties"].as_object().unwrap();
    assert_eq!(props["method"]["enum"], json!(["GET"]));
    assert!(
        !props.contains_key("confirm") && !props.contains_key("dry_run"),
        "{props:?}"
    );
    let cfg = RestConfig {
        gate: gate(proxmox_mcp::RateLimiter::unlimited()),
        ..RestConfig::default()
    };
    let r = Rest::with_registry(Some(registry), cfg).await;
    let admin = KEYS[2].2;
    let (s, _, v) = r
        .send(
            reqwest::Method::POST,
            "/proxmox_api",
            Some(&json!({"method": "GET", "path": "/version"}).to_string()),
            Some(admin),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    // The OpenAPI document says so too.
    let (_, _, doc) = r
        .send(reqwest::Method::GET, "/openapi.json", None, Some(admin))
        .await;
    assert_eq!(
        doc["paths"]["/proxmox_api"]["post"]["x-read-only-hint"], true,
        "{doc}"
    );
    for method in ["POST", "PUT", "DELETE"] {
        r.demo.sim().clear_requests();
        let body = json!({"method": method, "path": "/pools", "params": {"poolid": "ro"},
                          "confirm": true});
        let (s, _, v) = r
            .send(
                reqwest::Method::POST,
                "/proxmox_api",
                Some(&body.to_string()),
                Some(admin),
            )
            .await;
        assert_eq!(s, 403, "{method}: {v}");
        assert!(
            v["detail"]["message"]
                .as_str()
                .unwrap()
                .contains("read-only"),
            "{v}"
        );
        assert_eq!(r.demo.sim().requests().len(), 0, "{method}: sent");
    }
}

#[tokio::test]
async fn a_write_is_audited_with_method_path_and_parameter_names_secrets_masked() {
    let dir = std::env::temp_dir().join(format!("pmcp-api-audit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("audit.jsonl");
    let _ = std::fs::remove_file(&log);
    let d = guarded(GuardConfig {
        audit_log: Some(log.clone()),
        ..GuardConfig::default()
    })
    .await;
    // Refused by the deny list (nothing sent), and audited as refused.
    let e = d
        .call(
            "proxmox_api",
            json!({"method": "PUT", "path": "/access/password", "confirm": true,
                   "params": {"userid": "agent@pve", "password": "hunter2-secret"}}),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind(), "policy", "{e}");
    d.call(
        "proxmox_api",
        json!({"method": "POST", "path": "/pools", "confirm": true,
                                  "params": {"poolid": "audited"}}),
    )
    .await
    .unwrap();
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(!text.contains("hunter2-secret"), "{text}");
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let user = &lines[0];
    assert_eq!(user["tool"], "proxmox_api");
    assert_eq!(user["outcome"], "refused", "{user}");
    assert!(
        user["message"]
            .as_str()
            .unwrap()
            .contains("PUT /access/password"),
        "{user}"
    );
    assert_eq!(user["args"]["method"], "PUT");
    assert_eq!(user["args"]["path"], "/access/password");
    assert_eq!(user["args"]["params"]["userid"], "agent@pve");
    assert_eq!(user["args"]["params"]["password"], "********");
    let pool = &lines[1];
    assert_eq!(pool["outcome"], "ok", "{pool}");
    assert_eq!(pool["args"]["params"], json!({"poolid": "audited"}));
    // A GET is not a mutating call: it leaves no audit line.
    d.call("proxmox_api", json!({"method": "GET", "path": "/pools"}))
        .await
        .unwrap();
    let after = std::fs::read_to_string(&log).unwrap();
    assert_eq!(after.lines().count(), lines.len());
}

#[tokio::test]
async fn a_task_starting_post_reports_progress_over_streamable_http() {
    // A VM start takes 1-2 s here: the call follows the task and reports progress meanwhile.
    init_tls();
    let demo = Demo::with(pve_sim::seed::demo(), 0.5).await;
    let server = start_with(demo.app.host().clone(), McpHttpConfig::default()).await;
    let http = reqwest::Client::new();
    let url = server.url("/proxmox/mcp");
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {},
        "clientInfo": {"name": "test", "version": "1"}}});
    let (status, hdrs, _) = post(&http, &url, &[], init).await;
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
            "name": "proxmox_api", "_meta": {"progressToken": "api-1"},
            "arguments": {"method": "POST", "path": "/nodes/pve01/qemu/103/status/start",
                          "confirm": true, "wait_seconds": 20}}}),
    )
    .await;
    assert_eq!(status, 200);
    let (answer, notes) = msgs.split_last().unwrap();
    assert_eq!(answer["id"], 2, "{msgs:?}");
    let out = &answer["result"]["structuredContent"];
    assert_eq!(out["task"]["task_status"], "done", "{answer}");
    assert_eq!(out["task"]["exitstatus"], "OK", "{answer}");
    let progress: Vec<&Value> = notes
        .iter()
        .filter(|m| m["method"] == "notifications/progress")
        .collect();
    assert!(!progress.is_empty(), "no progress: {msgs:?}");
    for p in progress {
        assert_eq!(p["params"]["progressToken"], "api-1");
        let message = p["params"]["message"].as_str().unwrap();
        assert!(
            message.contains("/nodes/pve01/qemu/103/status/start"),
            "{message}"
        );
    }
    assert_eq!(demo.guest_status(103).as_deref(), Some("running"));
}
