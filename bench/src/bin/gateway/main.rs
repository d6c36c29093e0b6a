//! Benchmark of the MCP server as a gateway: builds and runs the `proxmox-mcp` binary people
//! download (profile `dist`) as `serve` against a separate `proxmox-mcp sim` process (demo
//! cluster), and reports in one run, each next to its target: the added median latency of
//! `tools/call get_vms` over Streamable HTTP, legacy SSE and the REST door against the same
//! request sent straight to the simulator; the server's CPU time per call; the same two figures
//! for a bare relay on the same stack (`relay`, the floor any gateway pays); its idle memory (MCP
//! and REST doors open: anonymous RSS, PSS and total RSS) and the same after the calls;
//! start-to-first-initialize time; the memory of many idle legacy SSE sessions; and the binary
//! size.
//!
//! `cargo run --release -p proxmox-mcp-bench --bin gateway [-- OPTIONS]`; see `bench/README.md`.
//! Linux only (reads `/proc`). Prints to stdout and writes nothing but logs under
//! `target/bench-gateway/`.

mod latency;
mod procs;
mod sessions;
mod startup;
mod wire;

use std::path::{Path, PathBuf};

use procs::{ServerCmd, Sim};
pub use proxmox_mcp_bench::Res;
use proxmox_mcp_bench::server::{cargo_build, target_dir};

const MB: f64 = 1_000_000.0;

/// Command-line options.
#[derive(Debug)]
struct Opts {
    calls: usize,
    warmup: usize,
    starts: usize,
    sessions: usize,
    sim_tls: bool,
    build: bool,
    bin: Option<PathBuf>,
    /// Run the server with this API key (`PROXMOX_MCP_API_KEY`) and present it on every call,
    /// to measure what checking keys costs.
    api_key: Option<String>,
    /// Run the server with `--threads N` (`PROXMOX_MCP_THREADS`; default: the server's, 1).
    threads: Option<u16>,
}

const USAGE: &str = "gateway [--calls N (2000)] [--warmup N (200)] [--starts N (10)] \
                     [--sessions N (10000)] [--sim-http] [--no-build] [--bin PATH] \
                     [--api-key KEY] [--threads N]";

fn parse_opts() -> Res<Opts> {
    let mut o = Opts {
        calls: 2000,
        warmup: 200,
        starts: 10,
        sessions: 10_000,
        sim_tls: true,
        build: true,
        bin: None,
        api_key: None,
        threads: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || {
            args.next()
                .ok_or(format!("{a} needs a value; usage: {USAGE}"))
        };
        match a.as_str() {
            "--calls" => o.calls = value()?.parse()?,
            "--warmup" => o.warmup = value()?.parse()?,
            "--starts" => o.starts = value()?.parse()?,
            "--sessions" => o.sessions = value()?.parse()?,
            "--bin" => o.bin = Some(PathBuf::from(value()?)),
            "--api-key" => o.api_key = Some(value()?),
            "--threads" => o.threads = Some(value()?.parse()?),
            "--sim-http" => o.sim_tls = false,
            "--no-build" => o.build = false,
            _ => return Err(format!("unknown argument {a}; usage: {USAGE}").into()),
        }
    }
    if o.calls == 0 || o.starts == 0 {
        return Err("--calls and --starts must be at least 1".into());
    }
    Ok(o)
}

