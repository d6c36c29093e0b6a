//! Tests of the guest agent routes (`routes/agent/`): exec and exec-status over simulated
//! time, output, exit codes, truncation, PVE's agent errors, the QGA info commands.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{Value, json};

use crate::Sim;
use crate::route::{Method, Role};
use crate::state::PowerState;
use crate::testkit::{advance, assert_err, call, call_as, g, sim, who};

const A: &str = "/nodes/pve1/qemu/100/agent";

fn exec(s: &mut Sim, vmid: u32, argv: &[&str]) -> u64 {
    let params: Vec<(&str, &str)> = argv.iter().map(|a| ("command", *a)).collect();
    let path = format!("/nodes/pve1/qemu/{vmid}/agent/exec");
    let r = call(s, Method::Post, &path, &params).unwrap();
    r["pid"].as_u64().expect("pid")
}

fn status(s: &mut Sim, vmid: u32, pid: u64) -> Result<Value, crate::route::ApiError> {
    let path = format!("/nodes/pve1/qemu/{vmid}/agent/exec-status");
    call(s, Method::Get, &path, &[("pid", &pid.to_string())])
}

#[test]
fn exec_reports_running_then_output_once() {
    let mut s = sim();
    let pid = exec(&mut s, 100, &["sleep", "30"]);
    assert_eq!(status(&mut s, 100, pid).unwrap(), json!({"exited": 0}));
    advance(&mut s, 20.0);
    assert_eq!(status(&mut s, 100, pid).unwrap(), json!({"exited": 0}));
    advance(&mut s, 11.0);
    assert_eq!(
        status(&mut s, 100, pid).unwrap(),
        json!({"exited": 1, "exitcode": 0})
    );
    assert_err(
        status(&mut s, 100, pid),
        500,
        "Agent error: Invalid parameter 'pid'",
    );
    assert_err(
        status(&mut s, 100, 999_999),
        500,
        "Agent error: Invalid parameter 'pid'",
    );
}

type ExecCase<'a> = (&'a [&'a str], i64, Option<&'a str>, Option<&'a str>);
type ErrCase<'a> = (u32, Method, &'a str, &'a [(&'a str, &'a str)], &'a str);

#[test]
fn exec_results_table() {
    // (argv, exitcode, out-data, err-data)
    let cases: &[ExecCase] = &[
        (&["hostname"], 0, Some("web01\n"), None),
        (&["echo", "hello", "world"], 0, Some("hello world\n"), None),
        (
            &["sh", "-c", "echo hi; hostname"],
            0,
            Some("hi\nweb01\n"),
            None,
        ),
        (&["false"], 1, None, None),
        (
            &["systemctl", "is-active", "nginx"],
            3,
            Some("inactive\n"),
            None,
        ),
        (
            &["rm", "-rf", "/"],
            127,
            None,
            Some("rm: command not found\n"),
        ),
        (
            &["bash", "-c", "nope"],
            127,
            None,
            Some("bash: line 1: nope: command not found\n"),
        ),
    ];
    for (argv, code, out, err) in cases {
        let mut s = sim();
        s.time_scale = 0.0;
        let pid = exec(&mut s, 100, argv);
        let st = status(&mut s, 100, pid).unwrap();
        assert_eq!(st["exited"], 1, "{argv:?}");
        assert_eq!(st["exitcode"], *code, "{argv:?}");
        assert_eq!(st.get("out-data").and_then(Value::as_str), *out, "{argv:?}");
        assert_eq!(st.get("err-data").and_then(Value::as_str), *err, "{argv:?}");
    }
}

#[test]
fn long_output_is_truncated() {
    let mut s = sim();
    s.time_scale = 0.0;
    s.agent.output_limit = 16;
    let pid = exec(&mut s, 100, &["cat", "/etc/os-release"]);
    let st = status(&mut s, 100, pid).unwrap();
    assert_eq!(st["out-data"].as_str().unwrap().len(), 16);
    assert_eq!(st["out-truncated"], 1);
}

#[test]
fn input_data_reaches_the_command() {
    let mut s = sim();
    s.time_scale = 0.0;
    let path = "/nodes/pve1/qemu/100/agent/exec";
    let r = call(
        &mut s,
        Method::Post,
        path,
        &[("command", "cat"), ("input-data", "abc")],
    )
    .unwrap();
    let st = status(&mut s, 100, r["pid"].as_u64().unwrap()).unwrap();
    assert_eq!(st["out-data"], "abc");
}

