//! `FactsCache`: what `/cluster/resources` needs that only a write can change, kept between
//! requests: each guest's config facts and static JSON members, the space volumes take per
//! storage, and the pools in use. Reading 10,000 config maps and every volume per request would be
//! most of that route's cost.
//!
//! The dispatcher invalidates the cache on every write call and `SimServer::with_sim` after its
//! closure; it also rebuilds itself when a task has ended (tasks change guests and volumes), when
//! the number of nodes changed or when the guests are not the same VMIDs. Code that changes a
//! `Sim` by hand calls [`FactsCache::invalidate`].

use std::collections::{BTreeSet, HashMap};

use crate::metrics::{GuestFacts, guest_facts};
use crate::state::{Cluster, Guest};

/// [`GuestFacts`] with owned strings, plus what `/cluster/resources` writes of the guest that
/// only a write can change: the index of its node (in `cluster.nodes` order) and its entry's
/// static JSON members.
#[derive(Debug, Clone, PartialEq)]
pub struct OwnedFacts {
    pub vmid: u32,
    /// Position of the guest's node in `cluster.nodes` (`usize::MAX` when the node is unknown).
    pub node: usize,
    /// The entry's JSON text up to the live figures (the object left open).
    pub head: String,
    /// The entry's optional members and closing brace.
    pub tail: String,
    pub maxmem: u64,
    pub cpus: u64,
    pub maxdisk: u64,
    pub name: Option<String>,
    pub tags: Option<String>,
    pub lock: Option<String>,
    pub template: bool,
}

impl OwnedFacts {
    fn read(g: &Guest, node: usize) -> Self {
        let f = guest_facts(g);
        let (head, tail) = crate::routes::resources::static_json(g, &f);
        Self {
            vmid: g.vmid,
            node,
            head,
            tail,
            maxmem: f.maxmem,
            cpus: f.cpus,
            maxdisk: f.maxdisk,
            name: f.name.map(str::to_string),
            tags: f.tags.map(str::to_string),
            lock: f.lock.map(str::to_string),
            template: f.template,
        }
    }

    /// The borrowed view.
    pub fn facts(&self) -> GuestFacts<'_> {
        GuestFacts {
            maxmem: self.maxmem,
            cpus: self.cpus,
            maxdisk: self.maxdisk,
            name: self.name.as_deref(),
            tags: self.tags.as_deref(),
            lock: self.lock.as_deref(),
            template: self.template,
        }
    }
}

/// The cached facts of a cluster (see the module documentation).
#[derive(Debug, Default)]
pub struct Facts {
    /// One entry per guest, in `cluster.guests` order.
    pub guests: Vec<OwnedFacts>,
    /// Bytes used by volumes on each non-shared storage, per `(storage, node)`.
    pub local_use: HashMap<(String, String), u64>,
    /// Bytes used by volumes on each shared storage.
    pub shared_use: HashMap<String, u64>,
    /// Pools that guests belong to, sorted.
    pub pools: Vec<String>,
}

impl Facts {
    fn read(cluster: &Cluster) -> Self {
        let index: HashMap<&str, usize> = cluster
            .nodes
            .keys()
            .enumerate()
            .map(|(i, n)| (n.as_str(), i))
            .collect();
        let guests = cluster
            .guests
            .values()
            .map(|g| {
                let node = index.get(g.node.as_str()).copied().unwrap_or(usize::MAX);
                OwnedFacts::read(g, node)
            })
            .collect();
        let mut local: HashMap<(&str, &str), u64> = HashMap::new();
        let mut shared: HashMap<&str, u64> = HashMap::new();
        for v in &cluster.volumes {
            let is_shared = cluster
                .storages
                .get(v.storage.as_str())
                .is_some_and(|s| s.shared);
            if is_shared {
                *shared.entry(v.storage.as_str()).or_default() += v.size;
            } else {
                *local
                    .entry((v.storage.as_str(), v.node.as_str()))
                    .or_default() += v.size;
            }
        }
        let pools: BTreeSet<&str> = cluster
            .guests
            .values()
            .filter_map(|g| g.pool.as_deref())
            .chain(cluster.pools.keys().map(String::as_str))
            .collect();
        Self {
            guests,
            local_use: local
                .into_iter()
                .map(|((s, n), u)| ((s.to_string(), n.to_string()), u))
                .collect(),
            shared_use: shared
                .into_iter()
                .map(|(s, u)| (s.to_string(), u))
                .collect(),
            pools: pools.into_iter().map(str::to_string).collect(),
        }
    }

