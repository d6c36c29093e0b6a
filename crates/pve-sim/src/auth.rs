//! Authentication and privileges: ticket login with CSRF tokens, API tokens, and the roles
//! that decide between 200 and 403.
//!
//! Tickets look like PVE's (`PVE:<user>:<HEXTIME>::<base64 signature>`); the signature is an
//! HMAC-SHA256 under a key drawn at start, so tickets die with the process. They last 2 hours of
//! simulated time. Secrets are never logged.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use sha2::{Digest, Sha256};

use crate::route::{ApiError, Identity, Method, Role};
use crate::state::{Cluster, SimTime};

/// Ticket lifetime in seconds, as PVE's.
pub(crate) const TICKET_LIFETIME: i64 = 7200;

/// A user with a password (`root@pam`).
#[derive(Debug, Clone)]
pub struct User {
    pub password: String,
    pub role: Role,
}

/// An API token (`root@pam!ci`) with its secret.
#[derive(Debug, Clone)]
pub struct Token {
    pub secret: String,
    pub role: Role,
}

/// Users, passwords, API tokens and the ticket signing key.
#[derive(Debug)]
pub struct AuthDb {
    /// By userid (`root@pam`).
    pub users: BTreeMap<String, User>,
    /// By full token id (`root@pam!ci`).
    pub tokens: BTreeMap<String, Token>,
    key: [u8; 32],
}

impl Default for AuthDb {
    fn default() -> Self {
        Self {
            users: BTreeMap::new(),
            tokens: BTreeMap::new(),
            key: rand::random(),
        }
    }
}

/// The credentials a request carried (already extracted from headers).
#[derive(Debug, Clone, Default)]
pub struct Credentials {
    /// `PVEAuthCookie` value.
    pub ticket: Option<String>,
    /// `CSRFPreventionToken` header.
    pub csrf: Option<String>,
    /// `Authorization` header.
    pub authorization: Option<String>,
}

impl AuthDb {
    pub fn add_user(&mut self, userid: &str, password: &str, role: Role) {
        self.users.insert(
            userid.to_string(),
            User {
                password: password.to_string(),
                role,
            },
        );
    }

    /// Adds a token by full id (`user@realm!name`).
    pub fn add_token(&mut self, tokenid: &str, secret: &str, role: Role) {
        self.tokens.insert(
            tokenid.to_string(),
            Token {
                secret: secret.to_string(),
                role,
            },
        );
    }

    /// Adds a token given as `USER@REALM!TOKENID=SECRET` (the `--api-token` form).
    pub fn add_token_spec(&mut self, spec: &str, role: Role) -> Result<String, String> {
        let (id, secret) = parse_token_spec(spec)?;
        self.add_token(&id, &secret, role);
        Ok(id)
    }

    /// Checks a username and password (or a valid ticket of that user as password).
    /// Returns the new ticket and CSRF token.
    pub fn login(
        &self,
        username: &str,
        password: &str,
        now: SimTime,
    ) -> Result<(String, String), ApiError> {
        let user_ok = self
            .users
            .get(username)
            .is_some_and(|u| ct_eq(&u.password, password));
        let renewal = password.starts_with("PVE:")
            && self
                .verify_ticket(password, now)
                .is_ok_and(|u| u == username);
        if !(user_ok || renewal) {
            return Err(ApiError::unauthorized("authentication failure"));
        }
        Ok((
            self.issue_ticket(username, now),
            self.csrf_token(username, now),
        ))
    }

    /// A fresh ticket for `userid` at `now`.
    pub fn issue_ticket(&self, userid: &str, now: SimTime) -> String {
        let plain = format!("PVE:{userid}:{:08X}", now as i64);
        let sig = STANDARD.encode(hmac_sha256(&self.key, plain.as_bytes()));
        format!("{plain}::{sig}")
    }

    /// The CSRF token that goes with tickets of `userid`: `HEXTIME:signature`.
    pub fn csrf_token(&self, userid: &str, now: SimTime) -> String {
        let stamp = format!("{:08X}", now as i64);
        let sig = STANDARD_NO_PAD.encode(hmac_sha256(
            &self.key,
            format!("{stamp}:{userid}").as_bytes(),
        ));
        format!("{stamp}:{sig}")
    }

    /// Verifies a ticket's signature and age; returns its userid.
    pub fn verify_ticket(&self, ticket: &str, now: SimTime) -> Result<String, ApiError> {
        let invalid = || ApiError::unauthorized("permission denied - invalid PVE ticket");
        let (plain, sig) = ticket.split_once("::").ok_or_else(invalid)?;
        let expected = STANDARD.encode(hmac_sha256(&self.key, plain.as_bytes()));
        if !ct_eq(&expected, sig) {
            return Err(invalid());
        }
        let rest = plain.strip_prefix("PVE:").ok_or_else(invalid)?;
        let (user, hex) = rest.rsplit_once(':').ok_or_else(invalid)?;
        let issued = i64::from_str_radix(hex, 16).map_err(|_| invalid())?;
        let age = now as i64 - issued;
        if !(-300..TICKET_LIFETIME).contains(&age) || !self.users.contains_key(user) {
            return Err(invalid());
        }
        Ok(user.to_string())
    }

