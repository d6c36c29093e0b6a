//! The path check of `proxmox_api`, made before anything is sent: a relative API path below
//! `/api2/json` (the prefix may be written), made only of the characters Proxmox VE's paths
//! use, without `.` or `..` segments, empty segments, a scheme or host, a query string or
//! fragment, or percent-encoding (each segment is encoded here, once).

use pve_client::ApiPath;

use crate::error::ToolError;

/// Longest path accepted, in bytes.
const MAX_PATH_BYTES: usize = 512;

/// Characters a path segment may hold besides ASCII letters and digits: those of node, storage
/// and pool names, VMIDs, user, token and realm ids (`root@pam!ci`), UPIDs (`UPID:pve1:...:`)
/// and PCI ids (`0000:00:1f.3`).
const SEGMENT_PUNCTUATION: &[char] = &['-', '_', '.', ':', '@', '!'];

/// A checked path: its segments, and the path the client sends (each segment encoded).
#[derive(Debug, Clone)]
pub(super) struct CheckedPath {
    pub(super) segments: Vec<String>,
    pub(super) api: ApiPath,
}

impl CheckedPath {
    /// `/nodes/pve1/qemu/101/config`, as the caller wrote it (without the prefix).
    pub(super) fn shown(&self) -> String {
        format!("/{}", self.segments.join("/"))
    }

    /// The segments as `&str`.
    pub(super) fn parts(&self) -> Vec<&str> {
        self.segments.iter().map(String::as_str).collect()
    }
}

/// Checks `path` (see the module documentation); the error names `path` and says what is wrong.
pub(super) fn check(path: &str) -> Result<CheckedPath, ToolError> {
    let bad = |why: String| {
        ToolError::invalid(
            "path",
            format!(
                "{why}; nothing was sent. Write a path below /api2/json such as \
                 /cluster/firewall/rules or /nodes/pve1/qemu/101/config, its parameters in \
                 `params`"
            ),
        )
    };
    if path.is_empty() {
        return Err(bad("is empty".into()));
    }
    if path.len() > MAX_PATH_BYTES {
        return Err(bad(format!("is longer than {MAX_PATH_BYTES} bytes")));
    }
    if let Some(c) = path
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '/' || SEGMENT_PUNCTUATION.contains(c)))
    {
        let why = match c {
            '?' | '#' | '&' | ';' => format!(
                "holds `{c}`: a query string or fragment does not belong in the path (put \
                 parameters in `params`)"
            ),
            '%' => "holds `%`: write each segment as plain text, it is encoded here (percent-\
                    encoding, of separators or anything else, is refused)"
                .into(),
            '\\' => "holds a backslash".into(),
            c if c.is_whitespace() || c.is_control() => {
                "holds whitespace or a control character".into()
            }
            c => format!(
                "holds `{}`, which Proxmox VE paths do not use",
                c.escape_debug()
            ),
        };
        return Err(bad(format!("path {why}")));
    }
    if path.contains("://") || path.starts_with("//") {
        return Err(bad(
            "path names a scheme or host: only paths of this server's cluster are called".into(),
        ));
    }
    let rel = path.strip_prefix('/').unwrap_or(path);
    let rel = rel
        .strip_prefix("api2/json/")
        .or_else(|| (rel == "api2/json").then_some(""))
        .unwrap_or(rel);
    let rel = rel.strip_suffix('/').unwrap_or(rel);
    if rel.is_empty() {
        return Err(bad("names no endpoint below /api2/json".into()));
    }
    let segments: Vec<&str> = rel.split('/').collect();
    if segments.iter().any(|s| s.is_empty()) {
        return Err(bad("path has an empty segment (`//`)".into()));
    }
    if let Some(s) = segments.iter().find(|s| s.chars().all(|c| c == '.')) {
        return Err(bad(format!("path has a `{s}` segment")));
    }
    if segments[0] == "api2" {
        return Err(bad(
            "path names another API format or repeats /api2/json: only /api2/json is called".into(),
        ));
    }
    if segments[0].ends_with(':') {
        return Err(bad(format!(
            "path starts with `{}`, a scheme: only paths of this server's cluster are called",
            segments[0]
        )));
    }
    let api = segments.iter().fold(ApiPath::new(""), |p, s| p.seg(s));
    Ok(CheckedPath {
        segments: segments.iter().map(|s| (*s).to_string()).collect(),
        api,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn prefixes_are_optional_and_segments_encoded() {
        for p in [
            "/cluster/resources",
            "cluster/resources",
            "/api2/json/cluster/resources",
            "api2/json/cluster/resources/",
        ] {
            let c = check(p).unwrap();
            assert_eq!(c.shown(), "/cluster/resources", "{p}");
            assert_eq!(c.api.as_str(), "/cluster/resources", "{p}");
        }
        let c = check("/nodes/pve1/tasks/UPID:pve1:00000001:00000002:00000003:qmstart:101:root@pam!ci:/status").unwrap();
        assert_eq!(
            c.api.as_str(),
            "/nodes/pve1/tasks/UPID%3Apve1%3A00000001%3A00000002%3A00000003%3Aqmstart%3A101%3Aroot%40pam%21ci%3A/status"
        );
    }
}
