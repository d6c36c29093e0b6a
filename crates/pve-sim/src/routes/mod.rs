//! The route table: every PVE endpoint the simulator serves, one module per API area.
//! Each module exposes `routes()`; this file only gathers them (no module edits it).

mod access;
mod agent;
mod backup_jobs;
mod cluster;
mod lxc;
mod migrate;
mod network;
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
