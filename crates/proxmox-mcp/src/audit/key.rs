//! The audit key: a secret whose holder alone can write lines that `audit verify --key-file`
//! accepts. With a key, every line ends with `"mac":"<hex>"`, the HMAC-SHA-256 of the line as
//! it reads without that field; the chain (`prev`) then covers the MACs too.
//!
//! The MAC is spliced into the serialized line (and split off it to check), so the bytes signed
//! are exactly the bytes written: nothing is re-serialized.

use std::path::{Path, PathBuf};

use ring::hmac;

/// Fewest bytes a key may have (256 bits).
pub(crate) const MIN_KEY_BYTES: usize = 32;

/// What ends a line with a MAC: `,"mac":"` + 64 hex digits + `"}`.
const MAC_FIELD: &str = ",\"mac\":\"";
const HEX_LEN: usize = 64;

/// A secret key for the audit chain, ready to sign. Its `Debug` shows no byte of it.
#[derive(Clone)]
pub struct AuditKey(hmac::Key);

impl std::fmt::Debug for AuditKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AuditKey(<redacted>)")
    }
}

/// Why a key file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("cannot read the audit key file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "the audit key file {path} holds {len} byte(s); a key needs at least {MIN_KEY_BYTES} \
         (make one with: head -c 32 /dev/urandom | base64 > {path})"
    )]
    TooShort { path: PathBuf, len: usize },
}

impl AuditKey {
    /// The key held in `path`: its content, surrounding whitespace removed. A file that other
    /// local users can read is used, with a warning.
    pub fn load(path: &Path) -> Result<Self, KeyError> {
        let bytes = std::fs::read(path).map_err(|source| KeyError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let key = bytes.trim_ascii();
        let too_short = || KeyError::TooShort {
            path: path.to_path_buf(),
            len: key.len(),
        };
        let key = Self::from_bytes(key).ok_or_else(too_short)?;
        warn_if_readable_by_others(path);
        Ok(key)
    }

    /// A key of these bytes (at least [`MIN_KEY_BYTES`]; tests and callers holding a secret).
    pub(crate) fn from_bytes(bytes: &[u8]) -> Option<Self> {
        if bytes.len() < MIN_KEY_BYTES {
            return None;
        }
        Some(Self(hmac::Key::new(hmac::HMAC_SHA256, bytes)))
    }

    /// `line` (a serialized record without a MAC, ending in `}`) with its MAC appended.
    pub(super) fn sign(&self, line: &str) -> String {
        let tag = hex::encode(hmac::sign(&self.0, line.as_bytes()));
        let body = line.strip_suffix('}').unwrap_or(line);
        format!("{body}{MAC_FIELD}{tag}\"}}")
    }

    /// Whether `line`'s MAC is right (compared in constant time).
    pub(super) fn check(&self, line: &str) -> bool {
        let Some((signed, tag)) = split(line) else {
            return false;
        };
        let Ok(tag) = hex::decode(tag) else {
            return false;
        };
        hmac::verify(&self.0, signed.as_bytes(), &tag).is_ok()
    }
}

/// Whether `line` ends with a MAC field.
pub(super) fn has_mac(line: &str) -> bool {
    split(line).is_some()
}

/// `line` without its MAC field (the text that was signed), and the MAC's hex.
fn split(line: &str) -> Option<(String, &str)> {
    let body = line.strip_suffix("\"}")?;
    let at = body.len().checked_sub(HEX_LEN + MAC_FIELD.len())?;
    let (head, field) = body.split_at_checked(at)?;
    let tag = field.strip_prefix(MAC_FIELD)?;
    tag.bytes()
        .all(|b| b.is_ascii_hexdigit())
        .then(|| (format!("{head}}}"), tag))
}

#[cfg(unix)]
fn warn_if_readable_by_others(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = std::fs::metadata(path)
        && meta.permissions().mode() & 0o004 != 0
    {
        tracing::warn!(
            path = %path.display(),
            "the audit key file is readable by every local user: chmod 600 it"
        );
    }
}

#[cfg(not(unix))]
fn warn_if_readable_by_others(_path: &Path) {}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn lines_are_signed_and_checked() {
        let key = AuditKey::from_bytes(&[7u8; 32]).unwrap();
        let other = AuditKey::from_bytes(&[8u8; 32]).unwrap();
        let line = r#"{"seq":1,"prev":"00"}"#;
        let signed = key.sign(line);
        assert!(
            signed.starts_with(r#"{"seq":1,"prev":"00","mac":""#),
            "{signed}"
        );
        assert!(has_mac(&signed) && !has_mac(line));
        assert!(key.check(&signed));
        assert!(!other.check(&signed));
        assert!(!key.check(&signed.replace("\"seq\":1", "\"seq\":2")));
        assert!(!key.check(line));
        assert!(AuditKey::from_bytes(&[1u8; 31]).is_none());
        assert_eq!(format!("{key:?}"), "AuditKey(<redacted>)");
    }
}
