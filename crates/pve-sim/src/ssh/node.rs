//! The commands a simulated node itself answers over SSH, with output derived from the simulated
//! cluster: `pveversion [-v]`, `zpool status [-x|POOL]`, `journalctl`, `pvecm status` (see
//! [`super::cluster`]), `df -h`, `uptime` and `hostname`. Other commands are not there: a program
//! the node lacks is bash's "command not found" (127), another use of one it has says what is
//! simulated (127).

use super::cluster;
use super::commands::{Reply, program};
use super::date::Date;
use super::log::Ran;
use crate::Sim;
use crate::agent::guest_os::{human, uptime_line};
use crate::metrics;
use crate::state::{Node, Storage};

/// The node's programs; other uses of them than those simulated say what is.
const PROGRAMS: &[&str] = &[
    "pveversion",
    "zpool",
    "journalctl",
    "pvecm",
    "df",
    "uptime",
    "hostname",
];

/// What the simulated node runs, for the message naming it.
const SIMULATED: &str = "pveversion [-v], zpool status [-x|POOL], journalctl [-u UNIT] [-n N], \
                         pvecm status, df -h, uptime, hostname, pct exec";

/// Runs `words` on node `n`.
pub(super) fn run(sim: &Sim, n: &Node, words: &[String]) -> (Reply, Option<Ran>) {
    let prog = program(&words[0]);
    let args: Vec<&str> = words[1..].iter().map(String::as_str).collect();
    let reply = match (prog, args.as_slice()) {
        ("pveversion", []) => Some(Reply::ok(pveversion(n))),
        ("pveversion", ["-v" | "--verbose"]) => Some(Reply::ok(pveversion_verbose(n))),
        ("zpool", ["status"]) => Some(zpool_status(sim, n, None)),
        ("zpool", ["status", "-x"]) => Some(zpool_healthy(sim, n)),
        ("zpool", ["status", pool]) if !pool.starts_with('-') => {
            Some(zpool_status(sim, n, Some(pool)))
        }
        ("journalctl", args) => Some(cluster::journalctl(sim, n, args)),
        ("pvecm", ["status"]) => Some(cluster::pvecm_status(sim, n)),
        ("df", ["-h"]) => Some(Reply::ok(df(sim, n))),
        ("uptime", []) => Some(Reply::ok(uptime(sim, n))),
        ("hostname", []) => Some(Reply::ok(format!("{}\n", n.name))),
        _ => None,
    };
    match reply {
        Some(reply) => (
            reply,
            Some(Ran::Node {
                argv: words.to_vec(),
            }),
        ),
        None if PROGRAMS.contains(&prog) => (
            Reply::fail(
                127,
                format!(
                    "pve-sim: '{}' is not simulated on node {} (it runs: {SIMULATED})\n",
                    words.join(" "),
                    n.name
                ),
            ),
            None,
        ),
        None => (
            Reply::fail(
                127,
                format!("bash: line 1: {}: command not found\n", words[0]),
            ),
            None,
        ),
    }
}

/// The kernel release in a node's `kversion` (`Linux 6.14.8-2-pve #1 SMP …`).
fn kernel_release(n: &Node) -> &str {
    n.kversion
        .split_whitespace()
        .nth(1)
        .unwrap_or("6.14.8-2-pve")
}

/// `pve-manager/9.1.2/b9b5ba39e94f2e7c (running kernel: 6.14.8-2-pve)`.
fn pveversion(n: &Node) -> String {
    format!("{} (running kernel: {})\n", n.pveversion, kernel_release(n))
}

