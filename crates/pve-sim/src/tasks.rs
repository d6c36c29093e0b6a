//! Tasks: PVE's asynchronous workers. An action returns a UPID at once; the task ends after a
//! simulated duration and only then changes the cluster (or fails with PVE's exit status).
//!
//! Tasks are settled lazily: `Sim::settle` runs before each request, under the lock, and
//! finishes every task whose end time has passed, in order. No background thread is needed,
//! and a time scale of 0 makes every task end before the next request is served.

use std::collections::BTreeMap;

use crate::state::{Cluster, SimTime};

/// What a task does when it ends: apply its effect and return extra log lines, or fail with
/// the exit status PVE would write (`VM 100 already running`). A failure may carry log lines
/// first: every line of the error but the last goes to the log, the last is the exit status.
pub type Finish = Box<dyn FnOnce(&mut Cluster, SimTime) -> Result<Vec<String>, String> + Send>;

/// Something a running task does to the cluster part-way through (a backup stopping and
/// restarting a guest): applied when simulated time reaches it, in order, before the end.
pub(crate) type StepFn = Box<dyn FnOnce(&mut Cluster, SimTime) + Send>;

/// A step: its offset in nominal seconds from the task's start (scaled like the duration).
pub(crate) struct Step {
    pub(crate) after: f64,
    pub(crate) apply: StepFn,
}

/// A task to start.
pub struct TaskSpec {
    pub node: String,
    /// `qmstart`, `vzstop`, `vzdump`, ...
    pub kind: String,
    /// The task's `id` field: usually the VMID, may be empty.
    pub id: String,
    /// The caller's userid (`root@pam` or `root@pam!token`).
    pub user: String,
    /// Nominal duration in simulated seconds, multiplied by the time scale.
    pub duration: f64,
    /// Log lines written at start.
    pub log: Vec<String>,
    /// The guest whose `lock` the task holds and releases when it ends or is stopped.
    pub lock_vmid: Option<u32>,
    pub finish: Finish,
}

impl std::fmt::Debug for TaskSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TaskSpec")
            .field("node", &self.node)
            .field("kind", &self.kind)
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// A task, running or finished.
pub struct Task {
    pub upid: String,
    pub node: String,
    pub pid: u32,
    pub pstart: u64,
    pub starttime: i64,
    pub kind: String,
    pub id: String,
    pub user: String,
    pub ends_at: SimTime,
    /// `None` while running; the exit status (`OK` or the error) once stopped.
    pub exitstatus: Option<String>,
    pub endtime: Option<i64>,
    pub log: Vec<String>,
    pub lock_vmid: Option<u32>,
    finish: Option<Finish>,
    /// Steps still to apply, by absolute time, in order.
    steps: Vec<(SimTime, StepFn)>,
}

impl std::fmt::Debug for Task {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Task")
            .field("upid", &self.upid)
            .field("exitstatus", &self.exitstatus)
            .finish_non_exhaustive()
    }
}

impl Task {
    pub fn is_running(&self) -> bool {
        self.exitstatus.is_none()
    }
}

/// Every task the cluster has run, by UPID, plus the pid counter.
#[derive(Debug, Default)]
pub struct Tasks {
    pub by_upid: BTreeMap<String, Task>,
    /// UPIDs in start order, for listing.
    pub order: Vec<String>,
    next_pid: u32,
    /// How many tasks have ended (finished or stopped) or applied a step: both may change the
    /// cluster, which `facts::FactsCache` watches.
    pub ended: u64,
}

/// Formats a UPID as PVE does: `UPID:node:PID:PSTART:STARTTIME:type:id:user:`.
pub fn format_upid(
    node: &str,
    pid: u32,
    pstart: u64,
    starttime: i64,
    kind: &str,
    id: &str,
    user: &str,
) -> String {
    format!("UPID:{node}:{pid:08X}:{pstart:08X}:{starttime:08X}:{kind}:{id}:{user}:")
}

impl Tasks {
    /// Starts a task at `now`, scaling its duration; returns its UPID.
    pub fn spawn(&mut self, spec: TaskSpec, now: SimTime, time_scale: f64) -> String {
        self.spawn_with_steps(spec, Vec::new(), now, time_scale)
    }

    /// Starts a task that also applies `steps` while it runs (see [`Step`]).
    pub(crate) fn spawn_with_steps(
        &mut self,
        spec: TaskSpec,
        steps: Vec<Step>,
        now: SimTime,
        time_scale: f64,
    ) -> String {
        if self.next_pid == 0 {
            self.next_pid = 40_000;
        }
        self.next_pid += 1;
        let pid = self.next_pid;
        let starttime = now as i64;
        // pstart is the process start in clock ticks since boot; any growing number will do.
        let pstart = (now * 100.0) as u64 % 0xFFFF_FFFF;
        let upid = format_upid(
            &spec.node, pid, pstart, starttime, &spec.kind, &spec.id, &spec.user,
        );
        let task = Task {
            upid: upid.clone(),
            node: spec.node,
            pid,
            pstart,
            starttime,
            kind: spec.kind,
            id: spec.id,
            user: spec.user,
            ends_at: now + spec.duration.max(0.0) * time_scale.max(0.0),
            exitstatus: None,
            endtime: None,
            log: spec.log,
            lock_vmid: spec.lock_vmid,
            finish: Some(spec.finish),
            steps: steps
                .into_iter()
                .map(|st| (now + st.after.max(0.0) * time_scale.max(0.0), st.apply))
                .collect(),
        };
        self.order.push(upid.clone());
        self.by_upid.insert(upid.clone(), task);
        upid
    }

