//! The simulated cluster's data model: nodes, guests (QEMU and LXC), storages, volumes.
//!
//! Guest configuration is held as PVE holds it: a map of config keys to values (`memory`,
//! `cores`, `net0`, `scsi0`, ...). Figures shown by status calls (`maxmem`, `cpus`, `maxdisk`)
//! are derived from that map, so a `PUT .../config` changes what the status reports.

use std::collections::BTreeMap;

use serde_json::Value;

/// Seconds since the Unix epoch, on the simulator's clock (see [`crate::clock::Clock`]).
pub type SimTime = f64;

/// QEMU virtual machine or LXC container.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GuestKind {
    Qemu,
    Lxc,
}

impl GuestKind {
    /// The word PVE uses in paths and in `/cluster/resources` (`qemu`, `lxc`).
    pub fn as_str(self) -> &'static str {
        match self {
            GuestKind::Qemu => "qemu",
            GuestKind::Lxc => "lxc",
        }
    }
}

/// A cluster node.
#[derive(Debug, Clone)]
pub struct Node {
    pub name: String,
    pub online: bool,
    pub ip: String,
    pub nodeid: u32,
    pub cpu_model: String,
    pub sockets: u32,
    pub cores_per_socket: u32,
    /// Logical CPUs (threads).
    pub maxcpu: u32,
    pub maxmem: u64,
    pub maxswap: u64,
    pub maxdisk: u64,
    /// Root filesystem used bytes.
    pub disk: u64,
    /// Host memory used by the node itself, without guests.
    pub base_mem: u64,
    /// Base CPU load fraction (0..1) without guests.
    pub base_cpu: f64,
    /// Epoch second the node booted.
    pub boot_time: SimTime,
    pub kversion: String,
    pub pveversion: String,
    pub ssl_fingerprint: String,
}

/// Power state of a guest as PVE reports it in `status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PowerState {
    Running,
    Stopped,
}

impl PowerState {
    pub fn as_str(self) -> &'static str {
        match self {
            PowerState::Running => "running",
            PowerState::Stopped => "stopped",
        }
    }
}

/// State of the QEMU guest agent inside a VM.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgentState {
    /// No agent installed in the guest (`agent: 1` in config does not help).
    Missing,
    /// Agent installed and answering.
    Running,
    /// Agent installed and answering, but `guest-exec` is disabled (blocked RPCs).
    NoExec,
}

/// A snapshot of a guest.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub name: String,
    pub description: String,
    pub snaptime: i64,
    pub vmstate: bool,
    pub parent: Option<String>,
    /// The guest config at snapshot time.
    pub config: BTreeMap<String, Value>,
}

/// A QEMU VM or LXC container.
#[derive(Debug, Clone)]
pub struct Guest {
    pub vmid: u32,
    pub kind: GuestKind,
    pub node: String,
    pub status: PowerState,
    /// QEMU `qmpstatus` (`running`, `paused`, `suspended`...); for LXC equal to `status`.
    pub qmpstatus: String,
    /// PVE config keys and values, as `GET .../config` returns them (without `digest`).
    pub config: BTreeMap<String, Value>,
    /// Epoch second the guest was started, when running.
    pub started_at: Option<SimTime>,
    pub agent: AgentState,
    pub snapshots: Vec<Snapshot>,
    /// Name of the snapshot the current state derives from.
    pub parent_snapshot: Option<String>,
    /// Base CPU load fraction when running.
    pub base_cpu: f64,
    /// Fraction of configured memory in use when running.
    pub mem_fraction: f64,
    /// Fraction of disk space in use (LXC reports `disk`).
    pub disk_fraction: f64,
    pub pid: u32,
    pub pool: Option<String>,
    pub hastate: Option<String>,
    /// The cloud-init options the guest's cloud-init drive was last generated from (PVE keeps
    /// them in the config's `[special:cloudinit]` section); `None` before the first time.
    pub cloudinit: Option<BTreeMap<String, Value>>,
}

/// A storage as defined cluster-wide (`/storage`), with its capacity.
#[derive(Debug, Clone)]
pub struct Storage {
    pub id: String,
    /// PVE plugin type: `dir`, `lvmthin`, `nfs`, `zfspool`, ...
    pub kind: String,
    /// Content types, e.g. `["images", "rootdir"]`.
    pub content: Vec<String>,
    pub shared: bool,
    /// Nodes it is available on; `None` means all nodes.
    pub nodes: Option<Vec<String>>,
    /// Capacity in bytes (per node for non-shared storages).
    pub total: u64,
    pub enabled: bool,
    /// Extra plugin keys shown by `GET /storage` (`path`, `vgname`, `server`, ...).
    pub extra: BTreeMap<String, Value>,
}

