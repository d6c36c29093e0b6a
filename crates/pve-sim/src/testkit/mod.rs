//! Helpers for the crate's unit tests: simulators over the demo cluster or a small hand-built
//! one ([`small`]), calls through the real dispatcher, simulated time and assertions.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod small;

use serde_json::Value;

use crate::Sim;
use crate::route::{ApiError, Identity, Method, Role};
use crate::state::{Cluster, Guest, SimTime, Volume};

pub(crate) use small::{cluster, sim};

/// The simulated time tests start at (and the demo cluster is built around).
pub(crate) const T0: SimTime = 1_800_000_000.0;

/// A simulator over the demo cluster at [`T0`] (+10 s), realistic task durations.
pub(crate) fn demo_sim() -> Sim {
    sim_over(crate::seed::demo_at(T0))
}

/// A simulator over any cluster, settled at [`T0`] (+10 s).
pub(crate) fn sim_over(cluster: Cluster) -> Sim {
    let mut s = Sim::new(cluster);
    s.time_scale = 1.0;
    s.settle(T0 + 10.0);
    s
}

/// Calls the API as `root@pam` through the dispatcher.
pub(crate) fn call(
    sim: &mut Sim,
    method: Method,
    path: &str,
    params: &[(&str, &str)],
) -> Result<Value, ApiError> {
    call_as(sim, &Identity::root(), method, path, params)
}

/// Calls the API as `identity` through the dispatcher.
pub(crate) fn call_as(
    sim: &mut Sim,
    identity: &Identity,
    method: Method,
    path: &str,
    params: &[(&str, &str)],
) -> Result<Value, ApiError> {
    let now = sim.now;
    sim.settle(now);
    crate::dispatch::dispatch(sim, method, path, params, identity)
}

/// `GET` as `root@pam`, unwrapped.
#[track_caller]
pub(crate) fn get(sim: &mut Sim, path: &str, params: &[(&str, &str)]) -> Value {
    match call(sim, Method::Get, path, params) {
        Ok(v) => v,
        Err(e) => panic!("GET {path}: {e:?}"),
    }
}

/// An identity with the given role (a token when `userid` holds `!`).
pub(crate) fn who(userid: &str, role: Role) -> Identity {
    Identity {
        userid: userid.into(),
        role,
    }
}

/// Moves simulated time forward by `secs` and settles due tasks.
pub(crate) fn advance(sim: &mut Sim, secs: f64) {
    let t = sim.now + secs;
    sim.settle(t);
}

/// The exit status of a task (`None` while running).
pub(crate) fn exitstatus(sim: &Sim, upid: &Value) -> Option<String> {
    let upid = upid.as_str().expect("a UPID string");
    sim.tasks
        .by_upid
        .get(upid)
        .expect("known task")
        .exitstatus
        .clone()
}

/// Lets an hour pass and returns the task's exit status.
pub(crate) fn finish(sim: &mut Sim, upid: &Value) -> String {
    advance(sim, 3_600.0);
    exitstatus(sim, upid).expect("task ended")
}

/// The task's log lines.
pub(crate) fn log(sim: &Sim, upid: &Value) -> Vec<String> {
    sim.tasks.by_upid[upid.as_str().expect("a UPID string")]
        .log
        .clone()
}

/// Asserts a call failed with `status` and a message containing `msg` (or, for 400, an
/// `errors` entry for `msg`'s parameter: `"param: text"`).
#[track_caller]
pub(crate) fn assert_err(r: Result<Value, ApiError>, status: u16, msg: &str) {
    let e = r.expect_err("call should fail");
    assert_eq!(e.status, status, "{e:?}");
    if status == 400 {
        let (param, text) = msg.split_once(": ").unwrap_or((msg, ""));
        let errors = e.errors.clone().unwrap_or_default();
        let got = errors
            .get(param)
            .unwrap_or_else(|| panic!("no error for {param}: {e:?}"));
        assert!(got.contains(text), "{param}: {got:?} lacks {text:?}");
    } else {
        assert!(e.message.contains(msg), "{:?} lacks {msg:?}", e.message);
    }
}

/// The guest `vmid` in the simulator.
pub(crate) fn g(sim: &Sim, vmid: u32) -> &Guest {
    &sim.cluster.guests[&vmid]
}

/// The backups of a guest on a storage, oldest first.
pub(crate) fn backups_of(cluster: &Cluster, storage: &str, vmid: u32) -> Vec<Volume> {
    let mut v: Vec<Volume> = cluster
        .volumes
        .iter()
        .filter(|v| v.storage == storage && v.content == "backup" && v.vmid == Some(vmid))
        .cloned()
        .collect();
    v.sort_by_key(|v| v.ctime);
    v
}

/// Call parameters in test tables.
pub(crate) type Params<'a> = Vec<(&'a str, &'a str)>;
