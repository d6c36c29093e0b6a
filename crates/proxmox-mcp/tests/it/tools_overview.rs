//! `get_cluster_overview` against the simulator: the demo cluster's nodes, guest counts,
//! storage fullest first, locked guests, a failed last task (cleared by a later success),
//! HA states and an offline node in `problems`; a task list PVE cannot give; over MCP
//! (Streamable HTTP) and REST; and its answer stays a few hundred tokens on the 2,000-guest
//! cluster.

use proxmox_mcp::{McpHttpConfig, RestConfig};
use pve_sim::faults::Fault;
use pve_sim::seed::ClusterBuilder;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use crate::support::demo::{Demo, assert_conforms, serve_doors};
use crate::support::mcp::{handshake, post};

/// The o200k tokens the answer may cost on the 2,000-guest cluster.
const LARGE_BUDGET: usize = 600;

fn problems(out: &Value) -> Vec<String> {
    out["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn the_demo_cluster_at_a_glance() {
    let d = Demo::start().await;
    let out = d.call("get_cluster_overview", json!({})).await.unwrap();
    assert_eq!(out["quorate"], true, "{out}");
    assert!(out["cluster"].is_string());
    // Every node of the simulator, online, with its figures and its guests by status.
    let (names, running, stopped, templates, vms, cts) = d.sim().with_sim(|s| {
        let g = || s.cluster.guests.values();
        (
            s.cluster.nodes.keys().cloned().collect::<Vec<_>>(),
            g().filter(|g| g.status.as_str() == "running").count(),
            g().filter(|g| g.status.as_str() == "stopped" && !g.is_template())
                .count(),
            g().filter(|g| g.is_template()).count(),
            g().filter(|g| g.kind == pve_sim::state::GuestKind::Qemu)
                .count(),
            g().filter(|g| g.kind == pve_sim::state::GuestKind::Lxc)
                .count(),
        )
    });
    let nodes = out["nodes"].as_array().unwrap();
    let got: Vec<&str> = nodes.iter().map(|n| n["node"].as_str().unwrap()).collect();
    assert_eq!(got, names);
    for n in nodes {
        assert_eq!(n["status"], "online");
        assert!(n["cpu_percent"].as_f64().unwrap() >= 0.0);
        let mem = n["memory_percent"].as_f64().unwrap();
        assert!(mem > 0.0 && mem < 100.0, "{n}");
    }
    let per_node: u64 = nodes.iter().map(|n| n["running"].as_u64().unwrap()).sum();
    assert_eq!(per_node as usize, running);
    assert_eq!(out["guests"]["running"], running);
    assert_eq!(out["guests"]["stopped"], stopped);
    assert_eq!(out["guests"]["templates"], templates);
    assert_eq!(
        (&out["guests"]["vms"], &out["guests"]["containers"]),
        (&json!(vms), &json!(cts))
    );
    // Storage fullest first.
    let used: Vec<f64> = out["storage"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["used_percent"].as_f64().unwrap())
        .collect();
    assert!(!used.is_empty());
    assert!(used.windows(2).all(|w| w[0] >= w[1]), "{used:?}");
    assert!(out["storage_total"].as_u64().unwrap() >= used.len() as u64);
    // VM 105 is held by a backup; HA manages VMs 102 and 104, both started.
    assert_eq!(
        out["locked"],
        json!([{"vmid": 105, "node": "pve02", "lock": "backup"}])
    );
    assert_eq!(out["ha"]["resources"], json!({"started": 2}), "{out}");
    assert_eq!(out["ha"]["quorum"], "OK");
    assert!(out["ha"]["master"].is_string());
    assert_eq!(problems(&out), vec!["1 guest(s) locked"]);
    assert!(out.get("failed_tasks").is_none(), "no task ran yet: {out}");
}

#[tokio::test]
async fn failures_offline_nodes_and_ha_errors_show_as_problems() {
    let d = Demo::start().await;
    // VM 106 is running: starting it fails, and the overview names the failed task.
    let e = d.call("start_vm", json!({"vmid": 106})).await.unwrap_err();
    assert!(e.to_string().contains("already running"), "{e}");
    let out = d.call("get_cluster_overview", json!({})).await.unwrap();
    let failed = out["failed_tasks"].as_array().unwrap();
    assert_eq!(failed.len(), 1, "{out}");
    assert_eq!(failed[0]["vmid"], 106);
    assert_eq!(failed[0]["type"], "qmstart");
    assert!(
        failed[0]["error"]
            .as_str()
            .unwrap()
            .contains("already running")
    );
    let upid = failed[0]["upid"].as_str().unwrap();
    let task = d.call("get_task", json!({"upid": upid})).await.unwrap();
    assert_eq!(task["ok"], false, "{task}");
    assert!(problems(&out).contains(&"1 recent task(s) failed".to_string()));

    // A later success clears it: only a guest's last task counts.
    d.call("shutdown_vm", json!({"vmid": 106})).await.unwrap();
    let out = d.call("get_cluster_overview", json!({})).await.unwrap();
    assert!(out.get("failed_tasks").is_none(), "{out}");

    // A node goes offline and an HA resource fails.
    d.sim().with_sim(|s| {
        s.cluster.nodes.get_mut("pve03").unwrap().online = false;
        s.cluster.guests.get_mut(&104).unwrap().hastate = Some("error".into());
    });
    let out = d.call("get_cluster_overview", json!({})).await.unwrap();
    let p = problems(&out);
    assert!(p.contains(&"node pve03 is offline".to_string()), "{p:?}");
    assert!(
        p.contains(&"HA resource vm:104 is in state error".to_string()),
        "{p:?}"
    );
    let pve03 = out["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["node"] == "pve03")
        .unwrap();
    assert_eq!(pve03["status"], "offline");
    assert!(pve03.get("cpu_percent").is_none(), "{pve03}");
    assert_eq!(out["ha"]["resources"], json!({"error": 1, "started": 1}));
}

#[tokio::test]
async fn the_rest_answers_when_the_task_list_fails_and_bad_input_is_refused() {
    let d = Demo::start().await;
    d.sim()
        .inject(Fault::status(500, "task list unavailable").path("^/cluster/tasks$"))
        .unwrap();
    let out = d.call("get_cluster_overview", json!({})).await.unwrap();
    assert!(
        problems(&out)
            .iter()
            .any(|p| p.starts_with("recent tasks not readable")
                && p.contains("task list unavailable")),
        "{out}"
    );
    assert_eq!(out["nodes"].as_array().unwrap().len(), 3);
    // Without the cluster's resources there is no overview: PVE's error, as it said it.
    d.sim()
        .inject(Fault::status(500, "cluster not ready - no quorum?").path("^/cluster/resources$"))
        .unwrap();
    let e = d.call("get_cluster_overview", json!({})).await.unwrap_err();
    assert!(e.to_string().contains("no quorum"), "{e}");
    // An unknown parameter.
    let e = d
        .call("get_cluster_overview", json!({"node": "pve01"}))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), "invalid_params", "{e}");
}

