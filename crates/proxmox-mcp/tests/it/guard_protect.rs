//! Protected guests: PVE's `protection` flag, a VMID or a tag listed in the configuration. No
//! mutating tool changes them, even with confirm, and a dry run says so too; reading is fine.

use serde_json::{Value, json};

use crate::support::demo::Demo;
use crate::support::demo::{guarded, seeded_backup, writes};
use proxmox_mcp::GuardConfig;

/// Calls `tool` and checks it is refused as protected, naming `why`, with no write made.
async fn refused(d: &Demo, tool: &str, args: Value, why: &str) {
    d.sim().clear_requests();
    let e = d.call(tool, args.clone()).await.unwrap_err();
    assert_eq!(e.kind(), "policy", "{tool} {args}: {e}");
    let text = e.to_string();
    assert!(
        text.contains("is protected") && text.contains(why),
        "{tool} {args}: {text}"
    );
    assert_eq!(writes(d), Vec::<String>::new(), "{tool} {args} wrote");
}

/// [`refused`] as called, as a dry run (its plan would be a lie), and without confirm when it
/// has one (confirming would not help).
async fn refused_every_way(d: &Demo, tool: &str, args: Value, why: &str) {
    refused(d, tool, args.clone(), why).await;
    let mut dry = args.clone();
    dry["dry_run"] = json!(true);
    refused(d, tool, dry, why).await;
    if args.get("confirm").is_some() {
        let mut unconfirmed = args.clone();
        unconfirmed.as_object_mut().unwrap().remove("confirm");
        refused(d, tool, unconfirmed, why).await;
    }
}

/// Sets PVE's protection flag on CT 201 (VM 102 has it in the demo cluster).
fn protect_201(d: &Demo) {
    d.sim().with_sim(|s| {
        s.cluster
            .guests
            .get_mut(&201)
            .unwrap()
            .config
            .insert("protection".into(), json!(1));
    });
}

#[tokio::test]
async fn protected_guests_are_never_changed() {
    let d = guarded(GuardConfig {
        protected_vmids: vec![101, 200],
        protected_tags: vec!["DEV".into()],
        ..GuardConfig::default()
    })
    .await;
    protect_201(&d);
    let flag = "protection flag";
    let listed = "guard.protected_vmids";
    let tagged = "tag `dev`";
    let cases: Vec<(&str, Value, &str)> = vec![
        // PVE's flag, on a VM and on a container.
        ("stop_vm", json!({"vmid": 102, "confirm": true}), flag),
        ("shutdown_vm", json!({"vmid": 102}), flag),
        ("reset_vm", json!({"vmid": 102, "confirm": true}), flag),
        (
            "delete_vm",
            json!({"vmid": 102, "confirm": true, "force": true}),
            flag,
        ),
        (
            "execute_vm_command",
            json!({"vmid": 102, "command": "hostname", "confirm": true}),
            flag,
        ),
        ("restart_container", json!({"vmid": 201}), flag),
        // A VMID listed in the configuration.
        ("shutdown_vm", json!({"vmid": 101}), listed),
        (
            "delete_vm",
            json!({"vmid": 101, "confirm": true, "force": true}),
            listed,
        ),
        (
            "update_container_resources",
            json!({"vmid": 200, "cores": 4}),
            listed,
        ),
        (
            "stop_container",
            json!({"vmid": 200, "force": true}),
            listed,
        ),
        // A listed tag (VM 103 and CT 205 are tagged `dev`), matched without case.
        ("start_vm", json!({"vmid": 103}), tagged),
        ("delete_vm", json!({"vmid": 103, "confirm": true}), tagged),
        ("start_container", json!({"vmid": 205}), tagged),
    ];
    for (tool, args, why) in cases {
        refused_every_way(&d, tool, args, why).await;
    }
    assert_eq!(d.guest_status(102).as_deref(), Some("running"));
    assert_eq!(d.guest_status(101).as_deref(), Some("running"));
    assert_eq!(d.guest_status(103).as_deref(), Some("stopped"));
    assert_eq!(d.guest_status(205).as_deref(), Some("stopped"));
    assert_eq!(d.guest_config(200, "cores").as_deref(), Some("1"));

    // Reading protected guests is fine.
    let vms = d.call("get_vms", json!({})).await.unwrap();
    assert!(
        vms["vms"]
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v["vmid"] == 102)
    );
    d.call("get_containers", json!({})).await.unwrap();

    // Unprotected guests still change.
    d.sim().clear_requests();
    d.call("stop_vm", json!({"vmid": 100, "confirm": true}))
        .await
        .unwrap();
    assert_eq!(d.guest_status(100).as_deref(), Some("stopped"));
    d.call(
        "update_container_resources",
        json!({"vmid": 202, "cores": 3}),
    )
    .await
    .unwrap();
    assert_eq!(d.guest_config(202, "cores").as_deref(), Some("3"));
}

