//! Live figures that move a little over time: guest and node CPU, memory, disk and network use.
//!
//! Every figure is a deterministic function of (guest or node, simulated time): sines with
//! periods of minutes, phased by VMID, so two reads at the same instant agree and figures drift
//! believably between reads. Nothing here is random and nothing allocates per guest, so that
//! `/cluster/resources` over 10,000 guests stays cheap.

use std::collections::HashMap;

use serde_json::Value;

use crate::state::{Cluster, Guest, GuestKind, Node, PowerState, SimTime, disk_size_bytes};

/// What a guest uses right now. All zeros when it is stopped.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct GuestUsage {
    /// CPU use as a fraction of the guest's own CPUs (0..1).
    pub cpu: f64,
    /// Memory used in bytes, within `maxmem`.
    pub mem: u64,
    /// Disk used in bytes (PVE reports 0 for QEMU without the agent; LXC reports its rootfs use).
    pub disk: u64,
    /// Bytes received since start.
    pub netin: u64,
    /// Bytes sent since start.
    pub netout: u64,
    /// Bytes read from disk since start.
    pub diskread: u64,
    /// Bytes written to disk since start.
    pub diskwrite: u64,
}

/// What a node uses right now, its guests included.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct NodeUsage {
    /// CPU use as a fraction of the node's logical CPUs (0..1).
    pub cpu: f64,
    /// Memory used in bytes, within `maxmem`.
    pub mem: u64,
    /// Swap used in bytes, within `maxswap`.
    pub swap: u64,
    /// Root filesystem used bytes.
    pub disk: u64,
    /// Load averages (1, 5, 15 minutes) as PVE writes them: strings like `"0.42"`.
    pub loadavg: [String; 3],
    /// Seconds since boot.
    pub uptime: u64,
    /// I/O wait fraction.
    pub wait: f64,
}

/// The running guests' contribution to a node, summed in one pass (see [`node_usages`]).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct GuestSum {
    /// Busy CPUs (sum of guest cpu fraction times guest cpus).
    pub busy_cpus: f64,
    /// Memory used by guests, bytes.
    pub mem: u64,
    /// Number of running guests.
    pub running: u32,
}

/// A smooth wobble in -1..1 with the given period (seconds), phased by `seed`.
fn wave(seed: u32, now: SimTime, period: f64) -> f64 {
    wave_at(seed, turn(now, period))
}

/// How far into a period of `period` seconds `now` is, as a fraction of a turn. Reducing time
/// modulo the period first keeps the sine's argument small (epoch seconds would send `sin` down
/// its slow range reduction).
fn turn(now: SimTime, period: f64) -> f64 {
    now.rem_euclid(period) / period
}

/// [`wave`] with the time already reduced to a fraction of the period.
fn wave_at(seed: u32, turn: f64) -> f64 {
    let phase = (f64::from(seed % 997) * 0.618_033_988_75).fract();
    ((turn + phase) * std::f64::consts::TAU).sin()
}

/// An instant and where it falls in each period of the guests' figures, computed once when
/// many guests are read at the same instant (see [`guest_usage_at`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Phases {
    now: SimTime,
    t13: f64,
    t97: f64,
    t300: f64,
    t3600: f64,
}

impl Phases {
    /// The phases at `now`.
    pub(crate) fn at(now: SimTime) -> Self {
        Self {
            now,
            t13: turn(now, 13.0),
            t97: turn(now, 97.0),
            t300: turn(now, 300.0),
            t3600: turn(now, 3600.0),
        }
    }
}

/// How far network and disk rates swing around their average (a fraction of it, below 1 so
/// that counters only grow).
const SWING: f64 = 0.5;

/// A stable per-guest factor in 0.5..1.5, from the VMID (for network and disk rates).
fn rate_factor(seed: u32) -> f64 {
    0.5 + f64::from(seed.wrapping_mul(2_654_435_761) % 1000) / 1000.0
}

/// Figures derived from a guest's config, read in one pass over it (the same values as
/// `Guest::maxmem`, `cpus`, `maxdisk`, `is_template`...): cheaper than one lookup each when
/// listing thousands of guests.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GuestFacts<'a> {
    pub maxmem: u64,
    pub cpus: u64,
    pub maxdisk: u64,
    /// `name` (QEMU) or `hostname` (LXC) when set.
    pub name: Option<&'a str>,
    pub tags: Option<&'a str>,
    pub lock: Option<&'a str>,
    pub template: bool,
}

