//! Benchmark: `GET /cluster/resources` against the simulator holding a 10,000-guest cluster,
//! over plain HTTP and HTTPS, sequential requests on one keep-alive connection.
//! Prints median/p90/p99/max in milliseconds. Target: median under 20 ms.
//!
//! `cargo run --release -p proxmox-mcp-bench --bin sim_resources [-- REQUESTS]`

use std::time::{Duration, Instant};

use proxmox_mcp_bench::{Summary, process_cpu_time, summarize, thread_cpu_time};
use pve_sim::seed::ClusterBuilder;
use pve_sim::{SimConfig, SimServer};

const TOKEN: &str = "root@pam!bench=00000000-0000-0000-0000-000000000000";
const WARMUP: usize = 50;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let requests: usize = std::env::args()
        .nth(1)
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(500);
    let _ = rustls::crypto::ring::default_provider().install_default();
    let cluster = || {
        ClusterBuilder::new()
            .name("bench")
            .nodes(20)
            .vms(8_000)
            .cts(2_000)
            .build()
    };
    println!(
        "cluster: 20 nodes, 8000 VMs, 2000 containers; {requests} requests after {WARMUP} warm-up"
    );
    in_process(cluster(), requests.min(200));
    for tls in [false, true] {
        let server = pve_sim::spawn(
            SimConfig {
                tls,
                api_tokens: vec![TOKEN.to_string()],
                ..SimConfig::default()
            },
            cluster(),
        )
        .await?;
        let (summary, bytes) = run(&server, requests).await?;
        let label = if tls { "https" } else { "http " };
        println!(
            "{label} GET /cluster/resources ({} KiB): {summary}",
            bytes / 1024
        );
        server.shutdown().await;
    }
    Ok(())
}

/// Where the time goes without HTTP: the handler (route, checks, handler under the lock)
/// and the JSON encoding (none when the handler writes JSON text itself).
fn in_process(cluster: pve_sim::state::Cluster, n: usize) {
    let mut sim = pve_sim::Sim::new(cluster);
    sim.settle(pve_sim::seed::wall_now());
    let id = pve_sim::Identity::root();
    let (mut handler, mut encode, mut cpu) = (Vec::new(), Vec::new(), Vec::new());
    let mut raw_path = false;
    for _ in 0..n {
        let t = Instant::now();
        let c = thread_cpu_time();
        let out = pve_sim::dispatch::run(
            &mut sim,
            pve_sim::Method::Get,
            "/cluster/resources",
            pve_sim::RawParams::new(),
            pve_sim::dispatch::Caller::Identity(&id),
        );
        handler.push(t.elapsed());
        if let (Some(c0), Some(c1)) = (c, thread_cpu_time()) {
            cpu.push(c1.saturating_sub(c0));
        }
        let t = Instant::now();
        let bytes = match (&out.result, &out.raw) {
            (Ok(_), Some(raw)) => {
                raw_path = true;
                raw.len()
            }
            (Ok(v), None) => serde_json::to_vec(v).map(|b| b.len()).unwrap_or_default(),
            (Err(e), _) => {
                eprintln!("dispatch failed: {e}");
                return;
            }
        };
        encode.push(t.elapsed());
        std::hint::black_box(bytes);
        drop(out);
    }
    println!("in-process handler (wall): {}", summarize(&handler));
    if !cpu.is_empty() {
        println!("in-process handler (CPU):  {}", summarize(&cpu));
    }
    if raw_path {
        println!("in-process encoding: none (the handler writes JSON text)");
    } else {
        println!("in-process encoding: {}", summarize(&encode));
    }
}

async fn run(
    server: &SimServer,
    requests: usize,
) -> Result<(Summary, usize), Box<dyn std::error::Error>> {
    let cert = reqwest::Certificate::from_pem(server.cert_pem().as_bytes())?;
    let client = reqwest::Client::builder()
        .tls_certs_only([cert])
        .pool_max_idle_per_host(1)
        .build()?;
    let url = format!("{}/cluster/resources", server.base_url());
    let auth = format!("PVEAPIToken={TOKEN}");
    let mut samples = Vec::with_capacity(requests);
    let mut bytes = 0;
    let mut cpu_start = None;
    for i in 0..WARMUP + requests {
        let started = Instant::now();
        let resp = client
            .get(&url)
            .header("Authorization", &auth)
            .send()
            .await?;
        if !resp.status().is_success() {
            return Err(format!("unexpected status {}", resp.status()).into());
        }
        let body = resp.bytes().await?;
        let elapsed: Duration = started.elapsed();
        bytes = body.len();
        if i >= WARMUP {
            samples.push(elapsed);
        }
        if i + 1 == WARMUP {
            cpu_start = process_cpu_time();
        }
    }
    if let (Some(c0), Some(c1)) = (cpu_start, process_cpu_time()) {
        let per = c1.saturating_sub(c0).as_secs_f64() * 1000.0 / requests.max(1) as f64;
        println!("  process CPU per request (server and client together): {per:.2} ms");
    }
    Ok((summarize(&samples), bytes))
}
