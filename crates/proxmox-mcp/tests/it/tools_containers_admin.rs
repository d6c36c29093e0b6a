//! The `provisioning` toolset's container tools against the demo simulator:
//! `create_container` (from a template volume, unprivileged by default, secrets masked),
//! `delete_container` (confirmation, purge, running containers) and `get_container_config`.

use proxmox_mcp::GuardConfig;
use serde_json::json;

use crate::support::demo::Demo;
use crate::support::demo::{guarded, writes};

const TEMPLATE: &str = "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst";
const KEY: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG4 ops@laptop";

#[tokio::test]
async fn create_container_from_a_template_volume() {
    let d = Demo::start().await;
    let out = d
        .call(
            "create_container",
            json!({"template": TEMPLATE, "hostname": "ct-new", "password": "hunter22",
                   "ssh_keys": [KEY], "cores": 2, "memory_mb": 1024, "disk_gb": 4,
                   "node": "pve01", "vmid": 260, "start": true}),
        )
        .await
        .unwrap();
    assert_eq!(out["task_status"], "done", "{out}");
    assert_eq!(out["unprivileged"], true);
    assert_eq!(out["guest_status"], "running");
    assert_eq!(out["net0"], "name=eth0,bridge=vmbr0,ip=dhcp");
    let st = out["storage"].as_str().unwrap().to_string();
    assert_eq!(d.guest_config(260, "hostname").as_deref(), Some("ct-new"));
    assert_eq!(d.guest_config(260, "unprivileged").as_deref(), Some("1"));
    assert_eq!(d.guest_config(260, "cores").as_deref(), Some("2"));
    assert!(
        d.guest_config(260, "rootfs")
            .unwrap()
            .starts_with(&format!("{st}:")),
    );
    let cfg = d
        .call("get_container_config", json!({"vmid": 260}))
        .await
        .unwrap();
    assert_eq!(cfg["config"]["hostname"], "ct-new");
    assert_eq!(cfg["digest"].as_str().unwrap().len(), 40);
    assert!(!cfg.to_string().contains("hunter22"));

    // Node, VMID and storage chosen; a static IP; privileged when asked.
    let out = d
        .call(
            "create_container",
            json!({"template": TEMPLATE, "hostname": "ct-static", "ssh_keys": KEY,
                   "ip": "10.30.0.9/24", "gateway": "10.30.0.1", "unprivileged": false}),
        )
        .await
        .unwrap();
    let id = out["vmid"].as_u64().unwrap() as u32;
    assert_eq!(out["guest_status"], "stopped");
    assert_eq!(out["unprivileged"], false);
    let net = d.guest_config(id, "net0").unwrap();
    assert!(
        net.contains("ip=10.30.0.9/24") && net.contains("gw=10.30.0.1"),
        "{net}"
    );
}

#[tokio::test]
async fn create_container_refuses_bad_input_and_dry_runs() {
    let d = Demo::start().await;
    for (args, param) in [
        (json!({"template": TEMPLATE, "hostname": "x"}), "password"),
        (
            json!({"template": "debian-12", "hostname": "x", "password": "hunter22"}),
            "template",
        ),
        (
            json!({"template": TEMPLATE, "hostname": "bad_name", "password": "hunter22"}),
            "hostname",
        ),
        (
            json!({"template": TEMPLATE, "hostname": "x", "password": "abc"}),
            "password",
        ),
        (
            json!({"template": TEMPLATE, "hostname": "x", "ssh_keys": "nope"}),
            "ssh_keys",
        ),
        (
            json!({"template": TEMPLATE, "hostname": "x", "password": "hunter22",
                "ip": "10.0.0.1"}),
            "ip",
        ),
        (
            json!({"template": TEMPLATE, "hostname": "x", "password": "hunter22",
                "vmid": 200}),
            "vmid",
        ),
        (
            json!({"template": "local:vztmpl/nope.tar.zst", "hostname": "x",
                "password": "hunter22"}),
            "template",
        ),
        (json!({"hostname": "x", "password": "hunter22"}), "template"),
    ] {
        d.sim().clear_requests();
        let e = d.call("create_container", args.clone()).await.unwrap_err();
        assert_eq!(e.kind(), "invalid_params", "{args}: {e}");
        assert!(e.to_string().contains(&format!("`{param}`")), "{args}: {e}");
        assert!(writes(&d).is_empty(), "{args}");
    }
    // With a node given, PVE itself says the file is missing.
    let e = d
        .call(
            "create_container",
            json!({"template": "local:vztmpl/nope.tar.zst", "hostname": "x",
                   "password": "hunter22", "node": "pve01"}),
        )
        .await
        .unwrap_err();
    assert!(e.to_string().contains("can't find file"), "{e}");

    d.sim().clear_requests();
    let out = d
        .call(
            "create_container",
            json!({"template": TEMPLATE, "hostname": "planned", "password": "hunter22",
                   "node": "pve01", "vmid": 261, "storage": "local-lvm", "dry_run": true}),
        )
        .await
        .unwrap();
    assert_eq!(out["planned_calls"][0]["method"], "POST");
    assert_eq!(out["planned_calls"][0]["path"], "/nodes/pve01/lxc");
    let params = &out["planned_calls"][0]["params"];
    assert_eq!(params["password"], "********");
    assert_eq!(params["unprivileged"], "1");
    assert_eq!(params["rootfs"], "local-lvm:8");
    assert_eq!(params["ostemplate"], TEMPLATE);
    assert!(!out.to_string().contains("hunter22"));
    assert!(writes(&d).is_empty());
    assert!(d.guest_status(261).is_none());
}

