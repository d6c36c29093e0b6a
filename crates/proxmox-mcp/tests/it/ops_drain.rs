//! The drain delay of the real binary (`PROXMOX_MCP_DRAIN_DELAY_SECS`): from SIGTERM on,
//! `/readyz` answers 503 `draining` on both doors while `/healthz` and tool calls are still
//! served, so that a balancer stops sending work before the doors stop accepting; then the
//! process drains and exits 0.

use serde_json::{Value, json};

use crate::support::process::{Bin, sim, sim_env};

#[tokio::test]
async fn readyz_answers_503_from_sigterm_while_the_doors_still_serve() {
    crate::support::mcp::init_tls();
    let sim = sim().await;
    let mut env = sim_env(&sim);
    env.push(("PROXMOX_MCP_DRAIN_DELAY_SECS".into(), "3".into()));
    let mut bin = Bin::start(
        &[
            "serve",
            "--mcp-listen",
            "127.0.0.1:0",
            "--rest-listen",
            "127.0.0.1:0",
        ],
        &env,
    );
    let ports = [bin.port("MCP"), bin.port("REST")];
    let http = reqwest::Client::new();
    let get = async |port: u16, path: &str| {
        let resp = http
            .get(format!("http://127.0.0.1:{port}{path}"))
            .send()
            .await
            .unwrap();
        (resp.status().as_u16(), resp.text().await.unwrap())
    };
    for port in ports {
        let (status, body) = get(port, "/readyz").await;
        assert_eq!(status, 200, "{body}");
    }
    bin.terminate();
    bin.wait_for("draining: /readyz answers 503");
    for port in ports {
        let (status, body) = get(port, "/readyz").await;
        assert_eq!(status, 503, "{body}");
        let body: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(body["status"], "draining", "{body}");
        assert_eq!(get(port, "/healthz").await.0, 200);
    }
    // New work is still served during the delay.
    let resp = http
        .post(format!("http://127.0.0.1:{}/get_vms", ports[1]))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let status = bin.wait_exit();
    assert!(status.success(), "{status:?}");
}

#[test]
fn a_drain_delay_beyond_five_minutes_is_refused() {
    let env = crate::support::process::env(&[("PROXMOX_MCP_DRAIN_DELAY_SECS", "301")]);
    let flags = proxmox_mcp::Overrides {
        demo: true,
        ..proxmox_mcp::Overrides::default()
    };
    let err = proxmox_mcp::Settings::resolve(&flags, &env).unwrap_err();
    assert!(err.to_string().contains("drain_delay_secs"), "{err}");
    let env = crate::support::process::env(&[("PROXMOX_MCP_DRAIN_DELAY_SECS", "7")]);
    let settings = proxmox_mcp::Settings::resolve(&flags, &env).unwrap();
    assert_eq!(settings.drain_delay.as_secs(), 7);
}
