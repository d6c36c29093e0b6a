//! Scheduled backup jobs (`/cluster/backup`: list, create, read, update, delete, and each job's
//! `included_volumes`) and `/cluster/backup-info/not-backed-up`, the guests no enabled job
//! covers. A job keeps the options it was given, as `jobs.cfg` does; its property strings
//! (`prune-backups`, `fleecing`, `performance`) are shown parsed, and `next-run` follows its
//! schedule on the simulated clock.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use crate::Sim;
use crate::guest;
use crate::route::{ApiError, Call, Method, Perm, Route};
use crate::state::{Cluster, Guest, GuestKind};

/// The routes of this module.
pub(super) fn routes() -> Vec<Route> {
    use Method::{Delete, Get, Post, Put};
    let r = Route::new;
    let audit = Perm::Root(&["Sys.Audit"]);
    let modify = Perm::Root(&["Sys.Modify"]);
    vec![
        r(Get, "/cluster/backup", audit, list),
        r(Post, "/cluster/backup", Perm::All, create),
        r(Get, "/cluster/backup/{id}", audit, read),
        r(Put, "/cluster/backup/{id}", modify, update),
        r(Delete, "/cluster/backup/{id}", modify, remove),
        r(
            Get,
            "/cluster/backup/{id}/included_volumes",
            audit,
            included,
        ),
        r(Get, "/cluster/backup-info", Perm::All, |_, _| {
            Ok(json!([{"subdir": "not-backed-up"}]))
        }),
        r(
            Get,
            "/cluster/backup-info/not-backed-up",
            audit,
            not_backed_up,
        ),
    ]
}

/// Parameters that are not job options.
const CONTROLS: &[&str] = &["id", "delete", "digest"];
/// Options PVE shows parsed into objects.
const PROPERTY_STRINGS: &[&str] = &["prune-backups", "fleecing", "performance"];

/// A job as the API shows it.
fn shown(id: &str, job: &BTreeMap<String, Value>, now: f64) -> Value {
    let mut e = Map::new();
    for (k, v) in job {
        let v = match (k.as_str(), v) {
            (k, Value::String(s)) if PROPERTY_STRINGS.contains(&k) => parsed(s),
            _ => v.clone(),
        };
        e.insert(k.clone(), v);
    }
    e.insert("id".into(), json!(id));
    e.insert("type".into(), json!("vzdump"));
    e.entry("enabled").or_insert(json!(1));
    if enabled(job) {
        let schedule = job.get("schedule").and_then(Value::as_str).unwrap_or("");
        e.insert("next-run".into(), json!(next_run(schedule, now)));
    }
    Value::Object(e)
}

/// `keep-last=3,keep-daily=7` → `{"keep-last": 3, "keep-daily": 7}` (numbers as numbers).
fn parsed(s: &str) -> Value {
    let mut m = Map::new();
    for (k, v) in guest::parse_props(s) {
        let key = if k.is_empty() {
            "enabled".to_string()
        } else {
            k
        };
        let v = v.parse::<i64>().map_or(json!(v), |n| json!(n));
        m.insert(key, v);
    }
    Value::Object(m)
}

fn enabled(job: &BTreeMap<String, Value>) -> bool {
    job.get("enabled")
        .is_none_or(|v| guest::value_text(v) != "0")
}

fn job_of<'a>(c: &'a Cluster, id: &str) -> Result<&'a BTreeMap<String, Value>, ApiError> {
    c.backup_jobs
        .get(id)
        .ok_or_else(|| ApiError::internal(format!("job '{id}' does not exist")))
}

fn list(sim: &mut Sim, _: &Call) -> Result<Value, ApiError> {
    Ok(Value::Array(
        sim.cluster
            .backup_jobs
            .iter()
            .map(|(id, job)| shown(id, job, sim.now))
            .collect(),
    ))
}

fn read(sim: &mut Sim, call: &Call) -> Result<Value, ApiError> {
    let id = call.req_str("id")?;
    Ok(shown(id, job_of(&sim.cluster, id)?, sim.now))
}

/// The job options of a call, as stored.
fn options(call: &Call) -> BTreeMap<String, Value> {
    call.params
        .iter()
        .filter(|(k, _)| !CONTROLS.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), guest::config_value(v)))
        .collect()
}

