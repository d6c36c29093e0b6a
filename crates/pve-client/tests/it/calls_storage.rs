//! Typed calls on storage, volumes, backups, snapshots and task listings.

use pve_client::api::backup::{BackupMode, RestoreOptions, VzdumpOptions};
use pve_client::api::snapshot::SnapshotCreate;
use pve_client::api::storage::{NodeStorageQuery, VolumeAlloc};
use pve_client::api::tasks::TaskListQuery;
use pve_client::{ErrorKind, GuestKind};

use crate::calls_guests::ok_task;
use crate::support::env;

#[tokio::test]
async fn node_storage_and_config() {
    let env = env().await;
    let c = &env.client;
    let all = c
        .node_storage("pve01", &NodeStorageQuery::default())
        .await
        .unwrap();
    let ids: Vec<&str> = all.iter().map(|s| s.storage.as_str()).collect();
    for id in ["local", "local-lvm", "nfs-backup"] {
        assert!(ids.contains(&id), "{id} missing from {ids:?}");
    }
    assert!(
        all.iter()
            .all(|s| s.total.unwrap_or(0) >= s.used.unwrap_or(0))
    );
    let images = c
        .node_storage(
            "pve01",
            &NodeStorageQuery {
                content: Some("images".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(images.iter().all(|s| s.content.contains("images")) && !images.is_empty());
    let st = c.storage_status("pve01", "local-lvm").await.unwrap();
    assert_eq!(
        (st.storage.as_str(), st.kind.as_str(), st.active),
        ("local-lvm", "lvmthin", true)
    );
    let cfg = c.storage_list(None).await.unwrap();
    assert!(cfg.iter().any(|s| s.storage == "nfs-backup" && s.shared));
    let one = c.storage_config("local").await.unwrap();
    assert_eq!(one.kind, "dir");
    let e = c.storage_status("pve01", "nope").await.unwrap_err();
    assert!(
        matches!(
            e.kind(),
            ErrorKind::NotFound | ErrorKind::Pve | ErrorKind::Params
        ),
        "{e}"
    );
    env.finish();
}

#[tokio::test]
async fn volumes_list_info_alloc_update_delete() {
    let env = env().await;
    let c = &env.client;
    let backups = c
        .storage_content("pve01", "nfs-backup", Some("backup"), None)
        .await
        .unwrap();
    assert!(
        !backups.is_empty()
            && backups
                .iter()
                .all(|v| v.content == "backup" && v.volid.starts_with("nfs-backup:backup/"))
    );
    let of100 = c
        .storage_content("pve01", "nfs-backup", Some("backup"), Some(100))
        .await
        .unwrap();
    assert!(of100.iter().all(|v| v.vmid == Some(100)));
    let vol = &backups[0];
    let info = c
        .volume_info("pve01", "nfs-backup", &vol.volid)
        .await
        .unwrap();
    assert_eq!(info.size, vol.size);
    c.volume_update(
        "pve01",
        "nfs-backup",
        &vol.volid,
        Some("kept by pve-client"),
        Some(true),
    )
    .await
    .unwrap();
    let info = c
        .volume_info("pve01", "nfs-backup", &vol.volid)
        .await
        .unwrap();
    assert_eq!(
        (info.notes.as_deref(), info.protected),
        (Some("kept by pve-client"), true)
    );
    c.volume_update("pve01", "nfs-backup", &vol.volid, None, Some(false))
        .await
        .unwrap();
    if let Some(upid) = c
        .volume_delete("pve01", "nfs-backup", &vol.volid, None)
        .await
        .unwrap()
    {
        ok_task(c, &upid).await;
    }
    let left = c
        .storage_content("pve01", "nfs-backup", Some("backup"), None)
        .await
        .unwrap();
    assert!(left.iter().all(|v| v.volid != vol.volid), "deleted");
    let volid = c
        .volume_alloc(
            "pve01",
            "local-lvm",
            &VolumeAlloc {
                vmid: 103,
                filename: "vm-103-disk-9".into(),
                size: "1G".into(),
                format: None,
            },
        )
        .await
        .unwrap();
    assert!(volid.starts_with("local-lvm:"), "{volid}");
    env.finish();
}

#[tokio::test]
async fn vzdump_then_the_backup_is_listed() {
    let env = env().await;
    let c = &env.client;
    let before = c
        .storage_content("pve01", "nfs-backup", Some("backup"), Some(101))
        .await
        .unwrap()
        .len();
    let opts = VzdumpOptions {
        vmids: vec![101],
        storage: Some("nfs-backup".into()),
        mode: Some(BackupMode::Snapshot),
        compress: Some("zstd".into()),
        notes_template: Some("{{guestname}} by pve-client".into()),
        ..VzdumpOptions::default()
    };
    let upid = c.vzdump("pve01", &opts).await.unwrap();
    assert_eq!(
        (upid.task_type.as_str(), upid.id.as_str()),
        ("vzdump", "101")
    );
    ok_task(c, &upid).await;
    let after = c
        .storage_content("pve01", "nfs-backup", Some("backup"), Some(101))
        .await
        .unwrap();
    assert_eq!(after.len(), before + 1);
    let e = c
        .vzdump("pve01", &VzdumpOptions::default())
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Params);

    // The newest archive comes back as a new VM, then over it with force.
    let newest = after.iter().max_by_key(|v| v.ctime).unwrap().volid.clone();
    let opts = RestoreOptions {
        vmid: 4242,
        archive: newest.clone(),
        storage: Some("local-lvm".into()),
        unique: Some(true),
        ..RestoreOptions::default()
    };
    let upid = c.qemu_restore("pve01", &opts).await.unwrap();
    assert_eq!(upid.task_type, "qmrestore");
    ok_task(c, &upid).await;
    assert_eq!(c.find_guest(4242).await.unwrap().kind, GuestKind::Qemu);
    let again = RestoreOptions {
        force: Some(true),
        ..opts
    };
    ok_task(c, &c.qemu_restore("pve01", &again).await.unwrap()).await;
    // A container archive through the lxc endpoint.
    let ct = c
        .vzdump(
            "pve01",
            &VzdumpOptions {
                vmids: vec![205],
                storage: Some("nfs-backup".into()),
                ..VzdumpOptions::default()
            },
        )
        .await
        .unwrap();
    ok_task(c, &ct).await;
    let ct_archive = c
        .storage_content("pve01", "nfs-backup", Some("backup"), Some(205))
        .await
        .unwrap()
        .into_iter()
        .max_by_key(|v| v.ctime)
        .unwrap()
        .volid;
    let opts = RestoreOptions {
        vmid: 4343,
        archive: ct_archive,
        storage: Some("local-lvm".into()),
        ..RestoreOptions::default()
    };
    let upid = c.lxc_restore("pve01", &opts).await.unwrap();
    assert_eq!(upid.task_type, "vzrestore");
    ok_task(c, &upid).await;
    assert_eq!(c.find_guest(4343).await.unwrap().kind, GuestKind::Lxc);
    env.finish();
}

#[tokio::test]
async fn snapshots_for_vms_and_containers() {
    let env = env().await;
    let c = &env.client;
    for (kind, node, vmid) in [
        (GuestKind::Qemu, "pve01", 101u32),
        (GuestKind::Lxc, "pve01", 200),
    ] {
        let spec = SnapshotCreate {
            snapname: "before_upgrade".into(),
            description: Some("by pve-client".into()),
            vmstate: None,
        };
        ok_task(
            c,
            &c.snapshot_create(node, kind, vmid, &spec).await.unwrap(),
        )
        .await;
        let list = c.snapshot_list(node, kind, vmid).await.unwrap();
        let snap = list
            .iter()
            .find(|s| s.name == "before_upgrade")
            .unwrap_or_else(|| panic!("{kind}: {list:?}"));
        assert_eq!(snap.description, "by pve-client");
        assert!(
            list.iter()
                .any(|s| s.is_current() && s.parent.as_deref() == Some("before_upgrade"))
        );
        let cfg = c
            .snapshot_config(node, kind, vmid, "before_upgrade")
            .await
            .unwrap();
        assert!(!cfg.0.is_empty());
        c.snapshot_set_description(node, kind, vmid, "before_upgrade", "renamed")
            .await
            .unwrap();
        ok_task(
            c,
            &c.snapshot_rollback(node, kind, vmid, "before_upgrade", None)
                .await
                .unwrap(),
        )
        .await;
        ok_task(
            c,
            &c.snapshot_delete(node, kind, vmid, "before_upgrade", None)
                .await
                .unwrap(),
        )
        .await;
        let list = c.snapshot_list(node, kind, vmid).await.unwrap();
        assert!(
            list.iter().all(|s| s.name != "before_upgrade"),
            "{kind}: deleted"
        );
    }
    let spec = SnapshotCreate {
        snapname: "x".into(),
        description: None,
        vmstate: Some(true),
    };
    let e = c
        .snapshot_create("pve01", GuestKind::Lxc, 200, &spec)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Params);
    env.finish();
}

#[tokio::test]
async fn task_list_and_log() {
    let env = env().await;
    let c = &env.client;
    let up = c
        .qemu_action(
            "pve01",
            103,
            pve_client::api::guest::PowerAction::Start,
            &Default::default(),
        )
        .await
        .unwrap();
    ok_task(c, &up).await;
    let q = TaskListQuery {
        vmid: Some(103),
        limit: Some(10),
        ..TaskListQuery::default()
    };
    let tasks = c.tasks_list("pve01", &q).await.unwrap();
    let mine = tasks
        .iter()
        .find(|t| t.upid == up.as_str())
        .expect("the start task is listed");
    assert_eq!(
        (
            mine.task_type.as_str(),
            mine.id.as_str(),
            mine.status.as_deref()
        ),
        ("qmstart", "103", Some("OK"))
    );
    let log = c.task_log(&up, None, None).await.unwrap();
    assert_eq!(log.lines.last().map(|l| l.t.as_str()), Some("TASK OK"));
    assert_eq!(log.total, Some(log.lines.len() as u64));
    let tail = c.task_log_tail(&up, 1).await.unwrap();
    assert_eq!(tail.len(), 1);
    assert_eq!(tail[0].t, "TASK OK");
    env.finish();
}

#[tokio::test]
async fn storage_config_create_update_delete() {
    let env = env().await;
    let c = &env.client;
    let opts = pve_client::Params::new()
        .set("path", "/mnt/scratch")
        .set("content", "backup,iso");
    let created = c.storage_create("scratch", "dir", opts).await.unwrap();
    assert_eq!(created["storage"], "scratch", "{created}");
    let cfg = c.storage_config("scratch").await.unwrap();
    assert_eq!(
        (cfg.kind.as_str(), cfg.content.as_str()),
        ("dir", "backup,iso")
    );
    let digest = cfg
        .extra
        .get("digest")
        .and_then(|d| d.as_str())
        .map(str::to_owned);
    let changes = pve_client::Params::new()
        .set("content", "iso")
        .set("disable", true)
        .opt("digest", digest);
    c.storage_update("scratch", changes).await.unwrap();
    let cfg = c.storage_config("scratch").await.unwrap();
    assert_eq!((cfg.content.as_str(), cfg.disable), ("iso", true));
    c.storage_delete("scratch").await.unwrap();
    let e = c.storage_config("scratch").await.unwrap_err();
    assert!(
        matches!(e.kind(), ErrorKind::NotFound | ErrorKind::Pve),
        "{e}"
    );
    assert!(
        c.storage_list(Some("dir"))
            .await
            .unwrap()
            .iter()
            .all(|s| s.storage != "scratch")
    );
    env.finish();
}