/// The packages `pveversion -v` lists after the manager and the kernel.
const PACKAGES: &[(&str, &str)] = &[
    ("amd64-microcode", "3.20250311.1"),
    ("ceph-fuse", "19.2.3-pve2"),
    ("corosync", "3.1.9-pve2"),
    ("criu", "4.1.1-1"),
    ("frr-pythontools", "10.3.1-1+pve4"),
    ("ifupdown2", "3.3.0-1+pmx10"),
    ("intel-microcode", "3.20250512.1"),
    ("ksm-control-daemon", "1.5-1"),
    ("libjs-extjs", "7.0.0-5"),
    ("libproxmox-acme-perl", "1.7.0"),
    ("libproxmox-backup-qemu0", "2.0.1"),
    ("libproxmox-rs-perl", "0.4.1"),
    ("libpve-access-control", "9.0.4"),
    ("libpve-apiclient-perl", "3.4.2"),
    ("libpve-cluster-api-perl", "9.0.7"),
    ("libpve-cluster-perl", "9.0.7"),
    ("libpve-common-perl", "9.1.0"),
    ("libpve-guest-common-perl", "6.0.2"),
    ("libpve-http-server-perl", "6.0.5"),
    ("libpve-network-perl", "1.2.3"),
    ("libpve-rs-perl", "0.11.3"),
    ("libpve-storage-perl", "9.1.0"),
    ("lvm2", "2.03.31-2+pmx1"),
    ("lxc-pve", "6.0.5-3"),
    ("lxcfs", "6.0.4-pve1"),
    ("novnc-pve", "1.6.0-3"),
    ("proxmox-backup-client", "4.1.0-1"),
    ("proxmox-backup-file-restore", "4.1.0-1"),
    ("proxmox-firewall", "1.2.1"),
    ("proxmox-kernel-helper", "9.0.4"),
    ("proxmox-mail-forward", "1.0.2"),
    ("proxmox-mini-journalreader", "1.6"),
    ("proxmox-widget-toolkit", "5.1.2"),
    ("pve-cluster", "9.0.7"),
    ("pve-container", "6.0.18"),
    ("pve-docs", "9.1.1"),
    ("pve-edk2-firmware", "4.2025.05-2"),
    ("pve-esxi-import-tools", "1.0.1"),
    ("pve-firewall", "6.0.4"),
    ("pve-firmware", "3.17-2"),
    ("pve-ha-manager", "5.0.8"),
    ("pve-i18n", "3.6.2"),
    ("pve-qemu-kvm", "10.1.2-1"),
    ("pve-xtermjs", "5.5.0-3"),
    ("qemu-server", "9.1.1"),
    ("smartmontools", "7.4-pve1"),
    ("spiceterm", "3.4.1"),
    ("swtpm", "0.8.0+pve3"),
    ("vncterm", "1.9.1"),
    ("zfsutils-linux", "2.3.4-pve1"),
];

/// `pveversion -v`: the manager, the running kernel's packages, then the rest.
fn pveversion_verbose(n: &Node) -> String {
    let mut parts = n.pveversion.split('/').skip(1);
    let version = parts.next().unwrap_or("9.1.2");
    let repoid = parts.next().unwrap_or("");
    let major = version.split('.').next().unwrap_or("9");
    let krel = kernel_release(n);
    let kver = krel.strip_suffix("-pve").unwrap_or(krel);
    let series: Vec<&str> = kver.split('.').take(2).collect();
    let mut out = format!(
        "proxmox-ve: {major}.1.0 (running kernel: {krel})\n\
         pve-manager: {version} (running version: {version}/{repoid})\n\
         proxmox-kernel-{krel}-signed: {kver}\n\
         proxmox-kernel-{}: {kver}\n",
        series.join(".")
    );
    for (name, v) in PACKAGES {
        out.push_str(&format!("{name}: {v}\n"));
    }
    out
}

/// `uptime` on the node: its boot time and load.
fn uptime(sim: &Sim, n: &Node) -> String {
    let u = metrics::node_usage(&sim.cluster, n, sim.now);
    let load = u.loadavg.each_ref().map(|l| l.parse().unwrap_or(0.0));
    uptime_line(sim.now, u.uptime, load)
}

/// `df -h` on the node: the root on LVM, the usual tmpfs, the EFI partition, pmxcfs on /etc/pve,
/// and the NFS storages mounted under /mnt/pve.
fn df(sim: &Sim, n: &Node) -> String {
    const K: u64 = 1 << 10;
    const M: u64 = 1 << 20;
    let u = metrics::node_usage(&sim.cluster, n, sim.now);
    let mem = n.maxmem;
    let root_used = u.disk.min(n.maxdisk);
    let root_avail = n.maxdisk.saturating_sub(root_used + n.maxdisk / 20);
    let mut rows: Vec<(String, u64, u64, u64, String)> = vec![
        ("udev".into(), mem / 2, 0, mem / 2, "/dev".into()),
        (
            "tmpfs".into(),
            mem / 10,
            2_200 * K,
            mem / 10 - 2_200 * K,
            "/run".into(),
        ),
        (
            "/dev/mapper/pve-root".into(),
            n.maxdisk,
            root_used,
            root_avail,
            "/".into(),
        ),
        (
            "tmpfs".into(),
            mem / 2,
            46 * M,
            mem / 2 - 46 * M,
            "/dev/shm".into(),
        ),
        ("tmpfs".into(), 5 * M, 0, 5 * M, "/run/lock".into()),
        (
            "efivarfs".into(),
            256 * K,
            98 * K,
            154 * K,
            "/sys/firmware/efi/efivars".into(),
        ),
        (
            "/dev/nvme0n1p2".into(),
            1022 * M,
            12 * M,
            1011 * M,
            "/boot/efi".into(),
        ),
        (
            "/dev/fuse".into(),
            128 * M,
            36 * K,
            128 * M - 36 * K,
            "/etc/pve".into(),
        ),
    ];
    for s in on_node(sim, n, "nfs") {
        let used: u64 = sim
            .cluster
            .volumes
            .iter()
            .filter(|v| v.storage == s.id)
            .map(|v| v.size)
            .sum::<u64>()
            .min(s.total);
        let extra = |k: &str| s.extra.get(k).and_then(|v| v.as_str()).map(str::to_owned);
        let source = format!(
            "{}:{}",
            extra("server").unwrap_or_default(),
            extra("export").unwrap_or_default()
        );
        let path = extra("path").unwrap_or_else(|| format!("/mnt/pve/{}", s.id));
        rows.push((source, s.total, used, s.total - used, path));
    }
    rows.push(("tmpfs".into(), mem / 10, 0, mem / 10, "/run/user/0".into()));
    let width = rows.iter().map(|r| r.0.len()).max().unwrap_or(0).max(10);
    let mut out = format!(
        "{:<width$} {:>5} {:>5} {:>5} Use% Mounted on\n",
        "Filesystem", "Size", "Used", "Avail"
    );
    for (fs, size, used, avail, mount) in rows {
        let pct = if used == 0 {
            0
        } else {
            (used * 100).div_ceil(used + avail)
        };
        out.push_str(&format!(
            "{fs:<width$} {:>5} {:>5} {:>5} {pct:>3}% {mount}\n",
            human(size),
            human(used),
            human(avail)
        ));
    }
    out
}

