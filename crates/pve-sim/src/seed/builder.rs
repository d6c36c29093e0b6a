//! `ClusterBuilder`: clusters of any shape for tests and benchmarks (up to 50 nodes and 10,000
//! guests), deterministic for a given shape and epoch.

use std::collections::HashMap;

use crate::state::{AgentState, Cluster, GuestKind, SimTime, Storage};

use super::parts::{self, GIB, GuestSpec, PROFILES};

/// Most nodes a builder makes.
pub(super) const MAX_NODES: usize = 50;
/// Most guests (VMs, containers and templates) a builder makes.
pub(super) const MAX_GUESTS: usize = 10_000;

const ROLES: [&str; 10] = [
    "web",
    "db",
    "app",
    "cache",
    "worker",
    "k8s-node",
    "ci-runner",
    "mail",
    "proxy",
    "monitor",
];

/// Builds a [`Cluster`]: `ClusterBuilder::new().nodes(3).vms(20).cts(5).build()`.
///
/// Nodes are `pve01`, `pve02`, ...; VMs get VMIDs from 100, containers follow, templates are
/// 9000 and up; guests are spread round-robin over the nodes, an even share of them running.
#[derive(Debug, Clone)]
pub struct ClusterBuilder {
    name: Option<String>,
    nodes: usize,
    vms: usize,
    cts: usize,
    templates: usize,
    running: f64,
    ct_running: Option<f64>,
    agent: bool,
    offline: Vec<String>,
    default_storages: bool,
    storages: Vec<Storage>,
    totals: Vec<(String, u64)>,
    epoch: Option<SimTime>,
    first_vmid: u32,
    first_ct_vmid: Option<u32>,
    library: bool,
    seed: u64,
}

impl Default for ClusterBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl ClusterBuilder {
    /// Three online nodes in `test-cluster`, no guests, the default storages, 70% running.
    pub fn new() -> Self {
        Self {
            name: Some("test-cluster".to_string()),
            nodes: 3,
            vms: 0,
            cts: 0,
            templates: 0,
            running: 0.7,
            ct_running: None,
            agent: true,
            offline: Vec::new(),
            default_storages: true,
            storages: Vec::new(),
            totals: Vec::new(),
            epoch: None,
            first_vmid: 100,
            first_ct_vmid: None,
            library: true,
            seed: 0,
        }
    }

    /// Cluster name.
    pub fn name(mut self, name: &str) -> Self {
        self.name = Some(name.to_string());
        self
    }

    /// A standalone node: one node, no cluster name.
    pub fn standalone(mut self) -> Self {
        self.name = None;
        self.nodes = 1;
        self
    }

    /// Number of nodes (1..=50).
    pub fn nodes(mut self, n: usize) -> Self {
        self.nodes = n.clamp(1, MAX_NODES);
        self
    }

    /// Number of QEMU VMs (templates not included).
    pub fn vms(mut self, n: usize) -> Self {
        self.vms = n;
        self
    }

    /// Number of LXC containers.
    pub fn cts(mut self, n: usize) -> Self {
        self.cts = n;
        self
    }

    /// Number of QEMU templates (VMIDs 9000 and up).
    pub fn templates(mut self, n: usize) -> Self {
        self.templates = n;
        self
    }

    /// Fraction of guests running (0..=1); also applies to containers unless
    /// [`ClusterBuilder::ct_running_fraction`] says otherwise.
    pub fn running_fraction(mut self, f: f64) -> Self {
        self.running = f.clamp(0.0, 1.0);
        self
    }

    /// Fraction of containers running (0..=1).
    pub fn ct_running_fraction(mut self, f: f64) -> Self {
        self.ct_running = Some(f.clamp(0.0, 1.0));
        self
    }

    /// Whether the VMs have the guest agent enabled and running (default true).
    pub fn agent(mut self, on: bool) -> Self {
        self.agent = on;
        self
    }

    /// Marks a node offline (its guests are stopped).
    pub fn node_offline(mut self, name: &str) -> Self {
        self.offline.push(name.to_string());
        self
    }

