//! Migration: `GET /nodes/{node}/qemu/{vmid}/migrate` (the preconditions: allowed nodes, local
//! disks and resources), `GET .../lxc/{vmid}/migrate` (running, allowed nodes) and `POST .../qemu/{vmid}/migrate` / `.../lxc/{vmid}/migrate`, which
//! check what PVE checks before forking and then run a `qmigrate`/`vzmigrate` task (or
//! `hamigrate` for HA-managed VMs) holding `lock: migrate`. When the task ends the guest and its
//! volumes on local storages are on the target node; a running VM keeps running (`online`), a
//! running container is restarted there (`restart`).

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use crate::Sim;
use crate::guest;
use crate::route::{ApiError, Call, Method, Perm, Route};
use crate::state::{Cluster, Guest, GuestKind, PowerState, SimTime, is_disk_key};
use crate::tasks::TaskSpec;

const MIGRATE: Perm = Perm::Vm(&["VM.Migrate"]);

/// The routes of this module.
pub(super) fn routes() -> Vec<Route> {
    let r = |method, path, handler| Route::new(method, path, MIGRATE, handler);
    vec![
        r(
            Method::Get,
            "/nodes/{node}/qemu/{vmid}/migrate",
            precondition,
        ),
        r(
            Method::Get,
            "/nodes/{node}/lxc/{vmid}/migrate",
            ct_precondition,
        ),
        r(Method::Post, "/nodes/{node}/qemu/{vmid}/migrate", |s, c| {
            migrate(s, c, GuestKind::Qemu)
        }),
        r(Method::Post, "/nodes/{node}/lxc/{vmid}/migrate", |s, c| {
            migrate(s, c, GuestKind::Lxc)
        }),
    ]
}

/// A volume of the guest on a local (non-shared) storage.
#[derive(Debug, Clone)]
struct LocalDisk {
    volid: String,
    storage: String,
    size: u64,
    cdrom: bool,
    unused: bool,
}

/// The guest's volumes on storages that are not shared (disks, unused disks, local ISOs).
fn local_disks(c: &Cluster, g: &Guest) -> Vec<LocalDisk> {
    let mut out: Vec<LocalDisk> = Vec::new();
    for (k, v) in &g.config {
        let Some(spec) = v.as_str() else { continue };
        let unused = k.starts_with("unused");
        if !is_disk_key(g.kind, k) && !unused {
            continue;
        }
        let Some(volid) = guest::disk_volid(spec).filter(|v| v.contains(':')) else {
            continue;
        };
        let Some(storage) = guest::volid_storage(volid) else {
            continue;
        };
        if c.storages.get(storage).is_some_and(|s| s.shared) || out.iter().any(|d| d.volid == volid)
        {
            continue;
        }
        let size = c
            .volumes
            .iter()
            .find(|x| x.volid == volid && x.node == g.node)
            .map_or(0, |x| x.size);
        out.push(LocalDisk {
            volid: volid.to_string(),
            storage: storage.to_string(),
            size,
            cdrom: spec.contains("media=cdrom"),
            unused,
        });
    }
    out
}

/// The storages a guest uses (every volume its config refers to).
fn used_storages(g: &Guest) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for volid in guest::referenced_volumes(g) {
        if let Some(s) = guest::volid_storage(&volid)
            && !out.iter().any(|x| x == s)
        {
            out.push(s.to_string());
        }
    }
    out
}

/// Storages the guest uses that are not available (defined and enabled) on `node`.
fn unavailable_on(
    c: &Cluster,
    g: &Guest,
    node: &str,
    map: &BTreeMap<String, String>,
) -> Vec<String> {
    used_storages(g)
        .into_iter()
        .map(|s| map.get(&s).cloned().unwrap_or(s))
        .filter(|s| {
            !c.storages
                .get(s)
                .is_some_and(|st| guest::storage_on_node(st, node))
        })
        .collect()
}

/// The nodes a precondition call considers: the other online nodes, or only `target` if given.
fn candidates<'a>(c: &'a Cluster, node: &str, target: Option<&str>) -> Vec<&'a str> {
    c.nodes
        .values()
        .filter(|n| n.name != node && n.online)
        .filter(|n| target.is_none_or(|t| t == n.name))
        .map(|n| n.name.as_str())
        .collect()
}

/// `GET /nodes/{node}/lxc/{vmid}/migrate` (PVE 9): whether the container runs and where it may
/// go. Only HA resource-affinity rules make a node not allowed for a container (storages are
/// checked by the migration itself); the simulator has no such rules, so every candidate node
/// is allowed and no HA resource depends on the container.
fn ct_precondition(sim: &mut Sim, call: &Call) -> Result<Value, ApiError> {
    let node = call.node()?;
    let g = sim.guest_on(node, call.vmid()?, GuestKind::Lxc)?;
    let allowed = candidates(&sim.cluster, node, call.str("target"));
    Ok(json!({
        "running": u8::from(g.status == PowerState::Running),
        "allowed-nodes": allowed,
        "not-allowed-nodes": {},
        "dependent-ha-resources": [],
    }))
}

