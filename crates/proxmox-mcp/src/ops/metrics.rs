//! The server's metrics, rendered in the Prometheus text format (version 0.0.4) by hand: tool
//! calls (count by tool, transport, cluster and outcome; errors by kind; refusals made before
//! a tool ran, by reason; latency histogram per tool),
//! tool calls in flight, Proxmox VE requests (latency histogram by method and status class, fed
//! by pve-client's `RequestObserver`), and open MCP sessions by transport (read from the doors
//! when scraped).
//!
//! Knows nothing of HTTP servers: `ops::router` serves [`Metrics::render`]. Labels carry tool
//! names, transports, methods and status classes only: never a key, a path or a parameter.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::time::Duration;

use futures_util::future::BoxFuture;
use tokio::sync::Notify;

use crate::registry::{CallObserver, Refusal};

/// Upper bounds (seconds) of the latency histograms' buckets; `+Inf` is implied. Tool calls may
/// wait for a task up to 50 s, hence the long tail.
pub(crate) const BUCKETS: [f64; 14] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0,
];

/// The `Content-Type` of [`Metrics::render`]'s output.
pub(crate) const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Something that knows how many MCP sessions are open, by transport (the MCP HTTP door).
pub(crate) trait SessionSource: Send + Sync {
    /// `(transport, open sessions)` pairs.
    fn open_sessions(&self) -> BoxFuture<'_, Vec<(&'static str, usize)>>;
}

/// (tool, transport, cluster, outcome).
type CallKey = (&'static str, &'static str, Arc<str>, &'static str);

/// Every metric of one server. Cheap to share (`Arc`); recording takes a short lock.
#[derive(Default)]
pub struct Metrics {
    /// Calls by (tool, transport, cluster, outcome: `ok` or the error kind).
    calls: Mutex<BTreeMap<CallKey, u64>>,
    /// Calls refused before their tool ran, by (tool, transport, reason).
    refusals: Mutex<BTreeMap<(&'static str, &'static str, &'static str), u64>>,
    /// Latency of calls by tool.
    tool_latency: Mutex<BTreeMap<&'static str, Histogram>>,
    /// Proxmox VE requests by (method, status class).
    pve: Mutex<BTreeMap<(&'static str, &'static str), Histogram>>,
    /// Tool calls running now.
    in_flight: AtomicUsize,
    /// Woken when `in_flight` drops to 0.
    idle: Notify,
    /// Where open sessions are counted (weak: a door going away is simply skipped).
    sessions: Mutex<Vec<Weak<dyn SessionSource>>>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics")
            .field("in_flight", &self.in_flight())
            .finish_non_exhaustive()
    }
}

impl Metrics {
    /// No metrics yet.
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// Tool calls running now.
    pub fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::Acquire)
    }

    /// Waits until no tool call runs, at most `grace`; `true` if none is left.
    pub(crate) async fn drained(&self, grace: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + grace;
        loop {
            let idle = self.idle.notified();
            tokio::pin!(idle);
            idle.as_mut().enable();
            if self.in_flight() == 0 {
                return true;
            }
            if tokio::time::timeout_at(deadline, idle).await.is_err() {
                return self.in_flight() == 0;
            }
        }
    }

    /// Records one Proxmox VE request; `status` `None`: no answer came.
    pub(crate) fn pve_request(&self, method: &'static str, status: Option<u16>, elapsed: Duration) {
        lock(&self.pve)
            .entry((method, status_class(status)))
            .or_default()
            .observe(elapsed);
    }

    /// Counts the open sessions of `source` at every scrape (until `source` is dropped).
    pub(crate) fn watch_sessions(&self, source: Weak<dyn SessionSource>) {
        let mut list = lock(&self.sessions);
        list.retain(|s| s.strong_count() > 0);
        list.push(source);
    }

    /// Every metric in the Prometheus text format.
    pub async fn render(&self) -> String {
        let sources: Vec<Arc<dyn SessionSource>> = lock(&self.sessions)
            .iter()
            .filter_map(Weak::upgrade)
            .collect();
        let mut sessions: BTreeMap<&'static str, usize> =
            [("sse", 0), ("streamable-http", 0)].into();
        for s in sources {
            for (transport, n) in s.open_sessions().await {
                *sessions.entry(transport).or_default() += n;
            }
        }

        let mut out = String::with_capacity(4096);
        family(
            &mut out,
            "proxmox_mcp_build_info",
            "gauge",
            "Version of this server (always 1).",
        );
        sample(
            &mut out,
            "proxmox_mcp_build_info",
            &[("version", env!("CARGO_PKG_VERSION"))],
            1,
        );

        let calls = lock(&self.calls).clone();
        family(
            &mut out,
            "proxmox_mcp_tool_calls_total",
            "counter",
            "Tool calls by tool, transport, cluster and outcome (ok, or the error kind).",
        );
        for ((tool, transport, cluster, outcome), n) in &calls {
            let labels = [
                ("tool", *tool),
                ("transport", *transport),
                ("cluster", &**cluster),
                ("outcome", *outcome),
            ];
            sample(&mut out, "proxmox_mcp_tool_calls_total", &labels, *n);
        }
        let mut errors: BTreeMap<(&str, &str), u64> = BTreeMap::new();
        for ((tool, _, _, outcome), n) in &calls {
            if *outcome != "ok" {
                *errors.entry((tool, outcome)).or_default() += n;
            }
        }
        family(
            &mut out,
            "proxmox_mcp_tool_errors_total",
            "counter",
            "Failed tool calls by tool and error kind.",
        );
        for ((tool, kind), n) in &errors {
            let labels = [("tool", *tool), ("kind", *kind)];
            sample(&mut out, "proxmox_mcp_tool_errors_total", &labels, *n);
        }
        family(
            &mut out,
            "proxmox_mcp_tool_refusals_total",
            "counter",
            "Calls refused before their tool ran, by tool, transport and reason (scope, \
             rate_limit, read_only, not_offered); also counted as calls with outcome policy.",
        );
        for ((tool, transport, reason), n) in lock(&self.refusals).iter() {
            let labels = [
                ("tool", *tool),
                ("transport", *transport),
                ("reason", *reason),
            ];
            sample(&mut out, "proxmox_mcp_tool_refusals_total", &labels, *n);
        }
        family(
            &mut out,
            "proxmox_mcp_tool_call_duration_seconds",
            "histogram",
            "Time from the call to its result, by tool.",
        );
        for (tool, h) in lock(&self.tool_latency).iter() {
            h.render(
                &mut out,
                "proxmox_mcp_tool_call_duration_seconds",
                &[("tool", tool)],
            );
        }
        family(
            &mut out,
            "proxmox_mcp_tool_calls_in_flight",
            "gauge",
            "Tool calls running now.",
        );
        sample(
            &mut out,
            "proxmox_mcp_tool_calls_in_flight",
            &[],
            self.in_flight() as u64,
        );

        family(
            &mut out,
            "proxmox_mcp_pve_request_duration_seconds",
            "histogram",
            "Proxmox VE API requests (each retry and login counts) by method and status class \
             (2xx, 4xx, 5xx, or error: no answer).",
        );
        for ((method, class), h) in lock(&self.pve).iter() {
            h.render(
                &mut out,
                "proxmox_mcp_pve_request_duration_seconds",
                &[("method", method), ("status", class)],
            );
        }

        family(
            &mut out,
            "proxmox_mcp_sessions_open",
            "gauge",
            "Open MCP sessions by transport.",
        );
        for (transport, n) in &sessions {
            sample(
                &mut out,
                "proxmox_mcp_sessions_open",
                &[("transport", transport)],
                *n as u64,
            );
        }
        out
    }
}