    /// Adds (or replaces) a storage.
    pub fn storage(mut self, s: Storage) -> Self {
        self.storages.push(s);
        self
    }

    /// Leaves out `local`, `local-lvm` and `nfs-backup` (guests still reference `local-lvm`).
    pub fn no_default_storages(mut self) -> Self {
        self.default_storages = false;
        self
    }

    /// Sets a storage's capacity in bytes (per node for non-shared storages), applied after
    /// the guests are placed: handy to make a nearly full storage.
    pub fn storage_total(mut self, storage: &str, bytes: u64) -> Self {
        self.totals.push((storage.to_string(), bytes));
        self
    }

    /// The epoch the cluster is built around (default: now). Use the simulator's clock time.
    pub fn epoch(mut self, t: SimTime) -> Self {
        self.epoch = Some(t);
        self
    }

    /// First VMID for VMs (default 100).
    pub fn first_vmid(mut self, vmid: u32) -> Self {
        self.first_vmid = vmid.max(100);
        self
    }

    /// First VMID for containers (default: right after the VMs).
    pub fn first_ct_vmid(mut self, vmid: u32) -> Self {
        self.first_ct_vmid = Some(vmid.max(100));
        self
    }

    /// Whether each node's `local` holds the ISO and container-template library (default true).
    pub fn library(mut self, on: bool) -> Self {
        self.library = on;
        self
    }

    /// Varies what the guests are (role and name, size, which ones run) deterministically: the
    /// same seed gives the same cluster. Seed 0, the default, is the plain round-robin layout.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Builds the cluster.
    pub fn build(self) -> Cluster {
        let epoch = self.epoch.unwrap_or_else(super::wall_now);
        let mut c = Cluster {
            name: self.name.clone(),
            config_version: self.nodes as u32,
            ..Cluster::default()
        };
        let names: Vec<String> = (1..=self.nodes).map(|i| format!("pve{i:02}")).collect();
        for (i, name) in names.iter().enumerate() {
            let online = !self.offline.iter().any(|o| o == name);
            let node = parts::make_node(
                name,
                i as u32 + 1,
                PROFILES[i % PROFILES.len()],
                epoch,
                online,
            );
            c.nodes.insert(name.clone(), node);
        }
        if self.default_storages {
            for s in parts::default_storages(100_861_726_720, 2 << 40, 8 << 40) {
                c.storages.insert(s.id.clone(), s);
            }
            if self.library {
                for n in &names {
                    c.volumes.extend(parts::library_volumes(n, epoch));
                }
            }
        }
        for s in &self.storages {
            c.storages.insert(s.id.clone(), s.clone());
        }
        let vms = self.vms.min(MAX_GUESTS);
        let cts = self.cts.min(MAX_GUESTS - vms);
        let templates = self.templates.min(MAX_GUESTS - vms - cts);
        c.volumes.reserve(vms + cts + templates);
        let ct_running = self.ct_running.unwrap_or(self.running);
        for i in 0..vms {
            let vmid = self.first_vmid + i as u32;
            let running = self.runs(i, i, self.running);
            let spec = self.spec(&c, &names, i, vmid, running, false);
            push(&mut c, GuestKind::Qemu, &spec, epoch);
        }
        let first_ct = self.first_ct_vmid.unwrap_or(self.first_vmid + vms as u32);
        for i in 0..cts {
            let vmid = first_ct + i as u32;
            let running = self.runs(i, vms + i, ct_running);
            let mut spec = self.spec(&c, &names, vms + i, vmid, running, false);
            spec.memory_mib = [512, 1024, 2048][i % 3];
            spec.cores = 1 + (i as u64 % 2);
            spec.disk_gib = 8;
            spec.ostype = if i % 4 == 3 { "ubuntu" } else { "debian" }.to_string();
            push(&mut c, GuestKind::Lxc, &spec, epoch);
        }
        let after = (self.first_vmid + vms as u32).max(first_ct + cts as u32);
        let first_template = if after <= 9000 { 9000 } else { after };
        for i in 0..templates {
            let vmid = first_template + i as u32;
            let mut spec = self.spec(&c, &names, i, vmid, false, true);
            spec.name = format!("template-{:02}", i + 1);
            push(&mut c, GuestKind::Qemu, &spec, epoch);
        }
        self.size_storages(&mut c);
        super::datacenter::define_guest_pools(&mut c);
        super::datacenter::builder_jobs(&mut c);
        c
    }

