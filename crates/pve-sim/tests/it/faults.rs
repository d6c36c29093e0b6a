//! Fault injection: latency (slept outside the simulator lock), injected statuses, dropped
//! connections and expired tickets, programmatically and through the `/_sim` admin routes.

use std::time::{Duration, Instant};

use pve_sim::{Fault, Method, Role};
use serde_json::json;

use crate::support::{Auth, start};

#[tokio::test]
async fn status_fault_applies_n_times_then_clears() {
    let sim = start().await;
    sim.server
        .inject(
            Fault::status(503, "Service Unavailable - maintenance")
                .on(Method::Get, "^/version$")
                .times(2),
        )
        .unwrap();
    // Other paths and methods are untouched.
    assert_eq!(sim.get("/cluster/status", &[]).await.status, 200);
    for _ in 0..2 {
        let r = sim.get("/version", &[]).await;
        assert_eq!(r.status, 503);
        assert_eq!(r.message(), "Service Unavailable - maintenance\n");
    }
    assert_eq!(sim.get("/version", &[]).await.status, 200);
}

#[tokio::test]
async fn drop_fault_closes_the_connection() {
    let sim = start().await;
    sim.server
        .inject(Fault::drop_connection().path("^/version$"))
        .unwrap();
    let url = format!("{}/version", sim.server.base_url());
    let err = sim
        .client
        .get(&url)
        .header(
            "Authorization",
            format!("PVEAPIToken={}", crate::support::TOKEN),
        )
        .send()
        .await;
    assert!(err.is_err(), "expected a transport error, got {err:?}");
    // The next request is served normally, and the log shows the dropped one with status 0.
    assert_eq!(sim.get("/version", &[]).await.status, 200);
    let log = sim.server.requests();
    assert_eq!(log[0].status, 0);
    assert_eq!(log[1].status, 200);
}

#[tokio::test]
async fn expired_ticket_fault_hits_ticket_requests_only() {
    let sim = start().await;
    let (ticket, _) = sim.login().await;
    sim.server.inject(Fault::expire_ticket()).unwrap();
    // A token request does not consume it.
    assert_eq!(sim.get("/version", &[]).await.status, 200);
    let auth = Auth::Ticket { ticket, csrf: None };
    let r = sim.call("GET", "/version", &auth, &[]).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.message(), "permission denied - invalid PVE ticket\n");
    assert_eq!(sim.call("GET", "/version", &auth, &[]).await.status, 200);
}

/// A delayed request must not hold up the others: once the slow request has taken its latency
/// fault (it is then sleeping), a fast request is answered before it, which the request log
/// (written as each answer leaves) shows in that order.
#[tokio::test]
async fn latency_is_slept_outside_the_lock() {
    const LATENCY: Duration = Duration::from_secs(2);
    let sim = start().await;
    sim.server
        .inject(Fault::latency(LATENCY.as_millis() as u64).on(Method::Get, "^/version$"))
        .unwrap();
    let slow = {
        let client = sim.client.clone();
        let url = format!("{}/version", sim.server.base_url());
        tokio::spawn(async move {
            let started = Instant::now();
            let r = client
                .get(url)
                .header(
                    "Authorization",
                    format!("PVEAPIToken={}", crate::support::TOKEN),
                )
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), started.elapsed())
        })
    };
    // The latch: the fault is consumed when the slow request reaches it, right before its sleep.
    let deadline = Instant::now() + Duration::from_secs(30);
    while !sim.server.faults().is_empty() {
        assert!(Instant::now() < deadline, "the slow request never started");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(sim.get("/cluster/status", &[]).await.status, 200);
    let served: Vec<String> = sim.server.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(
        served,
        ["/cluster/status"],
        "answered while /version sleeps"
    );
    assert!(!slow.is_finished());
    let (status, elapsed) = slow.await.unwrap();
    assert_eq!(status, 200);
    assert!(elapsed >= LATENCY);
    let served: Vec<String> = sim.server.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(served, ["/cluster/status", "/version"]);
}

#[tokio::test]
async fn admin_routes_need_admin_and_drive_faults_and_clock() {
    let sim = start().await;
    // Without credentials, or as an auditor: refused.
    let url = format!("{}/_sim/faults", sim.server.origin());
    let r = crate::support::into_resp(sim.client.get(&url).send().await.unwrap()).await;
    assert_eq!(r.status, 401);
    sim.server
        .with_sim(|s| s.auth.add_token("audit@pve!ro", "ro", Role::Auditor));
    let r = crate::support::into_resp(
        sim.client
            .delete(&url)
            .header("Authorization", "PVEAPIToken=audit@pve!ro=ro")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, 403);

    let r = sim
        .admin(
            "POST",
            "/_sim/faults",
            Some(&json!([
                {"kind": "status", "status": 500, "message": "injected", "method": "GET", "path": "^/cluster/status$", "count": 1},
                {"kind": "latency", "ms": 1, "count": 5}
            ])),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.data(), &json!(2));
    let r = sim.admin("GET", "/_sim/faults", None).await;
    assert_eq!(r.data().as_array().unwrap().len(), 2);
    let r = sim.get("/cluster/status", &[]).await;
    assert_eq!((r.status, r.message()), (500, "injected\n"));
    assert_eq!(sim.admin("DELETE", "/_sim/faults", None).await.status, 200);
    assert!(
        sim.admin("GET", "/_sim/faults", None)
            .await
            .data()
            .as_array()
            .unwrap()
            .is_empty()
    );
    let bad = sim
        .admin("POST", "/_sim/faults", Some(&json!({"kind": "status"})))
        .await;
    assert_eq!(bad.status, 400);

    // Clock advance through the admin route expires tickets.
    let (ticket, _) = sim.login().await;
    let before = sim.server.now();
    let r = sim
        .admin(
            "POST",
            "/_sim/clock/advance",
            Some(&json!({"seconds": 7300})),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert!(r.data()["now"].as_f64().unwrap() >= before + 7300.0);
    let r = sim
        .call("GET", "/version", &Auth::Ticket { ticket, csrf: None }, &[])
        .await;
    assert_eq!(r.status, 401);
}
