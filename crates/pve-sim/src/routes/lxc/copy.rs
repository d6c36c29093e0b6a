//! Container copies and conversions: `POST .../template` (a stopped container becomes a
//! template, its volumes renamed `base-VMID-disk-N`), `POST .../clone` (a `vzclone` task: a
//! full copy of each volume, or for a template a linked one), `POST .../move_volume` (a
//! `move_volume` task copying a volume to another storage, the old one freed with `delete`
//! or kept as `unusedN`), and `GET .../interfaces` of a running container.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::{alloc_ct_volume, parse_mount};
use crate::Sim;
use crate::auth;
use crate::guest;
use crate::route::{ApiError, Call, Method, Perm, Route};
use crate::state::{Cluster, GuestKind, PowerState, format_size};
use crate::tasks::TaskSpec;

/// The routes of this module.
pub(super) fn routes() -> Vec<Route> {
    use Method::{Get, Post};
    let r = Route::new;
    vec![
        r(
            Post,
            "/nodes/{node}/lxc/{vmid}/template",
            Perm::Vm(&["VM.Allocate"]),
            template,
        ),
        r(
            Post,
            "/nodes/{node}/lxc/{vmid}/clone",
            Perm::Vm(&["VM.Clone"]),
            clone,
        ),
        r(
            Post,
            "/nodes/{node}/lxc/{vmid}/move_volume",
            Perm::Vm(&["VM.Config.Disk"]),
            move_volume,
        ),
        r(
            Get,
            "/nodes/{node}/lxc/{vmid}/interfaces",
            Perm::Vm(&["VM.Audit"]),
            interfaces,
        ),
    ]
}

/// The volume keys of a container config (`rootfs`, `mpN`), in order.
fn volume_keys(config: &BTreeMap<String, Value>) -> Vec<String> {
    config
        .keys()
        .filter(|k| crate::state::is_disk_key(GuestKind::Lxc, k))
        .cloned()
        .collect()
}

/// `POST .../template`: synchronous; `null`.
fn template(sim: &mut Sim, call: &Call) -> Result<Value, ApiError> {
    let vmid = call.vmid()?;
    let g = sim.guest_on(call.node()?, vmid, GuestKind::Lxc)?;
    guest::check_lock(g, false)?;
    if g.is_template() {
        return Err(ApiError::internal(
            "you can't convert a template to a template",
        ));
    }
    if g.status == PowerState::Running {
        return Err(ApiError::internal(
            "you can't convert a CT to template if the CT is running",
        ));
    }
    if !g.snapshots.is_empty() {
        return Err(ApiError::internal(
            "unable to create template, because CT contains snapshots",
        ));
    }
    let c = &mut sim.cluster;
    let Some(g) = c.guests.get_mut(&vmid) else {
        return Err(ApiError::internal(crate::missing_config_message(
            call.node()?,
            vmid,
            GuestKind::Lxc,
        )));
    };
    let mut renames = Vec::new();
    for key in volume_keys(&g.config) {
        let Some(spec) = g
            .config
            .get(&key)
            .and_then(Value::as_str)
            .map(str::to_string)
        else {
            continue;
        };
        let (volid, opts) = parse_mount(&spec);
        let new = volid
            .replacen(
                &format!("subvol-{vmid}-disk-"),
                &format!("basevol-{vmid}-disk-"),
                1,
            )
            .replacen(
                &format!("/vm-{vmid}-disk-"),
                &format!("/base-{vmid}-disk-"),
                1,
            )
            .replacen(
                &format!(":vm-{vmid}-disk-"),
                &format!(":base-{vmid}-disk-"),
                1,
            );
        g.config.insert(key, json!(guest::print_disk(&new, &opts)));
        renames.push((volid, new));
    }
    g.config.insert("template".into(), json!(1));
    for (old, new) in renames {
        for v in c.volumes.iter_mut().filter(|v| v.volid == old) {
            v.volid = new.clone();
        }
    }
    Ok(Value::Null)
}

/// A container volume to copy: its key, volume id, size and mount options.
struct SrcVolume {
    key: String,
    volid: String,
    size: u64,
    opts: Vec<(String, String)>,
}

