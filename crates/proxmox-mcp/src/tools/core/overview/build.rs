//! The overview from the cluster's answers, without I/O: counts per node, storage fullest
//! first, locks, the last task of each guest, HA states, and the problems worth a line.

use std::collections::{BTreeMap, HashSet};

use pve_client::api::cluster::{ClusterResource, ClusterStatusEntry};
use pve_client::api::ha::HaStatusEntry;
use pve_client::api::tasks::TaskSummary;

use super::{
    FailedTask, GuestCounts, HaSummary, LIST_CAP, LockedGuest, NodeLine, OverviewOutput,
    STORAGE_CAP, StorageUse,
};
use crate::tools::common::{gib, percent};

/// A 0..1 fraction as a whole percentage (what a glance needs, in fewer tokens).
fn whole_percent(fraction: f64) -> u32 {
    percent(fraction).round().clamp(0.0, 1000.0) as u32
}

/// A storage or node this full (percent) is a problem.
const FULL: u32 = 90;

/// HA service states that need a look.
const HA_BAD: &[&str] = &["error", "fence", "recovery"];

/// What the overview is made from.
pub(super) struct Inputs {
    pub(super) resources: Vec<ClusterResource>,
    pub(super) status: Vec<ClusterStatusEntry>,
    /// The cluster's recent tasks, or why they could not be read.
    pub(super) tasks: Result<Vec<pve_client::api::tasks::TaskSummary>, String>,
    pub(super) ha: Option<Vec<HaStatusEntry>>,
}

/// Builds the overview.
pub(super) fn overview(i: Inputs) -> OverviewOutput {
    let mut problems = Vec::new();
    let cluster = i.status.iter().find(|e| e.kind == "cluster");
    let quorate = cluster.and_then(|c| c.quorate).unwrap_or(true);
    if !quorate {
        problems.push("the cluster has no quorum".to_string());
    }

    let mut nodes = node_lines(&i.resources);
    let mut memory_full = Vec::new();
    for n in &mut nodes {
        let online = i
            .status
            .iter()
            .find(|e| e.kind == "node" && e.name == n.node)
            .and_then(|e| e.online);
        if online == Some(false) && n.status == "online" {
            n.status = "offline".into();
        }
        if n.status != "online" {
            problems.push(format!("node {} is {}", n.node, n.status));
        }
        if let Some(m) = n.memory_percent.filter(|m| *m >= FULL) {
            memory_full.push(format!("{} ({m}%)", n.node));
        }
    }
    if !memory_full.is_empty() {
        problems.push(format!(
            "memory at least {FULL}% used on {}",
            memory_full.join(", ")
        ));
    }

    let mut guests = GuestCounts::default();
    let mut locked = Vec::new();
    for g in i.resources.iter().filter(|r| r.guest_kind().is_some()) {
        match g.kind.as_str() {
            "qemu" => guests.vms += 1,
            _ => guests.containers += 1,
        }
        match (g.template, g.status.as_deref()) {
            (true, _) => guests.templates += 1,
            (false, Some("running")) => guests.running += 1,
            _ => guests.stopped += 1,
        }
        if let (Some(vmid), Some(lock)) = (g.vmid, g.lock.as_deref().filter(|l| !l.is_empty())) {
            locked.push(LockedGuest {
                vmid,
                node: g.node.clone().unwrap_or_default(),
                lock: lock.to_string(),
            });
        }
    }
    locked.sort_by_key(|l| l.vmid);
    if !locked.is_empty() {
        problems.push(format!("{} guest(s) locked", locked.len()));
    }
    locked.truncate(LIST_CAP);

    let (mut storage, storage_total) = storage_use(&i.resources);
    let full = storage.iter().filter(|s| s.used_percent >= FULL).count();
    if full > 0 {
        problems.push(format!("{full} storage(s) at least {FULL}% full"));
    }
    storage.truncate(STORAGE_CAP);

    let mut failed_tasks = match &i.tasks {
        Ok(tasks) => failed(tasks),
        Err(e) => {
            problems.push(format!("recent tasks not readable: {e}"));
            Vec::new()
        }
    };
    if !failed_tasks.is_empty() {
        problems.push(format!("{} recent task(s) failed", failed_tasks.len()));
    }
    failed_tasks.truncate(LIST_CAP);

    let ha = i.ha.as_deref().and_then(|e| ha_summary(e, &mut problems));

    OverviewOutput {
        cluster: cluster.map(|c| c.name.clone()),
        quorate,
        problems,
        nodes,
        guests,
        storage,
        storage_total,
        locked,
        failed_tasks,
        ha,
    }
}

