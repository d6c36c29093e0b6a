//! Typed calls on VMs and containers: list, status, power actions, config read and update,
//! create and delete, clone, template, migrate (+ preflight), resize.

use pve_client::api::guest::{ActionOptions, DeleteOptions, PowerAction};
use pve_client::api::lxc::{LxcCreate, LxcMigrate};
use pve_client::api::qemu::{QemuClone, QemuCreate, QemuMigrate};
use pve_client::api::tasks::TaskStatus;
use pve_client::task::{TaskOutcome, WaitOptions};
use pve_client::{ErrorKind, GuestKind, Params, PveClient, Upid};

use crate::support::env;

/// Waits for a task and insists it succeeded (showing PVE's words if not).
pub async fn ok_task(client: &PveClient, upid: &Upid) -> TaskStatus {
    match client
        .wait_task(upid, &WaitOptions::default())
        .await
        .unwrap()
    {
        TaskOutcome::Succeeded { status } => status,
        other => panic!("task {upid} did not succeed: {other:?}"),
    }
}

fn opts() -> ActionOptions {
    ActionOptions::default()
}

#[tokio::test]
async fn qemu_list_and_status() {
    let env = env().await;
    let list = env.client.qemu_list("pve01", None).await.unwrap();
    let ids: Vec<u32> = list.iter().map(|v| v.vmid).collect();
    for id in [100, 101, 102, 103, 9000] {
        assert!(ids.contains(&id), "{id} missing from {ids:?}");
    }
    assert!(list.iter().find(|v| v.vmid == 9000).unwrap().template);
    let full = env.client.qemu_list("pve01", Some(true)).await.unwrap();
    assert!(
        full.iter()
            .filter(|v| v.status == "running")
            .all(|v| v.qmpstatus.is_some())
    );
    let s = env.client.qemu_status("pve01", 100).await.unwrap();
    assert_eq!(
        (s.vmid, s.status.as_str(), s.qmpstatus.as_deref()),
        (100, "running", Some("running"))
    );
    assert!(s.agent && s.maxmem == Some(4096 << 20));
    let e = env.client.qemu_status("pve02", 100).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
    assert_eq!(
        e.to_string(),
        "Configuration file 'nodes/pve02/qemu-server/100.conf' does not exist (GET /nodes/pve02/qemu/100/status/current)"
    );
    env.finish();
}

#[tokio::test]
async fn qemu_power_cycle() {
    let env = env().await;
    let c = &env.client;
    let run = |a: PowerAction, o: ActionOptions| async move {
        c.qemu_action("pve01", 103, a, &o).await.unwrap()
    };
    let up = run(PowerAction::Start, opts()).await;
    assert_eq!(
        (up.task_type.as_str(), up.id.as_str(), up.node.as_str()),
        ("qmstart", "103", "pve01")
    );
    ok_task(c, &up).await;
    assert_eq!(c.qemu_status("pve01", 103).await.unwrap().status, "running");
    ok_task(c, &run(PowerAction::Suspend, opts()).await).await;
    assert_eq!(
        c.qemu_status("pve01", 103)
            .await
            .unwrap()
            .qmpstatus
            .as_deref(),
        Some("paused")
    );
    ok_task(c, &run(PowerAction::Resume, opts()).await).await;
    ok_task(c, &run(PowerAction::Reset, opts()).await).await;
    ok_task(
        c,
        &run(
            PowerAction::Reboot,
            ActionOptions {
                timeout: Some(60),
                ..opts()
            },
        )
        .await,
    )
    .await;
    let down = ActionOptions {
        timeout: Some(1),
        force_stop: Some(true),
        ..opts()
    };
    ok_task(c, &run(PowerAction::Shutdown, down).await).await;
    assert_eq!(c.qemu_status("pve01", 103).await.unwrap().status, "stopped");
    ok_task(c, &run(PowerAction::Stop, opts()).await).await;
    // Refused client-side, never sent.
    let before = env.requests().len();
    let e = c
        .qemu_action(
            "pve01",
            103,
            PowerAction::Reset,
            &ActionOptions {
                timeout: Some(5),
                ..opts()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Params);
    assert_eq!(
        e.to_string(),
        "VM reset does not accept timeout (POST /nodes/pve01/qemu/103/status/reset)"
    );
    assert_eq!(env.requests().len(), before);
    env.finish();
}

#[tokio::test]
async fn lxc_list_status_and_power() {
    let env = env().await;
    let c = &env.client;
    let list = c.lxc_list("pve01").await.unwrap();
    let ids: Vec<u32> = list.iter().map(|v| v.vmid).collect();
    assert!(ids.contains(&200) && ids.contains(&205), "{ids:?}");
    let s = c.lxc_status("pve01", 205).await.unwrap();
    assert_eq!(
        (s.summary.vmid, s.summary.status.as_str()),
        (205, "stopped")
    );
    let up = c
        .lxc_action("pve01", 205, PowerAction::Start, &opts())
        .await
        .unwrap();
    assert_eq!(up.task_type, "vzstart");
    ok_task(c, &up).await;
    assert_eq!(
        c.lxc_status("pve01", 205).await.unwrap().summary.status,
        "running"
    );
    let down = c
        .lxc_action(
            "pve01",
            205,
            PowerAction::Shutdown,
            &ActionOptions {
                timeout: Some(30),
                ..opts()
            },
        )
        .await
        .unwrap();
    ok_task(c, &down).await;
    let e = c
        .lxc_action("pve01", 205, PowerAction::Reset, &opts())
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Params);
    env.finish();
}

