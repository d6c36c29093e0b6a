//! Request parameters the PVE way: ordered key/value pairs, booleans as `1`/`0`, arrays as
//! repeated keys; and API paths built from percent-encoded segments (UPIDs hold `:`, `@`, `!`;
//! volume ids hold `/`).

use std::fmt::Write as _;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// Characters left as they are in a path segment: RFC 3986 unreserved.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// A value that can be sent as a PVE parameter.
pub trait ParamValue {
    /// The wire form (`true` → `1`).
    fn to_param(&self) -> String;
}

impl ParamValue for bool {
    fn to_param(&self) -> String {
        if *self { "1" } else { "0" }.to_owned()
    }
}
impl ParamValue for str {
    fn to_param(&self) -> String {
        self.to_owned()
    }
}
impl ParamValue for String {
    fn to_param(&self) -> String {
        self.clone()
    }
}
impl ParamValue for f64 {
    fn to_param(&self) -> String {
        self.to_string()
    }
}
impl<T: ParamValue + ?Sized> ParamValue for &T {
    fn to_param(&self) -> String {
        (**self).to_param()
    }
}
macro_rules! int_param {
    ($($t:ty),*) => {$(
        impl ParamValue for $t {
            fn to_param(&self) -> String { self.to_string() }
        }
    )*};
}
int_param!(u8, u16, u32, u64, usize, i32, i64);

/// Ordered request parameters. Empty by default; built with the chaining setters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params(Vec<(String, String)>);

impl Params {
    /// No parameters.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `key=value`.
    pub fn set(mut self, key: impl Into<String>, value: impl ParamValue) -> Self {
        self.push(key, value);
        self
    }

    /// Adds `key=value` when `value` is `Some`.
    pub fn opt<V: ParamValue>(mut self, key: impl Into<String>, value: Option<V>) -> Self {
        if let Some(v) = value {
            self.push(key, v);
        }
        self
    }

    /// Adds one `key=item` per item (how PVE takes arrays, e.g. agent exec `command`).
    pub fn list<V: ParamValue>(mut self, key: &str, items: impl IntoIterator<Item = V>) -> Self {
        for item in items {
            self.push(key, item);
        }
        self
    }

    /// Adds every pair of `other` (later keys are sent after earlier ones).
    pub fn extend(mut self, other: Params) -> Self {
        self.0.extend(other.0);
        self
    }

    /// Adds `key=value` in place.
    pub fn push(&mut self, key: impl Into<String>, value: impl ParamValue) {
        self.0.push((key.into(), value.to_param()));
    }

    /// Whether there are no parameters.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The pairs, in order.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.0
    }

    /// The value of the first `key`, if any.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// `application/x-www-form-urlencoded` form (also used as the query string).
    pub fn encode(&self) -> String {
        let mut s = form_urlencoded::Serializer::new(String::new());
        for (k, v) in &self.0 {
            s.append_pair(k, v);
        }
        s.finish()
    }
}

/// An API path below `/api2/json`, built from literal parts ([`ApiPath::lit`]) and
/// percent-encoded segments ([`ApiPath::seg`]).
#[derive(Debug, Clone, Default)]
pub struct ApiPath(String);

impl ApiPath {
    /// `/` followed by a literal (already safe) path, e.g. `ApiPath::new("/cluster/resources")`.
    pub fn new(lit: &str) -> Self {
        Self(lit.to_owned())
    }
    /// Appends `/literal` (a fixed path part such as `status/current`).
    pub fn lit(mut self, lit: &str) -> Self {
        self.0.push('/');
        self.0.push_str(lit);
        self
    }
    /// Appends `/<segment>` percent-encoded (node names, VMIDs, UPIDs, volume ids).
    pub fn seg(mut self, segment: impl std::fmt::Display) -> Self {
        self.0.push('/');
        let raw = segment.to_string();
        let _ = write!(self.0, "{}", utf8_percent_encode(&raw, SEGMENT));
        self
    }
    /// The path (below `/api2/json`).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for ApiPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// `/nodes/{node}`.
pub(crate) fn node_path(node: &str) -> ApiPath {
    ApiPath::new("/nodes").seg(node)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn params_encode_the_pve_way() {
        let p = Params::new()
            .set("vmid", 100u32)
            .set("full", true)
            .set("purge", false)
            .opt("name", None::<&str>)
            .opt("description", Some("a b&c"))
            .list("command", ["ls", "-l"]);
        assert_eq!(
            p.encode(),
            "vmid=100&full=1&purge=0&description=a+b%26c&command=ls&command=-l"
        );
        assert_eq!(p.get("full"), Some("1"));
    }

    #[test]
    fn path_segments_are_encoded() {
        let upid = "UPID:pve1:000003E8:00001B58:6B05BE88:qmstart:101:root@pam!ci:";
        let p = node_path("pve1").lit("tasks").seg(upid).lit("status");
        assert_eq!(
            p.as_str(),
            "/nodes/pve1/tasks/UPID%3Apve1%3A000003E8%3A00001B58%3A6B05BE88%3Aqmstart%3A101%3Aroot%40pam%21ci%3A/status"
        );
        let v = node_path("pve1")
            .lit("storage")
            .seg("local")
            .lit("content")
            .seg("local:backup/vzdump-qemu-100.vma.zst");
        assert_eq!(
            v.as_str(),
            "/nodes/pve1/storage/local/content/local%3Abackup%2Fvzdump-qemu-100.vma.zst"
        );
    }
}