#[tokio::main]
async fn main() -> Res<()> {
    let opts = parse_opts()?;
    let _ = rustls::crypto::ring::default_provider().install_default();
    let target = target_dir()?;
    let bin = opts
        .bin
        .clone()
        .unwrap_or_else(|| target.join("dist").join("proxmox-mcp"));
    if opts.build {
        build(opts.bin.is_none())?;
    }
    // The relay (the floor), built like the server.
    let relay_bin = target.join("dist").join("relay");
    if !bin.exists() {
        return Err(format!(
            "{} not found: cargo build --profile dist -p proxmox-mcp",
            bin.display()
        )
        .into());
    }
    let workdir = target.join("bench-gateway");
    std::fs::create_dir_all(&workdir)?;
    for log in ["sim.log", "server.log"] {
        let _ = std::fs::remove_file(workdir.join(log));
    }

    print_machine(&bin)?;
    let sim = Sim::start(&bin, opts.sim_tls, &workdir)?;
    println!(
        "simulator: pid {}, {}://127.0.0.1:{} (demo cluster, tasks instant); logs in {}",
        sim.guard.pid(),
        sim.scheme,
        sim.port,
        workdir.display()
    );
    let mut env = sim.server_env();
    // The default caps on open sessions (256, 64 per key) and on connections from one address
    // (256) are safety defaults; the sessions figure needs more, all from 127.0.0.1.
    for var in [
        "PROXMOX_MCP_MAX_SESSIONS",
        "PROXMOX_MCP_MAX_SESSIONS_PER_KEY",
        "PROXMOX_MCP_MAX_CONNECTIONS_PER_CLIENT",
    ] {
        env.push((var.to_string(), (opts.sessions + 256).to_string()));
    }
    if let Some(n) = opts.threads {
        env.push(("PROXMOX_MCP_THREADS".to_string(), n.to_string()));
        println!("server under test runs {n} request threads (PROXMOX_MCP_THREADS)");
    }
    if let Some(key) = &opts.api_key {
        env.push(("PROXMOX_MCP_API_KEY".to_string(), key.clone()));
        wire::set_api_key(key);
        println!(
            "server under test requires an API key (PROXMOX_MCP_API_KEY); every call sends it"
        );
    }
    let cmd = ServerCmd {
        bin: bin.clone(),
        env,
        log: workdir.join("server.log"),
    };

    let start = startup::run(&cmd, opts.starts).await?;
    println!("{start}");

    let mut server = procs::Server::spawn(&cmd)?;
    startup::wait_initialized(&server.mcp_url()).await?;
    let pid = server.guard.pid();
    println!(
        "server under test: pid {pid}, MCP {}, REST {}",
        server.mcp_url(),
        server.rest_url("")
    );

    let mut rows = Vec::new();
    let mut lat = latency::run(&sim, &server, opts.calls, opts.warmup).await?;
    // Not a target: what the calls leave resident (code paged in, allocator caches).
    let after = procs::Memory::read(pid)?;
    println!(
        "server memory after {} calls over the three doors: {after}",
        3 * (opts.calls + opts.warmup),
    );
    if relay_bin.exists() {
        let relay = procs::Relay::start(&relay_bin, &sim)?;
        lat.push(latency::run_relay(&sim, &relay, opts.calls, opts.warmup).await?);
    } else {
        println!(
            "floor skipped: {} not found (cargo build --profile dist -p proxmox-mcp-bench --bin relay)",
            relay_bin.display()
        );
    }
    for t in &lat {
        println!("{t}");
    }
    for t in &lat {
        rows.push(Row::max(
            format!("added median latency, {}", t.transport),
            t.added_ms(),
            0.3,
            "ms",
        ));
    }
    for t in &lat {
        rows.push(Row::max(
            format!("server CPU per call, {}", t.transport),
            t.server_cpu_ms_per_call(),
            0.1,
            "ms",
        ));
    }
    let idle = start.idle_median;
    rows.push(Row::info(
        "idle anonymous RSS (after 1 initialize)".into(),
        idle.anon as f64 / MB,
        "MB",
    ));
    rows.push(Row::info(
        "idle PSS (after 1 initialize)".into(),
        idle.pss as f64 / MB,
        "MB",
    ));
    rows.push(Row::max(
        "idle RSS (MCP + REST doors, after 1 initialize)".into(),
        idle.rss as f64 / MB,
        10.0,
        "MB",
    ));
    rows.push(Row::info(
        "anonymous RSS after the calls".into(),
        after.anon as f64 / MB,
        "MB",
    ));
    rows.push(Row::info(
        "PSS after the calls".into(),
        after.pss as f64 / MB,
        "MB",
    ));
    rows.push(Row::info(
        "RSS after the calls".into(),
        after.rss as f64 / MB,
        "MB",
    ));
    rows.push(Row::max(
        "start to first initialize (median)".into(),
        start.median_ms(),
        20.0,
        "ms",
    ));

    let limit = procs::open_files_limit().unwrap_or(0);
    let needed = opts.sessions as u64 + 512;
    if opts.sessions == 0 {
        println!("sessions: skipped (--sessions 0)");
    } else if limit < needed {
        println!(
            "sessions: skipped: open-files limit {limit} < {needed}; raise it (ulimit -n {needed}) and rerun"
        );
    } else {
        let s = sessions::run(&server.mcp_url(), pid, opts.sessions).await?;
        let opened = s.rss_opened.saturating_sub(s.rss_before) as f64 / MB;
        let initialized = s.rss_initialized.saturating_sub(s.rss_before) as f64 / MB;
        println!(
            "{} legacy SSE sessions: opened in {:.2} s, initialized in {:.2} s; server RSS {:.1} MB before, \
             {:.1} MB opened (+{opened:.1}), {:.1} MB initialized (+{initialized:.1}, {:.1} KB per session), \
             {:.1} MB after closing them",
            s.count,
            s.open_time.as_secs_f64(),
            s.init_time.as_secs_f64(),
            s.rss_before as f64 / MB,
            s.rss_opened as f64 / MB,
            s.rss_initialized as f64 / MB,
            initialized * 1000.0 / s.count.max(1) as f64,
            s.rss_after_close as f64 / MB,
        );
        rows.push(Row::max(
            format!("RSS added by {} legacy SSE streams (opened only)", s.count),
            opened,
            200.0,
            "MB",
        ));
        rows.push(Row::max(
            format!(
                "RSS added by {} idle legacy SSE sessions (initialized)",
                s.count
            ),
            initialized,
            200.0,
            "MB",
        ));
    }
    if server.guard.exited() {
        return Err("the server died during the run (see server.log)".into());
    }

    let size = std::fs::metadata(&bin)?.len();
    rows.push(Row::max("binary size".into(), size as f64 / MB, 15.0, "MB"));
    print_table(&rows);
    Ok(())
}

