//! A node's journal: what its daemons and its tasks wrote, derived from the cluster's state and
//! the task list, deterministic in time. The API's syslog and journal (`routes/monitor/logs.rs`)
//! and the nodes' `journalctl` over SSH read the same entries.

use crate::Sim;
use crate::clock::syslog_stamp;
use crate::state::Node;
use crate::tasks::Task;

/// One entry: when, which systemd unit, which daemon (and pid), what it said.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Entry {
    pub(crate) time: i64,
    /// The unit `journalctl -u` and the syslog's `service` select by (`""` for the kernel).
    pub(crate) unit: &'static str,
    pub(crate) ident: &'static str,
    pub(crate) pid: u32,
    pub(crate) msg: String,
}

impl Entry {
    /// The entry in journalctl's short form: `Dec 07 03:00:01 pve01 pvedaemon[1234]: ...`.
    pub(crate) fn short(&self, node: &Node) -> String {
        format!(
            "{} {} {}",
            syslog_stamp(self.time),
            node.name,
            self.after_host()
        )
    }

    /// What follows the host name: `pvedaemon[1234]: ...` (`kernel: ...` for the kernel).
    pub(crate) fn after_host(&self) -> String {
        if self.pid == 0 {
            format!("{}: {}", self.ident, self.msg)
        } else {
            format!("{}[{}]: {}", self.ident, self.pid, self.msg)
        }
    }
}

/// The most entries one read returns (the newest kept).
pub(crate) const MAX_LINES: usize = 5_000;

/// A daemon's pid on a node, stable across the node's uptime.
fn pid(node: &Node, ident: &str) -> u32 {
    let h = ident.bytes().fold(node.nodeid.wrapping_mul(7919), |a, b| {
        a.wrapping_mul(31).wrapping_add(u32::from(b))
    });
    900 + h % 3000
}

/// The pid of a node's pmxcfs daemon (deterministic per node).
fn pmxcfs_pid(n: &Node) -> u32 {
    1_100 + n.nodeid * 53 % 700
}

/// The `pve-cluster` unit's lines: start-up at boot (systemd, then pmxcfs joining the cluster),
/// then pmxcfs's hourly data verification.
fn pve_cluster(sim: &Sim, node: &Node, out: &mut Vec<Entry>) {
    let boot = node.boot_time as i64;
    let pid = pmxcfs_pid(node);
    let mut at = |dt: i64, ident: &'static str, pid: u32, msg: String| {
        out.push(Entry {
            time: boot + dt,
            unit: "pve-cluster",
            ident,
            pid,
            msg,
        });
    };
    at(
        6,
        "systemd",
        1,
        "Starting pve-cluster.service - The Proxmox VE cluster filesystem...".into(),
    );
    at(
        6,
        "pmxcfs",
        pid - 1,
        format!(
            "[main] notice: resolved node name '{}' to '{}' for default node IP address",
            node.name, node.ip
        ),
    );
    if let Some(name) = &sim.cluster.name {
        let mut members: Vec<&Node> = sim.cluster.nodes.values().filter(|x| x.online).collect();
        members.sort_by_key(|x| x.nodeid);
        let list = members
            .iter()
            .map(|m| format!("{}/{}", m.nodeid, pmxcfs_pid(m)))
            .collect::<Vec<_>>()
            .join(", ");
        let leader = members.first().map_or(node, |m| *m);
        let leader = format!("{}/{}", leader.nodeid, pmxcfs_pid(leader));
        for msg in [
            format!(
                "[status] notice: update cluster info (cluster name  {name}, version = {})",
                sim.cluster.config_version
            ),
            "[status] notice: node has quorum".to_owned(),
            format!("[dcdb] notice: members: {list}"),
            "[dcdb] notice: starting data syncronisation".to_owned(),
            format!("[dcdb] notice: received sync request (epoch {leader}/00000001)"),
            "[dcdb] notice: received all states".to_owned(),
            format!("[dcdb] notice: leader is {leader}"),
            format!("[dcdb] notice: synced members: {list}"),
            "[dcdb] notice: all data is up to date".to_owned(),
        ] {
            at(8, "pmxcfs", pid, msg);
        }
    }
    at(
        9,
        "systemd",
        1,
        "Started pve-cluster.service - The Proxmox VE cluster filesystem.".into(),
    );
    let mut k = 1;
    while boot + 9 + k * 3600 <= sim.now as i64 {
        at(
            9 + k * 3600,
            "pmxcfs",
            pid,
            "[dcdb] notice: data verification successful".into(),
        );
        k += 1;
    }
}

