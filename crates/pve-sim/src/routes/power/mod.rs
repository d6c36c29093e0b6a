//! Guest power, QEMU and LXC: `GET .../status` (index), `GET .../status/current` and the POST
//! actions (start, stop, shutdown, reset, reboot, suspend, resume). Each action checks what PVE
//! checks before forking (500), then runs as a task (`qmstart`, `vzshutdown`...) that changes
//! the guest only when it ends, or fails with PVE's exit status.

use serde_json::{Map, Value, json};

use crate::Sim;
use crate::guest::power::{self, Action, FAIL_DURATION, Opts};
use crate::guest::{self, kind_word};
use crate::metrics::guest_usage;
use crate::missing_config_message;
use crate::route::{ApiError, Call, Method, Perm, Route};
use crate::state::{Guest, GuestKind, PowerState, SimTime};
use crate::tasks::TaskSpec;

/// The QEMU version running VMs report (`running-qemu`).
pub(crate) const RUNNING_QEMU: &str = "10.1.2";

const POWER: Perm = Perm::Vm(&["VM.PowerMgmt"]);
const AUDIT: Perm = Perm::Vm(&["VM.Audit"]);

/// The routes of this module.
pub(crate) fn routes() -> Vec<Route> {
    let r = Route::new;
    use Method::{Get, Post};
    vec![
        r(
            Get,
            "/nodes/{node}/qemu/{vmid}/status",
            Perm::All,
            qemu_index,
        ),
        r(
            Get,
            "/nodes/{node}/qemu/{vmid}/status/current",
            AUDIT,
            qemu_current,
        ),
        r(
            Post,
            "/nodes/{node}/qemu/{vmid}/status/start",
            POWER,
            |s, c| power_call(s, c, GuestKind::Qemu, Action::Start),
        ),
        r(
            Post,
            "/nodes/{node}/qemu/{vmid}/status/stop",
            POWER,
            |s, c| power_call(s, c, GuestKind::Qemu, Action::Stop),
        ),
        r(
            Post,
            "/nodes/{node}/qemu/{vmid}/status/shutdown",
            POWER,
            |s, c| power_call(s, c, GuestKind::Qemu, Action::Shutdown),
        ),
        r(
            Post,
            "/nodes/{node}/qemu/{vmid}/status/reset",
            POWER,
            |s, c| power_call(s, c, GuestKind::Qemu, Action::Reset),
        ),
        r(
            Post,
            "/nodes/{node}/qemu/{vmid}/status/reboot",
            POWER,
            |s, c| power_call(s, c, GuestKind::Qemu, Action::Reboot),
        ),
        r(
            Post,
            "/nodes/{node}/qemu/{vmid}/status/suspend",
            POWER,
            |s, c| power_call(s, c, GuestKind::Qemu, Action::Suspend),
        ),
        r(
            Post,
            "/nodes/{node}/qemu/{vmid}/status/resume",
            POWER,
            |s, c| power_call(s, c, GuestKind::Qemu, Action::Resume),
        ),
        r(Get, "/nodes/{node}/lxc/{vmid}/status", Perm::All, lxc_index),
        r(
            Get,
            "/nodes/{node}/lxc/{vmid}/status/current",
            AUDIT,
            lxc_current,
        ),
        r(
            Post,
            "/nodes/{node}/lxc/{vmid}/status/start",
            POWER,
            |s, c| power_call(s, c, GuestKind::Lxc, Action::Start),
        ),
        r(
            Post,
            "/nodes/{node}/lxc/{vmid}/status/stop",
            POWER,
            |s, c| power_call(s, c, GuestKind::Lxc, Action::Stop),
        ),
        r(
            Post,
            "/nodes/{node}/lxc/{vmid}/status/shutdown",
            POWER,
            |s, c| power_call(s, c, GuestKind::Lxc, Action::Shutdown),
        ),
        r(
            Post,
            "/nodes/{node}/lxc/{vmid}/status/reboot",
            POWER,
            |s, c| power_call(s, c, GuestKind::Lxc, Action::Reboot),
        ),
        r(
            Post,
            "/nodes/{node}/lxc/{vmid}/status/suspend",
            POWER,
            |s, c| power_call(s, c, GuestKind::Lxc, Action::Suspend),
        ),
        r(
            Post,
            "/nodes/{node}/lxc/{vmid}/status/resume",
            POWER,
            |s, c| power_call(s, c, GuestKind::Lxc, Action::Resume),
        ),
    ]
}

