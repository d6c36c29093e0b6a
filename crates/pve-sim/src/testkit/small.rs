//! A small hand-built cluster for the guest routes' tests (QEMU, power, agent, snapshots,
//! vzdump): two nodes, a few guests in every state that matters, five storages.

use std::collections::BTreeMap;

use serde_json::json;

use crate::Sim;
use crate::state::{AgentState, Cluster, Guest, GuestKind, Node, PowerState, Storage, Volume};

use super::T0;

const GIB: u64 = 1 << 30;

fn node(name: &str, id: u32) -> Node {
    Node {
        name: name.into(),
        online: true,
        ip: format!("192.0.2.{id}"),
        nodeid: id,
        cpu_model: "AMD EPYC 7302P 16-Core Processor".into(),
        sockets: 1,
        cores_per_socket: 16,
        maxcpu: 32,
        maxmem: 128 * GIB,
        maxswap: 8 * GIB,
        maxdisk: 100 * GIB,
        disk: 10 * GIB,
        base_mem: 4 * GIB,
        base_cpu: 0.02,
        boot_time: T0 - 86_400.0,
        kversion: "Linux 6.14.8-2-pve".into(),
        pveversion: "pve-manager/9.1.2/abcdef".into(),
        ssl_fingerprint: "00:11".into(),
    }
}

fn storage(id: &str, kind: &str, content: &[&str], shared: bool, total: u64) -> Storage {
    let mut extra = BTreeMap::new();
    if kind == "lvmthin" {
        extra.insert(
            "vgname".into(),
            json!(if id == "tiny" { "tiny" } else { "pve" }),
        );
        extra.insert("thinpool".into(), json!("data"));
    } else if kind == "dir" {
        extra.insert("path".into(), json!(format!("/srv/{id}")));
    }
    Storage {
        id: id.into(),
        kind: kind.into(),
        content: content.iter().map(|s| (*s).to_string()).collect(),
        shared,
        nodes: None,
        total,
        enabled: true,
        extra,
    }
}

fn volume(volid: &str, node: &str, content: &str, size: u64, vmid: Option<u32>) -> Volume {
    Volume {
        volid: volid.into(),
        storage: volid.split(':').next().unwrap().into(),
        node: node.into(),
        content: content.into(),
        format: "raw".into(),
        size,
        ctime: T0 as i64 - 86_400,
        vmid,
        notes: None,
        protected: false,
    }
}

/// A guest with a usual config; `agent` is (enabled in config, state inside).
pub(crate) fn guest(
    vmid: u32,
    kind: GuestKind,
    node: &str,
    running: bool,
    agent: (bool, AgentState),
) -> Guest {
    let mut config = BTreeMap::new();
    match kind {
        GuestKind::Qemu => {
            config.insert("name".into(), json!(format!("vm{vmid}")));
            config.insert("memory".into(), json!("2048"));
            config.insert("cores".into(), json!(2));
            config.insert("sockets".into(), json!(1));
            config.insert("ostype".into(), json!("l26"));
            config.insert("scsihw".into(), json!("virtio-scsi-single"));
            config.insert(
                "scsi0".into(),
                json!(format!("local-lvm:vm-{vmid}-disk-0,iothread=1,size=32G")),
            );
            config.insert("ide2".into(), json!("none,media=cdrom"));
            config.insert(
                "net0".into(),
                json!("virtio=BC:24:11:00:00:01,bridge=vmbr0,firewall=1"),
            );
            config.insert("boot".into(), json!("order=scsi0;ide2;net0"));
            if agent.0 {
                config.insert("agent".into(), json!("1"));
            }
        }
        GuestKind::Lxc => {
            config.insert("hostname".into(), json!(format!("ct{vmid}")));
            config.insert("memory".into(), json!(512));
            config.insert("swap".into(), json!(512));
            config.insert("cores".into(), json!(1));
            config.insert("ostype".into(), json!("debian"));
            config.insert(
                "rootfs".into(),
                json!(format!("local-lvm:vm-{vmid}-disk-0,size=8G")),
            );
            config.insert(
                "net0".into(),
                json!("name=eth0,bridge=vmbr0,hwaddr=BC:24:11:00:00:02,ip=dhcp,type=veth"),
            );
        }
    }
    Guest {
        vmid,
        kind,
        node: node.into(),
        status: if running {
            PowerState::Running
        } else {
            PowerState::Stopped
        },
        qmpstatus: if running { "running" } else { "stopped" }.into(),
        config,
        started_at: running.then_some(T0 - 3_600.0),
        agent: agent.1,
        snapshots: Vec::new(),
        parent_snapshot: None,
        base_cpu: 0.1,
        mem_fraction: 0.5,
        disk_fraction: 0.3,
        pid: if running { 4_000 + vmid } else { 0 },
        pool: None,
        hastate: None,
        cloudinit: None,
    }
}

