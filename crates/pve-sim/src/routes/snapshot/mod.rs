//! Snapshots of VMs and containers: list (with the pseudo-snapshot `current` and `parent`
//! links), create (`qmsnapshot`/`vzsnapshot`, lock `snapshot`, optional VM state), the
//! per-snapshot index, delete (`qmdelsnapshot`, lock `snapshot-delete`), rollback
//! (`qmrollback`, lock `rollback`, restores the saved config) and the snapshot config.
//! As in PVE, a duplicate or unknown name, a lock or a template fails the task, not the call.

use serde_json::{Map, Value, json};

use crate::Sim;
use crate::guest::power::{self, Action, Opts};
use crate::guest::{self, disk_volid, kind_word, lock_message};
use crate::route::{ApiError, Call, Method, Perm, Route};
use crate::state::{Cluster, Guest, GuestKind, PowerState, Snapshot, Volume, is_disk_key};
use crate::tasks::TaskSpec;

const SNAP: Perm = Perm::Vm(&["VM.Snapshot"]);

fn kind_of(call: &Call) -> GuestKind {
    if call.path.contains("/lxc/") {
        GuestKind::Lxc
    } else {
        GuestKind::Qemu
    }
}

/// The routes of this module.
pub(super) fn routes() -> Vec<Route> {
    let r = Route::new;
    use Method::{Delete, Get, Post, Put};
    let audit = Perm::Vm(&["VM.Audit"]);
    let read_config = Perm::Vm(&["VM.Snapshot", "VM.Snapshot.Rollback", "VM.Audit"]);
    let rollback_perm = Perm::Vm(&["VM.Snapshot", "VM.Snapshot.Rollback"]);
    let mut out = Vec::new();
    for kind in ["qemu", "lxc"] {
        let (base, one, cfg, rb): (&str, &str, &str, &str) = if kind == "qemu" {
            (
                "/nodes/{node}/qemu/{vmid}/snapshot",
                "/nodes/{node}/qemu/{vmid}/snapshot/{snapname}",
                "/nodes/{node}/qemu/{vmid}/snapshot/{snapname}/config",
                "/nodes/{node}/qemu/{vmid}/snapshot/{snapname}/rollback",
            )
        } else {
            (
                "/nodes/{node}/lxc/{vmid}/snapshot",
                "/nodes/{node}/lxc/{vmid}/snapshot/{snapname}",
                "/nodes/{node}/lxc/{vmid}/snapshot/{snapname}/config",
                "/nodes/{node}/lxc/{vmid}/snapshot/{snapname}/rollback",
            )
        };
        out.extend([
            r(Get, base, audit, list),
            r(Post, base, SNAP, create),
            r(Get, one, Perm::All, index),
            r(Delete, one, SNAP, delete),
            r(Get, cfg, read_config, get_config),
            r(Put, cfg, SNAP, update_config),
            r(Post, rb, rollback_perm, rollback),
        ]);
    }
    out
}

fn guest<'a>(sim: &'a Sim, call: &Call) -> Result<&'a Guest, ApiError> {
    sim.guest_on(call.node()?, call.vmid()?, kind_of(call))
}

fn missing(name: &str) -> String {
    format!("snapshot '{name}' does not exist")
}

/// `GET .../snapshot`: every snapshot, then `current` ("You are here!").
fn list(sim: &mut Sim, call: &Call) -> Result<Value, ApiError> {
    let g = guest(sim, call)?;
    let mut out: Vec<Value> = g
        .snapshots
        .iter()
        .map(|s| {
            let mut m = Map::new();
            m.insert("name".into(), json!(s.name));
            m.insert("description".into(), json!(s.description));
            m.insert("snaptime".into(), json!(s.snaptime));
            if let Some(p) = &s.parent {
                m.insert("parent".into(), json!(p));
            }
            if g.kind == GuestKind::Qemu {
                m.insert("vmstate".into(), json!(u8::from(s.vmstate)));
            }
            Value::Object(m)
        })
        .collect();
    let mut current = json!({
        "name": "current",
        "digest": guest::config_digest(g),
        "running": u8::from(g.status == PowerState::Running),
        "description": "You are here!",
    });
    if let Some(p) = &g.parent_snapshot {
        current["parent"] = json!(p);
    }
    out.push(current);
    Ok(Value::Array(out))
}

fn index(_: &mut Sim, _: &Call) -> Result<Value, ApiError> {
    Ok(json!([{ "cmd": "rollback" }, { "cmd": "config" }]))
}