/// Reads a guest's [`GuestFacts`] in one pass over its config.
pub(crate) fn guest_facts(g: &Guest) -> GuestFacts<'_> {
    let mut mem_mib: Option<u64> = None;
    let (mut cores, mut sockets) = (1, 1);
    let mut f = GuestFacts {
        maxmem: 0,
        cpus: 1,
        maxdisk: 0,
        name: None,
        tags: None,
        lock: None,
        template: false,
    };
    for (k, v) in &g.config {
        let text = v.as_str();
        match k.as_str() {
            "memory" => {
                mem_mib = Some(match v {
                    Value::Number(n) => n.as_u64().unwrap_or(512),
                    Value::String(s) => {
                        let s = s.strip_prefix("current=").unwrap_or(s);
                        s.split(',')
                            .next()
                            .and_then(|x| x.parse().ok())
                            .unwrap_or(512)
                    }
                    _ => 512,
                });
            }
            "cores" => cores = number(v).unwrap_or(1),
            "sockets" => sockets = number(v).unwrap_or(1),
            "tags" => f.tags = text,
            "lock" => f.lock = text,
            "template" => f.template = number(v) == Some(1),
            "name" if g.kind == GuestKind::Qemu => f.name = text,
            "hostname" if g.kind == GuestKind::Lxc => f.name = text,
            key if disk_key(g.kind, key) => {
                f.maxdisk += text.and_then(disk_size_bytes).unwrap_or(0);
            }
            _ => {}
        }
    }
    let default_mib = match g.kind {
        GuestKind::Qemu => 2048,
        GuestKind::Lxc => 512,
    };
    f.maxmem = mem_mib.unwrap_or(default_mib) * 1024 * 1024;
    f.cpus = match g.kind {
        GuestKind::Qemu => cores * sockets,
        GuestKind::Lxc => cores,
    };
    f
}

/// [`crate::state::is_disk_key`] with the prefixes tested by first byte: this runs for every config key of
/// every guest in `/cluster/resources`, where a loop of prefix comparisons is measurable.
pub(crate) fn disk_key(kind: GuestKind, key: &str) -> bool {
    let b = key.as_bytes();
    let digits = |rest: &[u8]| rest.iter().all(u8::is_ascii_digit);
    match (kind, b.first()) {
        (GuestKind::Qemu, Some(b's')) => {
            (b.starts_with(b"scsi") || b.starts_with(b"sata")) && digits(&b[4..])
        }
        (GuestKind::Qemu, Some(b'v')) => b.starts_with(b"virtio") && digits(&b[6..]),
        (GuestKind::Qemu, Some(b'i')) => b.len() > 3 && b.starts_with(b"ide") && digits(&b[3..]),
        (GuestKind::Qemu, Some(b'e')) => b.starts_with(b"efidisk") && digits(&b[7..]),
        (GuestKind::Qemu, Some(b't')) => b.starts_with(b"tpmstate") && digits(&b[8..]),
        (GuestKind::Lxc, Some(b'r')) => b.starts_with(b"rootfs") && digits(&b[6..]),
        (GuestKind::Lxc, Some(b'm')) => b.starts_with(b"mp") && digits(&b[2..]),
        _ => false,
    }
}

/// An integer config value stored as a number, a numeric string or a boolean.
fn number(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.parse().ok(),
        Value::Bool(b) => Some(u64::from(*b)),
        _ => None,
    }
}

/// The live figures of a guest at `now`.
pub(crate) fn guest_usage(g: &Guest, now: SimTime) -> GuestUsage {
    guest_usage_with(g, &guest_facts(g), now)
}

/// [`guest_usage`] with the guest's facts already read.
pub(crate) fn guest_usage_with(g: &Guest, f: &GuestFacts<'_>, now: SimTime) -> GuestUsage {
    guest_usage_at(g, f, &Phases::at(now))
}