#[tokio::test]
async fn config_read_and_update() {
    let env = env().await;
    let c = &env.client;
    let cfg = c.qemu_config("pve01", 100, None, None).await.unwrap();
    assert_eq!(cfg.get_int("memory"), Some(4096));
    assert!(cfg.digest().is_some() && !cfg.numbered("net").is_empty());
    // Asynchronous update (POST).
    let r = c
        .qemu_update_config("pve01", 103, Params::new().set("memory", 2048u32))
        .await
        .unwrap();
    if let Some(upid) = r {
        ok_task(c, &upid).await;
    }
    assert_eq!(
        c.qemu_config("pve01", 103, None, None)
            .await
            .unwrap()
            .get_int("memory"),
        Some(2048)
    );
    // The digest guards against concurrent edits: fresh accepted, stale refused.
    let digest = c
        .qemu_config("pve01", 103, None, None)
        .await
        .unwrap()
        .digest()
        .unwrap();
    let changes = Params::new()
        .set("tags", "a")
        .set("digest", digest.as_str());
    c.qemu_set_config("pve01", 103, changes.clone())
        .await
        .unwrap();
    let e = c.qemu_set_config("pve01", 103, changes).await.unwrap_err();
    assert!(
        e.message().starts_with("detected modified configuration"),
        "{e}"
    );
    // Synchronous update (PUT).
    c.qemu_set_config(
        "pve01",
        103,
        Params::new().set("description", "set by pve-client"),
    )
    .await
    .unwrap();
    let cfg = c
        .guest_config("pve01", GuestKind::Qemu, 103, Some(true))
        .await
        .unwrap();
    assert_eq!(
        cfg.get_str("description").as_deref(),
        Some("set by pve-client")
    );
    // Containers.
    c.lxc_set_config(
        "pve01",
        205,
        Params::new().set("memory", 1024u32).set("onboot", true),
    )
    .await
    .unwrap();
    let cfg = c.lxc_config("pve01", 205, None, None).await.unwrap();
    assert_eq!(
        (cfg.get_int("memory"), cfg.flag("onboot")),
        (Some(1024), true)
    );
    env.finish();
}

