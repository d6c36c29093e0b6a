//! The `cluster` toolset (`get_ha_status`, `list_pools`) and the backup jobs of the `backups`
//! toolset (`list_backup_jobs`, `get_backup_coverage`) against the demo simulator: what each
//! answers, checked against the simulator's own state; a PVE without HA rules; unknown pools
//! and parameters; over MCP (Streamable HTTP) and REST.

use std::collections::BTreeSet;

use proxmox_mcp::{McpHttpConfig, RestConfig};
use pve_sim::faults::Fault;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use crate::support::demo::{Demo, serve_doors};
use crate::support::mcp::{handshake, post};

fn vmids(rows: &Value) -> Vec<u64> {
    rows.as_array()
        .unwrap()
        .iter()
        .map(|r| r["vmid"].as_u64().unwrap())
        .collect()
}

#[tokio::test]
async fn ha_status_shows_the_manager_the_guests_and_the_rules() {
    let d = Demo::start().await;
    let out = d.call("get_ha_status", json!({})).await.unwrap();
    assert_eq!(
        (&out["quorum"], &out["quorate"]),
        (&json!("OK"), &json!(true)),
        "{out}"
    );
    assert!(out["master"].as_str().unwrap().contains("active"), "{out}");
    assert_eq!(out["nodes"].as_array().unwrap().len(), 3);
    let managed: Vec<u32> = d.sim().with_sim(|s| {
        s.cluster
            .guests
            .values()
            .filter(|g| g.hastate.is_some())
            .map(|g| g.vmid)
            .collect()
    });
    let sids: Vec<String> = out["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["sid"].as_str().unwrap().to_string())
        .collect();
    let want: Vec<String> = managed.iter().map(|v| format!("vm:{v}")).collect();
    assert_eq!(sids, want);
    let first = &out["resources"][0];
    assert_eq!(
        (&first["state"], &first["requested"]),
        (&json!("started"), &json!("started"))
    );
    assert_eq!(first["max_restart"], 1);
    let rules = out["rules"].as_array().unwrap();
    let names: Vec<&str> = rules.iter().map(|r| r["rule"].as_str().unwrap()).collect();
    assert_eq!(names, ["db-apart", "db-prefer-pve01"]);
    assert_eq!(rules[0]["type"], "resource-affinity");
    assert_eq!(rules[0]["settings"]["affinity"], "negative");
    assert_eq!(rules[1]["settings"]["nodes"], "pve01:2,pve02:1");
    assert!(out.get("note").is_none());

    // A guest in error shows so; a PVE without rules (before 9) still answers, and says why.
    d.sim()
        .with_sim(|s| s.cluster.guests.get_mut(&104).unwrap().hastate = Some("error".into()));
    d.sim()
        .inject(
            Fault::status(501, "Method 'GET /cluster/ha/rules' not implemented")
                .path("^/cluster/ha/rules$"),
        )
        .unwrap();
    let out = d.call("get_ha_status", json!({})).await.unwrap();
    let db2 = out["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["sid"] == "vm:104")
        .unwrap();
    assert_eq!(db2["state"], "error", "{out}");
    assert!(out.get("rules").is_none(), "{out}");
    assert!(
        out["note"].as_str().unwrap().contains("not implemented"),
        "{out}"
    );
    let e = d
        .call("get_ha_status", json!({"node": "pve01"}))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), "invalid_params", "{e}");
}

