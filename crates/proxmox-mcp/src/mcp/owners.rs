//! Who opened each Streamable HTTP session, and the sessions about to open: a session belongs to
//! the key that opened it (another key is told it does not exist), and a key may hold a quota of
//! open sessions. Legacy SSE sessions keep their owner themselves (`sse.rs`); rmcp's session
//! manager stays the source of truth for which Streamable HTTP sessions are alive, so a session
//! it closed on its own (idle timeout, shutdown) stops counting at once.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};

/// The owners of Streamable HTTP sessions and the sessions being opened, per key.
#[derive(Debug, Default)]
pub(crate) struct Owners {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// Session id → the key that opened it (`None`: a door without keys).
    owner: HashMap<Arc<str>, Option<String>>,
    /// `initialize` requests admitted and not yet answered, per key (`None`: no key).
    opening: HashMap<Option<String>, usize>,
}

impl Owners {
    fn state(&self) -> MutexGuard<'_, State> {
        // Single inserts and removes: a poisoned lock is still consistent.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Whether `key` may use session `id`: it opened it, or the session is not known here (rmcp
    /// then answers for an unknown session).
    pub(crate) fn may_use(&self, id: &str, key: Option<&str>) -> bool {
        self.state()
            .owner
            .get(id)
            .is_none_or(|owner| owner.as_deref() == key)
    }

    /// Open sessions of `key` among `live` ones, plus those it is opening; and the total
    /// being opened. Forgets sessions rmcp no longer holds.
    pub(crate) fn count(&self, key: Option<&str>, live: &HashSet<Arc<str>>) -> (usize, usize) {
        let mut state = self.state();
        state.owner.retain(|id, _| live.contains(id));
        let held = state
            .owner
            .values()
            .filter(|owner| owner.as_deref() == key)
            .count();
        let opening_all = state.opening.values().sum();
        let opening = state
            .opening
            .get(&key.map(str::to_string))
            .copied()
            .unwrap_or(0);
        (held + opening, opening_all)
    }

    /// Holds a place for a session `key` is opening, until the guard is dropped.
    pub(crate) fn opening(self: &Arc<Self>, key: Option<&str>) -> Opening {
        let key = key.map(str::to_string);
        *self.state().opening.entry(key.clone()).or_default() += 1;
        Opening {
            owners: Arc::clone(self),
            key,
        }
    }

    /// Records that `key` opened session `id`.
    pub(crate) fn opened(&self, id: &str, key: Option<&str>) {
        self.state()
            .owner
            .insert(Arc::from(id), key.map(str::to_string));
    }

    /// Forgets session `id` (closed by its client).
    pub(crate) fn closed(&self, id: &str) {
        self.state().owner.remove(id);
    }
}

/// A session being opened: counted against its key's quota and the server's cap until the
/// `initialize` is answered.
#[derive(Debug)]
pub(crate) struct Opening {
    owners: Arc<Owners>,
    key: Option<String>,
}

impl Drop for Opening {
    fn drop(&mut self) {
        let mut state = self.owners.state();
        if let Some(n) = state.opening.get_mut(&self.key) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                state.opening.remove(&self.key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_count_for_their_owner_while_rmcp_holds_them() {
        let owners = Arc::new(Owners::default());
        let live: HashSet<Arc<str>> = ["a", "b"].into_iter().map(Arc::from).collect();
        owners.opened("a", Some("reader"));
        owners.opened("b", Some("admin"));
        assert!(owners.may_use("a", Some("reader")));
        assert!(!owners.may_use("a", Some("admin")));
        assert!(!owners.may_use("a", None));
        assert!(owners.may_use("unknown", Some("admin")));
        let guard = owners.opening(Some("reader"));
        assert_eq!(owners.count(Some("reader"), &live), (2, 1));
        drop(guard);
        assert_eq!(owners.count(Some("reader"), &live), (1, 0));
        // rmcp dropped `a` (idle): it no longer counts, and its id is unknown here.
        let live: HashSet<Arc<str>> = ["b"].into_iter().map(Arc::from).collect();
        assert_eq!(owners.count(Some("reader"), &live), (0, 0));
        assert!(owners.may_use("a", Some("admin")));
        owners.closed("b");
        assert_eq!(owners.count(Some("admin"), &live), (0, 0));
    }
}