/// The disk volumes of a guest config (no CD-ROMs).
fn disks(
    kind: GuestKind,
    config: &std::collections::BTreeMap<String, Value>,
) -> Vec<(String, String)> {
    config
        .iter()
        .filter(|(k, _)| is_disk_key(kind, k))
        .filter_map(|(k, v)| {
            let s = v.as_str()?;
            if s.contains("media=cdrom") {
                return None;
            }
            disk_volid(s)
                .filter(|v| v.contains(':'))
                .map(|v| (k.clone(), v.to_string()))
        })
        .collect()
}

/// Whether every disk sits on a storage that can snapshot it.
fn snapshot_feature(cluster: &Cluster, g: &Guest) -> bool {
    disks(g.kind, &g.config).iter().all(|(_, volid)| {
        let storage = volid.split(':').next().unwrap_or("");
        let Some(st) = cluster.storages.get(storage) else {
            return false;
        };
        match st.kind.as_str() {
            "lvmthin" | "zfspool" | "rbd" | "btrfs" => true,
            k if guest::is_file_storage(k) => volid.ends_with(".qcow2"),
            _ => false,
        }
    })
}

fn lvm_vg(cluster: &Cluster, volid: &str) -> Option<String> {
    let st = cluster.storages.get(volid.split(':').next()?)?;
    matches!(st.kind.as_str(), "lvm" | "lvmthin").then(|| {
        st.extra
            .get("vgname")
            .and_then(Value::as_str)
            .unwrap_or("pve")
            .to_string()
    })
}

fn short(volid: &str) -> &str {
    volid.split_once(':').map_or(volid, |(_, n)| n)
}

/// What taking snapshot `name` of `g` would fail with, as the worker checks it.
fn create_error(cluster: &Cluster, g: &Guest, name: &str) -> Option<String> {
    if g.is_template() {
        return Some("you can't take a snapshot if it's a template".into());
    }
    if let Some(l) = g.lock() {
        return Some(lock_message(g.kind, &l));
    }
    if g.snapshots.iter().any(|s| s.name == name) {
        return Some(format!("snapshot name '{name}' already used"));
    }
    if !snapshot_feature(cluster, g) {
        return Some("snapshot feature is not available".into());
    }
    None
}

/// `POST .../snapshot`.
fn create(sim: &mut Sim, call: &Call) -> Result<Value, ApiError> {
    let kind = kind_of(call);
    let node = call.node()?.to_string();
    let vmid = call.vmid()?;
    let name = call.req_str("snapname")?.to_string();
    if name == "current" || name.eq_ignore_ascii_case("pending") {
        return Err(ApiError::internal(format!(
            "unable to use snapshot name '{name}' (reserved name)"
        )));
    }
    let description = call.str("description").unwrap_or("").to_string();
    let g = sim.guest_on(&node, vmid, kind)?;
    let vmstate = kind == GuestKind::Qemu
        && call.bool("vmstate").unwrap_or(false)
        && g.status == PowerState::Running;
    let fails = create_error(&sim.cluster, g, &name).is_some();
    let mem_gib = g.maxmem() as f64 / f64::from(1u32 << 30);
    let duration = if fails {
        power::FAIL_DURATION
    } else {
        1.0 + if vmstate { mem_gib } else { 0.0 }
    };
    if !fails && let Some(g) = sim.cluster.guests.get_mut(&vmid) {
        g.config.insert("lock".into(), json!("snapshot"));
    }
    let task = if kind == GuestKind::Qemu {
        "qmsnapshot"
    } else {
        "vzsnapshot"
    };
    let upid = sim.spawn_task(TaskSpec {
        node: node.clone(),
        kind: task.into(),
        id: vmid.to_string(),
        user: guest::task_user(call),
        duration,
        log: Vec::new(),
        lock_vmid: (!fails).then_some(vmid),
        finish: Box::new(move |cluster, t| {
            let mut g = cluster
                .guests
                .get(&vmid)
                .filter(|g| g.node == node && g.kind == kind)
                .cloned()
                .ok_or_else(|| crate::missing_config_message(&node, vmid, kind))?;
            if g.lock().as_deref() == Some("snapshot") && !fails {
                g.config.remove("lock");
            }
            if let Some(e) = create_error(cluster, &g, &name) {
                return Err(e);
            }
            let mut log = Vec::new();
            let mut config = g.config.clone();
            if vmstate {
                let (_, first) = disks(kind, &g.config)
                    .into_iter()
                    .next()
                    .unwrap_or_default();
                let storage = first.split(':').next().unwrap_or("local-lvm").to_string();
                let state = format!("vm-{vmid}-state-{name}");
                let size = g.maxmem() * 2;
                guest::alloc_space(cluster, &g.node, &storage, &state, size)?;
                let volid = format!("{storage}:{state}");
                cluster.volumes.push(Volume {
                    volid: volid.clone(),
                    storage: storage.clone(),
                    node: g.node.clone(),
                    content: "images".into(),
                    format: "raw".into(),
                    size,
                    ctime: t as i64,
                    vmid: Some(vmid),
                    notes: None,
                    protected: false,
                });
                log.push(format!("saving VM state and RAM using storage '{storage}'"));
                log.push(format!(
                    "completed saving the VM state in {}s, saved {:.2} GiB",
                    (g.maxmem() >> 30).max(1),
                    (g.maxmem() / 4) as f64 / f64::from(1u32 << 30)
                ));
                config.insert("vmstate".into(), json!(volid));
            }
            for (key, volid) in disks(kind, &g.config) {
                if kind == GuestKind::Qemu {
                    log.push(format!("snapshotting 'drive-{key}' ({volid})"));
                }
                if lvm_vg(cluster, &volid).is_some() {
                    log.push(format!(
                        "  Logical volume \"snap_{}_{name}\" created.",
                        short(&volid)
                    ));
                }
            }
            let Some(live) = cluster.guests.get_mut(&vmid) else {
                return Err(crate::missing_config_message(&node, vmid, kind));
            };
            live.snapshots.push(Snapshot {
                name: name.clone(),
                description,
                snaptime: t as i64,
                vmstate,
                parent: live.parent_snapshot.clone(),
                config,
            });
            live.parent_snapshot = Some(name);
            Ok(log)
        }),
    });
    Ok(Value::String(upid))
}

