//! `POST /nodes/{node}/vzdump`: a `vzdump` task that backs up the node's chosen guests one after
//! the other, holding `lock: backup` on them while it runs, and when it ends adds an archive
//! per guest to the backup storage (`vzdump-qemu-100-YYYY_MM_DD-HH_MM_SS.vma.zst`, `lxc` →
//! `.tar.zst`) with size, ctime, notes and protection, pruning older ones when asked. A guest
//! that fails (locked, gone, no space) is logged and the task ends with `job errors`; a storage
//! without `backup` content fails the whole job as PVE's does.

use serde_json::{Value, json};

use crate::Sim;
use crate::auth;
use crate::guest::{self, kind_word, lock_message};
use crate::route::{ApiError, Call, Method, Perm, Route};
use crate::seed::backup_stamp;
use crate::state::{Cluster, GuestKind, PowerState, SimTime, Volume};
use crate::tasks::{Step, TaskSpec};

/// The routes of this module.
pub(crate) fn routes() -> Vec<Route> {
    vec![Route::new(
        Method::Post,
        "/nodes/{node}/vzdump",
        Perm::All,
        vzdump,
    )]
}

fn split_ids(s: Option<&str>) -> Vec<u32> {
    s.unwrap_or("")
        .split(|c: char| c == ',' || c == ';' || c.is_whitespace())
        .filter_map(|v| v.parse().ok())
        .collect()
}

/// The backup job as the task runs it.
#[derive(Debug, Clone)]
struct Job {
    node: String,
    vmids: Vec<u32>,
    storage: String,
    mode: String,
    compress: String,
    notes: Option<String>,
    protected: bool,
    keep_last: Option<usize>,
    cluster_name: String,
    cmdline: String,
}

fn vzdump(sim: &mut Sim, call: &Call) -> Result<Value, ApiError> {
    let node = call.node()?.to_string();
    let all = call.bool("all").unwrap_or(false);
    let vmid_param = call.str("vmid");
    if all && vmid_param.is_some() {
        return Err(ApiError::param(
            "all",
            "option conflicts with option 'vmid'",
        ));
    }
    if let Some(t) = call.str("notes-template")
        && t.contains('\n')
    {
        return Err(ApiError::param("notes-template", "contains a line feed"));
    }
    let pool = call.str("pool");
    if !all && vmid_param.is_none() && pool.is_none() && call.str("exclude").is_none() {
        return Err(ApiError::param("vmid", "property is missing"));
    }
    let exclude = split_ids(call.str("exclude"));
    let mut vmids: Vec<u32> = if let Some(pool) = pool {
        let mut v: Vec<u32> = sim
            .cluster
            .guests
            .values()
            .filter(|g| g.pool.as_deref() == Some(pool))
            .map(|g| g.vmid)
            .collect();
        v.sort_unstable();
        v
    } else if vmid_param.is_some() {
        split_ids(vmid_param)
    } else {
        sim.cluster
            .guests
            .values()
            .filter(|g| !exclude.contains(&g.vmid))
            .map(|g| g.vmid)
            .collect()
    };
    // Guests on other nodes are theirs to back up; unknown VMIDs stay in and fail visibly.
    vmids.retain(|v| sim.cluster.guests.get(v).is_none_or(|g| g.node == node));
    vmids.dedup();
    // PVE answers `OK` without a task when the node holds none of the guests asked for.
    if vmids.is_empty() && !all {
        return Ok(Value::String("OK".into()));
    }
    for v in &vmids {
        let path = format!("/vms/{v}");
        auth::require(&call.identity, &path, "VM.Backup", &sim.cluster)?;
    }
    let storage = call.str("storage").unwrap_or("local").to_string();
    let spath = format!("/storage/{storage}");
    auth::require(
        &call.identity,
        &spath,
        "Datastore.AllocateSpace",
        &sim.cluster,
    )?;
    let remove = call.bool("remove").unwrap_or(true);
    let prune = call.str("prune-backups").map(str::to_string).or_else(|| {
        sim.cluster
            .storages
            .get(&storage)
            .and_then(|s| s.extra.get("prune-backups"))
            .and_then(Value::as_str)
            .map(str::to_string)
    });
    let keep_last = prune
        .as_deref()
        .filter(|_| remove)
        .and_then(|p| guest::prop(p, "keep-last"))
        .and_then(|n| n.parse().ok());
    let mode = call.str("mode").unwrap_or("snapshot").to_string();
    let compress = call.str("compress").unwrap_or("0").to_string();
    let cmdline = {
        let ids = vmids
            .iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(" ");
        let mut parts = vec![format!("vzdump {ids}").trim_end().to_string()];
        for k in [
            "storage",
            "mode",
            "compress",
            "notes-template",
            "prune-backups",
        ] {
            if let Some(v) = call.str(k) {
                parts.push(format!("--{k} '{v}'"));
            }
        }
        parts.push(format!("--node {node}"));
        parts.join(" ")
    };
    let job = Job {
        node: node.clone(),
        vmids: vmids.clone(),
        storage,
        mode,
        compress,
        notes: call.str("notes-template").map(str::to_string),
        protected: call.bool("protected").unwrap_or(false),
        keep_last,
        cluster_name: sim.cluster.name.clone().unwrap_or_default(),
        cmdline,
    };
    let mut duration = 1.0;
    let mut locked = Vec::new();
    let mut steps = Vec::new();
    for v in &vmids {
        if let Some(g) = sim.cluster.guests.get_mut(v) {
            let secs = guest_seconds(g.maxdisk(), g.disk_fraction);
            if g.lock().is_none() {
                g.config.insert("lock".into(), json!("backup"));
                locked.push(*v);
                steps.extend(mode_steps(*v, g.kind, &job.mode, duration, secs));
            }
            duration += secs;
        }
    }
    let single = (vmids.len() == 1).then(|| vmids[0]);
    let started = sim.now;
    let upid = sim.spawn_task_with_steps(
        TaskSpec {
            node,
            kind: "vzdump".into(),
            id: single.map(|v| v.to_string()).unwrap_or_default(),
            user: guest::task_user(call),
            duration,
            log: Vec::new(),
            lock_vmid: single.filter(|v| locked.contains(v)),
            finish: Box::new(move |cluster, _| run(cluster, &job, &locked, started)),
        },
        steps,
    );
    Ok(Value::String(upid))
}

