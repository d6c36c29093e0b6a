//! `get_node_logs` (a node's journal, the lines PVE's syslog view shows, between two times or
//! the newest, filtered by text, newest last, capped) and `get_cluster_log` (the cluster log:
//! task events of every node, newest last).

use pve_client::api::monitor::JournalQuery;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::ToolError;
use crate::handler;
use crate::registry::lenient;
use crate::registry::{Access, ToolCtx, ToolDef, ToolSpec};
use crate::tools::common::is_false;

/// Lines returned when `lines` / `limit` is not given.
const DEFAULT_LINES: u32 = 50;
/// Most lines returned.
const MAX_LINES: u32 = 500;
/// Entries read to search the newest ones for `filter` when no time range is given.
const SCAN: u32 = 5_000;
/// Longest line returned, in characters.
const MAX_LINE_CHARS: usize = 400;

/// `get_node_logs`.
pub(crate) fn get_node_logs() -> ToolSpec {
    ToolSpec::new(
        ToolDef {
            name: "get_node_logs",
            title: "Node logs",
            description: "A node's syslog (journal), newest last. Use it to see why a service or task failed.",
            toolset: "monitoring",
            access: Access::Read,
            idempotent: true,
        },
        handler!(get_node_logs_handler),
    )
}

/// Parameters of `get_node_logs`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NodeLogsParams {
    /// Node name.
    pub(crate) node: String,
    /// From Unix time.
    #[serde(default, deserialize_with = "lenient::opt_int")]
    #[schemars(range(min = 0))]
    pub(crate) since: Option<i64>,
    /// To Unix time.
    #[serde(default, deserialize_with = "lenient::opt_int")]
    #[schemars(range(min = 0))]
    pub(crate) until: Option<i64>,
    /// Lines (default 50).
    #[serde(default, deserialize_with = "lenient::opt_int")]
    #[schemars(range(min = 1, max = 500))]
    pub(crate) lines: Option<u32>,
    /// Text to match, any case.
    #[serde(default)]
    pub(crate) filter: Option<String>,
}

/// Output of `get_node_logs`.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct NodeLogsOutput {
    pub(crate) node: String,
    /// `time ident[pid]: message`, oldest first, newest last.
    pub(crate) lines: Vec<String>,
    pub(crate) count: usize,
    /// More lines matched than `lines` allowed: the oldest were left out.
    #[serde(skip_serializing_if = "is_false")]
    pub(crate) truncated: bool,
    /// Journal entries read (the newest 5,000 when searching without a time range).
    pub(crate) searched: usize,
}

/// The number asked for, within 1..=500.
fn how_many(param: &str, n: Option<u32>) -> Result<u32, ToolError> {
    let n = n.unwrap_or(DEFAULT_LINES);
    if !(1..=MAX_LINES).contains(&n) {
        return Err(ToolError::invalid(
            param,
            format!("must be between 1 and {MAX_LINES}"),
        ));
    }
    Ok(n)
}

/// The filter text, lower-cased; `None` when blank.
fn needle(filter: Option<String>) -> Option<String> {
    filter
        .map(|f| f.trim().to_lowercase())
        .filter(|f| !f.is_empty())
}

/// A journal line without the host name after its time, and cut to [`MAX_LINE_CHARS`].
fn tidy_line(line: &str, node: &str) -> String {
    let short = match line.split_once(' ') {
        Some((time, rest)) => match rest.strip_prefix(node).and_then(|r| r.strip_prefix(' ')) {
            Some(after) => format!("{time} {after}"),
            None => line.to_string(),
        },
        None => line.to_string(),
    };
    cap(short)
}

fn cap(s: String) -> String {
    match s.char_indices().nth(MAX_LINE_CHARS) {
        Some((cut, _)) => format!("{}…", &s[..cut]),
        None => s,
    }
}

async fn get_node_logs_handler(
    ctx: &ToolCtx,
    p: NodeLogsParams,
) -> Result<NodeLogsOutput, ToolError> {
    let node = p.node.trim().to_string();
    if node.is_empty() {
        return Err(ToolError::invalid("node", "must not be empty"));
    }
    let lines = how_many("lines", p.lines)?;
    for (name, v) in [("since", p.since), ("until", p.until)] {
        if v.is_some_and(|t| t < 0) {
            return Err(ToolError::invalid(name, "must be a Unix time (0 or more)"));
        }
    }
    if let (Some(s), Some(u)) = (p.since, p.until)
        && s > u
    {
        return Err(ToolError::invalid("until", "must not be before since"));
    }
    let needle = needle(p.filter);
    // PVE refuses `lastentries` with a range: a range is read whole, then cut here.
    let ranged = p.since.is_some() || p.until.is_some();
    let q = JournalQuery {
        since: p.since,
        until: p.until,
        lastentries: (!ranged).then_some(if needle.is_some() { SCAN } else { lines }),
    };
    let page = ctx.client.node_journal(&node, &q).await?;
    let searched = page.lines.len();
    let mut matched: Vec<&String> = page
        .lines
        .iter()
        .filter(|l| needle.as_ref().is_none_or(|n| l.to_lowercase().contains(n)))
        .collect();
    let truncated = matched.len() > lines as usize;
    matched.drain(..matched.len().saturating_sub(lines as usize));
    let out: Vec<String> = matched.into_iter().map(|l| tidy_line(l, &node)).collect();
    Ok(NodeLogsOutput {
        node,
        count: out.len(),
        lines: out,
        truncated,
        searched,
    })
}

