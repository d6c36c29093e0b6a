//! Every tool called over the REST door against the demo simulator, with its effect checked in
//! the simulator's state; GET with query parameters for read tools; empty and `null` bodies.

use std::collections::BTreeSet;

use reqwest::Method;
use serde_json::{Value, json};

use crate::support::rest::{Rest, check};

#[tokio::test]
async fn every_tool_answers_over_rest_and_acts_on_the_cluster() {
    let registry = proxmox_mcp::builtin_tools().unwrap().with_guard(
        proxmox_mcp::Guard::new(&proxmox_mcp::GuardConfig {
            node_commands: proxmox_mcp::NodeCommandsConfig {
                allow: vec!["hostname".into()],
            },
            ..proxmox_mcp::GuardConfig::default()
        })
        .unwrap(),
    );
    let r = Rest::with_registry(Some(registry), proxmox_mcp::RestConfig::default()).await;
    let mut called = BTreeSet::new();
    let mut post = async |tool: &str, args: Value, fields: &[(&str, Value)]| -> Value {
        called.insert(tool.to_string());
        let body = args.to_string();
        check(
            &r,
            Method::POST,
            &format!("/{tool}"),
            Some(&body),
            200,
            fields,
        )
        .await
    };

    post("get_nodes", json!({}), &[("/online", json!(3))]).await;
    post(
        "get_node_status",
        json!({"node": "pve02"}),
        &[("/node", json!("pve02")), ("/cpu_model", json!("*"))],
    )
    .await;
    post(
        "get_vms",
        json!({"status": "stopped", "node": "pve01"}),
        &[("/vms/0/vmid", json!(103))],
    )
    .await;
    post(
        "get_containers",
        json!({"status": "stopped"}),
        &[("/count", json!(1)), ("/containers/0/vmid", json!(205))],
    )
    .await;
    post(
        "get_storage",
        json!({"node": "pve01"}),
        &[("/storages/0/node", json!("pve01"))],
    )
    .await;
    post(
        "get_cluster_status",
        json!({}),
        &[("/quorate", json!(true))],
    )
    .await;
    post(
        "list_clusters",
        json!({}),
        &[
            ("/answering", json!(1)),
            ("/clusters/0/name", json!("default")),
            ("/clusters/0/nodes", json!(3)),
        ],
    )
    .await;

    // VM power: the simulator's state follows.
    let started = post(
        "start_vm",
        json!({"vmid": 103}),
        &[
            ("/task_status", json!("done")),
            ("/guest_status", json!("running")),
        ],
    )
    .await;
    assert_eq!(r.demo.guest_status(103).as_deref(), Some("running"));
    let upid = started["upid"].as_str().unwrap().to_string();
    post(
        "get_task",
        json!({"upid": upid, "log_lines": 5}),
        &[
            ("/status", json!("stopped")),
            ("/ok", json!(true)),
            ("/type", json!("qmstart")),
        ],
    )
    .await;
    post(
        "execute_vm_command",
        json!({"vmid": 100, "command": "hostname", "confirm": true}),
        &[("/exit_code", json!(0)), ("/stdout", json!("web-01\n"))],
    )
    .await;
    post(
        "execute_container_command",
        json!({"vmid": 200, "command": "cat", "args": ["/etc/hostname"], "confirm": true}),
        &[("/exit_code", json!(0)), ("/node", json!("pve01"))],
    )
    .await;
    post(
        "execute_node_command",
        json!({"node": "pve02", "command": "hostname", "confirm": true}),
        &[("/exit_code", json!(0)), ("/stdout", json!("pve02\n"))],
    )
    .await;
    post(
        "shutdown_vm",
        json!({"vmid": 101}),
        &[("/guest_status", json!("stopped"))],
    )
    .await;
    assert_eq!(r.demo.guest_status(101).as_deref(), Some("stopped"));
    post(
        "reset_vm",
        json!({"vmid": 100, "confirm": true}),
        &[("/action", json!("reset"))],
    )
    .await;
    assert_eq!(r.demo.guest_status(100).as_deref(), Some("running"));
    post(
        "stop_vm",
        json!({"vmid": "100", "confirm": true}),
        &[("/guest_status", json!("stopped"))],
    )
    .await;
    assert_eq!(r.demo.guest_status(100).as_deref(), Some("stopped"));
    post(
        "create_vm",
        json!({"name": "rest-made", "cores": 1, "memory_mb": 512, "disk_gb": 4, "vmid": 4343}),
        &[("/vmid", json!(4343)), ("/task_status", json!("done"))],
    )
    .await;
    assert_eq!(
        r.demo.guest_config(4343, "name").as_deref(),
        Some("rest-made")
    );
    post(
        "delete_vm",
        json!({"vmid": 4343, "confirm": true}),
        &[("/deleted", json!(true))],
    )
    .await;
    assert_eq!(r.demo.guest_status(4343), None);

    // Containers.
    post(
        "start_container",
        json!({"vmid": 205}),
        &[("/guest_status", json!("running"))],
    )
    .await;
    assert_eq!(r.demo.guest_status(205).as_deref(), Some("running"));
    post(
        "stop_container",
        json!({"vmid": 201, "force": true}),
        &[("/action", json!("stop"))],
    )
    .await;
    assert_eq!(r.demo.guest_status(201).as_deref(), Some("stopped"));
    post(
        "restart_container",
        json!({"vmid": 202}),
        &[("/action", json!("reboot"))],
    )
    .await;
    assert_eq!(r.demo.guest_status(202).as_deref(), Some("running"));
    post(
        "update_container_resources",
        json!({"vmid": 200, "cores": 2, "memory_mb": 1024}),
        &[("/cores", json!(2)), ("/memory_mb", json!(1024))],
    )
    .await;
    assert_eq!(r.demo.guest_config(200, "cores").as_deref(), Some("2"));

    // VM config, provisioning and migration toolsets.
    post(
        "get_vm_config",
        json!({"vmid": 102}),
        &[("/config/name", json!("db-01"))],
    )
    .await;
    post(
        "update_vm_config",
        json!({"vmid": 103, "memory_mb": 2048}),
        &[("/memory_mb", json!(2048))],
    )
    .await;
    assert_eq!(r.demo.guest_config(103, "memory").as_deref(), Some("2048"));
    post(
        "get_vm_ip_addresses",
        json!({"vmid": 102}),
        &[("/vmid", json!(102))],
    )
    .await;
    post(
        "clone_vm",
        json!({"vmid": 9000, "newid": 4400}),
        &[("/full", json!(false)), ("/task_status", json!("done"))],
    )
    .await;
    post(
        "create_vm_from_template",
        json!({"template_vmid": 9000, "name": "rest-ci", "newid": 4401, "ip": "dhcp"}),
        &[("/configured", json!(true))],
    )
    .await;
    assert_eq!(
        r.demo.guest_config(4401, "ipconfig0").as_deref(),
        Some("ip=dhcp")
    );
    post(
        "update_cloud_init",
        json!({"vmid": 4401, "ciuser": "rest", "nameserver": "1.1.1.1"}),
        &[
            ("/ciuser", json!("rest")),
            ("/nameserver", json!("1.1.1.1")),
        ],
    )
    .await;
    post(
        "check_migration",
        json!({"vmid": 4400, "target_node": "pve02"}),
        &[("/can_migrate", json!(true))],
    )
    .await;
    post(
        "migrate_guest",
        json!({"vmid": 4400, "target_node": "pve02"}),
        &[("/migrated", json!(true))],
    )
    .await;
    post(
        "convert_to_template",
        json!({"vmid": 4401, "confirm": true}),
        &[("/template", json!(true))],
    )
    .await;
    assert_eq!(r.demo.guest_config(4401, "template").as_deref(), Some("1"));
    post(
        "create_container",
        json!({"template": "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst",
               "hostname": "rest-ct", "password": "hunter22", "vmid": 4402, "node": "pve01"}),
        &[("/task_status", json!("done"))],
    )
    .await;
    post(
        "get_container_config",
        json!({"vmid": 4402}),
        &[("/config/hostname", json!("rest-ct"))],
    )
    .await;
    post(
        "get_container_ip_addresses",
        json!({"vmid": 200}),
        &[("/node", json!("pve01")), ("/ipv4/0", json!("*"))],
    )
    .await;
    post(
        "update_container_config",
        json!({"vmid": 4402, "onboot": true, "nameserver": ["9.9.9.9"]}),
        &[("/onboot", json!(true)), ("/nameserver", json!("9.9.9.9"))],
    )
    .await;
    post(
        "clone_container",
        json!({"vmid": 4402, "newid": 4403, "hostname": "rest-ct-2"}),
        &[("/full", json!(true)), ("/task_status", json!("done"))],
    )
    .await;
    post(
        "convert_container_to_template",
        json!({"vmid": 4403, "confirm": true}),
        &[("/template", json!(true))],
    )
    .await;
    post(
        "delete_container",
        json!({"vmid": 4402, "confirm": true}),
        &[("/deleted", json!(true))],
    )
    .await;
    assert_eq!(r.demo.guest_status(4402), None);

    let running = crate::support::demo::long_task(&r.demo);
    post(
        "list_tasks",
        json!({"status": "running"}),
        &[("/count", json!(1)), ("/tasks/0/upid", json!(running))],
    )
    .await;
    post(
        "stop_task",
        json!({"upid": running}),
        &[("/stopped", json!(true)), ("/status", json!("stopped"))],
    )
    .await;

    post(
        "create_snapshot",
        json!({"vmid": 103, "name": "rest-snap"}),
        &[
            ("/snapshot", json!("rest-snap")),
            ("/task_status", json!("done")),
        ],
    )
    .await;
    post(
        "list_snapshots",
        json!({"vmid": 103}),
        &[
            ("/count", json!(1)),
            ("/current_parent", json!("rest-snap")),
        ],
    )
    .await;
    post(
        "rollback_snapshot",
        json!({"vmid": 103, "name": "rest-snap", "confirm": true}),
        &[("/guest_status", json!("stopped"))],
    )
    .await;
    post(
        "delete_snapshot",
        json!({"vmid": 103, "name": "rest-snap", "confirm": true}),
        &[("/task_status", json!("done"))],
    )
    .await;

    let made = post(
        "create_backup",
        json!({"vmid": 103, "storage": "nfs-backup"}),
        &[
            ("/task_status", json!("done")),
            ("/storage", json!("nfs-backup")),
        ],
    )
    .await;
    let volid = made["backup"].as_str().unwrap().to_string();
    post(
        "list_backups",
        json!({"vmid": 103}),
        &[("/count", json!(1)), ("/backups/0/volid", json!(volid))],
    )
    .await;
    post(
        "restore_backup",
        json!({"archive": volid, "vmid": 4444, "confirm": true}),
        &[("/vmid", json!(4444)), ("/kind", json!("qemu"))],
    )
    .await;
    post(
        "delete_backup",
        json!({"volid": volid, "confirm": true}),
        &[("/deleted", json!(true))],
    )
    .await;
    post(
        "list_storage_content",
        json!({"storage": "local", "content": "iso"}),
        &[("/volumes/0/content", json!("iso"))],
    )
    .await;
    post(
        "list_networks",
        json!({"node": "pve01"}),
        &[("/bridges", json!(["vmbr0", "vmbr1"]))],
    )
    .await;
    post(
        "get_firewall_rules",
        json!({"node": "pve01"}),
        &[("/level", json!("node"))],
    )
    .await;
    post(
        "resize_disk",
        json!({"vmid": 205, "size": "+1G"}),
        &[("/disk", json!("rootfs")), ("/size_after", json!("9G"))],
    )
    .await;
    post(
        "move_disk",
        json!({"vmid": 205, "storage": "local-lvm", "dry_run": true}),
        &[(
            "/planned_calls/0/path",
            json!("/nodes/pve01/lxc/205/move_volume"),
        )],
    )
    .await;
    post(
        "list_available_templates",
        json!({"search": "alpine"}),
        &[("/count", json!(1))],
    )
    .await;
    post(
        "download_to_storage",
        json!({"storage": "local", "template": "alpine-3.22-default_20250617_amd64.tar.xz"}),
        &[(
            "/volid",
            json!("local:vztmpl/alpine-3.22-default_20250617_amd64.tar.xz"),
        )],
    )
    .await;
    post(
        "proxmox_api",
        json!({"method": "PUT", "path": "/nodes/pve01/qemu/103/config",
               "params": {"description": "set over REST"}, "confirm": true}),
        &[
            ("/method", json!("PUT")),
            ("/path", json!("/nodes/pve01/qemu/103/config")),
        ],
    )
    .await;
    post(
        "get_metrics",
        json!({"vmid": 100, "timeframe": "day", "points": 7}),
        &[("/kind", json!("vm")), ("/points", json!(7))],
    )
    .await;
    post(
        "get_node_logs",
        json!({"node": "pve01", "lines": 3}),
        &[("/count", json!(3))],
    )
    .await;
    post(
        "get_cluster_log",
        json!({"limit": 2}),
        &[("/count", json!(2))],
    )
    .await;
    post(
        "list_node_services",
        json!({"node": "pve03"}),
        &[("/node", json!("pve03"))],
    )
    .await;
    post(
        "list_updates",
        json!({"node": "pve02"}),
        &[("/nodes/0/security", json!(2))],
    )
    .await;

    // The overview, the power, cluster and backup-job tools.
    post(
        "get_cluster_overview",
        json!({}),
        &[("/quorate", json!(true)), ("/guests/running", json!("*"))],
    )
    .await;
    post(
        "reboot_vm",
        json!({"vmid": 106}),
        &[
            ("/action", json!("reboot")),
            ("/guest_status", json!("running")),
        ],
    )
    .await;
    post(
        "suspend_vm",
        json!({"vmid": 106}),
        &[("/guest_status", json!("paused"))],
    )
    .await;
    post(
        "resume_vm",
        json!({"vmid": 106}),
        &[("/guest_status", json!("running"))],
    )
    .await;
    post(
        "suspend_container",
        json!({"vmid": 200}),
        &[("/action", json!("suspend"))],
    )
    .await;
    post(
        "resume_container",
        json!({"vmid": 200}),
        &[("/guest_status", json!("running"))],
    )
    .await;
    post("get_ha_status", json!({}), &[("/quorum", json!("OK"))]).await;
    post(
        "list_pools",
        json!({"pool": "lab"}),
        &[("/pools/0/pool", json!("lab"))],
    )
    .await;
    post("list_backup_jobs", json!({}), &[("/count", json!(3))]).await;
    post(
        "get_backup_coverage",
        json!({"limit": 1}),
        &[
            ("/guests_total", json!("*")),
            ("/not_covered_count", json!("*")),
        ],
    )
    .await;

    let all: BTreeSet<String> = r
        .demo
        .app
        .registry()
        .tools()
        .filter(|t| t.toolset != "dynamic")
        .map(|t| t.name.to_string())
        .collect();
    assert_eq!(
        called, all,
        "every tool REST serves must be called over REST"
    );
}

