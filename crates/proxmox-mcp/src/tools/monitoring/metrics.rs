//! `get_metrics`: the RRD history of a node, a VM, a container or a storage over an hour, day,
//! week, month or year, as a few named series in the units people read, each summarised and
//! downsampled to at most `points` points.

use std::collections::BTreeMap;

use pve_client::GuestKind;
use pve_client::api::monitor::{RrdCf, RrdPoint, RrdTarget, RrdTimeframe};
use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize};

use super::series::{self, MB, Series, SeriesSpec, Source};
use crate::error::ToolError;
use crate::handler;
use crate::registry::lenient;
use crate::registry::{Access, ToolCtx, ToolDef, ToolSpec};
use crate::tools::common::trimmed;

/// Points returned when `points` is not given.
const DEFAULT_POINTS: u32 = 60;
/// Most points returned.
const MAX_POINTS: u32 = 200;

/// `get_metrics`.
pub(crate) fn get_metrics() -> ToolSpec {
    ToolSpec::new(
        ToolDef {
            name: "get_metrics",
            title: "Metrics history",
            description: "CPU, memory, disk and network history of a node, guest or storage, with min/avg/max. Use it for the past; get_node_status for now.",
            toolset: "monitoring",
            access: Access::Read,
            idempotent: true,
        },
        handler!(get_metrics_handler),
    )
}

/// The span of history (PVE's `timeframe`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Timeframe {
    #[default]
    Hour,
    Day,
    Week,
    Month,
    Year,
}

/// PVE's words for a value outside an enumeration.
fn not_in_enum<E: serde::de::Error>(value: &str, list: &[&str]) -> E {
    E::custom(format!(
        "value '{value}' does not have a value in the enumeration '{}'",
        list.join(", ")
    ))
}

impl<'de> Deserialize<'de> for Timeframe {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Ok(match s.as_str() {
            "hour" => Timeframe::Hour,
            "day" => Timeframe::Day,
            "week" => Timeframe::Week,
            "month" => Timeframe::Month,
            "year" => Timeframe::Year,
            other => {
                return Err(not_in_enum(
                    other,
                    &["hour", "day", "week", "month", "year"],
                ));
            }
        })
    }
}

impl Timeframe {
    fn pve(self) -> RrdTimeframe {
        match self {
            Timeframe::Hour => RrdTimeframe::Hour,
            Timeframe::Day => RrdTimeframe::Day,
            Timeframe::Week => RrdTimeframe::Week,
            Timeframe::Month => RrdTimeframe::Month,
            Timeframe::Year => RrdTimeframe::Year,
        }
    }
}

/// How each point folds its interval (PVE's `cf`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
pub(crate) enum Cf {
    #[default]
    Average,
    Max,
}

impl<'de> Deserialize<'de> for Cf {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        match s.as_str() {
            "AVERAGE" => Ok(Cf::Average),
            "MAX" => Ok(Cf::Max),
            other => Err(not_in_enum(other, &["AVERAGE", "MAX"])),
        }
    }
}

/// Parameters of `get_metrics`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct MetricsParams {
    /// Node (alone: its own history).
    #[serde(default)]
    pub(crate) node: Option<String>,
    /// A VM or container.
    #[serde(default, deserialize_with = "lenient::opt_int")]
    #[schemars(range(min = 100))]
    pub(crate) vmid: Option<u32>,
    /// A storage.
    #[serde(default)]
    pub(crate) storage: Option<String>,
    /// Span (default hour).
    #[serde(default)]
    pub(crate) timeframe: Timeframe,
    /// Per point: AVERAGE (default) or MAX.
    #[serde(default)]
    pub(crate) cf: Cf,
    /// Max points (default 60).
    #[serde(default, deserialize_with = "lenient::opt_int")]
    #[schemars(range(min = 1, max = 200))]
    pub(crate) points: Option<u32>,
}

