//! `balancer`: calls per second through HAProxy in front of one and then two stateless
//! `proxmox-mcp serve` replicas (the real binary, `--stateless`), 16 clients each sending
//! `tools/call get_vms` over Streamable HTTP without a session, one request at a time on its
//! own kept-alive connection, for a fixed time. The balancer's configuration is the one the
//! end-to-end test checks (`e2e/lb/haproxy.cfg.in`). Prints calls per second, latency
//! percentiles and the CPU each process used per call (from `/proc/<pid>/stat`), which shows
//! what bounds the figure. Linux only; needs `haproxy` on the PATH.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use clap::Parser;
use proxmox_mcp_bench::child::{ChildGuard, free_port, log_file, wait_listening};
use proxmox_mcp_bench::cluster::{Shape, server_env, start_sim};
use proxmox_mcp_bench::mcp::find_response;
use proxmox_mcp_bench::server::{BinArgs, ServerProc, target_dir, workspace_root};
use proxmox_mcp_bench::{Res, summarize};
use serde_json::json;

#[derive(Debug, Parser)]
#[command(about = "Calls per second through HAProxy, one and two stateless replicas")]
struct Args {
    /// Concurrent clients.
    #[arg(long, default_value_t = 16)]
    clients: usize,
    /// Seconds measured per setup (after `--warmup` seconds).
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Seconds of calls before measuring.
    #[arg(long, default_value_t = 2)]
    warmup: u64,
    /// Guests of the simulated cluster (VMs; a quarter as many containers).
    #[arg(long, default_value_t = 40)]
    vms: usize,
    #[command(flatten)]
    bin: BinArgs,
}

fn main() -> Res<()> {
    let args = Args::parse();
    let bin = args.bin.resolve(true)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(run(args, bin))
}

async fn run(args: Args, bin: PathBuf) -> Res<()> {
    let shape = Shape {
        nodes: 3,
        vms: args.vms,
        cts: args.vms / 4,
    };
    let sim = start_sim(shape).await?;
    let logs = target_dir()?.join("bench-balancer");
    std::fs::create_dir_all(&logs)?;
    println!(
        "balancer: {} clients, {} s per setup, get_vms over {} guests, {}",
        args.clients,
        args.seconds,
        shape.guests(),
        bin.display()
    );
    for replicas in [1, 2] {
        let mut servers = Vec::new();
        for r in 0..replicas {
            let log = logs.join(format!("replica-{replicas}-{r}.log"));
            servers.push(ServerProc::start(
                &bin,
                &["--stateless"],
                &server_env(&sim),
                &log,
            )?);
        }
        let ports: Vec<u16> = servers
            .iter()
            .map(|s| port_of(&s.mcp_url))
            .collect::<Res<_>>()?;
        let lb_port = free_port()?;
        let cfg = logs.join(format!("haproxy-{replicas}.cfg"));
        std::fs::write(&cfg, haproxy_config(lb_port, &ports)?)?;
        let haproxy = ChildGuard::new(
            Command::new("haproxy")
                .args(["-db", "-f"])
                .arg(&cfg)
                .stdin(Stdio::null())
                .stdout(log_file(&logs.join("haproxy.log"))?)
                .stderr(log_file(&logs.join("haproxy.log"))?)
                .spawn()?,
        );
        let addr = format!("127.0.0.1:{lb_port}").parse()?;
        if !wait_listening(addr, Duration::from_secs(10), || false) {
            return Err("haproxy did not listen".into());
        }
        // Both replicas up in HAProxy's health checks (two checks at 300 ms).
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let url = format!("http://127.0.0.1:{lb_port}/proxmox/mcp");
        let mut pids: Vec<(String, u32)> = servers
            .iter()
            .enumerate()
            .map(|(i, s)| (format!("replica {}", i + 1), s.guard.pid()))
            .collect();
        pids.push(("haproxy".into(), haproxy.pid()));
        pids.push(("bench (clients and simulator)".into(), std::process::id()));
        measure(&args, &url, replicas, &pids).await?;
        drop(haproxy);
        drop(servers);
    }
    Ok(())
}

fn port_of(url: &str) -> Res<u16> {
    let rest = url
        .strip_prefix("http://127.0.0.1:")
        .ok_or("not a loopback URL")?;
    Ok(rest.split('/').next().ok_or("no port")?.parse()?)
}

