//! The access directory, read-only: users (`GET /access/users`, `.../{userid}`, its API tokens),
//! groups, realms (`/access/domains`), roles and the ACL. Users are those of the cluster's
//! directory plus those with credentials (`root@pam`); tokens are the simulator's API tokens;
//! the ACL is the directory's entries plus one per token for the role it holds.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value, json};

use super::roles::{self, ROLES};
use crate::Sim;
use crate::auth;
use crate::route::{ApiError, Call, Identity, Method, Perm, Role, Route};
use crate::state::{Acl, DirUser};

/// The routes of this module.
pub(super) fn routes() -> Vec<Route> {
    use Method::Get;
    let r = Route::new;
    let user_audit = Perm::Path("/access/users/{userid}", &["User.Modify", "Sys.Audit"]);
    vec![
        r(Get, "/access/users", Perm::All, users),
        r(Get, "/access/users/{userid}", user_audit, user),
        r(Get, "/access/users/{userid}/token", Perm::All, tokens),
        r(Get, "/access/groups", Perm::All, groups),
        r(
            Get,
            "/access/groups/{groupid}",
            Perm::Path("/access/groups", &["Sys.Audit", "Group.Allocate"]),
            group,
        ),
        r(Get, "/access/domains", Perm::World, domains),
        r(
            Get,
            "/access/domains/{realm}",
            Perm::Path("/access/realm", &["Realm.Allocate", "Sys.Audit"]),
            domain,
        ),
        r(Get, "/access/roles", Perm::All, roles_list),
        r(Get, "/access/roles/{roleid}", Perm::All, role),
        r(Get, "/access/acl", Perm::All, acl),
    ]
}

/// The realms every cluster has.
const REALMS: &[(&str, &str, &str)] = &[
    ("pam", "pam", "Linux PAM standard authentication"),
    ("pve", "pve", "Proxmox VE authentication server"),
];

/// Every user: the directory's and those holding credentials (with defaults).
fn all_users(sim: &Sim) -> BTreeMap<String, DirUser> {
    let mut out = sim.cluster.access.users.clone();
    for id in sim.auth.users.keys() {
        out.entry(id.clone()).or_insert_with(|| DirUser {
            enable: true,
            ..DirUser::default()
        });
    }
    for id in sim.auth.tokens.keys() {
        if let Some((user, _)) = id.split_once('!') {
            out.entry(user.to_string()).or_insert_with(|| DirUser {
                enable: true,
                ..DirUser::default()
            });
        }
    }
    out
}

/// The API tokens of `userid`: name and entry.
fn tokens_of(sim: &Sim, userid: &str) -> Vec<(String, Value)> {
    sim.auth
        .tokens
        .iter()
        .filter_map(|(id, t)| {
            let (user, name) = id.split_once('!')?;
            (user == userid).then(|| {
                let comment = match t.role {
                    Role::Admin => "administration",
                    Role::Auditor => "read-only access",
                    Role::None => "no privileges",
                    Role::Vms(_) | Role::Pool(_) => "VM administration",
                };
                (
                    name.to_string(),
                    json!({"comment": comment, "expire": 0, "privsep": 1}),
                )
            })
        })
        .collect()
}

fn realm_type(userid: &str) -> &str {
    userid.rsplit_once('@').map_or("pve", |(_, r)| r)
}

fn may_see_user(id: &Identity, userid: &str, sim: &Sim) -> bool {
    id.userid == userid
        || id.userid.split_once('!').is_some_and(|(u, _)| u == userid)
        || auth::allowed(id, "/access", &["Sys.Audit", "User.Modify"], &sim.cluster)
}

