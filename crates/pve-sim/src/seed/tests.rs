//! Tests of the demo cluster's promises and of the builder's shapes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;

use super::*;
use crate::state::{PowerState, config_bool, is_disk_key};

const EPOCH: f64 = 1_790_000_000.0;

/// One demo promise: a guest's kind, node, state and a predicate on it.
fn check(
    vmid: u32,
    kind: GuestKind,
    node: &str,
    running: bool,
    what: &str,
    ok: fn(&crate::state::Guest) -> bool,
) {
    let c = demo_at(EPOCH);
    let g = c
        .guests
        .get(&vmid)
        .unwrap_or_else(|| panic!("guest {vmid} missing"));
    assert_eq!(g.kind, kind, "{vmid} kind");
    assert_eq!(g.node, node, "{vmid} node");
    assert_eq!(g.status == PowerState::Running, running, "{vmid} running");
    assert!(ok(g), "{vmid}: {what}");
}

#[test]
fn demo_keeps_its_promises() {
    check(
        103,
        GuestKind::Qemu,
        "pve01",
        false,
        "VM 103 stopped on pve01",
        |g| g.name() == "dev-01",
    );
    check(
        9000,
        GuestKind::Qemu,
        "pve01",
        false,
        "template 9000",
        |g| g.is_template() && g.name() == "ubuntu-24.04-template",
    );
    check(
        9001,
        GuestKind::Qemu,
        "pve03",
        false,
        "template 9001",
        |g| g.is_template() && g.name() == "debian-12-template",
    );
    check(
        105,
        GuestKind::Qemu,
        "pve02",
        true,
        "locked by backup",
        |g| g.lock().as_deref() == Some("backup"),
    );
    check(102, GuestKind::Qemu, "pve01", true, "protected", |g| {
        config_bool(&g.config, "protection")
    });
    check(
        106,
        GuestKind::Qemu,
        "pve02",
        true,
        "agent enabled, not running",
        |g| g.agent_enabled() && g.agent == AgentState::Missing,
    );
    check(
        100,
        GuestKind::Qemu,
        "pve01",
        true,
        "web-01 with agent and tags",
        |g| g.agent_enabled() && g.agent == AgentState::Running && g.config["tags"] == "prod;web",
    );
    check(
        205,
        GuestKind::Lxc,
        "pve01",
        false,
        "stopped container",
        |g| g.name() == "test-ct",
    );
    check(
        200,
        GuestKind::Lxc,
        "pve01",
        true,
        "container config",
        |g| {
            g.config["rootfs"] == "local-lvm:subvol-200-disk-0,size=8G"
                && g.config["unprivileged"] == 1
                && g.config["features"] == "nesting=1"
                && g.config["memory"] == 512
                && g.config["net0"]
                    .as_str()
                    .unwrap()
                    .starts_with("name=eth0,bridge=vmbr0,")
        },
    );
    check(
        101,
        GuestKind::Qemu,
        "pve01",
        true,
        "QEMU config as PVE stores it",
        |g| {
            g.config["memory"] == "4096"
                && g.config["cpu"] == "x86-64-v2-AES"
                && g.config["scsi0"] == "local-lvm:vm-101-disk-0,iothread=1,size=32G"
                && g.config["agent"] == "1"
                && g.config["boot"] == "order=scsi0;ide2;net0"
                && g.config["net0"]
                    .as_str()
                    .unwrap()
                    .starts_with("virtio=BC:24:11:")
                && g.config["smbios1"].as_str().unwrap().starts_with("uuid=")
        },
    );
}