/// The enabled storages of plugin `kind` defined on node `n`.
fn on_node<'a>(sim: &'a Sim, n: &'a Node, kind: &'a str) -> impl Iterator<Item = &'a Storage> {
    sim.cluster.storages.values().filter(move |s| {
        s.kind == kind && s.enabled && s.nodes.as_ref().is_none_or(|list| list.contains(&n.name))
    })
}

/// The ZFS pools of the node: those its `zfspool` storages live on.
fn pools(sim: &Sim, n: &Node) -> Vec<String> {
    let mut pools: Vec<String> = on_node(sim, n, "zfspool")
        .filter_map(|s| s.extra.get("pool").and_then(|v| v.as_str()))
        .filter_map(|p| p.split('/').next())
        .map(str::to_owned)
        .collect();
    pools.sort();
    pools.dedup();
    pools
}

/// `zpool status [POOL]`.
fn zpool_status(sim: &Sim, n: &Node, only: Option<&str>) -> Reply {
    let pools = pools(sim, n);
    if let Some(p) = only
        && !pools.iter().any(|x| x == p)
    {
        return Reply::fail(1, format!("cannot open '{p}': no such pool\n"));
    }
    if pools.is_empty() {
        return Reply::ok("no pools available\n".into());
    }
    // Debian scrubs every pool on Sundays at 00:24; the last scrub finished minutes later.
    let days = (sim.now / 86_400.0).floor() as i64;
    let sunday = days - (days + 4).rem_euclid(7);
    let took = 95 + i64::from(n.nodeid) * 37 % 240;
    let ended = Date::at((sunday * 86_400 + 24 * 60 + took) as f64);
    let mut out = String::new();
    for (i, pool) in pools
        .iter()
        .filter(|p| only.is_none_or(|o| o == *p))
        .enumerate()
    {
        if i > 0 {
            out.push('\n');
        }
        let disk = |k: u32| {
            format!(
                "nvme-SAMSUNG_MZQL2960HCJR-00A07_S64FNE0R{:06}-part3",
                n.nodeid * 100 + k
            )
        };
        out.push_str(&format!(
            "  pool: {pool}\n state: ONLINE\n  scan: scrub repaired 0B in 00:{:02}:{:02} with 0 \
             errors on {}\nconfig:\n\n",
            took / 60,
            took % 60,
            ended.ctime()
        ));
        let row = |name: &str, indent: usize| {
            format!(
                "\t{:<w$}  ONLINE       0     0     0\n",
                format!("{}{name}", " ".repeat(indent)),
                w = 50
            )
        };
        out.push_str(&format!("\t{:<50}  STATE     READ WRITE CKSUM\n", "NAME"));
        out.push_str(&row(pool, 0));
        out.push_str(&row("mirror-0", 2));
        out.push_str(&row(&disk(1), 4));
        out.push_str(&row(&disk(2), 4));
        out.push_str("\nerrors: No known data errors\n");
    }
    Reply::ok(out)
}

/// `zpool status -x`.
fn zpool_healthy(sim: &Sim, n: &Node) -> Reply {
    if pools(sim, n).is_empty() {
        Reply::ok("no pools available\n".into())
    } else {
        Reply::ok("all pools are healthy\n".into())
    }
}
