//! The route table: every PVE endpoint the simulator serves, one module per API area.
//! Each module exposes `routes()`; this file only gathers them (no module edits it).

pub mod access;
pub mod agent;
pub mod cluster;
pub mod lxc;
pub mod migrate;
pub mod nodes;
pub mod permissions;
pub mod qemu;
pub mod qemu_resize;
pub mod resources;
pub mod restore;
pub mod snapshot;
pub mod status;
pub mod storage;
pub mod tasks;
pub mod version;
pub mod vzdump;

use crate::route::Route;

/// All routes the simulator serves.
pub fn all() -> Vec<Route> {
    let mut routes = [
        access::routes(),
        permissions::routes(),
        version::routes(),
        cluster::routes(),
        resources::routes(),
        nodes::routes(),
        tasks::routes(),
        qemu::routes(),
        qemu_resize::routes(),
        status::routes(),
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
    routes
}