#[test]
fn demo_shape() {
    let c = demo_at(EPOCH);
    assert_eq!(c.name.as_deref(), Some("demo-cluster"));
    assert_eq!(
        c.nodes.keys().cloned().collect::<Vec<_>>(),
        ["pve01", "pve02", "pve03"]
    );
    assert!(
        c.nodes
            .values()
            .all(|n| n.online && n.kversion.contains("6.14.8-2-pve"))
    );
    assert!(
        c.nodes
            .values()
            .all(|n| n.pveversion.starts_with("pve-manager/9.1."))
    );
    let vms = c
        .guests
        .values()
        .filter(|g| g.kind == GuestKind::Qemu)
        .count();
    let cts = c
        .guests
        .values()
        .filter(|g| g.kind == GuestKind::Lxc)
        .count();
    assert!((12..=14).contains(&vms), "{vms} VMs");
    assert_eq!(cts, 6);
    // Every guest disk has its volume, on the guest's node.
    for g in c.guests.values() {
        for (k, v) in g.config.iter().filter(|(k, _)| is_disk_key(g.kind, k)) {
            let spec = v.as_str().unwrap();
            if spec.contains("media=cdrom") {
                continue;
            }
            let volid = spec.split(',').next().unwrap();
            let vol = c
                .volumes
                .iter()
                .find(|v| v.volid == volid && v.node == g.node);
            assert!(vol.is_some(), "{} {k}: volume {volid} missing", g.vmid);
        }
    }
    let volids: BTreeSet<&str> = c.volumes.iter().map(|v| v.volid.as_str()).collect();
    for want in [
        "local:iso/ubuntu-24.04.1-live-server-amd64.iso",
        "local:iso/debian-12.8.0-amd64-netinst.iso",
        "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst",
    ] {
        assert!(volids.contains(want), "{want}");
    }
    let backups = c
        .volumes
        .iter()
        .filter(|v| v.content == "backup" && v.storage == "nfs-backup")
        .count();
    assert!(backups >= 4);
    assert!(
        c.volumes
            .iter()
            .any(|v| v.content == "backup" && v.protected)
    );
    assert!(c.storages["nfs-backup"].shared);
    // Guests fit in their node's memory.
    for n in c.nodes.values() {
        let sum: u64 = c
            .guests
            .values()
            .filter(|g| g.node == n.name)
            .map(|g| g.maxmem())
            .sum();
        assert!(sum < n.maxmem, "{} overcommitted", n.name);
    }
}

#[test]
fn builder_shapes() {
    let c = ClusterBuilder::new()
        .nodes(3)
        .vms(20)
        .cts(5)
        .epoch(EPOCH)
        .build();
    assert_eq!(c.nodes.len(), 3);
    assert_eq!(c.guests.len(), 25);
    let running = c
        .guests
        .values()
        .filter(|g| g.status == PowerState::Running)
        .count();
    assert!((15..=20).contains(&running), "{running}");
    let c = ClusterBuilder::new()
        .nodes(5)
        .vms(10)
        .node_offline("pve03")
        .running_fraction(1.0)
        .build();
    assert!(!c.nodes["pve03"].online);
    assert!(
        c.guests
            .values()
            .filter(|g| g.node == "pve03")
            .all(|g| g.status == PowerState::Stopped)
    );
    assert!(
        c.guests
            .values()
            .filter(|g| g.node != "pve03")
            .all(|g| g.status == PowerState::Running)
    );
    let c = ClusterBuilder::new()
        .standalone()
        .vms(2)
        .agent(false)
        .build();
    assert_eq!(c.name, None);
    assert_eq!(c.nodes.len(), 1);
    assert!(c.guests.values().all(|g| !g.agent_enabled()));
    let c = ClusterBuilder::new().vms(3).templates(2).build();
    assert!(c.guests[&9000].is_template() && c.guests[&9001].is_template());
    let m = minimal();
    assert_eq!(m.nodes.len(), 1);
    assert_eq!(m.guests[&100].status, PowerState::Running);
    assert_eq!(m.guests[&101].status, PowerState::Stopped);
    assert_eq!(m.guests[&200].kind, GuestKind::Lxc);
    assert_eq!(m.guests[&200].status, PowerState::Running);
}

#[test]
fn builder_makes_ten_thousand_guests() {
    let c = ClusterBuilder::new()
        .nodes(50)
        .vms(8_000)
        .cts(2_000)
        .templates(5)
        .build();
    assert_eq!(c.nodes.len(), 50);
    // The cap holds: templates do not push past 10,000.
    assert_eq!(c.guests.len(), 10_000);
    // Every node's local-lvm holds its guests' disks.
    let lvm = &c.storages["local-lvm"];
    for n in c.nodes.keys() {
        let used: u64 = c
            .volumes
            .iter()
            .filter(|v| v.storage == "local-lvm" && &v.node == n)
            .map(|v| v.size)
            .sum();
        assert!(used < lvm.total, "{n}: {used} >= {}", lvm.total);
    }
    // VMIDs unique and names valid DNS labels.
    assert!(c.guests.values().all(|g| {
        g.name()
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || ch == '-')
    }));
}

#[test]
fn builder_is_deterministic() {
    let a = ClusterBuilder::new().vms(30).cts(10).epoch(EPOCH).build();
    let b = ClusterBuilder::new().vms(30).cts(10).epoch(EPOCH).build();
    for (x, y) in a.guests.values().zip(b.guests.values()) {
        assert_eq!(x.config, y.config);
        assert_eq!(x.status, y.status);
    }
}
