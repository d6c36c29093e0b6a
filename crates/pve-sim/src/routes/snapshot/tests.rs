//! Tests of the snapshot routes (`routes/snapshot/`), QEMU and LXC.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::Value;

use crate::Sim;
use crate::route::Method;
use crate::state::PowerState;
use crate::testkit::*;

const Q: &str = "/nodes/pve1/qemu";
const L: &str = "/nodes/pve1/lxc";

fn snap(s: &mut Sim, base: &str, vmid: u32, params: &[(&str, &str)]) -> Value {
    let path = format!("{base}/{vmid}/snapshot");
    call(s, Method::Post, &path, params).unwrap_or_else(|e| panic!("{path}: {e:?}"))
}

fn list(s: &mut Sim, base: &str, vmid: u32) -> Vec<Value> {
    let path = format!("{base}/{vmid}/snapshot");
    call(s, Method::Get, &path, &[])
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

#[test]
fn create_list_tree_and_current() {
    let mut s = sim();
    assert_eq!(list(&mut s, Q, 100).len(), 1, "only current");
    let up = snap(
        &mut s,
        Q,
        100,
        &[("snapname", "s1"), ("description", "first")],
    );
    assert!(up.as_str().unwrap().contains(":qmsnapshot:100:"));
    assert_eq!(g(&s, 100).lock().as_deref(), Some("snapshot"));
    assert_eq!(finish(&mut s, &up), "OK");
    assert_eq!(g(&s, 100).lock(), None);
    assert!(
        log(&s, &up)
            .iter()
            .any(|l| l.contains("snapshotting 'drive-scsi0' (local-lvm:vm-100-disk-0)"))
    );
    let up = snap(&mut s, Q, 100, &[("snapname", "s2"), ("vmstate", "1")]);
    assert_eq!(finish(&mut s, &up), "OK");
    assert!(
        s.cluster
            .volumes
            .iter()
            .any(|v| v.volid == "local-lvm:vm-100-state-s2")
    );
    let l = list(&mut s, Q, 100);
    assert_eq!(l.len(), 3);
    assert_eq!(l[0]["name"], "s1");
    assert_eq!(l[0]["description"], "first");
    assert_eq!(l[0]["vmstate"], 0);
    assert!(l[0].get("parent").is_none());
    assert_eq!(l[1]["parent"], "s1");
    assert_eq!(l[1]["vmstate"], 1);
    assert_eq!(l[2]["name"], "current");
    assert_eq!(l[2]["parent"], "s2");
    assert_eq!(l[2]["running"], 1);
    assert_eq!(l[2]["description"], "You are here!");
    assert_eq!(l[2]["digest"].as_str().unwrap().len(), 40);
    let c = call(&mut s, Method::Get, &format!("{Q}/100/config"), &[]).unwrap();
    assert_eq!(c["parent"], "s2");
}

#[test]
fn failing_snapshot_tasks() {
    // (base, vmid, params, exit status)
    let cases: Vec<(&str, u32, Params, &str)> = vec![
        (Q, 104, vec![("snapname", "xx")], "VM is locked (backup)"),
        (
            Q,
            9000,
            vec![("snapname", "xx")],
            "you can't take a snapshot if it's a template",
        ),
        (L, 200, vec![("snapname", "xx")], "OK"),
    ];
    for (base, vmid, params, want) in cases {
        let mut s = sim();
        let up = snap(&mut s, base, vmid, &params);
        assert_eq!(finish(&mut s, &up), want, "{vmid}");
    }
    let mut s = sim();
    let up = snap(&mut s, Q, 101, &[("snapname", "dup")]);
    finish(&mut s, &up);
    let up = snap(&mut s, Q, 101, &[("snapname", "dup")]);
    assert_eq!(finish(&mut s, &up), "snapshot name 'dup' already used");
    let mut s = sim();
    let d = s.cluster.guests.get_mut(&101).unwrap();
    d.config.insert(
        "scsi0".into(),
        "local:101/vm-101-disk-0.raw,size=32G".into(),
    );
    let up = snap(&mut s, Q, 101, &[("snapname", "xx")]);
    assert_eq!(finish(&mut s, &up), "snapshot feature is not available");
    let mut s = sim();
    let r = call(
        &mut s,
        Method::Post,
        &format!("{Q}/100/snapshot"),
        &[("snapname", "current")],
    );
    assert_err(
        r,
        500,
        "unable to use snapshot name 'current' (reserved name)",
    );
    let r = call(
        &mut s,
        Method::Post,
        &format!("{Q}/100/snapshot"),
        &[("snapname", "1bad")],
    );
    assert_err(r, 400, "snapname: ");
    let r = call(
        &mut s,
        Method::Post,
        &format!("{L}/200/snapshot"),
        &[("snapname", "aa"), ("vmstate", "1")],
    );
    assert_err(r, 400, "vmstate: ");
}

#[test]
fn rollback_restores_config_and_power_state() {
    let mut s = sim();
    let up = snap(&mut s, Q, 100, &[("snapname", "before")]);
    finish(&mut s, &up);
    call(
        &mut s,
        Method::Put,
        &format!("{Q}/100/config"),
        &[("cores", "8")],
    )
    .unwrap();
    let up = call(
        &mut s,
        Method::Post,
        &format!("{Q}/100/snapshot/before/rollback"),
        &[],
    )
    .unwrap();
    assert!(up.as_str().unwrap().contains(":qmrollback:100:"));
    assert_eq!(g(&s, 100).lock().as_deref(), Some("rollback"));
    assert_eq!(finish(&mut s, &up), "OK");
    assert_eq!(g(&s, 100).config["cores"], 2);
    assert_eq!(
        g(&s, 100).status,
        PowerState::Stopped,
        "no vmstate: stopped"
    );
    assert_eq!(g(&s, 100).lock(), None);
    let up = call(
        &mut s,
        Method::Post,
        &format!("{Q}/100/snapshot/before/rollback"),
        &[("start", "1")],
    )
    .unwrap();
    assert_eq!(finish(&mut s, &up), "OK");
    assert_eq!(g(&s, 100).status, PowerState::Running);
    let up = call(
        &mut s,
        Method::Post,
        &format!("{Q}/100/snapshot/nope/rollback"),
        &[],
    )
    .unwrap();
    assert_eq!(finish(&mut s, &up), "snapshot 'nope' does not exist");
    let up = snap(&mut s, L, 200, &[("snapname", "c1")]);
    finish(&mut s, &up);
    let up = call(
        &mut s,
        Method::Post,
        &format!("{L}/200/snapshot/c1/rollback"),
        &[],
    )
    .unwrap();
    assert!(up.as_str().unwrap().contains(":vzrollback:200:"));
    assert_eq!(finish(&mut s, &up), "OK");
}

#[test]
fn delete_reparents_and_frees_state() {
    let mut s = sim();
    for (name, state) in [("sa", "0"), ("sb", "1"), ("sc", "0")] {
        let up = snap(&mut s, Q, 100, &[("snapname", name), ("vmstate", state)]);
        assert_eq!(finish(&mut s, &up), "OK");
    }
    let up = call(&mut s, Method::Delete, &format!("{Q}/100/snapshot/sb"), &[]).unwrap();
    assert!(up.as_str().unwrap().contains(":qmdelsnapshot:100:"));
    assert_eq!(g(&s, 100).lock().as_deref(), Some("snapshot-delete"));
    assert_eq!(finish(&mut s, &up), "OK");
    let l = list(&mut s, Q, 100);
    let names: Vec<&str> = l.iter().map(|v| v["name"].as_str().unwrap()).collect();
    assert_eq!(names, vec!["sa", "sc", "current"]);
    assert_eq!(l[1]["parent"], "sa");
    assert!(
        !s.cluster
            .volumes
            .iter()
            .any(|v| v.volid == "local-lvm:vm-100-state-sb")
    );
    let up = call(
        &mut s,
        Method::Delete,
        &format!("{Q}/100/snapshot/zzz"),
        &[],
    )
    .unwrap();
    assert_eq!(finish(&mut s, &up), "snapshot 'zzz' does not exist");
    let up = call(&mut s, Method::Delete, &format!("{Q}/100/snapshot/sc"), &[]).unwrap();
    finish(&mut s, &up);
    assert_eq!(
        list(&mut s, Q, 100)[1]["parent"],
        "sa",
        "current's parent moves up"
    );
}

#[test]
fn snapshot_config_and_index() {
    let mut s = sim();
    let up = snap(&mut s, Q, 100, &[("snapname", "s1"), ("description", "d1")]);
    finish(&mut s, &up);
    let c = call(
        &mut s,
        Method::Get,
        &format!("{Q}/100/snapshot/s1/config"),
        &[],
    )
    .unwrap();
    assert_eq!(c["name"], "web01");
    assert_eq!(c["description"], "d1");
    assert!(c["snaptime"].as_i64().unwrap() > 0);
    let r = call(
        &mut s,
        Method::Put,
        &format!("{Q}/100/snapshot/s1/config"),
        &[("description", "new")],
    )
    .unwrap();
    assert_eq!(r, Value::Null);
    assert_eq!(list(&mut s, Q, 100)[0]["description"], "new");
    assert_err(
        call(
            &mut s,
            Method::Get,
            &format!("{Q}/100/snapshot/xx/config"),
            &[],
        ),
        500,
        "snapshot 'xx' does not exist",
    );
    assert_err(
        call(
            &mut s,
            Method::Put,
            &format!("{Q}/100/snapshot/xx/config"),
            &[("description", "n")],
        ),
        500,
        "snapshot 'xx' does not exist",
    );
    let idx = call(&mut s, Method::Get, &format!("{Q}/100/snapshot/s1"), &[]).unwrap();
    assert_eq!(
        idx,
        serde_json::json!([{"cmd": "rollback"}, {"cmd": "config"}])
    );
    let cfg = call(
        &mut s,
        Method::Get,
        &format!("{Q}/100/config"),
        &[("snapshot", "s1")],
    )
    .unwrap();
    assert_eq!(cfg["description"], "new");
    assert_eq!(list(&mut s, L, 201)[0]["running"], 0);
    assert_eq!(list(&mut s, L, 201)[0]["running"], 0);
}