/// `POST .../clone`: checks, reserves `newid`, then a `vzclone` task copies the volumes.
fn clone(sim: &mut Sim, call: &Call) -> Result<Value, ApiError> {
    let node = call.node()?.to_string();
    let vmid = call.vmid()?;
    let newid = call
        .int("newid")
        .and_then(|v| u32::try_from(v).ok())
        .ok_or_else(|| ApiError::param("newid", "property is missing and it is not optional"))?;
    let path = format!("/vms/{newid}");
    let pool_ok = call.str("pool").is_some_and(|p| {
        auth::allowed(
            &call.identity,
            &format!("/pool/{p}"),
            &["VM.Allocate"],
            &sim.cluster,
        )
    });
    if !pool_ok && !auth::allowed(&call.identity, &path, &["VM.Allocate"], &sim.cluster) {
        return Err(ApiError::forbidden(&path, "VM.Allocate"));
    }
    let target = call.str("target").unwrap_or(&node).to_string();
    if !sim.cluster.nodes.contains_key(&target) {
        return Err(ApiError::internal(format!(
            "no such cluster node '{target}'"
        )));
    }
    let storage = call.str("storage").map(str::to_string);
    let src = sim.guest_on(&node, vmid, GuestKind::Lxc)?;
    guest::check_lock(src, false)?;
    let full = call.bool("full").unwrap_or(!src.is_template());
    if !full && storage.is_some() {
        return Err(ApiError::internal(
            "linked clone feature for 'storage' parameter is not supported",
        ));
    }
    if !src.is_template() && !full {
        return Err(ApiError::internal(
            "parameter 'full' must be set if the source is not a template",
        ));
    }
    if src.status == PowerState::Running && call.str("snapname").is_none() {
        return Err(ApiError::internal(format!(
            "unable to clone running container {vmid} without snapshot"
        )));
    }
    if sim.cluster.guests.contains_key(&newid) {
        return Err(ApiError::internal(format!(
            "unable to create CT {newid} - CT {newid} already exists"
        )));
    }
    let oldconf = match call.str("snapname") {
        Some(name) => src
            .snapshots
            .iter()
            .find(|s| s.name == name)
            .map(|s| s.config.clone())
            .ok_or_else(|| ApiError::internal(format!("snapshot '{name}' does not exist")))?,
        None => src.config.clone(),
    };
    let mut volumes = Vec::new();
    let mut newconf = BTreeMap::new();
    let seed = format!("{}:{}:{newid}", sim.now, sim.tasks.order.len());
    for (k, v) in &oldconf {
        let text = guest::value_text(v);
        if crate::state::is_disk_key(GuestKind::Lxc, k) {
            let (volid, opts) = parse_mount(&text);
            let st = sim
                .cluster
                .storages
                .get(volid.split(':').next().unwrap_or(""));
            if target != node && !st.is_some_and(|s| s.shared) && storage.is_none() {
                return Err(ApiError::internal(format!(
                    "unable to clone to node '{target}' - volume '{volid}' is on local storage"
                )));
            }
            let size = sim
                .cluster
                .volumes
                .iter()
                .find(|x| x.volid == volid)
                .map(|x| x.size)
                .unwrap_or(8 << 30);
            volumes.push(SrcVolume {
                key: k.clone(),
                volid,
                size,
                opts: opts.into_iter().filter(|(k, _)| k != "size").collect(),
            });
            continue;
        }
        if matches!(k.as_str(), "template" | "lock" | "parent" | "snaptime")
            || k.starts_with("unused")
        {
            continue;
        }
        let value = if k.starts_with("net") {
            let mac = guest::new_mac(&format!("{seed}:{k}"));
            let rest: Vec<(String, String)> = guest::parse_props(&text)
                .into_iter()
                .filter(|(k, _)| k != "hwaddr")
                .collect();
            let mut all = rest;
            all.push(("hwaddr".into(), mac));
            json!(
                all.iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join(",")
            )
        } else {
            v.clone()
        };
        newconf.insert(k.clone(), value);
    }
    if let Some(h) = call.str("hostname") {
        newconf.insert("hostname".into(), json!(h));
    }
    if let Some(d) = call.str("description") {
        newconf.insert("description".into(), json!(d));
    }
    let mut g = src.clone();
    g.vmid = newid;
    g.node = target.clone();
    g.config = BTreeMap::from([("lock".to_string(), json!("create"))]);
    g.snapshots.clear();
    g.parent_snapshot = None;
    crate::guest::power::set_stopped(&mut g);
    g.pool = call.str("pool").map(str::to_string);
    g.hastate = None;
    sim.cluster.guests.insert(newid, g);
    let total: u64 = volumes.iter().map(|v| v.size).sum();
    let duration = if full {
        (3.0 + total as f64 / f64::from(1u32 << 30) * 0.4).min(120.0)
    } else {
        1.0 + 0.3 * volumes.len() as f64
    };
    let upid = sim.spawn_task(TaskSpec {
        node: node.clone(),
        kind: "vzclone".into(),
        id: vmid.to_string(),
        user: guest::task_user(call),
        duration,
        log: Vec::new(),
        lock_vmid: Some(newid),
        finish: Box::new(move |cluster, t| {
            let mut made = Vec::new();
            let mut log = Vec::new();
            for v in &volumes {
                let st = storage
                    .clone()
                    .unwrap_or_else(|| v.volid.split(':').next().unwrap_or("").to_string());
                let r = if full {
                    log.push(format!(
                        "create full clone of mountpoint {} ({})",
                        v.key, v.volid
                    ));
                    alloc_ct_volume(cluster, &target, &st, newid, v.size, t as i64)
                } else {
                    log.push(format!(
                        "create linked clone of mount point {} ({})",
                        v.key, v.volid
                    ));
                    linked_volume(cluster, &target, &v.volid, newid, v.size, t as i64)
                };
                match r {
                    Ok((volid, lines)) => {
                        log.extend(lines);
                        let mut opts = v.opts.clone();
                        opts.push(("size".into(), format_size(v.size)));
                        newconf.insert(v.key.clone(), json!(guest::print_disk(&volid, &opts)));
                        made.push(volid);
                    }
                    Err(e) => {
                        return Err(guest::abandon_clone(cluster, &made, newid, &e));
                    }
                }
            }
            let g = cluster
                .guests
                .get_mut(&newid)
                .ok_or_else(|| crate::missing_config_message(&target, newid, GuestKind::Lxc))?;
            g.config = newconf;
            Ok(log)
        }),
    });
    Ok(Value::String(upid))
}

