//! The doors' safety rails: server-wide filters, the 1 MB body cap, per-key rate limits, HTTPS on
//! both doors with a real TLS client, Host/Origin settings on both doors.

use std::collections::HashMap;
use std::sync::Arc;

use proxmox_mcp::McpHttpConfig;
use proxmox_mcp::RestConfig;
use proxmox_mcp::TlsFiles;
use proxmox_mcp::ToolFilter;
use reqwest::Method;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use crate::support::rest::{KEYS, Rest};

fn names(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

fn paths(doc: &Value) -> Vec<String> {
    doc["paths"]
        .as_object()
        .unwrap()
        .keys()
        .map(|p| p.trim_start_matches('/').to_string())
        .collect()
}

#[tokio::test]
async fn filters_shape_what_the_rest_door_offers() {
    let builtin = proxmox_mcp::builtin_tools().unwrap();
    let filter = ToolFilter {
        read_only: true,
        tools: names(&["start_vm"]),
        toolsets: Some(names(&["core"])),
        exclude_tools: names(&["get_task"]),
        dynamic: false,
    };
    let r = Rest::with_registry(Some(filter.apply(&builtin).unwrap()), RestConfig::default()).await;
    let (s, _, doc) = r.send(Method::GET, "/openapi.json", None, None).await;
    assert_eq!(s, 200);
    let want: Vec<String> = builtin
        .tools()
        .filter(|t| t.toolset == "core")
        .filter(|t| t.access == proxmox_mcp::Access::Read && t.name != "get_task")
        .filter(|t| t.toolset == "core")
        .map(|t| t.name.to_string())
        .collect();
    let mut got = paths(&doc);
    got.sort();
    let mut want_sorted = want.clone();
    want_sorted.sort();
    assert_eq!(got, want_sorted);
    // Filtered-out tools are not there at all; the others answer.
    for (path, status) in [
        ("/start_vm", 404),
        ("/get_task", 404),
        ("/delete_vm", 404),
        ("/get_nodes", 200),
    ] {
        let (s, _, v) = r
            .send(Method::POST, path, Some("{\"vmid\": 103}"), None)
            .await;
        let s = if path == "/get_nodes" {
            r.send(Method::POST, path, Some("{}"), None).await.0
        } else {
            s
        };
        assert_eq!(s, status, "{path}: {v}");
    }
    assert_eq!(r.demo.guest_status(103).as_deref(), Some("stopped"));

    // `--tools` alone: only those.
    let only = ToolFilter {
        tools: names(&["get_vms"]),
        ..ToolFilter::default()
    };
    let r = Rest::with_registry(Some(only.apply(&builtin).unwrap()), RestConfig::default()).await;
    let (_, _, doc) = r.send(Method::GET, "/openapi.json", None, None).await;
    assert_eq!(paths(&doc), ["get_vms"]);
}

#[tokio::test]
async fn bodies_over_one_megabyte_are_refused_with_413() {
    let r = Rest::start().await;
    const MB: usize = 1024 * 1024;
    // Exactly 1 MB of valid JSON is read.
    let at_cap = format!("{{}}{}", " ".repeat(MB - 2));
    let (s, _, v) = r
        .send(Method::POST, "/get_nodes", Some(&at_cap), None)
        .await;
    assert_eq!(s, 200, "{v}");
    let over = format!("{{}}{}", " ".repeat(MB - 1));
    let (s, _, v) = r.send(Method::POST, "/get_nodes", Some(&over), None).await;
    assert_eq!(s, 413, "{v}");
    assert_eq!(v["detail"]["kind"], "too_large");
    assert!(
        v["detail"]["message"].as_str().unwrap().contains("1 MB"),
        "{v}"
    );
    // Without Content-Length (chunked), the cap holds too.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        (0..40).map(|_| Ok(vec![b' '; 64 * 1024])).collect();
    let resp = r
        .http
        .post(r.url("/get_nodes"))
        .body(reqwest::Body::wrap_stream(futures_util::stream::iter(
            chunks,
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 413);
    // The server still answers.
    assert_eq!(r.post("get_nodes", serde_json::json!({})).await.0, 200);
}

#[tokio::test]
async fn rate_limits_are_per_key_with_retry_after() {
    let limiter = proxmox_mcp::RateLimiter::new(Some(3), HashMap::from([("admin".to_string(), 5)]));
    let r = Rest::with_keys(limiter).await;
    let r = &r;
    let call = |key: &'static str| async move {
        r.send(Method::POST, "/get_nodes", Some("{}"), Some(key))
            .await
    };
    let (reader, operator, admin) = (KEYS[0].2, KEYS[1].2, KEYS[2].2);
    for _ in 0..3 {
        assert_eq!(call(reader).await.0, 200);
    }
    let (s, headers, v) = call(reader).await;
    assert_eq!(s, 429, "{v}");
    assert_eq!(v["detail"]["kind"], "rate_limited");
    assert!(
        v["detail"]["message"]
            .as_str()
            .unwrap()
            .contains("3 calls per minute"),
        "{v}"
    );
    let retry: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=20).contains(&retry), "{retry}");
    // Other keys have their own budget; admin has its own limit.
    assert_eq!(call(operator).await.0, 200);
    for _ in 0..5 {
        assert_eq!(call(admin).await.0, 200);
    }
    assert_eq!(call(admin).await.0, 429);
    // A wrong key is a 401, not a 429; documents are not counted.
    assert_eq!(call("nope").await.0, 401);
    assert_eq!(
        r.send(Method::GET, "/openapi.json", None, Some(reader))
            .await
            .0,
        200
    );
}