/// A volume on a storage: a disk image, an ISO, a container template or a backup archive.
#[derive(Debug, Clone)]
pub struct Volume {
    /// `STORAGE:PATH`, e.g. `local-lvm:vm-100-disk-0` or `nfs-backup:backup/vzdump-qemu-100-....vma.zst`.
    pub volid: String,
    pub storage: String,
    /// Node holding it; for shared storages, the node name is ignored.
    pub node: String,
    /// `images`, `rootdir`, `iso`, `vztmpl` or `backup`.
    pub content: String,
    pub format: String,
    pub size: u64,
    pub ctime: i64,
    pub vmid: Option<u32>,
    pub notes: Option<String>,
    pub protected: bool,
}

/// A resource pool: its comment and the storages it holds (guests name their pool themselves,
/// [`Guest::pool`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Pool {
    pub comment: Option<String>,
    pub storages: Vec<String>,
}

/// A user of the access directory (PVE's `user.cfg`); credentials live in the simulator's
/// `AuthDb`, so a directory user without them cannot log in.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DirUser {
    pub enable: bool,
    pub expire: i64,
    pub firstname: Option<String>,
    pub lastname: Option<String>,
    pub email: Option<String>,
    pub comment: Option<String>,
    pub groups: Vec<String>,
}

/// An ACL entry: a role granted on a path to a user, group or token.
#[derive(Debug, Clone, PartialEq)]
pub struct Acl {
    pub path: String,
    /// `user`, `group` or `token`.
    pub kind: String,
    pub ugid: String,
    pub roleid: String,
    pub propagate: bool,
}

/// The access directory: users, groups (with comments) and ACL entries.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Access {
    pub users: BTreeMap<String, DirUser>,
    pub groups: BTreeMap<String, String>,
    pub acl: Vec<Acl>,
}

/// The whole simulated cluster.
#[derive(Debug, Clone, Default)]
pub struct Cluster {
    /// Cluster name; `None` for a standalone node.
    pub name: Option<String>,
    pub config_version: u32,
    pub nodes: BTreeMap<String, Node>,
    /// Guests by VMID: VMIDs are unique across the cluster.
    pub guests: BTreeMap<u32, Guest>,
    pub storages: BTreeMap<String, Storage>,
    pub volumes: Vec<Volume>,
    /// The guest config each backup archive holds, by volid (what a restore brings back).
    pub backup_configs: BTreeMap<String, BTreeMap<String, Value>>,
    /// Resource pools by id.
    pub pools: BTreeMap<String, Pool>,
    /// Scheduled backup jobs by id, as `jobs.cfg` holds them (the vzdump options plus
    /// `schedule`, `enabled`, `comment`...).
    pub backup_jobs: BTreeMap<String, BTreeMap<String, Value>>,
    /// Users, groups and ACLs besides the credentials.
    pub access: Access,
    /// HA rules by id (PVE 9: `node-affinity` and `resource-affinity` rules replace groups),
    /// as `rules.cfg` holds them.
    pub ha_rules: BTreeMap<String, BTreeMap<String, Value>>,
    /// System services started or stopped by hand, by `(node, service)`: whether it runs now
    /// (the others are as installed).
    pub services: BTreeMap<(String, String), bool>,
}

impl Cluster {
    /// Every pool: the defined ones and any a guest names.
    pub fn pool_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self.pools.keys().cloned().collect();
        ids.extend(self.guests.values().filter_map(|g| g.pool.clone()));
        ids.sort();
        ids.dedup();
        ids
    }
}

impl Guest {
    /// Configured memory in bytes (`memory` is MiB; QEMU's may be a property string `current=N`).
    pub fn maxmem(&self) -> u64 {
        let mib = match self.config.get("memory") {
            Some(Value::Number(n)) => n.as_u64().unwrap_or(512),
            Some(Value::String(s)) => {
                let s = s.strip_prefix("current=").unwrap_or(s);
                s.split(',')
                    .next()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(512)
            }
            _ => match self.kind {
                GuestKind::Qemu => 2048,
                GuestKind::Lxc => 512,
            },
        };
        mib * 1024 * 1024
    }

    /// Configured swap in bytes (LXC only).
    pub fn maxswap(&self) -> u64 {
        config_u64(&self.config, "swap").unwrap_or(512) * 1024 * 1024
    }

    /// Number of virtual CPUs (`cores * sockets` for QEMU, `cores` for LXC).
    pub fn cpus(&self) -> u64 {
        let cores = config_u64(&self.config, "cores").unwrap_or(1);
        match self.kind {
            GuestKind::Qemu => cores * config_u64(&self.config, "sockets").unwrap_or(1),
            GuestKind::Lxc => cores,
        }
    }

    pub fn name(&self) -> String {
        let key = match self.kind {
            GuestKind::Qemu => "name",
            GuestKind::Lxc => "hostname",
        };
        match self.config.get(key) {
            Some(Value::String(s)) => s.clone(),
            _ => format!(
                "{}{}",
                if self.kind == GuestKind::Qemu {
                    "VM"
                } else {
                    "CT"
                },
                self.vmid
            ),
        }
    }

    pub fn is_template(&self) -> bool {
        config_bool(&self.config, "template")
    }

