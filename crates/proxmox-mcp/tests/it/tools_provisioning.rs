//! The `provisioning` toolset's VM tools against the demo simulator: `clone_vm` (full, linked,
//! PVE's template rules), `convert_to_template` (confirmation, irreversibility, linked clones
//! keeping their base) and `create_vm_from_template` (cloud-init in the config, secrets masked
//! in the dry run and the audit log, bounded wait).

use proxmox_mcp::GuardConfig;
use serde_json::{Value, json};

use crate::support::demo::Demo;
use crate::support::demo::{guarded, writes};

const KEY: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG4+x/y= ops@laptop";

fn sim_volumes(d: &Demo, prefix: &str) -> Vec<String> {
    d.sim().with_sim(|s| {
        s.cluster
            .volumes
            .iter()
            .filter(|v| v.volid.starts_with(prefix))
            .map(|v| v.volid.clone())
            .collect()
    })
}

#[tokio::test]
async fn clone_vm_makes_linked_and_full_clones() {
    let d = Demo::start().await;
    // From a template: linked by default, the new disk on the template's base volume.
    let out = d
        .call("clone_vm", json!({"vmid": 9000, "name": "web-04"}))
        .await
        .unwrap();
    assert_eq!(out["full"], false);
    assert_eq!(out["task_status"], "done", "{out}");
    let id = out["vmid"].as_u64().unwrap() as u32;
    assert!(id >= 100 && id != 9000);
    assert_eq!(d.guest_config(id, "name").as_deref(), Some("web-04"));
    let disk = d.guest_config(id, "scsi0").unwrap();
    assert!(
        disk.starts_with(&format!("local-lvm:base-9000-disk-0/vm-{id}-disk-0")),
        "{disk}"
    );
    // A full copy of a plain VM, with a chosen VMID.
    let out = d
        .call(
            "clone_vm",
            json!({"vmid": 103, "newid": 150, "name": "dev-copy", "description": "copy"}),
        )
        .await
        .unwrap();
    assert_eq!(
        (out["vmid"].as_u64(), &out["full"]),
        (Some(150), &json!(true))
    );
    assert_eq!(out["source_vmid"], 103);
    assert!(
        d.guest_config(150, "scsi0")
            .unwrap()
            .starts_with("local-lvm:vm-150-disk-0"),
    );
    assert_eq!(d.guest_config(150, "description").as_deref(), Some("copy"));
}

#[tokio::test]
async fn clone_vm_refuses_what_pve_refuses_and_dry_runs() {
    let d = Demo::start().await;
    for (args, param, says) in [
        (
            json!({"vmid": 103, "full": false}),
            "full",
            "needs a template",
        ),
        (
            json!({"vmid": 9000, "full": false, "storage": "local-lvm"}),
            "storage",
            "full clones only",
        ),
        (
            json!({"vmid": 103, "newid": 100}),
            "newid",
            "already in use",
        ),
        (json!({"vmid": 103, "name": "bad_name"}), "name", "DNS name"),
        (
            json!({"vmid": 103, "wait_seconds": 51}),
            "wait_seconds",
            "at most 50",
        ),
        (json!({"name": "x"}), "vmid", "required"),
    ] {
        d.sim().clear_requests();
        let e = d.call("clone_vm", args.clone()).await.unwrap_err();
        assert_eq!(e.kind(), "invalid_params", "{args}: {e}");
        let text = e.to_string();
        assert!(
            text.contains(&format!("`{param}`")) && text.contains(says),
            "{text}"
        );
        assert!(writes(&d).is_empty(), "{args}");
    }
    let e = d.call("clone_vm", json!({"vmid": 999})).await.unwrap_err();
    assert!(e.to_string().contains("999 does not exist"), "{e}");
    let e = d.call("clone_vm", json!({"vmid": 200})).await.unwrap_err();
    assert!(e.to_string().contains("is a container"), "{e}");
    // PVE's own refusal (local storage, another node) comes back with its words.
    let e = d
        .call(
            "clone_vm",
            json!({"vmid": 103, "target_node": "pve02", "full": true}),
        )
        .await
        .unwrap_err();
    assert!(e.to_string().contains("VM uses local storage"), "{e}");

    // Plain LVM cannot make linked clones: PVE's refusal, and what would work.
    d.sim().with_sim(|s| {
        s.cluster.storages.get_mut("local-lvm").unwrap().kind = "lvm".into();
    });
    let e = d.call("clone_vm", json!({"vmid": 9000})).await.unwrap_err();
    let text = e.to_string();
    assert!(
        text.contains("Linked clone feature is not supported for drive 'scsi0'")
            && text.contains("use full: true"),
        "{text}"
    );
    d.sim().with_sim(|s| {
        s.cluster.storages.get_mut("local-lvm").unwrap().kind = "lvmthin".into();
    });

    d.sim().clear_requests();
    let out = d
        .call(
            "clone_vm",
            json!({"vmid": 9000, "newid": 4321, "full": true, "storage": "local-lvm",
                   "dry_run": true}),
        )
        .await
        .unwrap();
    assert_eq!(
        out["planned_calls"][0]["path"],
        "/nodes/pve01/qemu/9000/clone"
    );
    assert_eq!(
        out["planned_calls"][0]["params"],
        json!({"newid": "4321", "full": "1", "storage": "local-lvm"})
    );
    assert!(writes(&d).is_empty());
    assert!(d.guest_status(4321).is_none());
}