fn subdirs(names: &[&str]) -> Value {
    Value::Array(names.iter().map(|n| json!({ "subdir": n })).collect())
}

fn qemu_index(_: &mut Sim, _: &Call) -> Result<Value, ApiError> {
    Ok(subdirs(&[
        "current", "start", "stop", "reset", "shutdown", "suspend", "reboot", "resume",
    ]))
}

fn lxc_index(_: &mut Sim, _: &Call) -> Result<Value, ApiError> {
    Ok(subdirs(&[
        "current", "start", "stop", "shutdown", "reboot", "suspend", "resume",
    ]))
}

fn qemu_current(sim: &mut Sim, call: &Call) -> Result<Value, ApiError> {
    let g = sim.guest_on(call.node()?, call.vmid()?, GuestKind::Qemu)?;
    Ok(qemu_status(g, sim.now, true, true))
}

fn lxc_current(sim: &mut Sim, call: &Call) -> Result<Value, ApiError> {
    let g = sim.guest_on(call.node()?, call.vmid()?, GuestKind::Lxc)?;
    Ok(lxc_status(g, sim.now, true))
}

/// The `running-machine` of a running VM (`pc-i440fx-10.1+pve0`, or q35 when configured).
pub(crate) fn running_machine(g: &Guest) -> String {
    let q35 = g
        .config
        .get("machine")
        .and_then(Value::as_str)
        .is_some_and(|m| m.contains("q35"));
    let (major, minor) = RUNNING_QEMU.split_once('.').map_or(("10", "1"), |(a, b)| {
        (a, b.split('.').next().unwrap_or("1"))
    });
    format!(
        "pc-{}-{major}.{minor}+pve0",
        if q35 { "q35" } else { "i440fx" }
    )
}

fn put_common(m: &mut Map<String, Value>, g: &Guest) {
    if g.is_template() {
        m.insert("template".into(), json!(1));
    }
    if let Some(l) = g.lock() {
        m.insert("lock".into(), json!(l));
    }
    if let Some(t) = g.config.get("tags").and_then(Value::as_str) {
        m.insert("tags".into(), json!(t));
    }
}

/// The `ha` object of `status/current`.
pub(crate) fn ha_status(g: &Guest) -> Value {
    match &g.hastate {
        Some(state) => json!({ "managed": 1, "state": state }),
        None => json!({ "managed": 0 }),
    }
}

