//! Tests of VM and container migration through the dispatcher.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::json;

use crate::route::{Method, Role};
use crate::seed::ClusterBuilder;
use crate::state::PowerState;
use crate::testkit::{T0, assert_err, call, call_as, demo_sim, finish, g, get, sim_over, who};

const GIB: u64 = 1 << 30;

/// A failing call on the demo: method, path, params, status, message part.
type Case = (
    Method,
    &'static str,
    &'static [(&'static str, &'static str)],
    u16,
    &'static str,
);

fn check(cases: &[Case]) {
    for (m, path, params, status, msg) in cases {
        let mut sim = demo_sim();
        assert_err(call(&mut sim, *m, path, params), *status, msg);
    }
}

fn used(sim: &mut crate::Sim, node: &str) -> u64 {
    get(sim, &format!("/nodes/{node}/storage/local-lvm/status"), &[])["used"]
        .as_u64()
        .unwrap()
}

#[test]
fn migrate_failures() {
    check(&[
        (
            Method::Post,
            "/nodes/pve01/qemu/103/migrate",
            &[("target", "pve01")],
            400,
            "target: target is local node.",
        ),
        (
            Method::Post,
            "/nodes/pve01/qemu/103/migrate",
            &[("target", "pve09")],
            500,
            "no such cluster node 'pve09'",
        ),
        (
            Method::Post,
            "/nodes/pve01/qemu/103/migrate",
            &[],
            400,
            "target: property is missing",
        ),
        (
            Method::Post,
            "/nodes/pve01/qemu/100/migrate",
            &[("target", "pve02")],
            500,
            "can't migrate running VM without --online",
        ),
        (
            Method::Post,
            "/nodes/pve02/qemu/105/migrate",
            &[("target", "pve01"), ("online", "1")],
            500,
            "VM is locked (backup)",
        ),
        (
            Method::Post,
            "/nodes/pve02/qemu/103/migrate",
            &[("target", "pve01")],
            500,
            "Configuration file 'nodes/pve02/qemu-server/103.conf' does not exist",
        ),
        (
            Method::Post,
            "/nodes/pve01/qemu/200/migrate",
            &[("target", "pve02")],
            500,
            "qemu-server/200.conf' does not exist",
        ),
        (
            Method::Post,
            "/nodes/pve01/lxc/200/migrate",
            &[("target", "pve02")],
            500,
            "can't migrate running container without --online or --restart",
        ),
        (
            Method::Post,
            "/nodes/pve01/qemu/103/migrate",
            &[("target", "pve02"), ("targetstorage", "nfs-backup")],
            500,
            "storage 'nfs-backup' does not support vm images",
        ),
        (
            Method::Get,
            "/nodes/pve01/qemu/999/migrate",
            &[],
            500,
            "does not exist",
        ),
    ]);
}

#[test]
fn preconditions() {
    let mut sim = demo_sim();
    let pre = get(&mut sim, "/nodes/pve01/qemu/100/migrate", &[]);
    assert_eq!(pre["running"], 1);
    assert_eq!(pre["allowed_nodes"], json!(["pve02", "pve03"]));
    assert_eq!(pre["not_allowed_nodes"], json!({}));
    assert_eq!(
        pre["local_disks"],
        json!([{ "volid": "local-lvm:vm-100-disk-0", "size": 32 * GIB, "cdrom": 0, "is_unused": 0 }])
    );
    assert_eq!(pre["local_resources"], json!([]));
    let only3 = get(
        &mut sim,
        "/nodes/pve01/qemu/103/migrate",
        &[("target", "pve03")],
    );
    assert_eq!(only3["running"], 0);
    assert_eq!(only3["allowed_nodes"], json!(["pve03"]));
    // local-lvm not defined on pve03: pve03 is not allowed, and a migration there is refused.
    call(
        &mut sim,
        Method::Put,
        "/storage/local-lvm",
        &[("nodes", "pve01,pve02")],
    )
    .unwrap();
    let pre = get(&mut sim, "/nodes/pve01/qemu/103/migrate", &[]);
    assert_eq!(pre["allowed_nodes"], json!(["pve02"]));
    assert_eq!(
        pre["not_allowed_nodes"],
        json!({ "pve03": { "unavailable_storages": ["local-lvm"] } })
    );
    assert_err(
        call(
            &mut sim,
            Method::Post,
            "/nodes/pve01/qemu/103/migrate",
            &[("target", "pve03")],
        ),
        500,
        "storage 'local-lvm' is not available on node 'pve03'",
    );
    let nobody = who("ops@pve", Role::Vms(vec![101]));
    assert_err(
        call_as(
            &mut sim,
            &nobody,
            Method::Get,
            "/nodes/pve01/qemu/103/migrate",
            &[],
        ),
        403,
        "VM.Migrate",
    );
}

