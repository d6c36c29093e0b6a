//! The demo cluster and a builder for clusters of any shape (up to 50 nodes, 10,000 guests).
//!
//! [`demo`] is what the MCP server's demo mode and most tests run against: three nodes, a dozen
//! VMs (VM 103 stopped on pve01, templates 9000 and 9001, VM 105 locked by a backup, VM 102
//! protected, VM 106 with the agent enabled but not running), six containers (CT 205 stopped),
//! `local`, `local-lvm` and a shared `nfs-backup` with ISOs, templates and backups.
//! [`ClusterBuilder`] makes other shapes; [`minimal`] a tiny one-node cluster.

mod builder;
mod datacenter;
pub(crate) mod parts;

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::json;

pub use builder::ClusterBuilder;
pub use parts::{KERNEL_RELEASE, KERNEL_VERSION, PVE_VERSION, backup_stamp};

use crate::state::{AgentState, Cluster, GuestKind, SimTime};
use parts::{GuestSpec, PROFILES};

/// The demo cluster's name.
pub const DEMO_CLUSTER: &str = "demo-cluster";

/// The current wall time, the epoch seeds are built around (guest uptimes, volume ctimes).
pub fn wall_now() -> SimTime {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(1.8e9)
}

/// The seeded demo cluster, built around the current wall time.
pub fn demo() -> Cluster {
    demo_at(wall_now())
}

/// The demo cluster built around `epoch` (guest uptimes and volume times are relative to it).
pub fn demo_at(epoch: SimTime) -> Cluster {
    let mut c = Cluster {
        name: Some(DEMO_CLUSTER.to_string()),
        config_version: 3,
        ..Cluster::default()
    };
    for (i, name) in ["pve01", "pve02", "pve03"].iter().enumerate() {
        let id = i as u32 + 1;
        c.nodes.insert(
            (*name).to_string(),
            parts::make_node(name, id, PROFILES[i], epoch, true),
        );
    }
    for s in parts::default_storages(100_861_726_720, 1_919_850_381_312, 8 * (1 << 40)) {
        c.storages.insert(s.id.clone(), s);
    }
    for node in ["pve01", "pve02", "pve03"] {
        c.volumes.extend(parts::library_volumes(node, epoch));
    }
    for spec in demo_vms() {
        add(&mut c, GuestKind::Qemu, &spec, epoch);
    }
    for spec in demo_cts() {
        add(&mut c, GuestKind::Lxc, &spec, epoch);
    }
    demo_backups(&mut c, epoch);
    datacenter::demo(&mut c);
    c
}

/// A tiny one-node cluster (`mini`): VM 100 running with the agent, VM 101 stopped, CT 200
/// running, `local` and `local-lvm` with an ISO and a container template.
pub fn minimal() -> Cluster {
    ClusterBuilder::new()
        .name("mini")
        .nodes(1)
        .vms(2)
        .cts(1)
        .first_ct_vmid(200)
        .running_fraction(0.5)
        .ct_running_fraction(1.0)
        .build()
}

impl Cluster {
    /// See [`minimal`].
    pub fn minimal() -> Cluster {
        minimal()
    }

    /// See [`demo`].
    pub fn demo() -> Cluster {
        demo()
    }
}

fn add(c: &mut Cluster, kind: GuestKind, spec: &GuestSpec, epoch: SimTime) {
    let (g, vols) = match kind {
        GuestKind::Qemu => parts::qemu(spec, epoch),
        GuestKind::Lxc => parts::lxc(spec, epoch),
    };
    c.guests.insert(g.vmid, g);
    c.volumes.extend(vols);
}

#[allow(clippy::too_many_arguments)]
fn vm(
    vmid: u32,
    node: &str,
    name: &str,
    cores: u64,
    mem_mib: u64,
    disk_gib: u64,
    running: bool,
    tags: &str,
) -> GuestSpec {
    let mut s = GuestSpec::new(vmid, node, name);
    s.cores = cores;
    s.memory_mib = mem_mib;
    s.disk_gib = disk_gib;
    s.running = running;
    s.onboot = running;
    s.tags = Some(tags.to_string());
    s
}

