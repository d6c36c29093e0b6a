//! List answers that fit a context window: `get_vms` and `get_containers` page (`limit`,
//! default 200, `offset`, `total`, `next_offset` and a hint in the text), filter before paging
//! (`node`, `status`, `tag`, `name`, `pool`), project (`fields`: a short row by default, `all`
//! for every field) and summarise (`summary`), over MCP (Streamable HTTP) and REST, on a
//! 2,000-guest simulated cluster (pools on the demo cluster, which has them); with no arguments
//! on a small cluster they still answer every guest.

use std::collections::BTreeSet;

use proxmox_mcp::{McpHttpConfig, RestConfig};
use pve_sim::seed::ClusterBuilder;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use crate::support::demo::{Demo, assert_conforms, serve_doors};
use crate::support::session::{Mcp, text};

/// The fields of a default row (those that are set).
const SHORT_ROW: &[&str] = &[
    "vmid",
    "name",
    "node",
    "status",
    "cpus",
    "memory_mb",
    "template",
    "lock",
    "tags",
    "pool",
];

fn vmids(rows: &Value) -> Vec<u64> {
    rows.as_array()
        .unwrap()
        .iter()
        .map(|r| r["vmid"].as_u64().unwrap())
        .collect()
}

/// Every row of `tool` through REST, page by page (`limit` 300), following `next_offset`.
async fn walk(http: &reqwest::Client, rest: &str, tool: &str, rows_key: &str) -> Vec<Value> {
    let mut all = Vec::new();
    let mut offset = 0;
    loop {
        let out: Value = http
            .post(format!("{rest}/{tool}"))
            .json(&json!({"limit": 300, "offset": offset}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let rows = out[rows_key].as_array().unwrap();
        assert_eq!(out["count"], rows.len());
        all.extend(rows.iter().cloned());
        match out["next_offset"].as_u64() {
            Some(next) => {
                assert_eq!(next, offset + rows.len() as u64);
                offset = next;
            }
            None => {
                assert_eq!(out["total"], all.len());
                assert!(out.get("hint").is_none());
                return all;
            }
        }
    }
}

#[tokio::test]
async fn the_2000_guest_cluster_pages_filters_projects_and_summarises() {
    let cluster = ClusterBuilder::new().nodes(10).vms(1600).cts(400).build();
    let demo = Demo::with(cluster, 0.0).await;
    let shutdown = CancellationToken::new();
    let (mcp_base, rest) = serve_doors(
        &demo.app,
        McpHttpConfig::default(),
        RestConfig::default(),
        &shutdown,
    )
    .await;
    let mcp = Mcp::open(&mcp_base).await;
    let http = reqwest::Client::new();

    // The default answer over MCP: the first 200 VMs, the total and how to get the rest.
    let first = mcp.call("get_vms", json!({})).await;
    assert_ne!(first["isError"], true, "{first}");
    let out = &first["structuredContent"];
    assert_conforms(&demo.app, "get_vms", out);
    assert_eq!((&out["count"], &out["total"]), (&json!(200), &json!(1600)));
    assert_eq!(out["next_offset"], 200);
    let ids = vmids(&out["vms"]);
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "sorted by VMID");
    let hint = out["hint"].as_str().unwrap();
    assert!(
        hint.contains("offset 200") && hint.contains("1600"),
        "{hint}"
    );
    assert!(
        text(&first).contains(hint),
        "the hint is in the text content"
    );
    // The short row, within the budget of 8,000 o200k tokens, as text and as structured content.
    let o200k = tiktoken_rs::o200k_base().unwrap();
    let tokens = o200k.encode_ordinary(&text(&first)).len();
    let structured = o200k.encode_ordinary(&out.to_string()).len();
    assert!(
        tokens <= 8_000 && structured <= 8_000,
        "default get_vms on 2,000 guests: {tokens} o200k tokens of text, {structured} structured"
    );
    for r in out["vms"].as_array().unwrap() {
        for k in r.as_object().unwrap().keys() {
            assert!(SHORT_ROW.contains(&k.as_str()), "{k} in a default row: {r}");
        }
    }
    assert!(hint.contains("fields: all"), "{hint}");
    // Every field with `fields: all`: the live figures of running VMs.
    let full = mcp
        .call("get_vms", json!({"fields": "all", "limit": 20}))
        .await;
    let full = &full["structuredContent"];
    assert_conforms(&demo.app, "get_vms", full);
    let running = full["vms"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["status"] == "running")
        .unwrap();
    for k in ["cpu_percent", "memory_used_mb", "uptime_seconds", "disk_gb"] {
        assert!(running.get(k).is_some(), "{k} in {running}");
    }

    // Every VM once, page after page, through REST.
    let all = walk(&http, &rest, "get_vms", "vms").await;
    let all_ids = vmids(&Value::Array(all.clone()));
    assert_eq!(all_ids.len(), 1600);
    assert_eq!(
        all_ids.iter().collect::<BTreeSet<_>>().len(),
        1600,
        "no VM twice"
    );
    assert_eq!(all_ids[..200], ids[..], "the first page is the same");
    let cts = walk(&http, &rest, "get_containers", "containers").await;
    assert_eq!(cts.len(), 400);

    // Filters apply before paging, each one as the rows say.
    let tagged = all
        .iter()
        .find_map(|r| r["tags"].as_array().and_then(|t| t.first()).cloned())
        .expect("some VM has a tag");
    type Keep = fn(&Value, &Value) -> bool;
    let cases: [(Value, Keep); 4] = [
        (json!({"node": "pve03"}), |r, _| r["node"] == "pve03"),
        (json!({"status": "stopped"}), |r, _| {
            r["status"] == "stopped"
        }),
        (json!({"tag": tagged}), |r, v| {
            r["tags"].as_array().is_some_and(|t| t.contains(&v["tag"]))
        }),
        (json!({"name": "1"}), |r, _| {
            r["name"].as_str().unwrap().to_lowercase().contains('1')
        }),
    ];
    for (args, keep) in cases {
        let want: Vec<u64> = all
            .iter()
            .filter(|r| keep(r, &args))
            .map(|r| r["vmid"].as_u64().unwrap())
            .collect();
        assert!(!want.is_empty() && want.len() < 1600, "{args}");
        let mut with_limit = args.clone();
        with_limit["limit"] = json!(1000);
        let (status, out) = rest_post(&http, &rest, "get_vms", &with_limit).await;
        assert_eq!(status, 200, "{out}");
        assert_eq!(out["total"], want.len(), "{args}");
        assert_eq!(vmids(&out["vms"]), want, "{args}");
        // Paged: the total stays the filtered one.
        let mut paged = args.clone();
        paged["limit"] = json!(3);
        paged["offset"] = json!(1);
        let r = mcp.call("get_vms", paged).await;
        let out = &r["structuredContent"];
        assert_eq!(out["total"], want.len(), "{args}");
        assert_eq!(vmids(&out["vms"]), want[1..4.min(want.len())], "{args}");
    }

    // A projection through REST's GET: only the fields asked for (and the VMID).
    let resp: Value = http
        .get(format!(
            "{rest}/get_containers?fields=name&fields=status&limit=5&offset=395"
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_conforms(&demo.app, "get_containers", &resp);
    let rows = resp["containers"].as_array().unwrap();
    assert_eq!(rows.len(), 5);
    for r in rows {
        let keys: BTreeSet<&str> = r.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, BTreeSet::from(["vmid", "name", "status"]), "{r}");
    }
    assert!(resp.get("next_offset").is_none() && resp.get("hint").is_none());

    // The fleet at a glance, over MCP, in under 500 tokens.
    let r = mcp.call("get_vms", json!({"summary": true})).await;
    let out = &r["structuredContent"];
    assert_conforms(&demo.app, "get_vms", out);
    let summary = &out["summary"];
    let by_status: u64 = summary["by_status"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    let by_node: u64 = summary["by_node"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!((by_status, by_node), (1600, 1600));
    assert_eq!(summary["by_node"].as_object().unwrap().len(), 10);
    let top_cpu = summary["top_cpu"].as_array().unwrap();
    assert_eq!(top_cpu.len(), 5);
    // Live figures move with simulated time: the order and the members are what is stable.
    let cpu: Vec<f64> = top_cpu
        .iter()
        .map(|t| t["cpu_percent"].as_f64().unwrap())
        .collect();
    assert!(cpu.windows(2).all(|w| w[0] >= w[1]), "{cpu:?}");
    let running: BTreeSet<u64> = all
        .iter()
        .filter(|r| r["status"] == "running")
        .map(|r| r["vmid"].as_u64().unwrap())
        .collect();
    for t in top_cpu
        .iter()
        .chain(summary["top_memory"].as_array().unwrap())
    {
        assert!(running.contains(&t["vmid"].as_u64().unwrap()), "{t}");
    }
    let tokens = tiktoken_rs::o200k_base()
        .unwrap()
        .encode_ordinary(&text(&r))
        .len();
    assert!(tokens < 500, "the summary costs {tokens} o200k tokens");
    shutdown.cancel();
}

async fn rest_post(http: &reqwest::Client, rest: &str, tool: &str, args: &Value) -> (u16, Value) {
    let resp = http
        .post(format!("{rest}/{tool}"))
        .json(args)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap())
}

#[tokio::test]
async fn no_arguments_on_a_small_cluster_answer_every_guest() {
    let cluster = ClusterBuilder::new().nodes(3).vms(150).cts(40).build();
    let d = Demo::with(cluster, 0.0).await;
    let out = d.call("get_vms", json!({})).await.unwrap();
    assert_eq!((&out["count"], &out["total"]), (&json!(150), &json!(150)));
    assert_eq!(out["vms"].as_array().unwrap().len(), 150);
    assert!(out.get("next_offset").is_none() && out.get("hint").is_none());
    // Every row says what the guest is.
    for r in out["vms"].as_array().unwrap() {
        for k in ["vmid", "name", "node", "status", "cpus", "memory_mb"] {
            assert!(r.get(k).is_some(), "{k} in {r}");
        }
    }
    let out = d.call("get_containers", json!(null)).await.unwrap();
    assert_eq!((&out["count"], &out["total"]), (&json!(40), &json!(40)));

    // A homelab's page (up to 50 rows) keeps the live figures without `fields`; a bigger page
    // gets the short row (above).
    let home = Demo::with(ClusterBuilder::new().nodes(1).vms(12).cts(3).build(), 0.0).await;
    let out = home.call("get_vms", json!({})).await.unwrap();
    let rows = out["vms"].as_array().unwrap();
    assert_eq!(rows.len(), 12);
    let running: Vec<&Value> = rows.iter().filter(|r| r["status"] == "running").collect();
    assert!(!running.is_empty(), "{out}");
    for r in running {
        for k in ["cpu_percent", "memory_used_mb", "uptime_seconds"] {
            assert!(r.get(k).is_some(), "{k} in a homelab row: {r}");
        }
    }
    let big = d.call("get_vms", json!({})).await.unwrap();
    assert!(
        big["vms"][0].get("memory_used_mb").is_none()
            && big["vms"][0].get("uptime_seconds").is_none(),
        "{}",
        big["vms"][0]
    );
}

#[tokio::test]
async fn bad_paging_arguments_are_refused_and_the_pool_filter_applies() {
    let d = Demo::start().await;
    for (args, param) in [
        (json!({"limit": 0}), "limit"),
        (json!({"limit": 5000}), "limit"),
        (json!({"limit": "many"}), "limit"),
        (json!({"offset": -1}), "offset"),
        (json!({"fields": ["vmid", "nmae"]}), "fields"),
        (json!({"summary": "perhaps"}), "summary"),
    ] {
        let e = d.call("get_vms", args.clone()).await.unwrap_err();
        assert_eq!(e.kind(), "invalid_params", "{args}: {e}");
        assert!(e.to_string().contains(param), "{args}: {e}");
    }
    // The pool filter (the demo cluster has pools), before paging.
    let all = d.call("get_vms", json!({})).await.unwrap();
    let want: Vec<u64> = all["vms"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["pool"] == "production")
        .map(|r| r["vmid"].as_u64().unwrap())
        .collect();
    assert!(!want.is_empty() && want.len() < all["vms"].as_array().unwrap().len());
    let out = d
        .call("get_vms", json!({"pool": "production", "limit": 1}))
        .await
        .unwrap();
    assert_eq!(out["total"], want.len());
    assert_eq!(vmids(&out["vms"]), want[..1]);
    // Strings for numbers and one comma-separated text for fields, as form-based clients send.
    let out = d
        .call(
            "get_vms",
            json!({"limit": "2", "offset": "1", "fields": "name, status"}),
        )
        .await
        .unwrap();
    assert_eq!(out["count"], 2);
    assert_eq!(
        out["vms"][0].as_object().unwrap().len(),
        3,
        "{}",
        out["vms"][0]
    );
    // An offset past the end: no rows, the total, no next page.
    let out = d.call("get_vms", json!({"offset": 10_000})).await.unwrap();
    assert_eq!(out["count"], 0);
    assert!(out["total"].as_u64().unwrap() > 0);
    assert!(out.get("next_offset").is_none());
}
