//! Monitoring reads: RRD history (`rrd.rs`) and logs (`logs.rs`).

mod logs;
mod rrd;

use crate::route::{Method, Perm, Route};

/// The routes of this module.
pub(super) fn routes() -> Vec<Route> {
    use Method::Get;
    let r = Route::new;
    vec![
        r(
            Get,
            "/nodes/{node}/rrddata",
            Perm::Node(&["Sys.Audit"]),
            rrd::node,
        ),
        r(
            Get,
            "/nodes/{node}/qemu/{vmid}/rrddata",
            Perm::Vm(&["VM.Audit"]),
            rrd::guest,
        ),
        r(
            Get,
            "/nodes/{node}/lxc/{vmid}/rrddata",
            Perm::Vm(&["VM.Audit"]),
            rrd::guest,
        ),
        r(
            Get,
            "/nodes/{node}/storage/{storage}/rrddata",
            Perm::Storage(&["Datastore.Audit", "Datastore.AllocateSpace"]),
            rrd::storage,
        ),
        r(
            Get,
            "/nodes/{node}/syslog",
            Perm::Node(&["Sys.Syslog"]),
            logs::syslog,
        ),
        r(
            Get,
            "/nodes/{node}/journal",
            Perm::Node(&["Sys.Syslog"]),
            logs::journal,
        ),
        r(Get, "/cluster/log", Perm::All, logs::cluster_log),
    ]
}