/// `tools/call` over a Streamable HTTP session at `base`: the result.
async fn mcp_call(base: &str, tool: &str, args: Value) -> Value {
    let http = reqwest::Client::new();
    let url = format!("{base}/proxmox/mcp");
    let (session, init) = handshake(&http, &url, "2025-06-18").await;
    let version = init["protocolVersion"].as_str().unwrap().to_string();
    let (status, _, msgs) = post(
        &http,
        &url,
        &[
            ("mcp-session-id", &session),
            ("mcp-protocol-version", &version),
        ],
        json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
               "params": {"name": tool, "arguments": args}}),
    )
    .await;
    assert_eq!(status, 200);
    msgs.last().unwrap()["result"].clone()
}

#[tokio::test]
async fn a_few_hundred_tokens_on_the_2000_guest_cluster_over_mcp_and_rest() {
    let cluster = ClusterBuilder::new().nodes(10).vms(1600).cts(400).build();
    let d = Demo::with(cluster, 0.0).await;
    let shutdown = CancellationToken::new();
    let (mcp, rest) = serve_doors(
        &d.app,
        McpHttpConfig::default(),
        RestConfig::default(),
        &shutdown,
    )
    .await;
    let result = mcp_call(&mcp, "get_cluster_overview", json!({})).await;
    assert_ne!(result["isError"], true, "{result}");
    let out = &result["structuredContent"];
    assert_conforms(&d.app, "get_cluster_overview", out);
    assert_eq!(out["nodes"].as_array().unwrap().len(), 10);
    let g = &out["guests"];
    assert_eq!((&g["vms"], &g["containers"]), (&json!(1600), &json!(400)));
    let text: String = result["content"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["text"].as_str())
        .collect();
    let bpe = tiktoken_rs::o200k_base().unwrap();
    let tokens = bpe.encode_ordinary(&text).len();
    let structured = bpe.encode_ordinary(&out.to_string()).len();
    eprintln!(
        "get_cluster_overview on 2,000 guests: {tokens} o200k tokens of text, {structured} structured"
    );
    assert!(tokens <= LARGE_BUDGET, "{tokens} tokens: {text}");
    assert!(structured <= LARGE_BUDGET, "{structured} tokens: {out}");

    // REST gives the same overview.
    let got: Value = reqwest::Client::new()
        .post(format!("{rest}/get_cluster_overview"))
        .json(&json!({}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(got["guests"], out["guests"]);
    assert_eq!(got["nodes"].as_array().unwrap().len(), 10);
    shutdown.cancel();
}
