//! GET /access/permissions: the effective privileges of the caller (or of another user or token
//! with `Sys.Audit` on `/access`), as PVE's map of ACL path to `{privilege: propagate}`.
//!
//! The paths listed are those where the identity's role grants something: `/` for cluster-wide
//! roles, `/vms/<vmid>` for VM-scoped ones, `/pool/<pool>` for pool audit; with `path`, only that
//! path. The privileges are the PVE 9 names, decided by [`crate::auth::allowed`].

use serde_json::{Map, Value, json};

use super::roles::PRIVILEGES;
use crate::Sim;
use crate::auth::allowed;
use crate::route::{ApiError, Call, Identity, Method, Perm, Role, Route};

/// The routes of this module.
pub(super) fn routes() -> Vec<Route> {
    vec![Route::new(
        Method::Get,
        "/access/permissions",
        Perm::All,
        permissions,
    )]
}

fn permissions(sim: &mut Sim, call: &Call) -> Result<Value, ApiError> {
    let who = match call.str("userid") {
        None => call.identity.clone(),
        Some(id) if id == call.identity.userid => call.identity.clone(),
        Some(id) => other_identity(sim, call, id)?,
    };
    let paths = match call.str("path") {
        Some(path) => vec![path.to_string()],
        None => candidate_paths(sim, &who.role),
    };
    let mut out = Map::new();
    for path in paths {
        let privs: Map<String, Value> = PRIVILEGES
            .iter()
            .filter(|p| allowed(&who, &path, &[p], &sim.cluster))
            .map(|p| (p.to_string(), json!(1)))
            .collect();
        if !privs.is_empty() || call.str("path").is_some() {
            out.insert(path, Value::Object(privs));
        }
    }
    Ok(Value::Object(out))
}

/// Another user's or token's identity: a user may read their own tokens; anyone else needs
/// `Sys.Audit` on `/access`.
fn other_identity(sim: &Sim, call: &Call, id: &str) -> Result<Identity, ApiError> {
    let own_token = id
        .split_once('!')
        .is_some_and(|(user, _)| user == call.identity.userid);
    if !own_token && !allowed(&call.identity, "/access", &["Sys.Audit"], &sim.cluster) {
        return Err(ApiError::forbidden("/access", "Sys.Audit"));
    }
    let role = if id.contains('!') {
        sim.auth.tokens.get(id).map(|t| t.role.clone())
    } else {
        sim.auth.users.get(id).map(|u| u.role.clone())
    };
    let role = role.ok_or_else(|| ApiError::param("userid", format!("no such user ('{id}')")))?;
    Ok(Identity {
        userid: id.to_string(),
        role,
    })
}

/// The ACL paths where `role` may grant something.
fn candidate_paths(sim: &Sim, role: &Role) -> Vec<String> {
    match role {
        Role::Admin | Role::Auditor => vec!["/".to_string()],
        Role::None => Vec::new(),
        Role::Vms(list) => std::iter::once("/".to_string())
            .chain(list.iter().map(|v| format!("/vms/{v}")))
            .collect(),
        Role::Pool(pool) => std::iter::once("/".to_string())
            .chain(std::iter::once(format!("/pool/{pool}")))
            .chain(
                sim.cluster
                    .guests
                    .values()
                    .filter(|g| g.pool.as_deref() == Some(pool.as_str()))
                    .map(|g| format!("/vms/{}", g.vmid)),
            )
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::state::Cluster;

    fn call(identity: Identity, params: &[(&str, &str)]) -> Call {
        Call {
            method: Method::Get,
            path: "/access/permissions".into(),
            params: params
                .iter()
                .map(|(k, v)| (k.to_string(), json!(v)))
                .collect(),
            identity,
        }
    }

    fn who(role: Role) -> Identity {
        Identity {
            userid: "mcp@pve!t".into(),
            role,
        }
    }

    #[test]
    fn roles_map_to_paths_and_privileges() {
        let mut sim = Sim::new(Cluster::default());
        let admin = permissions(&mut sim, &call(who(Role::Admin), &[])).unwrap();
        assert_eq!(admin["/"].as_object().unwrap().len(), PRIVILEGES.len());
        let auditor = permissions(&mut sim, &call(who(Role::Auditor), &[])).unwrap();
        let privs: Vec<&String> = auditor["/"].as_object().unwrap().keys().collect();
        assert!(privs.iter().all(|p| p.ends_with(".Audit")), "{privs:?}");
        assert!(privs.iter().any(|p| *p == "VM.Audit"));
        let vms = permissions(&mut sim, &call(who(Role::Vms(vec![100])), &[])).unwrap();
        assert!(vms["/"].get("VM.PowerMgmt").is_none());
        assert_eq!(vms["/"]["Sys.Audit"], 1);
        assert_eq!(vms["/vms/100"]["VM.PowerMgmt"], 1);
        let none = permissions(&mut sim, &call(who(Role::None), &[])).unwrap();
        assert_eq!(none, json!({}));
        let one = permissions(
            &mut sim,
            &call(who(Role::Vms(vec![100])), &[("path", "/vms/101")]),
        )
        .unwrap();
        assert_eq!(
            one,
            json!({"/vms/101": {"Sys.Audit": 1, "Datastore.Audit": 1, "Datastore.AllocateSpace": 1}})
        );
    }

    #[test]
    fn other_identities_need_sys_audit_on_access() {
        let mut sim = Sim::new(Cluster::default());
        sim.auth.add_token("mcp@pve!ro", "s", Role::Auditor);
        let e = permissions(
            &mut sim,
            &call(who(Role::None), &[("userid", "mcp@pve!ro")]),
        )
        .unwrap_err();
        assert_eq!(e.status, 403);
        let root = call(Identity::root(), &[("userid", "mcp@pve!ro")]);
        let got = permissions(&mut sim, &root).unwrap();
        assert!(got["/"].get("VM.PowerMgmt").is_none() && got["/"]["VM.Audit"] == 1);
        let e = permissions(
            &mut sim,
            &call(Identity::root(), &[("userid", "nobody@pve")]),
        )
        .unwrap_err();
        assert_eq!(e.status, 400);
    }
}
