//! The `snapshots` toolset against the simulator: the tree (`parent`, `current_parent`), a
//! rollback that brings the snapshot's config back, deletion, containers, bad inputs, dry run,
//! confirmation, protected guests and the bounded wait.

use serde_json::{Value, json};

use crate::support::demo::Demo;
use crate::support::demo::add_snapshot;
use crate::support::demo::writes;

fn names(out: &Value) -> Vec<&str> {
    out["snapshots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn a_vm_snapshot_tree_rolls_back_and_deletes() {
    let d = Demo::start().await;
    let s1 = d
        .call(
            "create_snapshot",
            json!({"vmid": 101, "name": "before-upgrade", "description": "kernel 6.8"}),
        )
        .await
        .unwrap();
    assert_eq!(s1["task_status"], "done", "{s1}");
    assert_eq!(
        (s1["kind"].as_str(), s1["node"].as_str()),
        (Some("qemu"), Some("pve01"))
    );

    // The VM changes, then a second snapshot saves its RAM too.
    d.sim().with_sim(|s| {
        s.cluster
            .guests
            .get_mut(&101)
            .unwrap()
            .config
            .insert("memory".into(), json!(8192));
    });
    d.call(
        "create_snapshot",
        json!({"vmid": "101", "name": "after", "vmstate": true, "wait_seconds": 10}),
    )
    .await
    .unwrap();

    let list = d
        .call("list_snapshots", json!({"vmid": 101}))
        .await
        .unwrap();
    assert_eq!(names(&list), ["before-upgrade", "after"], "{list}");
    assert_eq!(list["snapshots"][0]["description"], "kernel 6.8");
    assert!(list["snapshots"][0].get("parent").is_none());
    assert_eq!(list["snapshots"][1]["parent"], "before-upgrade");
    assert_eq!(list["snapshots"][1]["vmstate"], true);
    assert_eq!(list["current_parent"], "after");
    assert!(list["snapshots"][0]["time"].as_i64().unwrap() > 1_700_000_000);

    // Rolling back needs confirm, and brings the old config back (the VM ends stopped: that
    // snapshot has no RAM).
    d.sim().clear_requests();
    let e = d
        .call(
            "rollback_snapshot",
            json!({"vmid": 101, "name": "before-upgrade"}),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind(), "policy", "{e}");
    assert!(
        e.to_string()
            .contains("/nodes/pve01/qemu/101/snapshot/before-upgrade/rollback")
    );
    assert!(writes(&d).is_empty());
    let rb = d
        .call(
            "rollback_snapshot",
            json!({"vmid": 101, "name": "before-upgrade", "confirm": true}),
        )
        .await
        .unwrap();
    assert_eq!(rb["guest_status"], "stopped", "{rb}");
    assert_eq!(d.guest_config(101, "memory").as_deref(), Some("4096"));
    let list = d
        .call("list_snapshots", json!({"vmid": 101}))
        .await
        .unwrap();
    assert_eq!(list["current_parent"], "before-upgrade");

    // Rolling back to the RAM snapshot resumes the VM; start: true starts after a plain one.
    let rb = d
        .call(
            "rollback_snapshot",
            json!({"vmid": 101, "name": "after", "confirm": true}),
        )
        .await
        .unwrap();
    assert_eq!(rb["guest_status"], "running", "{rb}");
    assert_eq!(d.guest_config(101, "memory").as_deref(), Some("8192"));

    // Deleting the parent re-links its child; the current state is kept.
    d.call(
        "delete_snapshot",
        json!({"vmid": 101, "name": "before-upgrade", "confirm": true}),
    )
    .await
    .unwrap();
    let list = d
        .call("list_snapshots", json!({"vmid": 101}))
        .await
        .unwrap();
    assert_eq!(names(&list), ["after"], "{list}");
    assert!(list["snapshots"][0].get("parent").is_none(), "{list}");
    assert_eq!(d.guest_config(101, "memory").as_deref(), Some("8192"));
}

#[tokio::test]
async fn containers_snapshot_without_ram() {
    let d = Demo::start().await;
    let e = d
        .call(
            "create_snapshot",
            json!({"vmid": 200, "name": "ct1", "vmstate": true}),
        )
        .await
        .unwrap_err();
    assert!(e.to_string().contains("vmstate"), "{e}");
    let out = d
        .call("create_snapshot", json!({"vmid": 200, "name": "ct1"}))
        .await
        .unwrap();
    assert_eq!(out["kind"], "lxc", "{out}");
    let list = d
        .call("list_snapshots", json!({"vmid": 200}))
        .await
        .unwrap();
    assert_eq!(names(&list), ["ct1"]);
    assert!(list["snapshots"][0].get("vmstate").is_none());
    d.call(
        "delete_snapshot",
        json!({"vmid": 200, "name": "ct1", "confirm": true}),
    )
    .await
    .unwrap();
    let list = d
        .call("list_snapshots", json!({"vmid": 200}))
        .await
        .unwrap();
    assert_eq!(list["count"], 0);
}

#[tokio::test]
async fn snapshot_tools_refuse_bad_inputs_before_writing() {
    let d = Demo::start().await;
    add_snapshot(&d, 103, "base");
    d.sim().clear_requests();
    let cases = [
        (
            "list_snapshots",
            json!({"vmid": 9999}),
            "no VM or container has VMID 9999",
        ),
        ("list_snapshots", json!({}), "vmid"),
        (
            "list_snapshots",
            json!({"vmid": 103, "node": "pve02"}),
            "is on node pve01",
        ),
        ("create_snapshot", json!({"vmid": 103}), "name"),
        (
            "create_snapshot",
            json!({"vmid": 103, "name": "1bad"}),
            "name",
        ),
        (
            "create_snapshot",
            json!({"vmid": 103, "name": "current"}),
            "reserved",
        ),
        (
            "create_snapshot",
            json!({"vmid": 103, "name": "base"}),
            "already has a snapshot",
        ),
        (
            "create_snapshot",
            json!({"vmid": 103, "name": "ram", "vmstate": true}),
            "no RAM",
        ),
        (
            "create_snapshot",
            json!({"vmid": 103, "name": "x2", "wait_seconds": 51}),
            "wait_seconds",
        ),
        (
            "rollback_snapshot",
            json!({"vmid": 103, "name": "nope", "confirm": true}),
            "it has base",
        ),
        (
            "delete_snapshot",
            json!({"vmid": 103, "name": "nope", "confirm": true}),
            "no snapshot `nope`",
        ),
        (
            "delete_snapshot",
            json!({"vmid": 9999, "name": "x", "confirm": true}),
            "9999",
        ),
    ];
    for (tool, args, want) in cases {
        let e = d.call(tool, args.clone()).await.unwrap_err();
        assert!(e.to_string().contains(want), "{tool} {args}: {e}");
    }
    assert!(writes(&d).is_empty(), "{:?}", writes(&d));
}

#[tokio::test]
async fn dry_runs_plan_and_protected_guests_are_refused() {
    let d = Demo::start().await;
    add_snapshot(&d, 103, "base");
    d.sim().clear_requests();
    let plan = d
        .call(
            "create_snapshot",
            json!({"vmid": 103, "name": "planned", "description": "d", "dry_run": true}),
        )
        .await
        .unwrap();
    assert_eq!(
        plan["planned_calls"][0]["path"], "/nodes/pve01/qemu/103/snapshot",
        "{plan}"
    );
    assert_eq!(plan["planned_calls"][0]["params"]["snapname"], "planned");
    let plan = d
        .call(
            "delete_snapshot",
            json!({"vmid": 103, "name": "base", "dry_run": true}),
        )
        .await
        .unwrap();
    assert_eq!(plan["planned_calls"][0]["method"], "DELETE", "{plan}");
    assert!(writes(&d).is_empty());

    // VM 102 carries PVE's protection flag: no snapshot change, even confirmed.
    let e = d
        .call("create_snapshot", json!({"vmid": 102, "name": "nope"}))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), "policy", "{e}");
    assert!(e.to_string().contains("protected"), "{e}");
    assert!(writes(&d).is_empty());
    // Reading is fine.
    d.call("list_snapshots", json!({"vmid": 102}))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_slow_snapshot_returns_its_task_within_the_wait() {
    // Real durations: saving the 32 GiB of RAM of VM 104 takes the simulator over 30 s.
    let d = Demo::with(pve_sim::seed::demo(), 1.0).await;
    let out = d
        .call(
            "create_snapshot",
            json!({"vmid": 104, "name": "ram", "vmstate": true, "wait_seconds": 0}),
        )
        .await
        .unwrap();
    assert_eq!(out["task_status"], "running", "{out}");
    assert!(out["hint"].as_str().unwrap().contains("get_task"));
    let upid = out["upid"].as_str().unwrap();
    let task = d.call("get_task", json!({"upid": upid})).await.unwrap();
    assert_eq!(task["status"], "running");
    assert_eq!(task["type"], "qmsnapshot");
}