    fn verify_csrf(&self, userid: &str, token: &str, now: SimTime) -> bool {
        let Some((stamp, _)) = token.split_once(':') else {
            return false;
        };
        let Ok(issued) = i64::from_str_radix(stamp, 16) else {
            return false;
        };
        let sig = STANDARD_NO_PAD.encode(hmac_sha256(
            &self.key,
            format!("{stamp}:{userid}").as_bytes(),
        ));
        let age = now as i64 - issued;
        ct_eq(&format!("{stamp}:{sig}"), token) && (-300..TICKET_LIFETIME).contains(&age)
    }

    /// Resolves a request's credentials to an identity, with PVE's 401 wording:
    /// token first (`Authorization: PVEAPIToken=...`), then the ticket cookie (with the CSRF
    /// header on writes), else `No ticket`.
    pub fn authenticate(
        &self,
        creds: &Credentials,
        method: Method,
        now: SimTime,
    ) -> Result<Identity, ApiError> {
        if let Some(header) = creds.authorization.as_deref() {
            let Some(spec) = header.trim().strip_prefix("PVEAPIToken=") else {
                return Err(ApiError::unauthorized("invalid authorization header"));
            };
            let (id, secret) = parse_token_spec(spec).map_err(ApiError::unauthorized)?;
            return match self.tokens.get(&id) {
                Some(t) if ct_eq(&t.secret, &secret) => Ok(Identity {
                    userid: id,
                    role: t.role.clone(),
                }),
                Some(_) => Err(ApiError::unauthorized("invalid token value!")),
                None => Err(ApiError::unauthorized(format!(
                    "no such token '{}' for user '{}'",
                    token_name(&id),
                    token_user(&id)
                ))),
            };
        }
        let Some(ticket) = creds.ticket.as_deref() else {
            return Err(ApiError::unauthorized("No ticket"));
        };
        let userid = self.verify_ticket(ticket, now)?;
        if method.is_write() {
            let ok = creds
                .csrf
                .as_deref()
                .is_some_and(|t| self.verify_csrf(&userid, t, now));
            if !ok {
                return Err(ApiError::unauthorized(
                    "Permission denied - invalid csrf token",
                ));
            }
        }
        let role = self
            .users
            .get(&userid)
            .map(|u| u.role.clone())
            .unwrap_or(Role::None);
        Ok(Identity { userid, role })
    }
}

/// Splits `USER@REALM!TOKENID=SECRET`.
pub(crate) fn parse_token_spec(spec: &str) -> Result<(String, String), String> {
    let (id, secret) = spec.split_once('=').ok_or_else(|| {
        "invalid API token format (expected USER@REALM!TOKENID=SECRET)".to_string()
    })?;
    let valid = id
        .split_once('!')
        .is_some_and(|(user, name)| user.contains('@') && !name.is_empty());
    if !valid || secret.is_empty() {
        return Err("invalid API token format (expected USER@REALM!TOKENID=SECRET)".to_string());
    }
    Ok((id.to_string(), secret.to_string()))
}

fn token_user(id: &str) -> &str {
    id.split_once('!').map_or(id, |(u, _)| u)
}

fn token_name(id: &str) -> &str {
    id.split_once('!').map_or("", |(_, n)| n)
}

/// Whether `identity` holds any of `privs` on the ACL path `path` (`/`, `/vms/100`,
/// `/nodes/pve1`, `/storage/local`, `/pool/dev`). Handlers use it to filter lists (e.g.
/// `VM.Audit` on `/vms/<vmid>`); the dispatcher uses it to enforce each route's `Perm`.
///
/// Roles: `Admin` has everything; `Auditor` only `*.Audit`; `Vms(list)` has every `VM.*`
/// privilege on those VMIDs plus `Sys.Audit`, `Datastore.Audit` and `Datastore.AllocateSpace`
/// everywhere; `Pool(name)` the same on the guests whose pool is `name` (and `Pool.Audit` on
/// `/pool/name`); `None` nothing.
pub(crate) fn allowed(identity: &Identity, path: &str, privs: &[&str], cluster: &Cluster) -> bool {
    privs
        .iter()
        .any(|p| has_priv(&identity.role, path, p, cluster))
}

