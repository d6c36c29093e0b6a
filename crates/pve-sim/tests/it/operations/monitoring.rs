//! RRD history follows the live figures; syslog, journal and the cluster log show the tasks.

use super::{finish, list};
use crate::support::start;

#[tokio::test]
async fn rrd_history_follows_the_live_figures() {
    let sim = start().await;
    let resources = sim.get("/cluster/resources", &[("type", "vm")]).await;
    let live = list(resources.data())
        .iter()
        .find(|r| r["vmid"] == 100)
        .cloned()
        .unwrap();
    let rrd = sim
        .get("/nodes/pve01/qemu/100/rrddata", &[("timeframe", "hour")])
        .await;
    let points = list(rrd.data());
    assert_eq!(points.len(), 70);
    let times: Vec<i64> = points.iter().map(|p| p["time"].as_i64().unwrap()).collect();
    assert!(
        times.windows(2).all(|w| w[1] - w[0] == 60),
        "a minute apart, oldest first"
    );
    assert!((sim.server.now() as i64 - times[69]) < 120);
    let last = &points[69];
    assert_eq!(last["maxmem"], live["maxmem"]);
    let (mem, live_mem) = (last["mem"].as_f64().unwrap(), live["mem"].as_f64().unwrap());
    assert!(
        (mem - live_mem).abs() / live_mem < 0.1,
        "{mem} vs {live_mem}"
    );
    assert!(last["netin"].as_f64().unwrap() > 0.0);
    // Rates move with time, as the counters of /cluster/resources grow unevenly.
    let mut rates: Vec<i64> = points
        .iter()
        .map(|p| p["netin"].as_f64().unwrap() as i64)
        .collect();
    rates.sort_unstable();
    rates.dedup();
    assert!(rates.len() > 10, "flat network history: {rates:?}");
    let max = sim
        .get(
            "/nodes/pve01/qemu/100/rrddata",
            &[("timeframe", "hour"), ("cf", "MAX")],
        )
        .await;
    for (a, m) in points.iter().zip(list(max.data())) {
        assert!(m["cpu"].as_f64().unwrap() >= a["cpu"].as_f64().unwrap());
    }
    let day = sim
        .get("/nodes/pve01/lxc/200/rrddata", &[("timeframe", "day")])
        .await;
    let day = list(day.data());
    assert_eq!(
        day[1]["time"].as_i64().unwrap() - day[0]["time"].as_i64().unwrap(),
        1800
    );
    // A stopped VM used nothing.
    let stopped = sim
        .get("/nodes/pve01/qemu/103/rrddata", &[("timeframe", "hour")])
        .await;
    assert!(
        list(stopped.data())
            .iter()
            .all(|p| p["cpu"] == 0.0 && p["mem"] == 0.0)
    );
    // The node's totals are the node's; the storage's use is its status's.
    let node = sim.get("/nodes/pve01/status", &[]).await;
    let rrd = sim
        .get("/nodes/pve01/rrddata", &[("timeframe", "hour")])
        .await;
    assert_eq!(
        list(rrd.data())[69]["memtotal"],
        node.data()["memory"]["total"]
    );
    let status = sim.get("/nodes/pve01/storage/local-lvm/status", &[]).await;
    let rrd = sim
        .get(
            "/nodes/pve01/storage/local-lvm/rrddata",
            &[("timeframe", "week")],
        )
        .await;
    assert_eq!(list(rrd.data())[69]["used"], status.data()["used"]);
    let bad = sim
        .get("/nodes/pve01/rrddata", &[("timeframe", "century")])
        .await;
    assert_eq!(bad.status, 400);
}

