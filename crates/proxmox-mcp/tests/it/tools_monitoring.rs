//! The `monitoring` toolset against the demo simulator: `get_metrics` (node, VM, container and
//! storage history in readable units, following the live figures of `/cluster/resources`,
//! downsampled, AVERAGE and MAX), `get_node_logs` and `get_cluster_log` (the tasks that ran,
//! newest last, filtered, capped), `list_node_services`, `list_updates` (security fixes
//! flagged, offline nodes set apart); their errors in PVE's words; a read key calling them over
//! MCP and REST; no audit line for these reads.

use proxmox_mcp::GuardConfig;
use rmcp::model::CallToolRequestParams;
use serde_json::{Value, json};

use crate::support::demo::{Demo, Want, check, guarded};
use crate::support::door::Door;
use crate::support::rest::{KEYS, Rest};

const MB: f64 = 1024.0 * 1024.0;

/// The entry of `/cluster/resources` whose `id` is `id`.
async fn resource(d: &Demo, id: &str) -> Value {
    let out = d
        .call(
            "proxmox_api",
            json!({"method": "GET", "path": "/cluster/resources"}),
        )
        .await
        .unwrap();
    out["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id)
        .cloned()
        .unwrap_or_else(|| panic!("no {id} in {out}"))
}

/// The series `name` of a `get_metrics` answer.
fn series<'a>(out: &'a Value, name: &str) -> &'a Value {
    out["series"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("no series {name} in {out}"))
}