#[tokio::test]
async fn create_and_delete_vm_and_container() {
    let env = env().await;
    let c = &env.client;
    let vmid = c.next_id(None).await.unwrap();
    let spec = QemuCreate {
        vmid,
        name: Some("created-by-client".into()),
        memory: Some(1024),
        cores: Some(1),
        ostype: Some("l26".into()),
        extra: Params::new()
            .set("scsi0", "local-lvm:4")
            .set("net0", "virtio,bridge=vmbr0"),
        ..QemuCreate::default()
    };
    let upid = c.qemu_create("pve01", &spec).await.unwrap();
    assert_eq!(upid.task_type, "qmcreate");
    ok_task(c, &upid).await;
    assert_eq!(c.find_guest(vmid).await.unwrap().node, "pve01");
    let cfg = c.qemu_config("pve01", vmid, None, None).await.unwrap();
    assert!(
        cfg.get_str("scsi0").unwrap().starts_with("local-lvm:vm-"),
        "{cfg:?}"
    );
    let dup = c.qemu_create("pve01", &spec).await.unwrap_err();
    assert!(dup.to_string().contains("already exists"), "{dup}");
    let del = DeleteOptions {
        purge: Some(true),
        destroy_unreferenced_disks: Some(true),
        ..Default::default()
    };
    ok_task(c, &c.qemu_delete("pve01", vmid, &del).await.unwrap()).await;
    assert_eq!(
        c.find_guest(vmid).await.unwrap_err().kind(),
        ErrorKind::NotFound
    );

    let tmpl = c
        .storage_content("pve01", "local", Some("vztmpl"), None)
        .await
        .unwrap()
        .into_iter()
        .next()
        .expect("a container template in local");
    let ctid = c.next_id(None).await.unwrap();
    let ct = LxcCreate {
        vmid: ctid,
        ostemplate: tmpl.volid,
        hostname: Some("ct-by-client".into()),
        memory: Some(512),
        rootfs: Some("local-lvm:4".into()),
        extra: Params::new().set("net0", "name=eth0,bridge=vmbr0,ip=dhcp"),
        ..LxcCreate::default()
    };
    ok_task(c, &c.lxc_create("pve01", &ct).await.unwrap()).await;
    assert_eq!(c.find_guest(ctid).await.unwrap().kind, GuestKind::Lxc);
    let bad = DeleteOptions {
        skiplock: Some(true),
        ..Default::default()
    };
    assert_eq!(
        c.lxc_delete("pve01", ctid, &bad).await.unwrap_err().kind(),
        ErrorKind::Params
    );
    ok_task(
        c,
        &c.lxc_delete(
            "pve01",
            ctid,
            &DeleteOptions {
                purge: Some(true),
                ..Default::default()
            },
        )
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(
        c.find_guest(ctid).await.unwrap_err().kind(),
        ErrorKind::NotFound
    );
    env.finish();
}

#[tokio::test]
async fn clone_then_template() {
    let env = env().await;
    let c = &env.client;
    let newid = c.next_id(None).await.unwrap();
    let spec = QemuClone {
        newid,
        name: Some("clone-1".into()),
        full: Some(true),
        ..QemuClone::default()
    };
    let upid = c.qemu_clone("pve01", 9000, &spec).await.unwrap();
    assert_eq!(upid.task_type, "qmclone");
    ok_task(c, &upid).await;
    assert_eq!(c.find_guest(newid).await.unwrap().node, "pve01");
    assert!(!c.qemu_status("pve01", newid).await.unwrap().template);
    ok_task(c, &c.qemu_template("pve01", newid, None).await.unwrap()).await;
    assert!(c.qemu_status("pve01", newid).await.unwrap().template);
    env.finish();
}

/// The size in a disk property string (`local-lvm:vm-205-disk-0,size=8G` → `8G`).
fn size_of(spec: &str) -> String {
    spec.split(',')
        .find_map(|p| p.strip_prefix("size="))
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn resize_container_volume() {
    let env = env().await;
    let c = &env.client;
    let before = size_of(
        &c.lxc_config("pve01", 205, None, None)
            .await
            .unwrap()
            .get_str("rootfs")
            .unwrap(),
    );
    if let Some(upid) = c
        .lxc_resize("pve01", 205, "rootfs", "+1G", None)
        .await
        .unwrap()
    {
        ok_task(c, &upid).await;
    }
    let after = size_of(
        &c.lxc_config("pve01", 205, None, None)
            .await
            .unwrap()
            .get_str("rootfs")
            .unwrap(),
    );
    assert_eq!((before.as_str(), after.as_str()), ("8G", "9G"));
    env.finish();
}

#[tokio::test]
async fn resize_vm_disk() {
    let env = env().await;
    let c = &env.client;
    let before = size_of(
        &c.qemu_config("pve01", 103, None, None)
            .await
            .unwrap()
            .get_str("scsi0")
            .unwrap(),
    );
    if let Some(upid) = c
        .qemu_resize("pve01", 103, "scsi0", "+1G", None)
        .await
        .unwrap()
    {
        ok_task(c, &upid).await;
    }
    let after = size_of(
        &c.qemu_config("pve01", 103, None, None)
            .await
            .unwrap()
            .get_str("scsi0")
            .unwrap(),
    );
    assert_eq!((before.as_str(), after.as_str()), ("32G", "33G"));
    env.finish();
}

#[tokio::test]
async fn migrate_with_preflight() {
    let env = env().await;
    let c = &env.client;
    let pre = c.qemu_migrate_preflight("pve01", 103, None).await.unwrap();
    assert!(!pre.running);
    let pre = c
        .qemu_migrate_preflight("pve01", 103, Some("pve02"))
        .await
        .unwrap();
    assert!(!pre.not_allowed_nodes.contains_key("pve02"), "{pre:?}");
    assert_eq!(c.find_guest(103).await.unwrap().node, "pve01");
    let spec = QemuMigrate {
        target: "pve02".into(),
        with_local_disks: Some(true),
        ..QemuMigrate::default()
    };
    ok_task(c, &c.qemu_migrate("pve01", 103, &spec).await.unwrap()).await;
    assert_eq!(
        c.find_guest(103).await.unwrap().node,
        "pve02",
        "the cache was dropped"
    );
    env.finish();
}

#[tokio::test]
async fn migrate_container() {
    let env = env().await;
    let c = &env.client;
    assert_eq!(c.find_guest(205).await.unwrap().node, "pve01");
    let spec = LxcMigrate {
        target: "pve03".into(),
        ..LxcMigrate::default()
    };
    ok_task(c, &c.lxc_migrate("pve01", 205, &spec).await.unwrap()).await;
    assert_eq!(c.find_guest(205).await.unwrap().node, "pve03");
    env.finish();
}

#[tokio::test]
async fn migrate_container_preflight() {
    let env = env().await;
    let pre = env
        .client
        .lxc_migrate_preflight("pve01", 205, None)
        .await
        .unwrap();
    assert!(!pre.running);
    let pre = env
        .client
        .lxc_migrate_preflight("pve01", 200, Some("pve02"))
        .await
        .unwrap();
    assert!(pre.running);
    env.finish();
}
