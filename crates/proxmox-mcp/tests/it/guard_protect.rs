//! Protected guests: PVE's `protection` flag, a VMID or a tag listed in the configuration. No
//! mutating tool changes them, even with confirm, and a dry run says so too; reading is fine.

use serde_json::{Value, json};

use crate::common::Demo;
use crate::guard_confirm::{guarded, writes};
use proxmox_mcp::guard::GuardConfig;

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

#[tokio::test]
async fn protected_guests_are_never_changed() {
    let d = guarded(GuardConfig {
        protected_vmids: vec![101, 200],
        protected_tags: vec!["DEV".into()],
        ..GuardConfig::default()
    })
    .await;
    // VM 102 has PVE's protection flag set in the demo cluster.
    d.sim().with_sim(|s| {
        s.cluster
            .guests
            .get_mut(&201)
            .unwrap()
            .config
            .insert("protection".into(), json!(1));
    });
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
        refused(&d, tool, args.clone(), why).await;
        // A dry run is refused the same way (its plan would be a lie), and so is a call
        // without confirm: confirming would not help.
        let mut dry = args.clone();
        dry["dry_run"] = json!(true);
        refused(&d, tool, dry, why).await;
        if args.get("confirm").is_some() {
            let mut unconfirmed = args.clone();
            unconfirmed.as_object_mut().unwrap().remove("confirm");
            refused(&d, tool, unconfirmed, why).await;
        }
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
