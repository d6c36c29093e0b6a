//! Responses against the schema's `returns`: a request for every GET route of the table (the
//! covered set must equal the table's GET routes, so a new route without a sample fails), and
//! every write route on a fresh simulator each, all over HTTP.
//!
//! Concrete paths are filled from the demo cluster: `{vmid}` is a running QEMU VM with a
//! working agent (or a running container under `/lxc/`), `{node}` its node, `{storage}` a
//! storage with a volume there, `{snapname}` a snapshot added for the test, `{upid}` a task.
//! Required non-path parameters come from `value_for` (add one there for a new route).

use std::collections::BTreeSet;

use pve_sim::route::{Method, Route};
use pve_sim::state::{AgentState, GuestKind, PowerState, Snapshot};
use pve_sim::tasks::TaskSpec;

use crate::support::schema;
use crate::support::{Auth, Resp, TestSim, start};

/// Values the samples use.
#[derive(Debug, Clone)]
struct Ctx {
    qemu: (String, u32),
    lxc: (String, u32),
    other_node: String,
    storage_volume: (String, String),
    upid: String,
    exec_pid: Option<String>,
    iso: String,
    vztmpl: String,
    /// A storage holding disk images on the VM's node (for allocating a volume).
    images_storage: String,
    /// A storage holding backups.
    backup_storage: String,
}

const SNAP: &str = "contract";

/// Picks the guests and things the samples use, adds a snapshot to each and a finished task.
async fn prepare(sim: &TestSim) -> Ctx {
    let mut ctx = sim.server.with_sim(|s| {
        let c = &s.cluster;
        let qemu = c
            .guests
            .values()
            .find(|g| {
                g.kind == GuestKind::Qemu
                    && g.status == PowerState::Running
                    && g.agent == AgentState::Running
                    && g.agent_enabled()
                    && !g.is_template()
                    && g.lock().is_none()
            })
            .map(|g| (g.node.clone(), g.vmid))
            .expect("a running VM with an agent");
        let lxc = c
            .guests
            .values()
            .find(|g| {
                g.kind == GuestKind::Lxc
                    && g.status == PowerState::Running
                    && g.lock().is_none()
                    && g.node == qemu.0
            })
            .map(|g| (g.node.clone(), g.vmid))
            .expect("a running container on the VM's node");
        let other_node = c
            .nodes
            .keys()
            .find(|n| **n != qemu.0)
            .cloned()
            .unwrap_or_default();
        let vol = c
            .volumes
            .iter()
            .find(|v| v.node == qemu.0 && v.content == "iso")
            .or_else(|| c.volumes.iter().find(|v| v.node == qemu.0))
            .expect("a volume on the VM's node");
        let storage_volume = (vol.storage.clone(), vol.volid.clone());
        let find = |content: &str| {
            c.volumes
                .iter()
                .find(|v| v.content == content)
                .map(|v| v.volid.clone())
                .unwrap_or_default()
        };
        let (iso, vztmpl) = (find("iso"), find("vztmpl"));
        let images_storage = c
            .storages
            .values()
            .find(|st| {
                st.enabled
                    && st.content.iter().any(|x| x == "images")
                    && st.nodes.as_ref().is_none_or(|n| n.contains(&qemu.0))
            })
            .map(|st| st.id.clone())
            .expect("an images storage");
        let backup_storage = c
            .storages
            .values()
            .find(|st| st.enabled && st.content.iter().any(|x| x == "backup"))
            .map(|st| st.id.clone())
            .expect("a backup storage");
        for vmid in [qemu.1, lxc.1] {
            let g = s.cluster.guests.get_mut(&vmid).unwrap();
            let config = g.config.clone();
            g.snapshots.push(Snapshot {
                name: SNAP.to_string(),
                description: "contract test".to_string(),
                snaptime: 1_700_000_000,
                vmstate: false,
                parent: None,
                config,
            });
            g.parent_snapshot = Some(SNAP.to_string());
        }
        let upid = s.spawn_task(TaskSpec {
            node: qemu.0.clone(),
            kind: "qmstart".into(),
            id: qemu.1.to_string(),
            user: "root@pam".into(),
            duration: 0.0,
            log: vec!["sample".into()],
            lock_vmid: None,
            finish: Box::new(|_, _| Ok(vec![])),
        });
        Ctx {
            qemu,
            lxc,
            other_node,
            storage_volume,
            upid,
            exec_pid: None,
            iso,
            vztmpl,
            images_storage,
            backup_storage,
        }
    });
    // A process for exec-status, if the exec route exists.
    let exec = format!("/nodes/{}/qemu/{}/agent/exec", ctx.qemu.0, ctx.qemu.1);
    let r = sim.post(&exec, &[("command", "uptime")]).await;
    if r.status == 200 {
        ctx.exec_pid = r.data()["pid"].as_i64().map(|p| p.to_string());
    }
    ctx
}

