//! Tasks: list (`GET /nodes/{node}/tasks`, newest first, with PVE's filters and `total`),
//! the cluster's recent tasks (`GET /cluster/tasks`: running and finished, every node, newest
//! first), index, status, log (`start`/`limit`, `total`) and stop (`DELETE`).
//!
//! A caller sees its own tasks, and every task of a node it holds `Sys.Audit` on; stopping
//! another user's task needs `Sys.Modify` on the node.

use serde_json::{Value, json};

use crate::Sim;
use crate::auth::allowed;
use crate::route::{ApiError, Call, Method, Perm, Route};
use crate::tasks::Task;

/// The routes of this module.
pub(super) fn routes() -> Vec<Route> {
    let r = Route::new;
    vec![
        r(Method::Get, "/cluster/tasks", Perm::All, cluster_list),
        r(Method::Get, "/nodes/{node}/tasks", Perm::All, list),
        r(Method::Get, "/nodes/{node}/tasks/{upid}", Perm::All, index),
        r(
            Method::Delete,
            "/nodes/{node}/tasks/{upid}",
            Perm::All,
            stop,
        ),
        r(
            Method::Get,
            "/nodes/{node}/tasks/{upid}/status",
            Perm::All,
            status,
        ),
        r(
            Method::Get,
            "/nodes/{node}/tasks/{upid}/log",
            Perm::All,
            log,
        ),
    ]
}

fn list(sim: &mut Sim, call: &Call) -> Result<Value, ApiError> {
    let node = call.node()?;
    let see_all = allowed(
        &call.identity,
        &format!("/nodes/{node}"),
        &["Sys.Audit"],
        &sim.cluster,
    );
    let source = call.str("source").unwrap_or("archive");
    let errors_only = call.bool("errors").unwrap_or(false);
    let vmid = call.int("vmid").map(|v| v.to_string());
    let statuses: Option<Vec<&str>> = call
        .str("statusfilter")
        .map(|s| s.split([',', ';', ' ']).filter(|x| !x.is_empty()).collect());
    let matches = |t: &Task| -> bool {
        let running = t.is_running();
        let source_ok = match source {
            "active" => running,
            "all" => true,
            _ => !running,
        };
        let status_class = match t.exitstatus.as_deref() {
            None => "running",
            Some("OK") => "ok",
            Some(s) if s.starts_with("WARNINGS") => "warning",
            Some("unknown") => "unknown",
            Some(_) => "error",
        };
        t.node == node
            && source_ok
            && (see_all || t.user == call.identity.userid)
            && vmid.as_ref().is_none_or(|v| &t.id == v)
            && call.str("typefilter").is_none_or(|f| t.kind == f)
            && call
                .str("userfilter")
                .is_none_or(|f| t.user.to_lowercase().contains(&f.to_lowercase()))
            && call.int("since").is_none_or(|s| t.starttime >= s)
            && call.int("until").is_none_or(|u| t.starttime <= u)
            && (!errors_only || matches!(status_class, "error" | "warning" | "unknown"))
            && statuses.as_ref().is_none_or(|s| s.contains(&status_class))
    };
    let mut found: Vec<&Task> = sim
        .tasks
        .order
        .iter()
        .filter_map(|u| sim.tasks.by_upid.get(u))
        .filter(|t| matches(t))
        .collect();
    found.sort_by(|a, b| b.starttime.cmp(&a.starttime).then(b.pid.cmp(&a.pid)));
    let total = found.len();
    let start = call.int("start").unwrap_or(0).max(0) as usize;
    let limit = call.int("limit").unwrap_or(50).max(0) as usize;
    let page: Vec<Value> = found
        .into_iter()
        .skip(start)
        .take(limit)
        .map(list_entry)
        .collect();
    sim.attribs.insert("total".to_string(), Value::from(total));
    Ok(Value::Array(page))
}

/// How many tasks per node `/cluster/tasks` keeps (PVE keeps the recent ones of each node).
const CLUSTER_TASKS_PER_NODE: usize = 50;

/// `GET /cluster/tasks`: each node's newest tasks the caller may see (its own, and every task
/// of a node it holds `Sys.Audit` on), running ones included, newest first.
fn cluster_list(sim: &mut Sim, call: &Call) -> Result<Value, ApiError> {
    let mut found: Vec<&Task> = sim
        .tasks
        .order
        .iter()
        .filter_map(|u| sim.tasks.by_upid.get(u))
        .filter(|t| {
            t.user == call.identity.userid
                || allowed(
                    &call.identity,
                    &format!("/nodes/{}", t.node),
                    &["Sys.Audit"],
                    &sim.cluster,
                )
        })
        .collect();
    found.sort_by(|a, b| b.starttime.cmp(&a.starttime).then(b.pid.cmp(&a.pid)));
    let mut per_node: std::collections::BTreeMap<&str, usize> = Default::default();
    let page: Vec<Value> = found
        .into_iter()
        .filter(|t| {
            let n = per_node.entry(t.node.as_str()).or_insert(0);
            *n += 1;
            *n <= CLUSTER_TASKS_PER_NODE
        })
        .map(list_entry)
        .collect();
    Ok(Value::Array(page))
}

