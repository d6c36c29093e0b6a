//! Guest power: status/current and start, stop, shutdown, reset, reboot, suspend, resume for QEMU and LXC.

use crate::route::Route;

/// The routes of this module.
pub fn routes() -> Vec<Route> {
    Vec::new()
}