    /// Applies the due steps of running tasks, then ends every running task whose time has
    /// come, in start order, applying its effect.
    pub fn settle(&mut self, cluster: &mut Cluster, now: SimTime) {
        for upid in &self.order {
            if let Some(task) = self.by_upid.get_mut(upid).filter(|t| t.is_running()) {
                while task.steps.first().is_some_and(|(at, _)| *at <= now) {
                    let (at, apply) = task.steps.remove(0);
                    apply(cluster, at);
                    self.ended += 1;
                }
            }
        }
        let due: Vec<String> = self
            .order
            .iter()
            .filter(|u| {
                self.by_upid
                    .get(*u)
                    .is_some_and(|t| t.is_running() && t.ends_at <= now)
            })
            .cloned()
            .collect();
        for upid in due {
            if let Some(task) = self.by_upid.get_mut(&upid) {
                let ended = task.ends_at;
                let result = match task.finish.take() {
                    Some(f) => f(cluster, ended),
                    None => Ok(Vec::new()),
                };
                release_lock(cluster, task.lock_vmid);
                match result {
                    Ok(lines) => {
                        task.log.extend(lines);
                        task.log.push("TASK OK".to_string());
                        task.exitstatus = Some("OK".to_string());
                    }
                    Err(msg) => {
                        // Lines before the last are log lines; the last is the exit status.
                        let mut lines: Vec<String> = msg.lines().map(str::to_string).collect();
                        let status = lines.pop().unwrap_or_default();
                        task.log.extend(lines);
                        task.log.push(format!("TASK ERROR: {status}"));
                        task.exitstatus = Some(status);
                    }
                }
                task.endtime = Some(ended as i64);
                self.ended += 1;
            }
        }
    }

    /// Stops a running task (`DELETE /nodes/{node}/tasks/{upid}`): its effect is not applied.
    /// Returns false if the task is unknown or already stopped.
    pub fn stop(&mut self, cluster: &mut Cluster, upid: &str, now: SimTime) -> bool {
        let Some(task) = self.by_upid.get_mut(upid) else {
            return false;
        };
        if !task.is_running() {
            return false;
        }
        task.finish = None;
        task.steps.clear();
        release_lock(cluster, task.lock_vmid);
        task.log.push("received interrupt".to_string());
        task.log
            .push("TASK ERROR: interrupted by signal".to_string());
        task.exitstatus = Some("interrupted by signal".to_string());
        task.endtime = Some(now as i64);
        self.ended += 1;
        true
    }

    /// Whether a running task holds the guest.
    pub fn running_for(&self, vmid: u32) -> Option<&Task> {
        self.by_upid
            .values()
            .find(|t| t.is_running() && t.lock_vmid == Some(vmid))
    }
}

fn release_lock(cluster: &mut Cluster, vmid: Option<u32>) {
    if let Some(g) = vmid.and_then(|v| cluster.guests.get_mut(&v)) {
        g.config.remove("lock");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(duration: f64, fail: bool) -> TaskSpec {
        TaskSpec {
            node: "pve01".into(),
            kind: "qmstart".into(),
            id: "100".into(),
            user: "root@pam".into(),
            duration,
            log: vec![],
            lock_vmid: None,
            finish: Box::new(move |_, _| {
                if fail {
                    Err("VM 100 already running".into())
                } else {
                    Ok(vec![])
                }
            }),
        }
    }

    #[test]
    fn upid_format_matches_pve() {
        assert_eq!(
            format_upid(
                "pve", 400563, 17540764, 1693445296, "qmcreate", "101", "root@pam"
            ),
            "UPID:pve:00061CB3:010BA69C:64EFECB0:qmcreate:101:root@pam:"
        );
    }

    #[test]
    fn task_ends_only_when_due() {
        let mut tasks = Tasks::default();
        let mut cluster = Cluster::default();
        let ok = tasks.spawn(spec(2.0, false), 1000.0, 1.0);
        let bad = tasks.spawn(spec(0.0, true), 1000.0, 1.0);
        tasks.settle(&mut cluster, 1001.0);
        assert!(tasks.by_upid[&ok].is_running());
        assert_eq!(
            tasks.by_upid[&bad].exitstatus.as_deref(),
            Some("VM 100 already running")
        );
        tasks.settle(&mut cluster, 1002.0);
        assert_eq!(tasks.by_upid[&ok].exitstatus.as_deref(), Some("OK"));
        assert_eq!(
            tasks.by_upid[&ok].log.last().map(String::as_str),
            Some("TASK OK")
        );
    }
}