/// `get_cluster_log`.
pub(crate) fn get_cluster_log() -> ToolSpec {
    ToolSpec::new(
        ToolDef {
            name: "get_cluster_log",
            title: "Cluster log",
            description: "Task events of every node, newest last. Use get_node_logs for one node's syslog.",
            toolset: "monitoring",
            access: Access::Read,
            idempotent: true,
        },
        handler!(get_cluster_log_handler),
    )
}

/// Parameters of `get_cluster_log`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ClusterLogParams {
    /// Entries (default 50).
    #[serde(default, deserialize_with = "lenient::opt_int")]
    #[schemars(range(min = 1, max = 500))]
    pub(crate) limit: Option<u32>,
    /// Text to match, any case.
    #[serde(default)]
    pub(crate) filter: Option<String>,
}

/// One entry of the cluster log.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct ClusterLogLine {
    /// Unix time.
    pub(crate) time: i64,
    pub(crate) node: String,
    pub(crate) user: String,
    /// The daemon that logged it (`pvedaemon`...).
    pub(crate) tag: String,
    /// Syslog severity: `err`, `warning`, `info`...
    pub(crate) severity: &'static str,
    pub(crate) msg: String,
}

/// Output of `get_cluster_log`.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct ClusterLogOutput {
    /// Oldest first, newest last.
    pub(crate) entries: Vec<ClusterLogLine>,
    pub(crate) count: usize,
    /// More entries matched than `limit` allowed: the oldest were left out.
    #[serde(skip_serializing_if = "is_false")]
    pub(crate) truncated: bool,
}

/// Syslog's name for priority `pri`.
fn severity(pri: u8) -> &'static str {
    match pri {
        0 => "emerg",
        1 => "alert",
        2 => "crit",
        3 => "err",
        4 => "warning",
        5 => "notice",
        6 => "info",
        _ => "debug",
    }
}

async fn get_cluster_log_handler(
    ctx: &ToolCtx,
    p: ClusterLogParams,
) -> Result<ClusterLogOutput, ToolError> {
    let limit = how_many("limit", p.limit)? as usize;
    let needle = needle(p.filter);
    // One more than asked, to see truncation; more to search when filtering.
    let max = if needle.is_some() {
        SCAN
    } else {
        limit as u32 + 1
    };
    let all = ctx.client.cluster_log(Some(max)).await?;
    let mut matched: Vec<_> = all
        .into_iter()
        .filter(|e| {
            needle.as_ref().is_none_or(|n| {
                [&e.msg, &e.node, &e.user, &e.tag]
                    .iter()
                    .any(|f| f.to_lowercase().contains(n))
            })
        })
        .collect();
    // PVE gives newest first.
    matched.sort_by_key(|e| std::cmp::Reverse(e.time));
    let truncated = matched.len() > limit;
    matched.truncate(limit);
    matched.reverse();
    let entries: Vec<ClusterLogLine> = matched
        .into_iter()
        .map(|e| ClusterLogLine {
            time: e.time,
            severity: severity(e.pri),
            node: e.node,
            user: e.user,
            tag: e.tag,
            msg: cap(e.msg),
        })
        .collect();
    Ok(ClusterLogOutput {
        count: entries.len(),
        entries,
        truncated,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_lose_the_host_and_stay_short() {
        assert_eq!(
            tidy_line("2026-12-07T03:00:01+0000 pve01 cron[12]: ok", "pve01"),
            "2026-12-07T03:00:01+0000 cron[12]: ok"
        );
        assert_eq!(
            tidy_line("2026-12-07T03:00:01+0000 pve011 x: y", "pve01"),
            "2026-12-07T03:00:01+0000 pve011 x: y"
        );
        let long = cap("é".repeat(MAX_LINE_CHARS + 10));
        assert_eq!(long.chars().count(), MAX_LINE_CHARS + 1);
        assert!(long.ends_with('…'));
        assert_eq!(severity(3), "err");
        assert_eq!(severity(9), "debug");
    }
}
