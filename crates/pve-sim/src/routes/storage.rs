//! Storage: cluster-level definitions, node-level status and content.

use crate::route::Route;

/// The routes of this module.
pub fn routes() -> Vec<Route> {
    Vec::new()
}
