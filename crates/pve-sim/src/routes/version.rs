//! GET /version: the pve-manager version, as `{version, release, repoid}`.

use serde_json::{Value, json};

use crate::Sim;
use crate::route::{ApiError, Call, Method, Perm, Route};

/// The routes of this module.
pub(super) fn routes() -> Vec<Route> {
    vec![Route::new(Method::Get, "/version", Perm::All, version)]
}

/// `pve-manager/9.1.2/b9b5ba39e94f2e7c` gives version `9.1.2`, release `9.1`, repoid `b9b5ba39`.
fn version(_sim: &mut Sim, _call: &Call) -> Result<Value, ApiError> {
    let mut parts = crate::seed::PVE_VERSION.split('/').skip(1);
    let version = parts.next().unwrap_or("9.1.2");
    let hash = parts.next().unwrap_or("b9b5ba39e94f2e7c");
    let release: Vec<&str> = version.split('.').take(2).collect();
    Ok(json!({
        "version": version,
        "release": release.join("."),
        "repoid": &hash[..hash.len().min(8)],
    }))
}
