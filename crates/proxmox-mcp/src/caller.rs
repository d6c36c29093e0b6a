//! Who makes a call: the door it came through and, when the door checks keys, the key's name.
//! Logs, metrics, the policy and the audit log name callers this way.

/// Who made a call: the front door and, when the door authenticates, the key's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// `"streamable-http"`, `"sse"`, `"stdio"`, `"rest"` or `"test"`.
    pub transport: &'static str,
    /// Name of the API key used, when the door authenticates.
    pub key: Option<String>,
}

impl Caller {
    /// A caller of door `transport`, without a key.
    pub fn new(transport: &'static str) -> Self {
        Self {
            transport,
            key: None,
        }
    }
}

impl Default for Caller {
    fn default() -> Self {
        Self::new("test")
    }
}
