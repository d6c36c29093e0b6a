//! Named, scoped API keys: the `[[keys]]` entries of the config (`name`, `scope`, `sha256`), the
//! quick admin key of `PROXMOX_MCP_API_KEY`, and [`KeyRing`], the authenticator that checks a
//! presented key against them.
//!
//! Only SHA-256 digests are kept. A presented key is hashed once and compared with every digest
//! in constant time (no early exit), so timing tells nothing about which key nearly matched.
//! Keys come as `Authorization: Bearer KEY` or, when configured, as a header of their own
//! (`X-API-Key: KEY`, n8n's Header Auth).

use std::sync::{Arc, PoisonError, RwLock};

use axum::http::{HeaderMap, HeaderName, header};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::{AuthError, Authenticator, Identity};
use crate::registry::Scope;

/// One `[[keys]]` entry of the config file, as written.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub(crate) struct KeyEntry {
    /// Shown in logs and the audit log (never the key itself).
    pub(crate) name: String,
    pub(crate) scope: Scope,
    /// SHA-256 of the key, 64 hex digits (`proxmox-mcp keys new` prints it).
    pub(crate) sha256: String,
    /// Calls per minute for this key (overrides `[limits] rate_limit_per_minute`).
    pub(crate) rate_limit_per_minute: Option<u32>,
}

/// A checked key: name, scope and digest.
#[derive(Clone, PartialEq, Eq)]
pub struct KeySpec {
    pub(crate) name: String,
    pub(crate) scope: Scope,
    pub(crate) digest: [u8; 32],
    pub(crate) rate_limit_per_minute: Option<u32>,
}

impl std::fmt::Debug for KeySpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeySpec")
            .field("name", &self.name)
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

impl KeySpec {
    /// The key's name, as logs and the audit log show it.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key `key` (plain text) named `name` with `scope`.
    pub fn from_plain(name: impl Into<String>, scope: Scope, key: &str) -> Self {
        Self {
            name: name.into(),
            scope,
            digest: digest(key),
            rate_limit_per_minute: None,
        }
    }

    /// A config entry, checked: a valid name and 64 hex digits.
    pub(crate) fn from_entry(e: &KeyEntry) -> Result<Self, String> {
        check_name(&e.name)?;
        let hex_text = e.sha256.trim();
        let mut digest = [0u8; 32];
        if hex_text.len() != 64 || hex::decode_to_slice(hex_text, &mut digest).is_err() {
            return Err(format!(
                "key `{}`: sha256 must be 64 hex digits (the SHA-256 of the key, as `proxmox-mcp keys new` prints it)",
                e.name
            ));
        }
        if e.rate_limit_per_minute == Some(0) {
            return Err(format!(
                "key `{}`: rate_limit_per_minute must be at least 1",
                e.name
            ));
        }
        Ok(Self {
            name: e.name.clone(),
            scope: e.scope,
            digest,
            rate_limit_per_minute: e.rate_limit_per_minute,
        })
    }
}

/// Checks a key name: 1 to 64 of `A-Z a-z 0-9 _ . -`.
pub(crate) fn check_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "key name {name:?}: use 1 to 64 letters, digits, `_`, `.` or `-`"
        ))
    }
}

/// Checks a set of keys: distinct names and distinct digests.
pub(crate) fn check_distinct(keys: &[KeySpec]) -> Result<(), String> {
    for (i, a) in keys.iter().enumerate() {
        for b in &keys[..i] {
            if a.name == b.name {
                return Err(format!("key name `{}` is used twice", a.name));
            }
            if a.digest == b.digest {
                return Err(format!(
                    "keys `{}` and `{}` are the same key",
                    b.name, a.name
                ));
            }
        }
    }
    Ok(())
}

/// The authenticator of named, scoped keys.
pub struct KeyRing {
    /// Replaced whole when keys are reloaded.
    keys: RwLock<Arc<Vec<KeySpec>>>,
    /// Extra header carrying the key as its whole value (`X-API-Key`).
    header: Option<HeaderName>,
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRing")
            .field("keys", &self.keys)
            .field("header", &self.header)
            .finish()
    }
}

impl KeyRing {
    /// These keys, also read from `header` when given (an invalid header name is ignored with
    /// a warning; config resolution refuses one before this).
    pub fn new(keys: Vec<KeySpec>, header: Option<&str>) -> Self {
        let header = header.and_then(|h| match HeaderName::try_from(h.trim()) {
            Ok(n) => Some(n),
            Err(_) => {
                tracing::warn!(
                    header = h,
                    "ignoring an API key header name that is not valid"
                );
                None
            }
        });
        Self {
            keys: RwLock::new(Arc::new(keys)),
            header,
        }
    }

