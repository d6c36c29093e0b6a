//! The simulator's side of the soak: every 200 ms, takes the requests it served since the last
//! look (keeping every request that was not a GET), and arms one fault for each tenth of them
//! (by default): a latency of 0.1 to 2 s, a 500, a 503 or a dropped connection, picked at
//! random; an expired ticket 3 s in, then every 30 to 60 s. A fault applies to the next request that comes,
//! so about that share of the requests meets one.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use pve_sim::{Fault, RequestRecord, SimServer};

use crate::load::Rng;

/// How often the request log is read and faults are armed.
const TICK: Duration = Duration::from_millis(200);

/// What the simulator saw during the run.
#[derive(Debug, Default)]
pub struct PveLog {
    /// Requests served (every method).
    pub requests: u64,
    /// Requests that were not GETs (mutations, logins), in order, whatever their outcome.
    pub mutations: Vec<RequestRecord>,
    /// Faults armed, by kind: latency, 500, 503, dropped connection, expired ticket.
    pub armed: [u64; 5],
    /// Requests that met a terminal fault: answered 500/503 or 401 before any handler ran, or
    /// dropped.
    pub faulted: u64,
}

/// Kind names of [`PveLog::armed`].
pub const KINDS: [&str; 5] = ["latency", "500", "503", "dropped", "expired ticket"];

/// Arms faults until `deadline`, then disarms what is left; keeps reading the request log
/// until `stop` is set, and returns it.
pub async fn run(
    sim: Arc<SimServer>,
    rate: f64,
    deadline: Instant,
    stop: Arc<AtomicBool>,
) -> PveLog {
    let mut log = PveLog::default();
    let mut rng = Rng::new(0x5eed);
    let mut owed = 0.0_f64;
    let mut next_expiry = Instant::now() + Duration::from_secs(3);
    loop {
        let done = stop.load(Ordering::Acquire);
        let injecting = Instant::now() < deadline;
        if !injecting {
            sim.clear_faults();
        }
        let fresh = sim.take_requests();
        log.requests += fresh.len() as u64;
        owed += fresh.len() as f64 * rate;
        for r in fresh {
            if r.route.is_none() && matches!(r.status, 0 | 401 | 500 | 503) {
                log.faulted += 1;
            }
            if r.method != "GET" {
                log.mutations.push(r);
            }
        }
        if done {
            return log;
        }
        if !injecting {
            tokio::time::sleep(TICK).await;
            continue;
        }
        while owed >= 1.0 {
            owed -= 1.0;
            let (kind, fault) = match rng.below(10) {
                0..=3 => (0, Fault::latency(100 + rng.below(1900))),
                4 | 5 => (1, Fault::status(500, "Internal Server Error (injected)")),
                6 | 7 => (2, Fault::status(503, "Service Unavailable (injected)")),
                _ => (3, Fault::drop_connection()),
            };
            if sim.inject(fault).is_ok() {
                log.armed[kind] += 1;
            }
        }
        if Instant::now() >= next_expiry {
            if sim.inject(Fault::expire_ticket()).is_ok() {
                log.armed[4] += 1;
            }
            next_expiry = Instant::now() + Duration::from_secs(30 + rng.below(30));
        }
        tokio::time::sleep(TICK).await;
    }
}