/// A VM as `GET /nodes/{node}/qemu` (`full` adds `qmpstatus` and the running QEMU version) and
/// `status/current` (`current` adds `ha` and `agent`) show it. Live figures from `metrics`.
pub(crate) fn qemu_status(g: &Guest, now: SimTime, full: bool, current: bool) -> Value {
    let u = guest_usage(g, now);
    let running = g.status == PowerState::Running;
    let mut m = Map::new();
    m.insert("vmid".into(), json!(g.vmid));
    m.insert("name".into(), json!(g.name()));
    m.insert("status".into(), json!(g.status.as_str()));
    m.insert("cpus".into(), json!(g.cpus()));
    m.insert("cpu".into(), json!(u.cpu));
    m.insert("mem".into(), json!(u.mem));
    m.insert("maxmem".into(), json!(g.maxmem()));
    m.insert("disk".into(), json!(0));
    m.insert("maxdisk".into(), json!(g.maxdisk()));
    m.insert("netin".into(), json!(u.netin));
    m.insert("netout".into(), json!(u.netout));
    m.insert("diskread".into(), json!(u.diskread));
    m.insert("diskwrite".into(), json!(u.diskwrite));
    m.insert("uptime".into(), json!(g.uptime(now)));
    if running {
        m.insert("pid".into(), json!(g.pid));
        m.insert("memhost".into(), json!(u.mem + (48 << 20)));
    }
    if g.config.keys().any(|k| k.starts_with("serial")) {
        m.insert("serial".into(), json!(1));
    }
    put_common(&mut m, g);
    if full || current {
        m.insert("qmpstatus".into(), json!(g.qmpstatus));
        if running {
            m.insert("running-qemu".into(), json!(RUNNING_QEMU));
            m.insert("running-machine".into(), json!(running_machine(g)));
        }
    }
    if current {
        m.insert("ha".into(), ha_status(g));
        if g.agent_enabled() {
            m.insert("agent".into(), json!(1));
        }
    }
    Value::Object(m)
}

/// A container as `GET /nodes/{node}/lxc` and (with `current`) `status/current` show it.
pub(crate) fn lxc_status(g: &Guest, now: SimTime, current: bool) -> Value {
    let u = guest_usage(g, now);
    let running = g.status == PowerState::Running;
    let mut m = Map::new();
    m.insert("vmid".into(), json!(g.vmid));
    m.insert("type".into(), json!("lxc"));
    m.insert("name".into(), json!(g.name()));
    m.insert("status".into(), json!(g.status.as_str()));
    m.insert("cpus".into(), json!(g.cpus()));
    m.insert("cpu".into(), json!(u.cpu));
    m.insert("mem".into(), json!(u.mem));
    m.insert("maxmem".into(), json!(g.maxmem()));
    m.insert("swap".into(), json!(0));
    m.insert("maxswap".into(), json!(g.maxswap()));
    m.insert("disk".into(), json!(u.disk));
    m.insert("maxdisk".into(), json!(g.maxdisk()));
    m.insert("netin".into(), json!(u.netin));
    m.insert("netout".into(), json!(u.netout));
    m.insert("diskread".into(), json!(u.diskread));
    m.insert("diskwrite".into(), json!(u.diskwrite));
    m.insert("uptime".into(), json!(g.uptime(now)));
    if running {
        m.insert("pid".into(), json!(g.pid));
        for k in [
            "pressurecpusome",
            "pressurecpufull",
            "pressureiosome",
            "pressureiofull",
            "pressurememorysome",
            "pressurememoryfull",
        ] {
            m.insert(k.into(), json!("0.00"));
        }
    }
    put_common(&mut m, g);
    if current {
        m.insert("ha".into(), ha_status(g));
    }
    Value::Object(m)
}

/// Checks PVE makes before forking the worker (500 on failure).
fn precheck(g: &Guest, action: Action, opts: Opts) -> Result<(), ApiError> {
    let running = g.status == PowerState::Running;
    let word = kind_word(g.kind);
    match (g.kind, action) {
        (GuestKind::Qemu, Action::Shutdown)
            if running && g.qmpstatus == "paused" && !opts.force =>
        {
            Err(ApiError::internal("VM is paused - cannot shutdown"))
        }
        (GuestKind::Qemu, Action::Reboot) if running && g.qmpstatus == "paused" => {
            Err(ApiError::internal("VM is paused - cannot shutdown"))
        }
        (GuestKind::Qemu, Action::Reboot) if !running => {
            Err(ApiError::internal(format!("VM {} not running", g.vmid)))
        }
        (GuestKind::Qemu, Action::Resume)
            if !running && g.lock().as_deref() != Some("suspended") =>
        {
            Err(ApiError::internal(format!("VM {} not running", g.vmid)))
        }
        (GuestKind::Lxc, Action::Start) if running => Err(ApiError::internal(format!(
            "{word} {} already running",
            g.vmid
        ))),
        (GuestKind::Lxc, Action::Stop | Action::Shutdown | Action::Reboot) if !running => {
            Err(ApiError::internal(format!("{word} {} not running", g.vmid)))
        }
        _ => Ok(()),
    }
}

