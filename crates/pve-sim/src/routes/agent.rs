//! QEMU guest agent endpoints: info, exec, exec-status, network-get-interfaces.

use crate::route::Route;

/// The routes of this module.
pub fn routes() -> Vec<Route> {
    Vec::new()
}
