//! Tests of the storage configuration, node storage status and storage content routes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::Value;

use crate::route::{Method, Role};
use crate::seed::ClusterBuilder;
use crate::seed::testkit::{
    T0, advance, assert_err, demo_sim, exitstatus, finish, get, req, req_as, sim_over, who,
};

const GIB: u64 = 1 << 30;

/// A failing call: method, path, parameters, status, message part.
type Case = (
    Method,
    &'static str,
    &'static [(&'static str, &'static str)],
    u16,
    &'static str,
);
/// A filter of the node storage list and the storages it keeps.
type FilterRow = (
    &'static [(&'static str, &'static str)],
    &'static [&'static str],
);

fn ids(v: &Value, key: &str) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|e| e[key].as_str().unwrap().to_string())
        .collect()
}

/// One failing call on the demo: method, path, params, status, message part.
fn check(method: Method, path: &str, params: &[(&str, &str)], status: u16, msg: &str) {
    let mut sim = demo_sim();
    assert_err(req(&mut sim, method, path, params), status, msg);
}

#[test]
fn storage_failures() {
    let cases: &[Case] = &[
        (
            Method::Get,
            "/storage/nope",
            &[],
            500,
            "storage 'nope' does not exist",
        ),
        (
            Method::Put,
            "/storage/nope",
            &[("content", "iso")],
            500,
            "storage 'nope' does not exist",
        ),
        (
            Method::Delete,
            "/storage/nope",
            &[],
            500,
            "storage 'nope' does not exist",
        ),
        (
            Method::Post,
            "/storage",
            &[("storage", "xx"), ("type", "dir")],
            400,
            "path: property is missing",
        ),
        (
            Method::Post,
            "/storage",
            &[("storage", "xx"), ("type", "nfs"), ("server", "h")],
            400,
            "export: property is missing",
        ),
        (
            Method::Post,
            "/storage",
            &[("storage", "local"), ("type", "dir"), ("path", "/x")],
            500,
            "storage ID 'local' already defined",
        ),
        (
            Method::Post,
            "/storage",
            &[
                ("storage", "tt"),
                ("type", "lvmthin"),
                ("vgname", "v"),
                ("thinpool", "d"),
                ("content", "iso"),
            ],
            400,
            "content: does not support content type 'iso'",
        ),
        (
            Method::Post,
            "/storage",
            &[("storage", "xx"), ("type", "floppy")],
            400,
            "type: ",
        ),
        (
            Method::Put,
            "/storage/local",
            &[("digest", "0000")],
            500,
            "detected modified configuration",
        ),
        (
            Method::Get,
            "/nodes/pve01/storage/nope/status",
            &[],
            400,
            "storage: No such storage.",
        ),
        (
            Method::Get,
            "/nodes/pve01/storage",
            &[("storage", "nope")],
            400,
            "storage: No such storage.",
        ),
        (
            Method::Get,
            "/nodes/pve01/storage/nope/content",
            &[],
            500,
            "storage 'nope' does not exist",
        ),
        (
            Method::Post,
            "/nodes/pve01/storage/local-lvm/content",
            &[
                ("filename", "vm-101-disk-5"),
                ("size", "1G"),
                ("vmid", "103"),
            ],
            500,
            "illegal name 'vm-101-disk-5' - should be 'vm-103-*'",
        ),
        (
            Method::Post,
            "/nodes/pve01/storage/local-lvm/content",
            &[
                ("filename", "vm-103-disk-5"),
                ("size", "1T"),
                ("vmid", "103"),
            ],
            400,
            "size: unable to parse size '1T'",
        ),
        (
            Method::Post,
            "/nodes/pve01/storage/local-lvm/content",
            &[
                ("filename", "vm-103-disk-5.qcow2"),
                ("size", "1G"),
                ("vmid", "103"),
            ],
            500,
            "unsupported format 'qcow2'",
        ),
        (
            Method::Post,
            "/nodes/pve01/storage/local/content",
            &[
                ("filename", "vm-103-disk-5.raw"),
                ("size", "1G"),
                ("vmid", "103"),
            ],
            500,
            "storage 'local' does not support vm images",
        ),
        (
            Method::Post,
            "/nodes/pve01/storage/local-lvm/content",
            &[
                ("filename", "vm-103-disk-0"),
                ("size", "1G"),
                ("vmid", "103"),
            ],
            500,
            "volume 'local-lvm:vm-103-disk-0' already exists",
        ),
        (
            Method::Get,
            "/nodes/pve01/storage/local/content/local:iso%2Fnope.iso",
            &[],
            500,
            "volume_size_info on 'local:iso/nope.iso' failed",
        ),
        (
            Method::Get,
            "/nodes/pve01/storage/local/content/nfs-backup:iso%2Fx.iso",
            &[],
            400,
            "volume: storage ID mismatch",
        ),
        (
            Method::Put,
            "/nodes/pve01/storage/local/content/iso%2Fdebian-12.8.0-amd64-netinst.iso",
            &[("notes", "x")],
            500,
            "attribute 'notes' is only supported for backups",
        ),
        (
            Method::Delete,
            "/nodes/pve01/storage/local-lvm/content/local-lvm:vm-100-disk-0",
            &[],
            500,
            "used by guest 100 (scsi0)",
        ),
    ];
    for (m, path, params, status, msg) in cases {
        check(*m, path, params, *status, msg);
    }
}

