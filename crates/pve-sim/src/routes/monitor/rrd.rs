//! RRD history (`.../rrddata` of nodes, VMs, containers and storages): 70 points per
//! timeframe at RRD's steps (a minute for `hour`, half an hour for `day`...), each the average
//! (`cf=AVERAGE`, the default) or the maximum (`MAX`) of samples of the same live figures
//! `/cluster/resources` shows, taken across the point's interval. Rates (network, disk I/O) are
//! bytes per second.

use serde_json::{Map, Value, json};

use crate::Sim;
use crate::metrics::{GuestSum, guest_facts, guest_usage, guest_usage_with, node_usage_from};
use crate::route::{ApiError, Call};
use crate::state::{Guest, GuestKind, PowerState, SimTime};

/// Points per timeframe, as PVE's RRAs keep.
const POINTS: i64 = 70;
/// Samples taken within each point's interval.
const SAMPLES: usize = 4;

/// The step of a timeframe in seconds.
fn step(timeframe: &str) -> i64 {
    match timeframe {
        "hour" => 60,
        "day" => 1_800,
        "week" => 10_800,
        "month" => 43_200,
        "year" => 604_800,
        _ => 2_592_000,
    }
}

/// The points' end times, oldest first, the last one the latest completed step.
fn times(call: &Call, now: SimTime) -> Vec<i64> {
    let s = step(call.str("timeframe").unwrap_or("hour"));
    let end = (now as i64).div_euclid(s) * s;
    (0..POINTS).rev().map(|k| end - k * s).collect()
}

/// Sample instants within the interval ending at `t`.
fn samples(t: i64, step: i64) -> impl Iterator<Item = SimTime> {
    (0..SAMPLES).map(move |j| (t - step) as f64 + step as f64 * (j as f64 + 0.5) / SAMPLES as f64)
}

/// Folds samples into one figure: their mean, or their maximum with `cf=MAX`.
fn fold(values: &[f64], max: bool) -> f64 {
    if max {
        values.iter().copied().fold(0.0, f64::max)
    } else {
        values.iter().sum::<f64>() / values.len().max(1) as f64
    }
}

fn is_max(call: &Call) -> bool {
    call.str("cf") == Some("MAX")
}

/// Whether a guest ran at `t`: it runs now and had started by then.
fn ran_at(g: &Guest, t: SimTime) -> bool {
    g.status == PowerState::Running && g.started_at.is_some_and(|s| s <= t)
}

/// A guest's figures at `t`: zeros before it was started (or when it is stopped).
fn guest_at(g: &Guest, t: SimTime) -> [f64; 7] {
    if !ran_at(g, t) {
        return [0.0; 7];
    }
    let u = guest_usage(g, t);
    let before = guest_usage(g, t - 1.0);
    [
        u.cpu,
        u.mem as f64,
        u.disk as f64,
        u.netin.saturating_sub(before.netin) as f64,
        u.netout.saturating_sub(before.netout) as f64,
        u.diskread.saturating_sub(before.diskread) as f64,
        u.diskwrite.saturating_sub(before.diskwrite) as f64,
    ]
}

/// `GET /nodes/{node}/{qemu,lxc}/{vmid}/rrddata`.
pub(super) fn guest(sim: &mut Sim, call: &Call) -> Result<Value, ApiError> {
    let kind = if call.path.contains("/lxc/") {
        GuestKind::Lxc
    } else {
        GuestKind::Qemu
    };
    let g = sim.guest_on(call.node()?, call.vmid()?, kind)?;
    let s = step(call.str("timeframe").unwrap_or("hour"));
    let max = is_max(call);
    let (maxmem, maxdisk, maxcpu) = (g.maxmem(), g.maxdisk(), g.cpus());
    let names = [
        "cpu",
        "mem",
        "disk",
        "netin",
        "netout",
        "diskread",
        "diskwrite",
    ];
    let points = times(call, sim.now)
        .into_iter()
        .map(|t| {
            let taken: Vec<[f64; 7]> = samples(t, s).map(|at| guest_at(g, at)).collect();
            let mut e = Map::new();
            e.insert("time".into(), json!(t));
            e.insert("maxcpu".into(), json!(maxcpu));
            e.insert("maxmem".into(), json!(maxmem));
            e.insert("maxdisk".into(), json!(maxdisk));
            for (i, name) in names.iter().enumerate() {
                let v: Vec<f64> = taken.iter().map(|x| x[i]).collect();
                e.insert((*name).into(), json!(round(fold(&v, max))));
            }
            Value::Object(e)
        })
        .collect();
    Ok(Value::Array(points))
}