/// The lines a node writes on its own since boot: the kernel, the cluster filesystem, the PVE
/// daemons starting, the hourly cron and pveproxy recycling a worker every 3 hours.
fn own_lines(sim: &Sim, node: &Node, from: i64, to: i64) -> Vec<Entry> {
    let mut out = Vec::new();
    if !node.online {
        return out;
    }
    let boot = node.boot_time as i64;
    out.push(Entry {
        time: boot,
        unit: "",
        ident: "kernel",
        pid: 0,
        msg: format!("Linux version {}", node.kversion),
    });
    pve_cluster(sim, node, &mut out);
    for (dt, ident) in [(11, "pvedaemon"), (12, "pveproxy"), (13, "pvestatd")] {
        out.push(Entry {
            time: boot + dt,
            unit: ident,
            ident,
            pid: pid(node, ident),
            msg: "starting server".into(),
        });
    }
    // Hourly cron, at :17:01.
    let after_boot = from.max(boot + 1);
    let mut t = (after_boot - 1021 + 3599).div_euclid(3600) * 3600 + 1021;
    while t <= to {
        out.push(Entry {
            time: t,
            unit: "cron",
            ident: "CRON",
            pid: (t / 60 % 30_000) as u32 + 1_000,
            msg: "(root) CMD (cd / && run-parts --report /etc/cron.hourly)".into(),
        });
        t += 3600;
    }
    // pveproxy recycles a worker every 3 hours.
    let mut t = (after_boot + 10_799).div_euclid(10_800) * 10_800;
    while t <= to {
        let old = (t / 10_800 % 9_000) as u32 + 10_000;
        for msg in [
            format!("worker {old} finished"),
            format!("worker {} started", old + 1),
        ] {
            out.push(Entry {
                time: t,
                unit: "pveproxy",
                ident: "pveproxy",
                pid: pid(node, "pveproxy"),
                msg,
            });
        }
        t += 10_800;
    }
    out.retain(|e| (from..=to).contains(&e.time));
    out
}

/// The lines tasks of `node` wrote between `from` and `to`: each task's start and its end with
/// the exit status, as pvedaemon logs them.
pub(crate) fn task_lines<'a>(
    tasks: impl Iterator<Item = &'a Task>,
    node: &Node,
    from: i64,
    to: i64,
) -> Vec<Entry> {
    let mut out = Vec::new();
    for t in tasks.filter(|t| t.node == node.name) {
        let user = t.user.split('!').next().unwrap_or(&t.user);
        let mut line = |time: i64, msg: String| {
            if (from..=to).contains(&time) {
                out.push(Entry {
                    time,
                    unit: "pvedaemon",
                    ident: "pvedaemon",
                    pid: pid(node, "pvedaemon"),
                    msg,
                });
            }
        };
        line(t.starttime, format!("<{user}> starting task {}", t.upid));
        if let (Some(end), Some(status)) = (t.endtime, &t.exitstatus) {
            line(end, format!("<{user}> end task {} {status}", t.upid));
        }
    }
    out
}

/// Every entry of `node` between `from` and `to` (epoch seconds, both included), oldest first;
/// at most [`MAX_LINES`], the newest kept.
pub(crate) fn entries(sim: &Sim, node: &Node, from: i64, to: i64) -> Vec<Entry> {
    let mut out = own_lines(sim, node, from, to);
    out.extend(task_lines(sim.tasks.by_upid.values(), node, from, to));
    // Stable: lines written at the same second keep the order they were written in.
    out.sort_by_key(|e| e.time);
    if out.len() > MAX_LINES {
        out.drain(..out.len() - MAX_LINES);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::demo_sim;

    #[test]
    fn the_journal_runs_from_boot_in_order() {
        let sim = demo_sim();
        let node = &sim.cluster.nodes["pve01"];
        let boot = node.boot_time as i64;
        let all = entries(&sim, node, boot, sim.now as i64);
        assert_eq!(all[0].msg, format!("Linux version {}", node.kversion));
        assert!(all.windows(2).all(|w| w[0].time <= w[1].time));
        let cluster: Vec<&Entry> = all.iter().filter(|e| e.unit == "pve-cluster").collect();
        assert!(cluster[0].msg.starts_with("Starting pve-cluster.service"));
        assert!(
            cluster
                .iter()
                .any(|e| e.msg.contains("[dcdb] notice: members: "))
        );
        assert!(
            all.iter()
                .filter(|e| e.unit == "cron")
                .all(|e| e.time % 3600 == 1021)
        );
    }
}
