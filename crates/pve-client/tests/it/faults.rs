//! Robustness under injected faults: GETs retried (bounded) on 502/503/595 and dropped
//! connections, POSTs never retried, other errors not retried, timeouts and per-call overrides,
//! connection refused.

use std::time::Duration;

use pve_client::ErrorKind;
use pve_client::api::guest::{ActionOptions, PowerAction};
use pve_sim::{Fault, Method};

use crate::support::env;

#[tokio::test]
async fn get_is_retried_on_transient_statuses() {
    let env = env().await;
    for (i, status) in [502u16, 503, 595, 596].into_iter().enumerate() {
        env.sim
            .inject(
                Fault::status(status, "Connection refused")
                    .on(Method::Get, "^/version$")
                    .times(2),
            )
            .unwrap();
        env.client
            .version()
            .await
            .unwrap_or_else(|e| panic!("{status}: {e}"));
        assert_eq!(
            env.count("GET", "/version"),
            3 * (i + 1),
            "{status}: two failures then success"
        );
    }
    env.finish();
}

#[tokio::test]
async fn get_retries_are_bounded() {
    let env = env().await;
    env.sim
        .inject(
            Fault::status(
                595,
                "Errors during connection establishment, proxy handshake: No route to host",
            )
            .on(Method::Get, "^/nodes/pve03/status$")
            .times(10),
        )
        .unwrap();
    let e = env.client.node_status("pve03").await.unwrap_err();
    assert_eq!((e.kind(), e.status()), (ErrorKind::Unreachable, Some(595)));
    assert_eq!(
        e.to_string(),
        "node pve03 is unreachable (595 Errors during connection establishment, proxy handshake: No route to host) (GET /nodes/pve03/status)"
    );
    assert_eq!(
        env.count("GET", "/nodes/pve03/status"),
        3,
        "1 try + max_retries (2)"
    );
    env.finish();
}

#[tokio::test]
async fn get_is_retried_after_a_dropped_connection() {
    let env = env().await;
    env.sim
        .inject(Fault::drop_connection().on(Method::Get, "^/cluster/status$"))
        .unwrap();
    let status = env.client.cluster_status().await.unwrap();
    assert!(!status.is_empty());
    assert_eq!(env.count("GET", "/cluster/status"), 2);
    env.finish();
}

#[tokio::test]
async fn post_is_never_retried() {
    let env = env().await;
    let none = ActionOptions::default();
    let start = || {
        env.client
            .qemu_action("pve01", 103, PowerAction::Start, &none)
    };
    env.sim
        .inject(
            Fault::status(503, "Service Unavailable")
                .on(Method::Post, "/status/start$")
                .times(3),
        )
        .unwrap();
    let e = start().await.unwrap_err();
    assert_eq!(e.status(), Some(503));
    assert_eq!(env.count("POST", "/status/start"), 1);

    env.sim.clear_faults();
    env.sim
        .inject(Fault::drop_connection().on(Method::Post, "/status/start$"))
        .unwrap();
    let e = start().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unreachable, "{e}");
    assert_eq!(
        env.count("POST", "/status/start"),
        2,
        "the dropped POST was not re-sent"
    );
    env.finish();
}

#[tokio::test]
async fn non_transient_errors_are_not_retried() {
    let env = env().await;
    env.sim
        .inject(
            Fault::status(500, "VM 105 is locked (backup)")
                .on(Method::Get, "^/version$")
                .times(3),
        )
        .unwrap();
    let e = env.client.version().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Pve);
    assert_eq!(e.to_string(), "VM 105 is locked (backup) (GET /version)");
    assert_eq!(env.count("GET", "/version"), 1);
    env.finish();
}

