//! Tests of `POST /nodes/{node}/vzdump` (`routes/vzdump/`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::Value;

use crate::Sim;
use crate::route::{Method, Role};
use crate::testkit::*;

const V: &str = "/nodes/pve1/vzdump";

fn dump(s: &mut Sim, params: &[(&str, &str)]) -> Value {
    call(s, Method::Post, V, params).unwrap_or_else(|e| panic!("vzdump: {e:?}"))
}

#[test]
fn one_vm_locks_then_adds_an_archive() {
    let mut s = sim();
    let up = dump(
        &mut s,
        &[
            ("vmid", "100"),
            ("storage", "local"),
            ("mode", "snapshot"),
            ("compress", "zstd"),
            ("notes-template", "{{guestname}} on {{node}}"),
        ],
    );
    assert!(
        up.as_str().unwrap().contains(":vzdump:100:root@pam:"),
        "{up}"
    );
    assert_eq!(g(&s, 100).lock().as_deref(), Some("backup"));
    let cur = call(
        &mut s,
        Method::Get,
        "/nodes/pve1/qemu/100/status/current",
        &[],
    )
    .unwrap();
    assert_eq!(cur["lock"], "backup");
    let r = call(
        &mut s,
        Method::Put,
        "/nodes/pve1/qemu/100/config",
        &[("cores", "4")],
    );
    assert_err(r, 500, "VM is locked (backup)");
    assert!(
        backups_of(&s.cluster, "local", 100).is_empty(),
        "no archive before the end"
    );
    assert_eq!(finish(&mut s, &up), "OK");
    assert_eq!(g(&s, 100).lock(), None);
    let b = backups_of(&s.cluster, "local", 100);
    assert_eq!(b.len(), 1);
    let re = regex::Regex::new(
        r"^local:backup/vzdump-qemu-100-\d{4}_\d\d_\d\d-\d\d_\d\d_\d\d\.vma\.zst$",
    )
    .unwrap();
    assert!(re.is_match(&b[0].volid), "{}", b[0].volid);
    assert_eq!(b[0].notes.as_deref(), Some("web01 on pve1"));
    assert_eq!(b[0].format, "vma.zst");
    assert!(b[0].size > 0 && b[0].ctime > T0 as i64);
    let lines = log(&s, &up);
    assert!(
        lines
            .iter()
            .any(|l| l == "INFO: Starting Backup of VM 100 (qemu)")
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("INFO: include disk 'scsi0' 'local-lvm:vm-100-disk-0' 32G"))
    );
    assert_eq!(lines.last().map(String::as_str), Some("TASK OK"));
}

#[test]
fn several_guests_share_one_task() {
    let mut s = sim();
    let up = dump(
        &mut s,
        &[
            ("vmid", "100,200"),
            ("storage", "nfs-backup"),
            ("compress", "gzip"),
        ],
    );
    assert!(up.as_str().unwrap().contains(":vzdump::root@pam:"), "{up}");
    assert_eq!(g(&s, 200).lock().as_deref(), Some("backup"));
    assert_eq!(finish(&mut s, &up), "OK");
    assert!(
        backups_of(&s.cluster, "nfs-backup", 100)[0]
            .volid
            .ends_with(".vma.gz")
    );
    assert!(
        backups_of(&s.cluster, "nfs-backup", 200)[0]
            .volid
            .contains("vzdump-lxc-200-")
    );
    assert_eq!(g(&s, 200).lock(), None);
}

