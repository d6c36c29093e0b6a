//! pve-sim: a Proxmox VE API simulator. A stateful fake cluster served over HTTPS at
//! `/api2/json`, with PVE's semantics (UPIDs and tasks, locks, templates, guest agent, auth and
//! privileges, 400 `errors` maps), seeded with a demo cluster and faults to inject; its nodes
//! also answer SSH (`pct exec` and diagnostic commands, see [`ssh`]).
//!
//! It must know nothing of `pve-client` or `proxmox-mcp`: it is the oracle the client is tested
//! against, so it is written from the PVE API schema and documentation only.
#![deny(unreachable_pub)]

mod agent;
mod auth;
pub mod cli;
mod clock;
pub mod dispatch;
mod facts;
pub mod faults;
mod formats;
#[doc(hidden)]
pub mod fuzzing;
mod guest;
mod journal;
mod json;
mod metrics;
mod params;
pub mod route;
pub mod routes;
pub mod seed;
pub mod server;
pub mod ssh;
pub mod state;
pub mod tasks;
#[cfg(test)]
mod testkit;

pub use auth::{AuthDb, Credentials};
pub use dispatch::dispatch;
pub use faults::{Fault, FaultKind};
pub use params::RawParams;
pub use route::{ApiError, Identity, Method, Role};
pub use server::{RequestRecord, SimConfig, SimError, SimServer, spawn};

use std::collections::BTreeMap;

use serde_json::Value;

use state::{Cluster, Guest, SimTime};
use tasks::{TaskSpec, Tasks};

/// The whole mutable simulator: cluster state, tasks, guest-agent processes, credentials.
/// Always used under one lock; handlers get `&mut Sim`.
#[derive(Debug, Default)]
pub struct Sim {
    pub cluster: Cluster,
    pub tasks: Tasks,
    pub agent: agent::AgentProcs,
    pub auth: auth::AuthDb,
    /// Simulated time of the request being served (set by `settle`).
    pub now: SimTime,
    /// Multiplier on task durations: 1.0 is realistic, 0.0 ends tasks at once.
    pub time_scale: f64,
    /// Extra top-level members of the current response besides `data` (PVE's
    /// `set_result_attrib`, e.g. `total` for task lists). Cleared before each call.
    pub attribs: BTreeMap<String, Value>,
    /// The current answer's `data` as JSON text, when the handler wrote it directly (see
    /// [`Sim::respond_raw`]). Cleared before each call.
    pub raw_data: Option<String>,
    /// Figures derived from guest configs, reused by `/cluster/resources` until a write call
    /// may have changed them (see [`facts::FactsCache`]).
    pub facts: facts::FactsCache,
}

/// The root password `Sim::new` accepts unless told otherwise: a demo default.
pub const DEFAULT_ROOT_PASSWORD: &str = "demo";

impl Sim {
    /// A simulator over `cluster` with the demo credentials: `root@pam` / [`DEFAULT_ROOT_PASSWORD`].
    pub fn new(cluster: Cluster) -> Self {
        let mut sim = Self {
            cluster,
            time_scale: 1.0,
            ..Self::default()
        };
        sim.auth
            .add_user("root@pam", DEFAULT_ROOT_PASSWORD, Role::Admin);
        sim
    }

    /// Brings the simulator up to `now`: finishes due tasks. Called before every request.
    pub fn settle(&mut self, now: SimTime) {
        self.now = now;
        self.tasks.settle(&mut self.cluster, now);
    }

    /// Fast path for large answers: the handler writes its `data` value as JSON text (see
    /// [`json::ObjWriter`]), passes it here and returns `Ok(Value::Null)`. The server sends
    /// the text as is; [`dispatch()`] parses it back, so handler tests see the same value.
    pub fn respond_raw(&mut self, json: String) {
        self.raw_data = Some(json);
    }

    /// Starts a task at the current simulated time; returns its UPID.
    pub fn spawn_task(&mut self, spec: TaskSpec) -> String {
        self.tasks.spawn(spec, self.now, self.time_scale)
    }

    /// Starts a task that also changes the cluster while it runs (see [`tasks::Step`]).
    pub(crate) fn spawn_task_with_steps(
        &mut self,
        spec: TaskSpec,
        steps: Vec<tasks::Step>,
    ) -> String {
        self.tasks
            .spawn_with_steps(spec, steps, self.now, self.time_scale)
    }

    /// The guest with this VMID on this node, failing as PVE fails for an unknown VMID:
    /// `Configuration file 'nodes/NODE/qemu-server/VMID.conf' does not exist`.
    pub fn guest_on(
        &self,
        node: &str,
        vmid: u32,
        kind: state::GuestKind,
    ) -> Result<&Guest, ApiError> {
        match self.cluster.guests.get(&vmid) {
            Some(g) if g.node == node && g.kind == kind => Ok(g),
            _ => Err(ApiError::internal(missing_config_message(node, vmid, kind))),
        }
    }

    /// Mutable variant of [`Sim::guest_on`].
    pub fn guest_on_mut(
        &mut self,
        node: &str,
        vmid: u32,
        kind: state::GuestKind,
    ) -> Result<&mut Guest, ApiError> {
        match self.cluster.guests.get_mut(&vmid) {
            Some(g) if g.node == node && g.kind == kind => Ok(g),
            _ => Err(ApiError::internal(missing_config_message(node, vmid, kind))),
        }
    }
}

/// PVE's message for a guest config that does not exist on that node.
pub fn missing_config_message(node: &str, vmid: u32, kind: state::GuestKind) -> String {
    let dir = match kind {
        state::GuestKind::Qemu => "qemu-server",
        state::GuestKind::Lxc => "lxc",
    };
    format!("Configuration file 'nodes/{node}/{dir}/{vmid}.conf' does not exist")
}
