//! REST failures in mcpo's shape `{"detail": {"message": ...}}` with one status per failure:
//! bad bodies (422 naming the parameter), unknown tools (404), policy (403), Proxmox VE errors,
//! API keys (401; `/openapi.json` and `/docs` public), and CORS (off unless configured).

use proxmox_mcp::RestConfig;
use reqwest::Method;
use serde_json::{Value, json};

use crate::support::rest::{Rest, check};

#[tokio::test]
async fn bad_requests_are_refused_naming_the_problem() {
    let r = Rest::start().await;
    let p = |v: &str| Some(v.to_string());
    // (path, body, status, kind, param)
    type Case<'a> = (&'a str, Option<String>, u16, &'a str, Option<&'a str>);
    let cases: Vec<Case> = vec![
        (
            "/start_vm",
            p("{\"vmid\": 103"),
            422,
            "malformed_json",
            None,
        ),
        ("/start_vm", p("vmid=103"), 422, "malformed_json", None),
        (
            "/start_vm",
            p("{\"vmid\": \"abc\"}"),
            422,
            "invalid_params",
            Some("vmid"),
        ),
        (
            "/start_vm",
            p("{\"vmid\": true}"),
            422,
            "invalid_params",
            Some("vmid"),
        ),
        (
            "/start_vm",
            p("{\"vmid\": -1}"),
            422,
            "invalid_params",
            Some("vmid"),
        ),
        ("/start_vm", p("{}"), 422, "invalid_params", Some("vmid")),
        (
            "/start_vm",
            p("{\"vmid\": 103, \"vmdi\": 1}"),
            422,
            "invalid_params",
            Some("vmdi"),
        ),
        ("/start_vm", p("[103]"), 422, "invalid_params", None),
        ("/start_vm", p("103"), 422, "invalid_params", None),
        (
            "/execute_vm_command",
            p("{\"vmid\": 100}"),
            422,
            "invalid_params",
            Some("command"),
        ),
        (
            "/create_vm",
            p("{\"name\": \"x\", \"cores\": \"two\"}"),
            422,
            "invalid_params",
            Some("cores"),
        ),
        // Policy: deleting needs confirm.
        ("/delete_vm", p("{\"vmid\": 103}"), 403, "policy", None),
        // Proxmox VE: a VMID that does not exist.
        ("/start_vm", p("{\"vmid\": 9999}"), 404, "pve", None),
        // No such tool, whatever the method.
        ("/no_such_tool", p("{}"), 404, "unknown_tool", None),
        ("/", p("{}"), 404, "unknown_tool", None),
        ("/get_vms/extra", p("{}"), 404, "unknown_tool", None),
    ];
    for (path, body, status, kind, param) in cases {
        let v = check(
            &r,
            Method::POST,
            path,
            body.as_deref(),
            status,
            &[("/detail/kind", json!(kind))],
        )
        .await;
        assert_eq!(
            v.pointer("/detail/param").and_then(Value::as_str),
            param,
            "{path} {body:?}: {v}"
        );
        if let Some(param) = param {
            let msg = v["detail"]["message"].as_str().unwrap();
            assert!(
                msg.contains(param),
                "{path}: message must name {param}: {msg}"
            );
        }
    }
    check(&r, Method::GET, "/no_such_tool", None, 404, &[]).await;
    check(&r, Method::DELETE, "/get_vms", None, 405, &[]).await;
    assert_eq!(r.demo.guest_status(103).as_deref(), Some("stopped"));
    assert!(
        r.demo.guest_status(103).is_some(),
        "delete_vm without confirm must not delete"
    );
}

#[tokio::test]
async fn proxmox_errors_keep_proxmox_words() {
    let r = Rest::start().await;
    // A refusal in the cluster's state (PVE's 500, a failed task) is a 409; an unreachable
    // cluster is the gateway's failure, 502. Both keep Proxmox VE's words.
    let cases: &[(u16, &str, u16)] = &[
        (500, "VM 100 is locked (backup)", 409),
        (596, "Connection timed out", 502),
        (400, "parameter verification failed", 422),
    ];
    for (pve, text, want) in cases {
        r.demo
            .sim()
            .inject(pve_sim::faults::Fault::status(*pve, *text).path("^/cluster/resources$"))
            .unwrap();
        let v = check(
            &r,
            Method::POST,
            "/get_vms",
            Some("{}"),
            *want,
            &[("/detail/kind", json!("pve"))],
        )
        .await;
        assert!(
            v["detail"]["message"].as_str().unwrap().contains(text),
            "{v}"
        );
    }
    // A task that fails: resetting a VM that is not running.
    check(
        &r,
        Method::POST,
        "/reset_vm",
        Some("{\"vmid\": 103, \"confirm\": true}"),
        409,
        &[("/detail/kind", json!("pve"))],
    )
    .await;
}

#[tokio::test]
async fn the_api_key_guards_tools_but_not_the_documents() {
    let r = Rest::with_key("s3cret-key").await;
    let cases: &[(Method, &str, Option<&str>, u16)] = &[
        (Method::POST, "/get_vms", None, 401),
        (Method::POST, "/get_vms", Some("wrong"), 401),
        (Method::POST, "/get_vms", Some("s3cret-key"), 200),
        (Method::GET, "/get_vms", None, 401),
        (Method::GET, "/get_vms", Some("s3cret-key "), 200),
        (Method::POST, "/start_vm", Some("s3cret-ke"), 401),
        (Method::GET, "/openapi.json", None, 200),
        (Method::GET, "/docs", None, 200),
        (Method::GET, "/docs/docs.js", None, 200),
        // A path that is no tool is a 404 before any key is asked for.
        (Method::POST, "/no_such_tool", None, 404),
    ];
    for (method, path, key, status) in cases {
        let body = (*method == Method::POST).then_some("{}");
        let (got, headers, v) = r.send(method.clone(), path, body, *key).await;
        assert_eq!(got, *status, "{method} {path} key {key:?}: {v}");
        if *status == 401 {
            assert_eq!(headers["www-authenticate"], "Bearer");
        }
        if *status == 401 || *status == 403 {
            assert_eq!(v["detail"]["kind"], "auth", "{v}");
        }
    }
    // A refused call never reaches the tool.
    assert_eq!(r.demo.guest_status(103).as_deref(), Some("stopped"));
}

#[tokio::test]
async fn cors_is_off_by_default_and_follows_the_configured_origins() {
    async fn preflight(r: &Rest, origin: &str) -> (u16, Option<String>) {
        let resp = r
            .http
            .request(Method::OPTIONS, r.url("/get_vms"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization, content-type",
            )
            .send()
            .await
            .unwrap();
        let allow = resp
            .headers()
            .get("access-control-allow-origin")
            .map(|v| v.to_str().unwrap().to_string());
        (resp.status().as_u16(), allow)
    }
    let off = Rest::start().await;
    assert_eq!(preflight(&off, "http://ui.example").await.1, None);

    let on = Rest::with(RestConfig {
        cors_origins: vec!["http://ui.example".into()],
        ..RestConfig::default()
    })
    .await;
    let (status, allow) = preflight(&on, "http://ui.example").await;
    assert_eq!((status, allow.as_deref()), (200, Some("http://ui.example")));
    assert_eq!(preflight(&on, "http://evil.example").await.1, None);
    let resp = on
        .http
        .post(on.url("/get_nodes"))
        .header("origin", "http://ui.example")
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.headers()["access-control-allow-origin"],
        "http://ui.example"
    );
}
