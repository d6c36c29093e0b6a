//! The `backups` toolset against the simulator: a backup appears in storage content when its
//! task ends, comes back as a new guest or over the old one, and is deleted; storage content
//! lists ISOs and templates. Bad inputs, dry runs, confirmation, protection and the bounded wait.

use proxmox_mcp::GuardConfig;
use serde_json::{Value, json};

use crate::support::demo::Demo;
use crate::support::demo::{guarded, writes};

fn volids(out: &Value, key: &str) -> Vec<String> {
    out[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["volid"].as_str().unwrap().to_string())
        .collect()
}

/// Backs up VM 103 to nfs-backup; the new volid.
async fn backup_103(d: &Demo) -> String {
    let out = d
        .call(
            "create_backup",
            json!({"vmid": 103, "storage": "nfs-backup", "notes": "{{guestname}} nightly"}),
        )
        .await
        .unwrap();
    assert_eq!(out["task_status"], "done", "{out}");
    assert_eq!(out["kind"], "qemu");
    out["backup"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn a_backup_is_listed_restored_and_deleted() {
    let d = Demo::start().await;
    let volid = backup_103(&d).await;
    assert!(
        volid.starts_with("nfs-backup:backup/vzdump-qemu-103-") && volid.ends_with(".vma.zst"),
        "{volid}"
    );
    let list = d.call("list_backups", json!({"vmid": 103})).await.unwrap();
    assert_eq!(
        volids(&list, "backups"),
        std::slice::from_ref(&volid),
        "{list}"
    );
    assert_eq!(list["backups"][0]["notes"], "dev-01 nightly");
    assert_eq!(list["backups"][0]["kind"], "qemu");
    assert!(
        list["backups"][0].get("node").is_none(),
        "shared storage: {list}"
    );

    // Under a new VMID: the next free one, new MACs since VM 103 still exists.
    let out = d
        .call("restore_backup", json!({"archive": volid, "confirm": true}))
        .await
        .unwrap();
    let new = out["vmid"].as_u64().unwrap() as u32;
    assert_eq!(
        (out["kind"].as_str(), out["guest_status"].as_str()),
        (Some("qemu"), Some("stopped")),
        "{out}"
    );
    assert!(out.get("overwritten").is_none());
    assert_eq!(d.guest_config(new, "name").as_deref(), Some("dev-01"));
    assert_ne!(d.guest_config(new, "net0"), d.guest_config(103, "net0"));

    // Over VM 103 itself: needs force, then brings its old config back.
    d.sim().with_sim(|s| {
        s.cluster
            .guests
            .get_mut(&103)
            .unwrap()
            .config
            .insert("memory".into(), json!(1024));
    });
    d.sim().clear_requests();
    let e = d
        .call(
            "restore_backup",
            json!({"archive": volid, "vmid": 103, "confirm": true}),
        )
        .await
        .unwrap_err();
    assert!(e.to_string().contains("force: true"), "{e}");
    assert!(writes(&d).is_empty());
    let out = d
        .call(
            "restore_backup",
            json!({"archive": volid, "vmid": 103, "force": true, "confirm": true}),
        )
        .await
        .unwrap();
    assert_eq!(out["overwritten"], true, "{out}");
    assert_eq!(d.guest_config(103, "memory").as_deref(), Some("4096"));

    // Deleted: gone from the list.
    let out = d
        .call("delete_backup", json!({"volid": volid, "confirm": true}))
        .await
        .unwrap();
    assert_eq!(out["deleted"], true, "{out}");
    let list = d.call("list_backups", json!({"vmid": 103})).await.unwrap();
    assert_eq!(list["count"], 0, "{list}");
}

#[tokio::test]
async fn containers_and_storage_content() {
    let d = Demo::start().await;
    // The seeded backups: newest first, the protected one with its notes.
    let all = d.call("list_backups", json!({})).await.unwrap();
    let times: Vec<i64> = all["backups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["time"].as_i64().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "{times:?}");
    let of_100 = d
        .call(
            "list_backups",
            json!({"vmid": 100, "storage": "nfs-backup"}),
        )
        .await
        .unwrap();
    assert_eq!(of_100["count"], 2, "{of_100}");
    let protected = of_100["backups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["protected"] == true)
        .unwrap();
    assert_eq!(protected["notes"], "before upgrade to Ubuntu 24.04");

    // A container backup comes back as a container, its volumes where CT 200's are.
    let ct = d.call("list_backups", json!({"vmid": 200})).await.unwrap();
    let archive = ct["backups"][0]["volid"].as_str().unwrap().to_string();
    let out = d
        .call(
            "restore_backup",
            json!({"archive": archive, "vmid": 250, "confirm": true}),
        )
        .await
        .unwrap();
    assert_eq!(out["kind"], "lxc", "{out}");
    let rootfs = d.guest_config(250, "rootfs").unwrap();
    let old = d.guest_config(200, "rootfs").unwrap();
    assert_eq!(
        rootfs.split(':').next(),
        old.split(':').next(),
        "{rootfs} vs {old}"
    );

    // Storage content: ISOs and templates of a node's local storage.
    let isos = d
        .call(
            "list_storage_content",
            json!({"storage": "local", "content": "iso", "node": "pve02"}),
        )
        .await
        .unwrap();
    assert_eq!(isos["node"], "pve02");
    assert!(isos["count"].as_u64().unwrap() >= 1, "{isos}");
    assert!(
        isos["volumes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|v| v["content"] == "iso")
    );
    let tmpl = d
        .call(
            "list_storage_content",
            json!({"storage": "local", "content": "vztmpl"}),
        )
        .await
        .unwrap();
    assert!(
        volids(&tmpl, "volumes")
            .iter()
            .any(|v| v.contains("debian-12-standard")),
        "{tmpl}"
    );
    let backups = d
        .call(
            "list_storage_content",
            json!({"storage": "nfs-backup", "vmid": 104}),
        )
        .await
        .unwrap();
    assert_eq!(backups["count"], 1, "{backups}");
}

#[tokio::test]
async fn backup_tools_refuse_bad_inputs_before_writing() {
    let d = Demo::start().await;
    let protected = d.call("list_backups", json!({"vmid": 100})).await.unwrap()["backups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["protected"] == true)
        .unwrap()["volid"]
        .as_str()
        .unwrap()
        .to_string();
    let ct = d.call("list_backups", json!({"vmid": 200})).await.unwrap()["backups"][0]["volid"]
        .as_str()
        .unwrap()
        .to_string();
    d.sim().clear_requests();
    let cases = [
        ("create_backup", json!({"vmid": 9999}), "9999"),
        (
            "create_backup",
            json!({"vmid": 103, "storage": "local-lvm"}),
            "does not take backups",
        ),
        (
            "create_backup",
            json!({"vmid": 103, "mode": "fast"}),
            "mode",
        ),
        (
            "create_backup",
            json!({"vmid": 103, "compress": "xz"}),
            "compress",
        ),
        (
            "create_backup",
            json!({"vmid": 103, "notes": "a\nb"}),
            "notes",
        ),
        (
            "create_backup",
            json!({"vmid": 103, "wait_seconds": 60}),
            "wait_seconds",
        ),
        (
            "list_backups",
            json!({"storage": "nope"}),
            "no storage named",
        ),
        (
            "list_storage_content",
            json!({"storage": "local", "content": "movies"}),
            "content",
        ),
        (
            "list_storage_content",
            json!({"storage": "local", "node": "pve9"}),
            "not on node pve9",
        ),
        ("list_storage_content", json!({}), "storage"),
        (
            "restore_backup",
            json!({"archive": "local:iso/x.iso", "confirm": true}),
            "not a vzdump backup",
        ),
        (
            "restore_backup",
            json!({"archive": "nfs-backup:backup/vzdump-qemu-100-2000_01_01-00_00_00.vma.zst", "confirm": true}),
            "no backup",
        ),
        (
            "restore_backup",
            json!({"archive": protected, "vmid": 100, "force": true, "confirm": true}),
            "stop it first",
        ),
        (
            "restore_backup",
            json!({"archive": ct, "vmid": 103, "force": true, "confirm": true}),
            "this backup holds a container",
        ),
        (
            "delete_backup",
            json!({"volid": protected, "confirm": true}),
            "protected",
        ),
        (
            "delete_backup",
            json!({"volid": "nfs-backup:backup/none.vma.zst", "confirm": true}),
            "no backup",
        ),
        (
            "delete_backup",
            json!({"volid": "nocolon", "confirm": true}),
            "volid",
        ),
    ];
    for (tool, args, want) in cases {
        let e = d.call(tool, args.clone()).await.unwrap_err();
        assert!(e.to_string().contains(want), "{tool} {args}: {e}");
    }
    assert!(writes(&d).is_empty(), "{:?}", writes(&d));
}

#[tokio::test]
async fn a_failed_backup_says_why() {
    let d = Demo::start().await;
    // VM 105 is held by another backup (lock: backup).
    let e = d
        .call(
            "create_backup",
            json!({"vmid": 105, "storage": "nfs-backup"}),
        )
        .await
        .unwrap_err();
    let text = e.to_string();
    assert!(text.contains("VM is locked (backup)"), "{text}");
    assert!(text.contains("UPID:pve02:"), "{text}");
}

#[tokio::test]
async fn dry_runs_confirmation_and_protection() {
    let d = guarded(GuardConfig {
        protected_vmids: vec![103],
        ..GuardConfig::default()
    })
    .await;
    let archive =
        d.call("list_backups", json!({"vmid": 104})).await.unwrap()["backups"][0]["volid"]
            .as_str()
            .unwrap()
            .to_string();
    d.sim().clear_requests();
    let plan = d
        .call(
            "create_backup",
            json!({"vmid": 101, "storage": "nfs-backup", "dry_run": true}),
        )
        .await
        .unwrap();
    assert_eq!(
        plan["planned_calls"][0]["path"], "/nodes/pve01/vzdump",
        "{plan}"
    );
    assert_eq!(plan["planned_calls"][0]["params"]["vmid"], "101");
    let plan = d
        .call(
            "restore_backup",
            json!({"archive": archive, "vmid": 4321, "dry_run": true}),
        )
        .await
        .unwrap();
    assert_eq!(
        plan["planned_calls"][0]["path"], "/nodes/pve02/qemu",
        "{plan}"
    );
    assert_eq!(
        plan["planned_calls"][0]["params"]["archive"],
        archive.as_str()
    );
    // Unconfirmed: refused with the plan, nothing written.
    let e = d
        .call("restore_backup", json!({"archive": archive, "vmid": 4321}))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), "policy", "{e}");
    assert!(e.to_string().contains("POST /nodes/pve02/qemu"), "{e}");
    assert!(writes(&d).is_empty(), "{:?}", writes(&d));

    // VM 103 is protected by the configuration: a restore over it is refused, even confirmed.
    let own = d
        .call(
            "create_backup",
            json!({"vmid": 103, "storage": "nfs-backup"}),
        )
        .await
        .unwrap()["backup"]
        .as_str()
        .unwrap()
        .to_string();
    d.sim().clear_requests();
    let e = d
        .call(
            "restore_backup",
            json!({"archive": own, "vmid": 103, "force": true, "confirm": true}),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind(), "policy", "{e}");
    assert!(e.to_string().contains("protected"), "{e}");
    assert!(writes(&d).is_empty(), "{:?}", writes(&d));
}

#[tokio::test]
async fn a_long_backup_returns_its_task_and_can_be_stopped() {
    let d = Demo::with(pve_sim::seed::demo(), 1.0).await;
    let out = d
        .call(
            "create_backup",
            json!({"vmid": 104, "storage": "nfs-backup", "wait_seconds": 0}),
        )
        .await
        .unwrap();
    assert_eq!(out["task_status"], "running", "{out}");
    assert!(out.get("backup").is_none());
    let upid = out["upid"].as_str().unwrap().to_string();
    let running = d
        .call("list_tasks", json!({"type": "vzdump", "status": "running"}))
        .await
        .unwrap();
    assert_eq!(running["tasks"][0]["upid"], upid.as_str(), "{running}");
    let before = d.call("list_backups", json!({"vmid": 104})).await.unwrap()["count"].clone();
    let stop = d.call("stop_task", json!({"upid": upid})).await.unwrap();
    assert_eq!(stop["stopped"], true, "{stop}");
    // No archive from a stopped backup, and the guest's lock is gone.
    let after = d.call("list_backups", json!({"vmid": 104})).await.unwrap()["count"].clone();
    assert_eq!(before, after);
    assert_eq!(d.guest_config(104, "lock"), None);
}
