//! A task's life over HTTP: UPID, running, log, stopped/OK; stop; the list's filters, paging,
//! `total` and per-user visibility; the cluster-wide list.

use pve_sim::Role;
use pve_sim::tasks::TaskSpec;

use crate::support::{Auth, start};

fn spec(kind: &str, id: &str, user: &str, duration: f64, fail: Option<&'static str>) -> TaskSpec {
    TaskSpec {
        node: "pve01".into(),
        kind: kind.into(),
        id: id.into(),
        user: user.into(),
        duration,
        log: vec![format!("starting {kind} {id}")],
        lock_vmid: None,
        finish: Box::new(move |_, _| match fail {
            Some(msg) => Err(msg.to_string()),
            None => Ok(vec!["done".to_string()]),
        }),
    }
}

#[tokio::test]
async fn task_life_from_upid_to_ok() {
    let sim = start().await;
    let upid = sim
        .server
        .with_sim(|s| s.spawn_task(spec("qmstart", "103", "root@pam", 5.0, None)));
    assert!(
        upid.starts_with("UPID:pve01:") && upid.ends_with(":qmstart:103:root@pam:"),
        "{upid}"
    );
    let enc = upid.replace(':', "%3A").replace('@', "%40");

    let r = sim
        .get(&format!("/nodes/pve01/tasks/{enc}/status"), &[])
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.data()["status"], "running");
    assert!(r.data().get("exitstatus").is_none());
    assert_eq!(r.data()["upid"], upid.as_str());
    assert_eq!(r.data()["type"], "qmstart");
    assert_eq!(r.data()["id"], "103");

    let r = sim.get(&format!("/nodes/pve01/tasks/{upid}"), &[]).await;
    assert_eq!(
        r.data(),
        &serde_json::json!([{"name": "log"}, {"name": "status"}])
    );

    // Running tasks are listed with source=active, not in the default archive view.
    let r = sim.get("/nodes/pve01/tasks", &[("source", "active")]).await;
    assert!(
        r.data()
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["upid"] == upid.as_str())
    );
    let r = sim.get("/nodes/pve01/tasks", &[]).await;
    assert!(
        !r.data()
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["upid"] == upid.as_str())
    );

    sim.server.advance(5.0);
    let r = sim
        .get(&format!("/nodes/pve01/tasks/{enc}/status"), &[])
        .await;
    assert_eq!(r.data()["status"], "stopped");
    assert_eq!(r.data()["exitstatus"], "OK");

    let r = sim
        .get(&format!("/nodes/pve01/tasks/{upid}/log"), &[])
        .await;
    assert_eq!(r.body["total"], 3);
    let lines: Vec<&str> = r
        .data()
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["t"].as_str().unwrap())
        .collect();
    assert_eq!(lines, vec!["starting qmstart 103", "done", "TASK OK"]);
    assert_eq!(r.data()[0]["n"], 1);
    let r = sim
        .get(
            &format!("/nodes/pve01/tasks/{upid}/log"),
            &[("start", "2"), ("limit", "1")],
        )
        .await;
    assert_eq!(r.data(), &serde_json::json!([{"n": 3, "t": "TASK OK"}]));

    let r = sim
        .get(
            "/nodes/pve01/tasks",
            &[("typefilter", "qmstart"), ("vmid", "103")],
        )
        .await;
    let t = &r.data()[0];
    assert_eq!(
        (t["upid"].as_str(), t["status"].as_str()),
        (Some(upid.as_str()), Some("OK"))
    );
    assert!(t["endtime"].as_i64().unwrap() >= t["starttime"].as_i64().unwrap());

    // Wrong node for the UPID, or unknown UPID: no such task.
    let r = sim
        .get(&format!("/nodes/pve02/tasks/{upid}/status"), &[])
        .await;
    assert_eq!((r.status, r.message()), (500, "no such task\n"));
}