    /// The keys now.
    fn current(&self) -> Arc<Vec<KeySpec>> {
        self.keys
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Replaces every key (a reload); requests already let in keep their identity.
    pub(crate) fn replace(&self, keys: Vec<KeySpec>) {
        *self.keys.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(keys);
    }

    /// One key (tests, `PROXMOX_MCP_API_KEY`).
    pub fn single(name: &str, scope: Scope, key: &str) -> Self {
        Self::new(vec![KeySpec::from_plain(name, scope, key)], None)
    }

    /// The key presented: a bearer token, else the configured header's value.
    fn presented<'a>(&self, headers: &'a HeaderMap) -> Option<&'a str> {
        bearer(headers).or_else(|| {
            let v = headers.get(self.header.as_ref()?)?.to_str().ok()?.trim();
            (!v.is_empty()).then_some(v)
        })
    }
}

impl Authenticator for KeyRing {
    fn authenticate(&self, headers: &HeaderMap) -> Result<Identity, AuthError> {
        let presented = self.presented(headers).ok_or(AuthError::Missing)?;
        let d = digest(presented);
        let keys = self.current();
        let mut found: Option<&KeySpec> = None;
        for k in keys.iter() {
            if bool::from(k.digest.ct_eq(&d)) {
                found = Some(k);
            }
        }
        found
            .map(|k| Identity::key(k.name.clone(), k.scope))
            .ok_or(AuthError::Wrong)
    }

    fn enabled(&self) -> bool {
        !self.current().is_empty()
    }
}

/// SHA-256 of a key.
pub(crate) fn digest(key: &str) -> [u8; 32] {
    Sha256::digest(key.as_bytes()).into()
}

/// The token of an `Authorization: Bearer <token>` header (scheme case-insensitive).
fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(HeaderName::try_from(*k).unwrap(), v.parse().unwrap());
        }
        h
    }

    #[test]
    fn keys_are_found_by_bearer_or_header() {
        let ring = KeyRing::new(
            vec![
                KeySpec::from_plain("reader", Scope::Read, "k-read"),
                KeySpec::from_plain("ops", Scope::Operate, "k-ops"),
            ],
            Some("X-API-Key"),
        );
        type Case<'a> = (
            &'a [(&'a str, &'a str)],
            Result<(&'a str, Scope), AuthError>,
        );
        let cases: &[Case] = &[
            (
                &[("authorization", "Bearer k-read")],
                Ok(("reader", Scope::Read)),
            ),
            (
                &[("authorization", "bearer  k-ops ")],
                Ok(("ops", Scope::Operate)),
            ),
            (&[("x-api-key", "k-ops")], Ok(("ops", Scope::Operate))),
            (&[("authorization", "Bearer k-rea")], Err(AuthError::Wrong)),
            (&[("x-api-key", "nope")], Err(AuthError::Wrong)),
            (&[("authorization", "Basic azpr")], Err(AuthError::Missing)),
            (&[("authorization", "Bearer ")], Err(AuthError::Missing)),
            (&[("x-api-key", " ")], Err(AuthError::Missing)),
            (&[], Err(AuthError::Missing)),
        ];
        for (h, want) in cases {
            let got = ring.authenticate(&headers(h));
            let want = want.clone().map(|(n, s)| Identity::key(n, s));
            assert_eq!(got, want, "{h:?}");
        }
        assert!(!format!("{ring:?}").contains("k-read"));
        // Without the header configured, the header is not read.
        let ring = KeyRing::single("default", Scope::Admin, "k");
        assert_eq!(
            ring.authenticate(&headers(&[("x-api-key", "k")])),
            Err(AuthError::Missing)
        );
    }

    #[test]
    fn config_entries_are_checked() {
        let entry = |name: &str, sha: &str| KeyEntry {
            name: name.into(),
            scope: Scope::Read,
            sha256: sha.into(),
            rate_limit_per_minute: None,
        };
        let good = hex::encode(digest("k"));
        assert_eq!(
            KeySpec::from_entry(&entry("n8n", &good)).unwrap().digest,
            digest("k")
        );
        assert!(
            KeySpec::from_entry(&entry("n8n", "abc"))
                .unwrap_err()
                .contains("64 hex")
        );
        assert!(
            KeySpec::from_entry(&entry("a b", &good))
                .unwrap_err()
                .contains("a b")
        );
        let a = KeySpec::from_plain("a", Scope::Read, "k");
        let b = KeySpec::from_plain("b", Scope::Read, "k");
        assert!(
            check_distinct(&[a.clone(), b])
                .unwrap_err()
                .contains("same key")
        );
        let a2 = KeySpec::from_plain("a", Scope::Read, "other");
        assert!(check_distinct(&[a, a2]).unwrap_err().contains("twice"));
    }
}