/// `GET /nodes/{node}/qemu/{vmid}/migrate`: what would stand in the way of a migration.
fn precondition(sim: &mut Sim, call: &Call) -> Result<Value, ApiError> {
    let node = call.node()?;
    let g = sim.guest_on(node, call.vmid()?, GuestKind::Qemu)?;
    let c = &sim.cluster;
    let mut allowed = Vec::new();
    let mut not_allowed = Map::new();
    let none = BTreeMap::new();
    for n in candidates(c, node, call.str("target")) {
        let missing = unavailable_on(c, g, n, &none);
        if missing.is_empty() {
            allowed.push(json!(n));
        } else {
            not_allowed.insert(n.to_string(), json!({ "unavailable_storages": missing }));
        }
    }
    let disks: Vec<Value> = local_disks(c, g)
        .into_iter()
        .map(|d| {
            json!({
                "volid": d.volid,
                "size": d.size,
                "cdrom": u8::from(d.cdrom),
                "is_unused": u8::from(d.unused),
            })
        })
        .collect();
    let local_resources: Vec<Value> = g
        .config
        .keys()
        .filter(|k| k.starts_with("hostpci") || k.starts_with("usb"))
        .map(|k| json!(k))
        .collect();
    Ok(json!({
        "running": u8::from(g.status == PowerState::Running),
        "allowed_nodes": allowed,
        "not_allowed_nodes": not_allowed,
        "local_disks": disks,
        "local_resources": local_resources,
        "mapped-resources": [],
        "mapped-resource-info": {},
        "has-dbus-vmstate": 1,
    }))
}

/// Parses a `storage-pair-list` (`target` or `source:target,...`) into a source → target map
/// over the storages the guest uses.
fn storage_map(spec: Option<&str>, used: &[String]) -> BTreeMap<String, String> {
    let mut map = BTreeMap::new();
    let Some(spec) = spec else { return map };
    for part in spec.split([',', ';']).filter(|s| !s.is_empty()) {
        match part.split_once(':') {
            Some((from, to)) => {
                map.insert(from.to_string(), to.to_string());
            }
            None => {
                for s in used {
                    map.insert(s.clone(), part.to_string());
                }
            }
        }
    }
    map
}

/// `POST .../migrate` for a VM or a container.
fn migrate(sim: &mut Sim, call: &Call, kind: GuestKind) -> Result<Value, ApiError> {
    let node = call.node()?.to_string();
    let vmid = call.vmid()?;
    let target = call.req_str("target")?.to_string();
    if target == node {
        return Err(ApiError::param("target", "target is local node."));
    }
    if !sim.cluster.nodes.contains_key(&target) {
        return Err(ApiError::internal(format!(
            "no such cluster node '{target}'"
        )));
    }
    let g = sim.guest_on(&node, vmid, kind)?;
    guest::check_lock(g, false)?;
    let running = g.status == PowerState::Running;
    let online = call.bool("online").unwrap_or(false);
    let restart = call.bool("restart").unwrap_or(false);
    if running && kind == GuestKind::Qemu && !online {
        return Err(ApiError::internal(
            "can't migrate running VM without --online",
        ));
    }
    if running && kind == GuestKind::Lxc && !online && !restart {
        return Err(ApiError::internal(
            "can't migrate running container without --online or --restart",
        ));
    }
    let map_param = match kind {
        GuestKind::Qemu => call.str("targetstorage"),
        GuestKind::Lxc => call.str("target-storage"),
    };
    let map = storage_map(map_param, &used_storages(g));
    let c = &sim.cluster;
    let content = match kind {
        GuestKind::Qemu => "images",
        GuestKind::Lxc => "rootdir",
    };
    for to in map.values() {
        guest::check_storage(c, to, &target, content).map_err(ApiError::internal)?;
    }
    if let Some(s) = unavailable_on(c, g, &target, &map).first() {
        return Err(ApiError::internal(format!(
            "storage '{s}' is not available on node '{target}'"
        )));
    }
    let disks = local_disks(c, g);
    let disk_gib = disks.iter().map(|d| d.size).sum::<u64>() as f64 / f64::from(1u32 << 30);
    let mem_gib = g.maxmem() as f64 / f64::from(1u32 << 30);
    let ha = kind == GuestKind::Qemu && g.hastate.is_some();
    let plan = Plan {
        vmid,
        kind,
        node: node.clone(),
        target: target.clone(),
        online: online && running,
        restart: restart && running,
        with_local_disks: call.bool("with-local-disks").unwrap_or(false),
        disks,
        map,
    };
    let duration = 3.0 + disk_gib * 0.25 + if plan.online { mem_gib * 1.5 } else { 0.0 };
    if let Some(g) = sim.cluster.guests.get_mut(&vmid) {
        g.config.insert("lock".into(), json!("migrate"));
    }
    let (task, log) = match (kind, ha) {
        (GuestKind::Qemu, true) => (
            "hamigrate",
            vec![format!(
                "Requesting HA migration for VM {vmid} to node {target}"
            )],
        ),
        (GuestKind::Qemu, false) => ("qmigrate", Vec::new()),
        (GuestKind::Lxc, _) => ("vzmigrate", Vec::new()),
    };
    let upid = sim.spawn_task(TaskSpec {
        node,
        kind: task.into(),
        id: vmid.to_string(),
        user: guest::task_user(call),
        duration,
        log,
        lock_vmid: Some(vmid),
        finish: Box::new(move |cluster, end| plan.run(cluster, end, duration)),
    });
    Ok(Value::String(upid))
}