/// The concrete path for a template.
fn fill(template: &str, ctx: &Ctx) -> String {
    let (node, vmid) = if template.contains("/lxc/") {
        ctx.lxc.clone()
    } else {
        ctx.qemu.clone()
    };
    template
        .replace("{node}", &node)
        .replace("{vmid}", &vmid.to_string())
        .replace("{storage}", &ctx.storage_volume.0)
        .replace(
            "{volume}",
            &percent_encoding::utf8_percent_encode(
                &ctx.storage_volume.1,
                percent_encoding::NON_ALPHANUMERIC,
            )
            .to_string(),
        )
        .replace("{snapname}", SNAP)
        .replace("{upid}", &ctx.upid)
}

/// Values for required (and some telling optional) parameters, by route and name.
fn value_for(route: &Route, name: &str, ctx: &Ctx) -> Option<Vec<String>> {
    let t = route.path;
    let v = |s: &str| Some(vec![s.to_string()]);
    let content = "/nodes/{node}/storage/{storage}/content";
    match (route.method, name) {
        (Method::Post, "storage") if t == "/storage" => v("contract-store"),
        (Method::Post, "type") if t == "/storage" => v("dir"),
        (Method::Post, "filename") if t == content => v(&format!("vm-{}-disk-9", ctx.qemu.1)),
        (Method::Post, "size") if t == content => v("1G"),
        (Method::Post, "target") if t.starts_with(content) => v("copy-of-sample.iso"),
        (_, "pid") => ctx.exec_pid.clone().map(|p| vec![p]),
        (_, "file") => v("/etc/hostname"),
        (Method::Post, "command") if t.ends_with("/agent") => v("ping"),
        (Method::Post, "command") => Some(vec!["uname".into(), "-a".into()]),
        (_, "username") => v("root@pam"),
        (_, "password") => v("demo"),
        (_, "vmid") if t == "/nodes/{node}/qemu" => v("9901"),
        (_, "vmid") if t == "/nodes/{node}/lxc" => v("9902"),
        (_, "vmid") => v(&ctx.qemu.1.to_string()),
        (_, "ostemplate") => v(&ctx.vztmpl),
        (_, "newid") => v("9903"),
        (_, "snapname") => v("sample2"),
        (_, "target") => v(&ctx.other_node),
        (_, "disk") if t.contains("/lxc/") => v("rootfs"),
        (_, "disk") => v("scsi0"),
        (_, "size") => v("+1G"),
        (_, "filename") => v("vm-9904-disk-0"),
        (_, "content") => v("iso"),
        (_, "storage") => v(&ctx.storage_volume.0),
        (_, "cdrom") => v(&ctx.iso),
        _ => None,
    }
}

/// Builds the parameters of a sample: every required non-path parameter.
fn params_for(route: &Route, ctx: &Ctx) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for p in route
        .params
        .iter()
        .filter(|p| !p.optional && !route.path.contains(&format!("{{{}}}", p.name)))
    {
        let values = value_for(route, p.name, ctx).ok_or_else(|| {
            format!(
                "{} {}: add a sample value for '{}' in samples::value_for",
                route.method.as_str(),
                route.path,
                p.name
            )
        })?;
        out.extend(values.into_iter().map(|v| (p.name.to_string(), v)));
    }
    Ok(out)
}

/// Optional parameters the write samples add (a config change needs at least one option).
/// `(method, route template, extra parameters)`.
type Extras = (
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
);

const WRITE_EXTRAS: &[Extras] = &[
    (
        "POST",
        "/nodes/{node}/qemu/{vmid}/migrate",
        &[("online", "1")],
    ),
    (
        "POST",
        "/nodes/{node}/lxc/{vmid}/migrate",
        &[("restart", "1")],
    ),
    (
        "PUT",
        "/nodes/{node}/qemu/{vmid}/config",
        &[("description", "contract")],
    ),
    (
        "POST",
        "/nodes/{node}/qemu/{vmid}/config",
        &[("description", "contract")],
    ),
    (
        "PUT",
        "/nodes/{node}/lxc/{vmid}/config",
        &[("description", "contract")],
    ),
    (
        "POST",
        "/storage",
        &[("path", "/srv/contract"), ("content", "iso,backup")],
    ),
    (
        "PUT",
        "/storage/{storage}",
        &[("content", "iso,vztmpl,backup,snippets")],
    ),
];

/// Extra GET requests covering telling optional parameters.
const VARIANTS: &[(&str, &[(&str, &str)])] = &[
    ("/cluster/resources", &[("type", "vm")]),
    ("/cluster/resources", &[("type", "storage")]),
    ("/cluster/resources", &[("type", "node")]),
    ("/nodes/{node}/tasks", &[("source", "all")]),
    ("/nodes/{node}/qemu", &[("full", "1")]),
    ("/nodes/{node}/storage", &[("content", "images")]),
    (
        "/nodes/{node}/storage/{storage}/content",
        &[("content", "iso")],
    ),
];

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
        let path = fill(route.path, &ctx);
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
    let stage =
        if route.path.ends_with("/status/start") || destroy || route.path.ends_with("/template") {
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
        let mut path = fill(route.path, &ctx);
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
