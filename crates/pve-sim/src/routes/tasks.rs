//! Task list, status, log and stop under /nodes/{node}/tasks.

use crate::route::Route;

/// The routes of this module.
pub fn routes() -> Vec<Route> {
    Vec::new()
}