/// `GET /nodes/{node}/rrddata`.
pub(super) fn node(sim: &mut Sim, call: &Call) -> Result<Value, ApiError> {
    let node = crate::routes::node_of(sim, call)?;
    let s = step(call.str("timeframe").unwrap_or("hour"));
    let max = is_max(call);
    let c = &sim.cluster;
    let guests: Vec<&Guest> = c.guests.values().filter(|g| g.node == node.name).collect();
    let points = times(call, sim.now)
        .into_iter()
        .map(|t| {
            let mut cols: [Vec<f64>; 7] = Default::default();
            for at in samples(t, s) {
                // The node's live figures at `at`, from the guests that ran then: a guest
                // started since adds nothing to the points before its start.
                let mut sum = GuestSum::default();
                for g in guests.iter().filter(|g| ran_at(g, at)) {
                    let f = guest_facts(g);
                    sum.add(&f, &guest_usage_with(g, &f, at));
                }
                let u = node_usage_from(node, sum, at);
                let (netin, netout) = guests.iter().fold((2_000.0, 1_500.0), |(i, o), g| {
                    let x = guest_at(g, at);
                    (i + x[3], o + x[4])
                });
                let row = [
                    u.cpu,
                    u.wait,
                    u.loadavg[0].parse().unwrap_or(0.0),
                    u.mem as f64,
                    u.swap as f64,
                    netin,
                    netout,
                ];
                for (col, v) in cols.iter_mut().zip(row) {
                    col.push(v);
                }
            }
            let f = |i: usize| round(fold(&cols[i], max));
            json!({
                "time": t,
                "cpu": f(0),
                "iowait": f(1),
                "loadavg": f(2),
                "maxcpu": node.maxcpu,
                "memtotal": node.maxmem,
                "memused": f(3),
                "swaptotal": node.maxswap,
                "swapused": f(4),
                "roottotal": node.maxdisk,
                "rootused": node.disk,
                "netin": f(5),
                "netout": f(6),
            })
        })
        .collect();
    Ok(Value::Array(points))
}

/// `GET /nodes/{node}/storage/{storage}/rrddata`: the storage's size and use (use as the
/// storage status shows it; volumes made or freed show from the point they happened).
pub(super) fn storage(sim: &mut Sim, call: &Call) -> Result<Value, ApiError> {
    let node = call.node()?;
    let id = call.req_str("storage")?;
    let st = sim
        .cluster
        .storages
        .get(id)
        .ok_or_else(|| ApiError::internal(format!("storage '{id}' does not exist")))?;
    if !crate::guest::storage_on_node(st, node) {
        return Err(ApiError::internal(format!(
            "storage '{id}' is not available on node '{node}'"
        )));
    }
    let c = &sim.cluster;
    let shared = st.shared;
    let total = st.total;
    let points = times(call, sim.now)
        .into_iter()
        .map(|t| {
            let used: u64 = c
                .volumes
                .iter()
                .filter(|v| v.storage == id && (shared || v.node == node) && v.ctime <= t)
                .map(|v| v.size)
                .sum();
            json!({"time": t, "total": total, "used": used})
        })
        .collect();
    Ok(Value::Array(points))
}

/// Four decimals for fractions, whole numbers for bytes, as RRD exports read.
fn round(v: f64) -> f64 {
    if v.abs() < 100.0 {
        (v * 10_000.0).round() / 10_000.0
    } else {
        v.round()
    }
}
