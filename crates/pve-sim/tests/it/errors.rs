//! PVE's error answers over HTTP: 501 unknown path/method, 400 with the `errors` map, 500 for
//! an unknown node, 595 for an offline one, the message as reason phrase, PVE's headers.

use crate::support::{Auth, TOKEN, raw_http, start};

/// One request and what PVE would answer.
struct Case {
    method: &'static str,
    path: &'static str,
    params: &'static [(&'static str, &'static str)],
    status: u16,
    message: &'static str,
    errors: &'static [(&'static str, &'static str)],
}

const fn case(
    method: &'static str,
    path: &'static str,
    params: &'static [(&'static str, &'static str)],
    status: u16,
    message: &'static str,
    errors: &'static [(&'static str, &'static str)],
) -> Case {
    Case {
        method,
        path,
        params,
        status,
        message,
        errors,
    }
}

const CASES: &[Case] = &[
    case(
        "GET",
        "/nodes/pve01/foo",
        &[],
        501,
        "Method 'GET /nodes/pve01/foo' not implemented",
        &[],
    ),
    case(
        "PUT",
        "/version",
        &[],
        501,
        "Method 'PUT /version' not implemented",
        &[],
    ),
    case(
        "GET",
        "/nodes/nosuch/tasks",
        &[],
        500,
        "hostname lookup 'nosuch' failed - failed to get address info for: nosuch: Name or service not known",
        &[],
    ),
    case(
        "GET",
        "/nodes/pve01/tasks",
        &[
            ("limit", "abc"),
            ("errors", "maybe"),
            ("source", "foo"),
            ("bogus", "1"),
        ],
        400,
        "Parameter verification failed.",
        &[
            ("limit", "type check ('integer') failed - got 'abc'"),
            ("errors", "type check ('boolean') failed - got 'maybe'"),
            (
                "source",
                "value 'foo' does not have a value in the enumeration 'archive, active, all'",
            ),
            (
                "bogus",
                "property is not defined in schema and the schema does not allow additional properties",
            ),
        ],
    ),
    case(
        "GET",
        "/nodes/pve01/tasks",
        &[("vmid", "99"), ("start", "-1")],
        400,
        "Parameter verification failed.",
        &[
            (
                "vmid",
                "invalid format - value does not look like a valid VM ID\n",
            ),
            ("start", "value must have a minimum value of 0"),
        ],
    ),
    case(
        "GET",
        "/nodes/pve01/tasks",
        &[("vmid", "1000000000")],
        400,
        "Parameter verification failed.",
        &[(
            "vmid",
            "invalid format - value does not look like a valid VM ID\n",
        )],
    ),
    case(
        "GET",
        "/nodes/pve01/tasks",
        &[("statusfilter", "ok,bad")],
        400,
        "Parameter verification failed.",
        &[("statusfilter", "invalid format - invalid status 'bad'\n")],
    ),
    case(
        "POST",
        "/access/ticket",
        &[("username", "root@pam")],
        400,
        "Parameter verification failed.",
        &[("password", "property is missing and it is not optional")],
    ),
    case(
        "POST",
        "/access/ticket",
        &[("username", "root"), ("password", "x"), ("realm", "1bad")],
        400,
        "Parameter verification failed.",
        &[(
            "realm",
            "invalid format - value does not look like a valid realm\n",
        )],
    ),
    case(
        "GET",
        "/nodes/pve01/tasks/not-a-upid/status",
        &[],
        400,
        "Parameter verification failed.",
        &[("upid", "unable to parse worker upid 'not-a-upid'")],
    ),
];

#[tokio::test]
async fn error_cases() {
    let sim = start().await;
    for c in CASES {
        let auth = if c.path == "/access/ticket" {
            Auth::None
        } else {
            Auth::token()
        };
        let r = sim.call(c.method, c.path, &auth, c.params).await;
        assert_eq!(
            r.status, c.status,
            "{} {} {:?}: {:?}",
            c.method, c.path, c.params, r.body
        );
        assert_eq!(
            r.message(),
            format!("{}\n", c.message),
            "{} {}",
            c.method,
            c.path
        );
        assert!(r.body["data"].is_null());
        if c.errors.is_empty() {
            assert!(r.body.get("errors").is_none(), "{:?}", r.body);
        } else {
            let got = r.body["errors"].as_object().unwrap();
            assert_eq!(got.len(), c.errors.len(), "{:?}", got);
            for (k, v) in c.errors {
                assert_eq!(r.error(k), *v, "{} {} param {k}", c.method, c.path);
            }
        }
    }
}

#[tokio::test]
async fn offline_node_is_595() {
    let sim = start().await;
    sim.server
        .with_sim(|s| s.cluster.nodes.get_mut("pve03").unwrap().online = false);
    let r = sim.get("/nodes/pve03/tasks", &[]).await;
    assert_eq!(r.status, 595);
    assert_eq!(r.message(), "Connection refused\n");
    let r = sim.get("/cluster/status", &[]).await;
    let pve03 = r
        .data()
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "pve03")
        .unwrap()
        .clone();
    assert_eq!(pve03["online"], 0);
}

#[tokio::test]
async fn reason_phrase_and_headers_like_pve() {
    let sim = start().await;
    let req = format!(
        "GET /api2/json/nodes/pve01/foo HTTP/1.1\r\nHost: x\r\nAuthorization: PVEAPIToken={TOKEN}\r\nConnection: close\r\n\r\n"
    );
    let answer = raw_http(sim.server.addr(), &req).await;
    assert!(
        answer.starts_with("HTTP/1.1 501 Method 'GET /nodes/pve01/foo' not implemented\r\n"),
        "{answer}"
    );
    let lower = answer.to_ascii_lowercase();
    assert!(lower.contains("server: pve-api-daemon/3.0\r\n"), "{answer}");
    assert!(
        lower.contains("content-type: application/json;charset=utf-8\r\n"),
        "{answer}"
    );
    assert!(lower.contains("cache-control: max-age=0\r\n"), "{answer}");

    let r = sim.get("/version", &[]).await;
    assert_eq!(r.headers["server"], "pve-api-daemon/3.0");
    assert_eq!(r.headers["content-type"], "application/json;charset=UTF-8");
}
