//! Tests of the storage content routes: listing, allocation until full, volume attributes,
//! deletion (protected backups, disks in use, permissions) and copies.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::Value;

use crate::route::{Method, Role};
use crate::seed::ClusterBuilder;
use crate::testkit::{
    T0, advance, assert_err, call, call_as, demo_sim, exitstatus, finish, get, sim_over, who,
};

const GIB: u64 = 1 << 30;

fn ids(v: &Value, key: &str) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|e| e[key].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn content_lists_and_filters() {
    let mut sim = demo_sim();
    let isos = get(
        &mut sim,
        "/nodes/pve01/storage/local/content",
        &[("content", "iso")],
    );
    assert_eq!(
        ids(&isos, "volid"),
        [
            "local:iso/debian-12.8.0-amd64-netinst.iso",
            "local:iso/ubuntu-24.04.1-live-server-amd64.iso"
        ]
    );
    assert_eq!(isos[0]["format"], "iso");
    assert!(isos[0]["size"].as_u64().unwrap() > 100 << 20);
    assert!(isos[0]["ctime"].as_i64().unwrap() < T0 as i64);
    assert!(isos[0].get("vmid").is_none());
    let tmpl = get(
        &mut sim,
        "/nodes/pve02/storage/local/content",
        &[("content", "vztmpl")],
    );
    assert!(
        ids(&tmpl, "volid")
            .contains(&"local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst".to_string())
    );
    let backups = get(
        &mut sim,
        "/nodes/pve03/storage/nfs-backup/content",
        &[("content", "backup"), ("vmid", "100")],
    );
    let arr = backups.as_array().unwrap();
    assert_eq!(arr.len(), 2);
    assert!(
        arr.iter()
            .all(|b| b["vmid"] == 100 && b["format"] == "vma.zst")
    );
    assert!(arr.iter().all(|b| {
        b["volid"]
            .as_str()
            .unwrap()
            .starts_with("nfs-backup:backup/vzdump-qemu-100-")
    }));
    assert_eq!(arr.iter().filter(|b| b["protected"] == 1).count(), 1);
    assert!(
        arr.iter()
            .any(|b| b["notes"] == "before upgrade to Ubuntu 24.04")
    );
    let images = get(
        &mut sim,
        "/nodes/pve01/storage/local-lvm/content",
        &[("vmid", "102")],
    );
    assert_eq!(
        ids(&images, "volid"),
        ["local-lvm:vm-102-disk-0", "local-lvm:vm-102-disk-1"]
    );
    assert_eq!(images[1]["size"].as_u64().unwrap(), 200 * GIB);
    // pve02's local-lvm does not hold pve01's disks.
    let on2 = get(
        &mut sim,
        "/nodes/pve02/storage/local-lvm/content",
        &[("vmid", "102")],
    );
    assert_eq!(on2, Value::Array(vec![]));
    // A user with rights on VM 100 only sees its backups and the ISOs, not other guests' disks.
    let ops = who("ops@pve", Role::Vms(vec![100]));
    let seen = call_as(
        &mut sim,
        &ops,
        Method::Get,
        "/nodes/pve01/storage/nfs-backup/content",
        &[],
    )
    .unwrap();
    assert!(
        seen.as_array()
            .unwrap()
            .iter()
            .all(|v| v["vmid"] == 100 || v.get("vmid").is_none()),
        "{seen}"
    );
    let disks = call_as(
        &mut sim,
        &ops,
        Method::Get,
        "/nodes/pve01/storage/local-lvm/content",
        &[],
    )
    .unwrap();
    assert_eq!(ids(&disks, "volid"), ["local-lvm:vm-100-disk-0"]);
}

