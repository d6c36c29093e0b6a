//! Task waits when things go wrong: a call interrupted by the shutdown drain answers as a wait
//! timeout does (the UPID, still running, how to follow it) on both doors, and so does a guest
//! command; a Proxmox VE that
//! stops answering during a wait is an error saying since when and naming the task; a mutating
//! call that timed out says the change may have been applied, with the task when known.

use std::sync::Arc;
use std::time::Duration;

use proxmox_mcp::App;
use proxmox_mcp::DemoCluster;
use proxmox_mcp::McpHttpConfig;
use proxmox_mcp::Ops;
use proxmox_mcp::RestConfig;
use pve_client::PveClient;
use pve_sim::faults::Fault;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use crate::support::demo::{Demo, serve_doors};

/// Both doors over a demo cluster whose tasks take `time_scale` times their simulated time,
/// with a drain grace of `grace`.
struct Doors {
    _demo: DemoCluster,
    app: Arc<App>,
    mcp: String,
    rest: String,
    shutdown: CancellationToken,
}

impl Doors {
    async fn start(time_scale: f64, grace: Duration) -> Doors {
        let demo = DemoCluster::spawn(pve_sim::seed::demo(), time_scale)
            .await
            .unwrap();
        let mut cfg = demo.client_config().unwrap();
        cfg.request_timeout = Duration::from_secs(3);
        cfg.max_retries = 0;
        let app = App::new(
            proxmox_mcp::builtin_tools().unwrap(),
            PveClient::new(cfg).unwrap(),
        );
        let ops = Ops {
            drain_grace: grace,
            ..Ops::new(app.ops().metrics.clone())
        };
        let app = Arc::new(app.with_ops(ops));
        let shutdown = CancellationToken::new();
        let (mcp, rest) = serve_doors(
            &app,
            McpHttpConfig::default(),
            RestConfig::default(),
            &shutdown,
        )
        .await;
        Doors {
            _demo: demo,
            app,
            mcp: format!("{mcp}/mcp"),
            rest,
            shutdown,
        }
    }

    /// Waits until `n` calls are in flight.
    async fn in_flight(&self, n: usize) {
        for _ in 0..500 {
            if self.app.ops().metrics.in_flight() >= n {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("{n} calls never ran at once");
    }
}

fn backup_args(vmid: u32) -> Value {
    json!({"vmid": vmid, "storage": "nfs-backup", "wait_seconds": 40})
}

/// Checks a "still running" answer that the shutdown cut short.
fn assert_cut_short(out: &Value) {
    assert_eq!(out["task_status"], "running", "{out}");
    assert!(
        out["upid"].as_str().is_some_and(|u| u.contains(":vzdump:")),
        "{out}"
    );
    let hint = out["hint"].as_str().unwrap();
    assert!(
        hint.contains("shutting down") && hint.contains("get_task"),
        "{hint}"
    );
}

#[tokio::test]
async fn a_call_interrupted_by_the_drain_answers_with_its_task() {
    let d = Doors::start(200.0, Duration::from_secs(3)).await;
    let http = reqwest::Client::new();
    // A backup through REST, and one through MCP (Streamable HTTP), each waiting up to 40 s.
    let rest = tokio::spawn({
        let (http, url) = (http.clone(), format!("{}/create_backup", d.rest));
        async move {
            let resp = http.post(url).json(&backup_args(100)).send().await?;
            let status = resp.status().as_u16();
            Ok::<_, reqwest::Error>((status, resp.json::<Value>().await?))
        }
    });
    let (session, _) = crate::support::mcp::handshake(&http, &d.mcp, "2025-06-18").await;
    let mcp = tokio::spawn({
        let (http, url) = (http.clone(), d.mcp.clone());
        async move {
            let call = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
                "params": {"name": "create_backup", "arguments": backup_args(101)}});
            let headers = [
                ("mcp-session-id", session.as_str()),
                ("mcp-protocol-version", "2025-06-18"),
            ];
            crate::support::mcp::post(&http, &url, &headers, call).await
        }
    });
    // A command in a guest, waited for the same way.
    let exec = tokio::spawn({
        let (http, url) = (http.clone(), format!("{}/execute_vm_command", d.rest));
        async move {
            let args = json!({"vmid": 100, "command": "sleep", "args": ["5"],
                              "timeout_seconds": 40, "confirm": true});
            let resp = http.post(url).json(&args).send().await?;
            let status = resp.status().as_u16();
            Ok::<_, reqwest::Error>((status, resp.json::<Value>().await?))
        }
    });
    d.in_flight(3).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    d.shutdown.cancel();