#[tokio::test]
async fn slow_calls_time_out_unless_overridden() {
    let env = env().await;
    let impatient = env.client_with(|c| c.request_timeout = Duration::from_millis(200));
    env.sim
        .inject(Fault::latency(2_000).on(Method::Get, "^/version$"))
        .unwrap();
    let e = impatient.version().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Timeout);
    assert_eq!(e.to_string(), "timed out after 0.2 s (GET /version)");

    // The same slow call through a per-call override succeeds.
    env.sim
        .inject(Fault::latency(400).on(Method::Get, "^/version$"))
        .unwrap();
    let patient = impatient.with_timeout(Duration::from_secs(10));
    assert_eq!(patient.timeout(), Duration::from_secs(10));
    patient.version().await.unwrap();
    env.finish();
}

#[tokio::test]
async fn connection_refused_is_unreachable() {
    let env = env().await;
    let free_port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let client = env.client_with(|c| c.port = free_port);
    let e = client.version().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unreachable);
    let text = e.to_string();
    assert!(
        text.starts_with(&format!(
            "cannot connect to PVE API at 127.0.0.1:{free_port}"
        )),
        "{text}"
    );
    assert!(text.ends_with("(GET /version)"), "{text}");
    env.finish();
}

#[tokio::test]
async fn concurrent_calls_share_one_client() {
    let env = env().await;
    let client = env.client_with(|c| c.max_concurrent = 2);
    env.sim
        .inject(
            Fault::latency(50)
                .on(Method::Get, "^/nodes/pve0./status$")
                .times(3),
        )
        .unwrap();
    let results = client
        .nodes_status(&["pve01", "pve02", "pve03", "pve09"])
        .await;
    let names: Vec<&str> = results.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["pve01", "pve02", "pve03", "pve09"]);
    assert!(results[..3].iter().all(|(_, r)| r.is_ok()));
    let e = results[3].1.as_ref().unwrap_err();
    assert_ne!(e.kind(), ErrorKind::Protocol, "{e}");
    env.finish();
}

#[tokio::test]
async fn concurrency_cap_serializes_requests() {
    let env = env().await;
    // One request in flight at a time: the slow pve01 call holds the only permit, so the
    // others finish after it (the sim logs a request when it has answered it).
    let client = env.client_with(|c| c.max_concurrent = 1);
    env.sim
        .inject(Fault::latency(300).on(Method::Get, "^/nodes/pve01/status$"))
        .unwrap();
    let results = client.nodes_status(&["pve01", "pve02", "pve03"]).await;
    assert!(results.iter().all(|(_, r)| r.is_ok()));
    let order: Vec<String> = env.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(
        order,
        [
            "/nodes/pve01/status",
            "/nodes/pve02/status",
            "/nodes/pve03/status"
        ]
    );
    env.finish();
}

/// Records what a `RequestObserver` is told.
#[derive(Default)]
struct Seen(std::sync::Mutex<Vec<(&'static str, Option<u16>)>>);

impl pve_client::observe::RequestObserver for Seen {
    fn observe(&self, method: pve_client::Method, status: Option<u16>, _elapsed: Duration) {
        self.0.lock().unwrap().push((method.as_str(), status));
    }
}

#[tokio::test]
async fn the_observer_sees_every_exchange_retries_included() {
    let env = env().await;
    let seen = std::sync::Arc::new(Seen::default());
    assert!(env.client.set_observer(seen.clone()));
    assert!(
        !env.client.set_observer(seen.clone()),
        "only the first observer counts"
    );
    env.sim
        .inject(Fault::status(503, "busy").on(Method::Get, "^/version$"))
        .unwrap();
    env.client.version().await.unwrap();
    env.sim
        .inject(Fault::drop_connection().on(Method::Post, "/status/start$"))
        .unwrap();
    let node = env.client.find_guest(100).await.unwrap().node;
    let e = env
        .client
        .with_timeout(Duration::from_secs(5))
        .guest_action(
            &node,
            pve_client::GuestKind::Qemu,
            100,
            PowerAction::Start,
            &ActionOptions::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unreachable);
    let seen = seen.0.lock().unwrap().clone();
    assert_eq!(
        &seen[..2],
        &[("GET", Some(503)), ("GET", Some(200))],
        "{seen:?}"
    );
    assert_eq!(seen.last(), Some(&("POST", None)), "{seen:?}");
    env.finish();
}