#[tokio::test]
async fn delete_container_needs_confirm_and_purges() {
    let d = guarded(GuardConfig::default()).await;
    d.sim().clear_requests();
    let e = d
        .call("delete_container", json!({"vmid": 205}))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), "policy", "{e}");
    assert!(e.to_string().contains("DELETE /nodes/pve01/lxc/205"), "{e}");
    assert!(writes(&d).is_empty());
    assert!(d.guest_status(205).is_some());

    // Running: refused without force.
    let e = d
        .call("delete_container", json!({"vmid": 200, "confirm": true}))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("stop it first"), "{e}");
    assert_eq!(d.guest_status(200).as_deref(), Some("running"));

    d.sim().clear_requests();
    let out = d
        .call("delete_container", json!({"vmid": 205, "confirm": true}))
        .await
        .unwrap();
    assert_eq!(out["deleted"], true, "{out}");
    assert!(d.guest_status(205).is_none());
    let del = d
        .sim()
        .requests()
        .into_iter()
        .find(|r| r.method == "DELETE")
        .unwrap();
    assert_eq!(del.path, "/nodes/pve01/lxc/205");
    assert!(
        del.params.contains(&("purge".into(), "1".into())),
        "{:?}",
        del.params
    );

    let out = d
        .call(
            "delete_container",
            json!({"vmid": 200, "confirm": true, "force": true}),
        )
        .await
        .unwrap();
    assert_eq!(out["stopped_first"], true);
    assert!(d.guest_status(200).is_none());

    let e = d
        .call("delete_container", json!({"vmid": 100, "confirm": true}))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("is a VM"), "{e}");
    let e = d
        .call("get_container_config", json!({"vmid": 999}))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("999 does not exist"), "{e}");
}

#[tokio::test]
async fn container_waits_are_bounded() {
    // Tasks take simulated time: a zero wait returns the running task to follow.
    let d = Demo::with(pve_sim::seed::demo(), 1.0).await;
    let out = d
        .call(
            "create_container",
            json!({"template": TEMPLATE, "hostname": "slow-ct", "password": "hunter22",
                   "node": "pve01", "vmid": 270, "wait_seconds": 0}),
        )
        .await
        .unwrap();
    assert_eq!(out["task_status"], "running", "{out}");
    assert!(out["upid"].as_str().unwrap().contains(":vzcreate:270:"));
    assert!(out["hint"].as_str().unwrap().contains("get_task"));
    assert!(out.get("guest_status").is_none());
    let out = d
        .call(
            "delete_container",
            json!({"vmid": 205, "confirm": true, "wait_seconds": 0}),
        )
        .await
        .unwrap();
    assert_eq!(
        (&out["task_status"], &out["deleted"]),
        (&json!("running"), &json!(false))
    );
    for (tool, args) in [
        (
            "create_container",
            json!({"template": TEMPLATE, "hostname": "x", "password": "hunter22",
                   "wait_seconds": 51}),
        ),
        (
            "delete_container",
            json!({"vmid": 204, "confirm": true, "wait_seconds": 51}),
        ),
    ] {
        let e = d.call(tool, args).await.unwrap_err();
        assert_eq!(e.kind(), "invalid_params", "{tool}: {e}");
        assert!(e.to_string().contains("`wait_seconds`"), "{tool}: {e}");
    }
    assert_eq!(d.guest_status(204).as_deref(), Some("running"));
}