/// PVE's selection rule: one of `all`, `vmid`, `pool`.
fn check_selection(job: &BTreeMap<String, Value>) -> Result<(), ApiError> {
    let all = job.get("all").is_some_and(|v| guest::value_text(v) == "1");
    let n = usize::from(all)
        + usize::from(job.contains_key("vmid"))
        + usize::from(job.contains_key("pool"));
    if n > 1 {
        return Err(ApiError::param(
            "vmid",
            "option conflicts with option 'all' or 'pool'",
        ));
    }
    if n == 0 && !job.contains_key("exclude") {
        return Err(ApiError::param(
            "vmid",
            "property is missing and it is not optional",
        ));
    }
    Ok(())
}

/// `dow` and `starttime` (the old form) become a `schedule`.
fn normalize_schedule(job: &mut BTreeMap<String, Value>) {
    if let Some(t) = job.remove("starttime") {
        let t = guest::value_text(&t);
        let schedule = match job.remove("dow") {
            Some(d) => format!("{} {t}", guest::value_text(&d)),
            None => t,
        };
        job.insert("schedule".into(), json!(schedule));
    }
}

/// `POST /cluster/backup`: a new job (with `Sys.Modify` on `/`, and `VM.Backup` on what it
/// selects by VMID).
fn create(sim: &mut Sim, call: &Call) -> Result<Value, ApiError> {
    crate::auth::require(&call.identity, "/", "Sys.Modify", &sim.cluster)?;
    let mut job = options(call);
    normalize_schedule(&mut job);
    check_selection(&job)?;
    if !job.contains_key("schedule") {
        return Err(ApiError::param(
            "schedule",
            "property is missing and it is not optional",
        ));
    }
    let id = match call.str("id") {
        Some(id) => id.to_string(),
        None => format!(
            "backup-{}",
            &guest::new_uuid(&format!("{}:{}", sim.now, sim.cluster.backup_jobs.len()))[..13]
        ),
    };
    if sim.cluster.backup_jobs.contains_key(&id) {
        return Err(ApiError::internal(format!("Job '{id}' already exists")));
    }
    if let Some(st) = job.get("storage").and_then(Value::as_str)
        && !sim.cluster.storages.contains_key(st)
    {
        return Err(ApiError::internal(format!("storage '{st}' does not exist")));
    }
    sim.cluster.backup_jobs.insert(id, job);
    Ok(Value::Null)
}

/// `PUT /cluster/backup/{id}`: sets the given options, removes those in `delete`.
fn update(sim: &mut Sim, call: &Call) -> Result<Value, ApiError> {
    let id = call.req_str("id")?.to_string();
    let mut job = job_of(&sim.cluster, &id)?.clone();
    for d in crate::params::split_list(call.str("delete").unwrap_or("")) {
        job.remove(d);
    }
    let set = options(call);
    if set.contains_key("all") || set.contains_key("vmid") || set.contains_key("pool") {
        job.remove("all");
        job.remove("vmid");
        job.remove("pool");
    }
    job.extend(set);
    normalize_schedule(&mut job);
    check_selection(&job)?;
    sim.cluster.backup_jobs.insert(id, job);
    Ok(Value::Null)
}

fn remove(sim: &mut Sim, call: &Call) -> Result<Value, ApiError> {
    let id = call.req_str("id")?;
    job_of(&sim.cluster, id)?;
    sim.cluster.backup_jobs.remove(id);
    Ok(Value::Null)
}

/// The VMIDs a job selects.
pub(crate) fn covered(c: &Cluster, job: &BTreeMap<String, Value>) -> Vec<u32> {
    let text = |k: &str| job.get(k).map(guest::value_text);
    let ids = |s: Option<String>| -> Vec<u32> {
        crate::params::split_list(s.as_deref().unwrap_or(""))
            .into_iter()
            .filter_map(|v| v.parse().ok())
            .collect()
    };
    let node = text("node");
    let on_node = |g: &Guest| node.as_ref().is_none_or(|n| *n == g.node);
    if let Some(pool) = text("pool") {
        return c
            .guests
            .values()
            .filter(|g| g.pool.as_deref() == Some(pool.as_str()) && on_node(g))
            .map(|g| g.vmid)
            .collect();
    }
    if text("vmid").is_some() {
        return ids(text("vmid"))
            .into_iter()
            .filter(|v| c.guests.get(v).is_some_and(on_node))
            .collect();
    }
    let exclude = ids(text("exclude"));
    c.guests
        .values()
        .filter(|g| on_node(g) && !exclude.contains(&g.vmid))
        .map(|g| g.vmid)
        .collect()
}

