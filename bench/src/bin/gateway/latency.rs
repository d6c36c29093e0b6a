//! Gateway-added latency and CPU per call: for each door (Streamable HTTP, legacy SSE, REST, and
//! the bare relay that stands for the floor), one client at a time alternates `get_vms` through
//! the server with the same request straight to the simulator (`GET /cluster/resources?type=vm`,
//! token auth, the order swapped every pair), on keep-alive connections; after the warm-up, the
//! server's and the simulator's CPU time are read before and after the measured pairs.

use std::fmt;
use std::time::{Duration, Instant};

use proxmox_mcp_bench::{Summary, summarize};
use serde_json::Value;

use crate::Res;
use crate::procs::{CpuTime, Relay, SECRET, Server, Sim, TOKEN_NAME, USER};
use crate::wire::{
    Direct, Legacy, Rest, Streamable, check_get_vms, check_vm_list, find_response, get_vms_request,
    http_client,
};

/// The figures of one door.
#[derive(Debug)]
pub struct TransportFigures {
    pub transport: &'static str,
    pub gateway: Summary,
    pub direct: Summary,
    pub calls: usize,
    /// Server CPU over the measured pairs: schedstat (exact) and /proc/pid/stat (ticks).
    pub server_cpu_ns: u64,
    pub server_cpu_stat_ns: u64,
    /// The kernel part of `server_cpu_stat_ns`.
    pub server_cpu_sys_ns: u64,
    /// Simulator CPU over the measured pairs (it answers both requests of a pair).
    pub sim_cpu_ns: u64,
}

impl TransportFigures {
    pub fn added_ms(&self) -> f64 {
        self.gateway.median_ms - self.direct.median_ms
    }

    pub fn server_cpu_ms_per_call(&self) -> f64 {
        self.server_cpu_ns as f64 / 1e6 / self.calls.max(1) as f64
    }
}

impl fmt::Display for TransportFigures {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let per_call = |ns: u64| ns as f64 / 1e3 / self.calls.max(1) as f64;
        write!(
            f,
            "{}: through the server {}\n{:>w$}  straight to the simulator {}\n{:>w$}  added median {:.3} ms; \
             server CPU {:.1} µs/call (by /proc/pid/stat ticks: {:.1}, of which kernel {:.1}); simulator CPU {:.1} µs per pair",
            self.transport,
            self.gateway,
            "",
            self.direct,
            "",
            self.added_ms(),
            per_call(self.server_cpu_ns),
            per_call(self.server_cpu_stat_ns),
            per_call(self.server_cpu_sys_ns),
            per_call(self.sim_cpu_ns),
            w = self.transport.len(),
        )
    }
}

/// One door's client.
enum Door {
    Streamable(Streamable),
    Legacy(Legacy),
    Rest(Rest),
    /// The bare relay (the floor): same request as REST, answered with the simulator's body.
    Relay(Rest),
}

/// What came back, checked after the timed window.
enum Answer {
    Mcp(u64, bytes::Bytes),
    Json(bytes::Bytes),
    /// PVE's `{"data": [...]}` envelope, as the relay passes it on.
    Pve(bytes::Bytes),
}

impl Door {
    async fn call(&mut self) -> Res<Answer> {
        Ok(match self {
            Door::Streamable(s) => {
                let (id, body) = s.call().await?;
                Answer::Mcp(id, body)
            }
            Door::Legacy(l) => {
                let (id, json) = l.call_raw(get_vms_request).await?;
                Answer::Mcp(id, bytes::Bytes::from(json))
            }
            Door::Rest(r) => Answer::Json(r.call().await?),
            Door::Relay(r) => Answer::Pve(r.call().await?),
        })
    }
}

impl Answer {
    fn check(&self) -> Res<()> {
        match self {
            Answer::Mcp(id, body) => check_get_vms(&find_response(body, *id)?),
            Answer::Json(body) => check_vm_list(&serde_json::from_slice::<Value>(body)?),
            Answer::Pve(body) => check_guest_data(body),
        }
    }
}