#[tokio::test]
async fn logs_show_the_tasks_that_ran() {
    let sim = start().await;
    let upid = sim.post("/nodes/pve01/qemu/103/status/start", &[]).await;
    let upid_text = upid.data().as_str().unwrap().to_string();
    assert_eq!(finish(&sim, upid.data()).await, "OK");
    let syslog = sim.get("/nodes/pve01/syslog", &[("limit", "5000")]).await;
    let lines: Vec<&str> = list(syslog.data())
        .iter()
        .map(|l| l["t"].as_str().unwrap())
        .collect();
    assert!(
        lines
            .iter()
            .any(|l| l.contains("starting task") && l.contains(&upid_text))
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("end task") && l.contains(&upid_text) && l.ends_with(" OK"))
    );
    assert!(lines.iter().all(|l| l.contains(" pve01 ")));
    let total = syslog.body["total"].as_u64().unwrap();
    assert_eq!(total as usize, lines.len());
    let page = sim
        .get("/nodes/pve01/syslog", &[("start", "2"), ("limit", "3")])
        .await;
    let page = list(page.data());
    assert_eq!(page.len(), 3);
    assert_eq!(page[0]["n"], 3);
    let only = sim
        .get(
            "/nodes/pve01/syslog",
            &[("service", "pvedaemon"), ("limit", "500")],
        )
        .await;
    assert!(
        list(only.data())
            .iter()
            .all(|l| l["t"].as_str().unwrap().contains("pvedaemon["))
    );

    // The task list, unlike the task status, carries the end time.
    let tasks = sim.get("/nodes/pve01/tasks", &[("vmid", "103")]).await;
    let entry = list(tasks.data())
        .iter()
        .find(|t| t["upid"] == upid_text.as_str())
        .expect("the start task is listed");
    let end = entry["endtime"].as_i64().unwrap().to_string();
    let journal = sim
        .get(
            "/nodes/pve01/journal",
            &[("until", end.as_str()), ("lastentries", "4")],
        )
        .await;
    let journal: Vec<&str> = list(journal.data())
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    assert_eq!(journal.len(), 6, "first cursor, four entries, last cursor");
    assert!(journal[0].starts_with("s=") && journal[5].starts_with("s="));
    assert!(journal[4].contains("end task") && journal[4].contains(&upid_text));
    let now = (sim.server.now() as i64 + 10).to_string();
    let after = sim
        .get(
            "/nodes/pve01/journal",
            &[("startcursor", journal[5]), ("until", now.as_str())],
        )
        .await;
    let after: Vec<&str> = list(after.data())
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    assert!(
        after[1..after.len() - 1]
            .iter()
            .all(|l| !l.contains(&upid_text)),
        "only what came after"
    );

    let log = sim.get("/cluster/log", &[("max", "10")]).await;
    let log = list(log.data());
    assert!(log.len() <= 10);
    let newest = &log[0];
    assert_eq!(newest["node"], "pve01");
    assert!(newest["msg"].as_str().unwrap().contains(&upid_text));
    let times: Vec<i64> = log.iter().map(|e| e["time"].as_i64().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "newest first");
}

#[tokio::test]
async fn a_guest_started_now_leaves_the_node_history_as_it_was() {
    let sim = start().await;
    let before = node_memory(&sim).await;
    let upid = sim.post("/nodes/pve01/qemu/103/status/start", &[]).await;
    assert_eq!(finish(&sim, upid.data()).await, "OK");
    let after = node_memory(&sim).await;
    // The instants both histories show (the start took simulated time) keep their use: VM
    // 103 ran at none of them.
    let common: Vec<&(i64, f64)> = after
        .iter()
        .filter(|p| before.iter().any(|b| b.0 == p.0))
        .collect();
    assert!(!common.is_empty(), "{before:?} vs {after:?}");
    for p in &common {
        assert!(
            before.contains(p),
            "history rewritten by a start at {}",
            p.0
        );
    }
    // The points since count it, as the live figure does.
    let was = common.iter().map(|p| p.1).fold(0.0, f64::max);
    let last = after.last().unwrap().1;
    assert!(last > was, "{last} vs {was}");
    let node = sim.get("/nodes/pve01/status", &[]).await;
    let live = node.data()["memory"]["used"].as_f64().unwrap();
    assert!((live - last).abs() / live < 0.1, "{live} vs {last}");
}

/// The hour history of pve01's memory use: (time, bytes).
async fn node_memory(sim: &crate::support::TestSim) -> Vec<(i64, f64)> {
    let r = sim
        .get("/nodes/pve01/rrddata", &[("timeframe", "hour")])
        .await;
    list(r.data())
        .iter()
        .map(|p| (p["time"].as_i64().unwrap(), p["memused"].as_f64().unwrap()))
        .collect()
}
