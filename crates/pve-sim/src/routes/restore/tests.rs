//! Tests of restores (`routes/restore/`): archives made by vzdump come back as guests.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{Value, json};

use crate::Sim;
use crate::route::{Method, Role};
use crate::testkit::*;

/// Backs up `vmid` to `local` and returns the archive's volid.
fn backup(s: &mut Sim, vmid: &str) -> String {
    let up = call(
        s,
        Method::Post,
        "/nodes/pve1/vzdump",
        &[("vmid", vmid), ("storage", "local"), ("compress", "zstd")],
    )
    .unwrap();
    assert_eq!(finish(s, &up), "OK");
    backups_of(&s.cluster, "local", vmid.parse().unwrap())
        .last()
        .unwrap()
        .volid
        .clone()
}

fn restore_vm(s: &mut Sim, params: &[(&str, &str)]) -> Result<Value, crate::route::ApiError> {
    call(s, Method::Post, "/nodes/pve1/qemu", params)
}

fn cfg(s: &Sim, vmid: u32, key: &str) -> String {
    crate::guest::value_text(&g(s, vmid).config[key])
}

#[test]
fn a_vm_comes_back_under_a_new_vmid_with_new_disks_and_macs() {
    let mut s = sim();
    let archive = backup(&mut s, "101");
    let up = restore_vm(
        &mut s,
        &[
            ("vmid", "120"),
            ("archive", &archive),
            ("storage", "dirimg"),
            ("unique", "1"),
        ],
    )
    .unwrap();
    assert!(up.as_str().unwrap().contains(":qmrestore:120:"), "{up}");
    assert_eq!(g(&s, 120).lock().as_deref(), Some("create"));
    assert_eq!(finish(&mut s, &up), "OK", "{:?}", log(&s, &up));
    assert_eq!(g(&s, 120).lock(), None);
    assert_eq!(cfg(&s, 120, "name"), "vm101");
    assert_eq!(cfg(&s, 120, "memory"), cfg(&s, 101, "memory"));
    assert!(
        cfg(&s, 120, "scsi0").starts_with("dirimg:120/vm-120-disk-0.qcow2,"),
        "{}",
        cfg(&s, 120, "scsi0")
    );
    assert!(cfg(&s, 120, "scsi0").contains("size=32G"));
    assert_ne!(cfg(&s, 120, "net0"), cfg(&s, 101, "net0"));
    assert!(cfg(&s, 120, "net0").contains("bridge=vmbr0"));
    assert!(
        s.cluster
            .volumes
            .iter()
            .any(|v| v.vmid == Some(120) && v.content == "images")
    );
    assert!(
        log(&s, &up)
            .iter()
            .any(|l| l.contains("new volume ID is 'dirimg:"))
    );
}

#[test]
fn force_overwrites_a_stopped_vm_with_the_archived_config() {
    let mut s = sim();
    let archive = backup(&mut s, "101");
    s.cluster
        .guests
        .get_mut(&101)
        .unwrap()
        .config
        .insert("memory".into(), json!("8192"));
    assert_err(
        restore_vm(&mut s, &[("vmid", "101"), ("archive", &archive)]),
        500,
        "unable to restore vm 101 - config file already exists",
    );
    let up = restore_vm(
        &mut s,
        &[("vmid", "101"), ("archive", &archive), ("force", "1")],
    )
    .unwrap();
    assert_eq!(g(&s, 101).lock().as_deref(), Some("restore"));
    assert_eq!(finish(&mut s, &up), "OK");
    assert_eq!(cfg(&s, 101, "memory"), "2048");
    // Same storage as before (none given), one disk only.
    let disks: Vec<_> = s
        .cluster
        .volumes
        .iter()
        .filter(|v| v.vmid == Some(101) && v.content == "images")
        .collect();
    assert_eq!(disks.len(), 1, "{disks:?}");
    assert!(disks[0].volid.starts_with("local-lvm:vm-101-disk-"));
}

