//! POST /access/ticket: ticket login and renewal (the old ticket posted as password), and the
//! dummy GET PVE answers for its login form.

use serde_json::{Value, json};

use crate::Sim;
use crate::route::{ApiError, Call, Method, Perm, Route};

/// The routes of this module.
pub(super) fn routes() -> Vec<Route> {
    vec![
        Route::new(Method::Post, "/access/ticket", Perm::World, create_ticket).no_token(),
        Route::new(Method::Get, "/access/ticket", Perm::World, |_, _| {
            Ok(Value::Null)
        }),
    ]
}

/// Checks the password (or a still-valid ticket of the same user) and answers a new ticket and
/// CSRF token; with `path` and `privs` it only verifies, as PVE does.
fn create_ticket(sim: &mut Sim, call: &Call) -> Result<Value, ApiError> {
    let mut username = call.req_str("username")?.to_string();
    if let Some(realm) = call.str("realm")
        && !username.contains('@')
    {
        username = format!("{username}@{realm}");
    }
    let password = call.req_str("password")?;
    let (ticket, csrf) = sim.auth.login(&username, password, sim.now)?;
    if call.str("path").is_some() {
        return Ok(json!({ "username": username }));
    }
    let mut out = json!({
        "username": username,
        "ticket": ticket,
        "CSRFPreventionToken": csrf,
        "cap": capabilities(),
    });
    if let Some(name) = &sim.cluster.name {
        out["clustername"] = Value::String(name.clone());
    }
    Ok(out)
}

/// A plausible capability summary (the GUI uses it to hide buttons; clients ignore it).
fn capabilities() -> Value {
    json!({
        "vms": {"VM.Audit": 1, "VM.PowerMgmt": 1, "VM.Config.Options": 1, "VM.Snapshot": 1, "VM.Backup": 1},
        "storage": {"Datastore.Audit": 1, "Datastore.AllocateSpace": 1},
        "nodes": {"Sys.Audit": 1},
        "dc": {"Sys.Audit": 1},
        "access": {},
    })
}
