//! The connection budget both HTTP doors share: how many connections may be open (below the
//! open-files limit, with a reserve for everything else the process opens), how many from one
//! client address, and what each connection is doing (a request in flight, or idle since when),
//! so that timeouts close silent ones and a new connection at a cap can take the place of the
//! connection idle the longest. `serve.rs` asks [`Connections::admit`] for every accepted
//! connection and keeps the returned [`Slot`] for the connection's life.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::config::Limits;

/// Descriptors kept for everything but client connections: the listeners, the connections to
/// Proxmox VE (and, in demo mode, both ends of those to the embedded simulator), the audit log.
/// An eighth of the limit, at least 64.
pub(crate) fn reserve(open_files: u64) -> u64 {
    (open_files / 8).max(64)
}

/// Raises the soft open-files limit (`RLIMIT_NOFILE`) to the hard limit, as servers do at
/// start; returns the limit before and after (`None` where the platform has none).
pub fn raise_open_files_limit() -> Option<(u64, u64)> {
    let (before, _) = rlimit::getrlimit(rlimit::Resource::NOFILE).ok()?;
    let after = rlimit::increase_nofile_limit(u64::MAX).ok()?;
    Some((before, after))
}

/// The soft open-files limit in force (a generous guess where the platform has none).
fn open_files_limit() -> u64 {
    rlimit::getrlimit(rlimit::Resource::NOFILE).map_or(65_536, |(soft, _)| soft)
}

/// Timeouts and caps of client connections.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnLimits {
    /// Time to send a whole request head: from connecting, or from the first byte of a later
    /// request on a kept-alive connection.
    pub header_read_timeout: Duration,
    /// Time a kept-alive connection may wait, silent, for its next request.
    pub keep_alive_timeout: Duration,
    /// Open connections at most, both doors together.
    pub max_connections: usize,
    /// Open connections at most from one client address.
    pub max_per_client: usize,
}

impl ConnLimits {
    /// The limits `limits` ask for, `max_connections` lowered to fit the open-files limit in
    /// force less [`reserve`] (a configured value above that is lowered, with a warning).
    pub(crate) fn from_limits(limits: &Limits) -> Self {
        let open_files = open_files_limit();
        let room = usize::try_from(open_files.saturating_sub(reserve(open_files)))
            .unwrap_or(usize::MAX)
            .max(1);
        let max_connections = match limits.max_connections {
            Some(n) if n > room => {
                tracing::warn!(
                    configured = n,
                    open_files,
                    allowed = room,
                    "max_connections lowered to fit the open-files limit (raise the hard limit, \
                     e.g. LimitNOFILE= in systemd, to allow more)"
                );
                room
            }
            Some(n) => n,
            None => room,
        };
        Self {
            header_read_timeout: limits.header_read_timeout,
            keep_alive_timeout: limits.keep_alive_timeout,
            max_connections,
            max_per_client: limits.max_connections_per_client.max(1),
        }
    }
}

impl Default for ConnLimits {
    fn default() -> Self {
        Self::from_limits(&Limits::default())
    }
}

/// The open connections of the process, shared by both doors.
#[derive(Debug)]
pub struct Connections {
    limits: ConnLimits,
    state: Mutex<State>,
    next_id: AtomicU64,
    /// When the last refusal was logged (ms since `epoch`), to log one per second at most.
    last_warning: AtomicU64,
    epoch: Instant,
}

#[derive(Debug, Default)]
struct State {
    per_client: HashMap<IpAddr, usize>,
    open: HashMap<u64, (IpAddr, Arc<Activity>)>,
}

impl Default for Connections {
    fn default() -> Self {
        Self::new(ConnLimits::default())
    }
}

impl Connections {
    pub fn new(limits: ConnLimits) -> Self {
        Self {
            limits,
            state: Mutex::default(),
            next_id: AtomicU64::new(0),
            last_warning: AtomicU64::new(0),
            epoch: Instant::now(),
        }
    }

    pub fn limits(&self) -> &ConnLimits {
        &self.limits
    }

