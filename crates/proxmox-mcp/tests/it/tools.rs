//! Every tool called through `Registry::call` against the demo simulator over HTTPS, with its
//! effect checked in the simulator's state.

use serde_json::{Value, json};

use crate::support::demo::Demo;
use crate::support::demo::{Want, check};

fn ok(fields: &[(&'static str, Value)]) -> Want {
    Want::Fields(fields.to_vec())
}

#[tokio::test]
async fn read_tools_describe_the_demo_cluster() {
    let d = Demo::start().await;
    let (vms, cts) = d.sim().with_sim(|s| {
        let count = |k| s.cluster.guests.values().filter(|g| g.kind == k).count();
        (
            count(pve_sim::state::GuestKind::Qemu),
            count(pve_sim::state::GuestKind::Lxc),
        )
    });
    let cases = [
        (
            "get_nodes",
            json!({}),
            ok(&[
                ("/online", json!(3)),
                ("/nodes/0/node", json!("pve01")),
                ("/nodes/0/memory_total_mb", json!("*")),
            ]),
        ),
        (
            "get_node_status",
            json!({"node": "pve02"}),
            ok(&[
                ("/node", json!("pve02")),
                ("/cpu_model", json!("*")),
                ("/loadavg/2", json!("*")),
                ("/pve_version", json!("*")),
            ]),
        ),
        ("get_vms", json!({}), ok(&[("/count", json!(vms))])),
        (
            "get_vms",
            json!({"node": "pve01", "status": "stopped"}),
            ok(&[
                ("/vms/0/vmid", json!(103)),
                ("/vms/0/status", json!("stopped")),
            ]),
        ),
        ("get_containers", json!({}), ok(&[("/count", json!(cts))])),
        (
            "get_containers",
            json!({"status": "stopped"}),
            ok(&[("/count", json!(1)), ("/containers/0/vmid", json!(205))]),
        ),
        (
            "get_storage",
            json!({"node": "pve01"}),
            ok(&[
                ("/storages/0/node", json!("pve01")),
                ("/storages/0/content", json!("*")),
            ]),
        ),
        (
            "get_cluster_status",
            json!(null),
            ok(&[
                ("/quorate", json!(true)),
                ("/nodes_total", json!(3)),
                ("/nodes_online", json!(3)),
                ("/cluster_name", json!("*")),
            ]),
        ),
    ];
    for (tool, args, want) in cases {
        check(&d, tool, args, want).await;
    }
    // Lists are compact: a VM line carries no null fields and tags as a list.
    let out = d.call("get_vms", json!({"node": "pve01"})).await.unwrap();
    let web = out["vms"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["vmid"] == 100)
        .unwrap();
    assert_eq!(web["tags"], json!(["prod", "web"]));
    assert!(
        web.as_object().unwrap().values().all(|v| !v.is_null()),
        "{web}"
    );
    // Templates are flagged, others are not.
    let out = d.call("get_vms", json!({})).await.unwrap();
    let t = out["vms"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["vmid"] == 9000)
        .unwrap();
    assert_eq!(t["template"], true);
    assert!(web.get("template").is_none());
}

#[tokio::test]
async fn vm_power_tools_change_the_vm_state() {
    let d = Demo::start().await;
    let done = |status: &str| {
        ok(&[
            ("/task_status", json!("done")),
            ("/guest_status", json!(status.to_string())),
            ("/upid", json!("*")),
        ])
    };
    check(
        &d,
        "stop_vm",
        json!({"vmid": 100, "confirm": true}),
        done("stopped"),
    )
    .await;
    assert_eq!(d.guest_status(100).as_deref(), Some("stopped"));
    check(&d, "start_vm", json!({"vmid": "100"}), done("running")).await;
    assert_eq!(d.guest_status(100).as_deref(), Some("running"));
    check(
        &d,
        "reset_vm",
        json!({"vmid": 100, "node": "pve01", "confirm": true}),
        done("running"),
    )
    .await;
    check(
        &d,
        "shutdown_vm",
        json!({"vmid": 101, "timeout_seconds": 30}),
        done("stopped"),
    )
    .await;
    assert_eq!(d.guest_status(101).as_deref(), Some("stopped"));
    check(
        &d,
        "start_vm",
        json!({"vmid": 103, "wait_seconds": "10"}),
        done("running"),
    )
    .await;
    assert_eq!(d.guest_status(103).as_deref(), Some("running"));
}

#[tokio::test]
async fn create_vm_builds_the_documented_config() {
    let d = Demo::start().await;
    let out = check(
        &d,
        "create_vm",
        json!({"name": "agent-made", "cores": 2, "memory_mb": "2048", "disk_gb": 12, "node": "pve02",
               "iso": "local:iso/debian-12.8.0-amd64-netinst.iso"}),
        ok(&[("/node", json!("pve02")), ("/task_status", json!("done")), ("/guest_status", json!("stopped"))]),
    )
    .await;
    let vmid = u32::try_from(out["vmid"].as_u64().unwrap()).unwrap();
    let storage = out["storage"].as_str().unwrap().to_string();
    assert_eq!(d.guest_config(vmid, "name").as_deref(), Some("agent-made"));
    assert_eq!(d.guest_config(vmid, "cores").as_deref(), Some("2"));
    assert_eq!(d.guest_config(vmid, "memory").as_deref(), Some("2048"));
    assert_eq!(
        d.guest_config(vmid, "scsihw").as_deref(),
        Some("virtio-scsi-single")
    );
    assert_eq!(d.guest_config(vmid, "agent").as_deref(), Some("1"));
    let net0 = d.guest_config(vmid, "net0").unwrap();
    assert!(
        net0.starts_with("virtio") && net0.contains("bridge=vmbr0"),
        "{net0}"
    );
    let scsi0 = d.guest_config(vmid, "scsi0").unwrap();
    assert!(
        scsi0.starts_with(&format!("{storage}:")) && scsi0.contains("size=12G"),
        "{scsi0}"
    );
    assert!(
        d.guest_config(vmid, "ide2")
            .unwrap()
            .contains("media=cdrom")
    );
    // The chosen storage holds VM images.
    let storages = d
        .call("get_storage", json!({"node": "pve02"}))
        .await
        .unwrap();
    let chosen = storages["storages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["storage"] == storage.as_str())
        .unwrap();
    assert!(
        chosen["content"]
            .as_array()
            .unwrap()
            .contains(&json!("images")),
        "{chosen}"
    );
    // A given VMID is used; a taken one is refused naming the parameter; start: true starts it.
    check(
        &d,
        "create_vm",
        json!({"name": "second", "cores": 1, "memory_mb": 512, "disk_gb": 4, "vmid": 4242, "start": true}),
        ok(&[("/vmid", json!(4242)), ("/guest_status", json!("running"))]),
    )
    .await;
    assert_eq!(d.guest_status(4242).as_deref(), Some("running"));
    check(
        &d,
        "create_vm",
        json!({"name": "third", "cores": 1, "memory_mb": 512, "disk_gb": 4, "vmid": 100}),
        Want::Err("invalid_params", "vmid"),
    )
    .await;
}

#[tokio::test]
async fn delete_vm_needs_confirm_and_a_stopped_vm_unless_forced() {
    let d = Demo::start().await;
    let cases = [
        (
            "delete_vm",
            json!({"vmid": 103}),
            Want::Err("policy", "confirm: true"),
        ),
        (
            "delete_vm",
            json!({"vmid": 103, "confirm": false}),
            Want::Err("policy", "confirm: true"),
        ),
        (
            "delete_vm",
            json!({"vmid": 100, "confirm": true}),
            Want::Err("policy", "stop it first"),
        ),
        (
            "delete_vm",
            json!({"vmid": 103, "confirm": "true"}),
            ok(&[("/deleted", json!(true))]),
        ),
        (
            "delete_vm",
            json!({"vmid": 101, "confirm": true, "force": true, "purge": true}),
            ok(&[("/deleted", json!(true)), ("/stopped_first", json!(true))]),
        ),
        (
            "delete_vm",
            json!({"vmid": 103, "confirm": true}),
            Want::Err("pve", "VM 103 does not exist"),
        ),
    ];
    for (tool, args, want) in cases {
        check(&d, tool, args, want).await;
    }
    assert_eq!(d.guest_status(100).as_deref(), Some("running"));
    assert_eq!(d.guest_status(103), None);
    assert_eq!(d.guest_status(101), None);
}

#[tokio::test]
async fn execute_vm_command_runs_through_the_agent() {
    let d = Demo::start().await;
    let cases = [
        (
            json!({"vmid": 100, "command": "hostname", "confirm": true}),
            ok(&[
                ("/exited", json!(true)),
                ("/exit_code", json!(0)),
                ("/stdout", json!("web-01\n")),
            ]),
        ),
        (
            json!({"vmid": 100, "command": "echo", "args": ["a b", "c"], "confirm": true}),
            ok(&[("/stdout", json!("a b c\n"))]),
        ),
        (
            json!({"vmid": "100", "command": "echo one && echo two", "confirm": true}),
            ok(&[("/stdout", json!("one\ntwo\n"))]),
        ),
        (
            json!({"vmid": 100, "command": "no-such-program", "confirm": true}),
            ok(&[("/exit_code", json!(127)), ("/stderr", json!("*"))]),
        ),
        (
            json!({"vmid": 103, "command": "hostname", "confirm": true}),
            Want::Err("pve", "not running"),
        ),
        (
            json!({"vmid": 106, "command": "hostname", "confirm": true}),
            Want::Err("pve", "agent"),
        ),
        (
            json!({"vmid": 109, "command": "hostname", "confirm": true}),
            Want::Err("pve", "agent"),
        ),
        (
            json!({"vmid": 200, "command": "hostname", "confirm": true}),
            Want::Err("pve", "container"),
        ),
        (
            json!({"vmid": 100, "command": "  ", "confirm": true}),
            Want::Err("invalid_params", "command"),
        ),
        (
            json!({"vmid": 100, "command": "true", "timeout_seconds": 99, "confirm": true}),
            Want::Err("invalid_params", "timeout_seconds"),
        ),
    ];
    for (args, want) in cases {
        check(&d, "execute_vm_command", args, want).await;
    }
    // VM 110 has the agent disabled in its options: once running, that is what is said.
    d.call("start_vm", json!({"vmid": 110})).await.unwrap();
    check(
        &d,
        "execute_vm_command",
        json!({"vmid": 110, "command": "hostname", "confirm": true}),
        Want::Err("pve", "not enabled"),
    )
    .await;
}

#[tokio::test]
async fn container_tools_change_the_container() {
    let d = Demo::start().await;
    let done = |status: &str| {
        ok(&[
            ("/task_status", json!("done")),
            ("/guest_status", json!(status.to_string())),
        ])
    };
    check(
        &d,
        "stop_container",
        json!({"vmid": 200, "timeout_seconds": 10}),
        done("stopped"),
    )
    .await;
    assert_eq!(d.guest_status(200).as_deref(), Some("stopped"));
    check(&d, "start_container", json!({"vmid": 200}), done("running")).await;
    assert_eq!(d.guest_status(200).as_deref(), Some("running"));
    let out = check(
        &d,
        "stop_container",
        json!({"vmid": 201, "force": true}),
        done("stopped"),
    )
    .await;
    assert_eq!(out["action"], "stop");
    check(
        &d,
        "restart_container",
        json!({"vmid": 202}),
        ok(&[
            ("/action", json!("reboot")),
            ("/guest_status", json!("running")),
        ]),
    )
    .await;

    let before = d.guest_config(200, "rootfs").unwrap();
    assert!(before.contains("size=8G"), "{before}");
    check(
        &d,
        "update_container_resources",
        json!({"vmid": 200, "cores": 2, "memory_mb": 1024, "swap_mb": 256, "disk_add_gb": 2}),
        ok(&[
            ("/cores", json!(2)),
            ("/memory_mb", json!(1024)),
            ("/swap_mb", json!(256)),
            ("/changed", json!(["cores", "memory", "swap", "rootfs"])),
        ]),
    )
    .await;
    assert_eq!(d.guest_config(200, "cores").as_deref(), Some("2"));
    assert_eq!(d.guest_config(200, "memory").as_deref(), Some("1024"));
    assert_eq!(d.guest_config(200, "swap").as_deref(), Some("256"));
    let after = d.guest_config(200, "rootfs").unwrap();
    assert!(after.contains("size=10G"), "{after}");
    check(
        &d,
        "update_container_resources",
        json!({"vmid": 200}),
        Want::Err("invalid_params", "at least one"),
    )
    .await;
    check(
        &d,
        "update_container_resources",
        json!({"vmid": 100, "cores": 1}),
        Want::Err("pve", "not a container"),
    )
    .await;
}

#[tokio::test]
async fn get_task_reports_a_finished_task_with_its_log() {
    let d = Demo::start().await;
    let out = d
        .call("stop_vm", json!({"vmid": 101, "confirm": true}))
        .await
        .unwrap();
    let upid = out["upid"].as_str().unwrap().to_string();
    let task = check(
        &d,
        "get_task",
        json!({"upid": upid, "log_lines": 5}),
        ok(&[
            ("/status", json!("stopped")),
            ("/ok", json!(true)),
            ("/exitstatus", json!("OK")),
            ("/node", json!("pve01")),
            ("/type", json!("qmstop")),
        ]),
    )
    .await;
    assert!(!task["log"].as_array().unwrap().is_empty(), "{task}");
    check(
        &d,
        "get_task",
        json!({"upid": "nope"}),
        Want::Err("invalid_params", "upid"),
    )
    .await;
}

#[tokio::test]
async fn long_tasks_return_the_upid_and_get_task_follows_them() {
    // Realistic task durations: a start takes longer than a zero wait.
    let d = Demo::with(pve_sim::seed::demo(), 1.0).await;
    let out = check(
        &d,
        "start_vm",
        json!({"vmid": 103, "wait_seconds": 0}),
        ok(&[("/task_status", json!("running")), ("/hint", json!("*"))]),
    )
    .await;
    assert!(out["hint"].as_str().unwrap().contains("get_task"), "{out}");
    assert!(out.get("guest_status").is_none());
    let upid = out["upid"].as_str().unwrap();
    check(
        &d,
        "get_task",
        json!({"upid": upid}),
        ok(&[("/status", json!("running"))]),
    )
    .await;
    d.sim().advance(600.0);
    check(
        &d,
        "get_task",
        json!({"upid": upid}),
        ok(&[("/status", json!("stopped")), ("/ok", json!(true))]),
    )
    .await;
    assert_eq!(d.guest_status(103).as_deref(), Some("running"));
}
