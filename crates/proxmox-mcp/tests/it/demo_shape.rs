//! Big clusters from the command line: `serve --demo` (and `stdio --demo`) take the simulator's
//! `--nodes`, `--vms`, `--containers` and `--seed`, as `pve-sim` and `proxmox-mcp sim` do; the
//! same flags give the same cluster.

use serde_json::{Value, json};

use crate::support::mcp::init_tls;
use crate::support::process::Bin;

/// `serve --demo` with `shape`; the REST door's base URL, with the process.
fn serve(shape: &[&str]) -> (Bin, String) {
    init_tls();
    let mut args = vec![
        "serve",
        "--demo",
        "--mcp-listen",
        "127.0.0.1:0",
        "--rest-listen",
        "127.0.0.1:0",
    ];
    args.extend_from_slice(shape);
    let mut bin = Bin::start(&args, &[]);
    let port = bin.port("REST");
    (bin, format!("http://127.0.0.1:{port}"))
}

async fn call(http: &reqwest::Client, base: &str, tool: &str, args: Value) -> Value {
    let resp = http
        .post(format!("{base}/{tool}"))
        .json(&args)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "{tool}");
    resp.json().await.unwrap()
}

#[tokio::test]
async fn serve_demo_builds_the_cluster_the_flags_describe() {
    init_tls();
    let http = reqwest::Client::new();
    let shape = [
        "--nodes",
        "4",
        "--vms",
        "250",
        "--containers",
        "30",
        "--seed",
        "7",
    ];
    let (_bin, base) = serve(&shape);
    let nodes = call(&http, &base, "get_nodes", json!({})).await;
    assert_eq!(nodes["nodes"].as_array().unwrap().len(), 4, "{nodes}");
    let vms = call(&http, &base, "get_vms", json!({"limit": 1000})).await;
    assert_eq!((&vms["total"], &vms["count"]), (&json!(250), &json!(250)));
    let cts = call(&http, &base, "get_containers", json!({})).await;
    assert_eq!(cts["total"], 30);

    // The same flags, the same cluster: names, nodes and sizes.
    let (_again, base2) = serve(&shape);
    let vms2 = call(
        &http,
        &base2,
        "get_vms",
        json!({"limit": 1000, "fields": ["name", "node", "memory_mb"]}),
    )
    .await;
    let project = |v: &Value| -> Vec<Value> {
        v["vms"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| json!([r["vmid"], r["name"], r["node"], r["memory_mb"]]))
            .collect()
    };
    assert_eq!(project(&vms), project(&vms2));

    // Without flags: the demo cluster.
    let (_demo, base3) = serve(&[]);
    let demo = call(&http, &base3, "get_vms", json!({})).await;
    assert_ne!(demo["total"], 250);
}

/// Each command accepts the flags (an unknown flag before `--help` is an error with no help).
#[test]
fn stdio_and_sim_take_the_same_flags() {
    for cmd in [
        &[
            "proxmox-mcp",
            "stdio",
            "--demo",
            "--nodes",
            "2",
            "--vms",
            "10",
        ][..],
        &[
            "proxmox-mcp",
            "sim",
            "--nodes",
            "2",
            "--vms",
            "10",
            "--containers",
            "3",
            "--seed",
            "1",
        ][..],
        &["proxmox-mcp", "serve", "--demo", "--containers", "5"][..],
    ] {
        let out = std::process::Command::new(crate::support::process::BIN)
            .args(&cmd[1..])
            .arg("--help")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{cmd:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let help = String::from_utf8_lossy(&out.stdout);
        for flag in ["--nodes", "--vms", "--containers", "--seed"] {
            assert!(help.contains(flag), "{cmd:?}: {flag} missing from\n{help}");
        }
    }
}