/// Builds, as people download the server (`--profile dist`), the relay (the floor) and, unless
/// `--bin` names another binary, the server.
fn build(server: bool) -> Res<()> {
    let mut args = vec![
        "--profile",
        "dist",
        "-p",
        "proxmox-mcp-bench",
        "--bin",
        "relay",
    ];
    if server {
        args.extend(["-p", "proxmox-mcp", "--bin", "proxmox-mcp"]);
    }
    cargo_build(&args)
}

fn print_machine(bin: &Path) -> Res<()> {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|l| l.trim_start_matches([' ', '\t', ':']).to_string())
        .unwrap_or_else(|| "unknown CPU".into());
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "machine: {cpus} CPUs ({model}), load average {}",
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );
    println!("binary: {}", bin.display());
    Ok(())
}

/// One line of the final table: a figure, its target (an upper bound, if it has one) and the
/// verdict.
#[derive(Debug)]
struct Row {
    name: String,
    value: f64,
    target: Option<f64>,
    unit: &'static str,
}

impl Row {
    fn max(name: String, value: f64, target: f64, unit: &'static str) -> Self {
        Self {
            name,
            value,
            target: Some(target),
            unit,
        }
    }

    /// A figure without a target.
    fn info(name: String, value: f64, unit: &'static str) -> Self {
        Self {
            name,
            value,
            target: None,
            unit,
        }
    }
}

fn print_table(rows: &[Row]) {
    let width = rows.iter().map(|r| r.name.len()).max().unwrap_or(10);
    println!();
    println!(
        "{:<width$}  {:>12}  {:>12}  verdict",
        "figure", "measured", "target"
    );
    for r in rows {
        let (target, verdict) = match r.target {
            None => ("-".to_string(), String::new()),
            Some(t) if r.value <= t => (format!("<= {t} {}", r.unit), "PASS".to_string()),
            Some(t) => (
                format!("<= {t} {}", r.unit),
                format!("MISS (+{:.0}%)", (r.value / t - 1.0) * 100.0),
            ),
        };
        println!(
            "{:<width$}  {:>12}  {:>12}  {verdict}",
            r.name,
            format!("{:.3} {}", r.value, r.unit),
            target,
        );
    }
}
