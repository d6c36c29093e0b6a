//! Monitoring calls: RRD history of a node, guest or storage (`.../rrddata`), a node's journal,
//! the cluster log, a node's system services and its pending package updates.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::cache::GuestKind;
use crate::client::PveClient;
use crate::de;
use crate::error::Error;
use crate::params::{ApiPath, Params, node_path};

use super::guest::guest_path;

/// The span of an RRD history (`timeframe`): PVE keeps about 70 points for each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RrdTimeframe {
    /// A point a minute.
    Hour,
    /// A point every 30 minutes.
    Day,
    /// A point every 3 hours.
    Week,
    /// A point every 12 hours.
    Month,
    /// A point a week.
    Year,
}

impl RrdTimeframe {
    /// PVE's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            RrdTimeframe::Hour => "hour",
            RrdTimeframe::Day => "day",
            RrdTimeframe::Week => "week",
            RrdTimeframe::Month => "month",
            RrdTimeframe::Year => "year",
        }
    }
}

/// The consolidation function of an RRD history (`cf`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum RrdCf {
    /// The mean over each point's interval (PVE's default).
    #[default]
    Average,
    /// The peak within each point's interval.
    Max,
}

impl RrdCf {
    /// PVE's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            RrdCf::Average => "AVERAGE",
            RrdCf::Max => "MAX",
        }
    }
}

/// Whose history: the node itself, one of its guests, or a storage as the node sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RrdTarget<'a> {
    Node,
    Guest(GuestKind, u32),
    Storage(&'a str),
}

/// One point of an RRD history: its end time and the figures it has (PVE leaves out a figure
/// it has no data for).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RrdPoint {
    /// Unix time.
    pub time: i64,
    /// Figure name (`cpu`, `mem`, `netin`, `used`...) to value, as PVE gives it (fractions,
    /// bytes, bytes per second).
    pub values: BTreeMap<String, f64>,
}

impl RrdPoint {
    fn from_map(m: Map<String, Value>) -> Option<Self> {
        let time = m.get("time").and_then(number)? as i64;
        let values = m
            .iter()
            .filter(|(k, _)| k.as_str() != "time")
            .filter_map(|(k, v)| number(v).map(|n| (k.clone(), n)))
            .collect();
        Some(RrdPoint { time, values })
    }
}

/// A JSON number, or a string holding one (PVE's habit).
fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Filters of `GET /nodes/{node}/journal`. PVE refuses `lastentries` together with a range.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JournalQuery {
    /// Unix time.
    pub since: Option<i64>,
    /// Unix time.
    pub until: Option<i64>,
    /// Only the newest N entries.
    pub lastentries: Option<u32>,
}

/// A page of a node's journal: its lines (oldest first) between two cursors.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JournalPage {
    /// Lines as `journalctl -o short-iso` writes them.
    pub lines: Vec<String>,
    /// The cursor before the first line, when PVE gives one.
    pub start_cursor: Option<String>,
    /// The cursor after the last line, when PVE gives one.
    pub end_cursor: Option<String>,
}

/// Whether a journal answer's item is a cursor rather than a line (`s=...;i=...`).
fn is_cursor(s: &str) -> bool {
    s.starts_with("s=") && s.contains(";i=") && !s.contains(' ')
}

/// One entry of `GET /cluster/log`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ClusterLogEntry {
    pub uid: String,
    /// Unix time.
    #[serde(deserialize_with = "de::int")]
    pub time: i64,
    /// Syslog priority: 0 (emergency) to 7 (debug).
    #[serde(deserialize_with = "de::int")]
    pub pri: u8,
    pub tag: String,
    #[serde(deserialize_with = "de::int")]
    pub pid: u64,
    pub node: String,
    pub user: String,
    #[serde(deserialize_with = "de::string")]
    pub msg: String,
}

/// One entry of `GET /nodes/{node}/services`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct NodeService {
    /// Unit name without `.service` (`pveproxy`).
    pub service: String,
    pub name: String,
    pub desc: String,
    /// systemd SubState: `running`, `dead`, `failed`, `exited`...
    pub state: String,
    /// systemd ActiveState: `active`, `inactive`, `failed`...
    #[serde(rename = "active-state")]
    pub active_state: String,
    /// systemd UnitFileState: `enabled`, `disabled`, `not-found`...
    #[serde(rename = "unit-state")]
    pub unit_state: String,
}