#[tokio::test]
async fn templates_are_confirmed_irreversible_and_keep_their_linked_clones() {
    let d = guarded(GuardConfig::default()).await;
    let e = d
        .call("convert_to_template", json!({"vmid": 103}))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), "policy", "{e}");
    assert!(
        e.to_string()
            .contains("POST /nodes/pve01/qemu/103/template"),
        "{e}"
    );
    assert_eq!(d.guest_config(103, "template"), None);

    let out = d
        .call("convert_to_template", json!({"vmid": 103, "confirm": true}))
        .await
        .unwrap();
    assert_eq!(out["template"], true, "{out}");
    assert_eq!(d.guest_config(103, "template").as_deref(), Some("1"));
    assert!(
        d.guest_config(103, "scsi0")
            .unwrap()
            .starts_with("local-lvm:base-103-disk-0")
    );
    // Irreversible: a second conversion and a start are refused by PVE.
    let e = d
        .call("convert_to_template", json!({"vmid": 103, "confirm": true}))
        .await
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("can't convert a template to a template"),
        "{e}"
    );
    let e = d
        .call("convert_to_template", json!({"vmid": 100, "confirm": true}))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("if VM is running"), "{e}");

    // A linked clone keeps its base: the template cannot be deleted while it exists.
    let out = d
        .call("clone_vm", json!({"vmid": 103, "newid": 170}))
        .await
        .unwrap();
    assert_eq!(out["full"], false);
    let e = d
        .call("delete_vm", json!({"vmid": 103, "confirm": true}))
        .await
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("base volume 'local-lvm:base-103-disk-0' is still in use by linked cloned"),
        "{e}"
    );
    assert!(d.guest_status(103).is_some());
    d.call("delete_vm", json!({"vmid": 170, "confirm": true}))
        .await
        .unwrap();
    assert_eq!(sim_volumes(&d, "local-lvm:base-103-disk-0").len(), 1);
    d.call("delete_vm", json!({"vmid": 103, "confirm": true}))
        .await
        .unwrap();
    assert!(d.guest_status(103).is_none());
    assert!(sim_volumes(&d, "local-lvm:base-103-disk-0").is_empty());
}