    /// Open connections.
    #[cfg(test)]
    fn open(&self) -> usize {
        self.state().open.len()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // Single inserts and removes: a poisoned lock is still consistent.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Admits a connection from `client`. At a cap (the client's, or the server's), the
    /// connection without a request in flight that has been idle the longest (of that client,
    /// or of all) is closed to make room; when every one is busy, `None`: close the new one.
    pub(crate) fn admit(self: &Arc<Self>, client: IpAddr) -> Option<Slot> {
        let mut state = self.state();
        let from_client = state.per_client.get(&client).copied().unwrap_or(0);
        if from_client >= self.limits.max_per_client {
            if !state.evict_idlest(Some(client)) {
                drop(state);
                self.refused(client, "its address holds max_connections_per_client");
                return None;
            }
        } else if state.open.len() >= self.limits.max_connections && !state.evict_idlest(None) {
            drop(state);
            self.refused(client, "the server holds max_connections");
            return None;
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let activity = Arc::new(Activity::new(self.epoch));
        state.open.insert(id, (client, Arc::clone(&activity)));
        *state.per_client.entry(client).or_default() += 1;
        Some(Slot {
            conns: Arc::clone(self),
            id,
            activity,
        })
    }

    fn refused(&self, client: IpAddr, why: &str) {
        let now = ms_since(self.epoch);
        let last = self.last_warning.load(Ordering::Relaxed);
        if now.saturating_sub(last) >= 1000
            && self
                .last_warning
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            tracing::warn!(%client, "refused a connection: {why} and every one is busy");
        }
    }

    fn release(&self, id: u64) {
        let mut state = self.state();
        if let Some((client, _)) = state.open.remove(&id) {
            state.forget(client);
        }
    }
}

impl State {
    /// Closes the open connection without a request in flight idle the longest (of `client`,
    /// or of all); `false` when there is none.
    fn evict_idlest(&mut self, client: Option<IpAddr>) -> bool {
        let idlest = self
            .open
            .iter()
            .filter(|(_, (ip, a))| client.is_none_or(|c| c == *ip) && a.is_idle())
            .min_by_key(|(id, (_, a))| (a.idle_since.load(Ordering::Relaxed), **id))
            .map(|(id, _)| *id);
        let Some(id) = idlest else {
            return false;
        };
        if let Some((ip, activity)) = self.open.remove(&id) {
            self.forget(ip);
            tracing::debug!(client = %ip, "closing an idle connection to make room");
            activity.evicted.cancel();
        }
        true
    }

    fn forget(&mut self, client: IpAddr) {
        if let Some(n) = self.per_client.get_mut(&client) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.per_client.remove(&client);
            }
        }
    }
}

/// A connection's place in the budget; given back when dropped.
#[derive(Debug)]
pub(crate) struct Slot {
    conns: Arc<Connections>,
    id: u64,
    activity: Arc<Activity>,
}

impl Slot {
    pub(crate) fn activity(&self) -> &Arc<Activity> {
        &self.activity
    }

    pub(crate) fn limits(&self) -> &ConnLimits {
        &self.conns.limits
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.conns.release(self.id);
    }
}

/// What one connection is doing, updated by its I/O and its requests.
#[derive(Debug)]
pub(crate) struct Activity {
    epoch: Instant,
    /// Requests whose answer has not been sent whole yet (event streams included).
    in_flight: AtomicUsize,
    /// Requests answered so far.
    served: AtomicUsize,
    /// When the connection last became idle (ms since `epoch`).
    idle_since: AtomicU64,
    /// When the first byte of the next request head arrived (ms since `epoch`, plus one; 0:
    /// none yet).
    head_started: AtomicU64,
    /// Told when a request ends.
    pub(crate) changed: Notify,
    /// Cancelled when the connection must close to make room for another.
    pub(crate) evicted: CancellationToken,
}

impl Activity {
    fn new(epoch: Instant) -> Self {
        Self {
            epoch,
            in_flight: AtomicUsize::new(0),
            served: AtomicUsize::new(0),
            idle_since: AtomicU64::new(ms_since(epoch)),
            head_started: AtomicU64::new(0),
            changed: Notify::new(),
            evicted: CancellationToken::new(),
        }
    }

    fn is_idle(&self) -> bool {
        self.in_flight.load(Ordering::Acquire) == 0
    }

