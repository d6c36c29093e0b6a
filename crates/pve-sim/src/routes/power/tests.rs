//! Tests of the power routes (`routes/power/`): task life, PVE's failures, status fields.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::Value;

use crate::route::{Identity, Method, Role};
use crate::state::PowerState;
use crate::testkit::{advance, assert_err, call, call_as, exitstatus, finish, g, log, sim, who};

const Q: &str = "/nodes/pve1/qemu";
const L: &str = "/nodes/pve1/lxc";

fn post(s: &mut crate::Sim, path: &str, params: &[(&str, &str)]) -> Value {
    call(s, Method::Post, path, params).unwrap_or_else(|e| panic!("{path}: {e:?}"))
}

fn is_upid(v: &Value, kind: &str, id: &str) -> bool {
    let re = regex::Regex::new(&format!(
        "^UPID:pve1:[0-9A-F]{{8}}:[0-9A-F]{{8,9}}:[0-9A-F]{{8}}:{kind}:{id}:root@pam:$"
    ))
    .unwrap();
    v.as_str().is_some_and(|u| re.is_match(u))
}

#[test]
fn start_runs_as_a_task_and_changes_state_only_at_the_end() {
    let mut s = sim();
    let upid = post(&mut s, &format!("{Q}/101/status/start"), &[]);
    assert!(is_upid(&upid, "qmstart", "101"), "{upid}");
    assert_eq!(g(&s, 101).status, PowerState::Stopped);
    advance(&mut s, 1.0);
    assert_eq!(exitstatus(&s, &upid), None, "still running after 1 s");
    assert_eq!(g(&s, 101).status, PowerState::Stopped);
    advance(&mut s, 10.0);
    assert_eq!(exitstatus(&s, &upid).as_deref(), Some("OK"));
    let vm = g(&s, 101);
    assert_eq!(vm.status, PowerState::Running);
    assert!(vm.pid > 0);
    let uptime = vm.uptime(s.now);
    assert!(
        (1..=10).contains(&uptime),
        "uptime counts from the task end: {uptime}"
    );
    assert_eq!(log(&s, &upid).last().map(String::as_str), Some("TASK OK"));
    let cur = call(&mut s, Method::Get, &format!("{Q}/101/status/current"), &[]).unwrap();
    assert_eq!(cur["status"], "running");
    assert_eq!(cur["qmpstatus"], "running");
    assert_eq!(cur["running-qemu"], super::RUNNING_QEMU);
}

#[test]
fn time_scale_zero_ends_tasks_at_once() {
    let mut s = sim();
    s.time_scale = 0.0;
    let upid = post(&mut s, &format!("{Q}/100/status/shutdown"), &[]);
    advance(&mut s, 0.0);
    assert_eq!(exitstatus(&s, &upid).as_deref(), Some("OK"));
    assert_eq!(g(&s, 100).status, PowerState::Stopped);
}

type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a str);
type Refusal<'a> = (
    &'a Identity,
    Method,
    &'a str,
    Vec<(&'a str, &'a str)>,
    u16,
    &'a str,
);

#[test]
fn failing_tasks_end_with_pves_exit_status() {
    // (path, params, exit status)
    let cases: &[Case] = &[
        ("/qemu/100/status/start", &[], "VM 100 already running"),
        (
            "/qemu/9000/status/start",
            &[],
            "you can't start a vm if it's a template",
        ),
        ("/qemu/104/status/start", &[], "VM is locked (backup)"),
        ("/qemu/104/status/stop", &[], "VM is locked (backup)"),
        ("/qemu/101/status/reset", &[], "VM 101 not running"),
        ("/qemu/101/status/suspend", &[], "VM 101 not running"),
        (
            "/qemu/100/status/shutdown",
            &[("timeout", "2")],
            "VM quit/powerdown failed - got timeout",
        ),
        ("/lxc/201/status/start", &[("debug", "1")], "OK"),
        ("/qemu/101/status/stop", &[], "OK"),
        ("/qemu/101/status/shutdown", &[], "OK"),
        ("/qemu/104/status/start", &[("skiplock", "1")], "OK"),
    ];
    for (path, params, want) in cases {
        let mut s = sim();
        let upid = post(&mut s, &format!("/nodes/pve1{path}"), params);
        let got = finish(&mut s, &upid);
        assert_eq!(got, *want, "{path}");
        if *want != "OK" {
            let last = log(&s, &upid).last().cloned().unwrap_or_default();
            assert_eq!(last, format!("TASK ERROR: {want}"), "{path}");
        }
    }
}

