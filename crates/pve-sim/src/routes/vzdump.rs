//! POST /nodes/{node}/vzdump: backups as tasks that lock the guest and add archives to storage.

use crate::route::Route;

/// The routes of this module.
pub fn routes() -> Vec<Route> {
    Vec::new()
}