/// [`allowed`] for one privilege, as PVE's 403 `Permission check failed (PATH, PRIVILEGE)`.
pub(crate) fn require(
    identity: &Identity,
    path: &str,
    privilege: &str,
    cluster: &Cluster,
) -> Result<(), ApiError> {
    if allowed(identity, path, &[privilege], cluster) {
        Ok(())
    } else {
        Err(ApiError::forbidden(path, privilege))
    }
}

fn has_priv(role: &Role, path: &str, privilege: &str, cluster: &Cluster) -> bool {
    let general = matches!(
        privilege,
        "Sys.Audit" | "Datastore.Audit" | "Datastore.AllocateSpace"
    );
    let vmid = path
        .strip_prefix("/vms/")
        .and_then(|v| v.parse::<u32>().ok());
    let vm_priv = privilege.starts_with("VM.");
    match role {
        Role::Admin => true,
        Role::Auditor => privilege.ends_with(".Audit"),
        Role::None => false,
        Role::Vms(list) => general || (vm_priv && vmid.is_some_and(|v| list.contains(&v))),
        Role::Pool(pool) => {
            general
                || (vm_priv
                    && vmid
                        .and_then(|v| cluster.guests.get(&v))
                        .is_some_and(|g| g.pool.as_deref() == Some(pool.as_str())))
                || (privilege == "Pool.Audit" && path == format!("/pool/{pool}"))
        }
    }
}

/// Constant-time string comparison.
fn ct_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// HMAC-SHA256 (RFC 2104).
fn hmac_sha256(key: &[u8; 32], msg: &[u8]) -> [u8; 32] {
    let mut k = [0u8; 64];
    k[..32].copy_from_slice(key);
    let mut inner = Sha256::new();
    inner.update(k.map(|b| b ^ 0x36));
    inner.update(msg);
    let mut outer = Sha256::new();
    outer.update(k.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    outer.finalize().into()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn db() -> AuthDb {
        let mut db = AuthDb::default();
        db.add_user("root@pam", "demo", Role::Admin);
        db.add_token_spec("root@pam!ci=s3cret", Role::Auditor)
            .unwrap();
        db
    }

    #[test]
    fn ticket_lifecycle() {
        let db = db();
        let (ticket, csrf) = db.login("root@pam", "demo", 1000.0).unwrap();
        assert!(ticket.starts_with("PVE:root@pam:000003E8::"));
        let creds = Credentials {
            ticket: Some(ticket.clone()),
            csrf: None,
            authorization: None,
        };
        assert_eq!(
            db.authenticate(&creds, Method::Get, 2000.0).unwrap().userid,
            "root@pam"
        );
        let e = db.authenticate(&creds, Method::Post, 2000.0).unwrap_err();
        assert_eq!(e.message, "Permission denied - invalid csrf token");
        let with_csrf = Credentials {
            csrf: Some(csrf),
            ..creds.clone()
        };
        assert!(db.authenticate(&with_csrf, Method::Post, 2000.0).is_ok());
        let e = db
            .authenticate(&creds, Method::Get, 1000.0 + 7200.0)
            .unwrap_err();
        assert_eq!(e.message, "permission denied - invalid PVE ticket");
        // renewal with the ticket as password, before expiry
        let (renewed, _) = db.login("root@pam", &ticket, 8000.0).unwrap();
        assert!(db.verify_ticket(&renewed, 8000.0 + 7000.0).is_ok());
        assert_eq!(
            db.login("root@pam", "nope", 1.0).unwrap_err().message,
            "authentication failure"
        );
    }

    #[test]
    fn tokens_and_roles() {
        let db = db();
        let creds = Credentials {
            authorization: Some("PVEAPIToken=root@pam!ci=s3cret".into()),
            ..Default::default()
        };
        let id = db.authenticate(&creds, Method::Post, 0.0).unwrap();
        assert_eq!(id.userid, "root@pam!ci");
        let cluster = Cluster::default();
        assert!(allowed(&id, "/vms/100", &["VM.Audit"], &cluster));
        assert!(!allowed(&id, "/vms/100", &["VM.PowerMgmt"], &cluster));
        let vms = Identity {
            userid: "u@pve".into(),
            role: Role::Vms(vec![100]),
        };
        assert!(allowed(&vms, "/vms/100", &["VM.PowerMgmt"], &cluster));
        assert!(!allowed(&vms, "/vms/101", &["VM.PowerMgmt"], &cluster));
        let bad = Credentials {
            authorization: Some("PVEAPIToken=root@pam!ci=wrong".into()),
            ..Default::default()
        };
        assert_eq!(
            db.authenticate(&bad, Method::Get, 0.0).unwrap_err().status,
            401
        );
        assert_eq!(
            db.authenticate(&Credentials::default(), Method::Get, 0.0)
                .unwrap_err()
                .message,
            "No ticket"
        );
    }
}
