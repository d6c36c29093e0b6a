//! Logs: a node's syslog (`GET /nodes/{node}/syslog`, numbered lines, paged), its journal
//! (`GET /nodes/{node}/journal`, with cursors), both read from [`crate::journal`], and the
//! cluster log (`GET /cluster/log`), the task events of every node.

use serde_json::{Value, json};

use crate::Sim;
use crate::clock::{civil_from_days, parse_datetime};
use crate::journal::{Entry, entries, task_lines};
use crate::route::{ApiError, Call};
use crate::state::Node;

/// How far back a log goes when no start is asked for.
const DEFAULT_SPAN: i64 = 86_400;

/// `GET /nodes/{node}/syslog`: `{n, t}` lines, paged with `start` and `limit` (default 50),
/// the total as `total`.
pub(super) fn syslog(sim: &mut Sim, call: &Call) -> Result<Value, ApiError> {
    let node = crate::routes::node_of(sim, call)?;
    let now = sim.now as i64;
    let since = match call.str("since") {
        Some(s) => parse_datetime(s).ok_or_else(|| ApiError::param("since", "invalid time"))?,
        None => now - DEFAULT_SPAN,
    };
    let until = match call.str("until") {
        Some(s) => parse_datetime(s).ok_or_else(|| ApiError::param("until", "invalid time"))?,
        None => now,
    };
    let service = call.str("service");
    let lines: Vec<String> = entries(sim, node, since, until)
        .into_iter()
        .filter(|e| service.is_none_or(|s| e.unit == s.trim_end_matches(".service")))
        .map(|e| e.short(node))
        .collect();
    let total = lines.len();
    let start = call.int("start").unwrap_or(0).max(0) as usize;
    let limit = call.int("limit").unwrap_or(50).max(0) as usize;
    let page: Vec<Value> = lines
        .into_iter()
        .enumerate()
        .skip(start)
        .take(limit)
        .map(|(i, t)| json!({"n": i + 1, "t": t}))
        .collect();
    sim.attribs.insert("total".into(), json!(total));
    Ok(Value::Array(page))
}

/// A journal cursor for an entry: its index and time (`s=...;i=...;t=...`).
fn cursor(node: &Node, time: i64, i: usize) -> String {
    format!("s=pvesim{:02};i={i:x};t={time:x}", node.nodeid)
}

fn cursor_time(c: &str) -> Option<i64> {
    c.split(';')
        .find_map(|p| p.strip_prefix("t="))
        .and_then(|t| i64::from_str_radix(t, 16).ok())
}

/// `2026-12-07T03:00:01+0000`.
fn iso(t: i64) -> String {
    let (y, m, d) = civil_from_days(t.div_euclid(86_400));
    let s = t.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}+0000",
        s / 3600,
        s % 3600 / 60,
        s % 60
    )
}

/// `GET /nodes/{node}/journal`: lines in short ISO form between a first and a last cursor
/// (`since`/`until` in epoch seconds, `lastentries` for the newest N, cursors to continue).
pub(super) fn journal(sim: &mut Sim, call: &Call) -> Result<Value, ApiError> {
    let node = crate::routes::node_of(sim, call)?;
    let now = sim.now as i64;
    let since = call
        .str("startcursor")
        .and_then(cursor_time)
        .map(|t| t + 1)
        .or_else(|| call.int("since"))
        .unwrap_or(now - DEFAULT_SPAN);
    let until = call
        .str("endcursor")
        .and_then(cursor_time)
        .or_else(|| call.int("until"))
        .unwrap_or(now);
    let mut list = entries(sim, node, since, until);
    if let Some(n) = call.int("lastentries") {
        let n = n.max(0) as usize;
        if list.len() > n {
            list.drain(..list.len() - n);
        }
    }
    let first = list.first().map_or(since, |e| e.time);
    let last = list.last().map_or(until, |e| e.time);
    let mut out = vec![Value::String(cursor(node, first.saturating_sub(1), 0))];
    out.extend(
        list.iter()
            .map(|e| Value::String(format!("{} {} {}", iso(e.time), node.name, e.after_host()))),
    );
    out.push(Value::String(cursor(node, last, list.len())));
    Ok(Value::Array(out))
}

/// `GET /cluster/log`: the newest `max` (default 50) task events of every node, newest first.
pub(super) fn cluster_log(sim: &mut Sim, call: &Call) -> Result<Value, ApiError> {
    let max = call.int("max").unwrap_or(50).max(1) as usize;
    let now = sim.now as i64;
    let mut all: Vec<(Entry, &Node, String)> = Vec::new();
    for node in sim.cluster.nodes.values() {
        for t in sim.tasks.by_upid.values().filter(|t| t.node == node.name) {
            let user = t.user.clone();
            for e in task_lines(std::iter::once(t), node, now - 30 * 86_400, now) {
                all.push((e, node, user.clone()));
            }
        }
    }
    all.sort_by(|a, b| b.0.time.cmp(&a.0.time).then(b.0.msg.cmp(&a.0.msg)));
    let out: Vec<Value> = all
        .into_iter()
        .take(max)
        .enumerate()
        .map(|(i, (e, node, user))| {
            json!({
                "uid": format!("{:08X}:{:08X}", e.time, i),
                "time": e.time,
                "pri": if e.msg.ends_with(" OK") || e.msg.contains("starting task") { 6 } else { 3 },
                "tag": e.ident,
                "pid": e.pid,
                "node": node.name,
                "user": user,
                "msg": e.msg,
            })
        })
        .collect();
    Ok(Value::Array(out))
}
