//! The outcome matrix of the REST door: every route with no key, a wrong key and a key of each
//! scope, with exact statuses. A tool above the key's scope is a 403 saying which scope would
//! allow it; `/openapi.json` lists what the key may call; a refused call never reaches the cluster.

use reqwest::Method;
use serde_json::Value;

use crate::support::rest::{KEYS, Rest};

/// Each tool: the scope it needs (written here, not derived) and its status when allowed and
/// called with `{}` (200, or 422 when it has required parameters).
const TOOLS: &[(&str, &str, u16)] = &[
    ("get_nodes", "read", 200),
    ("get_node_status", "read", 422),
    ("get_vms", "read", 200),
    ("create_vm", "operate", 422),
    ("start_vm", "operate", 422),
    ("stop_vm", "admin", 422),
    ("shutdown_vm", "operate", 422),
    ("reset_vm", "admin", 422),
    ("delete_vm", "admin", 422),
    ("execute_vm_command", "admin", 422),
    ("get_containers", "read", 200),
    ("start_container", "operate", 422),
    ("stop_container", "operate", 422),
    ("restart_container", "operate", 422),
    ("update_container_resources", "operate", 422),
    ("get_storage", "read", 200),
    ("get_cluster_status", "read", 200),
    ("get_task", "read", 422),
    ("get_cluster_overview", "read", 200),
    ("list_clusters", "read", 200),
    ("execute_container_command", "admin", 422),
    ("get_vm_config", "read", 422),
    ("update_vm_config", "operate", 422),
    ("get_vm_ip_addresses", "read", 422),
    ("update_cloud_init", "operate", 422),
    ("get_container_ip_addresses", "read", 422),
    ("update_container_config", "operate", 422),
    ("clone_vm", "operate", 422),
    ("convert_to_template", "admin", 422),
    ("create_vm_from_template", "operate", 422),
    ("create_container", "operate", 422),
    ("delete_container", "admin", 422),
    ("get_container_config", "read", 422),
    ("clone_container", "operate", 422),
    ("convert_container_to_template", "admin", 422),
    ("check_migration", "read", 422),
    ("migrate_guest", "operate", 422),
    ("list_tasks", "read", 200),
    ("stop_task", "operate", 422),
    ("list_snapshots", "read", 422),
    ("create_snapshot", "operate", 422),
    ("rollback_snapshot", "admin", 422),
    ("delete_snapshot", "admin", 422),
    ("create_backup", "operate", 422),
    ("list_backups", "read", 200),
    ("restore_backup", "admin", 422),
    ("delete_backup", "admin", 422),
    ("list_storage_content", "read", 422),
    ("list_backup_jobs", "read", 200),
    ("get_backup_coverage", "read", 200),
    ("list_networks", "read", 422),
    ("get_firewall_rules", "read", 200),
    ("resize_disk", "operate", 422),
    // `{}` keeps the source: a write (deleting it needs `admin`).
    ("move_disk", "operate", 422),
    ("download_to_storage", "operate", 422),
    ("list_available_templates", "read", 200),
    // `{}` names no method, so the call needs what the tool's worst call needs; the tool is
    // listed for every key (a GET needs only `read`, see `LISTED_FOR_EVERY_KEY`).
    ("proxmox_api", "admin", 422),
    ("execute_node_command", "admin", 422),
    ("reboot_vm", "operate", 422),
    ("suspend_vm", "operate", 422),
    ("resume_vm", "operate", 422),
    ("suspend_container", "operate", 422),
    ("resume_container", "operate", 422),
    ("get_ha_status", "read", 200),
    ("list_pools", "read", 200),
    ("get_metrics", "read", 422),
    ("get_node_logs", "read", 422),
    ("get_cluster_log", "read", 200),
    ("list_node_services", "read", 422),
    ("list_updates", "read", 200),
];

/// Tools whose access is that of each call: listed for every key.
const LISTED_FOR_EVERY_KEY: &[&str] = &["proxmox_api"];

const RANK: [&str; 3] = ["read", "operate", "admin"];

fn rank(scope: &str) -> usize {
    RANK.iter().position(|s| *s == scope).unwrap()
}

/// The callers: label, key presented.
fn callers() -> Vec<(&'static str, Option<&'static str>)> {
    let mut v = vec![("no key", None), ("wrong key", Some("key-admin-012345678"))];
    v.extend(
        KEYS.iter()
            .map(|(_, scope, key)| (scope_label(*scope), Some(*key))),
    );
    v
}

fn scope_label(s: proxmox_mcp::Scope) -> &'static str {
    s.as_str()
}

