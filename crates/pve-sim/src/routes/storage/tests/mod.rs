//! Tests of the storage configuration and node storage status routes (content: see
//! `content.rs`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::Value;

mod content;

use crate::route::{Method, Role};
use crate::testkit::{assert_err, call, call_as, demo_sim, get, who};

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
    assert_err(call(&mut sim, method, path, params), status, msg);
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
            "size: value does not match the regex pattern",
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
        call_as(&mut sim, &auditor, Method::Get, "/storage", &[])
            .unwrap()
            .as_array()
            .unwrap()
            .len(),
        3
    );
    assert_err(
        call_as(&mut sim, &auditor, Method::Get, "/storage/local", &[]),
        403,
        "/storage/local, Datastore.Allocate",
    );
    assert_err(
        call_as(
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
        call_as(&mut sim, &auditor, Method::Delete, "/storage/local", &[]),
        403,
        "Datastore.Allocate",
    );
    let nobody = who("nobody@pve", Role::None);
    assert_eq!(
        call_as(&mut sim, &nobody, Method::Get, "/storage", &[]).unwrap(),
        Value::Array(vec![])
    );
}

#[test]
fn storage_create_update_delete() {
    let mut sim = demo_sim();
    let before = get(&mut sim, "/storage", &[])[0]["digest"].clone();
    let r = call(
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
    call(
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
        call(
            &mut sim,
            Method::Get,
            "/nodes/pve02/storage/extra/status",
            &[],
        ),
        400,
        "storage: No such storage.",
    );
    call(&mut sim, Method::Put, "/storage/extra", &[("disable", "1")]).unwrap();
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
    call(
        &mut sim,
        Method::Put,
        "/storage/extra",
        &[("delete", "nodes,disable")],
    )
    .unwrap();
    let cfg = get(&mut sim, "/storage/extra", &[]);
    assert!(cfg.get("nodes").is_none() && cfg.get("disable").is_none());
    assert_eq!(
        call(&mut sim, Method::Delete, "/storage/extra", &[]).unwrap(),
        Value::Null
    );
    assert_err(
        call(&mut sim, Method::Get, "/storage/extra", &[]),
        500,
        "does not exist",
    );
    // An NFS storage is shared without saying so.
    call(
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
