//! The QEMU guest agent inside simulated VMs: `exec` starts a deterministic fake command
//! (see [`guest_os`]), `exec-status` reports `{"exited":0}` until its simulated run time has passed,
//! then its exit code and output, once, as QGA does (a finished process is forgotten after it
//! was reported). Output beyond [`AgentProcs::output_limit`] is cut and flagged
//! `out-truncated`/`err-truncated`, as QGA's 16 MiB limit does.

pub(crate) mod guest_os;
mod shell;

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value, json};

use crate::state::{Guest, SimTime};

/// QGA's limit on captured output per stream (16 MiB).
pub(crate) const DEFAULT_OUTPUT_LIMIT: usize = 16 * 1024 * 1024;

/// A process started through `agent/exec`.
#[derive(Debug, Clone)]
pub(crate) struct Proc {
    /// When the guest was started at exec time: a reboot forgets the process.
    pub boot: Option<SimTime>,
    pub ends_at: SimTime,
    pub result: guest_os::Outcome,
}

/// Processes started through `agent/exec`, by VMID and pid, plus per-VM agent state.
#[derive(Debug)]
pub struct AgentProcs {
    procs: BTreeMap<(u32, u32), Proc>,
    next_pid: BTreeMap<u32, u32>,
    /// VMs whose filesystems are frozen (`fsfreeze-freeze`).
    pub frozen: BTreeSet<u32>,
    /// Bytes of stdout/stderr kept per process; more is cut and flagged truncated.
    pub output_limit: usize,
}

impl Default for AgentProcs {
    fn default() -> Self {
        Self {
            procs: BTreeMap::new(),
            next_pid: BTreeMap::new(),
            frozen: BTreeSet::new(),
            output_limit: DEFAULT_OUTPUT_LIMIT,
        }
    }
}

impl AgentProcs {
    /// Starts `argv` in guest `g` at `now`; returns the guest pid. The command's run time is
    /// multiplied by `time_scale` (0 makes it finish at once).
    pub fn exec(
        &mut self,
        g: &Guest,
        argv: &[String],
        input: Option<&str>,
        now: SimTime,
        time_scale: f64,
    ) -> u32 {
        let result = guest_os::run(g, argv, input, now);
        let next = self
            .next_pid
            .entry(g.vmid)
            .or_insert(1_000 + (g.vmid % 97) * 13);
        *next += 1 + (*next % 5);
        let pid = *next;
        self.procs.insert(
            (g.vmid, pid),
            Proc {
                boot: g.started_at,
                ends_at: now + result.duration * time_scale.max(0.0),
                result,
            },
        );
        pid
    }

    /// `guest-exec-status` for `pid` in guest `g` at `now`, in PVE's shape (`exited` 0/1,
    /// `exitcode`, `out-data`/`err-data` only when non-empty, `*-truncated` when cut). `None`
    /// when the pid is unknown (never started, from before a reboot, or already reported).
    pub fn status(&mut self, g: &Guest, pid: u32, now: SimTime) -> Option<Value> {
        let key = (g.vmid, pid);
        let p = self.procs.get(&key)?;
        if p.boot != g.started_at {
            self.procs.remove(&key);
            return None;
        }
        if p.ends_at > now {
            return Some(json!({ "exited": 0 }));
        }
        let p = self.procs.remove(&key)?;
        let mut m = Map::new();
        m.insert("exited".into(), json!(1));
        m.insert("exitcode".into(), json!(p.result.exitcode));
        for (name, text) in [("out", p.result.out), ("err", p.result.err)] {
            if text.is_empty() {
                continue;
            }
            let (kept, cut) = truncate(&text, self.output_limit);
            m.insert(format!("{name}-data"), json!(kept));
            if cut {
                m.insert(format!("{name}-truncated"), json!(1));
            }
        }
        Some(Value::Object(m))
    }

    /// Forgets everything about a VM's agent (destroyed guest).
    pub fn forget(&mut self, vmid: u32) {
        self.procs.retain(|(v, _), _| *v != vmid);
        self.next_pid.remove(&vmid);
        self.frozen.remove(&vmid);
    }
}

/// Cuts `text` to at most `limit` bytes on a character boundary.
fn truncate(text: &str, limit: usize) -> (&str, bool) {
    if text.len() <= limit {
        return (text, false);
    }
    let mut end = limit;
    while end > 0 && !text.is_char_boundary(end) {
        end -= 1;
    }
    (&text[..end], true)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::testkit::{T0, cluster};

    fn argv(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_string()).collect()
    }

    #[test]
    fn sleep_runs_in_simulated_time_and_status_is_reported_once() {
        let c = cluster();
        let g = &c.guests[&100];
        let mut a = AgentProcs::default();
        let pid = a.exec(g, &argv(&["sleep", "10"]), None, T0, 1.0);
        assert_eq!(a.status(g, pid, T0 + 5.0), Some(json!({"exited": 0})));
        let done = a.status(g, pid, T0 + 11.0).unwrap();
        assert_eq!(done, json!({"exited": 1, "exitcode": 0}));
        assert_eq!(
            a.status(g, pid, T0 + 12.0),
            None,
            "reported once, then forgotten"
        );
        let pid2 = a.exec(g, &argv(&["sleep", "10"]), None, T0, 0.0);
        assert_ne!(pid, pid2);
        assert_eq!(a.status(g, pid2, T0).unwrap()["exited"], 1);
    }

    #[test]
    fn output_is_truncated_at_the_limit() {
        let c = cluster();
        let g = &c.guests[&100];
        let mut a = AgentProcs {
            output_limit: 10,
            ..AgentProcs::default()
        };
        let pid = a.exec(g, &argv(&["echo", "0123456789abcdef"]), None, T0, 0.0);
        let s = a.status(g, pid, T0).unwrap();
        assert_eq!(s["out-data"], "0123456789");
        assert_eq!(s["out-truncated"], 1);
        assert!(s.get("err-data").is_none() && s.get("err-truncated").is_none());
    }

    #[test]
    fn a_reboot_forgets_processes() {
        let c = cluster();
        let mut g = c.guests[&100].clone();
        let mut a = AgentProcs::default();
        let pid = a.exec(&g, &argv(&["hostname"]), None, T0, 1.0);
        g.started_at = Some(T0 + 1.0);
        assert_eq!(a.status(&g, pid, T0 + 5.0), None);
    }
}