fn list_entry(t: &Task) -> Value {
    let mut v = json!({
        "upid": t.upid,
        "node": t.node,
        "pid": t.pid,
        "pstart": t.pstart,
        "starttime": t.starttime,
        "type": t.kind,
        "id": t.id,
        "user": t.user,
    });
    if let Some(end) = t.endtime {
        v["endtime"] = Value::from(end);
    }
    if let Some(s) = &t.exitstatus {
        v["status"] = Value::String(s.clone());
    }
    v
}

fn index(sim: &mut Sim, call: &Call) -> Result<Value, ApiError> {
    find_task(sim, call, "Sys.Audit")?;
    Ok(json!([{"name": "log"}, {"name": "status"}]))
}

fn status(sim: &mut Sim, call: &Call) -> Result<Value, ApiError> {
    let t = find_task(sim, call, "Sys.Audit")?;
    let mut v = json!({
        "upid": t.upid,
        "node": t.node,
        "pid": t.pid,
        "pstart": t.pstart,
        "starttime": t.starttime,
        "type": t.kind,
        "id": t.id,
        "user": t.user,
        "status": if t.is_running() { "running" } else { "stopped" },
    });
    if let Some(s) = &t.exitstatus {
        v["exitstatus"] = Value::String(s.clone());
    }
    Ok(v)
}

/// Lines `start+1 ..` (`n` counts from 1); `limit` 0 reads to the end; `total` is the line
/// count. An empty page holds `no content`, as PVE's.
fn log(sim: &mut Sim, call: &Call) -> Result<Value, ApiError> {
    let t = find_task(sim, call, "Sys.Audit")?;
    let start = call.int("start").unwrap_or(0).max(0) as usize;
    let limit = match call.int("limit").unwrap_or(50).max(0) as usize {
        0 => usize::MAX,
        n => n,
    };
    let total = t.log.len();
    let mut lines: Vec<Value> = t
        .log
        .iter()
        .enumerate()
        .skip(start)
        .take(limit)
        .map(|(i, line)| json!({"n": i + 1, "t": line}))
        .collect();
    if lines.is_empty() {
        lines.push(json!({"n": total, "t": "no content"}));
    }
    sim.attribs.insert("total".to_string(), Value::from(total));
    Ok(Value::Array(lines))
}

fn stop(sim: &mut Sim, call: &Call) -> Result<Value, ApiError> {
    let upid = find_task(sim, call, "Sys.Modify")?.upid.clone();
    let now = sim.now;
    sim.tasks.stop(&mut sim.cluster, &upid, now);
    Ok(Value::Null)
}

/// The task named by `{upid}` on `{node}`, if the caller owns it or holds `privilege` on the node.
fn find_task<'a>(sim: &'a Sim, call: &Call, privilege: &str) -> Result<&'a Task, ApiError> {
    let node = call.node()?;
    let upid = call.req_str("upid")?;
    let upid_node = parse_upid_node(upid)
        .ok_or_else(|| ApiError::param("upid", format!("unable to parse worker upid '{upid}'")))?;
    let task = sim
        .tasks
        .by_upid
        .get(upid)
        .filter(|t| t.node == node && upid_node == node)
        .ok_or_else(|| ApiError::internal("no such task"))?;
    let path = format!("/nodes/{node}");
    if task.user != call.identity.userid
        && !allowed(&call.identity, &path, &[privilege], &sim.cluster)
    {
        return Err(ApiError::forbidden(&path, privilege));
    }
    Ok(task)
}

/// The node of a well-formed UPID (`UPID:node:pid:pstart:starttime:type:id:user:`).
pub(super) fn parse_upid_node(upid: &str) -> Option<&str> {
    let rest = upid.strip_prefix("UPID:")?.strip_suffix(':')?;
    let fields: Vec<&str> = rest.split(':').collect();
    if fields.len() != 7 {
        return None;
    }
    let hex = |s: &str, min: usize, max: usize| {
        (min..=max).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_hexdigit())
    };
    let ok = crate::formats::check("pve-node", fields[0]).is_ok()
        && hex(fields[1], 8, 8)
        && hex(fields[2], 8, 9)
        && hex(fields[3], 8, 8)
        && !fields[4].is_empty()
        && !fields[6].is_empty();
    ok.then_some(fields[0])
}