    /// Bytes used by volumes on `storage` as seen from `node`.
    pub fn storage_use(&self, storage: &str, node: &str, shared: bool) -> u64 {
        if shared {
            self.shared_use.get(storage).copied().unwrap_or(0)
        } else {
            self.local_use
                .get(&(storage.to_string(), node.to_string()))
                .copied()
                .unwrap_or(0)
        }
    }
}

/// [`Facts`] kept until something may have changed them.
#[derive(Debug, Default)]
pub struct FactsCache {
    valid: bool,
    tasks_ended: u64,
    nodes: usize,
    facts: Facts,
}

impl FactsCache {
    /// Forgets the cached facts.
    pub fn invalidate(&mut self) {
        self.valid = false;
    }

    /// The facts of `cluster`, re-read when invalidated, when `tasks_ended` moved, when the
    /// number of nodes changed or when the guests are not the same VMIDs.
    pub fn get(&mut self, cluster: &Cluster, tasks_ended: u64) -> &Facts {
        let fresh = self.valid
            && self.tasks_ended == tasks_ended
            && self.nodes == cluster.nodes.len()
            && self.facts.guests.len() == cluster.guests.len()
            && self
                .facts
                .guests
                .iter()
                .zip(cluster.guests.keys())
                .all(|(e, vmid)| e.vmid == *vmid);
        if !fresh {
            self.facts = Facts::read(cluster);
            self.nodes = cluster.nodes.len();
            self.tasks_ended = tasks_ended;
            self.valid = true;
        }
        &self.facts
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use serde_json::json;

    use super::*;

    #[test]
    fn cache_follows_invalidation() {
        let mut c = crate::seed::demo_at(1_790_000_000.0);
        let mut cache = FactsCache::default();
        let maxmem =
            |cache: &mut FactsCache, c: &Cluster, ended| cache.get(c, ended).guests[0].maxmem;
        assert_eq!(maxmem(&mut cache, &c, 0), 4096 << 20);
        let set_memory = |c: &mut Cluster, mib: &str| {
            c.guests
                .get_mut(&100)
                .unwrap()
                .config
                .insert("memory".into(), json!(mib));
        };
        set_memory(&mut c, "8192");
        assert_eq!(maxmem(&mut cache, &c, 0), 4096 << 20, "cached until told");
        assert_eq!(maxmem(&mut cache, &c, 1), 8192 << 20, "a task ended");
        set_memory(&mut c, "1024");
        cache.invalidate();
        assert_eq!(maxmem(&mut cache, &c, 1), 1024 << 20);
        c.guests.remove(&101);
        assert_eq!(
            cache.get(&c, 1).guests.len(),
            c.guests.len(),
            "guests changed"
        );
    }

    #[test]
    fn storage_use_and_pools_follow_the_cluster() {
        let mut c = crate::seed::demo_at(1_790_000_000.0);
        let mut cache = FactsCache::default();
        let before = cache.get(&c, 0).storage_use("local-lvm", "pve01", false);
        let total: u64 = c
            .volumes
            .iter()
            .filter(|v| v.storage == "local-lvm" && v.node == "pve01")
            .map(|v| v.size)
            .sum();
        assert_eq!(before, total);
        assert!(before > 0);
        let v = c
            .volumes
            .iter_mut()
            .find(|v| v.storage == "local-lvm" && v.node == "pve01")
            .unwrap();
        v.size += 1 << 30;
        c.guests.get_mut(&100).unwrap().pool = Some("zz-new".into());
        cache.invalidate();
        let f = cache.get(&c, 0);
        assert_eq!(
            f.storage_use("local-lvm", "pve01", false),
            total + (1 << 30)
        );
        assert!(f.pools.iter().any(|p| p == "zz-new"));
        assert!(
            f.pools.windows(2).all(|w| w[0] < w[1]),
            "sorted, no duplicates"
        );
    }
}
