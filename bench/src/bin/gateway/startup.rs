//! Start-to-first-initialize: spawns the server `k` times and times, for each, from just before
//! the spawn to the first successful `initialize` answer over Streamable HTTP (the port is probed
//! every 100 µs). Each instance's memory (anonymous, PSS, RSS) is read after that one initialize
//! and a short pause: the idle memory.

use std::fmt;
use std::time::{Duration, Instant};

use crate::Res;
use crate::procs::{Memory, Server, ServerCmd, threads, wait_listening};
use crate::wire::{find_response, http_client, initialize_request, post_mcp};

/// Longest wait for a server to answer its first initialize.
const START_TIMEOUT: Duration = Duration::from_secs(10);
/// Pause between the first initialize and the memory reading.
const IDLE_PAUSE: Duration = Duration::from_millis(300);

#[derive(Debug)]
pub struct StartFigures {
    pub samples: Vec<Duration>,
    /// The memory of each instance after its first initialize.
    pub idle: Vec<Memory>,
    /// The median of each figure of `idle`.
    pub idle_median: Memory,
    pub threads: u64,
}

impl StartFigures {
    pub fn median_ms(&self) -> f64 {
        let mut s = self.samples.clone();
        s.sort_unstable();
        s.get(s.len() / 2).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    }
}

impl fmt::Display for StartFigures {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms: Vec<String> = self
            .samples
            .iter()
            .map(|d| format!("{:.1}", d.as_secs_f64() * 1000.0))
            .collect();
        let each = |f: fn(&Memory) -> u64| -> String {
            self.idle
                .iter()
                .map(|m| format!("{:.2}", f(m) as f64 / 1e6))
                .collect::<Vec<_>>()
                .join(" ")
        };
        write!(
            f,
            "start to first initialize over {} starts: median {:.1} ms (each: {} ms)\n\
             idle memory after one initialize (medians): {}; {} threads\n\
             (each, MB: anonymous {}; PSS {}; RSS {})",
            self.samples.len(),
            self.median_ms(),
            ms.join(" "),
            self.idle_median,
            self.threads,
            each(|m| m.anon),
            each(|m| m.pss),
            each(|m| m.rss),
        )
    }
}

pub async fn run(cmd: &ServerCmd, k: usize) -> Res<StartFigures> {
    let mut samples = Vec::with_capacity(k);
    let mut idle = Vec::with_capacity(k);
    let mut thread_count = 0;
    for _ in 0..k {
        let t = Instant::now();
        let server = Server::spawn(cmd)?;
        wait_initialized(&server.mcp_url()).await?;
        samples.push(t.elapsed());
        tokio::time::sleep(IDLE_PAUSE).await;
        idle.push(Memory::read(server.guard.pid())?);
        thread_count = threads(server.guard.pid())?;
        drop(server);
    }
    Ok(StartFigures {
        samples,
        idle_median: Memory::median(&idle),
        idle,
        threads: thread_count,
    })
}

/// Probes the port until it accepts, then sends one `initialize` on a fresh client and checks
/// the answer.
pub async fn wait_initialized(url: &str) -> Res<()> {
    let addr: std::net::SocketAddr = url
        .trim_start_matches("http://")
        .split('/')
        .next()
        .ok_or("bad URL")?
        .parse()?;
    if !wait_listening(addr, START_TIMEOUT, || false) {
        return Err(
            format!("the server did not listen on {addr} within 10 s (see server.log)").into(),
        );
    }
    let client = http_client(None)?;
    let resp = post_mcp(&client, url, None, initialize_request(1)).await?;
    let body = resp.bytes().await?;
    let v = find_response(&body, 1)?;
    if v["result"]["serverInfo"].is_null() {
        return Err(format!("initialize failed: {v}").into());
    }
    Ok(())
}