#[tokio::test]
async fn pools_list_their_guests_and_storages() {
    let d = Demo::start().await;
    let out = d.call("list_pools", json!({})).await.unwrap();
    let pools = out["pools"].as_array().unwrap();
    let names: Vec<&str> = pools.iter().map(|p| p["pool"].as_str().unwrap()).collect();
    let want: Vec<String> = d
        .sim()
        .with_sim(|s| s.cluster.pools.keys().cloned().collect());
    assert_eq!(names, want);
    let prod = pools.iter().find(|p| p["pool"] == "production").unwrap();
    let in_prod: Vec<u64> = d.sim().with_sim(|s| {
        s.cluster
            .guests
            .values()
            .filter(|g| g.pool.as_deref() == Some("production"))
            .map(|g| u64::from(g.vmid))
            .collect()
    });
    assert_eq!(vmids(&prod["guests"]), in_prod);
    assert_eq!(prod["storages"], json!(["nfs-backup"]));
    assert_eq!(prod["comment"], "Customer-facing services");
    let web = &prod["guests"][0];
    assert_eq!(
        (
            &web["vmid"],
            &web["type"],
            &web["name"],
            &web["node"],
            &web["status"]
        ),
        (
            &json!(100),
            &json!("qemu"),
            &json!("web-01"),
            &json!("pve01"),
            &json!("running")
        )
    );
    let lab = pools.iter().find(|p| p["pool"] == "lab").unwrap();
    assert_eq!((&lab["guests"], &lab["storages"]), (&json!([]), &json!([])));

    let one = d.call("list_pools", json!({"pool": "lab"})).await.unwrap();
    assert_eq!(one["pools"].as_array().unwrap().len(), 1);
    let e = d
        .call("list_pools", json!({"pool": "nope"}))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), "invalid_params", "{e}");
    assert!(e.to_string().contains("no pool named \"nope\""), "{e}");
}

#[tokio::test]
async fn backup_jobs_read_as_an_admin_reads_them() {
    let d = Demo::start().await;
    let out = d.call("list_backup_jobs", json!({})).await.unwrap();
    assert_eq!(out["count"], 3, "{out}");
    let jobs = out["jobs"].as_array().unwrap();
    let ids: Vec<&str> = jobs.iter().map(|j| j["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        [
            "backup-infra-weekly",
            "backup-legacy",
            "backup-prod-nightly"
        ]
    );
    let (weekly, legacy, nightly) = (&jobs[0], &jobs[1], &jobs[2]);
    assert_eq!(weekly["selection"], "vmids 108,200,203");
    assert_eq!(weekly["retention"], "keep-last=4");
    assert_eq!(weekly["schedule"], "sat 03:30");
    assert_eq!(nightly["selection"], "pool production");
    assert_eq!(nightly["retention"], "keep-daily=7,keep-weekly=4");
    assert_eq!(
        (&nightly["storage"], &nightly["mode"]),
        (&json!("nfs-backup"), &json!("snapshot"))
    );
    let now = d.sim().with_sim(|s| s.now) as i64;
    let next = nightly["next_run"].as_i64().unwrap();
    assert!(next > now && next <= now + 86_400, "{next} vs {now}");
    assert_eq!(legacy["enabled"], false);
    assert!(
        legacy.get("next_run").is_none(),
        "a disabled job does not run: {legacy}"
    );
    assert_eq!(legacy["comment"], "Paused while the ERP is migrated");
}

