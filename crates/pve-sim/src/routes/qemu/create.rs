//! `POST /nodes/{node}/qemu` (create) and `POST .../clone`. Both reserve the new VMID at once
//! with a config holding only a lock (`create`, `clone`), allocate disks in the task
//! (`qmcreate`, `qmclone`) and fail it with PVE's storage error when space runs out, removing
//! the half-made VM as PVE does.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::spec::{self, DiskReq};
use super::{meta, to_base_volumes};
use crate::Sim;
use crate::auth;
use crate::guest::power::{self, Action, Opts};
use crate::guest::{
    self, alloc_space, disk_volid, is_file_storage, new_mac, new_uuid, parse_props, print_disk,
};
use crate::route::{ApiError, Call};
use crate::state::{
    AgentState, Cluster, Guest, GuestKind, PowerState, Volume, format_size, is_disk_key,
};
use crate::tasks::TaskSpec;

fn check_allocate(sim: &Sim, call: &Call, vmid: u32) -> Result<(), ApiError> {
    let path = format!("/vms/{vmid}");
    if auth::allowed(&call.identity, &path, &["VM.Allocate"], &sim.cluster) {
        Ok(())
    } else {
        Err(ApiError::forbidden(&path, "VM.Allocate"))
    }
}

/// A new, stopped VM holding only `lock: LOCK` while its task runs.
fn placeholder(vmid: u32, node: &str, lock: &str, pool: Option<String>) -> Guest {
    let mut config = BTreeMap::new();
    config.insert("lock".to_string(), json!(lock));
    Guest {
        vmid,
        kind: GuestKind::Qemu,
        node: node.to_string(),
        status: PowerState::Stopped,
        qmpstatus: "stopped".into(),
        config,
        started_at: None,
        agent: AgentState::Missing,
        snapshots: Vec::new(),
        parent_snapshot: None,
        base_cpu: 0.05,
        mem_fraction: 0.3,
        disk_fraction: 0.05,
        pid: 0,
        pool,
        hastate: None,
        cloudinit: None,
    }
}

/// `POST /nodes/{node}/qemu`.
pub(super) fn create(sim: &mut Sim, call: &Call) -> Result<Value, ApiError> {
    let node = call.node()?.to_string();
    let vmid = call.vmid()?;
    check_allocate(sim, call, vmid)?;
    spec::check_root_only(call, call.params.keys().map(String::as_str))?;
    if let Some(other) = sim.cluster.guests.get(&vmid) {
        return Err(ApiError::internal(format!(
            "unable to create VM {vmid} - VM {vmid} already exists on node '{}'",
            other.node
        )));
    }
    let seed = format!("{}:{}", sim.now, sim.tasks.order.len());
    let opts = spec::options_from_call(call, &sim.cluster, &node, vmid, &seed)?;
    let mut config: BTreeMap<String, Value> = opts.plain.into_iter().collect();
    let mut probe = config.clone();
    for (k, _) in &opts.disks {
        probe.insert(k.clone(), json!(""));
    }
    spec::check_boot(&probe)?;
    let template = call.bool("template").unwrap_or(false);
    let start = call.bool("start").unwrap_or(false) && !template;
    config.entry("smbios1".into()).or_insert_with(|| {
        json!(format!(
            "uuid={}",
            new_uuid(&format!("{seed}:smbios:{vmid}"))
        ))
    });
    config
        .entry("vmgenid".into())
        .or_insert_with(|| json!(new_uuid(&format!("{seed}:genid:{vmid}"))));
    config.insert("meta".into(), json!(meta(sim.now)));
    let pool = call.str("pool").map(str::to_string);
    sim.cluster
        .guests
        .insert(vmid, placeholder(vmid, &node, "create", pool));
    let disks = opts.disks;
    let new_disks = disks
        .iter()
        .filter(|(_, d)| matches!(d, DiskReq::New { .. }))
        .count() as f64;
    let task_node = node.clone();
    let upid = sim.spawn_task(TaskSpec {
        node: node.clone(),
        kind: "qmcreate".into(),
        id: vmid.to_string(),
        user: guest::task_user(call),
        duration: 1.0 + 0.5 * new_disks,
        log: Vec::new(),
        lock_vmid: Some(vmid),
        finish: Box::new(move |cluster, t| {
            let (values, mut log) = spec::alloc_disks(cluster, &task_node, vmid, &disks, t as i64)
                .map_err(|e| {
                    cluster.guests.remove(&vmid);
                    format!("unable to create VM {vmid} - {e}")
                })?;
            config.extend(values.into_iter().map(|(k, v)| (k, Value::String(v))));
            if !config.contains_key("boot") {
                config.insert("boot".into(), json!(spec::default_boot(&config)));
            }
            if template {
                config.insert("template".into(), json!(1));
            }
            let g = cluster
                .guests
                .get_mut(&vmid)
                .ok_or_else(|| crate::missing_config_message(&task_node, vmid, GuestKind::Qemu))?;
            g.config = config;
            if start && let Err(e) = power::apply(g, Action::Start, Opts::default(), t) {
                log.push(format!("start failed: {e}"));
            }
            if template {
                log.extend(to_base_volumes(cluster, vmid));
            }
            Ok(log)
        }),
    });
    Ok(Value::String(upid))
}

