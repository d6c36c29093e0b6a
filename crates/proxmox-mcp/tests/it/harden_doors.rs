//! What a web page or a malformed request can do at the doors: cross-site requests (CSRF) on
//! both doors with no key configured, `Content-Type` on REST POSTs, exact ports in allowed
//! origins, `Host` values with user info and absolute-form targets, JSON-RPC errors for bodies
//! that are not one JSON-RPC message, the answer to a session `DELETE`, and the API-key header
//! in CORS preflights.

use std::collections::HashMap;
use std::time::Duration;

use proxmox_mcp::McpHttpConfig;
use proxmox_mcp::RestConfig;
use proxmox_mcp::{Overrides, Settings};
use reqwest::Method;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_util::sync::CancellationToken;

use crate::support::demo::Demo;
use crate::support::door::{Door, init};
use crate::support::rest::Rest;

/// Sends `request` (raw HTTP/1.1 bytes) to `addr` and returns the status of the answer.
pub async fn raw_status(addr: &str, request: &str) -> u16 {
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    tcp.write_all(request.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    let read = async {
        let mut chunk = [0u8; 4096];
        loop {
            let n = tcp.read(&mut chunk).await.unwrap_or(0);
            if n == 0 {
                break;
            }
            buf.extend_from_slice(&chunk[..n]);
            if buf.windows(4).any(|w| w == b"\r\n\r\n") {
                break;
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(30), read)
        .await
        .expect("an answer");
    let head = String::from_utf8_lossy(&buf);
    head.split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {head:?}"))
}

/// `POST url` with `body`, an optional `Content-Type` and optional `Origin`; status and JSON.
async fn post(
    http: &reqwest::Client,
    url: &str,
    content_type: Option<&str>,
    origin: Option<&str>,
    body: &str,
) -> (u16, Value) {
    let mut req = http.post(url).body(body.to_string());
    if let Some(ct) = content_type {
        req = req.header("content-type", ct);
    }
    if let Some(o) = origin {
        req = req.header("origin", o);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

#[tokio::test]
async fn cross_site_requests_cannot_run_tools_without_keys() {
    // The default, loopback-only setup: no key at all.
    let r = Rest::start().await;
    let url = r.url("/start_vm");
    let body = r#"{"vmid":103}"#;
    let evil = Some("http://evil.example");
    // A page on another origin: refused whatever the content type, on every route.
    for ct in [
        Some("text/plain;charset=UTF-8"),
        Some("application/x-www-form-urlencoded"),
        Some("application/json"),
        None,
    ] {
        let (s, v) = post(&r.http, &url, ct, evil, body).await;
        assert_eq!(s, 403, "{ct:?}: {v}");
        assert_eq!(v["detail"]["kind"], "host", "{v}");
    }
    let (s, _, _) = {
        let resp = r
            .http
            .get(r.url("/get_vms"))
            .header("origin", "http://evil.example")
            .send()
            .await
            .unwrap();
        (resp.status().as_u16(), (), ())
    };
    assert_eq!(s, 403, "GET with a foreign Origin");
    // Without Origin (a form or fetch that hides it): a body must be JSON.
    for ct in [
        Some("text/plain;charset=UTF-8"),
        Some("application/x-www-form-urlencoded"),
        Some("multipart/form-data; boundary=x"),
        None,
    ] {
        let (s, v) = post(&r.http, &url, ct, None, body).await;
        assert_eq!(s, 415, "{ct:?}: {v}");
        let msg = v["detail"]["message"].as_str().unwrap_or_default();
        assert!(msg.contains("application/json"), "{ct:?}: {v}");
    }
    assert_eq!(r.demo.guest_status(103).as_deref(), Some("stopped"));
    // mcpo's callers send JSON: they keep working, as does an empty body and the server's own
    // docs page (same origin).
    let own = r.base.clone();
    let (s, v) = post(&r.http, &r.url("/get_nodes"), None, None, "").await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = post(
        &r.http,
        &r.url("/get_nodes"),
        Some("application/json; charset=utf-8"),
        Some(&own),
        "{}",
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = post(&r.http, &url, Some("application/json"), None, body).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(r.demo.guest_status(103).as_deref(), Some("running"));

    // The MCP door, also without keys: a foreign Origin is refused there too.
    let d = Door::start(Demo::start().await, McpHttpConfig::default()).await;
    let resp = d
        .request(Method::POST, "/proxmox/mcp", None)
        .header("content-type", "application/json")
        .header("origin", "http://evil.example")
        .body(init(1).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    let resp = d
        .http
        .get(d.url("/mcp"))
        .header("accept", "text/event-stream")
        .header("origin", "http://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    let resp = d
        .request(Method::POST, "/proxmox/mcp", None)
        .header("content-type", "application/json")
        .header("origin", &d.base)
        .body(init(2).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn allowed_origins_match_ports_exactly() {
    let flags = Overrides {
        demo: true,
        allowed_origins: vec!["https://n8n.lan".into(), "http://ui.lan:*".into()],
        ..Overrides::default()
    };
    let settings = Settings::resolve(&flags, &HashMap::new()).unwrap();
    let (mcp_cfg, cfg) = proxmox_mcp::door_configs(&settings, proxmox_mcp::Gate::default(), None);
    let r = Rest::with(cfg).await;
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let mcp = format!("http://{}/mcp", l.local_addr().unwrap());
    let shutdown = CancellationToken::new();
    tokio::spawn(proxmox_mcp::serve_mcp(
        r.demo.app.clone(),
        l,
        mcp_cfg,
        None,
        shutdown.clone(),
    ));
    let cases = [
        ("https://n8n.lan", 200),
        ("https://n8n.lan:443", 200),
        ("https://n8n.lan:8443", 403),
        ("http://n8n.lan", 403),
        ("http://ui.lan:5678", 200),
        ("http://ui.lan", 200),
        ("https://ui.lan:5678", 403),
    ];
    for (origin, want) in cases {
        let (s, v) = post(
            &r.http,
            &r.url("/get_nodes"),
            Some("application/json"),
            Some(origin),
            "{}",
        )
        .await;
        assert_eq!(s, want, "REST, Origin {origin}: {v}");
        let resp = r
            .http
            .post(&mcp)
            .header("accept", "application/json, text/event-stream")
            .header("origin", origin)
            .json(&init(1))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), want, "MCP, Origin {origin}");
    }
    shutdown.cancel();
}

#[tokio::test]
async fn hosts_with_user_info_and_foreign_absolute_targets_are_refused() {
    let r = Rest::start().await;
    let d = Door::start(Demo::start().await, McpHttpConfig::default()).await;
    let rest = r.base.trim_start_matches("http://").to_string();
    let mcp = d.base.trim_start_matches("http://").to_string();
    let body = init(1).to_string();
    let mcp_post = |target: &str, host: &str| {
        format!(
            "POST {target} HTTP/1.1\r\nHost: {host}\r\nAccept: application/json, text/event-stream\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
    };
    let rest_get = |target: &str, host: &str| {
        format!("GET {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n")
    };
    // (door address, request, expected status)
    let cases = [
        (&rest, rest_get("/get_nodes", &rest), 200),
        (
            &rest,
            rest_get("/get_nodes", &format!("evil.example@{rest}")),
            400,
        ),
        (&rest, rest_get("http://evil.example/get_nodes", &rest), 400),
        (
            &rest,
            rest_get(&format!("http://{rest}/get_nodes"), &rest),
            200,
        ),
        (
            &rest,
            rest_get(
                &format!("http://{rest}/get_nodes"),
                &format!("evil.example@{rest}"),
            ),
            400,
        ),
        (&mcp, mcp_post("/mcp", &mcp), 200),
        (&mcp, mcp_post("/mcp", &format!("evil.example@{mcp}")), 400),
        (&mcp, mcp_post("http://evil.example/mcp", &mcp), 400),
        (&mcp, mcp_post(&format!("http://{mcp}/mcp"), &mcp), 200),
    ];
    for (addr, request, want) in cases {
        let got = raw_status(addr, &request).await;
        assert_eq!(got, want, "{request}");
    }
}

#[tokio::test]
async fn bodies_that_are_not_one_json_rpc_message_are_json_rpc_errors() {
    let d = Door::start(Demo::start().await, McpHttpConfig::default()).await;
    let legacy = d.legacy("any").await;
    let batch = json!([init(1), {"jsonrpc": "2.0", "id": 2, "method": "ping"}]).to_string();
    // (body, JSON-RPC error code)
    let cases = [
        ("{\"jsonrpc\": \"2.0\", \"id\": 1, ".to_string(), -32700),
        ("not json".to_string(), -32700),
        (batch, -32600),
        ("{\"id\": 1, \"method\": \"ping\"}".to_string(), -32600),
        ("42".to_string(), -32600),
    ];
    for (body, code) in cases {
        for url in [d.url("/proxmox/mcp"), legacy.endpoint.clone()] {
            let resp = d
                .http
                .post(&url)
                .header("accept", "application/json, text/event-stream")
                .header("content-type", "application/json")
                .body(body.clone())
                .send()
                .await
                .unwrap();
            let status = resp.status().as_u16();
            let text = resp.text().await.unwrap();
            assert_eq!(status, 400, "{url} {body}: {text}");
            let v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
            assert_eq!(v["jsonrpc"], "2.0", "{url} {body}: {text}");
            assert_eq!(v["error"]["code"], code, "{url} {body}: {text}");
            assert!(v["error"]["message"].is_string(), "{text}");
            assert_eq!(v["id"], Value::Null, "{text}");
        }
    }
    // The session and the door go on.
    let ping = json!({"jsonrpc": "2.0", "id": 9, "method": "ping"});
    assert_eq!(legacy.send(&ping, None).await, 202);
    assert_eq!(d.post("/mcp", None, None, &init(3)).await.0, 200);
}

#[tokio::test]
async fn a_session_delete_answers_204() {
    let d = Door::start(Demo::start().await, McpHttpConfig::default()).await;
    let sid = d.session("any").await;
    let delete = || {
        d.request(Method::DELETE, "/proxmox/mcp", None)
            .header("mcp-session-id", &sid)
            .header("mcp-protocol-version", "2025-06-18")
            .send()
    };
    let resp = delete().await.unwrap();
    assert_eq!(resp.status(), 204);
    assert!(resp.text().await.unwrap().is_empty());
    // The session is gone.
    let ping = json!({"jsonrpc": "2.0", "id": 2, "method": "ping"});
    assert_eq!(d.post("/proxmox/mcp", None, Some(&sid), &ping).await.0, 404);
}

#[tokio::test]
async fn cors_preflights_allow_the_configured_api_key_header() {
    let r = Rest::with(RestConfig {
        cors_origins: vec!["http://ui.example".into()],
        api_key_header: Some("X-API-Key".into()),
        ..RestConfig::default()
    })
    .await;
    let resp = r
        .http
        .request(Method::OPTIONS, r.url("/get_vms"))
        .header("origin", "http://ui.example")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type, x-api-key")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let allowed = resp
        .headers()
        .get("access-control-allow-headers")
        .map(|v| v.to_str().unwrap().to_ascii_lowercase())
        .unwrap_or_default();
    assert!(
        allowed.contains("x-api-key") && allowed.contains("authorization"),
        "{allowed}"
    );
}