    let (status, out) = rest.await.unwrap().unwrap();
    assert_eq!(status, 200, "{out}");
    assert_cut_short(&out);
    let (status, _, msgs) = mcp.await.unwrap();
    assert_eq!(status, 200, "{msgs:?}");
    let result = &msgs.last().unwrap()["result"];
    assert_eq!(result["isError"], json!(false), "{result}");
    assert_cut_short(&result["structuredContent"]);
    let (status, out) = exec.await.unwrap().unwrap();
    assert_eq!(status, 200, "{out}");
    assert_eq!(out["exited"], false, "{out}");
    assert!(
        out["hint"].as_str().unwrap().contains("shutting down"),
        "{out}"
    );
}

/// From now on, every task status poll fails as if the API were gone.
fn api_gone(d: &Demo) {
    d.sim()
        .inject(
            Fault::drop_connection()
                .path("/tasks/.*/status")
                .times(10_000),
        )
        .unwrap();
}

#[tokio::test]
async fn a_proxmox_outage_during_a_wait_is_an_error_naming_the_task() {
    let d = Demo::with(pve_sim::seed::demo(), 200.0).await;
    // Every status poll fails (the API is gone) once the backup has started.
    api_gone(&d);
    let started = std::time::SystemTime::now();
    let e = d
        .call(
            "create_backup",
            json!({"vmid": 100, "storage": "nfs-backup", "wait_seconds": 3}),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind(), "timeout", "{e}");
    let text = e.to_string();
    assert!(text.contains("Proxmox VE stopped answering at "), "{text}");
    assert!(text.contains(":vzdump:100:"), "{text}");
    assert!(
        text.contains("may still be running") && text.contains("get_task"),
        "{text}"
    );
    // The time named is when the wait began (no poll ever answered): today, in UTC.
    let at = text.split("stopped answering at ").nth(1).unwrap();
    let today = proxmox_mcp::rfc3339_at(started);
    assert_eq!(&at[..13], &today[..13], "{text}");

    // PVE going away in the middle of the wait: the time named is its last answer.
    d.sim().clear_faults();
    let outage = async {
        tokio::time::sleep(Duration::from_millis(1500)).await;
        api_gone(&d);
    };
    let call = d.call(
        "create_backup",
        json!({"vmid": 101, "storage": "nfs-backup", "wait_seconds": 5}),
    );
    let (r, ()) = tokio::join!(call, outage);
    let e = r.unwrap_err();
    assert_eq!(e.kind(), "timeout", "{e}");
    assert!(e.to_string().contains(":vzdump:101:"), "{e}");

    // A slow Proxmox VE that still answers is no outage: the task is still running.
    d.sim().clear_faults();
    d.sim()
        .inject(Fault::latency(1500).path("/tasks/.*/status").times(10_000))
        .unwrap();
    let out = d
        .call(
            "create_backup",
            json!({"vmid": 104, "storage": "nfs-backup", "wait_seconds": 4}),
        )
        .await
        .unwrap();
    assert_eq!(out["task_status"], "running", "{out}");
}

#[tokio::test]
async fn a_mutating_call_that_timed_out_says_the_change_may_have_been_applied() {
    let d = Demo::start().await;
    // The stop request reaches PVE, but its answer comes too late for the client (3 s).
    d.sim()
        .inject(Fault::latency(4000).on(pve_sim::route::Method::Post, "/status/stop$"))
        .unwrap();
    let e = d
        .call("stop_vm", json!({"vmid": 100, "confirm": true}))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), "timeout", "{e}");
    assert!(e.to_string().contains("may have been applied"), "{e}");

    // A task was started before the request that timed out: the error names it.
    d.sim().clear_faults();
    d.sim()
        .inject(Fault::latency(4000).on(pve_sim::route::Method::Delete, "/qemu/101$"))
        .unwrap();
    let e = d
        .call(
            "delete_vm",
            json!({"vmid": 101, "force": true, "confirm": true}),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind(), "timeout", "{e}");
    let text = e.to_string();
    assert!(text.contains("may have been applied"), "{text}");
    assert!(
        text.contains(":qmstop:101:") && text.contains("get_task"),
        "{text}"
    );
    // Reads that time out change nothing and say nothing of the kind.
    d.sim().clear_faults();
    d.sim()
        .inject(Fault::latency(4000).path("^/cluster/resources"))
        .unwrap();
    let e = d.call("get_vms", json!({})).await.unwrap_err();
    assert!(!e.to_string().contains("may have been applied"), "{e}");
}