/// A disk of the clone source: config key, volume, size, other options.
struct SrcDisk {
    key: String,
    volid: String,
    size: u64,
    opts: Vec<(String, String)>,
}

/// `POST /nodes/{node}/qemu/{vmid}/clone`.
pub(super) fn clone(sim: &mut Sim, call: &Call) -> Result<Value, ApiError> {
    let node = call.node()?.to_string();
    let vmid = call.vmid()?;
    let newid = call
        .int("newid")
        .and_then(|v| u32::try_from(v).ok())
        .ok_or_else(|| ApiError::param("newid", "property is missing and it is not optional"))?;
    check_allocate(sim, call, newid)?;
    let target = call.str("target").unwrap_or(&node).to_string();
    if !sim.cluster.nodes.contains_key(&target) {
        return Err(ApiError::internal(format!(
            "no such cluster node '{target}'"
        )));
    }
    let storage = call.str("storage").map(str::to_string);
    if let Some(st) = &storage {
        guest::check_storage(&sim.cluster, st, &target, "images").map_err(ApiError::internal)?;
        if target != node && !sim.cluster.storages.get(st).is_some_and(|s| s.shared) {
            return Err(ApiError::internal(format!(
                "can't clone to non-shared storage '{st}'"
            )));
        }
    }
    let src = sim.guest_on(&node, vmid, GuestKind::Qemu)?;
    guest::check_lock(src, false)?;
    let snapname = call.str("snapname");
    let oldconf = match snapname {
        Some(name) => src
            .snapshots
            .iter()
            .find(|s| s.name == name)
            .map(|s| s.config.clone())
            .ok_or_else(|| ApiError::internal(format!("snapshot '{name}' does not exist")))?,
        None => src.config.clone(),
    };
    let full = call.bool("full").unwrap_or(!src.is_template());
    if !full && storage.is_some() {
        return Err(ApiError::internal(
            "parameter 'storage' not allowed for linked clones",
        ));
    }
    if !full && call.str("format").is_some() {
        return Err(ApiError::internal(
            "parameter 'format' not allowed for linked clones",
        ));
    }
    if sim.cluster.guests.contains_key(&newid) {
        return Err(ApiError::internal(format!(
            "unable to create VM {newid}: config file already exists"
        )));
    }
    let mut disks = Vec::new();
    // Cloud-init drives: the clone gets its own (key, storage).
    let mut ci_drives: Vec<(String, String)> = Vec::new();
    let mut newconf = BTreeMap::new();
    let seed = format!("{}:{}:{newid}", sim.now, sim.tasks.order.len());
    for (k, v) in &oldconf {
        let text = guest::value_text(v);
        if is_disk_key(GuestKind::Qemu, k) && super::cloudinit::is_drive(&text) {
            let src_st = guest::volid_storage(disk_volid(&text).unwrap_or(""))
                .unwrap_or("")
                .to_string();
            let st = if full { storage.clone() } else { None };
            ci_drives.push((k.clone(), st.unwrap_or(src_st)));
            continue;
        }
        let is_disk = is_disk_key(GuestKind::Qemu, k) && !text.contains("media=cdrom");
        if is_disk && let Some(volid) = disk_volid(&text).filter(|v| v.contains(':')) {
            let st_name = volid.split(':').next().unwrap_or("");
            let st = sim.cluster.storages.get(st_name);
            if !full && (!src.is_template() || st.is_some_and(|s| s.kind == "lvm")) {
                return Err(ApiError::internal(format!(
                    "Linked clone feature is not supported for drive '{k}'"
                )));
            }
            let shared = st.is_some_and(|s| s.shared);
            if target != node && !shared && (storage.is_none() || !full) {
                return Err(ApiError::internal(format!(
                    "can't clone VM to node '{target}' (VM uses local storage)"
                )));
            }
            let size = sim
                .cluster
                .volumes
                .iter()
                .find(|x| x.volid == volid)
                .map(|x| x.size)
                .or_else(|| crate::state::disk_size_bytes(&text))
                .unwrap_or(0);
            let opts = parse_props(&text)
                .into_iter()
                .filter(|(k, _)| !k.is_empty() && k != "size" && k != "file")
                .collect();
            disks.push(SrcDisk {
                key: k.clone(),
                volid: volid.to_string(),
                size,
                opts,
            });
            continue;
        }
        let skip = matches!(
            k.as_str(),
            "template" | "lock" | "parent" | "snaptime" | "vmstate" | "snapstate" | "description"
        ) || k.starts_with("unused");
        if skip {
            continue;
        }
        let value = if k.starts_with("net") && k[3..].bytes().all(|b| b.is_ascii_digit()) {
            let mac = new_mac(&format!("{seed}:{k}"));
            let parts = parse_props(&text);
            let (model, rest) = match parts.split_first() {
                Some(((k, v), rest)) if k.is_empty() || k == "model" => (v.clone(), rest.to_vec()),
                Some(((k, _), rest)) => (k.clone(), rest.to_vec()),
                None => ("virtio".to_string(), Vec::new()),
            };
            json!(print_disk(&format!("{model}={mac}"), &rest))
        } else if k == "smbios1" {
            let uuid = new_uuid(&format!("{seed}:smbios"));
            let rest: Vec<(String, String)> = parse_props(&text)
                .into_iter()
                .filter(|(k, _)| k != "uuid" && !k.is_empty())
                .collect();
            json!(print_disk(&format!("uuid={uuid}"), &rest))
        } else if k == "vmgenid" {
            json!(new_uuid(&format!("{seed}:genid")))
        } else {
            v.clone()
        };
        newconf.insert(k.clone(), value);
    }
    let name = call
        .str("name")
        .map(str::to_string)
        .unwrap_or_else(|| format!("Copy-of-VM-{}", src.name()));
    newconf.insert("name".into(), json!(name));
    if let Some(d) = call.str("description") {
        newconf.insert("description".into(), json!(d));
    }
    let mut g = placeholder(
        newid,
        &target,
        "clone",
        call.str("pool").map(str::to_string),
    );
    g.agent = src.agent;
    g.base_cpu = src.base_cpu;
    g.mem_fraction = src.mem_fraction;
    g.disk_fraction = src.disk_fraction;
    sim.cluster.guests.insert(newid, g);
    let total: u64 = disks.iter().map(|d| d.size).sum();
    let duration = if full {
        (2.0 + total as f64 / f64::from(1u32 << 30) * 0.5).min(120.0)
    } else {
        1.0 + 0.3 * disks.len() as f64
    };
    let format = call.str("format").map(str::to_string);
    let upid = sim.spawn_task(TaskSpec {
        node: node.clone(),
        kind: "qmclone".into(),
        id: vmid.to_string(),
        user: guest::task_user(call),
        duration,
        log: Vec::new(),
        lock_vmid: Some(newid),
        finish: Box::new(move |cluster, t| {
            let mut made = Vec::new();
            let mut log = Vec::new();
            for d in &disks {
                let r = clone_disk(
                    cluster,
                    &target,
                    newid,
                    d,
                    full,
                    storage.as_deref(),
                    format.as_deref(),
                    t as i64,
                );
                match r {
                    Ok((volid, lines)) => {
                        log.extend(lines);
                        let mut opts = d.opts.clone();
                        opts.push(("size".into(), format_size(d.size)));
                        newconf.insert(d.key.clone(), json!(print_disk(&volid, &opts)));
                        made.push(volid);
                    }
                    Err(e) => {
                        return Err(guest::abandon_clone(cluster, &made, newid, &e));
                    }
                }
            }
            for (key, st) in &ci_drives {
                match super::cloudinit::alloc(cluster, &target, st, newid, t as i64) {
                    Ok((volid, value, lines)) => {
                        log.extend(lines);
                        newconf.insert(key.clone(), json!(value));
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
                .ok_or_else(|| crate::missing_config_message(&target, newid, GuestKind::Qemu))?;
            g.config = newconf;
            Ok(log)
        }),
    });
    Ok(Value::String(upid))
}

/// Copies (full) or links (linked) one disk for the clone; returns the new volume id and log.
#[allow(clippy::too_many_arguments)]
fn clone_disk(
    cluster: &mut Cluster,
    node: &str,
    newid: u32,
    d: &SrcDisk,
    full: bool,
    storage: Option<&str>,
    format: Option<&str>,
    ctime: i64,
) -> Result<(String, Vec<String>), String> {
    let src_storage = d.volid.split(':').next().unwrap_or("").to_string();
    if full {
        let st = storage.unwrap_or(&src_storage);
        let mut log = vec![format!(
            "create full clone of drive {} ({})",
            d.key, d.volid
        )];
        let a = guest::alloc_disk(
            cluster,
            node,
            st,
            newid,
            GuestKind::Qemu,
            d.size,
            format,
            ctime,
        )?;
        log.extend(a.log);
        let gib = d.size as f64 / f64::from(1u32 << 30);
        log.push(format!("transferred 0.0 B of {gib:.1} GiB (0.00%)"));
        log.push(format!(
            "transferred {gib:.1} GiB of {gib:.1} GiB (100.00%)"
        ));
        return Ok((a.volid, log));
    }
    let (storage, base_name) = d.volid.split_once(':').unwrap_or(("", ""));
    let file = cluster
        .storages
        .get(storage)
        .is_some_and(|s| is_file_storage(&s.kind));
    let n = (0..)
        .find(|n| {
            let stem = format!("vm-{newid}-disk-{n}");
            !cluster.volumes.iter().any(|v| {
                v.storage == storage
                    && v.volid
                        .rsplit('/')
                        .next()
                        .is_some_and(|last| last == stem || last.starts_with(&format!("{stem}.")))
            })
        })
        .unwrap_or(0);
    let stem = format!("vm-{newid}-disk-{n}");
    let name = if file {
        format!("{base_name}/{newid}/{stem}.qcow2")
    } else {
        format!("{base_name}/{stem}")
    };
    let mut log = vec![format!(
        "create linked clone of drive {} ({})",
        d.key, d.volid
    )];
    log.extend(alloc_space(cluster, node, storage, &stem, d.size)?);
    let volid = format!("{storage}:{name}");
    cluster.volumes.push(Volume {
        volid: volid.clone(),
        storage: storage.to_string(),
        node: node.to_string(),
        content: "images".into(),
        format: if file { "qcow2" } else { "raw" }.into(),
        size: d.size,
        ctime,
        vmid: Some(newid),
        notes: None,
        protected: false,
    });
    Ok((volid, log))
}
