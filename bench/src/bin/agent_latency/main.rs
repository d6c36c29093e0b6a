//! End-to-end latency of one default `get_vms` as an agent sees it, measured with the official
//! MCP Python SDK client (structured-content validation included) against proxmox-mcp and against
//! ProxmoxMCP-Plus (pinned in `bench/py/requirements-plus.txt`), both over Streamable HTTP on
//! loopback and both pointed at the same simulated cluster (2,000 guests by default, a `pve_sim`
//! simulator in this process over HTTPS with one API token).
//!
//! `cargo run --release -p proxmox-mcp-bench --bin agent_latency [-- OPTIONS]`; see
//! `bench/README.md`. Installs the two Python environments under `bench/py/` on first use.

mod python;

use clap::Parser;
use proxmox_mcp_bench::cluster::{self, Shape};
use proxmox_mcp_bench::server::{BinArgs, ServerProc, target_dir};
use proxmox_mcp_bench::{Res, Summary, summarize};

use python::DriverRun;

/// proxmox-mcp against ProxmoxMCP-Plus, seen from the MCP Python SDK client (see bench/README.md).
#[derive(Debug, Parser)]
#[command(name = "agent_latency")]
struct Opts {
    /// Timed calls per round and server.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..))]
    calls: u32,
    /// Untimed calls before them.
    #[arg(long, default_value_t = 3)]
    warmup: u32,
    /// Rounds (each runs the driver once per server, alternating which goes first).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..))]
    rounds: u32,
    /// The Python (3.11 or later) that makes the virtual environments.
    #[arg(long, default_value = "python3")]
    python: String,
    #[command(flatten)]
    bin: BinArgs,
    #[command(flatten)]
    shape: Shape,
}

/// One server's runs.
#[derive(Debug)]
struct Side {
    label: &'static str,
    url: String,
    runs: Vec<DriverRun>,
}

#[tokio::main]
async fn main() -> Res<()> {
    let opts = Opts::parse();
    let bin = opts.bin.resolve(true)?;
    let target = target_dir()?;
    let workdir = target.join("bench-agent-latency");
    std::fs::create_dir_all(&workdir)?;
    let py = python::py_dir();
    let client_python = python::ensure_venv(
        &opts.python,
        &py.join(".venv-client"),
        &py.join("requirements-client.txt"),
    )?;
    let plus_venv = py.join(".venv-plus");
    python::ensure_venv(&opts.python, &plus_venv, &py.join("requirements-plus.txt"))?;

    print_machine(&bin);
    println!("building the simulated cluster: {}", opts.shape);
    let sim = cluster::start_sim(opts.shape).await?;
    let log = workdir.join("server.log");
    let _ = std::fs::remove_file(&log);
    let mut ours = ServerProc::start(&bin, &[], &cluster::server_env(&sim), &log)?;
    let mut plus = python::Plus::start(&plus_venv, sim.addr().port(), &workdir)?;
    println!(
        "simulator {}; proxmox-mcp at {} (log {}); ProxmoxMCP-Plus at {} (log {})",
        sim.origin(),
        ours.mcp_url,
        log.display(),
        plus.url,
        workdir.join("plus.log").display()
    );
    let mut sides = [
        Side {
            label: "proxmox-mcp",
            url: ours.mcp_url.clone(),
            runs: Vec::new(),
        },
        Side {
            label: "ProxmoxMCP-Plus",
            url: plus.url.clone(),
            runs: Vec::new(),
        },
    ];
    for round in 0..opts.rounds {
        // Alternate who goes first, so a drift in the machine's load hits both sides alike.
        let order: [usize; 2] = if round % 2 == 0 { [0, 1] } else { [1, 0] };
        for i in order {
            let (python, url) = (client_python.clone(), sides[i].url.clone());
            let (calls, warmup) = (opts.calls, opts.warmup);
            let run =
                tokio::task::spawn_blocking(move || python::drive(&python, &url, calls, warmup))
                    .await??;
            println!(
                "round {}: {:<16} median {:.2} ms",
                round + 1,
                sides[i].label,
                median(&run.samples_ms)
            );
            sides[i].runs.push(run);
        }
    }
    if ours.guard.exited() || plus.guard.exited() {
        return Err("a server died during the run (see the logs)".into());
    }
    drop(ours);
    drop(plus);
    sim.shutdown().await;
    print_results(&sides, &opts);
    Ok(())
}

fn median(ms: &[f64]) -> f64 {
    summarize(&to_durations(ms)).median_ms
}

fn to_durations(ms: &[f64]) -> Vec<std::time::Duration> {
    ms.iter()
        .map(|m| std::time::Duration::from_secs_f64(m.max(0.0) / 1000.0))
        .collect()
}

fn print_results(sides: &[Side], opts: &Opts) {
    println!();
    println!(
        "## get_vms {{}} with the MCP Python SDK client, {} ({} rounds of {} calls after {} warm-up calls)",
        opts.shape, opts.rounds, opts.calls, opts.warmup
    );
    println!();
    println!(
        "| server | protocol | tools | median ms | p90 ms | min ms | round medians ms | SDK validation alone ms | floor: ping ms | floor: get_cluster_status ms | rows | text bytes | structured bytes | output schema bytes |"
    );
    println!("|---|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|");
    let mut medians = Vec::new();
    for side in sides {
        let Some(last) = side.runs.last() else {
            continue;
        };
        let all: Vec<f64> = side
            .runs
            .iter()
            .flat_map(|r| r.samples_ms.iter().copied())
            .collect();
        let s: Summary = summarize(&to_durations(&all));
        let min = all.iter().copied().fold(f64::INFINITY, f64::min);
        let rounds: Vec<String> = side
            .runs
            .iter()
            .map(|r| format!("{:.1}", median(&r.samples_ms)))
            .collect();
        let floor = |f: fn(&DriverRun) -> Option<f64>| {
            let v: Vec<f64> = side.runs.iter().filter_map(f).collect();
            if v.is_empty() {
                "-".to_string()
            } else {
                format!("{:.2}", median(&v))
            }
        };
        println!(
            "| {} ({}) | {} | {} | {:.2} | {:.2} | {:.2} | {} | {} | {} | {} | {} | {} | {} | {} |",
            side.label,
            last.server,
            last.protocol_version,
            last.tools,
            s.median_ms,
            s.p90_ms,
            min,
            rounds.join(" / "),
            last.validate_median_ms
                .map_or("-".into(), |v| format!("{v:.2}")),
            floor(|r| r.ping_median_ms),
            floor(|r| r.trivial_median_ms),
            last.rows.map_or("-".into(), |r| r.to_string()),
            last.text_bytes,
            last.structured_bytes,
            last.output_schema_bytes
        );
        medians.push(s.median_ms);
    }
    if let [ours, plus] = medians[..] {
        println!();
        let verdict = if ours < plus {
            "PASS".to_string()
        } else {
            format!("MISS ({:.1}x slower)", ours / plus)
        };
        println!(
            "proxmox-mcp median {ours:.2} ms vs ProxmoxMCP-Plus {plus:.2} ms: target \"faster than \
             ProxmoxMCP-Plus\": {verdict}"
        );
    }
}

fn print_machine(bin: &std::path::Path) {
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let profile: Vec<String> = std::env::vars()
        .filter(|(k, _)| k.starts_with("CARGO_PROFILE_RELEASE_"))
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    println!(
        "machine: {} CPUs, load average {}; server binary {}{}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" "),
        bin.display(),
        if profile.is_empty() {
            String::new()
        } else {
            format!(" (built with {})", profile.join(" "))
        }
    );
}