/// One power call: checks, then a task that applies the action when it ends.
fn power_call(
    sim: &mut Sim,
    call: &Call,
    kind: GuestKind,
    action: Action,
) -> Result<Value, ApiError> {
    let node = call.node()?.to_string();
    let vmid = call.vmid()?;
    let opts = Opts {
        skiplock: guest::skiplock(call)?,
        force: call.bool("forceStop").unwrap_or(false),
        timeout: call.int("timeout"),
        todisk: call.bool("todisk").unwrap_or(false),
    };
    if call.bool("keepActive") == Some(true) && call.identity.userid != "root@pam" {
        return Err(ApiError::param(
            "keepActive",
            "Only root may use this option.",
        ));
    }
    let g = sim.guest_on(&node, vmid, kind)?;
    precheck(g, action, opts)?;
    // A paused VM asked to shut down with forceStop is stopped instead.
    let action = if action == Action::Shutdown && g.qmpstatus == "paused" {
        Action::Stop
    } else {
        action
    };
    let mut probe = g.clone();
    let fails = power::apply(&mut probe, action, opts, sim.now).is_err();
    let duration = if fails {
        FAIL_DURATION
    } else {
        action.duration(g, opts)
    };
    let ha =
        g.hastate.is_some() && matches!(action, Action::Start | Action::Stop | Action::Shutdown);
    let (task_type, mut log) = if ha {
        let ha_kind = if kind == GuestKind::Qemu { "vm" } else { "ct" };
        let (t, verb) = if action == Action::Start {
            ("hastart", "start")
        } else {
            ("hastop", "stop")
        };
        (
            t,
            vec![
                format!("Requesting HA {verb} for {} {vmid}", kind_word(kind)),
                format!("ha-manager crm-command {verb} {ha_kind}:{vmid}"),
            ],
        )
    } else {
        (action.task_type(kind), Vec::new())
    };
    if action == Action::Stop && call.bool("overrule-shutdown") == Some(true) {
        let shutdown = Action::Shutdown.task_type(kind);
        let victims: Vec<String> = sim
            .tasks
            .by_upid
            .values()
            .filter(|t| t.is_running() && t.kind == shutdown && t.id == vmid.to_string())
            .map(|t| t.upid.clone())
            .collect();
        for upid in &victims {
            let now = sim.now;
            sim.tasks.stop(&mut sim.cluster, upid, now);
            log.push(format!("overruling active shutdown task {upid}"));
        }
    }
    if opts.todisk
        && !fails
        && let Some(g) = sim.cluster.guests.get_mut(&vmid)
    {
        g.config.insert("lock".into(), json!("suspending"));
    }
    let hastate = ha.then(|| {
        if action == Action::Start {
            "started"
        } else {
            "stopped"
        }
    });
    let upid = sim.spawn_task(TaskSpec {
        node: node.clone(),
        kind: task_type.to_string(),
        id: vmid.to_string(),
        user: guest::task_user(call),
        duration,
        log,
        lock_vmid: None,
        finish: Box::new(move |cluster, t| {
            let g = cluster
                .guests
                .get_mut(&vmid)
                .filter(|g| g.node == node && g.kind == kind)
                .ok_or_else(|| missing_config_message(&node, vmid, kind))?;
            if opts.todisk && g.lock().as_deref() == Some("suspending") {
                g.config.remove("lock");
            }
            let lines = power::apply(g, action, opts, t)?;
            if let Some(state) = hastate {
                g.hastate = Some(state.to_string());
            }
            Ok(lines)
        }),
    });
    Ok(Value::String(upid))
}

#[cfg(test)]
mod tests;
