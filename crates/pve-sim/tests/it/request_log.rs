//! The request log: every /api2 request with its route template, raw parameters, status and
//! caller; readable and clearable.

use serde_json::json;

use crate::support::{Auth, start};

#[tokio::test]
async fn log_records_route_params_status_and_identity() {
    let sim = start().await;
    sim.get(
        "/nodes/pve01/tasks",
        &[("limit", "5"), ("typefilter", "qmstart")],
    )
    .await;
    sim.post_json(
        "/access/ticket",
        &Auth::None,
        &json!({"username": "root@pam", "password": "demo", "new-format": 1}),
    )
    .await;
    sim.call("GET", "/nodes/pve01/nope", &Auth::token(), &[])
        .await;
    sim.call("GET", "/version", &Auth::None, &[]).await;

    let log = sim.server.requests();
    assert_eq!(log.len(), 4);
    assert_eq!(log[0].method, "GET");
    assert_eq!(log[0].path, "/nodes/pve01/tasks");
    assert_eq!(log[0].route, Some("/nodes/{node}/tasks"));
    assert_eq!(
        log[0].params,
        vec![
            ("limit".to_string(), "5".to_string()),
            ("typefilter".to_string(), "qmstart".to_string())
        ]
    );
    assert_eq!(log[0].status, 200);
    assert_eq!(log[0].userid.as_deref(), Some("root@pam!test"));

    assert_eq!(log[1].route, Some("/access/ticket"));
    assert!(
        log[1]
            .params
            .contains(&("new-format".to_string(), "1".to_string()))
    );
    assert_eq!(log[1].status, 200);

    assert_eq!(log[2].route, None);
    assert_eq!(log[2].status, 501);
    assert_eq!(log[3].status, 401);
    assert_eq!(log[3].userid, None);

    // The admin route shows the same log; clearing empties it.
    let r = sim.admin("GET", "/_sim/requests", None).await;
    assert_eq!(r.data().as_array().unwrap().len(), 4);
    assert_eq!(r.data()[0]["route"], "/nodes/{node}/tasks");
    sim.server.clear_requests();
    assert!(sim.server.requests().is_empty());
    sim.admin("DELETE", "/_sim/requests", None).await;
    assert!(
        sim.server.requests().is_empty(),
        "admin routes are not logged"
    );
}

#[tokio::test]
async fn take_requests_hands_over_each_request_once() {
    let sim = start().await;
    sim.call("GET", "/version", &Auth::token(), &[]).await;
    sim.call("GET", "/nodes", &Auth::token(), &[]).await;
    let first = sim.server.take_requests();
    assert_eq!(
        first.iter().map(|r| r.path.as_str()).collect::<Vec<_>>(),
        ["/version", "/nodes"]
    );
    assert!(sim.server.requests().is_empty(), "taking empties the log");
    sim.call("GET", "/cluster/status", &Auth::token(), &[])
        .await;
    let second = sim.server.take_requests();
    assert_eq!(second.len(), 1);
    assert_eq!(second[0].path, "/cluster/status");
    assert!(sim.server.take_requests().is_empty());
}