#[test]
fn pve_refusals_come_before_the_task() {
    let mut s = sim();
    let archive = backup(&mut s, "101");
    let cases = [
        ("105", "unable to restore VM 105 - protection mode enabled"),
        ("100", "unable to restore vm 100 - vm is running"),
        ("9000", "unable to restore vm 9000 - vm is a template"),
        ("300", "already existing on cluster node 'pve2'"),
        (
            "201",
            "Configuration file 'nodes/pve1/qemu-server/201.conf' does not exist",
        ),
    ];
    for (vmid, msg) in cases {
        assert_err(
            restore_vm(
                &mut s,
                &[("vmid", vmid), ("archive", &archive), ("force", "1")],
            ),
            500,
            msg,
        );
    }
    assert_err(
        restore_vm(
            &mut s,
            &[("vmid", "120"), ("archive", "local:backup/none.vma.zst")],
        ),
        500,
        "can't find file 'local:backup/none.vma.zst'",
    );
    assert_err(
        restore_vm(
            &mut s,
            &[("vmid", "120"), ("archive", &archive), ("cores", "2")],
        ),
        400,
        "archive: option conflicts with other options (cores)",
    );
    assert_err(
        restore_vm(&mut s, &[("vmid", "120"), ("force", "1"), ("cores", "2")]),
        400,
        "archive: requires this property",
    );
    // Without VM.Allocate or VM.Backup: 403.
    let auditor = who("audit@pve", Role::Auditor);
    assert_err(
        call_as(
            &mut s,
            &auditor,
            Method::Post,
            "/nodes/pve1/qemu",
            &[("vmid", "120"), ("archive", &archive)],
        ),
        403,
        "VM.Allocate",
    );
    assert!(!s.cluster.guests.contains_key(&120));
}

#[test]
fn an_archive_of_the_other_kind_fails_the_task_and_leaves_nothing() {
    let mut s = sim();
    let ct_archive = backup(&mut s, "201");
    let up = restore_vm(&mut s, &[("vmid", "121"), ("archive", &ct_archive)]).unwrap();
    let exit = finish(&mut s, &up);
    assert!(exit.contains("not a VM backup"), "{exit}");
    assert!(!s.cluster.guests.contains_key(&121));
}

#[test]
fn a_container_comes_back_through_the_lxc_endpoint() {
    let mut s = sim();
    let archive = backup(&mut s, "201");
    assert!(archive.ends_with(".tar.zst"), "{archive}");
    let up = call(
        &mut s,
        Method::Post,
        "/nodes/pve1/lxc",
        &[
            ("vmid", "221"),
            ("ostemplate", &archive),
            ("restore", "1"),
            ("storage", "local-lvm"),
        ],
    )
    .unwrap();
    assert!(up.as_str().unwrap().contains(":vzrestore:221:"), "{up}");
    assert_eq!(finish(&mut s, &up), "OK", "{:?}", log(&s, &up));
    let ct = g(&s, 221);
    assert_eq!(ct.kind, crate::state::GuestKind::Lxc);
    assert_eq!(cfg(&s, 221, "hostname"), "ct201");
    assert!(cfg(&s, 221, "rootfs").starts_with("local-lvm:vm-221-disk-0,"));
    // Over an existing CT: only with force, never a running one.
    assert_err(
        call(
            &mut s,
            Method::Post,
            "/nodes/pve1/lxc",
            &[
                ("vmid", "200"),
                ("ostemplate", &archive),
                ("restore", "1"),
                ("force", "1"),
            ],
        ),
        500,
        "unable to restore CT 200 - container is running",
    );
    assert_err(
        call(
            &mut s,
            Method::Post,
            "/nodes/pve1/lxc",
            &[("vmid", "221"), ("ostemplate", &archive), ("restore", "1")],
        ),
        500,
        "CT 221 already exists on node 'pve1'",
    );
}

#[test]
fn deleting_a_backup_forgets_its_config() {
    let mut s = sim();
    let archive = backup(&mut s, "101");
    assert!(s.cluster.backup_configs.contains_key(&archive));
    let path = format!("/nodes/pve1/storage/local/content/{archive}");
    let up = call(&mut s, Method::Delete, &path, &[]).unwrap();
    assert_eq!(finish(&mut s, &up), "OK");
    assert!(!s.cluster.backup_configs.contains_key(&archive));
    assert!(backups_of(&s.cluster, "local", 101).is_empty());
}