impl CallObserver for Metrics {
    fn started(&self) {
        self.in_flight.fetch_add(1, Ordering::AcqRel);
    }

    fn ended(&self) {
        if self.in_flight.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.idle.notify_waiters();
        }
    }

    /// Counts the call by (tool, transport, cluster, outcome) and its latency by tool.
    fn finished(
        &self,
        tool: &'static str,
        transport: &'static str,
        cluster: &Arc<str>,
        outcome: &'static str,
        elapsed: Duration,
    ) {
        *lock(&self.calls)
            .entry((tool, transport, cluster.clone(), outcome))
            .or_default() += 1;
        lock(&self.tool_latency)
            .entry(tool)
            .or_default()
            .observe(elapsed);
    }

    /// Counts a `policy` outcome of the call, and a refusal with its reason.
    fn refused(
        &self,
        tool: &'static str,
        transport: &'static str,
        cluster: &Arc<str>,
        why: Refusal,
    ) {
        *lock(&self.calls)
            .entry((tool, transport, cluster.clone(), "policy"))
            .or_default() += 1;
        *lock(&self.refusals)
            .entry((tool, transport, why.as_str()))
            .or_default() += 1;
    }
}

impl pve_client::observe::RequestObserver for Metrics {
    fn observe(&self, method: pve_client::Method, status: Option<u16>, elapsed: Duration) {
        self.pve_request(method.as_str(), status, elapsed);
    }
}

/// `2xx`, `3xx`, `4xx`, `5xx` (PVE's 595/596 included), or `error` when no answer came.
fn status_class(status: Option<u16>) -> &'static str {
    match status {
        Some(200..=299) => "2xx",
        Some(300..=399) => "3xx",
        Some(400..=499) => "4xx",
        Some(500..=599) => "5xx",
        Some(_) => "other",
        None => "error",
    }
}