/// Output of `get_metrics`.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct MetricsOutput {
    /// `node`, `vm`, `container` or `storage`.
    pub(crate) kind: &'static str,
    pub(crate) node: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) vmid: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) storage: Option<String>,
    pub(crate) timeframe: Timeframe,
    pub(crate) cf: Cf,
    /// End of the first point, Unix time.
    pub(crate) start: i64,
    /// End of the last point, Unix time.
    pub(crate) end: i64,
    /// Seconds between points.
    pub(crate) step_seconds: i64,
    /// Points per series.
    pub(crate) points: usize,
    /// Sizes at the newest point: cpus, memory_total_mb...
    pub(crate) totals: BTreeMap<&'static str, f64>,
    pub(crate) series: Vec<Series>,
}

const fn spec(name: &'static str, unit: &'static str, source: Source) -> SeriesSpec {
    SeriesSpec { name, unit, source }
}

const NODE_SERIES: &[SeriesSpec] = &[
    spec("cpu", "%", Source::Field("cpu", 100.0)),
    spec("iowait", "%", Source::Field("iowait", 100.0)),
    spec("loadavg", "load", Source::Field("loadavg", 1.0)),
    spec("memory_used", "MB", Source::Field("memused", 1.0 / MB)),
    spec("swap_used", "MB", Source::Field("swapused", 1.0 / MB)),
    spec("rootfs_used", "MB", Source::Field("rootused", 1.0 / MB)),
    spec("net_in", "MB/s", Source::Field("netin", 1.0 / MB)),
    spec("net_out", "MB/s", Source::Field("netout", 1.0 / MB)),
];
const NODE_TOTALS: &[(&str, &str, f64)] = &[
    ("cpus", "maxcpu", 1.0),
    ("memory_total_mb", "memtotal", 1.0 / MB),
    ("swap_total_mb", "swaptotal", 1.0 / MB),
    ("rootfs_total_mb", "roottotal", 1.0 / MB),
];

/// A guest's series; `disk_used` only for containers (PVE reports 0 for VMs).
const GUEST_SERIES: &[SeriesSpec] = &[
    spec("cpu", "%", Source::Field("cpu", 100.0)),
    spec("memory_used", "MB", Source::Field("mem", 1.0 / MB)),
    spec("disk_used", "MB", Source::Field("disk", 1.0 / MB)),
    spec("net_in", "MB/s", Source::Field("netin", 1.0 / MB)),
    spec("net_out", "MB/s", Source::Field("netout", 1.0 / MB)),
    spec("disk_read", "MB/s", Source::Field("diskread", 1.0 / MB)),
    spec("disk_write", "MB/s", Source::Field("diskwrite", 1.0 / MB)),
];
const GUEST_TOTALS: &[(&str, &str, f64)] = &[
    ("cpus", "maxcpu", 1.0),
    ("memory_total_mb", "maxmem", 1.0 / MB),
    ("disk_total_mb", "maxdisk", 1.0 / MB),
];

const STORAGE_SERIES: &[SeriesSpec] = &[
    spec("used", "MB", Source::Field("used", 1.0 / MB)),
    spec("used_percent", "%", Source::Percent("used", "total")),
];
const STORAGE_TOTALS: &[(&str, &str, f64)] = &[("total_mb", "total", 1.0 / MB)];

/// The node where `storage` is active: the first online node listing it.
async fn storage_node(ctx: &ToolCtx, storage: &str) -> Result<String, ToolError> {
    ctx.client
        .list_storage()
        .await?
        .into_iter()
        .filter(|r| r.storage.as_deref() == Some(storage))
        .filter(|r| r.status.as_deref() == Some("available"))
        .find_map(|r| r.node)
        .ok_or_else(|| ToolError::Pve {
            status: Some(404),
            message: format!(
                "storage '{storage}' does not exist or is not active on an online node \
                 (call get_storage to see the storages)"
            ),
        })
}

/// A lookup error for guest `vmid`, a missing one worded so the agent knows what to do.
fn no_such_guest(e: pve_client::Error, vmid: u32) -> ToolError {
    if e.kind() == pve_client::ErrorKind::NotFound && e.status() != Some(501) {
        return ToolError::Pve {
            status: e.status().or(Some(404)),
            message: format!(
                "guest {vmid} does not exist (call get_vms or get_containers to see the existing VMIDs)"
            ),
        };
    }
    e.into()
}