#[tokio::test]
async fn every_rest_route_with_every_kind_of_caller() {
    let r = Rest::with_keys(proxmox_mcp::RateLimiter::unlimited()).await;
    // Every tool the REST door serves (the toolset tools of dynamic toolsets are MCP only).
    let registry: Vec<&str> = r
        .demo
        .app
        .registry()
        .tools()
        .filter(|t| t.toolset != "dynamic")
        .map(|t| t.name)
        .collect();
    let table: Vec<&str> = TOOLS.iter().map(|t| t.0).collect();
    assert_eq!(table, registry, "the matrix must list every tool, in order");

    for (who, key) in callers() {
        for (tool, needs, allowed) in TOOLS {
            let read_tool = *needs == "read";
            for method in [Method::POST, Method::GET] {
                let want = match (who, key) {
                    (_, None) | ("wrong key", _) => 401,
                    (scope, Some(_)) if rank(scope) < rank(needs) => 403,
                    // GET on a tool that changes state: 405; with `{}` as query: as POST.
                    _ if method == Method::GET && !read_tool => 405,
                    _ => *allowed,
                };
                let body = (method == Method::POST).then_some("{}");
                let (got, headers, v) =
                    r.send(method.clone(), &format!("/{tool}"), body, key).await;
                assert_eq!(got, want, "{who}: {method} /{tool}: {v}");
                match want {
                    401 => {
                        assert_eq!(headers["www-authenticate"], "Bearer", "{who} {tool}");
                        assert_eq!(v["detail"]["kind"], "auth");
                    }
                    403 => {
                        let msg = v["detail"]["message"].as_str().unwrap();
                        assert_eq!(v["detail"]["kind"], "policy", "{v}");
                        assert!(
                            msg.contains(&format!("`{needs}` scope"))
                                && msg.contains(&format!("`{who}` scope")),
                            "{who} {tool}: the refusal must say which scope allows it: {msg}"
                        );
                    }
                    _ => {}
                }
            }
        }
        // Routes that are no tool.
        let wrong = who == "wrong key";
        let others: &[(Method, &str, u16)] = &[
            (Method::GET, "/openapi.json", if wrong { 401 } else { 200 }),
            (Method::GET, "/docs", 200),
            (Method::GET, "/docs/docs.js", 200),
            (Method::GET, "/docs/docs.css", 200),
            (Method::POST, "/no_such_tool", 404),
            (Method::GET, "/no_such_tool", 404),
            (Method::POST, "/", 404),
        ];
        for (method, path, want) in others {
            let (got, _, v) = r.send(method.clone(), path, None, key).await;
            assert_eq!(got, *want, "{who}: {method} {path}: {v}");
        }
        // `/` redirects to the docs page (not followed here).
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let mut req = client.get(r.url("/"));
        if let Some(k) = key {
            req = req.bearer_auth(k);
        }
        assert_eq!(req.send().await.unwrap().status(), 307, "{who}: GET /");
    }
    // Nothing was refused into the cluster, nothing ran: VM 103 is as seeded.
    assert_eq!(r.demo.guest_status(103).as_deref(), Some("stopped"));
}

#[tokio::test]
async fn refused_calls_never_reach_the_cluster_and_allowed_ones_do() {
    let r = Rest::with_keys(proxmox_mcp::RateLimiter::unlimited()).await;
    let (_, _, read_key) = KEYS[0];
    let (_, _, ops_key) = KEYS[1];
    let (s, _, v) = r
        .send(
            Method::POST,
            "/start_vm",
            Some("{\"vmid\": 103}"),
            Some(read_key),
        )
        .await;
    assert_eq!(s, 403, "{v}");
    assert_eq!(r.demo.guest_status(103).as_deref(), Some("stopped"));
    let (s, _, v) = r
        .send(
            Method::POST,
            "/start_vm",
            Some("{\"vmid\": 103}"),
            Some(ops_key),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(r.demo.guest_status(103).as_deref(), Some("running"));
    // Operate may not run commands in a guest, even though it may start it.
    let (s, _, v) = r
        .send(
            Method::POST,
            "/execute_vm_command",
            Some("{\"vmid\": 103, \"command\": \"uptime\"}"),
            Some(ops_key),
        )
        .await;
    assert_eq!(s, 403, "{v}");
    assert!(
        v["detail"]["message"]
            .as_str()
            .unwrap()
            .contains("`admin` scope"),
        "{v}"
    );
}

#[tokio::test]
async fn the_key_header_works_like_bearer() {
    let r = Rest::with_keys(proxmox_mcp::RateLimiter::unlimited()).await;
    let send = |header: &'static str, key: &'static str| {
        r.http
            .post(r.url("/get_nodes"))
            .header(header, key)
            .header("content-type", "application/json")
            .body("{}")
            .send()
    };
    assert_eq!(send("x-api-key", KEYS[0].2).await.unwrap().status(), 200);
    assert_eq!(send("X-API-Key", "nope").await.unwrap().status(), 401);
    assert_eq!(send("x-other-key", KEYS[0].2).await.unwrap().status(), 401);
    let resp = r
        .http
        .post(r.url("/start_vm"))
        .header("x-api-key", KEYS[0].2)
        .header("content-type", "application/json")
        .body("{\"vmid\": 103}")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
}

#[tokio::test]
async fn openapi_lists_what_the_key_may_call() {
    let r = Rest::with_keys(proxmox_mcp::RateLimiter::unlimited()).await;
    let ops = |v: &Value| -> Vec<String> {
        v["paths"]
            .as_object()
            .unwrap()
            .keys()
            .map(|p| p.trim_start_matches('/').to_string())
            .collect()
    };
    let (_, _, public) = r.send(Method::GET, "/openapi.json", None, None).await;
    assert_eq!(ops(&public).len(), TOOLS.len());
    for (_, scope, key) in KEYS {
        let (s, _, doc) = r.send(Method::GET, "/openapi.json", None, Some(key)).await;
        assert_eq!(s, 200);
        let mut want: Vec<String> = TOOLS
            .iter()
            .filter(|(t, needs, _)| {
                LISTED_FOR_EVERY_KEY.contains(t) || rank(needs) <= rank(scope.as_str())
            })
            .map(|(t, _, _)| t.to_string())
            .collect();
        want.sort();
        let mut got = ops(&doc);
        got.sort();
        assert_eq!(got, want, "{scope}");
    }
}
