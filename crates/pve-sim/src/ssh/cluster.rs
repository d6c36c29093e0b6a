//! The cluster as one simulated node sees it over SSH: `pvecm status` (corosync's view: the
//! cluster's name and config version, quorum from the nodes online, the members' addresses) and
//! `journalctl` for `pve-cluster` (pmxcfs starting when the node booted, joining the cluster,
//! then verifying its data every hour until now).

use super::commands::Reply;
use super::date::Date;
use crate::Sim;
use crate::journal::{Entry, entries};
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

/// `journalctl [-u UNIT] [-n N] [--no-pager]` on node `n`: the node's journal since boot
/// ([`crate::journal`]: the cluster filesystem, the PVE daemons, cron, the tasks that ran).
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
    let journal: Vec<Entry> = entries(sim, n, n.boot_time as i64, sim.now as i64)
        .into_iter()
        .filter(|e| unit.is_none_or(|u| e.unit == u))
        .collect();
    if journal.is_empty() {
        return Reply::ok("-- No entries --\n".into());
    }
    let first = limit.map_or(0, |l| journal.len().saturating_sub(l));
    let mut out = String::new();
    for e in &journal[first..] {
        out.push_str(&e.short(n));
        out.push('\n');
    }
    Reply::ok(out)
}
