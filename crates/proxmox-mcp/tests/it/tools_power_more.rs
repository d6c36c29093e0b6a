//! The `power` toolset against the simulator: `reboot_vm`, `suspend_vm` (pause, or hibernate
//! with `to_disk`), `resume_vm`, `suspend_container` and `resume_container`; PVE's refusals
//! (stopped guests, the wrong kind, unknown VMIDs) with PVE's words; dry run, protected guests
//! and the audit log; over REST and over MCP, where a read-only key may not call them.

use proxmox_mcp::GuardConfig;
use reqwest::Method;
use rmcp::model::CallToolRequestParams;
use serde_json::{Value, json};

use crate::support::demo::{Demo, guarded, writes};
use crate::support::door::Door;
use crate::support::rest::{KEYS, Rest, check};

fn started_at(d: &Demo, vmid: u32) -> Option<f64> {
    d.sim()
        .with_sim(|s| s.cluster.guests.get(&vmid).and_then(|g| g.started_at))
}

fn qmpstatus(d: &Demo, vmid: u32) -> String {
    d.sim()
        .with_sim(|s| s.cluster.guests.get(&vmid).unwrap().qmpstatus.clone())
}

#[tokio::test]
async fn reboot_suspend_and_resume_a_vm() {
    let d = Demo::start().await;
    d.sim().with_sim(|s| s.now += 100.0);
    let before = started_at(&d, 100).unwrap();
    let out = d.call("reboot_vm", json!({"vmid": 100})).await.unwrap();
    assert_eq!(
        (&out["action"], &out["task_status"], &out["guest_status"]),
        (&json!("reboot"), &json!("done"), &json!("running")),
        "{out}"
    );
    assert!(out["upid"].as_str().unwrap().contains(":qmreboot:100:"));
    assert!(started_at(&d, 100).unwrap() > before, "a new boot");

    let out = d.call("suspend_vm", json!({"vmid": 100})).await.unwrap();
    assert_eq!(out["guest_status"], "paused", "{out}");
    assert_eq!(qmpstatus(&d, 100), "paused");
    let out = d.call("resume_vm", json!({"vmid": 100})).await.unwrap();
    assert_eq!(out["guest_status"], "running", "{out}");
    assert_eq!(qmpstatus(&d, 100), "running");
    // Resuming a VM that runs does nothing, as in PVE.
    let out = d.call("resume_vm", json!({"vmid": 100})).await.unwrap();
    assert_eq!(out["guest_status"], "running", "{out}");

    // Hibernate: the RAM goes to disk and the VM stops, locked; resume starts it again.
    let out = d
        .call("suspend_vm", json!({"vmid": 101, "to_disk": true}))
        .await
        .unwrap();
    assert_eq!(out["guest_status"], "stopped", "{out}");
    assert_eq!(d.guest_config(101, "lock").as_deref(), Some("suspended"));
    let out = d.call("resume_vm", json!({"vmid": 101})).await.unwrap();
    assert_eq!(out["guest_status"], "running", "{out}");
    assert_eq!(d.guest_config(101, "lock"), None);
}

#[tokio::test]
async fn suspend_and_resume_a_container() {
    let d = Demo::start().await;
    let out = d
        .call("suspend_container", json!({"vmid": 200}))
        .await
        .unwrap();
    assert_eq!(
        (&out["action"], &out["task_status"]),
        (&json!("suspend"), &json!("done"))
    );
    assert!(out["upid"].as_str().unwrap().contains(":vzsuspend:200:"));
    let out = d
        .call("resume_container", json!({"vmid": 200}))
        .await
        .unwrap();
    assert_eq!(out["guest_status"], "running", "{out}");
    assert!(out["upid"].as_str().unwrap().contains(":vzresume:200:"));
}

#[tokio::test]
async fn stopped_guests_wrong_kinds_and_unknown_vmids_are_refused_in_pves_words() {
    let d = Demo::start().await;
    // VM 103 and CT 205 are stopped.
    for (tool, vmid, words) in [
        ("reboot_vm", 103, "VM 103 not running"),
        ("suspend_vm", 103, "VM 103 not running"),
        ("resume_vm", 103, "VM 103 not running"),
        ("suspend_container", 205, "CT 205 not running"),
        ("resume_container", 205, "CT 205 not running"),
    ] {
        let e = d.call(tool, json!({"vmid": vmid})).await.unwrap_err();
        assert!(e.to_string().contains(words), "{tool}: {e}");
        assert_eq!(d.guest_status(vmid).as_deref(), Some("stopped"));
    }
    // A paused VM cannot reboot.
    d.call("suspend_vm", json!({"vmid": 100})).await.unwrap();
    let e = d.call("reboot_vm", json!({"vmid": 100})).await.unwrap_err();
    assert!(e.to_string().contains("VM is paused"), "{e}");
    // The wrong kind, an unknown VMID, a bad parameter.
    let e = d.call("reboot_vm", json!({"vmid": 200})).await.unwrap_err();
    assert!(e.to_string().contains("is a container"), "{e}");
    let e = d
        .call("suspend_container", json!({"vmid": 100}))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("is a VM"), "{e}");
    let e = d
        .call("resume_vm", json!({"vmid": 9999}))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("9999 does not exist"), "{e}");
    let e = d
        .call("suspend_vm", json!({"vmid": 100, "to_disk": "maybe"}))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), "invalid_params", "{e}");
    let e = d
        .call(
            "resume_container",
            json!({"vmid": 200, "timeout_seconds": 5}),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind(), "invalid_params", "{e}");
}