#[test]
fn agent_errors_in_pves_order() {
    let mut paused = sim();
    paused.cluster.guests.get_mut(&100).unwrap().qmpstatus = "paused".into();
    // (vmid, method, sub-path, params, message)
    let cases: &[ErrCase] = &[
        (
            101,
            Method::Post,
            "exec",
            &[("command", "hostname")],
            "No QEMU guest agent configured",
        ),
        (
            104,
            Method::Post,
            "exec",
            &[("command", "hostname")],
            "VM 104 is not running",
        ),
        (
            102,
            Method::Post,
            "exec",
            &[("command", "hostname")],
            "QEMU guest agent is not running",
        ),
        (
            102,
            Method::Get,
            "get-osinfo",
            &[],
            "QEMU guest agent is not running",
        ),
        (
            103,
            Method::Post,
            "exec",
            &[("command", "hostname")],
            "Agent error: The command guest-exec has been disabled for this instance",
        ),
        (
            103,
            Method::Get,
            "exec-status",
            &[("pid", "1")],
            "Agent error: The command guest-exec-status has been disabled for this instance",
        ),
        (
            200,
            Method::Get,
            "info",
            &[],
            "Configuration file 'nodes/pve1/qemu-server/200.conf' does not exist",
        ),
        (
            100,
            Method::Get,
            "file-read",
            &[("file", "/etc/shadow")],
            "Agent error: failed to open file '/etc/shadow' (mode: 'r'): No such file or directory",
        ),
    ];
    for (vmid, method, sub, params, msg) in cases {
        let mut s = sim();
        let r = call(
            &mut s,
            *method,
            &format!("/nodes/pve1/qemu/{vmid}/agent/{sub}"),
            params,
        );
        assert_err(r, 500, msg);
    }
    assert_err(
        call(&mut paused, Method::Post, &format!("{A}/ping"), &[]),
        500,
        "QEMU guest agent is not running",
    );
    let mut s = sim();
    assert_err(
        call(&mut s, Method::Post, A, &[("command", "reboot")]),
        400,
        "command: ",
    );
    let r = call(
        &mut s,
        Method::Get,
        "/nodes/pve1/qemu/103/agent/get-host-name",
        &[],
    )
    .unwrap();
    assert_eq!(r["result"]["host-name"], "vm103");
}

#[test]
fn qga_commands_answer_with_result() {
    let mut s = sim();
    let get = |s: &mut Sim, sub: &str| call(s, Method::Get, &format!("{A}/{sub}"), &[]).unwrap();
    assert_eq!(
        get(&mut s, "get-host-name"),
        json!({"result": {"host-name": "web01"}})
    );
    assert_eq!(get(&mut s, "get-osinfo")["result"]["id"], "debian");
    let ifs = get(&mut s, "network-get-interfaces");
    let ens = &ifs["result"][1];
    assert_eq!(ens["name"], "ens18");
    assert_eq!(ens["hardware-address"], "bc:24:11:00:00:01");
    assert_eq!(ens["ip-addresses"][0]["ip-address-type"], "ipv4");
    let info = get(&mut s, "info");
    assert!(
        info["result"]["supported_commands"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["name"] == "guest-exec" && c["enabled"] == true)
    );
    assert_eq!(
        get(&mut s, "get-vcpus")["result"].as_array().unwrap().len(),
        2
    );
    for cmd in [
        "ping",
        "info",
        "get-osinfo",
        "get-host-name",
        "network-get-interfaces",
        "get-time",
    ] {
        let r = call(&mut s, Method::Post, A, &[("command", cmd)]).unwrap();
        assert!(r.get("result").is_some(), "{cmd}: {r}");
    }
    assert_eq!(
        call(&mut s, Method::Post, &format!("{A}/ping"), &[]).unwrap(),
        json!({"result": {}})
    );
    let idx = call(&mut s, Method::Get, A, &[]).unwrap();
    assert!(
        idx.as_array()
            .unwrap()
            .iter()
            .any(|e| e["name"] == "exec-status")
    );
    let f = call(
        &mut s,
        Method::Get,
        &format!("{A}/file-read"),
        &[("file", "/etc/hostname")],
    )
    .unwrap();
    assert_eq!(f, json!({"content": "web01\n"}));
}

#[test]
fn freeze_thaw_and_agent_shutdown() {
    let mut s = sim();
    let post = |s: &mut Sim, cmd: &str| {
        call(s, Method::Post, A, &[("command", cmd)]).unwrap()["result"].clone()
    };
    assert_eq!(post(&mut s, "fsfreeze-status"), "thawed");
    assert_eq!(post(&mut s, "fsfreeze-freeze"), 1);
    assert_eq!(post(&mut s, "fsfreeze-status"), "frozen");
    assert_eq!(post(&mut s, "fsfreeze-thaw"), 1);
    assert_eq!(post(&mut s, "fsfreeze-status"), "thawed");
    call(&mut s, Method::Post, &format!("{A}/shutdown"), &[]).unwrap();
    assert_eq!(g(&s, 100).status, PowerState::Stopped);
}

#[test]
fn permissions() {
    let mut s = sim();
    let auditor = who("audit@pve", Role::Auditor);
    let r = call_as(
        &mut s,
        &auditor,
        Method::Post,
        &format!("{A}/exec"),
        &[("command", "id")],
    );
    assert_err(
        r,
        403,
        "Permission check failed (/vms/100, VM.GuestAgent.Unrestricted)",
    );
    let mine = who("bob@pve!tok", Role::Vms(vec![100]));
    assert!(
        call_as(
            &mut s,
            &mine,
            Method::Post,
            &format!("{A}/exec"),
            &[("command", "hostname")]
        )
        .is_ok()
    );
    let r = call_as(
        &mut s,
        &mine,
        Method::Post,
        "/nodes/pve1/qemu/102/agent/exec",
        &[("command", "hostname")],
    );
    assert_err(r, 403, "Permission check failed (/vms/102");
}
