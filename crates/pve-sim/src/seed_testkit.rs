//! Test helpers for the node, storage, LXC, migration and resource routes: the demo cluster at a
//! fixed epoch, calls through the real dispatcher, and simulated time.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use serde_json::Value;

use crate::Sim;
use crate::route::{ApiError, Identity, Method, Role};
use crate::state::{Cluster, Guest};

/// The simulated time the demo is built around in tests.
pub const T0: f64 = 1_790_000_000.0;

/// A simulator over the demo cluster at [`T0`] (+10 s), realistic task durations.
pub fn demo_sim() -> Sim {
    sim_over(super::demo_at(T0))
}

/// A simulator over any cluster, settled at [`T0`] (+10 s).
pub fn sim_over(cluster: Cluster) -> Sim {
    let mut s = Sim::new(cluster);
    s.time_scale = 1.0;
    s.settle(T0 + 10.0);
    s
}

/// Calls the API as `root@pam`.
pub fn req(
    sim: &mut Sim,
    method: Method,
    path: &str,
    params: &[(&str, &str)],
) -> Result<Value, ApiError> {
    req_as(sim, &Identity::root(), method, path, params)
}

/// `GET` as `root@pam`, unwrapped.
#[track_caller]
pub fn get(sim: &mut Sim, path: &str, params: &[(&str, &str)]) -> Value {
    match req(sim, Method::Get, path, params) {
        Ok(v) => v,
        Err(e) => panic!("GET {path}: {e:?}"),
    }
}

/// Calls the API as `identity`.
pub fn req_as(
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

/// An identity with a role.
pub fn who(userid: &str, role: Role) -> Identity {
    Identity {
        userid: userid.into(),
        role,
    }
}

/// Moves simulated time forward and settles due tasks.
pub fn advance(sim: &mut Sim, secs: f64) {
    let t = sim.now + secs;
    sim.settle(t);
}

/// The exit status of a task, `None` while it runs.
pub fn exitstatus(sim: &Sim, upid: &Value) -> Option<String> {
    sim.tasks.by_upid[upid.as_str().expect("a UPID")]
        .exitstatus
        .clone()
}

/// Lets an hour pass; returns the task's exit status.
pub fn finish(sim: &mut Sim, upid: &Value) -> String {
    advance(sim, 3_600.0);
    exitstatus(sim, upid).expect("task ended")
}

/// The guest `vmid`.
pub fn g(sim: &Sim, vmid: u32) -> &Guest {
    &sim.cluster.guests[&vmid]
}

/// Asserts a failure: the status and a part of the message (for 400: `"param: part"` of the
/// `errors` map).
#[track_caller]
pub fn assert_err(r: Result<Value, ApiError>, status: u16, msg: &str) {
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