    /// Bytes arrived: while no request is in flight, they start a request head.
    pub(crate) fn read_some(&self) {
        if self.is_idle() && self.head_started.load(Ordering::Relaxed) == 0 {
            self.head_started
                .store(ms_since(self.epoch) + 1, Ordering::Relaxed);
        }
    }

    /// A request head was read whole.
    pub(crate) fn request_started(&self) {
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        self.head_started.store(0, Ordering::Relaxed);
    }

    /// A request's answer was sent whole (or abandoned).
    pub(crate) fn request_ended(&self) {
        self.served.fetch_add(1, Ordering::Relaxed);
        self.idle_since
            .store(ms_since(self.epoch), Ordering::Relaxed);
        self.in_flight.fetch_sub(1, Ordering::AcqRel);
        self.changed.notify_one();
    }

    /// When the connection must close if nothing changes: `None` while a request is in flight.
    pub(crate) fn deadline(&self, limits: &ConnLimits) -> Option<Instant> {
        if !self.is_idle() {
            return None;
        }
        let at = |ms: u64, after: Duration| self.epoch + Duration::from_millis(ms) + after;
        match self.head_started.load(Ordering::Relaxed) {
            0 => {
                let wait = if self.served.load(Ordering::Relaxed) == 0 {
                    limits.header_read_timeout
                } else {
                    limits.keep_alive_timeout
                };
                Some(at(self.idle_since.load(Ordering::Relaxed), wait))
            }
            started => {
                let head = at(started - 1, limits.header_read_timeout);
                // A head begun late in a keep-alive wait still gets its full time.
                Some(head.max(at(self.idle_since.load(Ordering::Relaxed), Duration::ZERO)))
            }
        }
    }
}

fn ms_since(epoch: Instant) -> u64 {
    u64::try_from(epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn conns(max: usize, per_client: usize) -> Arc<Connections> {
        Arc::new(Connections::new(ConnLimits {
            header_read_timeout: Duration::from_secs(10),
            keep_alive_timeout: Duration::from_secs(60),
            max_connections: max,
            max_per_client: per_client,
        }))
    }

    #[test]
    fn at_a_cap_the_idlest_connection_makes_room_and_busy_ones_never_do() {
        let a: IpAddr = [127, 0, 0, 2].into();
        let b: IpAddr = [127, 0, 0, 3].into();
        let c = conns(3, 2);
        let first = c.admit(a).unwrap();
        let second = c.admit(a).unwrap();
        // The client's cap: its idlest (the first) makes room.
        let third = c.admit(a).unwrap();
        assert!(first.activity().evicted.is_cancelled());
        assert!(!second.activity().evicted.is_cancelled());
        drop(first);
        assert_eq!(c.open(), 2);
        // Busy connections are never closed: the client's next one is refused.
        second.activity().request_started();
        third.activity().request_started();
        assert!(c.admit(a).is_none());
        // Another client fills the server's cap; then that client's idle one makes room.
        let other = c.admit(b).unwrap();
        let again = c.admit(b).unwrap();
        assert!(other.activity().evicted.is_cancelled());
        drop(other);
        again.activity().request_started();
        assert!(c.admit(b).is_none());
        // A request that ends makes its connection idle again, hence a candidate.
        third.activity().request_ended();
        assert!(c.admit(b).is_some());
        assert!(third.activity().evicted.is_cancelled());
    }

    #[test]
    fn deadlines_follow_what_the_connection_is_doing() {
        let c = conns(10, 10);
        let s = c.admit([127, 0, 0, 1].into()).unwrap();
        let a = s.activity();
        let limits = s.limits().clone();
        let opened = a.deadline(&limits).unwrap();
        a.request_started();
        assert_eq!(a.deadline(&limits), None);
        a.request_ended();
        // Kept alive: the longer keep-alive wait, from now.
        let idle = a.deadline(&limits).unwrap();
        assert!(
            idle >= opened + Duration::from_secs(50),
            "{idle:?} {opened:?}"
        );
        a.read_some();
        let head = a.deadline(&limits).unwrap();
        assert!(head < idle, "a started head has the header timeout");
        a.request_started();
        a.read_some();
        assert_eq!(a.deadline(&limits), None, "body bytes start no head");
    }
}
