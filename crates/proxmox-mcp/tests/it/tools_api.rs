//! `proxmox_api` through the registry's call flow, against the simulator: reads with `fields`
//! and truncation, writes with and without `confirm`, dry runs (the exact request, nothing
//! sent), every deny rule, hostile paths refused before any request, protected guests reached
//! through generic paths, and a task-starting POST followed to its end.

use proxmox_mcp::{ApiConfig, GuardConfig};
use serde_json::{Value, json};

use crate::support::api::hostile_paths;
use crate::support::demo::{Demo, guarded, writes};

/// `proxmox_api` arguments.
fn api(method: &str, path: &str, params: Value) -> Value {
    json!({"method": method, "path": path, "params": params})
}

/// Calls `proxmox_api`, expecting a refusal of `kind` whose message holds `text`, and that the
/// simulator received no request at all.
async fn refused_unsent(d: &Demo, args: Value, kind: &str, text: &str) {
    d.sim().clear_requests();
    let e = d.call("proxmox_api", args.clone()).await.unwrap_err();
    assert_eq!(e.kind(), kind, "{args}: {e}");
    assert!(e.to_string().contains(text), "{args}: {e}");
    let seen: Vec<String> = d
        .sim()
        .requests()
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert_eq!(seen, Vec::<String>::new(), "{args}: reached the simulator");
}

#[tokio::test]
async fn reads_answer_pve_data_projected_and_cut_to_the_budget() {
    let d = guarded(GuardConfig {
        api: ApiConfig {
            max_answer_bytes: Some(1024),
            ..ApiConfig::default()
        },
        ..GuardConfig::default()
    })
    .await;
    // With and without the /api2/json prefix, lower-case method.
    for path in ["/version", "/api2/json/version", "version"] {
        let out = d
            .call("proxmox_api", json!({"method": "get", "path": path}))
            .await
            .unwrap();
        assert_eq!(out["method"], "GET");
        assert_eq!(out["path"], "/version");
        assert!(out["data"]["version"].is_string(), "{out}");
        assert!(out.get("truncated").is_none(), "{out}");
    }
    // A query parameter as PVE takes it, rows projected.
    let out = d
        .call(
            "proxmox_api",
            json!({"method": "GET", "path": "/cluster/resources", "params": {"type": "vm"},
                   "fields": ["vmid", "name"]}),
        )
        .await
        .unwrap();
    let rows = out["data"].as_array().unwrap();
    assert!(
        rows.iter()
            .any(|r| r == &json!({"vmid": 102, "name": "db-01"})),
        "{out}"
    );
    assert!(
        rows.iter().all(|r| r.as_object().unwrap().len() == 2),
        "{out}"
    );
    let guests = d.sim().with_sim(|s| s.cluster.guests.len());
    assert!(
        out.get("truncated").is_none() || out["total"] == guests,
        "{out}"
    );
    // The whole resource list does not fit 1024 bytes: cut, counted, with a hint.
    let out = d
        .call("proxmox_api", api("GET", "/cluster/resources", json!({})))
        .await
        .unwrap();
    assert_eq!(out["truncated"], true, "{out}");
    let total = out["total"].as_u64().unwrap() as usize;
    let kept = out["data"].as_array().unwrap().len();
    assert!(total > kept && kept > 0, "{out}");
    assert_eq!(out["returned"], kept);
    assert!(out["hint"].as_str().unwrap().contains("fields"), "{out}");
    assert!(serde_json::to_string(&out["data"]).unwrap().len() <= 1024);
    // PVE's own errors come back as they are.
    let e = d
        .call("proxmox_api", api("GET", "/nodes/nope/status", json!({})))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), "pve", "{e}");
    let e = d
        .call("proxmox_api", api("GET", "/no/such/endpoint", json!({})))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("501"), "{e}");
}