/// One entry of `GET /nodes/{node}/apt/update`: a package with an update pending.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct AptUpdate {
    pub package: String,
    pub title: String,
    pub description: String,
    /// Installed version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old_version: Option<String>,
    /// The version it would be updated to.
    pub version: String,
    /// `Proxmox`, `Debian`...
    pub origin: String,
    pub section: String,
    pub priority: String,
    pub arch: String,
}

impl PveClient {
    /// `GET .../rrddata` of a node, one of its guests, or a storage on it.
    pub async fn rrd_data(
        &self,
        node: &str,
        target: RrdTarget<'_>,
        timeframe: RrdTimeframe,
        cf: RrdCf,
    ) -> Result<Vec<RrdPoint>, Error> {
        let path = match target {
            RrdTarget::Node => node_path(node),
            RrdTarget::Guest(kind, vmid) => guest_path(node, kind, vmid),
            RrdTarget::Storage(id) => node_path(node).lit("storage").seg(id),
        };
        let params = Params::new()
            .set("timeframe", timeframe.as_str())
            .set("cf", cf.as_str());
        let raw: Vec<Map<String, Value>> = self.get(&path.lit("rrddata"), params).await?;
        Ok(raw.into_iter().filter_map(RrdPoint::from_map).collect())
    }

    /// `GET /nodes/{node}/journal`: lines oldest first, the cursors apart.
    pub async fn node_journal(&self, node: &str, q: &JournalQuery) -> Result<JournalPage, Error> {
        let params = Params::new()
            .opt("since", q.since)
            .opt("until", q.until)
            .opt("lastentries", q.lastentries);
        let raw: Vec<String> = self.get(&node_path(node).lit("journal"), params).await?;
        let mut page = JournalPage::default();
        let last = raw.len().saturating_sub(1);
        for (i, item) in raw.into_iter().enumerate() {
            if (i == 0 || i == last) && is_cursor(&item) {
                if i == 0 {
                    page.start_cursor = Some(item);
                } else {
                    page.end_cursor = Some(item);
                }
            } else {
                page.lines.push(item);
            }
        }
        Ok(page)
    }

    /// `GET /cluster/log`: the newest `max` entries of every node (newest first).
    pub async fn cluster_log(&self, max: Option<u32>) -> Result<Vec<ClusterLogEntry>, Error> {
        self.get(&ApiPath::new("/cluster/log"), Params::new().opt("max", max))
            .await
    }

    /// `GET /nodes/{node}/services`.
    pub async fn node_services(&self, node: &str) -> Result<Vec<NodeService>, Error> {
        self.get(&node_path(node).lit("services"), Params::new())
            .await
    }

    /// `GET /nodes/{node}/apt/update`: the updates the node's package index knows of (it does
    /// not refresh the index).
    pub async fn apt_updates(&self, node: &str) -> Result<Vec<AptUpdate>, Error> {
        self.get(&node_path(node).lit("apt").lit("update"), Params::new())
            .await
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use serde_json::json;

    #[test]
    fn points_keep_numbers_and_drop_the_rest() {
        let m = json!({"time": 1700000000, "cpu": 0.25, "mem": "1024", "x": null, "s": "n/a"});
        let p = RrdPoint::from_map(m.as_object().unwrap().clone()).unwrap();
        assert_eq!(p.time, 1_700_000_000);
        assert_eq!(p.values.len(), 2);
        assert_eq!(p.values["mem"], 1024.0);
        assert!(
            RrdPoint::from_map(Map::new()).is_none(),
            "no time, no point"
        );
    }

    #[test]
    fn cursors_are_told_from_lines() {
        assert!(is_cursor("s=abc;i=1f;b=2;m=3;t=5f;x=9"));
        assert!(!is_cursor(
            "2026-12-07T03:00:01+0000 pve01 cron[1]: s=x;i=y"
        ));
    }
}