    /// Whether a guest runs when a fraction `f` of its kind do: spread evenly over its index
    /// within its kind (`nth`), or drawn from the seed and its index among all guests.
    fn runs(&self, nth: usize, i: usize, f: f64) -> bool {
        if self.seed == 0 {
            return evenly(nth, f);
        }
        parts::frac(self.seed ^ (i as u64).wrapping_mul(0x9E37_79B9), 0.0, 1.0) < f
    }

    /// The layout index of guest `i`: itself, or a seeded draw.
    fn pick(&self, i: usize, salt: u64) -> usize {
        if self.seed == 0 {
            i
        } else {
            parts::mix(self.seed ^ salt.wrapping_mul(0x100_0000_01B3) ^ i as u64) as usize
        }
    }

    fn spec(
        &self,
        c: &Cluster,
        names: &[String],
        i: usize,
        vmid: u32,
        running: bool,
        template: bool,
    ) -> GuestSpec {
        let node = &names[i % names.len()];
        let online = c.nodes.get(node).is_some_and(|n| n.online);
        let role = ROLES[self.pick(i, 1) % ROLES.len()];
        let name = if self.seed == 0 {
            format!("{role}-{:02}", i / ROLES.len() + 1)
        } else {
            format!("{role}-{:04}", i + 1)
        };
        let mut s = GuestSpec::new(vmid, node, &name);
        s.running = running && online && !template;
        s.onboot = s.running;
        s.template = template;
        s.memory_mib = [1024, 2048, 4096, 8192][self.pick(i, 2) % 4];
        s.cores = [1, 2, 4][self.pick(i, 3) % 3];
        s.disk_gib = [16, 32, 64][self.pick(i, 4) % 3];
        s.agent_enabled = self.agent;
        s.agent = if self.agent {
            AgentState::Running
        } else {
            AgentState::Missing
        };
        s.tags = Some(match role {
            "web" | "proxy" => "prod;web".to_string(),
            "db" | "cache" => "prod;db".to_string(),
            "ci-runner" => "ci".to_string(),
            other => other.to_string(),
        });
        s
    }

    /// Makes the default images storage large enough for its busiest node, then applies the
    /// explicit capacities.
    fn size_storages(&self, c: &mut Cluster) {
        let mut per_node: HashMap<(&str, &str), u64> = HashMap::new();
        for v in &c.volumes {
            *per_node
                .entry((v.storage.as_str(), v.node.as_str()))
                .or_default() += v.size;
        }
        let mut need: HashMap<String, u64> = HashMap::new();
        for ((storage, _), used) in per_node {
            let e = need.entry(storage.to_string()).or_default();
            *e = (*e).max(used);
        }
        if let Some(lvm) = c.storages.get_mut("local-lvm") {
            let used = need.get("local-lvm").copied().unwrap_or(0);
            let wanted = (used + used / 2).div_ceil(256 * GIB) * 256 * GIB;
            lvm.total = lvm.total.max(wanted);
        }
        for (id, bytes) in &self.totals {
            if let Some(s) = c.storages.get_mut(id) {
                s.total = *bytes;
            }
        }
    }
}

/// Whether the `i`th guest is running when a fraction `f` of them run, spread evenly.
fn evenly(i: usize, f: f64) -> bool {
    ((i + 1) as f64 * f).ceil() > (i as f64 * f).ceil()
}

fn push(c: &mut Cluster, kind: GuestKind, spec: &GuestSpec, epoch: SimTime) {
    let (g, vols) = match kind {
        GuestKind::Qemu => parts::qemu(spec, epoch),
        GuestKind::Lxc => parts::lxc(spec, epoch),
    };
    c.guests.insert(g.vmid, g);
    c.volumes.extend(vols);
}
