//! `/healthz`, `/readyz` and `/metrics` on both HTTP doors (real servers on 127.0.0.1:0 over a
//! real simulator): readiness follows the cluster, the metrics text parses and holds the series
//! the calls made, `metrics_auth` asks for a key, and the `Host` rules hold.

use std::sync::Arc;
use std::time::Duration;

use proxmox_mcp::App;
use proxmox_mcp::DemoCluster;
use proxmox_mcp::McpHttpConfig;
use proxmox_mcp::Ops;
use proxmox_mcp::RestConfig;
use proxmox_mcp::{Gate, KeyRing, Scope};
use pve_client::PveClient;
use pve_sim::faults::Fault;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use crate::support::demo::serve_doors;
use crate::support::process::parse_metrics;

/// Both doors over one app and a simulator (tasks end at once, no retries).
struct Doors {
    demo: DemoCluster,
    mcp: String,
    rest: String,
    http: reqwest::Client,
    shutdown: CancellationToken,
}

impl Drop for Doors {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

impl Doors {
    /// `ops` adjusts the app's ops settings (its metrics stay those the app feeds).
    async fn start(ops: impl FnOnce(Ops) -> Ops) -> Doors {
        crate::support::mcp::init_tls();
        let demo = DemoCluster::spawn(pve_sim::seed::demo(), 0.0)
            .await
            .unwrap();
        let mut cfg = demo.client_config().unwrap();
        cfg.request_timeout = Duration::from_secs(3);
        cfg.max_retries = 0;
        let app = App::new(
            proxmox_mcp::builtin_tools().unwrap(),
            PveClient::new(cfg).unwrap(),
        );
        let configured = ops(Ops::new(app.ops().metrics.clone()));
        let app = Arc::new(app.with_ops(configured));
        let shutdown = CancellationToken::new();
        let rest_cfg = RestConfig {
            gate: app.ops().gate.clone(),
            ..RestConfig::default()
        };
        let (mcp, rest) = serve_doors(&app, McpHttpConfig::default(), rest_cfg, &shutdown).await;
        Doors {
            demo,
            mcp,
            rest,
            http: reqwest::Client::new(),
            shutdown,
        }
    }

    async fn get(&self, url: String, headers: &[(&str, &str)]) -> (u16, String) {
        let mut rb = self.http.get(url);
        for (k, v) in headers {
            rb = rb.header(*k, *v);
        }
        let resp = rb.send().await.unwrap();
        let status = resp.status().as_u16();
        (status, resp.text().await.unwrap())
    }

