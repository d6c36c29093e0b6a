//! The `summary: true` answer of `get_vms` and `get_containers`: how the fleet is, in a few
//! hundred tokens: counts by status and by node, and the top consumers of CPU and memory.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Serialize;

use super::guest_list::GuestLine;

/// How many guests each top list names.
const TOP: usize = 5;

/// Counts and top consumers of the guests that matched the filters.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Summary {
    /// Guests per status (`running`, `stopped`).
    pub(crate) by_status: BTreeMap<String, usize>,
    /// Guests per node.
    pub(crate) by_node: BTreeMap<String, usize>,
    /// Templates among them.
    pub(crate) templates: usize,
    /// The running guests using the most CPU, highest first.
    pub(crate) top_cpu: Vec<TopGuest>,
    /// The running guests using the most memory, highest first.
    pub(crate) top_memory: Vec<TopGuest>,
}

/// One guest of a top list.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct TopGuest {
    pub(crate) vmid: u32,
    pub(crate) name: String,
    pub(crate) node: String,
    /// CPU use in percent of its CPUs.
    pub(crate) cpu_percent: f64,
    /// Memory in use.
    pub(crate) memory_used_mb: u64,
}

/// The summary of `rows`.
pub(super) fn of(rows: &[GuestLine]) -> Summary {
    let mut by_status = BTreeMap::new();
    let mut by_node = BTreeMap::new();
    for g in rows {
        *by_status
            .entry(g.status.clone().unwrap_or_default())
            .or_insert(0) += 1;
        *by_node
            .entry(g.node.clone().unwrap_or_default())
            .or_insert(0) += 1;
    }
    let top = |key: fn(&GuestLine) -> f64| {
        let mut running: Vec<&GuestLine> = rows
            .iter()
            .filter(|g| g.status.as_deref() == Some("running"))
            .collect();
        running.sort_by(|a, b| key(b).total_cmp(&key(a)).then(a.vmid.cmp(&b.vmid)));
        running
            .into_iter()
            .take(TOP)
            .map(|g| TopGuest {
                vmid: g.vmid,
                name: g.name.clone().unwrap_or_default(),
                node: g.node.clone().unwrap_or_default(),
                cpu_percent: g.cpu_percent.unwrap_or(0.0),
                memory_used_mb: g.memory_used_mb.unwrap_or(0),
            })
            .collect()
    };
    Summary {
        by_status,
        by_node,
        templates: rows.iter().filter(|g| g.template).count(),
        top_cpu: top(|g| g.cpu_percent.unwrap_or(0.0)),
        #[allow(clippy::cast_precision_loss)]
        top_memory: top(|g| g.memory_used_mb.unwrap_or(0) as f64),
    }
}
