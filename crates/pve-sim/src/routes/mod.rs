//! The route table: every PVE endpoint the simulator serves, one module per API area.
//! Each module exposes `routes()`; this file only gathers them (no module edits it).

mod access;
mod agent;
mod backup_jobs;
mod cluster;
mod firewall;
mod ha;
mod lxc;
mod migrate;
mod monitor;
mod network;
mod node_admin;
mod nodes;
mod pools;
pub(crate) mod power;
pub(crate) mod qemu;
pub(crate) mod resources;
mod restore;
mod snapshot;
pub(crate) mod storage;
mod tasks;
mod version;
pub(crate) mod vzdump;

use std::sync::OnceLock;

use crate::route::Route;

/// The node a `/nodes/{node}/...` call names (the dispatcher has checked it exists).
pub(crate) fn node_of<'a>(
    sim: &'a crate::Sim,
    call: &crate::route::Call,
) -> Result<&'a crate::state::Node, crate::route::ApiError> {
    let name = call.node()?;
    sim.cluster
        .nodes
        .get(name)
        .ok_or_else(|| crate::dispatch::unknown_node(name))
}

/// The `digest` PVE returns with a section-config object: SHA-1 hex of its text.
pub(crate) fn digest(text: &str) -> String {
    use sha1::{Digest, Sha1};
    hex::encode(Sha1::digest(text.as_bytes()))
}

/// All routes the simulator serves, with their declared parameters; built once.
pub fn all() -> &'static [Route] {
    static TABLE: OnceLock<Vec<Route>> = OnceLock::new();
    TABLE.get_or_init(build)
}

fn build() -> Vec<Route> {
    let mut routes = [
        access::routes(),
        pools::routes(),
        backup_jobs::routes(),
        network::routes(),
        monitor::routes(),
        node_admin::routes(),
        ha::routes(),
        firewall::routes(),
        version::routes(),
        cluster::routes(),
        resources::routes(),
        nodes::routes(),
        tasks::routes(),
        qemu::routes(),
        qemu::resize::routes(),
        power::routes(),
        agent::routes(),
        snapshot::routes(),
        vzdump::routes(),
        lxc::routes(),
        migrate::routes(),
        storage::routes(),
    ]
    .concat();
    // Restores share the create endpoints: the restore module wraps those two routes.
    restore::wrap(&mut routes);
    for r in &mut routes {
        r.params = crate::params::decl::params_for(r.method, r.path);
    }
    routes
}
