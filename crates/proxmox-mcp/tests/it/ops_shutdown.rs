//! Graceful shutdown of the real binary: with a call in flight (made slow by the simulator's
//! latency fault) and an SSE stream open, SIGTERM stops new connections, the call completes,
//! the stream ends and the process exits 0. Also the binary runner `ops_logs` shares.

use std::time::Duration;

use crate::support::process::{Bin, sim, sim_env};
use pve_sim::faults::Fault;
use serde_json::json;

#[tokio::test]
async fn sigterm_lets_the_call_in_flight_finish_then_exits_0() {
    crate::support::mcp::init_tls();
    let sim = sim().await;
    let mut bin = Bin::start(
        &[
            "serve",
            "--mcp-listen",
            "127.0.0.1:0",
            "--rest-listen",
            "127.0.0.1:0",
        ],
        &sim_env(&sim),
    );
    let mcp = bin.port("MCP");
    let rest = bin.port("REST");
    let http = reqwest::Client::new();
    // Warm up (node lookups), then make the next guest listing slow.
    let warm = http
        .post(format!("http://127.0.0.1:{rest}/get_vms"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(warm.status(), 200);
    sim.inject(Fault::latency(4000).path("^/cluster/resources"))
        .unwrap();
    let call = tokio::spawn({
        let http = http.clone();
        async move {
            let resp = http
                .post(format!("http://127.0.0.1:{rest}/get_vms"))
                .json(&json!({}))
                .send()
                .await?;
            let status = resp.status().as_u16();
            let body: serde_json::Value = resp.json().await?;
            Ok::<_, reqwest::Error>((status, body))
        }
    });
    // An SSE stream stays open meanwhile.
    let mut sse = http
        .get(format!("http://127.0.0.1:{mcp}/mcp"))
        .header("Accept", "text/event-stream")
        .send()
        .await
        .unwrap();
    assert_eq!(sse.status(), 200);
    // Wait until the server counts the call as running.
    loop {
        let text = http
            .get(format!("http://127.0.0.1:{mcp}/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if text
            .lines()
            .any(|l| l == "proxmox_mcp_tool_calls_in_flight 1")
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    bin.terminate();
    // New connections are refused while the call runs on.
    let fresh = reqwest::Client::new();
    let mut refused = false;
    while !call.is_finished() {
        if fresh
            .get(format!("http://127.0.0.1:{rest}/healthz"))
            .send()
            .await
            .is_err()
        {
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (status, body) = call
        .await
        .unwrap()
        .expect("the call in flight got its answer");
    assert_eq!(status, 200, "{body}");
    assert!(
        body["vms"].as_array().is_some_and(|v| !v.is_empty()),
        "{body}"
    );
    assert!(refused, "a new connection was accepted after SIGTERM");
    // The stream ends (the server closed it), and the process exits 0.
    while let Ok(Some(_)) = sse.chunk().await {}
    let status = bin.wait_exit();
    let log = bin.seen.join("\n");
    assert_eq!(status.code(), Some(0), "{log}");
    assert!(log.contains("waiting for calls in flight"), "{log}");
    assert!(log.contains("stopped"), "{log}");
}
