//! `GET /nodes/{node}/qemu/{vmid}/config` (with `digest`, `snapshot`), `PUT` (synchronous,
//! returns null) and `POST` (a `qmconfig` task). Updates check `skiplock`, the lock and
//! `digest`, validate values (400), allocate new disks, detach replaced or deleted disks to
//! `unusedN` and free deleted `unusedN` volumes, as PVE does. Changes apply at once, running
//! or not (the simulator keeps no pending section).

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::spec::{self, DiskReq};
use crate::Sim;
use crate::guest::{self, config_digest, disk_volid};
use crate::params::name_matches;
use crate::route::{ApiError, Call, Method};
use crate::state::{Cluster, GuestKind, is_disk_key};
use crate::tasks::TaskSpec;

/// `GET .../config`.
pub(super) fn get(sim: &mut Sim, call: &Call) -> Result<Value, ApiError> {
    let g = sim.guest_on(call.node()?, call.vmid()?, GuestKind::Qemu)?;
    let mut m: Map<String, Value> = match call.str("snapshot") {
        Some(name) => {
            let s =
                g.snapshots.iter().find(|s| s.name == name).ok_or_else(|| {
                    ApiError::internal(format!("snapshot '{name}' does not exist"))
                })?;
            let mut m = guest::shown_config(&s.config);
            m.insert("snaptime".into(), json!(s.snaptime));
            if !s.description.is_empty() {
                m.insert("description".into(), json!(s.description));
            }
            if let Some(p) = &s.parent {
                m.insert("parent".into(), json!(p));
            }
            m
        }
        None => {
            let mut m = guest::shown_config(&g.config);
            if let Some(p) = &g.parent_snapshot {
                m.entry("parent").or_insert_with(|| json!(p));
            }
            m
        }
    };
    m.insert("digest".into(), json!(config_digest(g)));
    Ok(Value::Object(m))
}

/// A checked update: options to set, disks to write, keys to delete.
#[derive(Debug, Clone)]
struct Update {
    node: String,
    vmid: u32,
    set: Vec<(String, Value)>,
    disks: Vec<(String, DiskReq)>,
    delete: Vec<String>,
}

/// Whether `key` is a VM config option (what `delete` may name): an option `PUT .../config`
/// declares, not one of its control parameters.
fn known_option(key: &str) -> bool {
    !super::spec::CONTROL_KEYS.contains(&key)
        && crate::params::decl::params_for(Method::Put, "/nodes/{node}/qemu/{vmid}/config")
            .iter()
            .any(|s| name_matches(s.name, key))
}