/// One line per node, with its guests counted by status.
fn node_lines(resources: &[ClusterResource]) -> Vec<NodeLine> {
    let mut by_name: BTreeMap<String, NodeLine> = resources
        .iter()
        .filter(|r| r.kind == "node")
        .filter_map(|r| {
            let name = r.node.clone()?;
            let online = r.status.as_deref() == Some("online");
            let ratio = |used: Option<u64>, max: Option<u64>| match (used, max) {
                (Some(u), Some(m)) if online && m > 0 => Some(whole_percent(u as f64 / m as f64)),
                _ => None,
            };
            Some((
                name.clone(),
                NodeLine {
                    node: name,
                    status: r.status.clone().unwrap_or_else(|| "unknown".into()),
                    cpu_percent: r.cpu.filter(|_| online).map(whole_percent),
                    memory_percent: ratio(r.mem, r.maxmem),
                    running: 0,
                    stopped: 0,
                },
            ))
        })
        .collect();
    for g in resources.iter().filter(|r| r.guest_kind().is_some()) {
        if let Some(n) = g.node.as_ref().and_then(|n| by_name.get_mut(n)) {
            match (g.template, g.status.as_deref()) {
                (true, _) => {}
                (false, Some("running")) => n.running += 1,
                _ => n.stopped += 1,
            }
        }
    }
    by_name.into_values().collect()
}

/// The storages with a size, fullest first (a shared storage once), and how many there are.
fn storage_use(resources: &[ClusterResource]) -> (Vec<StorageUse>, usize) {
    let mut seen_shared = HashSet::new();
    let mut out: Vec<StorageUse> = resources
        .iter()
        .filter(|r| r.kind == "storage")
        .filter(|r| {
            let shared = r.shared.unwrap_or(false);
            !shared || seen_shared.insert(r.storage.clone())
        })
        .map(|r| {
            let shared = r.shared.unwrap_or(false);
            let (used, total) = (r.disk.unwrap_or(0), r.maxdisk.unwrap_or(0));
            StorageUse {
                storage: r.storage.clone().unwrap_or_default(),
                node: r.node.clone().filter(|_| !shared),
                used_percent: if total > 0 {
                    whole_percent(used as f64 / total as f64)
                } else {
                    0
                },
                total_gb: gib(total).round() as u64,
            }
        })
        .collect();
    let total = out.len();
    out.sort_by(|a, b| {
        b.used_percent
            .cmp(&a.used_percent)
            .then_with(|| (&a.storage, &a.node).cmp(&(&b.storage, &b.node)))
    });
    (out, total)
}

/// Whether a finished task failed (PVE counts `WARNINGS: n` as success).
fn is_failure(t: &TaskSummary) -> bool {
    t.status
        .as_deref()
        .is_some_and(|s| s != "OK" && !s.starts_with("WARNINGS"))
}

/// The failed tasks worth a line, newest first: a guest's only when it is the guest's last
/// finished task (a later success clears it), and every failed task of a node job.
fn failed(tasks: &[TaskSummary]) -> Vec<FailedTask> {
    let mut sorted: Vec<&TaskSummary> = tasks.iter().filter(|t| t.status.is_some()).collect();
    sorted.sort_by_key(|t| std::cmp::Reverse(t.starttime));
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for t in sorted {
        let vmid: Option<u32> = t.id.parse().ok();
        if let Some(v) = vmid
            && !seen.insert(v)
        {
            continue;
        }
        if is_failure(t) {
            out.push(FailedTask {
                vmid,
                node: t.node.clone(),
                kind: t.task_type.clone(),
                error: t.status.clone().unwrap_or_default(),
                upid: t.upid.clone(),
            });
        }
    }
    out
}

/// HA in brief, when it manages guests or its manager is unwell; adds its problems.
fn ha_summary(entries: &[HaStatusEntry], problems: &mut Vec<String>) -> Option<HaSummary> {
    let quorum = entries.iter().find(|e| e.kind == "quorum");
    let quorum_ok = quorum.is_none_or(|q| q.quorate != Some(false));
    let mut resources: BTreeMap<String, usize> = BTreeMap::new();
    for s in entries.iter().filter(|e| e.kind == "service") {
        let state = s.state.clone().unwrap_or_else(|| s.status.clone());
        if HA_BAD.contains(&state.as_str()) {
            problems.push(format!(
                "HA resource {} is in state {state}",
                s.sid.as_deref().unwrap_or(&s.id)
            ));
        }
        *resources.entry(state).or_insert(0) += 1;
    }
    for l in entries.iter().filter(|e| e.kind == "lrm") {
        if l.status.contains("dead") {
            problems.push(format!("HA on node {}: {}", l.node, l.status));
        }
    }
    if resources.is_empty() && quorum_ok {
        return None;
    }
    if !quorum_ok {
        problems.push("HA has no quorum".to_string());
    }
    Some(HaSummary {
        quorum: quorum.map_or_else(|| "unknown".into(), |q| q.status.clone()),
        master: entries
            .iter()
            .find(|e| e.kind == "master")
            .map(|m| m.node.clone())
            .filter(|n| !n.is_empty()),
        resources,
    })
}