#[tokio::test]
async fn stop_interrupts_a_running_task() {
    let sim = start().await;
    let upid = sim
        .server
        .with_sim(|s| s.spawn_task(spec("vzdump", "100", "root@pam", 60.0, None)));
    let r = sim
        .call(
            "DELETE",
            &format!("/nodes/pve01/tasks/{upid}"),
            &Auth::token(),
            &[],
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert!(r.data().is_null());
    sim.server.advance(120.0);
    let r = sim
        .get(&format!("/nodes/pve01/tasks/{upid}/status"), &[])
        .await;
    assert_eq!(r.data()["exitstatus"], "interrupted by signal");
    let r = sim
        .get(&format!("/nodes/pve01/tasks/{upid}/log"), &[("limit", "0")])
        .await;
    assert_eq!(
        r.data().as_array().unwrap().last().unwrap()["t"],
        "TASK ERROR: interrupted by signal"
    );
}

#[tokio::test]
async fn list_filters_paging_and_visibility() {
    let sim = start().await;
    sim.server.with_sim(|s| {
        s.auth.add_token("bob@pve!t", "b", Role::None);
        s.spawn_task(spec("qmstart", "100", "root@pam", 0.0, None));
        s.spawn_task(spec(
            "qmstop",
            "101",
            "root@pam",
            0.0,
            Some("VM 101 not running"),
        ));
        s.spawn_task(spec("vzdump", "", "bob@pve!t", 0.0, None));
        s.spawn_task(spec(
            "qmshutdown",
            "102",
            "root@pam",
            0.0,
            Some("WARNINGS: 1"),
        ));
    });
    sim.server.advance(1.0);
    let ids = |r: &crate::support::Resp| -> Vec<String> {
        r.data()
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["type"].as_str().unwrap().to_string())
            .collect()
    };
    let check = |params: &'static [(&'static str, &'static str)],
                 want: &'static [&'static str],
                 total: u64| { (params, want, total) };
    let cases = [
        check(&[], &["qmshutdown", "vzdump", "qmstop", "qmstart"], 4),
        check(&[("errors", "1")], &["qmshutdown", "qmstop"], 2),
        check(&[("statusfilter", "ok")], &["vzdump", "qmstart"], 2),
        check(
            &[("statusfilter", "warning,error")],
            &["qmshutdown", "qmstop"],
            2,
        ),
        check(&[("userfilter", "bob")], &["vzdump"], 1),
        check(&[("typefilter", "qmstop")], &["qmstop"], 1),
        check(&[("vmid", "100")], &["qmstart"], 1),
        check(&[("start", "1"), ("limit", "2")], &["vzdump", "qmstop"], 4),
    ];
    for (params, want, total) in cases {
        let r = sim.get("/nodes/pve01/tasks", params).await;
        assert_eq!(r.status, 200, "{params:?} {:?}", r.body);
        assert_eq!(ids(&r), want.to_vec(), "{params:?}");
        assert_eq!(r.body["total"], total, "{params:?}");
    }
    // Bob has no Sys.Audit: he sees only his own task, and may not read root's.
    let bob = Auth::Token("bob@pve!t=b".into());
    let r = sim.call("GET", "/nodes/pve01/tasks", &bob, &[]).await;
    assert_eq!(ids(&r), vec!["vzdump"]);
    let root_upid = sim.server.with_sim(|s| s.tasks.order[0].clone());
    let r = sim
        .call(
            "GET",
            &format!("/nodes/pve01/tasks/{root_upid}/status"),
            &bob,
            &[],
        )
        .await;
    assert_eq!(r.status, 403);
    assert_eq!(
        r.message(),
        "Permission check failed (/nodes/pve01, Sys.Audit)\n"
    );
}

#[tokio::test]
async fn cluster_tasks_list_every_node_running_ones_too_and_only_what_the_caller_may_see() {
    let sim = start().await;
    sim.server.with_sim(|s| {
        s.auth.add_token("bob@pve!t", "b", Role::None);
        s.spawn_task(spec("qmstart", "100", "root@pam", 0.0, None));
        let mut other = spec(
            "vzstart",
            "201",
            "root@pam",
            0.0,
            Some("CT 201 already running"),
        );
        other.node = "pve02".into();
        s.spawn_task(other);
        s.spawn_task(spec("vzdump", "", "bob@pve!t", 0.0, None));
    });
    sim.server.advance(1.0);
    // Still running when listed.
    sim.server
        .with_sim(|s| s.spawn_task(spec("qmreboot", "101", "root@pam", 60.0, None)));
    let r = sim.get("/cluster/tasks", &[]).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let rows = r.data().as_array().unwrap();
    let seen: Vec<(&str, &str, Option<&str>)> = rows
        .iter()
        .map(|t| {
            (
                t["node"].as_str().unwrap(),
                t["type"].as_str().unwrap(),
                t["status"].as_str(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("pve01", "qmreboot", None),
            ("pve01", "vzdump", Some("OK")),
            ("pve02", "vzstart", Some("CT 201 already running")),
            ("pve01", "qmstart", Some("OK")),
        ]
    );
    // Bob has no Sys.Audit anywhere: only his own task.
    let bob = Auth::Token("bob@pve!t=b".into());
    let r = sim.call("GET", "/cluster/tasks", &bob, &[]).await;
    let types: Vec<&str> = r
        .data()
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["vzdump"]);
}
