//! Where audit lines go: a file, stdout (one JSON line each, for a cluster's log collector), or
//! both, and the replica name each line carries.

use std::path::{Path, PathBuf};

/// The destinations of an audit log and the replica that writes it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditSinks {
    /// Append to this file (its chain continues across restarts).
    pub file: Option<PathBuf>,
    /// Write every line to stdout too.
    pub stdout: bool,
    /// The name every line carries as `replica` (its chain is this replica's own).
    pub replica: Option<String>,
}

impl AuditSinks {
    /// The file at `path` only, lines without a replica name.
    pub fn file(path: &Path) -> Self {
        Self {
            file: Some(path.to_path_buf()),
            ..Self::default()
        }
    }

    /// Whether no line would be written anywhere.
    pub(crate) fn is_empty(&self) -> bool {
        self.file.is_none() && !self.stdout
    }
}

/// `name` if it can name a replica (1 to 253 letters, digits, `-`, `_`, `.`: a host or pod
/// name), else why not.
pub(crate) fn check_replica(name: &str) -> Result<&str, String> {
    let ok = !name.is_empty()
        && name.len() <= 253
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if ok {
        Ok(name)
    } else {
        Err(format!(
            "the audit replica name {name:?} is not a host name: use 1 to 253 letters, digits, \
             `-`, `_` or `.`"
        ))
    }
}