/// [`guest_usage`] with the guest's facts read and the instant's phases computed.
pub(crate) fn guest_usage_at(g: &Guest, f: &GuestFacts<'_>, at: &Phases) -> GuestUsage {
    if g.status != PowerState::Running {
        return GuestUsage::default();
    }
    let uptime = g.uptime(at.now) as f64;
    let cpu = (g.base_cpu
        * (1.0 + 0.35 * wave_at(g.vmid, at.t97) + 0.15 * wave_at(g.vmid ^ 7, at.t13)))
    .clamp(0.0, 1.0);
    let mem_frac = (g.mem_fraction * (1.0 + 0.04 * wave_at(g.vmid ^ 3, at.t300))).clamp(0.02, 0.98);
    let mem = (f.maxmem as f64 * mem_frac) as u64;
    let disk = match g.kind {
        GuestKind::Qemu => 0,
        GuestKind::Lxc => {
            let frac =
                (g.disk_fraction * (1.0 + 0.01 * wave_at(g.vmid ^ 5, at.t3600))).clamp(0.0, 0.99);
            (f.maxdisk as f64 * frac) as u64
        }
    };
    let r = rate_factor(g.vmid);
    // Average rates in bytes/s, scaled by how busy the guest is. Each rate swings by half
    // around its average (network over 97 s, disk I/O over an hour); a counter is its rate's
    // integral, `uptime` plus the swing's bounded part, so it only grows and the rates RRD
    // derives from it move.
    let busy = 0.2 + g.base_cpu * 4.0;
    let swing = |seed: u32, turn: f64, period: f64| {
        SWING * period / std::f64::consts::TAU * (1.0 - wave_at(seed, turn + 0.25))
    };
    let net = uptime + swing(g.vmid ^ 9, at.t97, 97.0);
    let io = uptime + swing(g.vmid ^ 11, at.t3600, 3600.0);
    let netin = (net * 12_000.0 * r * busy) as u64;
    let netout = (net * 7_500.0 * (2.0 - r) * busy) as u64;
    let diskread = (io * 40_000.0 * r) as u64 + 150 * 1024 * 1024;
    let diskwrite = (io * 25_000.0 * (2.0 - r) * busy) as u64 + 20 * 1024 * 1024;
    GuestUsage {
        cpu,
        mem,
        disk,
        netin,
        netout,
        diskread,
        diskwrite,
    }
}

/// The live figures of a node at `now`: its own base use plus the guests running on it.
/// Walks all guests; to answer for every node at once use [`node_usages`].
pub(crate) fn node_usage(cluster: &Cluster, node: &Node, now: SimTime) -> NodeUsage {
    let mut sum = GuestSum::default();
    for g in cluster.guests.values().filter(|g| g.node == node.name) {
        add_guest(&mut sum, g, now);
    }
    node_usage_from(node, sum, now)
}

/// The live figures of every node, in one pass over the guests.
pub(crate) fn node_usages(cluster: &Cluster, now: SimTime) -> HashMap<String, NodeUsage> {
    let sums = guest_sums(cluster, now);
    cluster
        .nodes
        .values()
        .map(|n| {
            let sum = sums.get(n.name.as_str()).copied().unwrap_or_default();
            (n.name.clone(), node_usage_from(n, sum, now))
        })
        .collect()
}

/// Sums the running guests per node name, in one pass.
pub(crate) fn guest_sums(cluster: &Cluster, now: SimTime) -> HashMap<&str, GuestSum> {
    let mut sums: HashMap<&str, GuestSum> = HashMap::with_capacity(cluster.nodes.len());
    for g in cluster.guests.values() {
        if g.status == PowerState::Running {
            add_guest(sums.entry(g.node.as_str()).or_default(), g, now);
        }
    }
    sums
}

fn add_guest(sum: &mut GuestSum, g: &Guest, now: SimTime) {
    if g.status != PowerState::Running {
        return;
    }
    let f = guest_facts(g);
    let u = guest_usage_with(g, &f, now);
    sum.add(&f, &u);
}

impl GuestSum {
    /// Adds a running guest's usage (its facts and figures already computed).
    pub(crate) fn add(&mut self, f: &GuestFacts<'_>, u: &GuestUsage) {
        self.busy_cpus += u.cpu * f.cpus as f64;
        // The host sees a little more than the guest reports (QEMU overhead).
        self.mem += u.mem + 48 * 1024 * 1024;
        self.running += 1;
    }
}