/// A linked clone of a template's base volume (`BASE/subvol-NEWID-disk-N`).
fn linked_volume(
    cluster: &mut Cluster,
    node: &str,
    base: &str,
    newid: u32,
    size: u64,
    ctime: i64,
) -> Result<(String, Vec<String>), String> {
    let (storage, base_name) = base.split_once(':').unwrap_or(("", base));
    let n = (0..)
        .find(|n| {
            let stem = format!("subvol-{newid}-disk-{n}");
            !cluster.volumes.iter().any(|v| v.volid.ends_with(&stem))
        })
        .unwrap_or(0);
    let name = format!("{base_name}/subvol-{newid}-disk-{n}");
    let log = guest::alloc_space(cluster, node, storage, &name, size)?;
    let volid = format!("{storage}:{name}");
    cluster.volumes.push(crate::state::Volume {
        volid: volid.clone(),
        storage: storage.to_string(),
        node: node.to_string(),
        content: "rootdir".into(),
        format: "raw".into(),
        size,
        ctime,
        vmid: Some(newid),
        notes: None,
        protected: false,
    });
    Ok((volid, log))
}

/// `POST .../move_volume`: a `move_volume` task copies the volume to `storage`.
fn move_volume(sim: &mut Sim, call: &Call) -> Result<Value, ApiError> {
    let node = call.node()?.to_string();
    let vmid = call.vmid()?;
    let key = call.req_str("volume")?.to_string();
    if call.str("target-vmid").is_some() {
        return Err(ApiError::internal(
            "reassigning a volume to another container is not supported by the simulator",
        ));
    }
    let storage = call
        .str("storage")
        .ok_or_else(|| ApiError::param("storage", "property is missing and it is not optional"))?
        .to_string();
    let delete = call.bool("delete").unwrap_or(false);
    let g = sim.guest_on(&node, vmid, GuestKind::Lxc)?;
    guest::check_lock(g, false)?;
    guest::check_digest(g, call.str("digest"))?;
    let spec = g
        .config
        .get(&key)
        .and_then(Value::as_str)
        .ok_or_else(|| {
            ApiError::internal(format!("cannot move volume '{key}' - not set in config"))
        })?
        .to_string();
    let (volid, opts) = parse_mount(&spec);
    if volid.split(':').next() == Some(storage.as_str()) {
        return Err(ApiError::internal(
            "you can't move to the same storage with same format",
        ));
    }
    if g.status == PowerState::Running {
        return Err(ApiError::internal(
            "cannot move volumes of a running container",
        ));
    }
    guest::check_storage(&sim.cluster, &storage, &node, "rootdir").map_err(ApiError::internal)?;
    let size = sim
        .cluster
        .volumes
        .iter()
        .find(|v| v.volid == volid)
        .map(|v| v.size)
        .unwrap_or(8 << 30);
    if let Some(g) = sim.cluster.guests.get_mut(&vmid) {
        g.config.insert("lock".into(), json!("disk"));
    }
    let upid = sim.spawn_task(TaskSpec {
        node: node.clone(),
        kind: "move_volume".into(),
        id: vmid.to_string(),
        user: guest::task_user(call),
        duration: 2.0 + size as f64 / f64::from(1u32 << 30) * 0.3,
        log: Vec::new(),
        lock_vmid: Some(vmid),
        finish: Box::new(move |cluster, t| {
            let (new, mut log) = alloc_ct_volume(cluster, &node, &storage, vmid, size, t as i64)?;
            log.insert(
                0,
                format!("moving volume '{key}' ({volid}) to storage '{storage}'"),
            );
            let mut opts: Vec<(String, String)> =
                opts.into_iter().filter(|(k, _)| k != "size").collect();
            opts.push(("size".into(), format_size(size)));
            let g = cluster
                .guests
                .get_mut(&vmid)
                .ok_or_else(|| crate::missing_config_message(&node, vmid, GuestKind::Lxc))?;
            g.config
                .insert(key.clone(), json!(guest::print_disk(&new, &opts)));
            if delete {
                guest::free_volumes(cluster, std::slice::from_ref(&volid));
                log.push(format!("removing volume '{volid}'"));
            } else if let Some(n) = (0..256).find(|n| !g.config.contains_key(&format!("unused{n}")))
            {
                g.config.insert(format!("unused{n}"), json!(volid));
            }
            Ok(log)
        }),
    });
    Ok(Value::String(upid))
}

