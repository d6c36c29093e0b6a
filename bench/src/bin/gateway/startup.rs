//! Start-to-first-initialize: spawns the server `k` times and times, for each, from just before
//! the spawn to the first successful `initialize` answer over Streamable HTTP (the port is probed
//! every 100 µs). Each instance's resident memory is read after that one initialize and a short
//! pause: the idle RSS.

use std::fmt;
use std::time::{Duration, Instant};

use crate::Res;
use crate::procs::{Server, ServerCmd, rss_bytes, rss_parts, threads, wait_listening};
use crate::wire::{find_response, http_client, initialize_request, post_mcp};

/// Longest wait for a server to answer its first initialize.
const START_TIMEOUT: Duration = Duration::from_secs(10);
/// Pause between the first initialize and the memory reading.
const IDLE_PAUSE: Duration = Duration::from_millis(300);

#[derive(Debug)]
pub struct StartFigures {
    pub samples: Vec<Duration>,
    pub idle_rss: Vec<u64>,
    pub idle_rss_median: u64,
    pub threads: u64,
    /// Anonymous and file-backed resident bytes of the last instance.
    pub parts: (u64, u64),
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
        let rss: Vec<String> = self
            .idle_rss
            .iter()
            .map(|b| format!("{:.2}", *b as f64 / 1e6))
            .collect();
        write!(
            f,
            "start to first initialize over {} starts: median {:.1} ms (each: {} ms)\n\
             idle RSS after one initialize: median {:.2} MB (each: {} MB; last: {:.2} MB anonymous, \
             {:.2} MB file-backed), {} threads",
            self.samples.len(),
            self.median_ms(),
            ms.join(" "),
            self.idle_rss_median as f64 / 1e6,
            rss.join(" "),
            self.parts.0 as f64 / 1e6,
            self.parts.1 as f64 / 1e6,
            self.threads
        )
    }
}

pub async fn run(cmd: &ServerCmd, k: usize) -> Res<StartFigures> {
    let mut samples = Vec::with_capacity(k);
    let mut idle_rss = Vec::with_capacity(k);
    let mut thread_count = 0;
    let mut parts = (0, 0);
    for _ in 0..k {
        let t = Instant::now();
        let server = Server::spawn(cmd)?;
        wait_initialized(&server.mcp_url()).await?;
        samples.push(t.elapsed());
        tokio::time::sleep(IDLE_PAUSE).await;
        idle_rss.push(rss_bytes(server.guard.pid())?);
        thread_count = threads(server.guard.pid())?;
        parts = rss_parts(server.guard.pid())?;
        drop(server);
    }
    let mut sorted = idle_rss.clone();
    sorted.sort_unstable();
    Ok(StartFigures {
        samples,
        idle_rss_median: sorted.get(sorted.len() / 2).copied().unwrap_or(0),
        idle_rss,
        threads: thread_count,
        parts,
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