/// Seconds a QEMU VM is down in a `stop` backup (shut down, then started again with the backup
/// running behind it), or paused in a `suspend` one.
const QEMU_PAUSE: f64 = 3.0;

/// What a backup in `mode` does to a running guest during its turn (`at`..`at + secs` into the
/// task): `stop` stops it and starts it again (a VM as soon as the backup has begun, a
/// container when its archive is written); `suspend` pauses a VM briefly. `snapshot` leaves it
/// running. A guest that is not running at its turn is left alone.
fn mode_steps(vmid: u32, kind: GuestKind, mode: &str, at: f64, secs: f64) -> Vec<Step> {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    let acted = Arc::new(AtomicBool::new(false));
    let (first, second): (StepKind, StepKind) = match (mode, kind) {
        ("stop", _) => (StepKind::Stop, StepKind::Start),
        ("suspend", GuestKind::Qemu) => (StepKind::Pause, StepKind::Resume),
        _ => return Vec::new(),
    };
    let back_at = if kind == GuestKind::Qemu {
        at + QEMU_PAUSE.min(secs)
    } else {
        at + secs
    };
    let a = acted.clone();
    vec![
        Step {
            after: at,
            apply: Box::new(move |cluster, t| {
                if let Some(g) = cluster.guests.get_mut(&vmid)
                    && g.status == PowerState::Running
                {
                    first.apply(g, t);
                    a.store(true, Ordering::SeqCst);
                }
            }),
        },
        Step {
            after: back_at,
            apply: Box::new(move |cluster, t| {
                if acted.load(Ordering::SeqCst)
                    && let Some(g) = cluster.guests.get_mut(&vmid)
                {
                    second.apply(g, t);
                }
            }),
        },
    ]
}

#[derive(Debug, Clone, Copy)]
enum StepKind {
    Stop,
    Start,
    Pause,
    Resume,
}

impl StepKind {
    fn apply(self, g: &mut crate::state::Guest, t: SimTime) {
        match self {
            StepKind::Stop => crate::guest::power::set_stopped(g),
            StepKind::Start => crate::guest::power::set_running(g, t),
            StepKind::Pause => g.qmpstatus = "paused".into(),
            StepKind::Resume => g.qmpstatus = "running".into(),
        }
    }
}