fn names(out: &Value) -> Vec<&str> {
    out["series"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect()
}

fn close(a: f64, b: f64, within: f64) -> bool {
    (a - b).abs() <= within * b.abs().max(1.0)
}

#[tokio::test]
async fn metrics_follow_the_live_figures_in_readable_units() {
    let d = Demo::start().await;

    // A VM: CPU in percent, memory in MB, rates in MB/s; no disk use (PVE reports 0 for VMs).
    let vm = d.call("get_metrics", json!({"vmid": 100})).await.unwrap();
    assert_eq!(
        (vm["kind"].clone(), vm["node"].clone()),
        (json!("vm"), json!("pve01"))
    );
    assert_eq!(vm["timeframe"], "hour");
    assert_eq!(vm["cf"], "AVERAGE");
    assert_eq!(
        names(&vm),
        [
            "cpu",
            "memory_used",
            "net_in",
            "net_out",
            "disk_read",
            "disk_write"
        ]
    );
    // PVE keeps 70 points an hour, a minute apart: at most 60 means pairs of them.
    assert_eq!(vm["points"], 35, "{vm}");
    assert_eq!(vm["step_seconds"], 120);
    assert_eq!(
        vm["end"].as_i64().unwrap() - vm["start"].as_i64().unwrap(),
        34 * 120
    );
    let live = resource(&d, "qemu/100").await;
    let mem = series(&vm, "memory_used");
    assert_eq!(mem["unit"], "MB");
    assert_eq!(mem["values"].as_array().unwrap().len(), 35);
    let live_mb = live["mem"].as_f64().unwrap() / MB;
    assert!(
        close(mem["last"].as_f64().unwrap(), live_mb, 0.1),
        "{mem} vs live {live_mb}"
    );
    assert_eq!(
        vm["totals"]["memory_total_mb"].as_f64().unwrap(),
        live["maxmem"].as_f64().unwrap() / MB
    );
    assert_eq!(vm["totals"]["cpus"].as_f64(), live["maxcpu"].as_f64());
    let cpu = series(&vm, "cpu");
    assert_eq!(cpu["unit"], "%");
    let (min, avg, max) = (
        cpu["min"].as_f64().unwrap(),
        cpu["avg"].as_f64().unwrap(),
        cpu["max"].as_f64().unwrap(),
    );
    assert!(
        0.0 < min && min <= avg && avg <= max && max <= 100.0,
        "{cpu}"
    );
    // VM 100's base load is 12 % of its CPUs.
    assert!(close(avg, 12.0, 0.35), "{cpu}");
    let net = series(&vm, "net_in");
    assert_eq!(net["unit"], "MB/s");
    assert!(net["last"].as_f64().unwrap() > 0.0, "{net}");

    // The peaks are at least the averages.
    let peaks = d
        .call("get_metrics", json!({"vmid": 100, "cf": "MAX"}))
        .await
        .unwrap();
    assert_eq!(peaks["cf"], "MAX");
    assert!(
        series(&peaks, "cpu")["max"].as_f64().unwrap() >= max,
        "{peaks}"
    );

    // A container has its root filesystem use.
    let ct = d
        .call(
            "get_metrics",
            json!({"vmid": 200, "timeframe": "day", "points": 10}),
        )
        .await
        .unwrap();
    assert_eq!(ct["kind"], "container");
    assert_eq!(ct["points"], 10);
    assert_eq!(ct["step_seconds"], 7 * 1800, "70 half hours in 10 points");
    let live = resource(&d, "lxc/200").await;
    let disk = series(&ct, "disk_used");
    assert!(
        close(
            disk["last"].as_f64().unwrap(),
            live["disk"].as_f64().unwrap() / MB,
            0.05
        ),
        "{disk} vs {live}"
    );

    // A stopped VM used nothing.
    let stopped = d.call("get_metrics", json!({"vmid": 103})).await.unwrap();
    assert_eq!(series(&stopped, "cpu")["max"], 0.0, "{stopped}");

    // A node: its totals are the node's, its memory follows the live figure.
    let node = d
        .call("get_metrics", json!({"node": "pve01"}))
        .await
        .unwrap();
    assert_eq!(node["kind"], "node");
    assert_eq!(
        names(&node),
        [
            "cpu",
            "iowait",
            "loadavg",
            "memory_used",
            "swap_used",
            "rootfs_used",
            "net_in",
            "net_out"
        ]
    );
    let live = resource(&d, "node/pve01").await;
    assert_eq!(
        node["totals"]["memory_total_mb"].as_f64().unwrap(),
        live["maxmem"].as_f64().unwrap() / MB
    );
    let used = series(&node, "memory_used")["last"].as_f64().unwrap();
    assert!(
        close(used, live["mem"].as_f64().unwrap() / MB, 0.1),
        "{used} vs {live}"
    );

    // A storage, its node found from the cluster: its use is the live use.
    let st = d
        .call(
            "get_metrics",
            json!({"storage": "local-lvm", "timeframe": "week"}),
        )
        .await
        .unwrap();
    assert_eq!(st["kind"], "storage");
    assert_eq!(names(&st), ["used", "used_percent"]);
    let node = st["node"].as_str().unwrap().to_string();
    let live = resource(&d, &format!("storage/{node}/local-lvm")).await;
    let used = series(&st, "used")["last"].as_f64().unwrap();
    assert!(
        close(used, live["disk"].as_f64().unwrap() / MB, 0.001),
        "{used} vs {live}"
    );
    let pct = series(&st, "used_percent")["last"].as_f64().unwrap();
    let live_pct = live["disk"].as_f64().unwrap() / live["maxdisk"].as_f64().unwrap() * 100.0;
    assert!(close(pct, live_pct, 0.01), "{pct} vs {live_pct}");
}

#[tokio::test]
async fn metrics_errors_keep_pve_words() {
    let d = Demo::start().await;
    let cases = [
        (
            json!({"node": "nosuch"}),
            "pve",
            "hostname lookup 'nosuch' failed",
        ),
        (json!({"vmid": 999}), "pve", "guest 999 does not exist"),
        (
            json!({"node": "pve01", "storage": "nosuch"}),
            "pve",
            "storage 'nosuch' does not exist",
        ),
        (
            json!({"storage": "nosuch"}),
            "pve",
            "storage 'nosuch' does not exist",
        ),
        (
            json!({"node": "pve01", "timeframe": "decade"}),
            "invalid_params",
            "`timeframe`: value 'decade' does not have a value in the enumeration 'hour, day, week, month, year'",
        ),
        (
            json!({"node": "pve01", "cf": "MIN"}),
            "invalid_params",
            "`cf`: value 'MIN' does not have a value in the enumeration 'AVERAGE, MAX'",
        ),
        (
            json!({"node": "pve01", "points": 0}),
            "invalid_params",
            "`points`",
        ),
        (
            json!({"node": "pve01", "points": 201}),
            "invalid_params",
            "`points`",
        ),
        (json!({}), "invalid_params", "`node`"),
        (json!({"vmid": 50}), "invalid_params", "`vmid`"),
        (
            json!({"vmid": 100, "storage": "local"}),
            "invalid_params",
            "`storage`",
        ),
    ];
    for (args, kind, text) in cases {
        check(&d, "get_metrics", args, Want::Err(kind, text)).await;
    }
    // An offline node: PVE's refusal, and the server keeps serving.
    d.sim().with_sim(|s| {
        s.cluster.nodes.get_mut("pve03").unwrap().online = false;
    });
    check(
        &d,
        "get_metrics",
        json!({"node": "pve03"}),
        Want::Err("pve", "595"),
    )
    .await;
    d.call("get_metrics", json!({"node": "pve01"}))
        .await
        .unwrap();
}

/// Starts VM 103 (stopped in the demo) and returns its task's UPID.
async fn start_103(d: &Demo) -> String {
    let out = d.call("start_vm", json!({"vmid": 103})).await.unwrap();
    out["upid"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn node_logs_show_the_tasks_newest_last() {
    let d = Demo::start().await;
    let upid = start_103(&d).await;

    let out = d
        .call("get_node_logs", json!({"node": "pve01"}))
        .await
        .unwrap();
    let lines: Vec<&str> = out["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    assert_eq!(out["count"], lines.len());
    assert!(!lines.is_empty() && lines.len() <= 50, "{out}");
    let times: Vec<&str> = lines.iter().map(|l| l.split(' ').next().unwrap()).collect();
    assert!(
        times.windows(2).all(|w| w[0] <= w[1]),
        "oldest first, newest last (ISO times sort): {out}"
    );
    assert!(
        lines.iter().all(|l| !l.contains(" pve01 ")),
        "the host name is left out: {out}"
    );
    assert!(lines.iter().any(|l| l.contains(&upid)), "{out}");

    // The text filter, any case; one line, truncated, the newest.
    let only = d
        .call(
            "get_node_logs",
            json!({"node": "pve01", "filter": "QMSTART:103", "lines": 1}),
        )
        .await
        .unwrap();
    assert_eq!(only["count"], 1, "{only}");
    assert_eq!(only["truncated"], true, "start and end lines matched");
    let last = only["lines"][0].as_str().unwrap();
    assert!(last.contains("end task") && last.contains(&upid), "{last}");

    // A range: nothing from the future, everything in the past hour.
    let now = d.sim().now() as i64;
    let future = d
        .call(
            "get_node_logs",
            json!({"node": "pve01", "since": now + 3600}),
        )
        .await
        .unwrap();
    assert_eq!(future["count"], 0, "{future}");
    let hour = d
        .call(
            "get_node_logs",
            json!({"node": "pve01", "since": now - 3600, "until": now + 60, "filter": upid}),
        )
        .await
        .unwrap();
    assert_eq!(hour["count"], 2, "start and end of the task: {hour}");

    for (args, kind, text) in [
        (
            json!({"node": "nosuch"}),
            "pve",
            "hostname lookup 'nosuch' failed",
        ),
        (
            json!({"node": "pve01", "lines": 0}),
            "invalid_params",
            "`lines`",
        ),
        (
            json!({"node": "pve01", "lines": 501}),
            "invalid_params",
            "`lines`",
        ),
        (
            json!({"node": "pve01", "since": 200, "until": 100}),
            "invalid_params",
            "`until`",
        ),
        (json!({"node": " "}), "invalid_params", "`node`"),
        (json!({}), "invalid_params", "`node`"),
    ] {
        check(&d, "get_node_logs", args, Want::Err(kind, text)).await;
    }
}

#[tokio::test]
async fn cluster_log_shows_every_nodes_tasks_newest_last() {
    let d = Demo::start().await;
    let upid = start_103(&d).await;
    let out = d.call("get_cluster_log", json!({})).await.unwrap();
    let entries = out["entries"].as_array().unwrap();
    assert!(!entries.is_empty() && entries.len() <= 50, "{out}");
    let times: Vec<i64> = entries
        .iter()
        .map(|e| e["time"].as_i64().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "newest last: {out}");
    let newest = entries.last().unwrap();
    assert_eq!(newest["node"], "pve01");
    assert!(newest["msg"].as_str().unwrap().contains(&upid), "{newest}");
    assert_eq!(newest["severity"], "info");

    let one = d
        .call(
            "get_cluster_log",
            json!({"limit": 1, "filter": "qmstart:103"}),
        )
        .await
        .unwrap();
    assert_eq!(one["count"], 1);
    assert_eq!(one["truncated"], true, "{one}");
    let none = d
        .call(
            "get_cluster_log",
            json!({"filter": "no such text anywhere"}),
        )
        .await
        .unwrap();
    assert_eq!(none["count"], 0);
    for limit in [0, 501] {
        check(
            &d,
            "get_cluster_log",
            json!({"limit": limit}),
            Want::Err("invalid_params", "`limit`"),
        )
        .await;
    }
}

#[tokio::test]
async fn services_and_updates_of_the_nodes() {
    let d = Demo::start().await;
    let out = d
        .call("list_node_services", json!({"node": "pve02"}))
        .await
        .unwrap();
    let proxy = out["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["service"] == "pveproxy")
        .unwrap();
    assert_eq!(proxy["state"], "running");
    assert_eq!(proxy["unit_state"], "enabled");
    assert!(out.get("not_running").is_none(), "{out}");
    // A stopped daemon shows, a disabled one does not.
    d.sim().with_sim(|s| {
        s.cluster
            .services
            .insert(("pve02".into(), "pvestatd".into()), false);
    });
    let out = d
        .call("list_node_services", json!({"node": "pve02"}))
        .await
        .unwrap();
    assert_eq!(out["not_running"], json!(["pvestatd"]), "{out}");
    check(
        &d,
        "list_node_services",
        json!({"node": "nosuch"}),
        Want::Err("pve", "hostname lookup 'nosuch' failed"),
    )
    .await;

    let all = d.call("list_updates", json!({})).await.unwrap();
    let nodes = all["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 3, "{all}");
    for n in nodes {
        assert_eq!(n["security"], 2, "openssl and libssl3t64: {n}");
        let first: Vec<&str> = n["updates"].as_array().unwrap()[..2]
            .iter()
            .map(|u| u["package"].as_str().unwrap())
            .collect();
        assert_eq!(first, ["libssl3t64", "openssl"], "security fixes first");
        let tz = n["updates"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["package"] == "tzdata")
            .unwrap();
        assert!(tz.get("security").is_none(), "a stable update: {tz}");
        assert_eq!(tz["installed"], "2025b-4");
    }
    d.sim().with_sim(|s| {
        s.cluster.nodes.get_mut("pve03").unwrap().online = false;
    });
    let two = d.call("list_updates", json!({})).await.unwrap();
    assert_eq!(two["nodes"].as_array().unwrap().len(), 2, "{two}");
    let one = d
        .call("list_updates", json!({"node": "pve02"}))
        .await
        .unwrap();
    assert_eq!(one["nodes"][0]["node"], "pve02");
    check(
        &d,
        "list_updates",
        json!({"node": "pve03"}),
        Want::Err("pve", "595"),
    )
    .await;
}

/// Each tool and arguments that work on the demo.
fn calls() -> Vec<(&'static str, Value)> {
    vec![
        ("get_metrics", json!({"node": "pve01", "points": 5})),
        ("get_node_logs", json!({"node": "pve01", "lines": 5})),
        ("get_cluster_log", json!({"limit": 5})),
        ("list_node_services", json!({"node": "pve01"})),
        ("list_updates", json!({"node": "pve01"})),
    ]
}

#[tokio::test]
async fn a_read_key_calls_them_over_mcp_and_rest() {
    let door = Door::with_keys().await;
    let reader = KEYS[0].2;
    let client = door.client(reader).await;
    let tools = client.list_all_tools().await.unwrap();
    for (tool, args) in calls() {
        let t = tools.iter().find(|t| t.name == tool).unwrap();
        let hints = t.annotations.as_ref().unwrap();
        assert_eq!(hints.read_only_hint, Some(true), "{tool}");
        assert!(t.output_schema.is_some(), "{tool}");
        let r = client
            .call_tool(
                CallToolRequestParams::new(tool).with_arguments(args.as_object().unwrap().clone()),
            )
            .await
            .unwrap();
        assert_eq!(r.is_error, Some(false), "{tool}: {r:?}");
        assert!(
            r.structured_content.is_some_and(|v| v.is_object()),
            "{tool}"
        );
    }
    client.cancel().await.unwrap();

    let r = Rest::with_keys(proxmox_mcp::RateLimiter::unlimited()).await;
    for (tool, args) in calls() {
        let (s, _, v) = r
            .send(
                reqwest::Method::POST,
                &format!("/{tool}"),
                Some(&args.to_string()),
                Some(reader),
            )
            .await;
        assert_eq!(s, 200, "{tool}: {v}");
        assert!(v.is_object(), "{tool}: {v}");
    }
    // A bad timeframe over REST: PVE's words, in mcpo's error shape.
    let (s, _, v) = r
        .send(
            reqwest::Method::POST,
            "/get_metrics",
            Some(r#"{"node": "pve01", "timeframe": "century"}"#),
            Some(reader),
        )
        .await;
    assert_eq!(s, 422, "{v}");
    assert!(
        v["detail"]["message"]
            .as_str()
            .unwrap()
            .contains("value 'century' does not have a value in the enumeration"),
        "{v}"
    );
}

#[tokio::test]
async fn reads_leave_no_audit_line() {
    let dir = std::env::temp_dir().join(format!("pmcp-monitor-audit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("audit.jsonl");
    let _ = std::fs::remove_file(&log);
    let d = guarded(GuardConfig {
        audit_log: Some(log.clone()),
        ..GuardConfig::default()
    })
    .await;
    for (tool, args) in calls() {
        d.call(tool, args).await.unwrap();
    }
    let before = std::fs::read_to_string(&log).unwrap_or_default();
    assert_eq!(before.lines().count(), 0, "{before}");
    // A write through the same registry is audited: the log works.
    d.call("start_vm", json!({"vmid": 103})).await.unwrap();
    let after = std::fs::read_to_string(&log).unwrap();
    assert_eq!(after.lines().count(), 1, "{after}");
    assert!(after.contains("start_vm"), "{after}");
}