#[test]
fn failures_end_the_task_with_pves_status() {
    // (params, exit status, a log line)
    let cases: Vec<(Params, &str, &str)> = vec![
        (
            vec![("vmid", "100"), ("storage", "local-lvm")],
            "could not get storage information for 'local-lvm': can't use storage 'local-lvm' for backups - wrong content type",
            "",
        ),
        (
            vec![("vmid", "104")],
            "job errors",
            "ERROR: Backup of VM 104 failed - VM is locked (backup)",
        ),
        (
            vec![("vmid", "999")],
            "job errors",
            "ERROR: Backup of VM 999 failed - unable to find configuration file for VM 999 on node 'pve1'",
        ),
    ];
    for (params, status, line) in cases {
        let mut s = sim();
        let up = dump(&mut s, &params);
        assert_eq!(finish(&mut s, &up), status);
        assert_eq!(
            log(&s, &up).last().unwrap(),
            &format!("TASK ERROR: {status}")
        );
        if !line.is_empty() {
            assert!(log(&s, &up).iter().any(|l| l == line), "{line}");
        }
        assert_eq!(g(&s, 100).lock(), None, "our lock is released");
    }
    let mut s = sim();
    assert_eq!(g(&s, 104).lock().as_deref(), Some("backup"));
    let up = dump(&mut s, &[("vmid", "104")]);
    finish(&mut s, &up);
    assert_eq!(
        g(&s, 104).lock().as_deref(),
        Some("backup"),
        "someone else's lock stays"
    );
    let mut s = sim();
    s.cluster.storages.get_mut("local").unwrap().total = 2 << 20;
    let up = dump(&mut s, &[("vmid", "100")]);
    assert_eq!(finish(&mut s, &up), "job errors");
    assert!(
        log(&s, &up)
            .iter()
            .any(|l| l.contains("No space left on device"))
    );
}

#[test]
fn all_exclude_and_node_scope() {
    let mut s = sim();
    s.time_scale = 0.0;
    let up = dump(
        &mut s,
        &[
            ("all", "1"),
            ("exclude", "104,9000"),
            ("storage", "nfs-backup"),
        ],
    );
    assert!(up.as_str().unwrap().contains(":vzdump::"));
    assert_eq!(finish(&mut s, &up), "OK");
    for v in [100, 101, 102, 103, 105, 200, 201] {
        assert_eq!(backups_of(&s.cluster, "nfs-backup", v).len(), 1, "{v}");
    }
    for v in [104, 9000, 300] {
        assert!(backups_of(&s.cluster, "nfs-backup", v).is_empty(), "{v}");
    }
}

#[test]
fn prune_keeps_the_newest_and_protected() {
    let mut s = sim();
    let run = |s: &mut Sim, extra: &[(&str, &str)]| {
        let mut p = vec![("vmid", "101"), ("storage", "local")];
        p.extend_from_slice(extra);
        let up = dump(s, &p);
        assert_eq!(finish(s, &up), "OK");
        up
    };
    run(&mut s, &[("protected", "1")]);
    run(&mut s, &[]);
    run(&mut s, &[]);
    assert_eq!(backups_of(&s.cluster, "local", 101).len(), 3);
    let up = run(&mut s, &[("prune-backups", "keep-last=1")]);
    let left = backups_of(&s.cluster, "local", 101);
    assert_eq!(left.len(), 2, "the protected one and the newest");
    assert!(left[0].protected);
    assert!(log(&s, &up).iter().any(|l| l == "INFO: pruned 2 backup(s)"));
}

#[test]
fn refusals() {
    let mut s = sim();
    assert_err(
        call(&mut s, Method::Post, V, &[("all", "1"), ("vmid", "100")]),
        400,
        "all: option conflicts with option 'vmid'",
    );
    assert_err(
        call(&mut s, Method::Post, V, &[]),
        400,
        "vmid: property is missing",
    );
    assert_err(
        call(
            &mut s,
            Method::Post,
            V,
            &[
                ("vmid", "100"),
                ("storage", "nfs-backup"),
                ("notes-template", "a\nb"),
            ],
        ),
        400,
        "notes-template: contains a line feed",
    );
    assert_err(
        call(
            &mut s,
            Method::Post,
            V,
            &[("vmid", "100"), ("mode", "fast")],
        ),
        400,
        "mode: ",
    );
    let limited = who("eve@pve", Role::Vms(vec![101]));
    let r = call_as(&mut s, &limited, Method::Post, V, &[("vmid", "100")]);
    assert_err(r, 403, "Permission check failed (/vms/100, VM.Backup)");
    assert!(call_as(&mut s, &limited, Method::Post, V, &[("vmid", "101")]).is_ok());
    assert!(s.tasks.by_upid.len() == 1);
}
