//! The doors' safety rails: server-wide filters, the 1 MB body cap, per-key rate limits, HTTPS on
//! both doors with a real TLS client, and the binary's refusal to expose a door without a key.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use proxmox_mcp::app;
use proxmox_mcp::config::TlsFiles;
use proxmox_mcp::mcp::McpHttpConfig;
use proxmox_mcp::registry::{Registry, ToolFilter};
use proxmox_mcp::rest::RestConfig;
use reqwest::Method;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use crate::rest_support::{KEYS, Rest};

const BIN: &str = env!("CARGO_BIN_EXE_proxmox-mcp");

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
    let builtin = Registry::builtin().unwrap();
    let filter = ToolFilter {
        read_only: true,
        tools: names(&["start_vm"]),
        toolsets: Some(names(&["core"])),
        exclude_tools: names(&["get_task"]),
    };
    let r = Rest::with_registry(Some(filter.apply(&builtin).unwrap()), RestConfig::default()).await;
    let (s, _, doc) = r.send(Method::GET, "/openapi.json", None, None).await;
    assert_eq!(s, 200);
    let want: Vec<String> = builtin
        .tools()
        .filter(|t| t.access == proxmox_mcp::Access::Read && t.name != "get_task")
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
    let limiter =
        proxmox_mcp::auth::RateLimiter::new(Some(3), HashMap::from([("admin".to_string(), 5)]));
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
    let tls = proxmox_mcp::tls::server_config(&files).unwrap();
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
    tokio::spawn(app::serve(
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
    let e = proxmox_mcp::tls::server_config(&bad)
        .unwrap_err()
        .to_string();
    assert!(e.contains("key.pem") && !e.contains("PRIVATE"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Runs the binary with `args` and a clean `PROXMOX_MCP_*` environment plus `env`, until it exits
/// or prints a line containing `until`; returns (exit code if it exited, stderr lines).
fn run_bin(args: &[&str], env: &[(&str, &str)], until: &str) -> (Option<i32>, Vec<String>) {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (k, _) in std::env::vars() {
        if k.starts_with("PROXMOX_") {
            cmd.env_remove(k);
        }
    }
    cmd.envs(env.iter().copied());
    let mut guard = KillOnDrop(cmd.spawn().unwrap());
    let child = &mut guard.0;
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut seen = Vec::new();
    let mut closed = false;
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        match rx.recv_timeout(Duration::from_millis(200)) {
            Ok(line) => {
                let done = line.contains(until);
                seen.push(line);
                if done {
                    break;
                }
            }
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                closed = true;
                break;
            }
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
        }
    }
    // Its stderr closed: it is exiting.
    let status = if closed {
        Some(child.wait().unwrap())
    } else {
        child.try_wait().unwrap()
    };
    let code = match status {
        Some(status) => status.code(),
        None => {
            let _ = child.kill();
            let _ = child.wait();
            None
        }
    };
    (code, seen)
}

#[test]
fn the_binary_refuses_to_expose_a_door_without_a_key() {
    // No key, a non-loopback address on either door: refused before anything starts.
    for args in [
        [
            "serve",
            "--demo",
            "--mcp-listen",
            "0.0.0.0:0",
            "--rest-listen",
            "off",
        ],
        [
            "serve",
            "--demo",
            "--mcp-listen",
            "127.0.0.1:0",
            "--rest-listen",
            "0.0.0.0:0",
        ],
    ] {
        let (code, seen) = run_bin(&args, &[], "MCP listening");
        assert!(
            code.is_some_and(|c| c != 0),
            "{args:?} must exit with an error: {seen:#?}"
        );
        let text = seen.join("\n");
        assert!(
            text.contains("refusing to listen on 0.0.0.0:0") && text.contains("keys new"),
            "{text}"
        );
    }
    // Allowed explicitly: it starts, with a warning.
    let (code, seen) = run_bin(
        &[
            "serve",
            "--demo",
            "--mcp-listen",
            "0.0.0.0:0",
            "--rest-listen",
            "off",
            "--allow-unauthenticated",
        ],
        &[],
        "MCP listening",
    );
    let text = seen.join("\n");
    assert_eq!(code, None, "{text}");
    assert!(
        text.contains("WITHOUT AUTHENTICATION") && text.contains("MCP listening"),
        "{text}"
    );
    // With a key: it starts.
    let (code, seen) = run_bin(
        &[
            "serve",
            "--demo",
            "--mcp-listen",
            "127.0.0.1:0",
            "--rest-listen",
            "0.0.0.0:0",
        ],
        &[("PROXMOX_MCP_API_KEY", "k-0123456789")],
        "REST listening",
    );
    let text = seen.join("\n");
    assert_eq!(code, None, "{text}");
    assert!(
        text.contains("REST listening") && !text.contains("WITHOUT AUTHENTICATION"),
        "{text}"
    );
}

#[test]
fn unknown_filter_names_stop_the_start() {
    let (code, seen) = run_bin(
        &[
            "serve",
            "--demo",
            "--mcp-listen",
            "127.0.0.1:0",
            "--tools",
            "get_vm,get_vms",
        ],
        &[],
        "MCP listening",
    );
    let text = seen.join("\n");
    assert!(
        code.is_some_and(|c| c != 0) && text.contains("`get_vm`") && !text.contains("`get_vms`"),
        "{text}"
    );
    let (code, seen) = run_bin(
        &["stdio", "--demo"],
        &[("PROXMOX_MCP_TOOLSETS", "core,snapshots")],
        "never",
    );
    let text = seen.join("\n");
    assert!(
        code.is_some_and(|c| c != 0) && text.contains("`snapshots`"),
        "{text}"
    );
}

#[test]
fn keys_new_prints_a_key_once_and_its_config_entry() {
    let out = Command::new(BIN)
        .args(["keys", "new", "--name", "n8n", "--scope", "operate"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let key = text
        .split_whitespace()
        .find(|w| w.starts_with("pmcp_"))
        .unwrap();
    assert_eq!(key.len(), 5 + 64);
    let sha = proxmox_mcp::auth::keys::digest(key);
    assert!(
        text.contains(&format!("sha256 = \"{}\"", hex::encode(sha))),
        "{text}"
    );
    assert!(
        text.contains("[[keys]]\nname = \"n8n\"\nscope = \"operate\""),
        "{text}"
    );
    let bad = Command::new(BIN)
        .args(["keys", "new", "--name", "n8n", "--scope", "root"])
        .output()
        .unwrap();
    assert!(!bad.status.success());
}

#[tokio::test]
async fn keys_never_reach_the_logs() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let key = "pmcp_never-logged-0123456789abcdef";
    let wrong = "pmcp_wrong-never-logged-0123456789";
    let mut cmd = Command::new(BIN);
    cmd.args([
        "serve",
        "--demo",
        "--mcp-listen",
        "127.0.0.1:0",
        "--rest-listen",
        "127.0.0.1:0",
    ])
    .env("RUST_LOG", "debug")
    .env("PROXMOX_MCP_API_KEY", key)
    .stdout(Stdio::null())
    .stderr(Stdio::piped());
    for (k, _) in std::env::vars() {
        if k.starts_with("PROXMOX_") && k != "PROXMOX_MCP_API_KEY" {
            cmd.env_remove(k);
        }
    }
    let mut child = KillOnDrop(cmd.spawn().unwrap());
    let stderr = child.0.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut rest = None;
    while rest.is_none() && Instant::now() < deadline {
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(200)) {
            rest = line
                .split("REST listening on ")
                .nth(1)
                .and_then(|r| r.split_whitespace().next())
                .map(str::to_string);
            seen.push(line);
        }
    }
    let rest = rest.unwrap_or_else(|| panic!("no REST line: {seen:#?}"));
    let http = reqwest::Client::new();
    for (k, want) in [(key, 200), (wrong, 401)] {
        let resp = http
            .post(format!("{rest}/get_nodes"))
            .bearer_auth(k)
            .body("{}")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), want);
        let body = resp.text().await.unwrap();
        assert!(!body.contains(k), "{body}");
    }
    let resp = http
        .post(format!("{rest}/delete_vm"))
        .bearer_auth(wrong)
        .body("{\"vmid\": 100}")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    drop(child);
    while let Ok(line) = rx.recv_timeout(Duration::from_millis(500)) {
        seen.push(line);
    }
    let text = seen.join("\n");
    assert!(
        text.contains("refused an unauthenticated request"),
        "the refusal is logged: {text}"
    );
    assert!(
        !text.contains("never-logged"),
        "a key reached the logs: {text}"
    );
}

/// A child process killed when the test ends, even by a panic.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn host_and_origin_settings_reach_both_doors() {
    use proxmox_mcp::config::{Overrides, Settings};
    let flags = Overrides {
        demo: true,
        allowed_hosts: vec!["pve-mcp.lan".into()],
        allowed_origins: vec!["https://n8n.lan".into()],
        ..Overrides::default()
    };
    let settings = Settings::resolve(&flags, &HashMap::new()).unwrap();
    let cfg = proxmox_mcp::rest::config_from(&settings, proxmox_mcp::auth::Gate::default(), None);
    let r = Rest::with(cfg).await;
    let mcp_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let mcp = format!("http://{}/mcp", mcp_listener.local_addr().unwrap());
    let shutdown = CancellationToken::new();
    tokio::spawn(app::serve(
        r.demo.app.clone(),
        mcp_listener,
        app::mcp_http_config(&settings),
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
        let mut rest = r.http.post(r.url("/get_nodes")).body("{}");
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
