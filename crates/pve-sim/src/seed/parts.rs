//! Factories the seeds share: nodes, QEMU and LXC guests with their configs as PVE stores them,
//! their disk volumes, the default storages and their ISO/template libraries.
//!
//! Everything is derived from small integers through a deterministic mixer, so two builds of the
//! same shape are identical and building 10,000 guests stays cheap (no hashing crates per guest).

use std::collections::BTreeMap;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::state::{
    AgentState, Guest, GuestKind, Node, PowerState, SimTime, Storage, Volume, format_size,
};

pub(crate) const GIB: u64 = 1 << 30;
pub(crate) const MIB: u64 = 1 << 20;

/// The PVE version string the seeded nodes report.
pub const PVE_VERSION: &str = "pve-manager/9.1.2/b9b5ba39e94f2e7c";
/// The kernel release the seeded nodes run.
pub const KERNEL_RELEASE: &str = "6.14.8-2-pve";
/// The full `uname -v` style kernel version.
pub const KERNEL_VERSION: &str = "#1 SMP PREEMPT_DYNAMIC PMX 6.14.8-2 (2025-08-22T13:07Z)";

/// A hardware profile for a node.
#[derive(Debug, Clone, Copy)]
pub(crate) struct NodeProfile {
    pub cpu_model: &'static str,
    pub sockets: u32,
    pub cores_per_socket: u32,
    pub threads: u32,
    pub mem_gib: u64,
}

/// Realistic hardware, cycled through by the builder.
pub(crate) const PROFILES: [NodeProfile; 3] = [
    NodeProfile {
        cpu_model: "AMD EPYC 7302P 16-Core Processor",
        sockets: 1,
        cores_per_socket: 16,
        threads: 32,
        mem_gib: 128,
    },
    NodeProfile {
        cpu_model: "Intel(R) Xeon(R) Gold 6226R CPU @ 2.90GHz",
        sockets: 2,
        cores_per_socket: 16,
        threads: 64,
        mem_gib: 256,
    },
    NodeProfile {
        cpu_model: "Intel(R) Xeon(R) E-2288G CPU @ 3.70GHz",
        sockets: 1,
        cores_per_socket: 8,
        threads: 16,
        mem_gib: 64,
    },
];

/// SplitMix64: a fast, good-enough deterministic mixer.
pub(crate) fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A deterministic fraction in `lo..hi` from a seed.
pub(crate) fn frac(seed: u64, lo: f64, hi: f64) -> f64 {
    lo + (mix(seed) % 10_000) as f64 / 10_000.0 * (hi - lo)
}

/// A MAC address in Proxmox's `BC:24:11` range, stable per (vmid, interface).
pub(crate) fn mac(vmid: u32, idx: u32) -> String {
    let h = mix(u64::from(vmid) << 8 | u64::from(idx));
    format!(
        "BC:24:11:{:02X}:{:02X}:{:02X}",
        (h >> 16) & 0xFF,
        (h >> 8) & 0xFF,
        h & 0xFF
    )
}

/// A version-4-shaped UUID, stable per (vmid, salt).
pub(crate) fn uuid(vmid: u32, salt: u64) -> String {
    let a = mix(u64::from(vmid) ^ salt.wrapping_mul(0x1000_0001));
    let b = mix(a);
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xFFFF,
        a & 0x0FFF,
        (b >> 48) & 0x3FFF | 0x8000,
        b & 0xFFFF_FFFF_FFFF
    )
}