#[tokio::test]
async fn create_vm_from_template_writes_cloud_init_and_starts() {
    let d = Demo::start().await;
    let out = d
        .call(
            "create_vm_from_template",
            json!({"template_vmid": 9000, "name": "web-04", "newid": 140, "ciuser": "ops",
                   "password": "s3cret-pw", "ssh_keys": [KEY], "ip": "10.20.0.5/24",
                   "gateway": "10.20.0.1", "cores": 4, "memory_mb": 4096, "start": true}),
        )
        .await
        .unwrap();
    assert_eq!(out["vmid"], 140);
    assert_eq!(out["configured"], true, "{out}");
    assert_eq!(out["guest_status"], "running", "{out}");
    assert_eq!(out["start_task"]["task_status"], "done");
    assert_eq!(
        out["cloud_init"],
        json!({"ciuser": "ops", "password_set": true, "ssh_keys": 1,
               "ipconfig0": "ip=10.20.0.5/24,gw=10.20.0.1"})
    );
    // The template has no cloud-init drive: one is added so the guest sees the settings.
    assert_eq!(
        out["cloudinit_drive_added"], "ide0: local-lvm:cloudinit",
        "{out}"
    );
    assert!(out.get("warnings").is_none(), "{out}");
    assert_eq!(
        d.guest_config(140, "ide0").as_deref(),
        Some("local-lvm:vm-140-cloudinit,media=cdrom")
    );
    assert!(!out.to_string().contains("s3cret-pw"));
    assert_eq!(d.guest_config(140, "ciuser").as_deref(), Some("ops"));
    assert_eq!(
        d.guest_config(140, "sshkeys").as_deref(),
        Some("ssh-ed25519%20AAAAC3NzaC1lZDI1NTE5AAAAIG4%2Bx%2Fy%3D%20ops%40laptop")
    );
    assert_eq!(
        d.guest_config(140, "ipconfig0").as_deref(),
        Some("ip=10.20.0.5/24,gw=10.20.0.1")
    );
    assert_eq!(d.guest_config(140, "cores").as_deref(), Some("4"));
    assert_eq!(d.guest_config(140, "memory").as_deref(), Some("4096"));
    assert!(d.guest_config(140, "cipassword").is_some());
    // The guest comes up with the address cloud-init gave it.
    let ips = d
        .call("get_vm_ip_addresses", json!({"vmid": 140}))
        .await
        .unwrap();
    assert_eq!(ips["ipv4"], json!(["10.20.0.5"]), "{ips}");

    // Asked not to add a drive: a warning says the guest will not see the settings.
    let out = d
        .call(
            "create_vm_from_template",
            json!({"template_vmid": 9000, "name": "web-09", "ciuser": "ops",
                   "add_cloudinit_drive": false}),
        )
        .await
        .unwrap();
    assert!(
        out["warnings"][0]
            .as_str()
            .unwrap()
            .contains("no cloud-init drive"),
        "{out}"
    );
    assert!(out.get("cloudinit_drive_added").is_none());
    // A template with a cloud-init drive: its clone gets its own, nothing is added.
    d.sim().with_sim(|s| {
        let g = s.cluster.guests.get_mut(&9000).unwrap();
        g.config.insert(
            "ide0".into(),
            json!("local-lvm:vm-9000-cloudinit,media=cdrom"),
        );
    });
    let out = d
        .call(
            "create_vm_from_template",
            json!({"template_vmid": 9000, "name": "web-08", "ciuser": "ops"}),
        )
        .await
        .unwrap();
    assert!(out.get("warnings").is_none(), "{out}");
    assert!(out.get("cloudinit_drive_added").is_none(), "{out}");
    let id = out["vmid"].as_u64().unwrap() as u32;
    assert_eq!(
        d.guest_config(id, "ide0"),
        Some(format!("local-lvm:vm-{id}-cloudinit,media=cdrom"))
    );

    // DHCP, linked, not started.
    let out = d
        .call(
            "create_vm_from_template",
            json!({"template_vmid": "9000", "name": "web-05", "ip": "dhcp"}),
        )
        .await
        .unwrap();
    assert_eq!(out["guest_status"], "stopped");
    let id = out["vmid"].as_u64().unwrap() as u32;
    assert_eq!(d.guest_config(id, "ipconfig0").as_deref(), Some("ip=dhcp"));
}