/// Two nodes; VMs 100 (running, agent running), 101 (stopped, no agent), 102 (running, agent
/// enabled but not running), 103 (running, guest-exec disabled), 104 (stopped, locked by a
/// backup), 105 (stopped, protected), template 9000, CTs 200 (running) and 201 (stopped) on
/// pve1, VM 300 on pve2. Storages: `local` (dir: iso, vztmpl, backup), `local-lvm` (lvmthin),
/// `dirimg` (dir with images), `tiny` (10 GiB lvmthin), `nfs-backup` (shared, backup only).
pub(crate) fn cluster() -> Cluster {
    let mut c = Cluster {
        name: Some("testc".into()),
        config_version: 2,
        ..Cluster::default()
    };
    c.nodes.insert("pve1".into(), node("pve1", 1));
    c.nodes.insert("pve2".into(), node("pve2", 2));
    for s in [
        storage(
            "local",
            "dir",
            &["iso", "vztmpl", "backup"],
            false,
            100 * GIB,
        ),
        storage(
            "local-lvm",
            "lvmthin",
            &["images", "rootdir"],
            false,
            500 * GIB,
        ),
        storage("dirimg", "dir", &["images", "rootdir"], false, 100 * GIB),
        storage("tiny", "lvmthin", &["images", "rootdir"], false, 10 * GIB),
        storage("nfs-backup", "nfs", &["backup"], true, 1024 * GIB),
    ] {
        c.storages.insert(s.id.clone(), s);
    }
    let q = GuestKind::Qemu;
    let mut guests = vec![
        guest(100, q, "pve1", true, (true, AgentState::Running)),
        guest(101, q, "pve1", false, (false, AgentState::Missing)),
        guest(102, q, "pve1", true, (true, AgentState::Missing)),
        guest(103, q, "pve1", true, (true, AgentState::NoExec)),
        guest(104, q, "pve1", false, (true, AgentState::Running)),
        guest(105, q, "pve1", false, (true, AgentState::Running)),
        guest(9000, q, "pve1", false, (true, AgentState::Running)),
        guest(
            200,
            GuestKind::Lxc,
            "pve1",
            true,
            (false, AgentState::Missing),
        ),
        guest(
            201,
            GuestKind::Lxc,
            "pve1",
            false,
            (false, AgentState::Missing),
        ),
        guest(300, q, "pve2", false, (true, AgentState::Running)),
    ];
    for g in &mut guests {
        match g.vmid {
            100 => {
                g.config.insert("name".into(), json!("web01"));
            }
            104 => {
                g.config.insert("lock".into(), json!("backup"));
            }
            105 => {
                g.config.insert("protection".into(), json!(1));
            }
            9000 => {
                g.config.insert("template".into(), json!(1));
                g.config.insert(
                    "scsi0".into(),
                    json!("local-lvm:base-9000-disk-0,iothread=1,size=32G"),
                );
            }
            _ => {}
        }
    }
    for g in guests {
        let (key, size) = match g.kind {
            GuestKind::Qemu => ("scsi0", 32 * GIB),
            GuestKind::Lxc => ("rootfs", 8 * GIB),
        };
        let spec = g.config[key].as_str().unwrap();
        let volid = crate::guest::disk_volid(spec).unwrap().to_string();
        let content = if g.kind == GuestKind::Qemu {
            "images"
        } else {
            "rootdir"
        };
        c.volumes
            .push(volume(&volid, &g.node, content, size, Some(g.vmid)));
        c.guests.insert(g.vmid, g);
    }
    c.volumes.push(volume(
        "local:iso/debian-13.0.0-amd64-netinst.iso",
        "pve1",
        "iso",
        700 << 20,
        None,
    ));
    c
}

/// A simulator over [`cluster`] at [`T0`], realistic durations.
pub(crate) fn sim() -> Sim {
    let mut s = Sim::new(cluster());
    s.time_scale = 1.0;
    s.settle(T0);
    s
}