/// PVE's checks before an update, in its order; 400 or 500 on failure.
fn prepare(sim: &Sim, call: &Call) -> Result<Update, ApiError> {
    let node = call.node()?.to_string();
    let vmid = call.vmid()?;
    let skiplock = guest::skiplock(call)?;
    let g = sim.guest_on(&node, vmid, GuestKind::Qemu)?;
    let delete: Vec<String> = call
        .str("delete")
        .unwrap_or("")
        .split(|c: char| c == ',' || c == ';' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(|s| {
            if s == "cdrom" {
                "ide2".to_string()
            } else {
                s.to_string()
            }
        })
        .collect();
    for d in &delete {
        if call.params.contains_key(d) {
            return Err(ApiError::param(
                "delete",
                format!("you can't use '-{d}' and -delete {d}' at the same time"),
            ));
        }
        if !known_option(d) {
            return Err(ApiError::param("delete", format!("unknown option '{d}'")));
        }
    }
    spec::check_root_only(call, delete.iter().map(String::as_str))?;
    spec::check_root_only(call, call.params.keys().map(String::as_str))?;
    let seed = format!("{}:{}", sim.now, sim.tasks.order.len());
    let opts = spec::options_from_call(call, &sim.cluster, &node, vmid, &seed)?;
    if opts.plain.is_empty() && opts.disks.is_empty() && delete.is_empty() {
        return Err(ApiError::internal("no options specified"));
    }
    guest::check_lock(g, skiplock)?;
    guest::check_digest(g, call.str("digest"))?;
    let mut probe = g.config.clone();
    for d in &delete {
        probe.remove(d);
    }
    for (k, v) in &opts.plain {
        probe.insert(k.clone(), v.clone());
    }
    for (k, _) in &opts.disks {
        probe.insert(k.clone(), json!(""));
    }
    spec::check_boot(&probe)?;
    Ok(Update {
        node,
        vmid,
        set: opts.plain,
        disks: opts.disks,
        delete,
    })
}

/// Writes `volid` into the first free `unusedN` of `config`.
fn add_unused(config: &mut BTreeMap<String, Value>, volid: &str) {
    if config.values().any(|v| v.as_str() == Some(volid)) {
        return;
    }
    if let Some(n) = (0..256).find(|n| !config.contains_key(&format!("unused{n}"))) {
        config.insert(format!("unused{n}"), json!(volid));
    }
}

fn detachable(key: &str, value: &Value) -> Option<String> {
    let s = value.as_str()?;
    if !is_disk_key(GuestKind::Qemu, key) || s.contains("media=cdrom") {
        return None;
    }
    disk_volid(s)
        .filter(|v| v.contains(':'))
        .map(str::to_string)
}

/// Applies a checked update at `now`; returns the task log lines or PVE's error.
fn apply(cluster: &mut Cluster, u: &Update, now: i64) -> Result<Vec<String>, String> {
    let (values, mut log) = spec::alloc_disks(cluster, &u.node, u.vmid, &u.disks, now)?;
    let mut freed = Vec::new();
    {
        let g = cluster
            .guests
            .get_mut(&u.vmid)
            .ok_or_else(|| crate::missing_config_message(&u.node, u.vmid, GuestKind::Qemu))?;
        for (k, v) in values {
            let old = g.config.get(&k).and_then(|o| detachable(&k, o));
            let new = disk_volid(&v).map(str::to_string);
            g.config.insert(k, Value::String(v));
            if let Some(old) = old
                && Some(&old) != new.as_ref()
            {
                add_unused(&mut g.config, &old);
            }
        }
        for (k, v) in &u.set {
            g.config.insert(k.clone(), v.clone());
        }
        for d in &u.delete {
            match g.config.remove(d) {
                None => log.push(format!(
                    "cannot delete '{d}' - not set in current configuration!"
                )),
                Some(v)
                    if d.starts_with("unused")
                        || v.as_str().is_some_and(super::cloudinit::is_drive) =>
                {
                    if let Some(volid) = v.as_str().and_then(disk_volid) {
                        freed.push(volid.to_string());
                    }
                }
                Some(v) => {
                    if let Some(volid) = detachable(d, &v) {
                        add_unused(&mut g.config, &volid);
                    }
                }
            }
        }
    }
    for volid in &freed {
        if let Some((storage, name)) = volid.split_once(':')
            && cluster
                .storages
                .get(storage)
                .is_some_and(|s| matches!(s.kind.as_str(), "lvm" | "lvmthin"))
        {
            log.push(format!("  Logical volume \"{name}\" successfully removed."));
        }
    }
    guest::free_volumes(cluster, &freed);
    Ok(log)
}

/// `PUT .../config`: applies at once, returns null.
pub(super) fn put(sim: &mut Sim, call: &Call) -> Result<Value, ApiError> {
    let u = prepare(sim, call)?;
    let now = sim.now as i64;
    apply(&mut sim.cluster, &u, now).map_err(ApiError::internal)?;
    Ok(Value::Null)
}

/// `POST .../config`: a `qmconfig` task applies the update.
pub(super) fn post(sim: &mut Sim, call: &Call) -> Result<Value, ApiError> {
    let u = prepare(sim, call)?;
    let new_disks = u
        .disks
        .iter()
        .filter(|(_, d)| matches!(d, DiskReq::New { .. }))
        .count() as f64;
    let upid = sim.spawn_task(TaskSpec {
        node: u.node.clone(),
        kind: "qmconfig".into(),
        id: u.vmid.to_string(),
        user: guest::task_user(call),
        duration: 0.5 + 0.5 * new_disks,
        log: Vec::new(),
        lock_vmid: None,
        finish: Box::new(move |cluster, t| apply(cluster, &u, t as i64)),
    });
    Ok(Value::String(upid))
}