/// A node's figures from its base and the sum of its running guests.
pub(crate) fn node_usage_from(node: &Node, sum: GuestSum, now: SimTime) -> NodeUsage {
    let seed = node.nodeid.wrapping_add(10_000);
    if !node.online {
        return NodeUsage {
            cpu: 0.0,
            mem: 0,
            swap: 0,
            disk: node.disk,
            loadavg: ["0.00".into(), "0.00".into(), "0.00".into()],
            uptime: 0,
            wait: 0.0,
        };
    }
    let maxcpu = f64::from(node.maxcpu.max(1));
    let base_busy = node.base_cpu * (1.0 + 0.3 * wave(seed, now, 61.0)) * maxcpu;
    let busy = (base_busy + sum.busy_cpus).max(0.0);
    let cpu = (busy / maxcpu).clamp(0.0, 1.0);
    let base_mem = (node.base_mem as f64 * (1.0 + 0.02 * wave(seed, now, 600.0))) as u64;
    let mem = (base_mem + sum.mem).min(node.maxmem.saturating_sub(256 * 1024 * 1024));
    let swap_frac = 0.01 + 0.005 * (1.0 + wave(seed ^ 1, now, 1800.0));
    let swap = (node.maxswap as f64 * swap_frac) as u64;
    let disk = node.disk.min(node.maxdisk);
    let load = |period: f64, k: u32| {
        let v = (busy * (1.0 + 0.1 * wave(seed ^ k, now, period))).max(0.0);
        format!("{v:.2}")
    };
    NodeUsage {
        cpu,
        mem,
        swap,
        disk,
        loadavg: [load(60.0, 11), load(300.0, 12), load(900.0, 13)],
        uptime: (now - node.boot_time).max(0.0) as u64,
        wait: (0.001 + 0.002 * (1.0 + wave(seed ^ 2, now, 45.0))).min(1.0),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use std::collections::BTreeMap;

    use serde_json::json;

    use super::*;
    use crate::state::{AgentState, is_disk_key};

    fn guest(vmid: u32, running: bool) -> Guest {
        let mut config = BTreeMap::new();
        config.insert("memory".to_string(), json!("4096"));
        config.insert("cores".to_string(), json!(2));
        config.insert(
            "scsi0".to_string(),
            json!("local-lvm:vm-100-disk-0,size=32G"),
        );
        Guest {
            vmid,
            kind: GuestKind::Qemu,
            node: "pve01".into(),
            status: if running {
                PowerState::Running
            } else {
                PowerState::Stopped
            },
            qmpstatus: if running { "running" } else { "stopped" }.into(),
            config,
            started_at: running.then_some(1_000.0),
            agent: AgentState::Running,
            snapshots: vec![],
            parent_snapshot: None,
            base_cpu: 0.2,
            mem_fraction: 0.5,
            disk_fraction: 0.3,
            pid: 1234,
            pool: None,
            hastate: None,
            cloudinit: None,
        }
    }

    #[test]
    fn disk_key_agrees_with_state() {
        let keys = [
            "scsi0",
            "scsi30",
            "scsihw",
            "sata5",
            "satax",
            "virtio15",
            "virtio",
            "ide2",
            "ide",
            "efidisk0",
            "tpmstate0",
            "rootfs",
            "mp0",
            "mp255",
            "mpx",
            "memory",
            "net0",
            "sockets",
            "tags",
            "template",
            "efi",
            "s",
            "",
        ];
        for kind in [GuestKind::Qemu, GuestKind::Lxc] {
            for k in keys {
                assert_eq!(disk_key(kind, k), is_disk_key(kind, k), "{kind:?} {k}");
            }
        }
    }

    #[test]
    fn facts_agree_with_guest_methods() {
        for g in crate::seed::demo_at(1_790_000_000.0).guests.values() {
            let f = guest_facts(g);
            assert_eq!(f.maxmem, g.maxmem(), "{}", g.vmid);
            assert_eq!(f.cpus, g.cpus(), "{}", g.vmid);
            assert_eq!(f.maxdisk, g.maxdisk(), "{}", g.vmid);
            assert_eq!(f.template, g.is_template(), "{}", g.vmid);
            assert_eq!(f.lock.map(str::to_string), g.lock(), "{}", g.vmid);
            assert_eq!(f.name.map_or_else(|| g.name(), str::to_string), g.name());
        }
    }

    #[test]
    fn stopped_guest_uses_nothing() {
        assert_eq!(
            guest_usage(&guest(100, false), 5_000.0),
            GuestUsage::default()
        );
    }

    #[test]
    fn rates_swing_around_their_average() {
        let g = guest(101, true);
        let rate = |t: f64| (guest_usage(&g, t + 1.0).netin - guest_usage(&g, t).netin) as f64;
        let rates: Vec<f64> = (0..300).map(|i| rate(10_000.0 + f64::from(i))).collect();
        let avg = rates.iter().sum::<f64>() / rates.len() as f64;
        let (min, max) = (
            rates.iter().copied().fold(f64::MAX, f64::min),
            rates.iter().copied().fold(f64::MIN, f64::max),
        );
        assert!(min > 0.0, "counters only grow");
        assert!(
            min < 0.7 * avg && max > 1.3 * avg,
            "{min}..{max} around {avg}"
        );
    }

    #[test]
    fn running_guest_within_bounds_and_moving() {
        let g = guest(101, true);
        let mut cpus = Vec::new();
        let mut last_net = 0;
        for i in 0..200 {
            let now = 2_000.0 + f64::from(i) * 7.0;
            let u = guest_usage(&g, now);
            assert!((0.0..=1.0).contains(&u.cpu));
            assert!(u.mem > 0 && u.mem <= g.maxmem());
            assert!(u.netin >= last_net, "netin only grows");
            last_net = u.netin;
            cpus.push(u.cpu);
        }
        let min = cpus.iter().copied().fold(f64::MAX, f64::min);
        let max = cpus.iter().copied().fold(f64::MIN, f64::max);
        assert!(max - min > 0.01, "cpu moves over time: {min}..{max}");
        // Deterministic.
        assert_eq!(guest_usage(&g, 3_000.0), guest_usage(&g, 3_000.0));
    }
}