/// The node certificate's SHA-256 fingerprint, as `AA:BB:...` (32 bytes).
pub(crate) fn fingerprint(name: &str) -> String {
    let digest = Sha256::digest(format!("pve-ssl.pem:{name}").as_bytes());
    digest
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// A node with a hardware profile, booted `boot_age` seconds before `epoch`.
pub(crate) fn make_node(
    name: &str,
    nodeid: u32,
    profile: NodeProfile,
    epoch: SimTime,
    online: bool,
) -> Node {
    let seed = u64::from(nodeid) * 7919;
    let boot_age = 86_400.0 * frac(seed, 9.0, 60.0);
    Node {
        name: name.to_string(),
        online,
        ip: format!("10.10.{}.{}", 10 + nodeid / 250, 10 + nodeid % 250),
        nodeid,
        cpu_model: profile.cpu_model.to_string(),
        sockets: profile.sockets,
        cores_per_socket: profile.cores_per_socket,
        maxcpu: profile.threads,
        maxmem: profile.mem_gib * GIB - 1_536 * MIB,
        maxswap: 8 * GIB,
        maxdisk: 96_636_764_160,
        disk: (frac(seed ^ 1, 9.0, 16.0) * GIB as f64) as u64,
        base_mem: (frac(seed ^ 2, 2.8, 4.5) * GIB as f64) as u64,
        base_cpu: frac(seed ^ 3, 0.005, 0.02),
        boot_time: (epoch - boot_age).floor(),
        kversion: format!("Linux {KERNEL_RELEASE} {KERNEL_VERSION}"),
        pveversion: PVE_VERSION.to_string(),
        ssl_fingerprint: fingerprint(name),
    }
}

/// What a seeded guest looks like; turned into a [`Guest`] and its volumes by [`qemu`]/[`lxc`].
#[derive(Debug, Clone)]
pub(crate) struct GuestSpec {
    pub vmid: u32,
    pub node: String,
    pub name: String,
    pub memory_mib: u64,
    pub cores: u64,
    pub disk_gib: u64,
    pub running: bool,
    /// QEMU: the agent is enabled in config.
    pub agent_enabled: bool,
    /// QEMU: what the guest agent inside does.
    pub agent: AgentState,
    pub tags: Option<String>,
    pub template: bool,
    /// `l26`, `win11` (QEMU) or `debian`, `ubuntu`, `alpine` (LXC).
    pub ostype: String,
    pub onboot: bool,
    pub protection: bool,
    pub lock: Option<String>,
    pub pool: Option<String>,
    pub hastate: Option<String>,
    /// Extra config keys (`description`, `scsi1`, ...), set last.
    pub extra: Vec<(String, Value)>,
    /// Extra disks as (config key, size GiB) on the images storage.
    pub extra_disks: Vec<(String, u64)>,
    pub base_cpu: f64,
    pub mem_fraction: f64,
    pub disk_fraction: f64,
    /// Seconds the guest has been up at `epoch` (when running).
    pub uptime: f64,
    /// The storage holding its disks (`local-lvm`).
    pub storage: String,
}

impl GuestSpec {
    /// A spec with believable defaults derived from the VMID.
    pub(crate) fn new(vmid: u32, node: &str, name: &str) -> Self {
        let seed = u64::from(vmid);
        Self {
            vmid,
            node: node.to_string(),
            name: name.to_string(),
            memory_mib: 2048,
            cores: 2,
            disk_gib: 32,
            running: false,
            agent_enabled: true,
            agent: AgentState::Running,
            tags: None,
            template: false,
            ostype: "l26".to_string(),
            onboot: false,
            protection: false,
            lock: None,
            pool: None,
            hastate: None,
            extra: Vec::new(),
            extra_disks: Vec::new(),
            base_cpu: frac(seed ^ 0xC0, 0.02, 0.25),
            mem_fraction: frac(seed ^ 0xE0, 0.35, 0.8),
            disk_fraction: frac(seed ^ 0xD0, 0.15, 0.6),
            uptime: 3_600.0 * frac(seed ^ 0xB0, 2.0, 400.0),
            storage: "local-lvm".to_string(),
        }
    }
}

fn finish_guest(
    spec: &GuestSpec,
    kind: GuestKind,
    config: BTreeMap<String, Value>,
    epoch: SimTime,
) -> Guest {
    let running = spec.running && !spec.template;
    Guest {
        vmid: spec.vmid,
        kind,
        node: spec.node.clone(),
        status: if running {
            PowerState::Running
        } else {
            PowerState::Stopped
        },
        qmpstatus: if running { "running" } else { "stopped" }.to_string(),
        config,
        started_at: running.then(|| (epoch - spec.uptime).floor()),
        agent: spec.agent,
        snapshots: Vec::new(),
        parent_snapshot: None,
        base_cpu: spec.base_cpu,
        mem_fraction: spec.mem_fraction,
        disk_fraction: spec.disk_fraction,
        pid: if running {
            1_000 + (mix(u64::from(spec.vmid)) % 3_000_000) as u32
        } else {
            0
        },
        pool: spec.pool.clone(),
        hastate: spec.hastate.clone(),
        cloudinit: None,
    }
}

fn common_flags(spec: &GuestSpec, c: &mut BTreeMap<String, Value>) {
    if spec.onboot {
        c.insert("onboot".into(), json!(1));
    }
    if spec.protection {
        c.insert("protection".into(), json!(1));
    }
    if spec.template {
        c.insert("template".into(), json!(1));
    }
    if let Some(t) = &spec.tags {
        c.insert("tags".into(), json!(t));
    }
    if let Some(l) = &spec.lock {
        c.insert("lock".into(), json!(l));
    }
}

/// A disk image volume of a guest.
pub(crate) fn disk_volume(
    storage: &str,
    node: &str,
    name: &str,
    vmid: u32,
    size: u64,
    content: &str,
    ctime: i64,
) -> Volume {
    Volume {
        volid: format!("{storage}:{name}"),
        storage: storage.to_string(),
        node: node.to_string(),
        content: content.to_string(),
        format: "raw".to_string(),
        size,
        ctime,
        vmid: Some(vmid),
        notes: None,
        protected: false,
    }
}

/// A QEMU VM with its config as PVE stores it, and its disk volumes.
pub(crate) fn qemu(spec: &GuestSpec, epoch: SimTime) -> (Guest, Vec<Volume>) {
    let vmid = spec.vmid;
    let ctime = (epoch as i64) - 86_400 * (30 + i64::from(vmid % 200));
    let prefix = if spec.template { "base" } else { "vm" };
    let st = &spec.storage;
    let mut c: BTreeMap<String, Value> = BTreeMap::new();
    let mut vols = Vec::with_capacity(1 + spec.extra_disks.len());
    c.insert("name".into(), json!(spec.name));
    c.insert("memory".into(), json!(spec.memory_mib.to_string()));
    c.insert("cores".into(), json!(spec.cores));
    c.insert("sockets".into(), json!(1));
    c.insert("cpu".into(), json!("x86-64-v2-AES"));
    c.insert("numa".into(), json!(0));
    c.insert("ostype".into(), json!(spec.ostype));
    c.insert("scsihw".into(), json!("virtio-scsi-single"));
    let disk0 = format!("{prefix}-{vmid}-disk-0");
    c.insert(
        "scsi0".into(),
        json!(format!("{st}:{disk0},iothread=1,size={}G", spec.disk_gib)),
    );
    vols.push(disk_volume(
        st,
        &spec.node,
        &disk0,
        vmid,
        spec.disk_gib * GIB,
        "images",
        ctime,
    ));
    for (i, (key, gib)) in spec.extra_disks.iter().enumerate() {
        let name = format!("{prefix}-{vmid}-disk-{}", i + 1);
        let size = if key.starts_with("efidisk") || key.starts_with("tpmstate") {
            4 * MIB
        } else {
            gib * GIB
        };
        let opts = if key.starts_with("efidisk") {
            ",efitype=4m,pre-enrolled-keys=1"
        } else if key.starts_with("tpmstate") {
            ",version=v2.0"
        } else {
            ",iothread=1"
        };
        c.insert(
            key.clone(),
            json!(format!("{st}:{name}{opts},size={}", format_size(size))),
        );
        vols.push(disk_volume(
            st, &spec.node, &name, vmid, size, "images", ctime,
        ));
    }
    c.insert("ide2".into(), json!("none,media=cdrom"));
    c.insert(
        "net0".into(),
        json!(format!("virtio={},bridge=vmbr0,firewall=1", mac(vmid, 0))),
    );
    c.insert("boot".into(), json!("order=scsi0;ide2;net0"));
    if spec.agent_enabled {
        c.insert("agent".into(), json!("1"));
    }
    c.insert("smbios1".into(), json!(format!("uuid={}", uuid(vmid, 1))));
    c.insert("vmgenid".into(), json!(uuid(vmid, 2)));
    c.insert(
        "meta".into(),
        json!(format!("creation-qemu=9.2.0,ctime={ctime}")),
    );
    common_flags(spec, &mut c);
    for (k, v) in &spec.extra {
        c.insert(k.clone(), v.clone());
    }
    (finish_guest(spec, GuestKind::Qemu, c, epoch), vols)
}

/// An LXC container with its config as PVE stores it, and its rootfs volume.
pub(crate) fn lxc(spec: &GuestSpec, epoch: SimTime) -> (Guest, Vec<Volume>) {
    let vmid = spec.vmid;
    let ctime = (epoch as i64) - 86_400 * (20 + i64::from(vmid % 150));
    let st = &spec.storage;
    let mut c: BTreeMap<String, Value> = BTreeMap::new();
    c.insert("arch".into(), json!("amd64"));
    c.insert("hostname".into(), json!(spec.name));
    c.insert("memory".into(), json!(spec.memory_mib));
    c.insert("swap".into(), json!(512));
    c.insert("cores".into(), json!(spec.cores));
    c.insert("ostype".into(), json!(spec.ostype));
    let prefix = if spec.template { "basevol" } else { "subvol" };
    let disk0 = format!("{prefix}-{vmid}-disk-0");
    c.insert(
        "rootfs".into(),
        json!(format!("{st}:{disk0},size={}G", spec.disk_gib)),
    );
    let vols = vec![disk_volume(
        st,
        &spec.node,
        &disk0,
        vmid,
        spec.disk_gib * GIB,
        "rootdir",
        ctime,
    )];
    c.insert(
        "net0".into(),
        json!(format!(
            "name=eth0,bridge=vmbr0,firewall=1,hwaddr={},ip=dhcp,type=veth",
            mac(vmid, 0)
        )),
    );
    c.insert("unprivileged".into(), json!(1));
    c.insert("features".into(), json!("nesting=1"));
    common_flags(spec, &mut c);
    for (k, v) in &spec.extra {
        c.insert(k.clone(), v.clone());
    }
    let mut spec = spec.clone();
    spec.agent = AgentState::Missing;
    (finish_guest(&spec, GuestKind::Lxc, c, epoch), vols)
}

/// The three storages every seeded cluster has: `local` (dir), `local-lvm` (lvmthin), both
/// per node, and the shared `nfs-backup`.
pub(crate) fn default_storages(local_total: u64, lvm_total: u64, nfs_total: u64) -> Vec<Storage> {
    let mut local_extra = BTreeMap::new();
    local_extra.insert("path".into(), json!("/var/lib/vz"));
    local_extra.insert("prune-backups".into(), json!("keep-all=1"));
    let mut lvm_extra = BTreeMap::new();
    lvm_extra.insert("vgname".into(), json!("pve"));
    lvm_extra.insert("thinpool".into(), json!("data"));
    let mut nfs_extra = BTreeMap::new();
    nfs_extra.insert("server".into(), json!("10.10.20.5"));
    nfs_extra.insert("export".into(), json!("/mnt/tank/pve-backup"));
    nfs_extra.insert("path".into(), json!("/mnt/pve/nfs-backup"));
    nfs_extra.insert("options".into(), json!("vers=4.2"));
    nfs_extra.insert(
        "prune-backups".into(),
        json!("keep-daily=7,keep-weekly=4,keep-monthly=3"),
    );
    vec![
        Storage {
            id: "local".into(),
            kind: "dir".into(),
            content: vec!["iso".into(), "vztmpl".into(), "backup".into()],
            shared: false,
            nodes: None,
            total: local_total,
            enabled: true,
            extra: local_extra,
        },
        Storage {
            id: "local-lvm".into(),
            kind: "lvmthin".into(),
            content: vec!["images".into(), "rootdir".into()],
            shared: false,
            nodes: None,
            total: lvm_total,
            enabled: true,
            extra: lvm_extra,
        },
        Storage {
            id: "nfs-backup".into(),
            kind: "nfs".into(),
            content: vec!["backup".into(), "iso".into()],
            shared: true,
            nodes: None,
            total: nfs_total,
            enabled: true,
            extra: nfs_extra,
        },
    ]
}

/// The ISO images and container templates each node keeps on `local`.
pub(crate) fn library_volumes(node: &str, epoch: SimTime) -> Vec<Volume> {
    let base = epoch as i64 - 86_400 * 90;
    let file = |path: &str, content: &str, format: &str, size: u64, age_days: i64| Volume {
        volid: format!("local:{path}"),
        storage: "local".into(),
        node: node.to_string(),
        content: content.into(),
        format: format.into(),
        size,
        ctime: base + 86_400 * age_days,
        vmid: None,
        notes: None,
        protected: false,
    };
    vec![
        file(
            "iso/ubuntu-24.04.1-live-server-amd64.iso",
            "iso",
            "iso",
            2_773_874_688,
            3,
        ),
        file(
            "iso/debian-12.8.0-amd64-netinst.iso",
            "iso",
            "iso",
            661_651_456,
            5,
        ),
        file(
            "vztmpl/debian-12-standard_12.7-1_amd64.tar.zst",
            "vztmpl",
            "tzst",
            126_458_331,
            7,
        ),
        file(
            "vztmpl/ubuntu-24.04-standard_24.04-2_amd64.tar.zst",
            "vztmpl",
            "tzst",
            141_830_519,
            8,
        ),
    ]
}

/// A vzdump archive on a backup storage.
pub(crate) fn backup_volume(
    storage: &str,
    node: &str,
    kind: GuestKind,
    vmid: u32,
    ctime: i64,
    size: u64,
) -> Volume {
    let (word, ext, format) = match kind {
        GuestKind::Qemu => ("qemu", "vma.zst", "vma.zst"),
        GuestKind::Lxc => ("lxc", "tar.zst", "tar.zst"),
    };
    Volume {
        volid: format!(
            "{storage}:backup/vzdump-{word}-{vmid}-{}.{ext}",
            backup_stamp(ctime)
        ),
        storage: storage.to_string(),
        node: node.to_string(),
        content: "backup".into(),
        format: format.into(),
        size,
        ctime,
        vmid: Some(vmid),
        notes: None,
        protected: false,
    }
}

/// `2026_01_31-02_00_05` for a Unix time, as vzdump names its archives (UTC).
pub fn backup_stamp(t: i64) -> String {
    let days = t.div_euclid(86_400);
    let secs = t.rem_euclid(86_400);
    let (y, m, d) = crate::clock::civil_from_days(days);
    format!(
        "{y:04}_{m:02}_{d:02}-{:02}_{:02}_{:02}",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_and_ids_look_right() {
        assert_eq!(backup_stamp(1_767_225_600), "2026_01_01-00_00_00");
        assert_eq!(backup_stamp(1_700_000_000), "2023_11_14-22_13_20");
        let m = mac(100, 0);
        assert!(m.starts_with("BC:24:11:") && m.len() == 17, "{m}");
        assert_ne!(mac(100, 0), mac(101, 0));
        let u = uuid(100, 1);
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
        assert_eq!(fingerprint("pve01").len(), 32 * 3 - 1);
    }
}