#[tokio::test]
async fn the_protection_flag_holds_without_any_configuration() {
    let d = Demo::start().await;
    refused(
        &d,
        "stop_vm",
        json!({"vmid": 102, "confirm": true}),
        "protection flag",
    )
    .await;
    assert_eq!(d.guest_status(102).as_deref(), Some("running"));

    // A guest whose config cannot be read is not written to blindly.
    d.sim()
        .inject(
            pve_sim::faults::Fault::status(500, "config unavailable")
                .path("^/nodes/pve01/qemu/100/config$"),
        )
        .unwrap();
    d.sim().clear_requests();
    let e = d
        .call("stop_vm", json!({"vmid": 100, "confirm": true}))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), "pve", "{e}");
    assert!(e.to_string().contains("config unavailable"), "{e}");
    assert_eq!(writes(&d), Vec::<String>::new());
    assert_eq!(d.guest_status(100).as_deref(), Some("running"));
}

/// Tools that only make a new guest: a VMID that exists is PVE's to refuse.
/// Mutating tools that touch no existing guest: creations, commands on a node itself, and
/// downloads onto a storage.
const CREATE_ONLY: [&str; 4] = [
    "create_vm",
    "create_container",
    "execute_node_command",
    "download_to_storage",
];

#[tokio::test]
async fn every_guest_affecting_tool_refuses_a_protected_guest() {
    let d = guarded(GuardConfig {
        protected_vmids: vec![101, 200, 9000],
        protected_tags: vec!["DEV".into()],
        ..GuardConfig::default()
    })
    .await;
    protect_201(&d);
    crate::support::demo::add_snapshot(&d, 103, "before");
    d.sim().with_sim(|s| {
        let g = s.cluster.guests.get_mut(&102).unwrap();
        g.config.insert(
            "ide2".into(),
            json!("local-lvm:vm-102-cloudinit,media=cdrom"),
        );
    });
    let flag = "protection flag";
    let listed = "guard.protected_vmids";
    let tagged = "tag `dev`";
    let task_of_102 = crate::support::demo::long_task_of(&d, 102);
    let task_of_101 = crate::support::demo::long_task_of(&d, 101);
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "create_vm_from_template",
            json!({"template_vmid": 9000, "name": "x", "newid": 4446}),
            listed,
        ),
        ("clone_vm", json!({"vmid": 9000, "newid": 4445}), listed),
        ("start_vm", json!({"vmid": 103}), tagged),
        ("stop_vm", json!({"vmid": 102, "confirm": true}), flag),
        ("shutdown_vm", json!({"vmid": 101}), listed),
        ("reset_vm", json!({"vmid": 102, "confirm": true}), flag),
        (
            "delete_vm",
            json!({"vmid": 101, "confirm": true, "force": true}),
            listed,
        ),
        (
            "execute_vm_command",
            json!({"vmid": 102, "command": "hostname", "confirm": true}),
            flag,
        ),
        ("update_vm_config", json!({"vmid": 102, "cores": 3}), flag),
        (
            "execute_container_command",
            json!({"vmid": 200, "command": "hostname", "confirm": true}),
            listed,
        ),
        (
            "execute_container_command",
            json!({"vmid": 201, "command": "hostname", "confirm": true}),
            flag,
        ),
        (
            "convert_to_template",
            json!({"vmid": 103, "confirm": true}),
            tagged,
        ),
        (
            "migrate_guest",
            json!({"vmid": 101, "target_node": "pve02"}),
            listed,
        ),
        ("start_container", json!({"vmid": 205}), tagged),
        (
            "stop_container",
            json!({"vmid": 200, "force": true}),
            listed,
        ),
        ("restart_container", json!({"vmid": 201}), flag),
        (
            "update_container_resources",
            json!({"vmid": 200, "cores": 4}),
            listed,
        ),
        (
            "delete_container",
            json!({"vmid": 201, "confirm": true, "force": true}),
            flag,
        ),
        (
            "create_snapshot",
            json!({"vmid": 102, "name": "pre-change"}),
            flag,
        ),
        (
            "rollback_snapshot",
            json!({"vmid": 103, "name": "before", "confirm": true}),
            tagged,
        ),
        (
            "delete_snapshot",
            json!({"vmid": 103, "name": "before", "confirm": true}),
            tagged,
        ),
        // A backup in stop or suspend mode stops or pauses the guest.
        (
            "create_backup",
            json!({"vmid": 102, "mode": "stop", "storage": "nfs-backup"}),
            flag,
        ),
        (
            "create_backup",
            json!({"vmid": 101, "mode": "suspend", "storage": "nfs-backup"}),
            listed,
        ),
        (
            "create_backup",
            json!({"vmid": 103, "mode": "stop", "storage": "nfs-backup"}),
            tagged,
        ),
        // A restore over an existing guest replaces it.
        (
            "restore_backup",
            json!({"archive": seeded_backup(&d, 104), "vmid": 103, "force": true, "confirm": true}),
            tagged,
        ),
        // A protected guest's backups are kept.
        (
            "delete_backup",
            json!({"volid": seeded_backup(&d, 102), "confirm": true}),
            flag,
        ),
        (
            "delete_backup",
            json!({"volid": seeded_backup(&d, 200), "confirm": true}),
            listed,
        ),
        // Its disks are neither grown nor moved.
        (
            "resize_disk",
            json!({"vmid": 102, "disk": "scsi1", "size": "+1G"}),
            flag,
        ),
        ("resize_disk", json!({"vmid": 200, "size": "+1G"}), listed),
        (
            "move_disk",
            json!({"vmid": 103, "storage": "local-lvm"}),
            tagged,
        ),
        (
            "move_disk",
            json!({"vmid": 201, "storage": "local-lvm", "delete_source": true, "confirm": true}),
            flag,
        ),
        // Its running tasks (a backup, a migration) are not interrupted.
        ("stop_task", json!({"upid": task_of_102}), flag),
        ("stop_task", json!({"upid": task_of_101}), listed),
        // A wrong node (or the other kind's tool) does not make a guest unprotected: the
        // guest's real place decides.
        (
            "stop_vm",
            json!({"vmid": 102, "node": "pve02", "confirm": true}),
            flag,
        ),
        ("shutdown_vm", json!({"vmid": 101, "node": "pve03"}), listed),
        (
            "start_container",
            json!({"vmid": 205, "node": "pve02"}),
            tagged,
        ),
        (
            "stop_vm",
            json!({"vmid": 201, "node": "pve02", "confirm": true}),
            flag,
        ),
        (
            "reset_vm",
            json!({"vmid": 200, "node": "pve01", "confirm": true}),
            listed,
        ),
        (
            "update_vm_config",
            json!({"vmid": 102, "node": "pve03", "cores": 3}),
            flag,
        ),
        // VM 102 is given a cloud-init drive below, so only protection stops the change.
        (
            "update_cloud_init",
            json!({"vmid": 102, "ciuser": "x"}),
            flag,
        ),
        (
            "update_container_config",
            json!({"vmid": 200, "onboot": false}),
            listed,
        ),
        (
            "clone_container",
            json!({"vmid": 200, "newid": 4447, "snapshot": "any"}),
            listed,
        ),
        (
            "convert_container_to_template",
            json!({"vmid": 205, "confirm": true}),
            tagged,
        ),
        // Reboot, suspend and resume change a guest's state too.
        ("reboot_vm", json!({"vmid": 102}), flag),
        ("suspend_vm", json!({"vmid": 101, "to_disk": true}), listed),
        ("resume_vm", json!({"vmid": 103}), tagged),
        ("suspend_container", json!({"vmid": 201}), flag),
        ("resume_container", json!({"vmid": 200}), listed),
        // The generic tool, through a guest's path (tools_api.rs covers the cluster-wide ones).
        (
            "proxmox_api",
            json!({"method": "PUT", "path": "/nodes/pve01/qemu/102/config",
                   "params": {"cores": 3}, "confirm": true}),
            flag,
        ),
    ];
    // Every mutating tool that can touch an existing guest has a case here.
    let covered: std::collections::BTreeSet<&str> = cases.iter().map(|c| c.0).collect();
    let mutating: std::collections::BTreeSet<&str> = d
        .app
        .registry()
        .tools()
        .filter(|t| t.access != proxmox_mcp::Access::Read && !CREATE_ONLY.contains(&t.name))
        .map(|t| t.name)
        .collect();
    assert_eq!(
        covered, mutating,
        "one protection case per guest-affecting tool"
    );
    for (tool, args, why) in cases {
        refused_every_way(&d, tool, args, why).await;
    }
    assert_eq!(d.guest_status(102).as_deref(), Some("running"));
    assert_eq!(d.guest_status(101).as_deref(), Some("running"));
    assert_eq!(d.guest_status(201).as_deref(), Some("running"));
    // The tasks still run.
    for upid in [&task_of_102, &task_of_101] {
        let t = d.call("get_task", json!({"upid": upid})).await.unwrap();
        assert_eq!(t["status"], "running", "{t}");
    }

    // A live (snapshot) backup disrupts nothing: it is allowed.
    d.sim().clear_requests();
    let out = d
        .call(
            "create_backup",
            json!({"vmid": 102, "mode": "snapshot", "storage": "nfs-backup"}),
        )
        .await
        .unwrap();
    assert_eq!(out["task_status"], "done", "{out}");
    assert_eq!(writes(&d), ["POST /nodes/pve01/vzdump"]);
    // An unprotected guest's task stops; a wrong node for an unprotected guest is PVE's to
    // answer.
    let task_of_100 = crate::support::demo::long_task_of(&d, 100);
    let out = d
        .call("stop_task", json!({"upid": task_of_100}))
        .await
        .unwrap();
    assert_eq!(out["stopped"], true, "{out}");
    let e = d
        .call("shutdown_vm", json!({"vmid": 100, "node": "pve02"}))
        .await
        .unwrap_err();
    assert_ne!(e.kind(), "policy", "{e}");
}