#[test]
fn allocating_fills_the_storage_until_full() {
    let mut sim = sim_over(
        ClusterBuilder::new()
            .nodes(1)
            .vms(2)
            .storage_total("local-lvm", 100 * GIB)
            .epoch(T0)
            .build(),
    );
    let before = get(&mut sim, "/nodes/pve01/storage/local-lvm/status", &[])["used"]
        .as_u64()
        .unwrap();
    let volid = call(
        &mut sim,
        Method::Post,
        "/nodes/pve01/storage/local-lvm/content",
        &[
            ("filename", "vm-100-disk-1"),
            ("size", "10G"),
            ("vmid", "100"),
        ],
    )
    .unwrap();
    assert_eq!(volid, "local-lvm:vm-100-disk-1");
    let after = get(&mut sim, "/nodes/pve01/storage/local-lvm/status", &[])["used"]
        .as_u64()
        .unwrap();
    assert_eq!(after, before + 10 * GIB);
    // Sizes are KiB without a suffix.
    call(
        &mut sim,
        Method::Post,
        "/nodes/pve01/storage/local-lvm/content",
        &[
            ("filename", "vm-100-disk-2"),
            ("size", "1048576"),
            ("vmid", "100"),
        ],
    )
    .unwrap();
    let after2 = get(&mut sim, "/nodes/pve01/storage/local-lvm/status", &[])["used"]
        .as_u64()
        .unwrap();
    assert_eq!(after2, after + GIB);
    let avail = get(&mut sim, "/nodes/pve01/storage/local-lvm/status", &[])["avail"]
        .as_u64()
        .unwrap();
    let too_big = format!("{}G", avail / GIB + 1);
    assert_err(
        call(
            &mut sim,
            Method::Post,
            "/nodes/pve01/storage/local-lvm/content",
            &[
                ("filename", "vm-100-disk-3"),
                ("size", &too_big),
                ("vmid", "100"),
            ],
        ),
        500,
        "insufficient free space",
    );
}

#[test]
fn volume_info_and_attributes() {
    let mut sim = demo_sim();
    let iso = get(
        &mut sim,
        "/nodes/pve01/storage/local/content/local:iso%2Fdebian-12.8.0-amd64-netinst.iso",
        &[],
    );
    assert_eq!(
        iso["path"],
        "/var/lib/vz/template/iso/debian-12.8.0-amd64-netinst.iso"
    );
    assert_eq!(iso["format"], "iso");
    assert!(iso.get("protected").is_none());
    // The name alone works with the storage in the path.
    let same = get(
        &mut sim,
        "/nodes/pve01/storage/local/content/iso%2Fdebian-12.8.0-amd64-netinst.iso",
        &[],
    );
    assert_eq!(same, iso);
    let disk = get(
        &mut sim,
        "/nodes/pve01/storage/local-lvm/content/local-lvm:vm-100-disk-0",
        &[],
    );
    assert_eq!(disk["path"], "/dev/pve/vm-100-disk-0");
    assert_eq!(disk["size"].as_u64().unwrap(), 32 * GIB);
    let list = get(
        &mut sim,
        "/nodes/pve01/storage/nfs-backup/content",
        &[("vmid", "102")],
    );
    let volid = list[0]["volid"].as_str().unwrap().to_string();
    let path = format!("/nodes/pve01/storage/nfs-backup/content/{volid}");
    let b = get(&mut sim, &path, &[]);
    assert!(
        b["path"]
            .as_str()
            .unwrap()
            .starts_with("/mnt/pve/nfs-backup/dump/vzdump-qemu-102-")
    );
    assert_eq!(b["protected"], 0);
    call(
        &mut sim,
        Method::Put,
        &path,
        &[("notes", "keep me\nsecond line"), ("protected", "1")],
    )
    .unwrap();
    let b = get(&mut sim, &path, &[]);
    assert_eq!(b["notes"], "keep me\nsecond line");
    assert_eq!(b["protected"], 1);
    let list = get(
        &mut sim,
        "/nodes/pve01/storage/nfs-backup/content",
        &[("vmid", "102")],
    );
    assert_eq!(list[0]["notes"], "keep me");
    assert_eq!(list[0]["protected"], 1);
}

