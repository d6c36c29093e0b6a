//! The soak run: the real `proxmox-mcp serve` binary against an in-process simulator that
//! injects faults into a tenth of the Proxmox VE requests, driven for a set time by a mix of
//! clients (Streamable HTTP and legacy SSE sessions that come and go, some dropped mid-stream;
//! REST callers; stateless 2026-07-28 calls; reads and mutations). Every sample interval it
//! records the server's memory, descriptors, sessions, calls in flight and latency percentiles;
//! at the end it reconciles the simulator's request log with the server's audit log and checks
//! the server's log for panics. Writes `soak.csv`, `soak.png` and `summary.md`, and exits 1
//! when a target is missed.
//!
//! `cargo run --release -p proxmox-mcp-bench --bin soak [-- --minutes N]`; see `bench/README.md`.
//! Linux only (reads `/proc`).

mod doors;
mod faults;
mod load;
mod plot;
mod reconcile;
mod reload;
mod sample;
mod verdict;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use clap::Parser;
use proxmox_mcp_bench::Res;
use proxmox_mcp_bench::cluster::Shape;
use proxmox_mcp_bench::server::{BinArgs, ServerProc, target_dir};
use pve_sim::{SimConfig, SimServer};

/// The password of `root@pam` on the simulator: the server logs in with it, so its requests
/// carry tickets that the `expire_ticket` fault can expire.
const ROOT_PASSWORD: &str = "soak-password";

/// Seconds an abandoned MCP session lives without traffic (the server's
/// `PROXMOX_MCP_SESSION_IDLE_TIMEOUT`): the default, 30 minutes, would keep every session the
/// soak abandons for the whole run.
const SESSION_IDLE_SECS: u64 = 60;

#[derive(Debug, Parser)]
#[command(about = "Soak run of proxmox-mcp under mixed load with PVE faults")]
struct Opts {
    /// How long to drive the server, in minutes.
    #[arg(long, default_value_t = 30.0, conflicts_with = "seconds")]
    minutes: f64,
    /// How long to drive the server, in seconds (for a short smoke run).
    #[arg(long)]
    seconds: Option<f64>,
    /// Seconds between samples.
    #[arg(long, default_value_t = 10.0)]
    sample_seconds: f64,
    /// Share of the Proxmox VE requests given a fault (latency, 500, 503, dropped connection).
    #[arg(long, default_value_t = 0.10)]
    fault_rate: f64,
    /// Clients of each kind running at once (Streamable HTTP, legacy SSE, REST, stateless).
    #[arg(long, default_value_t = 2)]
    clients: usize,
    /// Where to write soak.csv, soak.png, summary.md and the logs (default: target/soak).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Run the debug build (`target/debug/proxmox-mcp`) instead of the release build.
    #[arg(long)]
    debug: bool,
    #[command(flatten)]
    bin: BinArgs,
}

#[tokio::main]
async fn main() {
    match run(Opts::parse()).await {
        Ok(true) => {}
        Ok(false) => std::process::exit(1),
        Err(e) => {
            eprintln!("soak: {e}");
            std::process::exit(2);
        }
    }
}