#[tokio::test]
async fn a_write_needs_confirm_and_a_dry_run_shows_the_exact_request_sending_nothing() {
    let d = Demo::start().await;
    let create = api(
        "POST",
        "/pools",
        json!({"poolid": "api-test", "comment": "made by proxmox_api"}),
    );
    let pools = |d: &Demo| {
        d.sim()
            .with_sim(|s| s.cluster.pools.keys().cloned().collect::<Vec<_>>())
    };
    // Without confirm: refused, saying what it would do; nothing written.
    d.sim().clear_requests();
    let e = d.call("proxmox_api", create.clone()).await.unwrap_err();
    assert_eq!(e.kind(), "policy", "{e}");
    let text = e.to_string();
    assert!(
        text.contains("confirm: true") && text.contains("POST /pools"),
        "{text}"
    );
    assert_eq!(writes(&d), Vec::<String>::new());
    // Dry run: the exact request, nothing sent at all.
    let mut dry = create.clone();
    dry["dry_run"] = json!(true);
    d.sim().clear_requests();
    let plan = d.call("proxmox_api", dry).await.unwrap();
    assert_eq!(plan["dry_run"], true);
    assert_eq!(
        plan["planned_calls"],
        json!([{"method": "POST", "path": "/pools",
                "params": {"poolid": "api-test", "comment": "made by proxmox_api"}}])
    );
    assert_eq!(d.sim().requests().len(), 0, "a dry run sent something");
    assert!(!pools(&d).contains(&"api-test".to_string()));
    // Confirmed: done, and PVE's data is the answer.
    let mut go = create.clone();
    go["confirm"] = json!(true);
    let out = d.call("proxmox_api", go).await.unwrap();
    assert_eq!(out["method"], "POST");
    assert!(pools(&d).contains(&"api-test".to_string()));
    assert_eq!(writes(&d), vec!["POST /pools".to_string()]);
    let sent = d
        .sim()
        .requests()
        .into_iter()
        .find(|r| r.method == "POST")
        .unwrap();
    let mut params = sent.params.clone();
    params.sort();
    assert_eq!(
        params,
        vec![
            ("comment".to_string(), "made by proxmox_api".to_string()),
            ("poolid".to_string(), "api-test".to_string())
        ]
    );
    // A list goes as the parameter repeated; DELETE parameters go in the query.
    let out = d
        .call(
            "proxmox_api",
            json!({"method": "DELETE", "path": "/pools", "params": {"poolid": "api-test"},
                   "confirm": true}),
        )
        .await
        .unwrap();
    assert_eq!(out["method"], "DELETE");
    assert!(!pools(&d).contains(&"api-test".to_string()));
}

#[tokio::test]
async fn a_task_starting_post_is_followed_to_its_end() {
    let d = Demo::start().await;
    assert_eq!(d.guest_status(103).as_deref(), Some("stopped"));
    let out = d
        .call(
            "proxmox_api",
            json!({"method": "POST", "path": "/nodes/pve01/qemu/103/status/start",
                   "confirm": true, "wait_seconds": 10}),
        )
        .await
        .unwrap();
    let upid = out["data"].as_str().unwrap();
    assert!(upid.starts_with("UPID:pve01:"), "{out}");
    assert_eq!(out["task"]["upid"], upid);
    assert_eq!(out["task"]["task_status"], "done", "{out}");
    assert_eq!(out["task"]["exitstatus"], "OK", "{out}");
    assert_eq!(d.guest_status(103).as_deref(), Some("running"));
}