/// A latency histogram over [`BUCKETS`] (counts per bucket, not cumulative).
#[derive(Debug, Clone, Default)]
struct Histogram {
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

impl Histogram {
    fn observe(&mut self, elapsed: Duration) {
        let secs = elapsed.as_secs_f64();
        if let Some(i) = BUCKETS.iter().position(|b| secs <= *b) {
            self.buckets[i] += 1;
        }
        self.count += 1;
        self.sum += secs;
    }

    fn render(&self, out: &mut String, name: &str, labels: &[(&str, &str)]) {
        let bucket = format!("{name}_bucket");
        let mut cumulative = 0;
        for (le, n) in BUCKETS.iter().zip(self.buckets) {
            cumulative += n;
            let le = le.to_string();
            let mut l = labels.to_vec();
            l.push(("le", &le));
            sample(out, &bucket, &l, cumulative);
        }
        let mut l = labels.to_vec();
        l.push(("le", "+Inf"));
        sample(out, &bucket, &l, self.count);
        let _ = writeln!(out, "{name}_sum{} {}", label_text(labels), self.sum);
        sample(out, &format!("{name}_count"), labels, self.count);
    }
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

fn sample(out: &mut String, name: &str, labels: &[(&str, &str)], value: u64) {
    let _ = writeln!(out, "{name}{} {value}", label_text(labels));
}

/// `{a="x",b="y"}` with values escaped as the text format says (`\\`, `\"`, `\n`); empty when
/// there are no labels.
fn label_text(labels: &[(&str, &str)]) -> String {
    if labels.is_empty() {
        return String::new();
    }
    let inner: Vec<String> = labels
        .iter()
        .map(|(k, v)| {
            let v = v
                .replace('\\', "\\\\")
                .replace('"', "\\\"")
                .replace('\n', "\\n");
            format!("{k}=\"{v}\"")
        })
        .collect();
    format!("{{{}}}", inner.join(","))
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[tokio::test]
    async fn histograms_are_cumulative_and_labels_escaped() {
        let m = Metrics::new();
        let c: Arc<str> = "default".into();
        m.finished("get_vms", "rest", &c, "ok", Duration::from_millis(3));
        m.finished("get_vms", "rest", &c, "ok", Duration::from_millis(700));
        m.finished("get_vms", "sse", &c, "pve", Duration::from_secs(500));
        m.refused("stop_vm", "rest", &c, Refusal::Scope);
        m.pve_request("GET", Some(596), Duration::from_millis(1));
        m.pve_request("POST", None, Duration::from_millis(1));
        let text = m.render().await;
        for line in [
            "proxmox_mcp_tool_calls_total{tool=\"get_vms\",transport=\"rest\",cluster=\"default\",outcome=\"ok\"} 2",
            "proxmox_mcp_tool_errors_total{tool=\"get_vms\",kind=\"pve\"} 1",
            "proxmox_mcp_tool_calls_total{tool=\"stop_vm\",transport=\"rest\",cluster=\"default\",outcome=\"policy\"} 1",
            "proxmox_mcp_tool_refusals_total{tool=\"stop_vm\",transport=\"rest\",reason=\"scope\"} 1",
            "proxmox_mcp_tool_call_duration_seconds_bucket{tool=\"get_vms\",le=\"0.005\"} 1",
            "proxmox_mcp_tool_call_duration_seconds_bucket{tool=\"get_vms\",le=\"1\"} 2",
            "proxmox_mcp_tool_call_duration_seconds_bucket{tool=\"get_vms\",le=\"120\"} 2",
            "proxmox_mcp_tool_call_duration_seconds_bucket{tool=\"get_vms\",le=\"+Inf\"} 3",
            "proxmox_mcp_tool_call_duration_seconds_count{tool=\"get_vms\"} 3",
            "proxmox_mcp_pve_request_duration_seconds_count{method=\"GET\",status=\"5xx\"} 1",
            "proxmox_mcp_pve_request_duration_seconds_count{method=\"POST\",status=\"error\"} 1",
            "proxmox_mcp_sessions_open{transport=\"sse\"} 0",
            "proxmox_mcp_tool_calls_in_flight 0",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} missing:\n{text}");
        }
        assert_eq!(
            label_text(&[("a", "x\"y\\z\nw")]),
            "{a=\"x\\\"y\\\\z\\nw\"}"
        );
    }

    #[tokio::test]
    async fn drained_waits_for_calls_in_flight() {
        let m = Metrics::new();
        assert!(m.drained(Duration::ZERO).await);
        m.started();
        assert_eq!(m.in_flight(), 1);
        assert!(!m.drained(Duration::from_millis(1)).await);
        let waiter = tokio::spawn({
            let m = m.clone();
            async move { m.drained(Duration::from_secs(60)).await }
        });
        m.ended();
        assert!(waiter.await.unwrap());
    }
}