/// A self-signed certificate for 127.0.0.1 written to PEM files.
fn tls_files(dir: &std::path::Path) -> (TlsFiles, rustls::pki_types::CertificateDer<'static>) {
    let ck =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".into(), "localhost".into()]).unwrap();
    std::fs::create_dir_all(dir).unwrap();
    let files = TlsFiles {
        cert: dir.join("cert.pem"),
        key: dir.join("key.pem"),
    };
    std::fs::write(&files.cert, ck.cert.pem()).unwrap();
    std::fs::write(&files.key, ck.signing_key.serialize_pem()).unwrap();
    (files, ck.cert.der().clone())
}

fn tls_client(cert: rustls::pki_types::CertificateDer<'static>) -> reqwest::Client {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert).unwrap();
    let cfg = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    reqwest::Client::builder()
        .tls_backend_preconfigured(cfg)
        .build()
        .unwrap()
}

#[tokio::test]
async fn both_doors_serve_https_with_the_configured_certificate() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = std::env::temp_dir().join(format!(
        "pmcp-tls-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    let (files, der) = tls_files(&dir);
    let tls = proxmox_mcp::tls_server_config(&files).unwrap();
    let client = tls_client(der);

    // REST over HTTPS.
    let r = Rest::with(RestConfig {
        tls: Some(tls.clone()),
        ..RestConfig::default()
    })
    .await;
    let https = r.base.replace("http://", "https://");
    let resp = client
        .post(format!("{https}/get_nodes"))
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let v: Value = resp.json().await.unwrap();
    assert!(v.get("nodes").is_some() || v.is_object(), "{v}");
    // Plain HTTP on the TLS port gets no HTTP answer.
    assert!(
        reqwest::Client::new()
            .get(r.url("/openapi.json"))
            .send()
            .await
            .is_err()
    );
    // A client that does not trust the certificate is refused by its own TLS check.
    assert!(
        reqwest::Client::new()
            .get(format!("{https}/openapi.json"))
            .send()
            .await
            .is_err()
    );
    // The door still serves trusted clients after those failures.
    assert_eq!(
        client
            .get(format!("{https}/openapi.json"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    // MCP over HTTPS: initialize over Streamable HTTP.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let shutdown = CancellationToken::new();
    tokio::spawn(proxmox_mcp::serve_mcp(
        r.demo.app.clone(),
        listener,
        McpHttpConfig::default(),
        Some(tls),
        shutdown.clone(),
    ));
    let init = serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}});
    let resp = client
        .post(format!("https://127.0.0.1:{port}/proxmox/mcp"))
        .header("accept", "application/json, text/event-stream")
        .json(&init)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.headers().contains_key("mcp-session-id"));
    let text = resp.text().await.unwrap();
    assert!(text.contains("\"serverInfo\""), "{text}");
    shutdown.cancel();

    // Unusable files are errors naming the file, not its contents.
    let bad = TlsFiles {
        cert: files.key.clone(),
        key: files.key.clone(),
    };
    let e = proxmox_mcp::tls_server_config(&bad)
        .unwrap_err()
        .to_string();
    assert!(e.contains("key.pem") && !e.contains("PRIVATE"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn host_and_origin_settings_reach_both_doors() {
    use proxmox_mcp::{Overrides, Settings};
    let flags = Overrides {
        demo: true,
        allowed_hosts: vec!["pve-mcp.lan".into()],
        allowed_origins: vec!["https://n8n.lan".into()],
        ..Overrides::default()
    };
    let settings = Settings::resolve(&flags, &HashMap::new()).unwrap();
    let (mcp_cfg, cfg) = proxmox_mcp::door_configs(&settings, proxmox_mcp::Gate::default(), None);
    let r = Rest::with(cfg).await;
    let mcp_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let mcp = format!("http://{}/mcp", mcp_listener.local_addr().unwrap());
    let shutdown = CancellationToken::new();
    tokio::spawn(proxmox_mcp::serve_mcp(
        r.demo.app.clone(),
        mcp_listener,
        mcp_cfg,
        None,
        shutdown.clone(),
    ));
    let init = serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}});
    // (Host, Origin, expected status on REST, on MCP)
    let cases: &[(Option<&str>, Option<&str>, u16)] = &[
        (None, None, 200),
        (Some("pve-mcp.lan:8811"), None, 200),
        (Some("evil.example"), None, 403),
        (Some("pve-mcp.lan"), Some("https://n8n.lan"), 200),
        (Some("pve-mcp.lan"), Some("https://evil.example"), 403),
    ];
    for (host, origin, want) in cases {
        let mut rest = r
            .http
            .post(r.url("/get_nodes"))
            .header("content-type", "application/json")
            .body("{}");
        let mut m = r
            .http
            .post(&mcp)
            .header("accept", "application/json, text/event-stream")
            .json(&init);
        if let Some(h) = host {
            rest = rest.header("host", *h);
            m = m.header("host", *h);
        }
        if let Some(o) = origin {
            rest = rest.header("origin", *o);
            m = m.header("origin", *o);
        }
        let resp = rest.send().await.unwrap();
        assert_eq!(
            resp.status().as_u16(),
            *want,
            "REST host {host:?} origin {origin:?}"
        );
        if *want == 403 {
            let v: Value = resp.json().await.unwrap();
            assert_eq!(v["detail"]["kind"], "host", "{v}");
        }
        assert_eq!(
            m.send().await.unwrap().status().as_u16(),
            *want,
            "MCP host {host:?} origin {origin:?}"
        );
    }
    shutdown.cancel();
}