#[test]
fn storage_config_list_and_read() {
    let mut sim = demo_sim();
    let list = get(&mut sim, "/storage", &[]);
    assert_eq!(ids(&list, "storage"), ["local", "local-lvm", "nfs-backup"]);
    let digest = list[0]["digest"].as_str().unwrap().to_string();
    assert_eq!(digest.len(), 40);
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .all(|e| e["digest"] == digest.as_str())
    );
    assert_eq!(list[0]["path"], "/var/lib/vz");
    assert_eq!(list[0]["content"], "iso,vztmpl,backup");
    assert_eq!(list[1]["vgname"], "pve");
    assert_eq!(list[1]["thinpool"], "data");
    assert_eq!(list[2]["server"], "10.10.20.5");
    assert_eq!(list[2]["shared"], 1);
    assert!(list[0].get("shared").is_none());
    let nfs = get(&mut sim, "/storage", &[("type", "nfs")]);
    assert_eq!(ids(&nfs, "storage"), ["nfs-backup"]);
    let one = get(&mut sim, "/storage/local-lvm", &[]);
    assert_eq!(one["type"], "lvmthin");
    assert_eq!(one["digest"], digest.as_str());
    // Auditors list storages but may not read a definition or change one.
    let auditor = who("audit@pve", Role::Auditor);
    assert_eq!(
        req_as(&mut sim, &auditor, Method::Get, "/storage", &[])
            .unwrap()
            .as_array()
            .unwrap()
            .len(),
        3
    );
    assert_err(
        req_as(&mut sim, &auditor, Method::Get, "/storage/local", &[]),
        403,
        "/storage/local, Datastore.Allocate",
    );
    assert_err(
        req_as(
            &mut sim,
            &auditor,
            Method::Post,
            "/storage",
            &[("storage", "xx"), ("type", "dir"), ("path", "/x")],
        ),
        403,
        "(/storage, Datastore.Allocate)",
    );
    assert_err(
        req_as(&mut sim, &auditor, Method::Delete, "/storage/local", &[]),
        403,
        "Datastore.Allocate",
    );
    let nobody = who("nobody@pve", Role::None);
    assert_eq!(
        req_as(&mut sim, &nobody, Method::Get, "/storage", &[]).unwrap(),
        Value::Array(vec![])
    );
}

#[test]
fn storage_create_update_delete() {
    let mut sim = demo_sim();
    let before = get(&mut sim, "/storage", &[])[0]["digest"].clone();
    let r = req(
        &mut sim,
        Method::Post,
        "/storage",
        &[
            ("storage", "extra"),
            ("type", "dir"),
            ("path", "/srv/extra"),
            ("content", "iso,backup"),
            ("mkdir", "0"),
        ],
    )
    .unwrap();
    assert_eq!(r["storage"], "extra");
    assert_eq!(r["type"], "dir");
    let cfg = get(&mut sim, "/storage/extra", &[]);
    assert_eq!(cfg["path"], "/srv/extra");
    assert_eq!(cfg["content"], "iso,backup");
    assert_eq!(cfg["mkdir"], 0);
    assert_ne!(cfg["digest"], before);
    let on2 = get(&mut sim, "/nodes/pve02/storage", &[]);
    assert!(ids(&on2, "storage").contains(&"extra".to_string()));
    // Restrict to pve01, with the current digest.
    let digest = cfg["digest"].as_str().unwrap().to_string();
    req(
        &mut sim,
        Method::Put,
        "/storage/extra",
        &[("nodes", "pve01"), ("content", "iso"), ("digest", &digest)],
    )
    .unwrap();
    let cfg = get(&mut sim, "/storage/extra", &[]);
    assert_eq!(cfg["nodes"], "pve01");
    assert_eq!(cfg["content"], "iso");
    assert!(
        !ids(&get(&mut sim, "/nodes/pve02/storage", &[]), "storage").contains(&"extra".to_string())
    );
    assert_err(
        req(
            &mut sim,
            Method::Get,
            "/nodes/pve02/storage/extra/status",
            &[],
        ),
        400,
        "storage: No such storage.",
    );
    req(&mut sim, Method::Put, "/storage/extra", &[("disable", "1")]).unwrap();
    let st = get(&mut sim, "/nodes/pve01/storage/extra/status", &[]);
    assert_eq!(st["enabled"], 0);
    assert_eq!(st["active"], 0);
    assert!(
        !ids(
            &get(&mut sim, "/nodes/pve01/storage", &[("enabled", "1")]),
            "storage"
        )
        .contains(&"extra".to_string())
    );
    req(
        &mut sim,
        Method::Put,
        "/storage/extra",
        &[("delete", "nodes,disable")],
    )
    .unwrap();
    let cfg = get(&mut sim, "/storage/extra", &[]);
    assert!(cfg.get("nodes").is_none() && cfg.get("disable").is_none());
    assert_eq!(
        req(&mut sim, Method::Delete, "/storage/extra", &[]).unwrap(),
        Value::Null
    );
    assert_err(
        req(&mut sim, Method::Get, "/storage/extra", &[]),
        500,
        "does not exist",
    );
    // An NFS storage is shared without saying so.
    req(
        &mut sim,
        Method::Post,
        "/storage",
        &[
            ("storage", "nas"),
            ("type", "nfs"),
            ("server", "10.0.0.9"),
            ("export", "/tank"),
        ],
    )
    .unwrap();
    let nas = get(&mut sim, "/storage/nas", &[]);
    assert_eq!(nas["shared"], 1);
    assert_eq!(nas["content"], "images");
}

