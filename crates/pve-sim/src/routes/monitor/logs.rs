//! Logs: a node's syslog (`GET /nodes/{node}/syslog`, numbered lines, paged), its journal
//! (`GET /nodes/{node}/journal`, with cursors), and the cluster log (`GET /cluster/log`). They
//! reflect what ran: every task's start and end (with its exit status), next to the lines a
//! node writes on its own (boot, cron, daemon workers), all deterministic in time.

use serde_json::{Value, json};

use crate::Sim;
use crate::clock::{civil_from_days, parse_datetime, syslog_stamp};
use crate::route::{ApiError, Call};
use crate::state::Node;
use crate::tasks::Task;

/// One log entry: when, which daemon (and pid), what it said.
#[derive(Debug, Clone, PartialEq)]
struct Entry {
    time: i64,
    ident: &'static str,
    pid: u32,
    msg: String,
}

/// How far back a log goes when no start is asked for.
const DEFAULT_SPAN: i64 = 86_400;
/// The most lines one answer holds.
const MAX_LINES: usize = 5_000;

/// A daemon's pid on a node, stable across the node's uptime.
fn pid(node: &Node, ident: &str) -> u32 {
    let h = ident.bytes().fold(node.nodeid.wrapping_mul(7919), |a, b| {
        a.wrapping_mul(31).wrapping_add(u32::from(b))
    });
    900 + h % 3000
}

/// The lines a node writes on its own between `from` and `to`.
fn own_lines(node: &Node, from: i64, to: i64) -> Vec<Entry> {
    let mut out = Vec::new();
    let boot = node.boot_time as i64;
    if node.online && (from..=to).contains(&boot) {
        let mut at = |dt: i64, ident: &'static str, msg: String| {
            out.push(Entry {
                time: boot + dt,
                ident,
                pid: pid(node, ident),
                msg,
            });
        };
        at(0, "kernel", format!("Linux version {}", node.kversion));
        at(
            9,
            "systemd",
            "Started pve-cluster.service - The Proxmox VE cluster filesystem.".into(),
        );
        at(11, "pvedaemon", "starting server".into());
        at(12, "pveproxy", "starting server".into());
        at(13, "pvestatd", "starting server".into());
    }
    if !node.online {
        return out;
    }
    // Hourly cron, at :17:01.
    let first = (from - 1021).div_euclid(3600) * 3600 + 1021;
    let mut t = first.max(boot + 1021 - 3600);
    while t <= to {
        if t >= from && t > boot {
            out.push(Entry {
                time: t,
                ident: "CRON",
                pid: (t / 60 % 30_000) as u32 + 1_000,
                msg: "(root) CMD (cd / && run-parts --report /etc/cron.hourly)".into(),
            });
        }
        t += 3600;
    }
    // pveproxy recycles a worker every 3 hours.
    let mut t = (from.div_euclid(10_800) + 1) * 10_800;
    while t <= to {
        if t > boot {
            let old = (t / 10_800 % 9_000) as u32 + 10_000;
            out.push(Entry {
                time: t,
                ident: "pveproxy",
                pid: pid(node, "pveproxy"),
                msg: format!("worker {old} finished"),
            });
            out.push(Entry {
                time: t,
                ident: "pveproxy",
                pid: pid(node, "pveproxy"),
                msg: format!("worker {} started", old + 1),
            });
        }
        t += 10_800;
    }
    out
}

/// The lines tasks of `node` wrote between `from` and `to`.
fn task_lines<'a>(
    tasks: impl Iterator<Item = &'a Task>,
    node: &Node,
    from: i64,
    to: i64,
) -> Vec<Entry> {
    let mut out = Vec::new();
    for t in tasks.filter(|t| t.node == node.name) {
        let user = t.user.split('!').next().unwrap_or(&t.user);
        if (from..=to).contains(&t.starttime) {
            out.push(Entry {
                time: t.starttime,
                ident: "pvedaemon",
                pid: pid(node, "pvedaemon"),
                msg: format!("<{user}> starting task {}", t.upid),
            });
        }
        if let (Some(end), Some(status)) = (t.endtime, &t.exitstatus)
            && (from..=to).contains(&end)
        {
            out.push(Entry {
                time: end,
                ident: "pvedaemon",
                pid: pid(node, "pvedaemon"),
                msg: format!("<{user}> end task {} {status}", t.upid),
            });
        }
    }
    out
}

/// Every entry of `node` between `from` and `to`, oldest first (at most [`MAX_LINES`], the
/// newest kept).
fn entries(sim: &Sim, node: &Node, from: i64, to: i64) -> Vec<Entry> {
    let mut out = own_lines(node, from, to);
    out.extend(task_lines(sim.tasks.by_upid.values(), node, from, to));
    out.sort_by(|a, b| (a.time, a.ident).cmp(&(b.time, b.ident)));
    if out.len() > MAX_LINES {
        out.drain(..out.len() - MAX_LINES);
    }
    out
}

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
        .filter(|e| {
            service.is_none_or(|s| e.ident.eq_ignore_ascii_case(s.trim_end_matches(".service")))
        })
        .map(|e| {
            format!(
                "{} {} {}[{}]: {}",
                syslog_stamp(e.time),
                node.name,
                e.ident,
                e.pid,
                e.msg
            )
        })
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
    out.extend(list.iter().map(|e| {
        Value::String(format!(
            "{} {} {}[{}]: {}",
            iso(e.time),
            node.name,
            e.ident,
            e.pid,
            e.msg
        ))
    }));
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