    pub fn lock(&self) -> Option<String> {
        match self.config.get("lock") {
            Some(Value::String(s)) => Some(s.clone()),
            _ => None,
        }
    }

    /// Size in bytes of the boot disk (QEMU: all disks summed; LXC: `rootfs` size).
    pub fn maxdisk(&self) -> u64 {
        self.config
            .iter()
            .filter(|(k, _)| is_disk_key(self.kind, k))
            .filter_map(|(_, v)| v.as_str().and_then(disk_size_bytes))
            .sum()
    }

    /// Whether the agent is enabled in config (`agent: 1` or `enabled=1,...`).
    pub fn agent_enabled(&self) -> bool {
        match self.config.get("agent") {
            Some(Value::String(s)) => {
                let first = s.split(',').next().unwrap_or("");
                first == "1" || first == "enabled=1"
            }
            Some(Value::Number(n)) => n.as_u64() == Some(1),
            _ => false,
        }
    }

    pub fn uptime(&self, now: SimTime) -> u64 {
        match (self.status, self.started_at) {
            (PowerState::Running, Some(t)) => (now - t).max(0.0) as u64,
            _ => 0,
        }
    }
}

/// Whether a config key names a disk of that guest kind (`scsi0`, `virtio1`, `rootfs`, `mp0`...).
pub fn is_disk_key(kind: GuestKind, key: &str) -> bool {
    let prefixes: &[&str] = match kind {
        GuestKind::Qemu => &["scsi", "virtio", "sata", "ide", "efidisk", "tpmstate"],
        GuestKind::Lxc => &["rootfs", "mp"],
    };
    prefixes.iter().any(|p| {
        key.strip_prefix(p)
            .is_some_and(|rest| rest.is_empty() || rest.chars().all(|c| c.is_ascii_digit()))
    }) && (kind == GuestKind::Lxc || key != "ide")
}

/// Parses the `size=` of a disk property string (`local-lvm:vm-100-disk-0,size=32G`) into bytes.
/// A CD-ROM (`media=cdrom`) counts as no disk.
pub fn disk_size_bytes(spec: &str) -> Option<u64> {
    if spec.contains("media=cdrom") {
        return None;
    }
    spec.split(',')
        .find_map(|kv| kv.strip_prefix("size="))
        .and_then(parse_size)
}

/// Parses PVE sizes: `32G`, `512M`, `1T`, `4096K`, or bare bytes.
pub fn parse_size(s: &str) -> Option<u64> {
    let s = s.trim();
    let (num, mul) = match s.chars().last()? {
        'K' | 'k' => (&s[..s.len() - 1], 1u64 << 10),
        'M' | 'm' => (&s[..s.len() - 1], 1 << 20),
        'G' | 'g' => (&s[..s.len() - 1], 1 << 30),
        'T' | 't' => (&s[..s.len() - 1], 1 << 40),
        _ => (s, 1),
    };
    let n: f64 = num.parse().ok()?;
    Some((n * mul as f64) as u64)
}

/// Formats bytes the way PVE writes disk sizes in configs (`32G`, `512M`).
pub fn format_size(bytes: u64) -> String {
    if bytes.is_multiple_of(1 << 40) && bytes > 0 {
        format!("{}T", bytes >> 40)
    } else if bytes.is_multiple_of(1 << 30) && bytes > 0 {
        format!("{}G", bytes >> 30)
    } else if bytes.is_multiple_of(1 << 20) {
        format!("{}M", bytes >> 20)
    } else {
        format!("{}K", bytes.div_ceil(1024))
    }
}

/// Reads an integer config value stored as a number or a numeric string.
pub fn config_u64(config: &BTreeMap<String, Value>, key: &str) -> Option<u64> {
    match config.get(key)? {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.parse().ok(),
        Value::Bool(b) => Some(u64::from(*b)),
        _ => None,
    }
}

/// Reads a 0/1 config flag.
pub fn config_bool(config: &BTreeMap<String, Value>, key: &str) -> bool {
    config_u64(config, key) == Some(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_round_trip() {
        assert_eq!(parse_size("32G"), Some(32 << 30));
        assert_eq!(parse_size("512M"), Some(512 << 20));
        assert_eq!(format_size(32 << 30), "32G");
        assert_eq!(format_size(512 << 20), "512M");
        assert_eq!(
            disk_size_bytes("local-lvm:vm-100-disk-0,iothread=1,size=8G"),
            Some(8 << 30)
        );
        assert_eq!(disk_size_bytes("local:iso/x.iso,media=cdrom,size=1G"), None);
    }

    #[test]
    fn disk_keys() {
        assert!(is_disk_key(GuestKind::Qemu, "scsi0"));
        assert!(is_disk_key(GuestKind::Qemu, "virtio12"));
        assert!(!is_disk_key(GuestKind::Qemu, "scsihw"));
        assert!(is_disk_key(GuestKind::Lxc, "rootfs"));
        assert!(is_disk_key(GuestKind::Lxc, "mp3"));
        assert!(!is_disk_key(GuestKind::Lxc, "memory"));
    }
}
