//! Who makes a call: the door it came through, when the door checks keys the key's name, and
//! for an MCP session of a server with dynamic toolsets, the toolsets that session has on.
//! Logs, metrics, the policy and the audit log name callers this way.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, PoisonError};

/// Who made a call: the front door and, when the door authenticates, the key's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// `"streamable-http"`, `"sse"`, `"stdio"`, `"rest"` or `"test"`.
    pub transport: &'static str,
    /// Name of the API key used, when the door authenticates.
    pub key: Option<String>,
    /// The toolsets the caller's MCP session has on, when the server serves dynamic toolsets
    /// (`None`: the caller sees what a new session starts with, without the toolset tools).
    pub toolsets: Option<SessionToolsets>,
}

impl Caller {
    /// A caller of door `transport`, without a key.
    pub fn new(transport: &'static str) -> Self {
        Self {
            transport,
            key: None,
            toolsets: None,
        }
    }
}

impl Default for Caller {
    fn default() -> Self {
        Self::new("test")
    }
}

/// The toolsets one MCP session (or the stdio process) has on, shared by its requests: those
/// it started with, and those its agent turned on or off since (`enable_toolset`,
/// `disable_toolset`). Cheap to clone; clones share the set.
#[derive(Debug, Clone)]
pub struct SessionToolsets {
    /// The toolsets this session may turn on (the server's `--toolsets`, or all), each with
    /// the tools of it the server holds.
    allowed: Arc<Allowed>,
    on: Arc<Mutex<On>>,
    /// Carried by each request rather than kept by the server (MCP 2026-07-28, which has no
    /// session): a change lasts only as long as the client sends it back.
    carried: bool,
}

/// Toolsets by name, each with the names of its tools.
pub(crate) type Allowed = BTreeMap<&'static str, Vec<&'static str>>;

#[derive(Debug)]
struct On {
    names: BTreeSet<&'static str>,
    /// How many changes were made (a door compares it before and after a call).
    changes: u64,
}

impl PartialEq for SessionToolsets {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.on, &other.on)
    }
}

impl Eq for SessionToolsets {}

impl SessionToolsets {
    /// A session that starts with `on` and may turn on any of `allowed`.
    pub(crate) fn new(allowed: Arc<Allowed>, on: BTreeSet<&'static str>) -> Self {
        Self {
            allowed,
            on: Arc::new(Mutex::new(On {
                names: on,
                changes: 0,
            })),
            carried: false,
        }
    }

    /// The same set, carried by one request (see [`SessionToolsets::carried`]).
    pub(crate) fn carried_by_request(mut self) -> Self {
        self.carried = true;
        self
    }

    /// Whether the set rides in each request (MCP 2026-07-28) rather than in a session.
    pub(crate) fn carried(&self) -> bool {
        self.carried
    }

    /// The toolsets this session may turn on, each with its tools.
    pub(crate) fn allowed(&self) -> &Allowed {
        &self.allowed
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, On> {
        // One insert or removal at a time: a poisoned lock still holds a consistent set.
        self.on.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The toolsets on now.
    pub(crate) fn on(&self) -> BTreeSet<&'static str> {
        self.lock().names.clone()
    }

    /// Whether toolset `name` is on.
    pub(crate) fn is_on(&self, name: &str) -> bool {
        self.lock().names.contains(name)
    }

    /// Turns `name` (one of [`SessionToolsets::allowed`]) on or off; `true` when that changed
    /// something.
    pub(crate) fn turn(&self, name: &'static str, on: bool) -> bool {
        let mut state = self.lock();
        let changed = if on {
            state.names.insert(name)
        } else {
            state.names.remove(name)
        };
        if changed {
            state.changes += 1;
        }
        changed
    }

    /// How many changes were made so far.
    pub(crate) fn changes(&self) -> u64 {
        self.lock().changes
    }
}
