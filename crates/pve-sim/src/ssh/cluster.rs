//! The cluster as one simulated node sees it over SSH: `pvecm status` (corosync's view: the
//! cluster's name and config version, quorum from the nodes online, the members' addresses) and
//! `journalctl` for `pve-cluster` (pmxcfs starting when the node booted, joining the cluster,
//! then verifying its data every hour until now).

use super::commands::Reply;
use super::date::Date;
use crate::Sim;
use crate::state::Node;

/// `pvecm status` on node `n`.
pub(super) fn pvecm_status(sim: &Sim, n: &Node) -> Reply {
    let c = &sim.cluster;
    let Some(name) = &c.name else {
        return Reply::fail(
            255,
            "Error: Corosync config '/etc/pve/corosync.conf' does not exist - is this node part \
             of a cluster?\n"
                .into(),
        );
    };
    let mut nodes: Vec<&Node> = c.nodes.values().collect();
    nodes.sort_by_key(|x| x.nodeid);
    let online: Vec<&Node> = nodes.iter().copied().filter(|x| x.online).collect();
    let expected = nodes.len();
    let total = online.len();
    let quorum = expected / 2 + 1;
    let quorate = total >= quorum;
    let ring = format!(
        "{}.{:x}",
        online.first().map_or(n.nodeid, |x| x.nodeid),
        0x20 + c.config_version
    );
    let mut out = format!(
        "Cluster information\n\
         -------------------\n\
         Name:             {name}\n\
         Config Version:   {}\n\
         Transport:        knet\n\
         Secure auth:      on\n\
         \n\
         Quorum information\n\
         ------------------\n\
         Date:             {}\n\
         Quorum provider:  corosync_votequorum\n\
         Nodes:            {total}\n\
         Node ID:          0x{:08x}\n\
         Ring ID:          {ring}\n\
         Quorate:          {}\n\
         \n\
         Votequorum information\n\
         ----------------------\n\
         Expected votes:   {expected}\n\
         Highest expected: {expected}\n\
         Total votes:      {total}\n\
         Quorum:           {quorum}  {}\n\
         Flags:            {}\n\
         \n\
         Membership information\n\
         ----------------------\n\
         \x20   Nodeid      Votes Name\n",
        c.config_version,
        Date::at(sim.now).ctime(),
        n.nodeid,
        if quorate { "Yes" } else { "No" },
        if quorate { "" } else { "Activity blocked" },
        if quorate { "Quorate " } else { "" },
    );
    for m in online {
        let local = if m.name == n.name { " (local)" } else { "" };
        out.push_str(&format!("0x{:08x} {:>10} {}{local}\n", m.nodeid, 1, m.ip));
    }
    Reply::ok(out)
}

/// `journalctl [-u UNIT] [-n N] [--no-pager]` on node `n`: the journal holds `pve-cluster`'s
/// lines; other units have none.
pub(super) fn journalctl(sim: &Sim, n: &Node, args: &[&str]) -> Reply {
    let mut unit: Option<&str> = None;
    let mut lines: Option<&str> = None;
    let mut it = args.iter().copied();
    while let Some(a) = it.next() {
        let (slot, value) = match a {
            "--no-pager" | "-q" | "--quiet" => continue,
            "-u" | "--unit" => (&mut unit, it.next()),
            "-n" | "--lines" => (&mut lines, it.next()),
            _ => {
                if let Some(v) = a.strip_prefix("--unit=").or_else(|| a.strip_prefix("-u")) {
                    (&mut unit, Some(v))
                } else if let Some(v) = a.strip_prefix("--lines=").or_else(|| a.strip_prefix("-n"))
                {
                    (&mut lines, Some(v))
                } else if a.starts_with('-') {
                    return Reply::fail(1, format!("journalctl: unrecognized option '{a}'\n"));
                } else {
                    return Reply::fail(
                        1,
                        format!("Failed to add match '{a}': Invalid argument\n"),
                    );
                }
            }
        };
        match value {
            Some(v) if !v.is_empty() => *slot = Some(v),
            _ => {
                return Reply::fail(
                    1,
                    format!("journalctl: option '{a}' requires an argument\n"),
                );
            }
        }
    }
    let limit = match lines {
        None => None,
        Some(v) => match v.parse::<usize>() {
            Ok(n) => Some(n),
            Err(_) => return Reply::fail(1, format!("Failed to parse lines '{v}'.\n")),
        },
    };
    let unit = unit.map(|u| u.strip_suffix(".service").unwrap_or(u));
    if unit.is_some_and(|u| u != "pve-cluster") {
        return Reply::ok("-- No entries --\n".into());
    }
    let journal = PveCluster::new(sim, n);
    let total = journal.len();
    if total == 0 {
        return Reply::ok("-- No entries --\n".into());
    }
    let first = limit.map_or(0, |l| total.saturating_sub(l));
    let mut out = String::new();
    for i in first..total {
        out.push_str(&journal.line(i));
        out.push('\n');
    }
    Reply::ok(out)
}

/// The `pve-cluster` journal of one node: start-up lines at boot, then one line an hour.
struct PveCluster<'a> {
    node: &'a Node,
    pid: u32,
    start: Vec<(f64, String, String)>,
    hourly: usize,
}

impl<'a> PveCluster<'a> {
    fn new(sim: &Sim, node: &'a Node) -> Self {
        let pid = pmxcfs_pid(node);
        let boot = node.boot_time;
        let mut start = vec![
            (
                6.0,
                "systemd[1]".to_owned(),
                "Starting pve-cluster.service - The Proxmox VE cluster filesystem...".to_owned(),
            ),
            (
                6.0,
                format!("pmxcfs[{}]", pid - 1),
                format!(
                    "[main] notice: resolved node name '{}' to '{}' for default node IP address",
                    node.name, node.ip
                ),
            ),
        ];
        let daemon = format!("pmxcfs[{pid}]");
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
                start.push((8.0, daemon.clone(), msg));
            }
        }
        start.push((
            9.0,
            "systemd[1]".to_owned(),
            "Started pve-cluster.service - The Proxmox VE cluster filesystem.".to_owned(),
        ));
        let hourly = ((sim.now - boot - 9.0) / 3600.0).floor().max(0.0) as usize;
        start.retain(|(at, _, _)| boot + at <= sim.now);
        Self {
            node,
            pid,
            start,
            hourly,
        }
    }

    fn len(&self) -> usize {
        self.start.len() + self.hourly
    }

    /// Line `i`, as journalctl's short format prints it.
    fn line(&self, i: usize) -> String {
        let boot = self.node.boot_time;
        let (at, who, msg) = match self.start.get(i) {
            Some((at, who, msg)) => (boot + at, who.clone(), msg.clone()),
            None => {
                let k = (i - self.start.len() + 1) as f64;
                (
                    boot + 9.0 + k * 3600.0,
                    format!("pmxcfs[{}]", self.pid),
                    "[dcdb] notice: data verification successful".to_owned(),
                )
            }
        };
        format!("{} {} {who}: {msg}", Date::at(at).short(), self.node.name)
    }
}

/// The pid of a node's pmxcfs daemon (deterministic per node).
fn pmxcfs_pid(n: &Node) -> u32 {
    1_100 + n.nodeid * 53 % 700
}