#[tokio::test]
async fn coverage_names_the_guests_no_job_covers_and_the_age_of_each_backup() {
    let d = Demo::start().await;
    let out = d
        .call("get_backup_coverage", json!({"limit": 100}))
        .await
        .unwrap();
    // Not covered: what no enabled job selects (the disabled legacy job covers nothing).
    let covered: BTreeSet<u32> = d.sim().with_sim(|s| {
        s.cluster
            .guests
            .values()
            .filter(|g| {
                g.pool.as_deref() == Some("production") || [108, 200, 203].contains(&g.vmid)
            })
            .map(|g| g.vmid)
            .collect()
    });
    let all: Vec<(u32, bool)> = d.sim().with_sim(|s| {
        s.cluster
            .guests
            .values()
            .map(|g| (g.vmid, g.is_template()))
            .collect()
    });
    let want: Vec<u64> = all
        .iter()
        .filter(|(v, _)| !covered.contains(v))
        .map(|(v, _)| u64::from(*v))
        .collect();
    assert_eq!(vmids(&out["not_covered"]), want);
    assert!(want.contains(&110), "the disabled job's guest");
    assert_eq!(out["not_covered_count"], want.len());
    assert_eq!(
        out["guests_total"],
        all.iter().filter(|(_, t)| !t).count(),
        "{out}"
    );
    // Never backed up first, then oldest first; a seeded backup has an age.
    let guests = out["guests"].as_array().unwrap();
    let never = out["never_backed_up"].as_u64().unwrap() as usize;
    assert!(
        guests[..never]
            .iter()
            .all(|g| g.get("last_backup").is_none())
    );
    let times: Vec<i64> = guests[never..]
        .iter()
        .map(|g| g["last_backup"].as_i64().unwrap())
        .collect();
    assert!(
        !times.is_empty() && times.windows(2).all(|w| w[0] <= w[1]),
        "{times:?}"
    );
    let web = guests.iter().find(|g| g["vmid"] == 100).unwrap();
    assert_eq!(
        (&web["covered"], &web["storage"]),
        (&json!(true), &json!("nfs-backup"))
    );
    assert!(web["age_hours"].as_f64().unwrap() >= 0.0);

    // A new backup of VM 103 makes it the newest.
    let backed = guests.iter().find(|g| g["vmid"] == 103).unwrap().clone();
    d.call(
        "create_backup",
        json!({"vmid": 103, "storage": "nfs-backup"}),
    )
    .await
    .unwrap();
    let out = d
        .call("get_backup_coverage", json!({"limit": 100}))
        .await
        .unwrap();
    let now103 = out["guests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["vmid"] == 103)
        .unwrap()
        .clone();
    assert!(
        now103["last_backup"].as_i64().unwrap() > backed["last_backup"].as_i64().unwrap_or(0),
        "{backed} then {now103}"
    );
    assert_eq!(
        out["guests"].as_array().unwrap().last().unwrap()["vmid"],
        103
    );
    // The default limit, and a bad parameter.
    let out = d
        .call("get_backup_coverage", json!({"limit": 2}))
        .await
        .unwrap();
    assert_eq!(out["guests"].as_array().unwrap().len(), 2);
    assert_eq!(out["not_covered"].as_array().unwrap().len(), 2);
    let e = d
        .call("get_backup_coverage", json!({"vmid": 100}))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), "invalid_params", "{e}");
}

#[tokio::test]
async fn over_mcp_and_rest() {
    let d = Demo::start().await;
    let shutdown = CancellationToken::new();
    let (mcp, rest) = serve_doors(
        &d.app,
        McpHttpConfig::default(),
        RestConfig::default(),
        &shutdown,
    )
    .await;
    let http = reqwest::Client::new();
    let url = format!("{mcp}/proxmox/mcp");
    let (session, init) = handshake(&http, &url, "2025-06-18").await;
    let version = init["protocolVersion"].as_str().unwrap().to_string();
    for (tool, key) in [
        ("get_ha_status", "resources"),
        ("list_pools", "pools"),
        ("list_backup_jobs", "jobs"),
        ("get_backup_coverage", "not_covered"),
    ] {
        let (status, _, msgs) = post(
            &http,
            &url,
            &[
                ("mcp-session-id", &session),
                ("mcp-protocol-version", &version),
            ],
            json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call",
                   "params": {"name": tool, "arguments": {}}}),
        )
        .await;
        assert_eq!(status, 200);
        let result = &msgs.last().unwrap()["result"];
        assert_ne!(result["isError"], true, "{tool}: {result}");
        assert!(
            result["structuredContent"][key].is_array(),
            "{tool}: {result}"
        );
        let got: Value = http
            .post(format!("{rest}/{tool}"))
            .json(&json!({}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            got[key], result["structuredContent"][key],
            "{tool} over REST"
        );
    }
    let resp = http
        .post(format!("{rest}/list_pools"))
        .json(&json!({"pool": "nope"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 422);
    shutdown.cancel();
}