/// `GET .../interfaces`: the running container's interfaces (loopback first).
fn interfaces(sim: &mut Sim, call: &Call) -> Result<Value, ApiError> {
    let vmid = call.vmid()?;
    let g = sim.guest_on(call.node()?, vmid, GuestKind::Lxc)?;
    if g.status != PowerState::Running {
        return Err(ApiError::internal(format!("CT {vmid} is not running")));
    }
    let mut out = vec![json!({
        "name": "lo",
        "hwaddr": "00:00:00:00:00:00",
        "hardware-address": "00:00:00:00:00:00",
        "inet": "127.0.0.1/8",
        "inet6": "::1/128",
        "ip-addresses": [
            {"ip-address": "127.0.0.1", "ip-address-type": "inet", "prefix": 8},
            {"ip-address": "::1", "ip-address-type": "inet6", "prefix": 128},
        ],
    })];
    for (name, mac, cidr) in crate::agent::guest_os::interfaces(g) {
        let (ip, prefix) = cidr.split_once('/').unwrap_or((&cidr, "24"));
        let ll = crate::agent::guest_os::link_local(&mac);
        out.push(json!({
            "name": name,
            "hwaddr": mac,
            "hardware-address": mac,
            "inet": cidr,
            "inet6": format!("{ll}/64"),
            "ip-addresses": [
                {"ip-address": ip, "ip-address-type": "inet", "prefix": prefix.parse::<u8>().unwrap_or(24)},
                {"ip-address": ll, "ip-address-type": "inet6", "prefix": 64},
            ],
        }));
    }
    Ok(Value::Array(out))
}