fn user_entry(sim: &Sim, userid: &str, u: &DirUser, full: bool) -> Map<String, Value> {
    let mut e = Map::new();
    e.insert("userid".into(), json!(userid));
    e.insert("enable".into(), json!(u8::from(u.enable)));
    e.insert("expire".into(), json!(u.expire));
    e.insert("realm-type".into(), json!(realm_type(userid)));
    for (k, v) in [
        ("firstname", &u.firstname),
        ("lastname", &u.lastname),
        ("email", &u.email),
        ("comment", &u.comment),
    ] {
        if let Some(v) = v {
            e.insert(k.into(), json!(v));
        }
    }
    if full {
        e.insert("groups".into(), json!(u.groups.join(",")));
        let tokens: Vec<Value> = tokens_of(sim, userid)
            .into_iter()
            .map(|(name, mut t)| {
                t["tokenid"] = json!(name);
                t
            })
            .collect();
        e.insert("tokens".into(), Value::Array(tokens));
    }
    e
}

/// `GET /access/users`: the users the caller may see (`enabled` filters, `full` adds groups
/// and tokens).
fn users(sim: &mut Sim, call: &Call) -> Result<Value, ApiError> {
    let full = call.bool("full").unwrap_or(false);
    let enabled = call.bool("enabled");
    let out: Vec<Value> = all_users(sim)
        .iter()
        .filter(|(id, _)| may_see_user(&call.identity, id, sim))
        .filter(|(_, u)| enabled.is_none_or(|e| e == u.enable))
        .map(|(id, u)| Value::Object(user_entry(sim, id, u, full)))
        .collect();
    Ok(Value::Array(out))
}

/// `GET /access/users/{userid}`.
fn user(sim: &mut Sim, call: &Call) -> Result<Value, ApiError> {
    let userid = call.req_str("userid")?;
    let users = all_users(sim);
    let u = users
        .get(userid)
        .ok_or_else(|| ApiError::internal(format!("no such user ('{userid}')")))?;
    let mut e = user_entry(sim, userid, u, false);
    e.remove("userid");
    e.remove("realm-type");
    e.insert("groups".into(), json!(u.groups));
    let tokens: Map<String, Value> = tokens_of(sim, userid).into_iter().collect();
    e.insert("tokens".into(), Value::Object(tokens));
    Ok(Value::Object(e))
}

/// `GET /access/users/{userid}/token`.
fn tokens(sim: &mut Sim, call: &Call) -> Result<Value, ApiError> {
    let userid = call.req_str("userid")?;
    if !may_see_user(&call.identity, userid, sim) {
        return Err(ApiError::forbidden(
            &format!("/access/users/{userid}"),
            "User.Modify",
        ));
    }
    if !all_users(sim).contains_key(userid) {
        return Err(ApiError::internal(format!("no such user ('{userid}')")));
    }
    let out: Vec<Value> = tokens_of(sim, userid)
        .into_iter()
        .map(|(name, mut t)| {
            t["tokenid"] = json!(name);
            t
        })
        .collect();
    Ok(Value::Array(out))
}

fn members_of(sim: &Sim, group: &str) -> Vec<String> {
    all_users(sim)
        .into_iter()
        .filter(|(_, u)| u.groups.iter().any(|g| g == group))
        .map(|(id, _)| id)
        .collect()
}

/// `GET /access/groups`.
fn groups(sim: &mut Sim, call: &Call) -> Result<Value, ApiError> {
    let audit = auth::allowed(
        &call.identity,
        "/access/groups",
        &["Sys.Audit", "Group.Allocate"],
        &sim.cluster,
    );
    let out: Vec<Value> = sim
        .cluster
        .access
        .groups
        .iter()
        .filter(|_| audit)
        .map(|(id, comment)| {
            let mut e = Map::new();
            e.insert("groupid".into(), json!(id));
            if !comment.is_empty() {
                e.insert("comment".into(), json!(comment));
            }
            e.insert("users".into(), json!(members_of(sim, id).join(",")));
            Value::Object(e)
        })
        .collect();
    Ok(Value::Array(out))
}

