//! GET /cluster/resources and GET /cluster/nextid.

use crate::route::Route;

/// The routes of this module.
pub fn routes() -> Vec<Route> {
    Vec::new()
}
