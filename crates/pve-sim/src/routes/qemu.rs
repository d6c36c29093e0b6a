//! QEMU VMs: list, create, destroy, config, clone, template.

use crate::route::Route;

/// The routes of this module.
pub fn routes() -> Vec<Route> {
    Vec::new()
}