#[tokio::test]
async fn read_tools_answer_get_with_typed_query_parameters() {
    let r = Rest::start().await;
    type Case<'a> = (&'a str, u16, &'a [(&'a str, Value)]);
    let cases: &[Case] = &[
        (
            "/get_vms?node=pve01&status=stopped",
            200,
            &[("/count", json!(2)), ("/vms/0/vmid", json!(103))],
        ),
        ("/get_vms", 200, &[("/count", json!("*"))]),
        (
            "/get_containers?status=stopped",
            200,
            &[("/containers/0/vmid", json!(205))],
        ),
        (
            "/get_node_status?node=pve02",
            200,
            &[("/node", json!("pve02"))],
        ),
        (
            "/get_storage?node=pve01",
            200,
            &[("/storages/0/node", json!("pve01"))],
        ),
        ("/get_nodes", 200, &[("/online", json!(3))]),
        ("/get_cluster_status", 200, &[("/nodes_total", json!(3))]),
        // Coercion follows the schema; what does not fit is refused naming the parameter.
        (
            "/get_vms?status=sleeping",
            422,
            &[("/detail/param", json!("status"))],
        ),
        (
            "/get_task?upid=x&log_lines=many",
            422,
            &[("/detail/param", json!("log_lines"))],
        ),
        ("/get_node_status", 422, &[("/detail/param", json!("node"))]),
        (
            "/get_vms?colour=red",
            422,
            &[("/detail/param", json!("colour"))],
        ),
        (
            "/get_vms?node=a&node=b",
            422,
            &[("/detail/param", json!("node"))],
        ),
        // Write tools are POST only.
        (
            "/start_vm?vmid=103",
            405,
            &[("/detail/kind", json!("method_not_allowed"))],
        ),
    ];
    for (path, status, fields) in cases {
        check(&r, Method::GET, path, None, *status, fields).await;
    }
    assert_eq!(
        r.demo.guest_status(103).as_deref(),
        Some("stopped"),
        "a GET must not start a VM"
    );
    // A UPID from a POST, followed by GET with an integer parameter from the query string.
    let (s, started) = r.post("start_vm", json!({"vmid": 103})).await;
    assert_eq!(s, 200, "{started}");
    let upid = started["upid"].as_str().unwrap();
    let q: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("upid", upid)
        .append_pair("log_lines", "2")
        .finish();
    let task = check(
        &r,
        Method::GET,
        &format!("/get_task?{q}"),
        None,
        200,
        &[("/upid", json!(upid))],
    )
    .await;
    assert!(task["log"].as_array().unwrap().len() <= 2, "{task}");
}

#[tokio::test]
async fn empty_and_null_bodies_are_empty_arguments() {
    let r = Rest::start().await;
    for body in [None, Some(""), Some("  \n"), Some("null"), Some("{}")] {
        check(
            &r,
            Method::POST,
            "/get_nodes",
            body,
            200,
            &[("/online", json!(3))],
        )
        .await;
        check(
            &r,
            Method::POST,
            "/start_vm",
            body,
            422,
            &[("/detail/param", json!("vmid"))],
        )
        .await;
    }
    assert_eq!(r.demo.guest_status(103).as_deref(), Some("stopped"));
}
