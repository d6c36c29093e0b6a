//! A short-lived map VMID → (node, kind) built from one `GET /cluster/resources?type=vm`, so a
//! tool given only a VMID finds its node without a request per node. Trusted for `ttl`, dropped
//! on a miss and after calls that create, delete or move guests.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

/// QEMU VM or LXC container.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GuestKind {
    Qemu,
    Lxc,
}

impl GuestKind {
    /// `qemu` or `lxc`, as in API paths and `/cluster/resources` `type`.
    pub fn as_str(self) -> &'static str {
        match self {
            GuestKind::Qemu => "qemu",
            GuestKind::Lxc => "lxc",
        }
    }

    /// `qemu` → Qemu, `lxc` → Lxc.
    pub fn from_type(s: &str) -> Option<Self> {
        match s {
            "qemu" => Some(GuestKind::Qemu),
            "lxc" => Some(GuestKind::Lxc),
            _ => None,
        }
    }

    /// "VM" or "CT", for messages.
    pub fn noun(self) -> &'static str {
        match self {
            GuestKind::Qemu => "VM",
            GuestKind::Lxc => "CT",
        }
    }
}

impl std::fmt::Display for GuestKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a guest lives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GuestLocation {
    pub vmid: u32,
    pub node: String,
    pub kind: GuestKind,
}

type Map = Arc<HashMap<u32, GuestLocation>>;

pub(crate) struct GuestCache {
    ttl: Duration,
    state: Mutex<Option<(Instant, Map)>>,
}

impl GuestCache {
    pub(crate) fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            state: Mutex::new(None),
        }
    }

    /// The cached location, if the map is fresh and holds the VMID.
    pub(crate) fn get(&self, vmid: u32) -> Option<GuestLocation> {
        let g = self.state.lock().ok()?;
        let (at, map) = g.as_ref()?;
        if at.elapsed() >= self.ttl {
            return None;
        }
        map.get(&vmid).cloned()
    }

    /// Replaces the map.
    pub(crate) fn store(&self, locations: impl IntoIterator<Item = GuestLocation>) {
        let map: HashMap<u32, GuestLocation> = locations.into_iter().map(|l| (l.vmid, l)).collect();
        if let Ok(mut g) = self.state.lock() {
            *g = Some((Instant::now(), Arc::new(map)));
        }
    }

    /// Drops the map.
    pub(crate) fn invalidate(&self) {
        if let Ok(mut g) = self.state.lock() {
            *g = None;
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn cache_hits_misses_and_invalidation() {
        let c = GuestCache::new(Duration::from_secs(3600));
        assert_eq!(c.get(100), None);
        c.store([GuestLocation {
            vmid: 100,
            node: "pve1".into(),
            kind: GuestKind::Qemu,
        }]);
        assert_eq!(c.get(100).unwrap().node, "pve1");
        assert_eq!(c.get(101), None);
        c.invalidate();
        assert_eq!(c.get(100), None);
        let expired = GuestCache::new(Duration::ZERO);
        expired.store([GuestLocation {
            vmid: 100,
            node: "pve1".into(),
            kind: GuestKind::Lxc,
        }]);
        assert_eq!(expired.get(100), None);
    }
}