/// Simulated seconds to back up a guest with this much disk in use.
fn guest_seconds(maxdisk: u64, fraction: f64) -> f64 {
    5.0 + (maxdisk as f64 * fraction) / f64::from(300u32 << 20)
}

fn clock_text(t: i64) -> String {
    let s = backup_stamp(t);
    // 2026_01_31-02_00_05 → 2026-01-31 02:00:05
    let (d, h) = s.split_once('-').unwrap_or((&s, ""));
    format!("{} {}", d.replace('_', "-"), h.replace('_', ":"))
}

fn gib(b: u64) -> f64 {
    b as f64 / f64::from(1u32 << 30)
}

/// Runs the whole job when the task ends: every guest in turn, then the verdict.
fn run(
    cluster: &mut Cluster,
    job: &Job,
    locked: &[u32],
    started: SimTime,
) -> Result<Vec<String>, String> {
    for v in locked {
        if let Some(g) = cluster.guests.get_mut(v)
            && g.lock().as_deref() == Some("backup")
        {
            g.config.remove("lock");
        }
    }
    let st = cluster.storages.get(&job.storage).cloned().ok_or_else(|| {
        format!(
            "could not get storage information for '{0}': storage '{0}' does not exist",
            job.storage
        )
    })?;
    if !st.content.iter().any(|c| c == "backup") {
        return Err(format!(
            "could not get storage information for '{0}': can't use storage '{0}' for backups - wrong content type",
            job.storage
        ));
    }
    let dumpdir = match st.extra.get("path").and_then(Value::as_str) {
        Some(p) => format!("{p}/dump"),
        None => format!("/mnt/pve/{}/dump", job.storage),
    };
    let mut log = vec![format!("INFO: starting new backup job: {}", job.cmdline)];
    let mut errors = 0;
    let mut t = started;
    for &vmid in &job.vmids {
        match backup_one(cluster, job, vmid, t, &dumpdir, &mut log) {
            Ok(secs) => t += secs,
            Err(e) => {
                errors += 1;
                log.push(format!("ERROR: Backup of VM {vmid} failed - {e}"));
                log.push(format!("INFO: Failed at {}", clock_text(t as i64)));
            }
        }
    }
    if errors > 0 {
        log.push("job errors".into());
        return Err(log.join("\n"));
    }
    log.push("INFO: Backup job finished successfully".into());
    Ok(log)
}

