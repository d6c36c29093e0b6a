//! Tasks that do what they say: a `stop`-mode backup stops the guest for its turn and starts
//! it again, `suspend` pauses and resumes it, `vzdump` on a node that holds none of the guests
//! answers `OK` without a task, and a write whose client went away still happens.

use std::time::{Duration, Instant};

use pve_sim::{Fault, Method};

use crate::support::{Auth, TestSim, start};

async fn status(sim: &TestSim, vmid: u32, kind: &str, node: &str) -> serde_json::Value {
    sim.get(&format!("/nodes/{node}/{kind}/{vmid}/status/current"), &[])
        .await
        .data()
        .clone()
}

async fn task_ended(sim: &TestSim, upid: &str) -> serde_json::Value {
    let node = upid.split(':').nth(1).unwrap();
    sim.get(&format!("/nodes/{node}/tasks/{upid}/status"), &[])
        .await
        .data()
        .clone()
}

#[tokio::test]
async fn stop_mode_backup_stops_and_restarts_the_guest() {
    let sim = start().await;
    for (kind, vmid, node) in [("qemu", 101, "pve01"), ("lxc", 200, "pve01")] {
        let before = status(&sim, vmid, kind, node).await;
        assert_eq!(before["status"], "running");
        let r = sim
            .post(
                &format!("/nodes/{node}/vzdump"),
                &[
                    ("vmid", &vmid.to_string()),
                    ("mode", "stop"),
                    ("storage", "nfs-backup"),
                ],
            )
            .await;
        let upid = r.data().as_str().unwrap().to_string();
        // The job starts the guest's turn a second in: the guest goes down.
        sim.server.advance(2.0);
        let during = status(&sim, vmid, kind, node).await;
        assert_eq!(
            during["status"], "stopped",
            "{kind} {vmid} during its backup"
        );
        sim.server.advance(3600.0);
        assert_eq!(task_ended(&sim, &upid).await["exitstatus"], "OK");
        let after = status(&sim, vmid, kind, node).await;
        assert_eq!(after["status"], "running", "{kind} {vmid} after its backup");
        assert!(
            after["uptime"].as_u64().unwrap() < before["uptime"].as_u64().unwrap() + 3600,
            "{kind} {vmid} was restarted"
        );
    }
}

#[tokio::test]
async fn suspend_mode_backup_pauses_and_resumes_a_vm() {
    let sim = start().await;
    let before = status(&sim, 101, "qemu", "pve01").await;
    let r = sim
        .post(
            "/nodes/pve01/vzdump",
            &[
                ("vmid", "101"),
                ("mode", "suspend"),
                ("storage", "nfs-backup"),
            ],
        )
        .await;
    let upid = r.data().as_str().unwrap().to_string();
    sim.server.advance(2.0);
    let during = status(&sim, 101, "qemu", "pve01").await;
    assert_eq!(during["qmpstatus"], "paused");
    assert_eq!(during["status"], "running");
    sim.server.advance(3600.0);
    assert_eq!(task_ended(&sim, &upid).await["exitstatus"], "OK");
    let after = status(&sim, 101, "qemu", "pve01").await;
    assert_eq!(after["qmpstatus"], "running");
    assert!(
        after["uptime"].as_u64().unwrap() >= before["uptime"].as_u64().unwrap() + 3600,
        "a suspended VM keeps its uptime"
    );
}

#[tokio::test]
async fn vzdump_on_a_node_without_the_guests_answers_ok_without_a_task() {
    let sim = start().await;
    let tasks_before = sim.get("/nodes/pve02/tasks", &[("limit", "500")]).await;
    let n = tasks_before.data().as_array().unwrap().len();
    // VM 100 lives on pve01.
    let r = sim
        .post(
            "/nodes/pve02/vzdump",
            &[("vmid", "100"), ("storage", "nfs-backup")],
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.data(), "OK");
    let tasks_after = sim.get("/nodes/pve02/tasks", &[("limit", "500")]).await;
    assert_eq!(tasks_after.data().as_array().unwrap().len(), n);
    // With `all`, the node runs its (empty) job as PVE does.
    let r = sim
        .post(
            "/nodes/pve02/vzdump",
            &[
                ("all", "1"),
                ("exclude", "104,105,106,107,201,202"),
                ("storage", "nfs-backup"),
            ],
        )
        .await;
    assert!(r.data().as_str().unwrap().starts_with("UPID:pve02:"));
}

#[tokio::test]
async fn a_write_completes_when_its_client_goes_away() {
    let sim = start().await;
    sim.server
        .inject(Fault::latency(1500).on(Method::Put, "^/nodes/pve01/qemu/101/config$"))
        .unwrap();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let url = format!("{}/nodes/pve01/qemu/101/config", sim.server.base_url());
    let sent = crate::support::with_auth(client.put(url), &Auth::token())
        .form(&[("description", "written after the client left")])
        .send()
        .await;
    assert!(sent.is_err(), "the client gives up first");
    let deadline = Instant::now() + Duration::from_secs(30);
    while !sim
        .server
        .requests()
        .iter()
        .any(|r| r.method == "PUT" && r.status == 200)
    {
        assert!(Instant::now() < deadline, "the write never completed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let config = sim.get("/nodes/pve01/qemu/101/config", &[]).await;
    assert_eq!(
        config.data()["description"],
        "written after the client left"
    );
}