#[tokio::test]
async fn every_deny_rule_refuses_naming_itself_and_sends_nothing() {
    let d = guarded(GuardConfig {
        api: ApiConfig {
            deny: vec!["DELETE /cluster/firewall/**".into()],
            ..ApiConfig::default()
        },
        ..GuardConfig::default()
    })
    .await;
    let cases: Vec<(&str, &str, Value, &str)> = vec![
        (
            "POST",
            "/nodes/pve01/qemu/100/termproxy",
            json!({}),
            "**/termproxy",
        ),
        ("POST", "/nodes/pve01/termproxy", json!({}), "**/termproxy"),
        ("POST", "/nodes/pve01/vncshell", json!({}), "**/vncshell"),
        (
            "POST",
            "/nodes/pve01/spiceshell",
            json!({}),
            "**/spiceshell",
        ),
        (
            "GET",
            "/nodes/pve01/lxc/200/vncwebsocket",
            json!({"port": 5900, "vncticket": "x"}),
            "**/vncwebsocket",
        ),
        (
            "POST",
            "/nodes/pve01/qemu/100/vncproxy",
            json!({}),
            "**/vncproxy",
        ),
        (
            "POST",
            "/nodes/pve01/lxc/200/spiceproxy",
            json!({}),
            "**/spiceproxy",
        ),
        (
            "PUT",
            "/access/password",
            json!({"userid": "root@pam", "password": "x"}),
            "PUT /access/password",
        ),
        (
            "POST",
            "/access/tfa/root@pam",
            json!({"type": "totp"}),
            "POST /access/tfa/**",
        ),
        (
            "PUT",
            "/access/tfa/root@pam/abc",
            json!({}),
            "PUT /access/tfa/**",
        ),
        (
            "DELETE",
            "/access/tfa/root@pam/abc",
            json!({}),
            "DELETE /access/tfa/**",
        ),
        (
            "POST",
            "/access/users/root@pam/token/agent",
            json!({"privsep": 0}),
            "POST /access/users/*/token/*",
        ),
        (
            "POST",
            "/access/ticket",
            json!({"username": "root@pam", "password": "x"}),
            "POST /access/ticket",
        ),
        (
            "POST",
            "/nodes/pve01/status",
            json!({"command": "reboot"}),
            "POST /nodes/*/status",
        ),
        (
            "POST",
            "/nodes/pve02/status",
            json!({"command": "shutdown"}),
            "POST /nodes/*/status",
        ),
        (
            "POST",
            "/cluster/config/join",
            json!({"hostname": "10.0.0.1"}),
            "POST /cluster/config/join",
        ),
        (
            "POST",
            "/cluster/config/nodes/pve09",
            json!({}),
            "POST /cluster/config/nodes/*",
        ),
        // Reads that reach too far for a read key: guest files, URLs the node fetches.
        (
            "GET",
            "/nodes/pve01/qemu/100/agent/file-read",
            json!({"file": "/etc/shadow"}),
            "GET /nodes/*/qemu/*/agent/file-read",
        ),
        (
            "GET",
            "/nodes/pve01/query-url-metadata",
            json!({"url": "http://169.254.169.254/"}),
            "GET /nodes/*/query-url-metadata",
        ),
        (
            "GET",
            "/nodes/pve01/scan/cifs",
            json!({"server": "10.0.0.9"}),
            "GET /nodes/*/scan/cifs",
        ),
        // What would bypass the server's own checks: guest exec, API batches, tunnels.
        (
            "POST",
            "/nodes/pve01/qemu/100/agent/exec",
            json!({"command": "id"}),
            "POST /nodes/*/qemu/*/agent/exec",
        ),
        (
            "POST",
            "/nodes/pve01/execute",
            json!({"commands": "[]"}),
            "POST /nodes/*/execute",
        ),
        (
            "POST",
            "/nodes/pve01/lxc/200/mtunnel",
            json!({}),
            "POST /nodes/*/*/*/mtunnel",
        ),
        (
            "DELETE",
            "/cluster/firewall/rules/0",
            json!({}),
            "[guard.api] deny",
        ),
    ];
    for (method, path, params, rule) in cases {
        for extra in [
            json!({"confirm": true}),
            json!({"dry_run": true}),
            json!({}),
        ] {
            let mut args = api(method, path, params.clone());
            for (k, v) in extra.as_object().unwrap() {
                args[k] = v.clone();
            }
            refused_unsent(&d, args, "policy", rule).await;
        }
    }
    // Reading the same places is fine where no rule says otherwise.
    d.call("proxmox_api", api("GET", "/nodes/pve01/status", json!({})))
        .await
        .unwrap();
}

#[tokio::test]
async fn an_allow_list_restricts_everything_else_and_the_default_list_goes_only_when_told() {
    let d = guarded(GuardConfig {
        api: ApiConfig {
            allow: vec!["GET /cluster/**".into(), "GET /version".into()],
            ..ApiConfig::default()
        },
        ..GuardConfig::default()
    })
    .await;
    d.call("proxmox_api", api("GET", "/cluster/resources", json!({})))
        .await
        .unwrap();
    d.call("proxmox_api", api("GET", "/version", json!({})))
        .await
        .unwrap();
    for (m, p) in [
        ("GET", "/nodes"),
        ("POST", "/pools"),
        ("GET", "/access/users"),
    ] {
        let mut args = api(m, p, json!({"poolid": "x"}));
        args["confirm"] = json!(true);
        refused_unsent(
            &d,
            args,
            "policy",
            "allow list ([guard.api] allow: GET /cluster/**, GET /version)",
        )
        .await;
    }
    // An empty deny list keeps the built-in one; default_deny = false drops it.
    let d = guarded(GuardConfig {
        api: ApiConfig {
            deny: vec![],
            ..ApiConfig::default()
        },
        ..GuardConfig::default()
    })
    .await;
    let status = json!({"method": "POST", "path": "/nodes/pve01/status",
                        "params": {"command": "reboot"}, "dry_run": true});
    refused_unsent(&d, status.clone(), "policy", "built-in deny list").await;
    let d = guarded(GuardConfig {
        api: ApiConfig {
            default_deny: Some(false),
            ..ApiConfig::default()
        },
        ..GuardConfig::default()
    })
    .await;
    let plan = d.call("proxmox_api", status).await.unwrap();
    assert_eq!(plan["planned_calls"][0]["path"], "/nodes/pve01/status");
    assert_eq!(writes(&d), Vec::<String>::new());
}