/// `DELETE .../snapshot/{snapname}`.
fn delete(sim: &mut Sim, call: &Call) -> Result<Value, ApiError> {
    let kind = kind_of(call);
    let node = call.node()?.to_string();
    let vmid = call.vmid()?;
    let name = call.req_str("snapname")?.to_string();
    let force = call.bool("force").unwrap_or(false);
    let g = sim.guest_on(&node, vmid, kind)?;
    let precheck = |g: &Guest| -> Option<String> {
        if let Some(l) = g.lock().filter(|_| !force) {
            return Some(lock_message(g.kind, &l));
        }
        (!g.snapshots.iter().any(|s| s.name == name)).then(|| missing(&name))
    };
    let fails = precheck(g).is_some();
    if !fails && let Some(g) = sim.cluster.guests.get_mut(&vmid) {
        g.config.insert("lock".into(), json!("snapshot-delete"));
    }
    let task = if kind == GuestKind::Qemu {
        "qmdelsnapshot"
    } else {
        "vzdelsnapshot"
    };
    let upid = sim.spawn_task(TaskSpec {
        node: node.clone(),
        kind: task.into(),
        id: vmid.to_string(),
        user: guest::task_user(call),
        duration: if fails { power::FAIL_DURATION } else { 1.0 },
        log: Vec::new(),
        lock_vmid: (!fails).then_some(vmid),
        finish: Box::new(move |cluster, _| {
            let g = cluster
                .guests
                .get(&vmid)
                .filter(|g| g.node == node && g.kind == kind)
                .ok_or_else(|| crate::missing_config_message(&node, vmid, kind))?;
            let mut probe = g.clone();
            if !fails && probe.lock().as_deref() == Some("snapshot-delete") {
                probe.config.remove("lock");
            }
            if let Some(l) = probe.lock().filter(|_| !force) {
                return Err(lock_message(kind, &l));
            }
            let Some(pos) = g.snapshots.iter().position(|s| s.name == name) else {
                return Err(missing(&name));
            };
            let snap = g.snapshots[pos].clone();
            let mut log = Vec::new();
            for (_, volid) in disks(kind, &snap.config) {
                if lvm_vg(cluster, &volid).is_some() {
                    log.push(format!(
                        "  Logical volume \"snap_{}_{name}\" successfully removed.",
                        short(&volid)
                    ));
                }
            }
            if let Some(state) = snap.config.get("vmstate").and_then(Value::as_str) {
                guest::free_volumes(cluster, &[state.to_string()]);
            }
            if let Some(g) = cluster.guests.get_mut(&vmid) {
                g.snapshots.remove(pos);
                for s in &mut g.snapshots {
                    if s.parent.as_deref() == Some(name.as_str()) {
                        s.parent = snap.parent.clone();
                    }
                }
                if g.parent_snapshot.as_deref() == Some(name.as_str()) {
                    g.parent_snapshot = snap.parent.clone();
                }
            }
            Ok(log)
        }),
    });
    Ok(Value::String(upid))
}

