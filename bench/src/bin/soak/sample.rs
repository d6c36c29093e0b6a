//! The soak's samples: every interval, the server's memory (`VmRSS`, `RssAnon`, PSS) and open
//! descriptors from `/proc`, its open sessions and tool calls in flight from its `/metrics`,
//! and the percentiles of the latencies the clients saw since the last sample; written as CSV.

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use proxmox_mcp_bench::procfs::{Memory, open_fds};
use proxmox_mcp_bench::{Res, summarize};

use crate::load::Stats;

/// One sample.
#[derive(Debug, Clone, Default)]
pub struct Sample {
    /// Seconds since the load started.
    pub at_s: f64,
    pub rss_mb: f64,
    pub anon_mb: f64,
    pub pss_mb: f64,
    pub fds: u64,
    pub sessions_streamable: u64,
    pub sessions_sse: u64,
    pub in_flight: u64,
    /// Calls answered (ok or tool error) and failed since the last sample.
    pub answered: u64,
    pub failed: u64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

const MB: f64 = 1_000_000.0;

/// Samples every `interval` until `deadline`.
pub async fn run(
    pid: u32,
    rest_url: &str,
    stats: std::sync::Arc<Stats>,
    started: Instant,
    interval: Duration,
    deadline: Instant,
) -> Vec<Sample> {
    let mut samples = Vec::new();
    let mut next = started + interval;
    let mut last = (0, 0);
    while next <= deadline {
        tokio::time::sleep_until(next.into()).await;
        next += interval;
        match take(pid, rest_url, &stats, started).await {
            Ok(mut s) => {
                let (answered, failed) = stats.totals();
                (s.answered, s.failed) = (answered - last.0, failed - last.1);
                last = (answered, failed);
                samples.push(s);
            }
            Err(e) => eprintln!("soak: sample failed: {e}"),
        }
    }
    samples
}

/// One sample now.
pub async fn take(pid: u32, rest_url: &str, stats: &Stats, started: Instant) -> Res<Sample> {
    let mem = Memory::read(pid)?;
    let fds = open_fds(pid)?;
    let metrics = scrape(rest_url).await.unwrap_or_default();
    let lat = summarize(&stats.take_latencies());
    Ok(Sample {
        at_s: started.elapsed().as_secs_f64(),
        rss_mb: mem.rss as f64 / MB,
        anon_mb: mem.anon as f64 / MB,
        pss_mb: mem.pss as f64 / MB,
        fds,
        sessions_streamable: gauge(
            &metrics,
            "proxmox_mcp_sessions_open{transport=\"streamable-http\"}",
        ),
        sessions_sse: gauge(&metrics, "proxmox_mcp_sessions_open{transport=\"sse\"}"),
        in_flight: gauge(&metrics, "proxmox_mcp_tool_calls_in_flight"),
        answered: 0,
        failed: 0,
        p50_ms: lat.median_ms,
        p90_ms: lat.p90_ms,
        p99_ms: lat.p99_ms,
        max_ms: lat.max_ms,
    })
}

/// The server's `/metrics` text (served on the REST door too).
async fn scrape(rest_url: &str) -> Res<String> {
    let client = reqwest::Client::builder().no_proxy().build()?;
    let resp = client
        .get(format!("{rest_url}/metrics"))
        .timeout(Duration::from_secs(5))
        .send()
        .await?;
    Ok(resp.text().await?)
}

/// The value of the sample line starting with `series` (name and labels exactly), or 0.
fn gauge(text: &str, series: &str) -> u64 {
    text.lines()
        .filter_map(|l| l.strip_prefix(series))
        .find_map(|rest| rest.trim().parse::<f64>().ok())
        .map_or(0, |v| v as u64)
}

/// Writes the samples as CSV with a header line.
pub fn write_csv(path: &Path, samples: &[Sample]) -> Res<()> {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path)?);
    writeln!(
        f,
        "seconds,rss_mb,anon_mb,pss_mb,fds,sessions_streamable_http,sessions_sse,\
         tool_calls_in_flight,calls_answered,calls_failed,p50_ms,p90_ms,p99_ms,max_ms"
    )?;
    for s in samples {
        writeln!(
            f,
            "{:.1},{:.2},{:.2},{:.2},{},{},{},{},{},{},{:.1},{:.1},{:.1},{:.1}",
            s.at_s,
            s.rss_mb,
            s.anon_mb,
            s.pss_mb,
            s.fds,
            s.sessions_streamable,
            s.sessions_sse,
            s.in_flight,
            s.answered,
            s.failed,
            s.p50_ms,
            s.p90_ms,
            s.p99_ms,
            s.max_ms
        )?;
    }
    f.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_gauges_by_exact_series() {
        let text = "# TYPE proxmox_mcp_sessions_open gauge\n\
                    proxmox_mcp_sessions_open{transport=\"sse\"} 3\n\
                    proxmox_mcp_sessions_open{transport=\"streamable-http\"} 12\n\
                    proxmox_mcp_tool_calls_in_flight 2\n";
        assert_eq!(
            gauge(text, "proxmox_mcp_sessions_open{transport=\"sse\"}"),
            3
        );
        assert_eq!(
            gauge(
                text,
                "proxmox_mcp_sessions_open{transport=\"streamable-http\"}"
            ),
            12
        );
        assert_eq!(gauge(text, "proxmox_mcp_tool_calls_in_flight"), 2);
        assert_eq!(gauge(text, "proxmox_mcp_missing"), 0);
    }
}