async fn get_metrics_handler(ctx: &ToolCtx, p: MetricsParams) -> Result<MetricsOutput, ToolError> {
    let max_points = p.points.unwrap_or(DEFAULT_POINTS);
    if !(1..=MAX_POINTS).contains(&max_points) {
        return Err(ToolError::invalid(
            "points",
            format!("must be between 1 and {MAX_POINTS}"),
        ));
    }
    let (node, storage) = (trimmed(p.node), trimmed(p.storage));
    if p.vmid.is_some() && storage.is_some() {
        return Err(ToolError::invalid(
            "storage",
            "give vmid or storage, not both",
        ));
    }
    if let Some(v) = p.vmid
        && v < 100
    {
        return Err(ToolError::invalid("vmid", "VMIDs start at 100"));
    }
    let (kind, node, target_kind, specs, totals) = if let Some(vmid) = p.vmid {
        let loc = ctx
            .client
            .find_guest(vmid)
            .await
            .map_err(|e| no_such_guest(e, vmid))?;
        let node = node.unwrap_or(loc.node);
        let name = match loc.kind {
            GuestKind::Qemu => "vm",
            GuestKind::Lxc => "container",
        };
        (
            name,
            node,
            RrdTarget::Guest(loc.kind, vmid),
            GUEST_SERIES,
            GUEST_TOTALS,
        )
    } else if let Some(st) = storage.as_deref() {
        let node = match node {
            Some(n) => n,
            None => storage_node(ctx, st).await?,
        };
        (
            "storage",
            node,
            RrdTarget::Storage(st),
            STORAGE_SERIES,
            STORAGE_TOTALS,
        )
    } else {
        let node = node
            .ok_or_else(|| ToolError::invalid("node", "is required (or give vmid or storage)"))?;
        ("node", node, RrdTarget::Node, NODE_SERIES, NODE_TOTALS)
    };
    let points: Vec<RrdPoint> = ctx
        .client
        .rrd_data(&node, target_kind, p.timeframe.pve(), p.cf.pve())
        .await?;
    let size = series::group_size(points.len(), max_points as usize);
    let times = series::times(&points, size);
    let peak = p.cf == Cf::Max;
    let series = specs
        .iter()
        .filter(|s| !(kind == "vm" && s.name == "disk_used"))
        .map(|s| series::extract(*s, &points, size, peak))
        .collect();
    let newest = points.last();
    let totals = totals
        .iter()
        .filter_map(|(name, field, factor)| {
            let v = newest?.values.get(*field)?;
            Some((*name, series::compact(v * factor)))
        })
        .collect();
    let raw_step = match points.as_slice() {
        [.., a, b] => b.time - a.time,
        _ => 0,
    };
    Ok(MetricsOutput {
        kind,
        node,
        vmid: p.vmid,
        storage,
        timeframe: p.timeframe,
        cf: p.cf,
        start: times.first().copied().unwrap_or_default(),
        end: times.last().copied().unwrap_or_default(),
        step_seconds: raw_step * size as i64,
        points: times.len(),
        totals,
        series,
    })
}

impl Cf {
    fn pve(self) -> RrdCf {
        match self {
            Cf::Average => RrdCf::Average,
            Cf::Max => RrdCf::Max,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    fn parse_params(v: serde_json::Value) -> Result<MetricsParams, serde_json::Error> {
        serde_json::from_value(v)
    }

    #[test]
    fn a_bad_timeframe_or_cf_gets_pve_words() {
        let e = parse_params(json!({"node": "a", "timeframe": "decade"}))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains(
                    "value 'decade' does not have a value in the enumeration 'hour, day, week, month, year'"
                ),
            "{e}"
        );
        let e = parse_params(json!({"node": "a", "cf": "min"}))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("value 'min'") && e.contains("'AVERAGE, MAX'"),
            "{e}"
        );
        let p = parse_params(json!({"node": "a"})).unwrap();
        assert_eq!((p.timeframe, p.cf), (Timeframe::Hour, Cf::Average));
    }
}
