//! Responses against the schema's `returns`: a request for every GET route of the table (the
//! covered set must equal the table's GET routes, so a new route without a sample fails), and
//! every write route on a fresh simulator each, all over HTTP.
//!
//! Concrete paths are filled from the demo cluster: `{vmid}` is a running QEMU VM with a
//! working agent (or a running container under `/lxc/`), `{node}` its node, `{storage}` a
//! storage with a volume there, `{snapname}` a snapshot added for the test, `{upid}` a task.
//! Required non-path parameters come from `value_for` (add one there for a new route).

use std::collections::BTreeSet;

pub(crate) mod values;

use pve_sim::route::{Method, Route};
use pve_sim::state::PowerState;

use values::{Ctx, VARIANTS, WRITE_EXTRAS, fill, params_for, prepare};

use crate::support::schema;
use crate::support::{Auth, Resp, TestSim, start};

async fn call(sim: &TestSim, route: &Route, path: &str, params: &[(String, String)]) -> Resp {
    let refs: Vec<(&str, &str)> = params
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let auth = if route.path == "/access/ticket" {
        Auth::None
    } else {
        Auth::token()
    };
    sim.call(route.method.as_str(), path, &auth, &refs).await
}

fn check_response(route: &Route, path: &str, r: &Resp, problems: &mut Vec<String>) {
    let what = format!("{} {path}", route.method.as_str());
    if r.status != 200 {
        let errors = r
            .body
            .get("errors")
            .map(|e| e.to_string())
            .unwrap_or_default();
        problems.push(format!(
            "{what}: status {} {} {errors}",
            r.status,
            r.message().trim_end()
        ));
        return;
    }
    let Some(m) = schema::method(route.method.as_str(), route.path) else {
        problems.push(format!("{what}: not in the schema"));
        return;
    };
    for e in schema::validate(&m["returns"], r.data()) {
        problems.push(format!("{what}: {e}"));
    }
}

#[tokio::test]
async fn every_get_route_answers_per_schema() {
    let sim = start().await;
    let ctx = prepare(&sim).await;
    let table = pve_sim::routes::all();
    let mut problems = Vec::new();
    let mut covered = BTreeSet::new();
    for route in table.iter().filter(|r| r.method == Method::Get) {
        let path = fill(route.method, route.path, &ctx);
        let params = match params_for(route, &ctx) {
            Ok(p) => p,
            Err(e) => {
                problems.push(e);
                continue;
            }
        };
        let mut requests = vec![params.clone()];
        for (_, extra) in VARIANTS.iter().filter(|(t, _)| *t == route.path) {
            let mut p = params.clone();
            p.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
            requests.push(p);
        }
        let before = problems.len();
        for p in requests {
            let r = call(&sim, route, &path, &p).await;
            check_response(route, &path, &r, &mut problems);
        }
        if problems.len() == before {
            covered.insert(route.path);
        }
    }
    let all_gets: BTreeSet<&str> = table
        .iter()
        .filter(|r| r.method == Method::Get)
        .map(|r| r.path)
        .collect();
    let uncovered: Vec<&&str> = all_gets.difference(&covered).collect();
    assert!(
        problems.is_empty(),
        "{}\nuncovered: {uncovered:?}",
        problems.join("\n")
    );
    assert_eq!(covered, all_gets);
}

/// Puts the sample guest in the state the action needs (stopped to start, paused to resume).
fn set_stage(sim: &TestSim, route: &Route, ctx: &Ctx) {
    let vmid = if route.path.contains("/lxc/") {
        ctx.lxc.1
    } else {
        ctx.qemu.1
    };
    let destroy = route.method == Method::Delete && route.path.ends_with("/{vmid}");
    if destroy || route.path.ends_with("/template") {
        sim.server.with_sim(|s| {
            let g = s.cluster.guests.get_mut(&vmid).unwrap();
            g.snapshots.clear();
            g.parent_snapshot = None;
        });
    }
    let stage = if route.path.ends_with("/status/start")
        || destroy
        || route.path.ends_with("/template")
        || route.path.ends_with("/move_volume")
    {
        Some(("stopped", PowerState::Stopped))
    } else if route.path.ends_with("/status/resume") {
        Some(("paused", PowerState::Running))
    } else {
        None
    };
    if let Some((qmp, status)) = stage {
        sim.server.with_sim(|s| {
            let g = s.cluster.guests.get_mut(&vmid).unwrap();
            g.status = status;
            g.qmpstatus = qmp.to_string();
            if status == PowerState::Stopped {
                g.started_at = None;
            }
        });
    }
}

/// Write routes whose sample is allowed to fail, with the reason.
const WRITE_FAILURES_OK: &[(&str, &str)] = &[];

#[tokio::test]
async fn every_write_route_answers_per_schema() {
    let table = pve_sim::routes::all();
    let mut problems = Vec::new();
    for route in table.iter().filter(|r| r.method != Method::Get) {
        let sim = start().await;
        let ctx = prepare(&sim).await;
        set_stage(&sim, route, &ctx);
        let mut path = fill(route.method, route.path, &ctx);
        if route.method == Method::Post && route.path == "/nodes/{node}/storage/{storage}/content" {
            path = path.replace(
                &format!("/storage/{}/", ctx.storage_volume.0),
                &format!("/storage/{}/", ctx.images_storage),
            );
        }
        let params = match params_for(route, &ctx) {
            Ok(p) => p,
            Err(e) => {
                problems.push(e);
                continue;
            }
        };
        let mut params = params;
        if route.path == "/nodes/{node}/vzdump" {
            params.push(("vmid".into(), ctx.qemu.1.to_string()));
            params.push(("storage".into(), ctx.backup_storage.clone()));
        }
        if route.method == Method::Post && route.path == "/nodes/{node}/lxc" {
            params.push(("storage".into(), ctx.images_storage.clone()));
        }
        for (_, _, extra) in WRITE_EXTRAS
            .iter()
            .filter(|(m, t, _)| *m == route.method.as_str() && *t == route.path)
        {
            params.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        }
        let (ticket, csrf) = sim.login().await;
        let refs: Vec<(&str, &str)> = params
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let auth = Auth::Ticket {
            ticket,
            csrf: Some(csrf),
        };
        let r = sim.call(route.method.as_str(), &path, &auth, &refs).await;
        if r.status != 200 && WRITE_FAILURES_OK.iter().any(|(t, _)| *t == route.path) {
            continue;
        }
        check_response(route, &path, &r, &mut problems);
        // A task a write started must end and be readable.
        if let Some(upid) = r.data().as_str().filter(|s| s.starts_with("UPID:")) {
            sim.server.advance(3600.0);
            let node = upid.split(':').nth(1).unwrap_or_default();
            let st = sim
                .get(&format!("/nodes/{node}/tasks/{upid}/status"), &[])
                .await;
            if st.data()["status"] != "stopped" {
                problems.push(format!(
                    "{} {path}: task {upid} not stopped after an hour",
                    route.method.as_str()
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
