//! Container configuration: `GET /nodes/{node}/lxc/{vmid}/config` (with `digest`, `current`,
//! `snapshot`) and the synchronous `PUT` (with `delete` and `digest`). Changes take effect at
//! once, running or not (PVE hot-plugs memory, swap and cores into a running container).

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::create::normalize_net;
use super::{alloc_ct_volume, parse_mount};
use crate::Sim;
use crate::guest;
use crate::route::{ApiError, Call, Method, Perm, Route};
use crate::state::GuestKind;

/// The routes of this module.
pub(super) fn routes() -> Vec<Route> {
    vec![
        Route::new(
            Method::Get,
            "/nodes/{node}/lxc/{vmid}/config",
            Perm::Vm(&["VM.Audit"]),
            get_config,
        ),
        Route::new(
            Method::Put,
            "/nodes/{node}/lxc/{vmid}/config",
            Perm::Vm(&[
                "VM.Config.Disk",
                "VM.Config.CPU",
                "VM.Config.Memory",
                "VM.Config.Network",
                "VM.Config.Options",
            ]),
            put_config,
        ),
    ]
}

/// `GET .../config`: the config as stored, plus `digest`; `snapshot` gives a snapshot's.
fn get_config(sim: &mut Sim, call: &Call) -> Result<Value, ApiError> {
    let g = sim.guest_on(call.node()?, call.vmid()?, GuestKind::Lxc)?;
    let config = match call.str("snapshot") {
        Some(name) => {
            let s =
                g.snapshots.iter().find(|s| s.name == name).ok_or_else(|| {
                    ApiError::internal(format!("snapshot '{name}' does not exist"))
                })?;
            let mut c = s.config.clone();
            c.insert("snaptime".into(), json!(s.snaptime));
            if !s.description.is_empty() {
                c.insert("description".into(), json!(s.description));
            }
            if let Some(p) = &s.parent {
                c.insert("parent".into(), json!(p));
            }
            c
        }
        None => g.config.clone(),
    };
    let mut m = guest::shown_config(&config);
    m.insert("digest".into(), json!(guest::config_digest(g)));
    Ok(Value::Object(m))
}

/// A mount point to allocate: config key, storage, size in bytes, options.
type NewMount = (String, String, u64, Vec<(String, String)>);

/// `PUT .../config`: checks, then applies deletions and changes; `null`.
fn put_config(sim: &mut Sim, call: &Call) -> Result<Value, ApiError> {
    let node = call.node()?.to_string();
    let vmid = call.vmid()?;
    let g = sim.guest_on(&node, vmid, GuestKind::Lxc)?;
    guest::check_lock(g, false)?;
    guest::check_digest(g, call.str("digest"))?;
    let deletes: Vec<&str> = call
        .str("delete")
        .unwrap_or("")
        .split([',', ';', ' '])
        .filter(|k| !k.is_empty())
        .collect();
    let sets: Vec<(&String, &Value)> = call
        .params
        .iter()
        .filter(|(k, _)| super::is_config_key(k))
        .collect();
    let mut errors = BTreeMap::new();
    for d in &deletes {
        if sets.iter().any(|(k, _)| k.as_str() == *d) {
            errors.insert(
                "delete".to_string(),
                format!("you can't use '-{d}' and -delete {d}' at the same time"),
            );
        } else if *d == "rootfs" {
            errors.insert(
                "delete".to_string(),
                "unable to delete required option 'rootfs'".to_string(),
            );
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::params(errors));
    }
    let mut config = g.config.clone();
    let mut free: Vec<String> = Vec::new();
    for d in &deletes {
        let Some(old) = config.remove(*d) else {
            continue;
        };
        let volume = old
            .as_str()
            .map(parse_mount)
            .map(|(v, _)| v)
            .unwrap_or_default();
        if d.starts_with("unused") {
            free.push(volume);
        } else if d.starts_with("mp") && volume.contains(':') {
            let n = (0..)
                .find(|n| !config.contains_key(&format!("unused{n}")))
                .unwrap_or(0);
            config.insert(format!("unused{n}"), json!(volume));
        }
    }
    let mut new_disks: Vec<NewMount> = Vec::new();
    for (key, value) in &sets {
        let text = value.as_str().unwrap_or_default();
        let key = key.as_str();
        if key.starts_with("net") {
            match normalize_net(vmid, key, text, config.get(key).and_then(Value::as_str)) {
                Ok(v) => {
                    config.insert(key.to_string(), json!(v));
                }
                Err(e) => {
                    errors.insert(key.to_string(), e);
                }
            }
        } else if key == "rootfs" {
            let (volume, opts) = parse_mount(text);
            let current = config
                .get("rootfs")
                .and_then(Value::as_str)
                .map(parse_mount);
            match current {
                Some((cur, cur_opts)) if cur == volume => {
                    let mut opts: Vec<(String, String)> =
                        opts.into_iter().filter(|(k, _)| k != "size").collect();
                    if let Some(size) = cur_opts.iter().find(|(k, _)| k == "size") {
                        opts.push(size.clone());
                    }
                    config.insert("rootfs".into(), json!(guest::print_disk(&cur, &opts)));
                }
                _ => {
                    errors.insert(
                        "rootfs".into(),
                        "changing the root volume is not supported".into(),
                    );
                }
            }
        } else if key.starts_with("mp") && key[2..].bytes().all(|b| b.is_ascii_digit()) {
            let (volume, opts) = parse_mount(text);
            if !opts.iter().any(|(k, _)| k == "mp") {
                errors.insert(
                    key.to_string(),
                    format!("invalid format - format error\n{key}.mp: property is missing and it is not optional"),
                );
            } else if let Some((storage, size)) = guest::new_volume_request(&volume) {
                new_disks.push((key.to_string(), storage.to_string(), size, opts));
            } else {
                let unused = config
                    .iter()
                    .find(|(k, v)| k.starts_with("unused") && v.as_str() == Some(volume.as_str()))
                    .map(|(k, _)| k.clone());
                if let Some(u) = unused {
                    config.remove(&u);
                }
                config.insert(key.to_string(), json!(guest::print_disk(&volume, &opts)));
            }
        } else {
            config.insert(key.to_string(), super::config_value(key, value));
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::params(errors));
    }
    let ctime = sim.now as i64;
    for (key, storage, size, opts) in new_disks {
        match alloc_ct_volume(&mut sim.cluster, &node, &storage, vmid, size, ctime) {
            Ok((volid, _)) => {
                let mut opts: Vec<(String, String)> =
                    opts.into_iter().filter(|(k, _)| k != "size").collect();
                opts.push(("size".into(), crate::state::format_size(size)));
                config.insert(key, json!(guest::print_disk(&volid, &opts)));
            }
            Err(e) => {
                errors.insert(key, e);
            }
        }
    }
    guest::free_volumes(&mut sim.cluster, &free);
    if let Ok(g) = sim.guest_on_mut(&node, vmid, GuestKind::Lxc) {
        g.config = config;
    }
    if errors.is_empty() {
        Ok(Value::Null)
    } else {
        Err(ApiError::params(errors))
    }
}