/// Backs up one guest starting at `t`; returns the seconds it took.
fn backup_one(
    cluster: &mut Cluster,
    job: &Job,
    vmid: u32,
    t: SimTime,
    dumpdir: &str,
    log: &mut Vec<String>,
) -> Result<f64, String> {
    let g = cluster
        .guests
        .get(&vmid)
        .filter(|g| g.node == job.node)
        .cloned()
        .ok_or_else(|| {
            format!(
                "unable to find configuration file for VM {vmid} on node '{}'",
                job.node
            )
        })?;
    let (word, archive) = match g.kind {
        GuestKind::Qemu => ("qemu", "vma"),
        GuestKind::Lxc => ("lxc", "tar"),
    };
    log.push(format!("INFO: Starting Backup of VM {vmid} ({word})"));
    log.push(format!("INFO: Backup started at {}", clock_text(t as i64)));
    if let Some(l) = g.lock() {
        return Err(lock_message(g.kind, &l));
    }
    let running = g.status == PowerState::Running;
    log.push(format!("INFO: status = {}", g.status.as_str()));
    log.push(format!("INFO: {} Name: {}", kind_word(g.kind), g.name()));
    for (k, v) in &g.config {
        if crate::state::is_disk_key(g.kind, k)
            && let Some(s) = v.as_str().filter(|s| !s.contains("media=cdrom"))
            && let Some(volid) = guest::disk_volid(s)
        {
            let size = crate::state::disk_size_bytes(s).unwrap_or(0);
            log.push(format!(
                "INFO: include disk '{k}' '{volid}' {}",
                crate::state::format_size(size)
            ));
        }
    }
    let mode = if running { job.mode.as_str() } else { "stop" };
    log.push(format!("INFO: backup mode: {mode}"));
    log.push("INFO: ionice priority: 7".into());
    if running && job.mode == "stop" {
        log.push("INFO: stopping virtual guest".into());
    } else if running && job.mode == "suspend" {
        log.push("INFO: suspending guest".into());
    }
    let (ext, ratio) = match job.compress.as_str() {
        "zstd" => (format!("{archive}.zst"), 0.45),
        "gzip" => (format!("{archive}.gz"), 0.5),
        "1" | "lzo" => (format!("{archive}.lzo"), 0.6),
        _ => (archive.to_string(), 1.0),
    };
    let name = format!("vzdump-{word}-{vmid}-{}.{ext}", backup_stamp(t as i64));
    log.push(format!("INFO: creating vzdump archive '{dumpdir}/{name}'"));
    let total = g.maxdisk();
    let used = (total as f64 * g.disk_fraction) as u64;
    let size = ((used as f64 * ratio) as u64).max(1 << 20);
    let secs = guest_seconds(total, g.disk_fraction);
    if guest::alloc_space(cluster, &g.node, &job.storage, &name, size).is_err() {
        return Err(match g.kind {
            GuestKind::Qemu => "vma_queue_write: write error - No space left on device".into(),
            GuestKind::Lxc => format!(
                "command 'tar' failed: write error: {dumpdir}/{name}: No space left on device"
            ),
        });
    }
    if running && job.mode != "snapshot" {
        log.push(format!(
            "INFO: {}",
            if job.mode == "stop" {
                "restarting vm"
            } else {
                "resuming VM again"
            }
        ));
    }
    log.push(format!(
        "INFO: transferred {:.2} GiB in {} seconds",
        gib(total),
        secs as u64
    ));
    log.push(format!("INFO: archive file size: {:.2}GB", gib(size)));
    let notes = job.notes.as_ref().map(|tpl| {
        tpl.replace("{{guestname}}", &g.name())
            .replace("{{vmid}}", &vmid.to_string())
            .replace("{{node}}", &job.node)
            .replace("{{cluster}}", &job.cluster_name)
    });
    if notes.is_some() {
        log.push("INFO: adding notes to backup".into());
    }
    if job.protected {
        log.push("INFO: marking backup as protected".into());
    }
    let mut saved = g.config.clone();
    saved.remove("lock");
    cluster
        .backup_configs
        .insert(format!("{}:backup/{name}", job.storage), saved);
    cluster.volumes.push(Volume {
        volid: format!("{}:backup/{name}", job.storage),
        storage: job.storage.clone(),
        node: g.node.clone(),
        content: "backup".into(),
        format: ext,
        size,
        ctime: (t + secs) as i64,
        vmid: Some(vmid),
        notes,
        protected: job.protected,
    });
    if let Some(keep) = job.keep_last {
        prune(cluster, job, vmid, keep, log);
    }
    log.push(format!(
        "INFO: Finished Backup of VM {vmid} ({:02}:{:02}:{:02})",
        secs as u64 / 3600,
        secs as u64 / 60 % 60,
        secs as u64 % 60
    ));
    log.push(format!(
        "INFO: Backup finished at {}",
        clock_text((t + secs) as i64)
    ));
    Ok(secs)
}

/// Removes the oldest unprotected backups of `vmid` on the job's storage beyond `keep`.
fn prune(cluster: &mut Cluster, job: &Job, vmid: u32, keep: usize, log: &mut Vec<String>) {
    let mut mine: Vec<(i64, String)> = cluster
        .volumes
        .iter()
        .filter(|v| v.storage == job.storage && v.content == "backup" && v.vmid == Some(vmid))
        .filter(|v| !v.protected)
        .map(|v| (v.ctime, v.volid.clone()))
        .collect();
    mine.sort();
    log.push(format!(
        "INFO: prune older backups with retention: keep-last={keep}"
    ));
    let excess = mine.len().saturating_sub(keep);
    let doomed: Vec<String> = mine.into_iter().take(excess).map(|(_, v)| v).collect();
    for v in &doomed {
        log.push(format!("INFO: removing backup '{v}'"));
    }
    log.push(format!("INFO: pruned {} backup(s)", doomed.len()));
    guest::free_volumes(cluster, &doomed);
    for v in &doomed {
        cluster.backup_configs.remove(v);
    }
}

#[cfg(test)]
mod tests;
