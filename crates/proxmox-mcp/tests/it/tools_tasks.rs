//! The `tasks` toolset against the simulator: `list_tasks` (every node or one, filters, limit)
//! and `stop_task` (stops a running task, whose exit status then says it was interrupted; leaves
//! an ended one alone; dry run makes no write).

use serde_json::{Value, json};

use crate::support::demo::Demo;
use crate::support::demo::long_task;
use crate::support::demo::writes;

fn upids(out: &Value) -> Vec<String> {
    out["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["upid"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn list_tasks_covers_every_node_and_filters() {
    let d = Demo::start().await;
    // A task that succeeds on pve01 and one that fails on pve02 (VM 106 is already running).
    let ok = d.call("start_vm", json!({"vmid": 103})).await.unwrap()["upid"]
        .as_str()
        .unwrap()
        .to_string();
    let failed = d.call("start_vm", json!({"vmid": 106})).await.unwrap_err();
    assert!(failed.to_string().contains("already running"), "{failed}");

    let all = d.call("list_tasks", json!({})).await.unwrap();
    let nodes: Vec<&str> = all["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["node"].as_str().unwrap())
        .collect();
    assert!(
        nodes.contains(&"pve01") && nodes.contains(&"pve02"),
        "{all}"
    );
    let first = &all["tasks"][0];
    assert_eq!(first["type"], "qmstart", "newest first: {all}");
    assert_eq!(first["vmid"], 106);
    assert_eq!(first["status"], "error");

    let errors = d
        .call("list_tasks", json!({"status": "error"}))
        .await
        .unwrap();
    assert!(
        errors["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["status"] == "error"),
        "{errors}"
    );
    assert!(
        errors["tasks"][0]["exitstatus"]
            .as_str()
            .unwrap()
            .contains("already running")
    );
    assert!(!upids(&errors).contains(&ok));

    let mine = d
        .call(
            "list_tasks",
            json!({"vmid": 103, "status": "ok", "type": "qmstart", "node": "pve01"}),
        )
        .await
        .unwrap();
    assert_eq!(upids(&mine), vec![ok.clone()], "{mine}");
    assert_eq!(mine["tasks"][0]["exitstatus"], "OK");

    // Another node's filter finds nothing of VM 103.
    let none = d
        .call("list_tasks", json!({"vmid": 103, "node": "pve02"}))
        .await
        .unwrap();
    assert_eq!(none["count"], 0);

    // limit cuts and says where the next page starts.
    let one = d.call("list_tasks", json!({"limit": 1})).await.unwrap();
    assert_eq!(one["count"], 1);
    assert_eq!(one["next_offset"], 1);
    assert!(one["total"].as_u64().unwrap() > 1, "{one}");
}

#[tokio::test]
async fn list_tasks_refuses_bad_inputs() {
    let d = Demo::start().await;
    for (args, param) in [
        (json!({"limit": 0}), "limit"),
        (json!({"limit": 501}), "limit"),
        (json!({"vmid": 5}), "vmid"),
        (json!({"status": "failed"}), "status"),
        (json!({"nodes": "pve01"}), "nodes"),
    ] {
        let e = d.call("list_tasks", args.clone()).await.unwrap_err();
        assert!(e.to_string().contains(param), "{args}: {e}");
    }
    let e = d
        .call("list_tasks", json!({"node": "nosuchnode"}))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("nosuchnode"), "{e}");
}

#[tokio::test]
async fn stop_task_interrupts_a_running_task() {
    let d = Demo::start().await;
    let upid = long_task(&d);
    let running = d
        .call("list_tasks", json!({"status": "running"}))
        .await
        .unwrap();
    assert_eq!(upids(&running), vec![upid.clone()], "{running}");
    assert_eq!(running["tasks"][0]["status"], "running");

    d.sim().clear_requests();
    let out = d.call("stop_task", json!({"upid": upid})).await.unwrap();
    assert_eq!(out["stopped"], true, "{out}");
    assert_eq!(out["status"], "stopped");
    let exit = out["exitstatus"].as_str().unwrap();
    assert!(exit.contains("interrupt"), "{exit}");
    let deletes: Vec<String> = writes(&d);
    assert_eq!(deletes.len(), 1, "{deletes:?}");
    assert!(
        deletes[0].starts_with("DELETE /nodes/pve01/tasks/UPID%3Apve01"),
        "{deletes:?}"
    );

    // It now shows as failed, and get_task has the same exit status.
    let errors = d
        .call("list_tasks", json!({"status": "error"}))
        .await
        .unwrap();
    assert!(upids(&errors).contains(&upid));
    let task = d.call("get_task", json!({"upid": upid})).await.unwrap();
    assert_eq!(task["exitstatus"], exit);
    assert_eq!(task["ok"], false);

    // Stopping it again changes nothing and sends nothing.
    d.sim().clear_requests();
    let again = d.call("stop_task", json!({"upid": upid})).await.unwrap();
    assert_eq!(again["stopped"], false);
    assert_eq!(again["exitstatus"], exit);
    assert!(writes(&d).is_empty());
}

#[tokio::test]
async fn stop_task_dry_run_and_bad_inputs() {
    let d = Demo::start().await;
    let upid = long_task(&d);
    d.sim().clear_requests();
    let plan = d
        .call("stop_task", json!({"upid": upid, "dry_run": true}))
        .await
        .unwrap();
    assert_eq!(plan["dry_run"], true, "{plan}");
    assert_eq!(plan["planned_calls"][0]["method"], "DELETE");
    assert!(writes(&d).is_empty());
    let still = d.call("get_task", json!({"upid": upid})).await.unwrap();
    assert_eq!(still["status"], "running");

    for (args, param) in [
        (json!({}), "upid"),
        (json!({"upid": "not-a-upid"}), "upid"),
        (json!({"upid": upid, "wait_seconds": 51}), "wait_seconds"),
    ] {
        let e = d.call("stop_task", args.clone()).await.unwrap_err();
        assert!(e.to_string().contains(param), "{args}: {e}");
    }
    // A well-formed UPID of no task: PVE's own error.
    let ghost = "UPID:pve01:0000ABCD:00000001:60000000:vzdump:103:root@pam:";
    let e = d
        .call("stop_task", json!({"upid": ghost}))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("no such task"), "{e}");
    assert!(writes(&d).is_empty());
}