#[test]
fn deleting_volumes() {
    let mut sim = demo_sim();
    let backups = get(
        &mut sim,
        "/nodes/pve01/storage/nfs-backup/content",
        &[("vmid", "100")],
    );
    let plain = backups
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b.get("protected").is_none())
        .unwrap()["volid"]
        .as_str()
        .unwrap()
        .to_string();
    let protected = backups
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["protected"] == 1)
        .unwrap()["volid"]
        .as_str()
        .unwrap()
        .to_string();
    let upid = call(
        &mut sim,
        Method::Delete,
        &format!("/nodes/pve01/storage/nfs-backup/content/{plain}"),
        &[],
    )
    .unwrap();
    assert!(
        upid.as_str()
            .unwrap()
            .contains(":imgdel:100@nfs-backup:root@pam:"),
        "{upid}"
    );
    assert!(
        sim.cluster.volumes.iter().any(|v| v.volid == plain),
        "gone only when the task ends"
    );
    assert_eq!(finish(&mut sim, &upid), "OK");
    assert!(!sim.cluster.volumes.iter().any(|v| v.volid == plain));
    // A protected backup: the task fails with PVE's message; with `delay` the call fails.
    let upid = call(
        &mut sim,
        Method::Delete,
        &format!("/nodes/pve01/storage/nfs-backup/content/{protected}"),
        &[],
    )
    .unwrap();
    let status = finish(&mut sim, &upid);
    assert!(
        status.starts_with("cannot remove protected volume 'backup/vzdump-qemu-100-"),
        "{status}"
    );
    assert_err(
        call(
            &mut sim,
            Method::Delete,
            &format!("/nodes/pve01/storage/nfs-backup/content/{protected}"),
            &[("delay", "5")],
        ),
        500,
        "cannot remove protected volume",
    );
    assert!(sim.cluster.volumes.iter().any(|v| v.volid == protected));
    // A freshly allocated, unused disk goes at once with `delay`.
    call(
        &mut sim,
        Method::Post,
        "/nodes/pve01/storage/local-lvm/content",
        &[
            ("filename", "vm-103-disk-7"),
            ("size", "1G"),
            ("vmid", "103"),
        ],
    )
    .unwrap();
    let r = call(
        &mut sim,
        Method::Delete,
        "/nodes/pve01/storage/local-lvm/content/vm-103-disk-7",
        &[("delay", "3")],
    )
    .unwrap();
    assert_eq!(r, Value::Null);
    assert!(
        !sim.cluster
            .volumes
            .iter()
            .any(|v| v.volid == "local-lvm:vm-103-disk-7")
    );
    // Backups need VM.Backup on their guest; other volumes Datastore.Allocate.
    let ops = who("ops@pve", Role::Vms(vec![104]));
    let b102 = get(
        &mut sim,
        "/nodes/pve01/storage/nfs-backup/content",
        &[("vmid", "102")],
    )[0]["volid"]
        .as_str()
        .unwrap()
        .to_string();
    assert_err(
        call_as(
            &mut sim,
            &ops,
            Method::Delete,
            &format!("/nodes/pve01/storage/nfs-backup/content/{b102}"),
            &[],
        ),
        403,
        "(/vms/102, VM.Backup)",
    );
    assert_err(
        call_as(
            &mut sim,
            &ops,
            Method::Delete,
            "/nodes/pve01/storage/local/content/local:iso%2Fdebian-12.8.0-amd64-netinst.iso",
            &[],
        ),
        403,
        "Datastore.Allocate",
    );
    let b104 = get(
        &mut sim,
        "/nodes/pve01/storage/nfs-backup/content",
        &[("vmid", "104")],
    )[0]["volid"]
        .as_str()
        .unwrap()
        .to_string();
    let upid = call_as(
        &mut sim,
        &ops,
        Method::Delete,
        &format!("/nodes/pve01/storage/nfs-backup/content/{b104}"),
        &[],
    )
    .unwrap();
    advance(&mut sim, 60.0);
    assert_eq!(exitstatus(&sim, &upid).as_deref(), Some("OK"));
}

#[test]
fn copying_a_volume() {
    let mut sim = demo_sim();
    let upid = call(
        &mut sim,
        Method::Post,
        "/nodes/pve01/storage/local/content/local:iso%2Fdebian-12.8.0-amd64-netinst.iso",
        &[
            ("target", "local:iso/debian-copy.iso"),
            ("target_node", "pve02"),
        ],
    )
    .unwrap();
    assert!(upid.as_str().unwrap().contains(":imgcopy::root@pam:"));
    assert_eq!(finish(&mut sim, &upid), "OK");
    let on2 = get(
        &mut sim,
        "/nodes/pve02/storage/local/content",
        &[("content", "iso")],
    );
    assert!(ids(&on2, "volid").contains(&"local:iso/debian-copy.iso".to_string()));
    let on1 = get(
        &mut sim,
        "/nodes/pve01/storage/local/content",
        &[("content", "iso")],
    );
    assert!(!ids(&on1, "volid").contains(&"local:iso/debian-copy.iso".to_string()));
    let admin = who("admin@pve", Role::Admin);
    assert_err(
        call_as(
            &mut sim,
            &admin,
            Method::Post,
            "/nodes/pve01/storage/local/content/local:iso%2Fdebian-12.8.0-amd64-netinst.iso",
            &[("target", "local:iso/x.iso")],
        ),
        403,
        "user != root@pam",
    );
}