#[test]
fn offline_vm_migration_moves_guest_and_disks() {
    let mut sim = demo_sim();
    let (u1, u2) = (used(&mut sim, "pve01"), used(&mut sim, "pve02"));
    let upid = call(
        &mut sim,
        Method::Post,
        "/nodes/pve01/qemu/103/migrate",
        &[("target", "pve02")],
    )
    .unwrap();
    assert!(
        upid.as_str().unwrap().contains(":qmigrate:103:root@pam:"),
        "{upid}"
    );
    assert_eq!(g(&sim, 103).lock().as_deref(), Some("migrate"));
    assert_eq!(g(&sim, 103).node, "pve01", "moves only when the task ends");
    assert_err(
        call(
            &mut sim,
            Method::Post,
            "/nodes/pve01/qemu/103/migrate",
            &[("target", "pve03")],
        ),
        500,
        "VM is locked (migrate)",
    );
    assert_eq!(finish(&mut sim, &upid), "OK");
    assert_eq!(g(&sim, 103).node, "pve02");
    assert_eq!(g(&sim, 103).lock(), None);
    assert_eq!(used(&mut sim, "pve01"), u1 - 32 * GIB);
    assert_eq!(used(&mut sim, "pve02"), u2 + 32 * GIB);
    let res = get(&mut sim, "/cluster/resources", &[("type", "vm")]);
    let e = res
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == "qemu/103")
        .unwrap();
    assert_eq!(e["node"], "pve02");
    let log = &sim.tasks.by_upid[upid.as_str().unwrap()].log;
    assert!(
        log.iter()
            .any(|l| l.starts_with("migration finished successfully")),
        "{log:?}"
    );
}

#[test]
fn online_vm_migration_needs_local_disk_option() {
    let mut sim = demo_sim();
    let upid = call(
        &mut sim,
        Method::Post,
        "/nodes/pve01/qemu/100/migrate",
        &[("target", "pve03"), ("online", "1")],
    )
    .unwrap();
    let status = finish(&mut sim, &upid);
    assert!(
        status.contains("can't live migrate attached local disks without with-local-disks option"),
        "{status}"
    );
    assert_eq!(g(&sim, 100).node, "pve01");
    assert_eq!(g(&sim, 100).lock(), None);
    let upid = call(
        &mut sim,
        Method::Post,
        "/nodes/pve01/qemu/100/migrate",
        &[
            ("target", "pve03"),
            ("online", "1"),
            ("with-local-disks", "1"),
        ],
    )
    .unwrap();
    assert_eq!(finish(&mut sim, &upid), "OK");
    assert_eq!(g(&sim, 100).node, "pve03");
    assert_eq!(g(&sim, 100).status, PowerState::Running);
    // HA-managed VMs go through the HA stack.
    let upid = call(
        &mut sim,
        Method::Post,
        "/nodes/pve01/qemu/102/migrate",
        &[
            ("target", "pve02"),
            ("online", "1"),
            ("with-local-disks", "1"),
        ],
    )
    .unwrap();
    assert!(upid.as_str().unwrap().contains(":hamigrate:102:"));
    assert_eq!(finish(&mut sim, &upid), "OK");
    assert_eq!(g(&sim, 102).node, "pve02");
}

#[test]
fn migration_to_offline_node_or_full_storage_fails() {
    let mut sim = sim_over(
        ClusterBuilder::new()
            .nodes(3)
            .vms(3)
            .running_fraction(0.0)
            .node_offline("pve03")
            .epoch(T0)
            .build(),
    );
    let upid = call(
        &mut sim,
        Method::Post,
        "/nodes/pve01/qemu/100/migrate",
        &[("target", "pve03")],
    )
    .unwrap();
    let status = finish(&mut sim, &upid);
    assert!(
        status.starts_with("migration aborted (duration 00:00:"),
        "{status}"
    );
    assert!(
        status.contains("Can't connect to destination address"),
        "{status}"
    );
    assert_eq!(g(&sim, 100).node, "pve01");
    let mut sim = sim_over(
        ClusterBuilder::new()
            .nodes(2)
            .vms(4)
            .storage_total("local-lvm", 100 * GIB)
            .epoch(T0)
            .build(),
    );
    // pve02 holds VMs 101 and 103 (48 GiB); VM 100's 16 GiB and 102's 64 GiB cannot both fit.
    let upid = call(
        &mut sim,
        Method::Post,
        "/nodes/pve01/qemu/102/migrate",
        &[
            ("target", "pve02"),
            ("online", "1"),
            ("with-local-disks", "1"),
        ],
    )
    .unwrap();
    let status = finish(&mut sim, &upid);
    assert!(status.contains("insufficient free space"), "{status}");
    assert_eq!(g(&sim, 102).node, "pve01");
}