/// The floor: the same measurement through the bare relay (see `bench/src/bin/relay.rs`), whose
/// process stands in for the server.
pub async fn run_relay(sim: &Sim, relay: &Relay, n: usize, warmup: usize) -> Res<TransportFigures> {
    let door = Door::Relay(Rest::new(http_client(None)?, relay.url()));
    measure(RELAY, door, sim, relay.guard.pid(), n, warmup).await
}

/// The name of the relay's figures.
const RELAY: &str = "bare relay (floor)";

pub async fn run(
    sim: &Sim,
    server: &Server,
    n: usize,
    warmup: usize,
) -> Res<Vec<TransportFigures>> {
    let mut out = Vec::new();
    for transport in ["Streamable HTTP", "legacy SSE", "REST"] {
        let client = http_client(None)?;
        let door = match transport {
            "Streamable HTTP" => {
                Door::Streamable(Streamable::connect(client, server.mcp_url()).await?)
            }
            "legacy SSE" => Door::Legacy(Legacy::connect(client, &server.mcp_url()).await?),
            _ => Door::Rest(Rest::new(client, server.rest_url("get_vms"))),
        };
        out.push(measure(transport, door, sim, server.guard.pid(), n, warmup).await?);
    }
    Ok(out)
}

async fn measure(
    transport: &'static str,
    mut door: Door,
    sim: &Sim,
    server_pid: u32,
    n: usize,
    warmup: usize,
) -> Res<TransportFigures> {
    let direct = Direct::new(
        http_client(sim.cert_pem.as_deref())?,
        sim.resources_url(),
        format!("PVEAPIToken={USER}!{TOKEN_NAME}={SECRET}"),
    );
    let sim_pid = sim.guard.pid();
    let mut through = Vec::with_capacity(n);
    let mut straight = Vec::with_capacity(n);
    let mut cpu_start = None;
    for i in 0..warmup + n {
        if i == warmup {
            cpu_start = Some((CpuTime::read(server_pid)?, CpuTime::read(sim_pid)?));
        }
        let (d_gw, d_direct) = if i % 2 == 0 {
            let d = timed_direct(&direct).await?;
            (timed_door(&mut door).await?, d)
        } else {
            let g = timed_door(&mut door).await?;
            (g, timed_direct(&direct).await?)
        };
        if i >= warmup {
            through.push(d_gw);
            straight.push(d_direct);
        }
    }
    let (server_end, sim_end) = (CpuTime::read(server_pid)?, CpuTime::read(sim_pid)?);
    let (server_start, sim_start) = cpu_start.ok_or("no measured calls")?;
    Ok(TransportFigures {
        transport,
        gateway: summarize(&through),
        direct: summarize(&straight),
        calls: n,
        server_cpu_ns: server_end.since(&server_start),
        server_cpu_stat_ns: server_end.stat_since(&server_start).0,
        server_cpu_sys_ns: server_end.stat_since(&server_start).1,
        sim_cpu_ns: sim_end.since(&sim_start),
    })
}

async fn timed_door(door: &mut Door) -> Res<Duration> {
    let t = Instant::now();
    let answer = door.call().await?;
    let d = t.elapsed();
    answer.check()?;
    Ok(d)
}

async fn timed_direct(direct: &Direct) -> Res<Duration> {
    let t = Instant::now();
    let body = direct.call().await?;
    let d = t.elapsed();
    check_guest_data(&body)?;
    Ok(d)
}

/// PVE's envelope holds a non-empty guest list.
fn check_guest_data(body: &[u8]) -> Res<()> {
    let v: Value = serde_json::from_slice(body)?;
    if v["data"].as_array().is_none_or(|a| a.is_empty()) {
        return Err("the simulator answered no guests".into());
    }
    Ok(())
}