    fn doors(&self) -> [&str; 2] {
        [&self.mcp, &self.rest]
    }
}

#[tokio::test]
async fn healthz_is_alive_and_readyz_follows_the_cluster() {
    let d = Doors::start(|o| o).await;
    for door in d.doors() {
        let (status, body) = d.get(format!("{door}/healthz"), &[]).await;
        assert_eq!((status, body.as_str()), (200, "ok\n"), "{door}");
        let (status, body) = d.get(format!("{door}/readyz"), &[]).await;
        assert_eq!(status, 200, "{door}: {body}");
        let v: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["status"], "ready");
        assert!(
            v["pve_version"].as_str().is_some_and(|s| !s.is_empty()),
            "{v}"
        );
    }
    // The cluster fails: 503 with PVE's reason; /healthz does not call it and stays 200.
    let sim = d.demo.server();
    sim.inject(
        Fault::status(500, "cluster not ready - no quorum?")
            .path("^/version$")
            .times(2),
    )
    .unwrap();
    for door in d.doors() {
        let (status, body) = d.get(format!("{door}/readyz"), &[]).await;
        assert_eq!(status, 503, "{door}: {body}");
        let v: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["status"], "unavailable");
        assert!(
            v["reason"].as_str().unwrap().contains("no quorum"),
            "{door}: {v}"
        );
        let (status, _) = d.get(format!("{door}/healthz"), &[]).await;
        assert_eq!(status, 200);
    }
    // No answer at all: 503 too.
    sim.inject(Fault::drop_connection().path("^/version$"))
        .unwrap();
    let (status, body) = d.get(format!("{}/readyz", d.mcp), &[]).await;
    assert_eq!(status, 503, "{body}");
    // Healthy again.
    let (status, _) = d.get(format!("{}/readyz", d.rest), &[]).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn metrics_count_calls_pve_requests_and_sessions() {
    let d = Doors::start(|o| o).await;
    let post =
        |tool: &str, args: Value| d.http.post(format!("{}/{tool}", d.rest)).json(&args).send();
    assert_eq!(post("get_vms", json!({})).await.unwrap().status(), 200);
    assert_eq!(post("get_vms", json!({})).await.unwrap().status(), 200);
    let failed = post("get_node_status", json!({"node": "nowhere"}))
        .await
        .unwrap();
    assert!(failed.status().is_client_error() || failed.status().is_server_error());
    // A legacy SSE session stays open while we scrape.
    let sse = d
        .http
        .get(format!("{}/mcp", d.mcp))
        .header("Accept", "text/event-stream")
        .send()
        .await
        .unwrap();
    assert_eq!(sse.status(), 200);

    let resp = d
        .http
        .get(format!("{}/metrics", d.mcp))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    let text = resp.text().await.unwrap();
    let m = parse_metrics(&text);
    let get = |k: &str| {
        *m.get(k)
            .unwrap_or_else(|| panic!("{k} missing from:\n{text}"))
    };
    assert_eq!(
        get(
            r#"proxmox_mcp_tool_calls_total{tool="get_vms",transport="rest",cluster="default",outcome="ok"}"#
        ),
        2.0
    );
    assert_eq!(
        get(r#"proxmox_mcp_tool_call_duration_seconds_count{tool="get_vms"}"#),
        2.0
    );
    assert_eq!(
        get(r#"proxmox_mcp_tool_call_duration_seconds_bucket{tool="get_vms",le="+Inf"}"#),
        2.0
    );
    let failed_kind = m
        .keys()
        .find(|k| k.starts_with(r#"proxmox_mcp_tool_errors_total{tool="get_node_status""#))
        .unwrap_or_else(|| panic!("no error series:\n{text}"));
    assert_eq!(m[failed_kind], 1.0);
    assert!(
        get(r#"proxmox_mcp_pve_request_duration_seconds_count{method="GET",status="2xx"}"#) >= 2.0
    );
    assert_eq!(get(r#"proxmox_mcp_sessions_open{transport="sse"}"#), 1.0);
    assert_eq!(
        get(r#"proxmox_mcp_sessions_open{transport="streamable-http"}"#),
        0.0
    );
    assert_eq!(get("proxmox_mcp_tool_calls_in_flight"), 0.0);
    // The REST door serves the same numbers.
    let (status, body) = d.get(format!("{}/metrics", d.rest), &[]).await;
    assert_eq!(status, 200);
    assert_eq!(
        parse_metrics(&body)[r#"proxmox_mcp_tool_calls_total{tool="get_vms",transport="rest",cluster="default",outcome="ok"}"#],
        2.0
    );
    // The session closes with its stream.
    drop(sse);
    let mut open = 1.0;
    for _ in 0..100 {
        let (_, body) = d.get(format!("{}/metrics", d.mcp), &[]).await;
        open = parse_metrics(&body)[r#"proxmox_mcp_sessions_open{transport="sse"}"#];
        if open == 0.0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(open, 0.0);
}

#[tokio::test]
async fn metrics_auth_asks_for_a_key_and_host_rules_hold() {
    let d = Doors::start(|o| Ops {
        metrics_auth: true,
        gate: Gate::new(Arc::new(KeyRing::single(
            "scraper",
            Scope::Read,
            "k-scrape",
        ))),
        ..o
    })
    .await;
    for door in d.doors() {
        let (status, _) = d.get(format!("{door}/metrics"), &[]).await;
        assert_eq!(status, 401, "{door}");
        let wrong = [("Authorization", "Bearer nope")];
        assert_eq!(d.get(format!("{door}/metrics"), &wrong).await.0, 401);
        let key = [("Authorization", "Bearer k-scrape")];
        let (status, body) = d.get(format!("{door}/metrics"), &key).await;
        assert_eq!(status, 200, "{door}: {body}");
        assert!(body.contains("# TYPE proxmox_mcp_tool_calls_total counter"));
        // Health needs no key.
        assert_eq!(d.get(format!("{door}/healthz"), &[]).await.0, 200);
        assert_eq!(d.get(format!("{door}/readyz"), &[]).await.0, 200);
        // A foreign Host (DNS rebinding) reads nothing; /healthz answers any Host.
        let evil = [
            ("Host", "evil.example"),
            ("Authorization", "Bearer k-scrape"),
        ];
        assert_eq!(
            d.get(format!("{door}/metrics"), &evil).await.0,
            403,
            "{door}"
        );
        assert_eq!(
            d.get(format!("{door}/readyz"), &evil).await.0,
            403,
            "{door}"
        );
        assert_eq!(
            d.get(format!("{door}/healthz"), &evil).await.0,
            200,
            "{door}"
        );
    }
}