/// Runs the soak; `Ok(false)` when a target is missed.
async fn run(opts: Opts) -> Res<bool> {
    let duration = Duration::from_secs_f64(opts.seconds.unwrap_or(opts.minutes * 60.0));
    let interval = Duration::from_secs_f64(opts.sample_seconds.max(0.2));
    let bin = opts.bin.resolve(!opts.debug)?;
    let out = match &opts.out {
        Some(dir) => dir.clone(),
        None => target_dir()?.join("soak"),
    };
    std::fs::create_dir_all(&out)?;
    let audit_path = out.join("audit.jsonl");
    let server_log = out.join("server.log");
    for f in [&audit_path, &server_log] {
        let _ = std::fs::remove_file(f);
    }

    let sim = start_sim().await?;
    let key_file = out.join("api-key");
    std::fs::write(&key_file, load::API_KEY)?;
    let mut env = server_env(&sim, &audit_path);
    env.push((
        "PROXMOX_MCP_API_KEY_FILE".into(),
        key_file.display().to_string(),
    ));
    let args = ["--toolsets", "all"];
    let mut server = ServerProc::start(&bin, &args, &env, &server_log)?;
    let pid = server.guard.pid();
    println!(
        "soak: {} for {:.0} s, pid {pid}, {} ({:.0} % of PVE requests faulted); output in {}",
        bin.display(),
        duration.as_secs_f64(),
        server.mcp_url,
        opts.fault_rate * 100.0,
        out.display()
    );

    let vmids = load::guest_vmids(&server.rest_url).await?;
    let stats = Arc::new(load::Stats::default());
    let started = Instant::now();
    let deadline = started + duration;
    let sim = Arc::new(sim);
    let stop = Arc::new(AtomicBool::new(false));
    let injector = tokio::spawn(faults::run(
        sim.clone(),
        opts.fault_rate,
        deadline,
        stop.clone(),
    ));
    let workers = load::spawn_all(
        load::Target {
            mcp_url: server.mcp_url.clone(),
            rest_url: server.rest_url.clone(),
            deadline,
        },
        opts.clients.max(1),
        &vmids,
        stats.clone(),
    );
    let reloader = tokio::spawn(reload::run(
        pid,
        key_file.clone(),
        server.rest_url.clone(),
        deadline.into(),
    ));
    let samples = sample::run(
        pid,
        &server.rest_url,
        stats.clone(),
        started,
        interval,
        deadline,
    )
    .await;
    let mutations = load::join(workers).await;
    let reloads = reloader.await.map_err(|e| format!("key reloader: {e}"))?;
    // A last sample once every client is done: what the server keeps when idle again.
    let mut samples = samples;
    tokio::time::sleep(Duration::from_secs(2)).await;
    if let Ok(s) = sample::take(pid, &server.rest_url, &stats, started).await {
        samples.push(s);
    }
    let alive = !server.guard.exited();
    drop(server);
    stop.store(true, Ordering::Release);
    let pve = injector.await.map_err(|e| format!("fault injector: {e}"))?;

    let audit = std::fs::read_to_string(&audit_path).unwrap_or_default();
    let log = std::fs::read_to_string(&server_log).unwrap_or_default();
    let rec = reconcile::reconcile(&audit, &pve.mutations, &mutations);
    let verdict = verdict::judge(&samples, &rec, &log, alive, duration, &reloads);
    let csv = out.join("soak.csv");
    sample::write_csv(&csv, &samples)?;
    let png = out.join("soak.png");
    let plotted = plot::draw(&png, &samples);
    let summary = verdict::summary(&verdict::Report {
        duration,
        samples: &samples,
        stats: &stats,
        pve: &pve,
        rec: &rec,
        reloads: &reloads,
        verdict: &verdict,
        plotted: plotted.as_ref().err().map(ToString::to_string),
    });
    std::fs::write(out.join("summary.md"), &summary)?;
    println!("{summary}");
    println!("written: {}, {}, summary.md", csv.display(), png.display());
    Ok(verdict.pass())
}

/// The simulator: a cluster of 3 nodes, 40 VMs and 20 containers over HTTPS, `root@pam` with a
/// password, tasks at a twentieth of their realistic duration (so calls have tasks in flight).
async fn start_sim() -> Res<SimServer> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let shape = Shape {
        nodes: 3,
        vms: 40,
        cts: 20,
    };
    Ok(pve_sim::spawn(
        SimConfig {
            tls: true,
            root_password: Some(ROOT_PASSWORD.into()),
            time_scale: 0.05,
            ..SimConfig::default()
        },
        shape.build(),
    )
    .await?)
}

/// The server's environment: the simulator by password (tickets), its certificate pinned, the
/// audit log, a short idle timeout for abandoned sessions.
fn server_env(sim: &SimServer, audit: &std::path::Path) -> Vec<(String, String)> {
    vec![
        ("PROXMOX_HOST".into(), sim.origin()),
        ("PROXMOX_USER".into(), "root@pam".into()),
        ("PROXMOX_PASSWORD".into(), ROOT_PASSWORD.into()),
        ("PROXMOX_FINGERPRINT".into(), sim.fingerprint().into()),
        ("PROXMOX_MCP_AUDIT_LOG".into(), audit.display().to_string()),
        (
            "PROXMOX_MCP_SESSION_IDLE_TIMEOUT".into(),
            SESSION_IDLE_SECS.to_string(),
        ),
    ]
}