#[tokio::test]
async fn dry_runs_protected_guests_and_the_audit_log() {
    let dir = std::env::temp_dir().join(format!("pmcp-power-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("audit.jsonl");
    let _ = std::fs::remove_file(&log);
    let d = guarded(GuardConfig {
        protected_vmids: vec![101, 202],
        audit_log: Some(log.clone()),
        ..GuardConfig::default()
    })
    .await;
    // A dry run plans the call and writes nothing.
    d.sim().clear_requests();
    let out = d
        .call("reboot_vm", json!({"vmid": 100, "dry_run": true}))
        .await
        .unwrap();
    assert_eq!(
        out["planned_calls"][0]["path"],
        "/nodes/pve01/qemu/100/status/reboot"
    );
    assert!(writes(&d).is_empty());
    // Protected guests: listed (101, 202) or flagged in PVE (VM 102).
    for (tool, vmid) in [
        ("reboot_vm", 101),
        ("suspend_vm", 102),
        ("resume_vm", 101),
        ("suspend_container", 202),
        ("resume_container", 202),
    ] {
        d.sim().clear_requests();
        let e = d.call(tool, json!({"vmid": vmid})).await.unwrap_err();
        assert_eq!(e.kind(), "policy", "{tool}: {e}");
        assert!(e.to_string().contains("is protected"), "{tool}: {e}");
        assert!(writes(&d).is_empty(), "{tool} wrote");
    }
    d.call("suspend_container", json!({"vmid": 200}))
        .await
        .unwrap();
    let records: Vec<Value> = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let summary: Vec<(&str, &str)> = records
        .iter()
        .map(|r| (r["tool"].as_str().unwrap(), r["outcome"].as_str().unwrap()))
        .collect();
    assert_eq!(
        summary,
        [
            ("reboot_vm", "dry_run"),
            ("reboot_vm", "refused"),
            ("suspend_vm", "refused"),
            ("resume_vm", "refused"),
            ("suspend_container", "refused"),
            ("resume_container", "refused"),
            ("suspend_container", "ok"),
        ]
    );
    assert!(
        records[6]["upid"]
            .as_str()
            .unwrap()
            .contains(":vzsuspend:200:")
    );
}

#[tokio::test]
async fn over_rest() {
    let r = Rest::start().await;
    check(
        &r,
        Method::POST,
        "/reboot_vm",
        Some(r#"{"vmid": 100}"#),
        200,
        &[
            ("/action", json!("reboot")),
            ("/guest_status", json!("running")),
        ],
    )
    .await;
    check(
        &r,
        Method::POST,
        "/suspend_vm",
        Some(r#"{"vmid": 100}"#),
        200,
        &[("/guest_status", json!("paused"))],
    )
    .await;
    let body = check(
        &r,
        Method::POST,
        "/resume_container",
        Some(r#"{"vmid": 205}"#),
        409,
        &[],
    )
    .await;
    assert!(
        body["detail"]["message"]
            .as_str()
            .unwrap()
            .contains("CT 205 not running"),
        "{body}"
    );
    check(
        &r,
        Method::POST,
        "/suspend_vm",
        Some(r#"{"vmid": "x"}"#),
        422,
        &[],
    )
    .await;
}

#[tokio::test]
async fn over_mcp_a_read_key_may_not_and_an_operate_key_may() {
    let door = Door::with_keys().await;
    let args = json!({"vmid": 100}).as_object().unwrap().clone();
    let reader = door.client(KEYS[0].2).await;
    let r = reader
        .call_tool(CallToolRequestParams::new("reboot_vm").with_arguments(args.clone()))
        .await
        .unwrap();
    assert_eq!(r.is_error, Some(true), "{r:?}");
    let text = r.content[0].as_text().unwrap().text.clone();
    assert!(text.contains("`operate` scope"), "{text}");
    let operator = door.client(KEYS[1].2).await;
    let r = operator
        .call_tool(CallToolRequestParams::new("suspend_vm").with_arguments(args))
        .await
        .unwrap();
    assert_eq!(r.is_error, Some(false), "{r:?}");
    let out = r.structured_content.unwrap();
    assert_eq!(out["guest_status"], "paused", "{out}");
    reader.cancel().await.unwrap();
    operator.cancel().await.unwrap();
}
