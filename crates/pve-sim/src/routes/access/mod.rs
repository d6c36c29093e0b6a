//! The `/access` routes: tickets, the caller's permissions, and the directory (users, groups,
//! realms, roles, ACL).

mod directory;
mod permissions;
mod roles;
mod ticket;

use crate::route::Route;

/// The routes of this module.
pub(super) fn routes() -> Vec<Route> {
    [ticket::routes(), permissions::routes(), directory::routes()].concat()
}