#[test]
fn node_storage_status_and_filters() {
    let mut sim = demo_sim();
    let list = get(&mut sim, "/nodes/pve01/storage", &[]);
    assert_eq!(ids(&list, "storage"), ["local", "local-lvm", "nfs-backup"]);
    let lvm = &list[1];
    let used: u64 = sim
        .cluster
        .volumes
        .iter()
        .filter(|v| v.storage == "local-lvm" && v.node == "pve01")
        .map(|v| v.size)
        .sum();
    assert_eq!(lvm["used"].as_u64().unwrap(), used);
    assert_eq!(
        lvm["total"].as_u64().unwrap(),
        lvm["used"].as_u64().unwrap() + lvm["avail"].as_u64().unwrap()
    );
    let frac = lvm["used_fraction"].as_f64().unwrap();
    assert!(frac > 0.0 && frac < 1.0);
    assert_eq!(lvm["enabled"], 1);
    assert_eq!(lvm["active"], 1);
    assert_eq!(lvm["shared"], 0);
    assert_eq!(list[2]["shared"], 1);
    let rows: &[FilterRow] = &[
        (&[("content", "iso")], &["local", "nfs-backup"]),
        (&[("content", "images,rootdir")], &["local-lvm"]),
        (&[("content", "vztmpl")], &["local"]),
        (&[("storage", "local-lvm")], &["local-lvm"]),
        (&[("target", "pve02")], &["nfs-backup"]),
        (
            &[("target", "pve01")],
            &["local", "local-lvm", "nfs-backup"],
        ),
        (&[("enabled", "1")], &["local", "local-lvm", "nfs-backup"]),
    ];
    for (params, want) in rows {
        assert_eq!(
            ids(&get(&mut sim, "/nodes/pve01/storage", params), "storage"),
            *want,
            "{params:?}"
        );
    }
    let with_formats = get(
        &mut sim,
        "/nodes/pve01/storage",
        &[("format", "1"), ("storage", "local-lvm")],
    );
    assert_eq!(with_formats[0]["formats"]["default"], "raw");
    let st = get(&mut sim, "/nodes/pve01/storage/local-lvm/status", &[]);
    assert_eq!(st["used"].as_u64().unwrap(), used);
    assert_eq!(st["type"], "lvmthin");
    assert!(st.get("storage").is_none());
    // Shared storage shows the same use everywhere; local storages differ per node.
    let a = get(&mut sim, "/nodes/pve01/storage/nfs-backup/status", &[]);
    let b = get(&mut sim, "/nodes/pve03/storage/nfs-backup/status", &[]);
    assert_eq!(a["used"], b["used"]);
    let l1 = get(&mut sim, "/nodes/pve01/storage/local-lvm/status", &[]);
    let l2 = get(&mut sim, "/nodes/pve02/storage/local-lvm/status", &[]);
    assert_ne!(l1["used"], l2["used"]);
    let idx = get(&mut sim, "/nodes/pve01/storage/local", &[]);
    assert!(ids(&idx, "subdir").contains(&"content".to_string()));
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
    let seen = req_as(
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
    let disks = req_as(
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
    let volid = req(
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
    req(
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
        req(
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
    req(
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
    let upid = req(
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
    let upid = req(
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
        req(
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
    req(
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
    let r = req(
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
        req_as(
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
        req_as(
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
    let upid = req_as(
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
    let upid = req(
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
        req_as(
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