/// `e2e/lb/haproxy.cfg.in` with the balancer's port and one `server` line per replica.
fn haproxy_config(lb_port: u16, ports: &[u16]) -> Res<String> {
    let template = std::fs::read_to_string(workspace_root()?.join("e2e/lb/haproxy.cfg.in"))?;
    let mut out = String::new();
    for line in template.lines() {
        let line = line.replace("@LB_PORT@", &lb_port.to_string());
        if line.trim_start().starts_with("server r1 ") {
            for (i, port) in ports.iter().enumerate() {
                out.push_str(&format!("    server r{} 127.0.0.1:{port} check\n", i + 1));
            }
        } else if !line.trim_start().starts_with("server r") {
            out.push_str(&line);
            out.push('\n');
        }
    }
    Ok(out)
}

/// utime + stime of `pid`, in clock ticks (10 ms).
fn cpu_ticks(pid: u32) -> u64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0;
    };
    let Some(after) = stat.rfind(')').map(|i| &stat[i + 2..]) else {
        return 0;
    };
    let f: Vec<&str> = after.split_whitespace().collect();
    f.get(11).and_then(|u| u.parse::<u64>().ok()).unwrap_or(0)
        + f.get(12).and_then(|s| s.parse::<u64>().ok()).unwrap_or(0)
}

async fn measure(args: &Args, url: &str, replicas: usize, pids: &[(String, u32)]) -> Res<()> {
    let measuring = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    for c in 0..args.clients {
        let (url, measuring, stop) = (url.to_string(), measuring.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            let http = reqwest::Client::builder()
                .pool_max_idle_per_host(1)
                .build()?;
            let mut samples = Vec::new();
            let mut id = (c as u64) << 32;
            while !stop.load(Ordering::Relaxed) {
                id += 1;
                let body = json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
                    "params": {"name": "get_vms", "arguments": {}}});
                let t = Instant::now();
                let resp = http
                    .post(&url)
                    .header("accept", "application/json, text/event-stream")
                    .header("content-type", "application/json")
                    .header("mcp-protocol-version", "2025-06-18")
                    .body(body.to_string())
                    .send()
                    .await?;
                if !resp.status().is_success() {
                    return Err(format!("answered {}", resp.status()).into());
                }
                let bytes = resp.bytes().await?;
                let answer = find_response(&bytes, id)?;
                if answer["result"]["isError"] == json!(true) || answer.get("error").is_some() {
                    return Err(format!("get_vms failed: {answer}").into());
                }
                if measuring.load(Ordering::Relaxed) {
                    samples.push(t.elapsed());
                }
            }
            Res::Ok(samples)
        }));
    }
    tokio::time::sleep(Duration::from_secs(args.warmup)).await;
    let before: Vec<u64> = pids.iter().map(|(_, p)| cpu_ticks(*p)).collect();
    measuring.store(true, Ordering::Relaxed);
    let started = Instant::now();
    tokio::time::sleep(Duration::from_secs(args.seconds)).await;
    measuring.store(false, Ordering::Relaxed);
    let elapsed = started.elapsed();
    let after: Vec<u64> = pids.iter().map(|(_, p)| cpu_ticks(*p)).collect();
    stop.store(true, Ordering::Relaxed);
    let mut samples = Vec::new();
    for t in tasks {
        samples.extend(t.await??);
    }
    let s = summarize(&samples);
    let rate = samples.len() as f64 / elapsed.as_secs_f64();
    println!(
        "{replicas} replica(s): {rate:.0} calls/s ({} calls in {:.1} s); latency median {:.2} ms, p90 {:.2} ms, p99 {:.2} ms",
        samples.len(),
        elapsed.as_secs_f64(),
        s.median_ms,
        s.p90_ms,
        s.p99_ms
    );
    let calls = samples.len().max(1) as f64;
    for ((name, _), (b, a)) in pids.iter().zip(before.iter().zip(&after)) {
        let secs = (a - b) as f64 / 100.0;
        println!(
            "  CPU {name}: {:.2} s ({:.0} % of one core), {:.0} µs per call",
            secs,
            100.0 * secs / elapsed.as_secs_f64(),
            secs * 1e6 / calls
        );
    }
    Ok(())
}