/// `POST .../snapshot/{snapname}/rollback`.
fn rollback(sim: &mut Sim, call: &Call) -> Result<Value, ApiError> {
    let kind = kind_of(call);
    let node = call.node()?.to_string();
    let vmid = call.vmid()?;
    let name = call.req_str("snapname")?.to_string();
    let start = call.bool("start").unwrap_or(false);
    let g = sim.guest_on(&node, vmid, kind)?;
    let fails = g.lock().is_some() || !g.snapshots.iter().any(|s| s.name == name);
    if !fails && let Some(g) = sim.cluster.guests.get_mut(&vmid) {
        g.config.insert("lock".into(), json!("rollback"));
    }
    let task = if kind == GuestKind::Qemu {
        "qmrollback"
    } else {
        "vzrollback"
    };
    let user = guest::task_user(call);
    let upid = sim.spawn_task(TaskSpec {
        node: node.clone(),
        kind: task.into(),
        id: vmid.to_string(),
        user,
        duration: if fails { power::FAIL_DURATION } else { 2.0 },
        log: Vec::new(),
        lock_vmid: None,
        finish: Box::new(move |cluster, t| {
            let g = cluster
                .guests
                .get_mut(&vmid)
                .filter(|g| g.node == node && g.kind == kind)
                .ok_or_else(|| crate::missing_config_message(&node, vmid, kind))?;
            let ours = !fails && g.lock().as_deref() == Some("rollback");
            if ours {
                g.config.remove("lock");
            }
            if let Some(l) = g.lock() {
                return Err(lock_message(kind, &l));
            }
            let Some(snap) = g.snapshots.iter().find(|s| s.name == name).cloned() else {
                return Err(missing(&name));
            };
            let mut log = Vec::new();
            if g.status == PowerState::Running {
                power::set_stopped(g);
            }
            let mut config = snap.config.clone();
            config.remove("vmstate");
            config.remove("lock");
            g.config = config;
            g.parent_snapshot = Some(name.clone());
            if snap.vmstate {
                log.push(format!(
                    "{} {vmid} resumes from the saved state",
                    kind_word(kind)
                ));
                power::set_running(g, t);
            } else if start {
                power::apply(g, Action::Start, Opts::default(), t)?;
            }
            Ok(log)
        }),
    });
    Ok(Value::String(upid))
}

/// `GET .../snapshot/{snapname}/config`.
fn get_config(sim: &mut Sim, call: &Call) -> Result<Value, ApiError> {
    let g = guest(sim, call)?;
    let name = call.req_str("snapname")?;
    let s = g
        .snapshots
        .iter()
        .find(|s| s.name == name)
        .ok_or_else(|| ApiError::internal(missing(name)))?;
    let mut m: Map<String, Value> = s.config.clone().into_iter().collect();
    m.remove("lock");
    m.insert("snaptime".into(), json!(s.snaptime));
    if !s.description.is_empty() {
        m.insert("description".into(), json!(s.description));
    }
    if let Some(p) = &s.parent {
        m.insert("parent".into(), json!(p));
    }
    Ok(Value::Object(m))
}

/// `PUT .../snapshot/{snapname}/config`: only the description changes.
fn update_config(sim: &mut Sim, call: &Call) -> Result<Value, ApiError> {
    let kind = kind_of(call);
    let node = call.node()?.to_string();
    let vmid = call.vmid()?;
    let name = call.req_str("snapname")?.to_string();
    let g = sim.guest_on_mut(&node, vmid, kind)?;
    let s = g
        .snapshots
        .iter_mut()
        .find(|s| s.name == name)
        .ok_or_else(|| ApiError::internal(missing(&name)))?;
    if let Some(d) = call.str("description") {
        s.description = d.to_string();
    }
    Ok(Value::Null)
}

#[cfg(test)]
mod tests;