fn demo_vms() -> Vec<GuestSpec> {
    let mut v = Vec::new();
    let mut web1 = vm(100, "pve01", "web-01", 4, 4096, 32, true, "prod;web");
    web1.pool = Some("production".into());
    web1.base_cpu = 0.12;
    web1.extra.push((
        "description".into(),
        json!("Frontend web server (nginx + php-fpm)"),
    ));
    v.push(web1);
    let mut web2 = vm(101, "pve01", "web-02", 4, 4096, 32, true, "prod;web");
    web2.pool = Some("production".into());
    web2.base_cpu = 0.09;
    v.push(web2);
    let mut db1 = vm(102, "pve01", "db-01", 8, 16384, 64, true, "prod;db");
    db1.protection = true;
    db1.pool = Some("production".into());
    db1.hastate = Some("started".into());
    db1.base_cpu = 0.22;
    db1.mem_fraction = 0.86;
    db1.extra_disks.push(("scsi1".into(), 200));
    db1.extra
        .push(("description".into(), json!("PostgreSQL 16 primary")));
    v.push(db1);
    let mut dev = vm(103, "pve01", "dev-01", 2, 4096, 32, false, "dev");
    dev.extra
        .push(("description".into(), json!("Developer sandbox")));
    v.push(dev);
    let mut db2 = vm(104, "pve02", "db-02", 8, 32768, 100, true, "prod;db");
    db2.pool = Some("production".into());
    db2.hastate = Some("started".into());
    db2.base_cpu = 0.18;
    db2.mem_fraction = 0.82;
    v.push(db2);
    let mut app = vm(105, "pve02", "app-01", 4, 8192, 50, true, "prod;app");
    app.lock = Some("backup".into());
    app.pool = Some("production".into());
    v.push(app);
    let mut mon = vm(
        106,
        "pve02",
        "monitoring-01",
        2,
        4096,
        40,
        true,
        "infra;monitoring",
    );
    mon.agent = AgentState::Missing;
    v.push(mon);
    let mut win = vm(
        107,
        "pve02",
        "win-build-01",
        4,
        8192,
        80,
        true,
        "ci;windows",
    );
    win.ostype = "win11".into();
    win.extra_disks.push(("efidisk0".into(), 0));
    win.extra_disks.push(("tpmstate0".into(), 0));
    win.extra.push(("bios".into(), json!("ovmf")));
    win.extra.push(("machine".into(), json!("pc-q35-9.2+pve1")));
    win.extra.push(("cpu".into(), json!("host")));
    win.extra.push(("scsihw".into(), json!("virtio-scsi-pci")));
    v.push(win);
    v.push(vm(
        108,
        "pve03",
        "gitlab-01",
        4,
        8192,
        100,
        true,
        "infra;git",
    ));
    let mut k8s = vm(109, "pve03", "k8s-node-01", 4, 8192, 60, true, "k8s");
    k8s.agent = AgentState::NoExec;
    v.push(k8s);
    let mut erp = vm(110, "pve03", "legacy-erp", 2, 4096, 40, false, "legacy");
    erp.agent_enabled = false;
    erp.agent = AgentState::Missing;
    v.push(erp);
    let mut t1 = vm(
        9000,
        "pve01",
        "ubuntu-24.04-template",
        2,
        2048,
        20,
        false,
        "template",
    );
    t1.template = true;
    t1.extra.push((
        "description".into(),
        json!("Ubuntu 24.04 LTS cloud image, qemu-guest-agent installed"),
    ));
    v.push(t1);
    let mut t2 = vm(
        9001,
        "pve03",
        "debian-12-template",
        2,
        2048,
        16,
        false,
        "template",
    );
    t2.template = true;
    v.push(t2);
    v
}

#[allow(clippy::too_many_arguments)]
fn ct(
    vmid: u32,
    node: &str,
    name: &str,
    cores: u64,
    mem_mib: u64,
    disk_gib: u64,
    running: bool,
    tags: &str,
) -> GuestSpec {
    let mut s = vm(vmid, node, name, cores, mem_mib, disk_gib, running, tags);
    s.ostype = "debian".into();
    s.agent_enabled = false;
    s.agent = AgentState::Missing;
    s
}

fn demo_cts() -> Vec<GuestSpec> {
    let mut v = vec![
        ct(200, "pve01", "dns-01", 1, 512, 8, true, "infra;dns"),
        ct(201, "pve02", "nginx-proxy", 2, 1024, 8, true, "prod;web"),
        ct(202, "pve02", "redis-01", 2, 2048, 8, true, "prod;cache"),
        ct(
            203,
            "pve03",
            "grafana",
            2,
            2048,
            16,
            true,
            "infra;monitoring",
        ),
        ct(204, "pve03", "ci-runner-01", 4, 4096, 32, true, "ci"),
        ct(205, "pve01", "test-ct", 1, 512, 8, false, "dev"),
    ];
    v[1].pool = Some("production".into());
    v[2].pool = Some("production".into());
    v[3].ostype = "ubuntu".into();
    v
}

fn demo_backups(c: &mut Cluster, epoch: SimTime) {
    let day = 86_400;
    // Last nights at 02:00 UTC.
    let midnight = (epoch as i64).div_euclid(day) * day;
    let night = |ago: i64, offset: i64| midnight - ago * day + 2 * 3600 + offset;
    let list = [
        (GuestKind::Qemu, 100, 1, 17, 3_914_268_112_u64),
        (GuestKind::Qemu, 100, 8, 21, 3_871_002_945),
        (GuestKind::Qemu, 102, 1, 305, 21_474_836_480),
        (GuestKind::Qemu, 104, 1, 613, 29_528_434_688),
        (GuestKind::Lxc, 200, 1, 944, 412_316_860),
        (GuestKind::Lxc, 202, 2, 951, 733_913_088),
    ];
    for (i, (kind, vmid, ago, off, size)) in list.into_iter().enumerate() {
        let mut v = parts::backup_volume("nfs-backup", "pve01", kind, vmid, night(ago, off), size);
        if i == 1 {
            v.notes = Some("before upgrade to Ubuntu 24.04".into());
            v.protected = true;
        } else {
            v.notes = c.guests.get(&vmid).map(|g| g.name());
        }
        c.volumes.push(v);
    }
    c.volumes.push(crate::state::Volume {
        volid: "nfs-backup:iso/virtio-win-0.1.266.iso".into(),
        storage: "nfs-backup".into(),
        node: "pve01".into(),
        content: "iso".into(),
        format: "iso".into(),
        size: 740_161_536,
        ctime: midnight - 40 * day,
        vmid: None,
        notes: None,
        protected: false,
    });
}

#[cfg(test)]
mod tests;
