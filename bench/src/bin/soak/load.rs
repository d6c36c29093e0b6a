//! The soak's clients, each a task looping until the deadline with a short random pause between
//! calls: Streamable HTTP sessions (a few calls each, then ended with `DELETE`, abandoned, or
//! abandoned while an answer is streaming), legacy SSE sessions (ended by closing the stream,
//! sometimes while an answer is pending), REST callers and stateless 2026-07-28 callers (with
//! a `server/discover` now and then). Most calls read; about one in seven mutates, with a token
//! unique to the run in its arguments (a VM description, a snapshot name), so that the audit
//! log and the simulator's request log can be matched call by call. Each client works on a VM
//! of its own, so mutations do not meet each other's locks.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use proxmox_mcp_bench::mcp::Session;
use proxmox_mcp_bench::sse::Legacy;
use proxmox_mcp_bench::{Res, Summary, summarize};
use serde_json::{Value, json};
use tokio::task::JoinHandle;

use crate::doors::{DOORS, Door, Outcome, rest_json};

/// A small xorshift generator: the soak needs variety, not quality.
#[derive(Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed | 1)
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

/// What the clients did, shared with the sampler.
#[derive(Debug, Default)]
pub struct Stats {
    /// Latency of the calls answered since the sampler last took them.
    latencies: Mutex<Vec<Duration>>,
    /// Latency of every call answered.
    all: Mutex<Vec<Duration>>,
    /// Calls by door and outcome (`Ok`, tool error, failed).
    pub calls: [[AtomicU64; 3]; 4],
    /// Sessions opened, ended cleanly, abandoned, abandoned mid-stream.
    pub sessions: [AtomicU64; 4],
}

impl Stats {
    fn record(&self, door: usize, outcome: Outcome, took: Duration) {
        let i = match outcome {
            Outcome::Ok => 0,
            Outcome::ToolError => 1,
            Outcome::Failed => 2,
        };
        self.calls[door][i].fetch_add(1, Ordering::Relaxed);
        if outcome != Outcome::Failed {
            for list in [&self.latencies, &self.all] {
                list.lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(took);
            }
        }
    }

    /// The latencies recorded since the last call.
    pub fn take_latencies(&self) -> Vec<Duration> {
        std::mem::take(
            &mut *self
                .latencies
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        )
    }