#[test]
fn target_storage_mapping() {
    let mut sim = demo_sim();
    call(
        &mut sim,
        Method::Post,
        "/storage",
        &[
            ("storage", "fast"),
            ("type", "lvmthin"),
            ("vgname", "nvme"),
            ("thinpool", "data"),
        ],
    )
    .unwrap();
    let upid = call(
        &mut sim,
        Method::Post,
        "/nodes/pve01/qemu/103/migrate",
        &[("target", "pve02"), ("targetstorage", "fast")],
    )
    .unwrap();
    assert_eq!(finish(&mut sim, &upid), "OK");
    assert_eq!(
        g(&sim, 103).config["scsi0"],
        "fast:vm-103-disk-0,iothread=1,size=32G"
    );
    let content = get(&mut sim, "/nodes/pve02/storage/fast/content", &[]);
    assert_eq!(content[0]["volid"], "fast:vm-103-disk-0");
}

#[test]
fn container_migration() {
    let mut sim = demo_sim();
    let upid = call(
        &mut sim,
        Method::Post,
        "/nodes/pve01/lxc/200/migrate",
        &[("target", "pve02"), ("online", "1")],
    )
    .unwrap();
    assert_eq!(
        finish(&mut sim, &upid),
        "lxc live migration is currently not implemented"
    );
    assert_eq!(g(&sim, 200).node, "pve01");
    let upid = call(
        &mut sim,
        Method::Post,
        "/nodes/pve01/lxc/200/migrate",
        &[("target", "pve02"), ("restart", "1")],
    )
    .unwrap();
    assert!(upid.as_str().unwrap().contains(":vzmigrate:200:"));
    assert_eq!(finish(&mut sim, &upid), "OK");
    let ct = g(&sim, 200);
    assert_eq!(ct.node, "pve02");
    assert_eq!(ct.status, PowerState::Running);
    assert!(
        sim.cluster
            .volumes
            .iter()
            .any(|v| v.volid == "local-lvm:subvol-200-disk-0" && v.node == "pve02")
    );
    let list = get(&mut sim, "/nodes/pve02/lxc", &[]);
    assert!(list.as_array().unwrap().iter().any(|e| e["vmid"] == 200));
    let upid = call(
        &mut sim,
        Method::Post,
        "/nodes/pve01/lxc/205/migrate",
        &[("target", "pve03")],
    )
    .unwrap();
    assert_eq!(finish(&mut sim, &upid), "OK");
    assert_eq!(g(&sim, 205).node, "pve03");
    assert_eq!(g(&sim, 205).status, PowerState::Stopped);
}

#[test]
fn container_preconditions() {
    let mut sim = demo_sim();
    let pre = get(&mut sim, "/nodes/pve01/lxc/205/migrate", &[]);
    assert_eq!(
        pre,
        json!({
            "running": 0,
            "allowed-nodes": ["pve02", "pve03"],
            "not-allowed-nodes": {},
            "dependent-ha-resources": [],
        })
    );
    let pre = get(
        &mut sim,
        "/nodes/pve01/lxc/200/migrate",
        &[("target", "pve02")],
    );
    assert_eq!(pre["running"], 1);
    assert_eq!(pre["allowed-nodes"], json!(["pve02"]));
    // An offline node is no candidate.
    sim.cluster.nodes.get_mut("pve03").unwrap().online = false;
    let pre = get(&mut sim, "/nodes/pve01/lxc/205/migrate", &[]);
    assert_eq!(pre["allowed-nodes"], json!(["pve02"]));
    check(&[
        (
            Method::Get,
            "/nodes/pve01/lxc/103/migrate",
            &[],
            500,
            "Configuration file 'nodes/pve01/lxc/103.conf' does not exist",
        ),
        (
            Method::Get,
            "/nodes/pve02/lxc/205/migrate",
            &[],
            500,
            "does not exist",
        ),
        (
            Method::Get,
            "/nodes/pve01/lxc/205/migrate",
            &[("target", "no_such!")],
            400,
            "target: ",
        ),
    ]);
    let nobody = who("ops@pve", Role::Vms(vec![101]));
    assert_err(
        call_as(
            &mut sim,
            &nobody,
            Method::Get,
            "/nodes/pve01/lxc/205/migrate",
            &[],
        ),
        403,
        "VM.Migrate",
    );
}
