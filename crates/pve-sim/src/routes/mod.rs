//! The route table: every PVE endpoint the simulator serves, one module per API area.

use crate::route::Route;

/// All routes the simulator serves.
pub fn all() -> Vec<Route> {
    Vec::new()
}