#[tokio::test]
async fn create_vm_from_template_refuses_bad_input() {
    let d = Demo::start().await;
    let base = json!({"template_vmid": 9000, "name": "web-06"});
    let with = |k: &str, v: Value| {
        let mut a = base.clone();
        a[k] = v;
        a
    };
    for (args, param) in [
        (json!({"template_vmid": 103, "name": "x"}), "template_vmid"),
        (with("ip", json!("10.0.0.5")), "ip"),
        (with("gateway", json!("10.0.0.1")), "gateway"),
        (
            with("ssh_keys", json!("-----BEGIN OPENSSH PRIVATE KEY-----")),
            "ssh_keys",
        ),
        (with("ssh_keys", json!(["not a key"])), "ssh_keys"),
        (with("ciuser", json!("a b")), "ciuser"),
        (with("memory_mb", json!(8)), "memory_mb"),
        (json!({"template_vmid": 9000}), "name"),
    ] {
        d.sim().clear_requests();
        let e = d
            .call("create_vm_from_template", args.clone())
            .await
            .unwrap_err();
        assert_eq!(e.kind(), "invalid_params", "{args}: {e}");
        assert!(e.to_string().contains(&format!("`{param}`")), "{args}: {e}");
        assert!(writes(&d).is_empty(), "{args}");
    }
    let e = d
        .call(
            "create_vm_from_template",
            json!({"template_vmid": 999, "name": "x"}),
        )
        .await
        .unwrap_err();
    assert!(e.to_string().contains("999 does not exist"), "{e}");
}

#[tokio::test]
async fn create_vm_from_template_masks_secrets_in_dry_run_and_audit() {
    let dir = std::env::temp_dir().join(format!("pmcp-prov-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("audit.jsonl");
    let _ = std::fs::remove_file(&log);
    let d = guarded(GuardConfig {
        audit_log: Some(log.clone()),
        ..GuardConfig::default()
    })
    .await;
    d.sim().clear_requests();
    let out = d
        .call(
            "create_vm_from_template",
            json!({"template_vmid": 9000, "name": "web-07", "newid": 141,
                   "password": "s3cret-pw", "ssh_keys": KEY, "ip": "dhcp", "start": true,
                   "dry_run": true}),
        )
        .await
        .unwrap();
    let calls: Vec<(String, String)> = out["planned_calls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["method"].as_str().unwrap().to_string(),
                c["path"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        calls,
        [
            ("POST".into(), "/nodes/pve01/qemu/9000/clone".into()),
            ("PUT".into(), "/nodes/pve01/qemu/141/config".into()),
            ("POST".into(), "/nodes/pve01/qemu/141/status/start".into()),
        ]
    );
    let put = &out["planned_calls"][1]["params"];
    assert_eq!(put["cipassword"], "********", "{out}");
    assert_eq!(put["ipconfig0"], "ip=dhcp");
    assert_eq!(put["ide0"], "local-lvm:cloudinit");
    assert!(
        put["sshkeys"]
            .as_str()
            .unwrap()
            .starts_with("ssh-ed25519%20")
    );
    assert!(!out.to_string().contains("s3cret-pw"));
    assert!(writes(&d).is_empty());
    assert!(d.guest_status(141).is_none());
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("create_vm_from_template"), "{text}");
    assert!(!text.contains("s3cret-pw"), "{text}");
}

#[tokio::test]
async fn waits_are_bounded_and_say_how_to_follow() {
    // Tasks take simulated time here: a zero wait returns while they run.
    let d = Demo::with(pve_sim::seed::demo(), 1.0).await;
    let out = d
        .call(
            "clone_vm",
            json!({"vmid": 9000, "newid": 180, "wait_seconds": 0}),
        )
        .await
        .unwrap();
    assert_eq!(out["task_status"], "running", "{out}");
    assert!(out["upid"].as_str().unwrap().contains(":qmclone:9000:"));
    assert!(out["hint"].as_str().unwrap().contains("get_task"));
    let out = d
        .call(
            "create_vm_from_template",
            json!({"template_vmid": 9000, "name": "slow", "newid": 181, "ciuser": "ops",
                   "wait_seconds": 0}),
        )
        .await
        .unwrap();
    assert_eq!(out["configured"], false, "{out}");
    assert_eq!(out["clone_task"]["task_status"], "running");
    assert!(
        out["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w.as_str().unwrap().contains("NOT applied")),
        "{out}"
    );
    let out = d
        .call(
            "convert_to_template",
            json!({"vmid": 103, "confirm": true, "wait_seconds": 0}),
        )
        .await
        .unwrap();
    assert_eq!(
        (&out["task_status"], &out["template"]),
        (&json!("running"), &json!(false))
    );
    assert!(out["upid"].as_str().unwrap().contains(":qmtemplate:103:"));
}