/// `GET /access/groups/{groupid}`.
fn group(sim: &mut Sim, call: &Call) -> Result<Value, ApiError> {
    let id = call.req_str("groupid")?;
    let comment = sim
        .cluster
        .access
        .groups
        .get(id)
        .ok_or_else(|| ApiError::internal(format!("group '{id}' does not exist")))?;
    let mut e = Map::new();
    if !comment.is_empty() {
        e.insert("comment".into(), json!(comment));
    }
    e.insert("members".into(), json!(members_of(sim, id)));
    Ok(Value::Object(e))
}

/// `GET /access/domains`.
fn domains(_: &mut Sim, _: &Call) -> Result<Value, ApiError> {
    Ok(Value::Array(
        REALMS
            .iter()
            .map(|(realm, ty, comment)| json!({"realm": realm, "type": ty, "comment": comment}))
            .collect(),
    ))
}

/// `GET /access/domains/{realm}`.
fn domain(_: &mut Sim, call: &Call) -> Result<Value, ApiError> {
    let realm = call.req_str("realm")?;
    let (_, ty, comment) = REALMS
        .iter()
        .find(|(r, _, _)| *r == realm)
        .ok_or_else(|| ApiError::internal(format!("domain '{realm}' does not exist")))?;
    Ok(json!({"type": ty, "comment": comment, "digest": crate::routes::digest(realm)}))
}

/// `GET /access/roles`.
fn roles_list(_: &mut Sim, _: &Call) -> Result<Value, ApiError> {
    Ok(Value::Array(
        ROLES
            .iter()
            .map(|r| {
                json!({
                    "roleid": r.id,
                    "privs": roles::privileges(r).join(","),
                    "special": u8::from(r.special),
                })
            })
            .collect(),
    ))
}

/// `GET /access/roles/{roleid}`: `{privilege: 1}` for each privilege of the role.
fn role(_: &mut Sim, call: &Call) -> Result<Value, ApiError> {
    let id = call.req_str("roleid")?;
    let r = ROLES
        .iter()
        .find(|r| r.id == id)
        .ok_or_else(|| ApiError::internal(format!("role '{id}' does not exist")))?;
    Ok(Value::Object(
        roles::privileges(r)
            .into_iter()
            .map(|p| (p.to_string(), json!(1)))
            .collect(),
    ))
}

/// The ACL: the directory's entries, then one per API token for its role.
pub(crate) fn acl_entries(sim: &Sim) -> Vec<Acl> {
    let mut out = sim.cluster.access.acl.clone();
    let entry = |path: &str, ugid: &str, roleid: &str| Acl {
        path: path.into(),
        kind: "token".into(),
        ugid: ugid.into(),
        roleid: roleid.into(),
        propagate: true,
    };
    for (id, t) in &sim.auth.tokens {
        match &t.role {
            Role::Admin => out.push(entry("/", id, "Administrator")),
            Role::Auditor => out.push(entry("/", id, "PVEAuditor")),
            Role::Vms(list) => {
                out.push(entry("/", id, "PVEAuditor"));
                let vmids: BTreeSet<u32> = list.iter().copied().collect();
                for v in vmids {
                    out.push(entry(&format!("/vms/{v}"), id, "PVEVMAdmin"));
                }
            }
            Role::Pool(p) => {
                out.push(entry("/", id, "PVEAuditor"));
                out.push(entry(&format!("/pool/{p}"), id, "PVEVMAdmin"));
            }
            Role::None => {}
        }
    }
    out
}

/// `GET /access/acl`: the entries on paths where the caller may audit or change permissions.
fn acl(sim: &mut Sim, call: &Call) -> Result<Value, ApiError> {
    let privs = &["Sys.Audit", "Permissions.Modify"];
    Ok(Value::Array(
        acl_entries(sim)
            .into_iter()
            .filter(|a| auth::allowed(&call.identity, &a.path, privs, &sim.cluster))
            .map(|a| {
                json!({
                    "path": a.path,
                    "type": a.kind,
                    "ugid": a.ugid,
                    "roleid": a.roleid,
                    "propagate": u8::from(a.propagate),
                })
            })
            .collect(),
    ))
}