#[test]
fn refusals_before_the_task() {
    let root = Identity::root();
    let user = who("alice@pve", Role::Vms(vec![100, 101]));
    let auditor = who("audit@pve", Role::Auditor);
    // (identity, method, path, params, status, message)
    let cases: Vec<Refusal> = vec![
        (
            &root,
            Method::Post,
            "/qemu/101/status/reboot",
            vec![],
            500,
            "VM 101 not running",
        ),
        (
            &root,
            Method::Post,
            "/qemu/101/status/resume",
            vec![],
            500,
            "VM 101 not running",
        ),
        (
            &root,
            Method::Post,
            "/lxc/200/status/start",
            vec![],
            500,
            "CT 200 already running",
        ),
        (
            &root,
            Method::Post,
            "/lxc/201/status/stop",
            vec![],
            500,
            "CT 201 not running",
        ),
        (
            &root,
            Method::Post,
            "/lxc/201/status/shutdown",
            vec![],
            500,
            "CT 201 not running",
        ),
        (
            &root,
            Method::Post,
            "/lxc/201/status/reboot",
            vec![],
            500,
            "CT 201 not running",
        ),
        (
            &root,
            Method::Post,
            "/qemu/555/status/start",
            vec![],
            500,
            "Configuration file 'nodes/pve1/qemu-server/555.conf' does not exist",
        ),
        (
            &root,
            Method::Post,
            "/qemu/300/status/start",
            vec![],
            500,
            "Configuration file 'nodes/pve1/qemu-server/300.conf' does not exist",
        ),
        (
            &root,
            Method::Get,
            "/qemu/200/status/current",
            vec![],
            500,
            "Configuration file 'nodes/pve1/qemu-server/200.conf' does not exist",
        ),
        (
            &root,
            Method::Get,
            "/lxc/100/status/current",
            vec![],
            500,
            "Configuration file 'nodes/pve1/lxc/100.conf' does not exist",
        ),
        (
            &user,
            Method::Post,
            "/qemu/101/status/start",
            vec![("skiplock", "1")],
            400,
            "skiplock: Only root may use this option.",
        ),
        (
            &user,
            Method::Post,
            "/qemu/104/status/start",
            vec![],
            403,
            "Permission check failed (/vms/104, VM.PowerMgmt)",
        ),
        (
            &auditor,
            Method::Post,
            "/qemu/101/status/start",
            vec![],
            403,
            "Permission check failed",
        ),
        (
            &root,
            Method::Post,
            "/qemu/101/status/start",
            vec![("timeout", "-1")],
            400,
            "timeout: ",
        ),
        (
            &root,
            Method::Post,
            "/qemu/101/status/start",
            vec![("bogus", "1")],
            400,
            "bogus: ",
        ),
    ];
    for (id, method, path, params, status, msg) in cases {
        let mut s = sim();
        let r = call_as(&mut s, id, method, &format!("/nodes/pve1{path}"), &params);
        assert_err(r, status, msg);
        assert!(s.tasks.by_upid.is_empty(), "{path}: no task was started");
    }
    let mut s = sim();
    assert!(
        call_as(
            &mut s,
            &auditor,
            Method::Get,
            &format!("{Q}/100/status/current"),
            &[]
        )
        .is_ok()
    );
}

#[test]
fn suspend_resume_and_paused_shutdown() {
    let mut s = sim();
    s.time_scale = 0.0;
    let up = post(&mut s, &format!("{Q}/100/status/suspend"), &[]);
    assert_eq!(finish(&mut s, &up), "OK");
    let cur = call(&mut s, Method::Get, &format!("{Q}/100/status/current"), &[]).unwrap();
    assert_eq!(
        (cur["status"].as_str(), cur["qmpstatus"].as_str()),
        (Some("running"), Some("paused"))
    );
    assert_err(
        call(
            &mut s,
            Method::Post,
            &format!("{Q}/100/status/shutdown"),
            &[],
        ),
        500,
        "VM is paused - cannot shutdown",
    );
    let up = post(&mut s, &format!("{Q}/100/status/resume"), &[]);
    assert!(is_upid(&up, "qmresume", "100"));
    assert_eq!(finish(&mut s, &up), "OK");
    assert_eq!(g(&s, 100).qmpstatus, "running");
    post(&mut s, &format!("{Q}/100/status/suspend"), &[]);
    advance(&mut s, 1.0);
    let up = post(
        &mut s,
        &format!("{Q}/100/status/shutdown"),
        &[("forceStop", "1")],
    );
    assert_eq!(finish(&mut s, &up), "OK");
    assert_eq!(g(&s, 100).status, PowerState::Stopped);
}

#[test]
fn hibernate_locks_then_start_resumes() {
    let mut s = sim();
    let up = post(
        &mut s,
        &format!("{Q}/100/status/suspend"),
        &[("todisk", "1")],
    );
    assert_eq!(g(&s, 100).lock().as_deref(), Some("suspending"));
    assert_eq!(finish(&mut s, &up), "OK");
    assert_eq!(g(&s, 100).lock().as_deref(), Some("suspended"));
    assert_eq!(g(&s, 100).status, PowerState::Stopped);
    let up = post(&mut s, &format!("{Q}/100/status/start"), &[]);
    assert_eq!(finish(&mut s, &up), "OK");
    assert_eq!(g(&s, 100).lock(), None);
    assert_eq!(g(&s, 100).status, PowerState::Running);
}

