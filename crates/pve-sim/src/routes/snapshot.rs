//! Snapshots of QEMU and LXC guests: list, create, rollback, delete, config.

use crate::route::Route;

/// The routes of this module.
pub fn routes() -> Vec<Route> {
    Vec::new()
}