/// `GET .../included_volumes`: every guest the job selects, with its disks.
fn included(sim: &mut Sim, call: &Call) -> Result<Value, ApiError> {
    let id = call.req_str("id")?;
    let c = &sim.cluster;
    let job = job_of(c, id)?;
    let children: Vec<Value> = covered(c, job)
        .into_iter()
        .filter_map(|v| c.guests.get(&v))
        .map(|g| {
            let disks: Vec<Value> = g
                .config
                .iter()
                .filter(|(k, v)| {
                    crate::state::is_disk_key(g.kind, k)
                        && v.as_str().is_some_and(|s| !s.contains("media=cdrom"))
                })
                .map(|(k, v)| {
                    let spec = v.as_str().unwrap_or("");
                    let excluded = guest::prop(spec, "backup") == Some("0");
                    json!({
                        "id": k,
                        "name": guest::disk_volid(spec).unwrap_or(spec),
                        "included": u8::from(!excluded),
                        "reason": if excluded { "disabled" } else { "enabled" },
                    })
                })
                .collect();
            json!({
                "id": g.vmid,
                "name": g.name(),
                "type": g.kind.as_str(),
                "children": disks,
            })
        })
        .collect();
    Ok(json!({ "children": children }))
}

/// `GET /cluster/backup-info/not-backed-up`: guests no enabled job selects.
fn not_backed_up(sim: &mut Sim, _: &Call) -> Result<Value, ApiError> {
    let c = &sim.cluster;
    let mut covered_ids = std::collections::BTreeSet::new();
    for job in c.backup_jobs.values().filter(|j| enabled(j)) {
        covered_ids.extend(covered(c, job));
    }
    Ok(Value::Array(
        c.guests
            .values()
            .filter(|g| !covered_ids.contains(&g.vmid))
            .map(|g| {
                json!({
                    "vmid": g.vmid,
                    "name": g.name(),
                    "type": if g.kind == GuestKind::Qemu { "qemu" } else { "lxc" },
                })
            })
            .collect(),
    ))
}

/// The next time a schedule fires after `now` (epoch seconds, UTC): `HH:MM`, `DAYS HH:MM`
/// (`sat`, `mon..fri`, `mon,wed`) and the words `daily`, `weekly`, `hourly`; anything else
/// fires a day from now.
pub(crate) fn next_run(schedule: &str, now: f64) -> i64 {
    const DAY: i64 = 86_400;
    const DAYS: [&str; 7] = ["thu", "fri", "sat", "sun", "mon", "tue", "wed"];
    let now = now as i64;
    let words: Vec<&str> = schedule.split_whitespace().collect();
    let (days, time) = match words.as_slice() {
        ["hourly"] => return (now / 3600 + 1) * 3600,
        ["daily"] => (None, "00:00"),
        ["weekly"] => (Some("mon"), "00:00"),
        [t] if t.contains(':') => (None, *t),
        [d, t] if t.contains(':') => (Some(*d), *t),
        _ => return now + DAY,
    };
    let (h, m) = time.split_once(':').unwrap_or(("0", "0"));
    let (Ok(h), Ok(m)) = (h.parse::<i64>(), m.parse::<i64>()) else {
        return now + DAY;
    };
    let allowed = |day_index: i64| -> bool {
        let Some(spec) = days else { return true };
        let name = DAYS[day_index.rem_euclid(7) as usize];
        spec.split(',').any(|part| match part.split_once("..") {
            Some((a, b)) => {
                let pos = |d: &str| DAYS.iter().position(|x| *x == d).map(|p| (p + 3) % 7);
                match (pos(a), pos(b), pos(name)) {
                    (Some(a), Some(b), Some(x)) => a <= x && x <= b,
                    _ => false,
                }
            }
            None => part == name,
        })
    };
    let today = now.div_euclid(DAY);
    (0..8)
        .map(|d| (today + d) * DAY + h * 3600 + m * 60)
        .find(|t| *t > now && allowed(t.div_euclid(DAY)))
        .unwrap_or(now + DAY)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules() {
        // 1970-01-01 was a Thursday; day 3 is Sunday.
        let sunday_noon = 3.0 * 86_400.0 + 12.0 * 3600.0;
        assert_eq!(next_run("02:00", sunday_noon), 4 * 86_400 + 2 * 3600);
        assert_eq!(
            next_run("13:30", sunday_noon),
            3 * 86_400 + 13 * 3600 + 1800
        );
        assert_eq!(
            next_run("sat 03:30", sunday_noon),
            9 * 86_400 + 3 * 3600 + 1800
        );
        assert_eq!(
            next_run("mon..fri 21:00", sunday_noon),
            4 * 86_400 + 21 * 3600
        );
        assert_eq!(next_run("hourly", sunday_noon), 3 * 86_400 + 13 * 3600);
    }
}