#[tokio::test]
async fn hostile_paths_are_refused_before_any_request() {
    let d = Demo::start().await;
    let hostile = hostile_paths();
    assert!(hostile.len() >= 20);
    for path in &hostile {
        for method in ["GET", "POST"] {
            let mut args = api(method, path, json!({}));
            args["confirm"] = json!(true);
            refused_unsent(&d, args, "invalid_params", "path").await;
        }
    }
    // Bad methods and parameters are refused the same way.
    refused_unsent(
        &d,
        api("PATCH", "/version", json!({})),
        "invalid_params",
        "method",
    )
    .await;
    let mut args = api("POST", "/pools", json!({"poolid": {"nested": 1}}));
    args["confirm"] = json!(true);
    refused_unsent(&d, args, "invalid_params", "property string").await;
    let mut args = api("POST", "/pools", json!({"pool id&x=1": "a"}));
    args["confirm"] = json!(true);
    refused_unsent(&d, args, "invalid_params", "params").await;
}

#[tokio::test]
async fn protected_guests_hold_through_generic_paths() {
    let d = guarded(GuardConfig {
        protected_vmids: vec![101],
        ..GuardConfig::default()
    })
    .await;
    // VM 102 has PVE's protection flag; 101 is listed in the configuration; both on pve01.
    let cases: Vec<(&str, &str, Value)> = vec![
        ("POST", "/nodes/pve01/qemu/102/status/stop", json!({})),
        ("PUT", "/nodes/pve01/qemu/101/config", json!({"cores": 2})),
        ("DELETE", "/nodes/pve01/qemu/102", json!({"purge": 1})),
        (
            "POST",
            "/nodes/pve01/qemu/102/firewall/rules",
            json!({"type": "in", "action": "DROP"}),
        ),
        // A wrong node does not make a guest unprotected.
        ("POST", "/nodes/pve02/qemu/102/status/stop", json!({})),
        ("POST", "/cluster/ha/resources", json!({"sid": "vm:102"})),
        (
            "PUT",
            "/cluster/ha/resources/vm:101",
            json!({"state": "stopped"}),
        ),
        ("DELETE", "/cluster/ha/resources/102", json!({})),
        (
            "POST",
            "/cluster/ha/resources/vm:102/migrate",
            json!({"node": "pve02"}),
        ),
        (
            "POST",
            "/cluster/replication",
            json!({"id": "102-0", "target": "pve02", "type": "local"}),
        ),
        ("DELETE", "/cluster/replication/101-0", json!({})),
        (
            "POST",
            "/cluster/backup",
            json!({"vmid": "100,102", "mode": "stop", "storage": "nfs-backup", "schedule": "daily"}),
        ),
        (
            "POST",
            "/nodes/pve01/vzdump",
            json!({"vmid": "101", "mode": "suspend"}),
        ),
        ("POST", "/nodes/pve01/stopall", json!({"vms": "100,101"})),
        ("POST", "/nodes/pve01/suspendall", json!({})),
        // One of its disks, named in the path (a volume id without `/`).
        (
            "DELETE",
            "/nodes/pve01/storage/local-lvm/content/local-lvm:vm-102-disk-0",
            json!({}),
        ),
    ];
    for (method, path, params) in cases {
        for extra in [json!({"confirm": true}), json!({"dry_run": true})] {
            let mut args = api(method, path, params.clone());
            for (k, v) in extra.as_object().unwrap() {
                args[k] = v.clone();
            }
            d.sim().clear_requests();
            let e = d.call("proxmox_api", args.clone()).await.unwrap_err();
            assert_eq!(e.kind(), "policy", "{args}: {e}");
            assert!(e.to_string().contains("is protected"), "{args}: {e}");
            assert_eq!(writes(&d), Vec::<String>::new(), "{args} wrote");
        }
    }
    assert_eq!(d.guest_status(102).as_deref(), Some("running"));
    // An unprotected guest through the same kind of path: allowed.
    let out = d
        .call(
            "proxmox_api",
            json!({"method": "POST", "path": "/cluster/backup", "confirm": true,
                   "params": {"vmid": "100", "mode": "stop", "storage": "nfs-backup",
                              "schedule": "daily"}}),
        )
        .await;
    assert!(out.is_ok(), "{out:?}");
}
