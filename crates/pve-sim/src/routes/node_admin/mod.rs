//! Node administration: system services, package updates, the appliance index.

mod appliances;
mod apt;
mod services;

use crate::route::{Method, Perm, Route};

/// The routes of this module.
pub(super) fn routes() -> Vec<Route> {
    use Method::{Get, Post};
    let r = Route::new;
    let audit = Perm::Node(&["Sys.Audit"]);
    let modify = Perm::Node(&["Sys.Modify"]);
    let svc = |verb: &'static str| r(Post, verb, Perm::Node(&["Sys.Modify"]), services::action);
    vec![
        r(Get, "/nodes/{node}/services", audit, services::list),
        r(
            Get,
            "/nodes/{node}/services/{service}",
            audit,
            services::index,
        ),
        r(
            Get,
            "/nodes/{node}/services/{service}/state",
            audit,
            services::state,
        ),
        svc("/nodes/{node}/services/{service}/start"),
        svc("/nodes/{node}/services/{service}/stop"),
        svc("/nodes/{node}/services/{service}/restart"),
        svc("/nodes/{node}/services/{service}/reload"),
        r(Get, "/nodes/{node}/apt/update", modify, apt::updates),
        r(Post, "/nodes/{node}/apt/update", modify, apt::refresh),
        r(Get, "/nodes/{node}/apt/versions", audit, apt::versions),
        r(Get, "/nodes/{node}/aplinfo", Perm::All, appliances::index),
        r(
            Post,
            "/nodes/{node}/aplinfo",
            Perm::Storage(&["Datastore.AllocateTemplate"]),
            appliances::download,
        ),
    ]
}