    /// The latency percentiles of every call answered.
    pub fn overall(&self) -> Summary {
        summarize(&self.all.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// Calls so far, all doors: answered (ok or tool error), and failed.
    pub fn totals(&self) -> (u64, u64) {
        let sum = |i: usize| -> u64 {
            self.calls
                .iter()
                .map(|d| d[i].load(Ordering::Relaxed))
                .sum()
        };
        (sum(0) + sum(1), sum(2))
    }

    fn session(&self, what: usize) {
        self.sessions[what].fetch_add(1, Ordering::Relaxed);
    }
}

/// A mutation a client sent, as the client saw it end.
#[derive(Debug, Clone)]
pub struct Mutation {
    pub tool: &'static str,
    /// The unique value in its arguments (description or snapshot name).
    pub token: String,
    pub door: &'static str,
    pub outcome: Outcome,
}

/// Where the clients go and until when.
#[derive(Debug, Clone)]
pub struct Target {
    pub mcp_url: String,
    pub rest_url: String,
    pub deadline: Instant,
}

/// The VMIDs of the cluster's VMs (from the REST door's `get_vms`).
pub async fn guest_vmids(rest_url: &str) -> Res<Vec<u64>> {
    let client = http_client()?;
    let mut last = None;
    // No fault is armed yet, but the first call may still race the server's login: a few
    // tries.
    for _ in 0..5 {
        match rest_json(&client, rest_url, "get_vms").await {
            Ok(v) => {
                let ids: Vec<u64> = v["vms"]
                    .as_array()
                    .map(|a| a.iter().filter_map(|g| g["vmid"].as_u64()).collect())
                    .unwrap_or_default();
                if ids.is_empty() {
                    return Err(format!("get_vms listed no VM: {v}").into());
                }
                return Ok(ids);
            }
            Err(e) => last = Some(e),
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    Err(last.unwrap_or_else(|| "get_vms failed".into()))
}

/// The API key every client sends (the server reads it from `PROXMOX_MCP_API_KEY_FILE`).
pub const API_KEY: &str = "soak-key-7f3a9c1e5b2d4f6a8c0e1b3d5f7a9c1e";

fn http_client() -> Res<reqwest::Client> {
    keyed_client(API_KEY)
}

/// A client that sends `Authorization: Bearer <key>` with every request, to both doors.
pub fn keyed_client(key: &str) -> Res<reqwest::Client> {
    let mut headers = reqwest::header::HeaderMap::new();
    let value = reqwest::header::HeaderValue::from_str(&format!("Bearer {key}"))?;
    headers.insert(reqwest::header::AUTHORIZATION, value);
    Ok(reqwest::Client::builder()
        .http1_only()
        .no_proxy()
        .tcp_nodelay(true)
        .default_headers(headers)
        .build()?)
}

/// Starts `per_kind` clients of each kind.
pub fn spawn_all(
    target: Target,
    per_kind: usize,
    vmids: &[u64],
    stats: Arc<Stats>,
) -> Vec<JoinHandle<Vec<Mutation>>> {
    let tokens = Arc::new(AtomicU64::new(0));
    let mut handles = Vec::new();
    for kind in 0..DOORS.len() {
        for n in 0..per_kind {
            let index = kind * per_kind + n;
            let client = Client {
                kind,
                target: target.clone(),
                vmid: vmids[index % vmids.len()],
                rng: Rng::new(0x9e37_79b9_7f4a_7c15 ^ (index as u64 + 1)),
                stats: stats.clone(),
                tokens: tokens.clone(),
                pending_delete: None,
                mutations: Vec::new(),
            };
            handles.push(tokio::spawn(client.run()));
        }
    }
    handles
}

/// Waits for every client; returns their mutations.
pub async fn join(handles: Vec<JoinHandle<Vec<Mutation>>>) -> Vec<Mutation> {
    let mut all = Vec::new();
    for h in handles {
        if let Ok(m) = h.await {
            all.extend(m);
        }
    }
    all
}

/// Read calls: (tool, takes the client's VMID).
const READS: [(&str, bool); 8] = [
    ("get_vms", false),
    ("get_containers", false),
    ("get_nodes", false),
    ("get_storage", false),
    ("get_cluster_status", false),
    ("list_tasks", false),
    ("get_vm_config", true),
    ("list_snapshots", true),
];

struct Client {
    /// Index in [`DOORS`].
    kind: usize,
    target: Target,
    vmid: u64,
    rng: Rng,
    stats: Arc<Stats>,
    tokens: Arc<AtomicU64>,
    /// A snapshot this client created and deletes with its next mutation.
    pending_delete: Option<String>,
    mutations: Vec<Mutation>,
}

impl Client {
    fn running(&self) -> bool {
        Instant::now() < self.target.deadline
    }

    async fn run(mut self) -> Vec<Mutation> {
        while self.running() {
            if self.session().await.is_err() {
                // The door refused or failed to open a session: counted, then a pause.
                self.stats.calls[self.kind][2].fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
        self.mutations
    }

    /// One session (for REST and stateless, a run of calls), from opening to its end.
    async fn session(&mut self) -> Res<()> {
        let client = http_client()?;
        let mut door = match self.kind {
            0 => Door::Streamable(Session::connect(client, self.target.mcp_url.clone()).await?),
            1 => Door::Legacy(Legacy::connect(client, &self.target.mcp_url).await?),
            2 => Door::Rest {
                client,
                url: self.target.rest_url.clone(),
            },
            _ => Door::Stateless {
                client,
                url: self.target.mcp_url.clone(),
                next_id: 0,
            },
        };
        self.stats.session(0);
        let calls = 5 + self.rng.below(15);
        for _ in 0..calls {
            if !self.running() {
                break;
            }
            let pause = 50 + self.rng.below(250);
            tokio::time::sleep(Duration::from_millis(pause)).await;
            self.one_call(&mut door).await;
        }
        self.end(door).await;
        Ok(())
    }

    /// One call: a `server/discover` (stateless, sometimes), a read, or a mutation.
    async fn one_call(&mut self, door: &mut Door) {
        let started = Instant::now();
        if self.rng.below(10) == 0
            && let Some(outcome) = door.discover().await
        {
            self.stats.record(door.index(), outcome, started.elapsed());
            return;
        }
        if self.rng.below(7) == 0 {
            let (tool, token, args) = self.mutation();
            let outcome = door.call(tool, args).await;
            self.stats.record(door.index(), outcome, started.elapsed());
            self.mutations.push(Mutation {
                tool,
                token,
                door: DOORS[door.index()],
                outcome,
            });
            return;
        }
        let (tool, with_vmid) = READS[self.rng.below(READS.len() as u64) as usize];
        let args = if with_vmid {
            json!({"vmid": self.vmid})
        } else if tool == "list_tasks" {
            json!({"limit": 20})
        } else {
            json!({})
        };
        let outcome = door.call(tool, args).await;
        self.stats.record(door.index(), outcome, started.elapsed());
    }

    /// The next mutation: deletes the snapshot this client made last, else changes its VM's
    /// description or takes a snapshot, each with a fresh token.
    fn mutation(&mut self) -> (&'static str, String, Value) {
        if let Some(name) = self.pending_delete.take() {
            let args = json!({"vmid": self.vmid, "name": name, "confirm": true});
            return ("delete_snapshot", name, args);
        }
        let n = self.tokens.fetch_add(1, Ordering::Relaxed);
        if self.rng.below(2) == 0 {
            let token = format!("soak-description-{n}");
            let args = json!({"vmid": self.vmid, "description": token});
            ("update_vm_config", token, args)
        } else {
            let name = format!("soak{n}");
            self.pending_delete = Some(name.clone());
            let args = json!({"vmid": self.vmid, "name": name, "description": "soak"});
            ("create_snapshot", name, args)
        }
    }

    /// Ends a session: mostly cleanly; sometimes abandoned, or abandoned while the answer of a
    /// `get_vms` is on its way (the connection dropped mid-stream).
    async fn end(&mut self, door: Door) {
        let how = self.rng.below(10);
        match door {
            Door::Streamable(s) if how < 7 => {
                let _ = s.close().await;
                self.stats.session(1);
            }
            Door::Streamable(s) if how < 8 => {
                drop(s);
                self.stats.session(2);
            }
            Door::Streamable(mut s) => {
                let id = s.next_id();
                let body = get_vms_request(id);
                let cut = Duration::from_millis(1 + self.rng.below(20));
                let _ = tokio::time::timeout(cut, s.post_raw(body)).await;
                self.stats.session(3);
            }
            Door::Legacy(mut l) if how >= 7 => {
                let body = get_vms_request(l.next_id());
                let _ = l.post(body).await;
                drop(l);
                self.stats.session(3);
            }
            Door::Legacy(l) => {
                drop(l);
                self.stats.session(1);
            }
            Door::Rest { .. } | Door::Stateless { .. } => self.stats.session(1),
        }
    }
}

fn get_vms_request(id: u64) -> String {
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
           "params": {"name": "get_vms", "arguments": {}}})
    .to_string()
}