#[test]
fn hibernate_then_resume_starts_from_the_saved_state() {
    let mut s = sim();
    let up = post(
        &mut s,
        &format!("{Q}/100/status/suspend"),
        &[("todisk", "1")],
    );
    assert_eq!(finish(&mut s, &up), "OK");
    assert_eq!(g(&s, 100).status, PowerState::Stopped);
    let up = post(&mut s, &format!("{Q}/100/status/resume"), &[]);
    assert_eq!(finish(&mut s, &up), "OK");
    assert_eq!(g(&s, 100).lock(), None);
    assert_eq!(g(&s, 100).status, PowerState::Running);
    assert_eq!(g(&s, 100).qmpstatus, "running");
}

#[test]
fn reboot_restarts_uptime_and_reset_keeps_it() {
    let mut s = sim();
    let before = g(&s, 100).uptime(s.now);
    let up = post(&mut s, &format!("{Q}/100/status/reset"), &[]);
    assert_eq!(finish(&mut s, &up), "OK");
    assert!(g(&s, 100).uptime(s.now) > before);
    let up = post(&mut s, &format!("{Q}/100/status/reboot"), &[]);
    assert!(is_upid(&up, "qmreboot", "100"));
    advance(&mut s, 20.0);
    assert_eq!(exitstatus(&s, &up).as_deref(), Some("OK"));
    assert!(g(&s, 100).uptime(s.now) <= 20);
    let up = post(&mut s, &format!("{L}/200/status/reboot"), &[]);
    assert!(is_upid(&up, "vzreboot", "200"));
    assert_eq!(finish(&mut s, &up), "OK");
}

#[test]
fn ha_managed_guests_go_through_the_ha_manager() {
    let mut s = sim();
    s.cluster.guests.get_mut(&101).unwrap().hastate = Some("stopped".into());
    let up = post(&mut s, &format!("{Q}/101/status/start"), &[]);
    assert!(is_upid(&up, "hastart", "101"), "{up}");
    assert_eq!(finish(&mut s, &up), "OK");
    assert_eq!(g(&s, 101).hastate.as_deref(), Some("started"));
    let cur = call(&mut s, Method::Get, &format!("{Q}/101/status/current"), &[]).unwrap();
    assert_eq!(cur["ha"]["managed"], 1);
    assert!(log(&s, &up)[0].contains("Requesting HA start for VM 101"));
}

#[test]
fn stop_overrules_a_running_shutdown() {
    let mut s = sim();
    let sd = post(&mut s, &format!("{Q}/100/status/shutdown"), &[]);
    let st = post(
        &mut s,
        &format!("{Q}/100/status/stop"),
        &[("overrule-shutdown", "1")],
    );
    assert_eq!(
        exitstatus(&s, &sd).as_deref(),
        Some("interrupted by signal")
    );
    assert_eq!(finish(&mut s, &st), "OK");
    assert_eq!(g(&s, 100).status, PowerState::Stopped);
}

#[test]
fn status_fields_follow_pve_shapes() {
    let mut s = sim();
    let get = |s: &mut crate::Sim, p: &str| call(s, Method::Get, p, &[]).unwrap();
    let run = get(&mut s, &format!("{Q}/100/status/current"));
    for k in [
        "vmid",
        "name",
        "status",
        "qmpstatus",
        "cpus",
        "cpu",
        "mem",
        "maxmem",
        "maxdisk",
        "uptime",
        "pid",
        "running-machine",
        "netin",
        "diskwrite",
    ] {
        assert!(run.get(k).is_some(), "running VM lacks {k}: {run}");
    }
    assert_eq!(run["agent"], 1);
    assert_eq!(run["ha"], serde_json::json!({"managed": 0}));
    assert!(run.get("lock").is_none() && run.get("template").is_none());
    let stopped = get(&mut s, &format!("{Q}/101/status/current"));
    assert_eq!(stopped["qmpstatus"], "stopped");
    assert_eq!(stopped["uptime"], 0);
    assert!(
        stopped.get("pid").is_none()
            && stopped.get("agent").is_none()
            && stopped.get("running-qemu").is_none()
    );
    assert_eq!(
        get(&mut s, &format!("{Q}/104/status/current"))["lock"],
        "backup"
    );
    assert_eq!(
        get(&mut s, &format!("{Q}/9000/status/current"))["template"],
        1
    );
    let ct = get(&mut s, &format!("{L}/200/status/current"));
    assert_eq!(ct["type"], "lxc");
    assert_eq!(ct["maxswap"], 512u64 << 20);
    assert!(ct.get("ha").is_some() && ct.get("swap").is_some());
    let idx = get(&mut s, &format!("{Q}/100/status"));
    assert!(
        idx.as_array()
            .unwrap()
            .iter()
            .any(|d| d["subdir"] == "current")
    );
    let idx = get(&mut s, &format!("{L}/200/status"));
    assert!(
        idx.as_array()
            .unwrap()
            .iter()
            .any(|d| d["subdir"] == "shutdown")
    );
}