/// What a migration task does when it ends.
struct Plan {
    vmid: u32,
    kind: GuestKind,
    node: String,
    target: String,
    online: bool,
    restart: bool,
    with_local_disks: bool,
    disks: Vec<LocalDisk>,
    map: BTreeMap<String, String>,
}

/// `HH:MM:SS` as PVE's migration log prints durations.
fn hms(secs: f64) -> String {
    let s = secs.max(0.0) as u64;
    format!("{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

impl Plan {
    fn run(
        self,
        cluster: &mut Cluster,
        end: SimTime,
        duration: f64,
    ) -> Result<Vec<String>, String> {
        let aborted =
            |why: String| format!("migration aborted (duration {}): {why}", hms(duration));
        let word = guest::kind_word(self.kind);
        let vmid = self.vmid;
        let Some(target) = cluster.nodes.get(&self.target) else {
            return Err(aborted(format!("no such cluster node '{}'", self.target)));
        };
        let target_ip = target.ip.clone();
        if !target.online {
            return Err(aborted(
                "Can't connect to destination address using public key".into(),
            ));
        }
        if self.kind == GuestKind::Lxc && self.online && !self.restart {
            return Err("lxc live migration is currently not implemented".into());
        }
        let attached = self.disks.iter().any(|d| !d.unused && !d.cdrom);
        if self.kind == GuestKind::Qemu && self.online && attached && !self.with_local_disks {
            return Err(aborted(
                "can't live migrate attached local disks without with-local-disks option".into(),
            ));
        }
        let mut log = vec![format!(
            "starting migration of {word} {vmid} to node '{}' ({target_ip})",
            self.target
        )];
        // Space on the target for every local disk, per target storage.
        let mut need: BTreeMap<String, u64> = BTreeMap::new();
        for d in self.disks.iter().filter(|d| !d.cdrom) {
            let to = self
                .map
                .get(&d.storage)
                .cloned()
                .unwrap_or_else(|| d.storage.clone());
            *need.entry(to).or_default() += d.size;
        }
        for (storage, bytes) in &need {
            let name = format!("vm-{vmid}-disk-0");
            if let Err(e) = guest::alloc_space(cluster, &self.target, storage, &name, *bytes) {
                return Err(aborted(format!(
                    "storage migration to storage '{storage}' failed - {e}"
                )));
            }
        }
        let mut renames: Vec<(String, String)> = Vec::new();
        for d in &self.disks {
            let to = self
                .map
                .get(&d.storage)
                .cloned()
                .unwrap_or_else(|| d.storage.clone());
            log.push(format!(
                "found local disk '{}' ({})",
                d.volid,
                if d.unused { "unused" } else { "attached" }
            ));
            let new_volid = match d.volid.split_once(':') {
                Some((_, name)) if to != d.storage => format!("{to}:{name}"),
                _ => d.volid.clone(),
            };
            for v in cluster
                .volumes
                .iter_mut()
                .filter(|v| v.volid == d.volid && v.node == self.node)
            {
                v.node = self.target.clone();
                v.storage = to.clone();
                v.volid = new_volid.clone();
            }
            if new_volid != d.volid {
                renames.push((d.volid.clone(), new_volid));
            }
        }
        let Some(g) = cluster.guests.get_mut(&vmid) else {
            return Err(aborted(format!("{word} {vmid} vanished")));
        };
        for (old, new) in &renames {
            for v in g.config.values_mut() {
                if let Some(s) = v.as_str()
                    && guest::disk_volid(s) == Some(old.as_str())
                {
                    *v = Value::String(s.replacen(old.as_str(), new, 1));
                }
            }
        }
        g.node = self.target.clone();
        if self.online || self.restart {
            if self.restart {
                log.push(format!("shutdown CT {vmid}"));
                log.push("start container on target node".to_string());
            } else {
                log.push(format!(
                    "migration active, transferred {} of VM memory",
                    g.maxmem()
                ));
            }
            g.status = PowerState::Running;
            g.started_at = Some(end);
            g.pid = g.pid.wrapping_add(7919) % 4_000_000 + 1000;
        }
        log.push(format!(
            "migration finished successfully (duration {})",
            hms(duration)
        ));
        Ok(log)
    }
}

#[cfg(test)]
mod tests;
