//! `proxmox-mcp keys new --name N --scope S`: makes an API key (`pmcp_` + 64 hex digits, 256
//! bits from the operating system's random source), prints it once, and prints the `[[keys]]`
//! entry to paste into the config (name, scope and SHA-256; the key itself is stored nowhere).

use rand::TryRngCore;
use rand::rngs::OsRng;

use super::keys::{check_name, digest};
use crate::registry::Scope;

/// Prefix of generated keys (recognisable in a leaked file or a secret scanner).
pub(crate) const KEY_PREFIX: &str = "pmcp_";

/// A new key and what to put in the config.
#[derive(Clone, PartialEq, Eq)]
pub struct NewKey {
    pub(crate) name: String,
    pub(crate) scope: Scope,
    /// The key itself: shown once.
    pub(crate) key: String,
    /// SHA-256 of the key, hex.
    pub(crate) sha256: String,
}

impl std::fmt::Debug for NewKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewKey")
            .field("name", &self.name)
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

/// Why no key was made.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("{0}")]
    Name(String),
    #[error("the operating system's random source failed: {0}")]
    Random(String),
}

impl NewKey {
    /// A fresh key named `name` with `scope`.
    pub fn generate(name: &str, scope: Scope) -> Result<Self, KeyError> {
        check_name(name).map_err(KeyError::Name)?;
        let mut bytes = [0u8; 32];
        OsRng
            .try_fill_bytes(&mut bytes)
            .map_err(|e| KeyError::Random(e.to_string()))?;
        let key = format!("{KEY_PREFIX}{}", hex::encode(bytes));
        Ok(Self {
            name: name.to_string(),
            scope,
            sha256: hex::encode(digest(&key)),
            key,
        })
    }

    /// The `[[keys]]` entry for the config file.
    pub(crate) fn toml(&self) -> String {
        format!(
            "[[keys]]\nname = \"{}\"\nscope = \"{}\"\nsha256 = \"{}\"\n",
            self.name, self.scope, self.sha256
        )
    }

    /// What `keys new` prints on stdout.
    pub fn report(&self) -> String {
        format!(
            "API key `{name}` (scope {scope}); it is shown only this once, store it now:\n\n    {key}\n\n\
             Add this entry to the server's config file (--config FILE) or keys file (PROXMOX_MCP_KEYS_FILE);\n\
             a running server reads it on SIGHUP or when the file changes:\n\n{toml}\n\
             Clients send it as `Authorization: Bearer <key>` (n8n: Bearer Auth credential), or in the\n\
             header named by [auth] api_key_header (n8n: Header Auth credential).\n",
            name = self.name,
            scope = self.scope,
            key = self.key,
            toml = self.toml(),
        )
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::auth::keys::{KeyEntry, KeySpec};

    #[test]
    fn new_keys_are_random_and_their_entry_parses_back() {
        let a = NewKey::generate("n8n", Scope::Operate).unwrap();
        let b = NewKey::generate("n8n", Scope::Operate).unwrap();
        assert_ne!(a.key, b.key);
        assert!(a.key.starts_with(KEY_PREFIX) && a.key.len() == KEY_PREFIX.len() + 64);
        #[derive(serde::Deserialize)]
        struct File {
            keys: Vec<KeyEntry>,
        }
        let f: File = toml::from_str(&a.toml()).unwrap();
        let spec = KeySpec::from_entry(&f.keys[0]).unwrap();
        assert_eq!(spec, KeySpec::from_plain("n8n", Scope::Operate, &a.key));
        assert!(a.report().contains(&a.key) && a.report().contains("[[keys]]"));
        assert!(!format!("{a:?}").contains(&a.key));
        assert!(NewKey::generate("bad name", Scope::Read).is_err());
    }
}
