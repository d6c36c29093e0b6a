//! Shared helpers of the benchmark binaries: percentiles and a summary line, CPU clocks, and the
//! modules below (child processes, the server under test, simulated clusters, MCP clients over
//! Streamable HTTP and legacy SSE, what `/proc` says about a process).

use std::time::Duration;

pub mod child;
pub mod cluster;
pub mod mcp;
pub mod procfs;
pub mod server;
pub mod sse;

/// The benchmarks' result type.
pub type Res<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// Latency summary of a run, in milliseconds.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    pub count: usize,
    pub median_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

/// Nearest-rank percentiles of the samples.
pub fn summarize(samples: &[Duration]) -> Summary {
    let mut ms: Vec<f64> = samples.iter().map(|d| d.as_secs_f64() * 1000.0).collect();
    ms.sort_by(f64::total_cmp);
    let pick = |p: f64| -> f64 {
        if ms.is_empty() {
            return 0.0;
        }
        let rank = ((p / 100.0) * ms.len() as f64).ceil() as usize;
        ms[rank.clamp(1, ms.len()) - 1]
    };
    Summary {
        count: ms.len(),
        median_ms: pick(50.0),
        p90_ms: pick(90.0),
        p99_ms: pick(99.0),
        max_ms: ms.last().copied().unwrap_or(0.0),
    }
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "n={} median={:.2} ms p90={:.2} ms p99={:.2} ms max={:.2} ms",
            self.count, self.median_ms, self.p90_ms, self.p99_ms, self.max_ms
        )
    }
}

/// CPU time this thread has run so far (Linux `/proc/thread-self/schedstat`), to tell the
/// cost of work apart from waiting on a busy machine. `None` elsewhere.
pub fn thread_cpu_time() -> Option<Duration> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: u64 = text.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(ns))
}

/// CPU time the whole process (every thread, user and system) has used so far (Linux
/// `/proc/self/stat`, clock ticks of 10 ms). `None` elsewhere.
pub fn process_cpu_time() -> Option<Duration> {
    let text = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let rest = text.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(Duration::from_millis((utime + stime) * 10))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn cpu_clocks_move() {
        if let (Some(a), Some(p)) = (thread_cpu_time(), process_cpu_time()) {
            let mut x = 0u64;
            for i in 0..5_000_000u64 {
                x = x.wrapping_add(i * i);
            }
            std::hint::black_box(x);
            assert!(thread_cpu_time().unwrap() > a);
            assert!(process_cpu_time().unwrap() >= p);
        }
    }

    #[test]
    fn percentiles_by_nearest_rank() {
        let samples: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        let s = summarize(&samples);
        assert_eq!(s.count, 100);
        assert!((s.median_ms - 50.0).abs() < 1e-9);
        assert!((s.p90_ms - 90.0).abs() < 1e-9);
        assert!((s.p99_ms - 99.0).abs() < 1e-9);
        assert!((s.max_ms - 100.0).abs() < 1e-9);
    }
}
