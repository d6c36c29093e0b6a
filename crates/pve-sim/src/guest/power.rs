//! Guest power transitions as PVE's workers perform them: what each action checks when its task
//! runs (template, lock, running state) and how it changes the guest when the task ends
//! (`status`, `qmpstatus`, `pid`, uptime start). Used by the status routes and by the tasks
//! that start or stop guests along the way (create with `start`, rollback, backups).

use crate::guest::{kind_word, lock_message};
use crate::state::{Guest, GuestKind, PowerState, SimTime};

/// A power action of `.../status/{action}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    Start,
    Stop,
    Shutdown,
    Reset,
    Reboot,
    Suspend,
    Resume,
}

/// Options of a power call that matter when the task runs.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Opts {
    /// `skiplock=1` (root only).
    pub skiplock: bool,
    /// `forceStop=1` on shutdown.
    pub force: bool,
    /// `timeout` in seconds.
    pub timeout: Option<i64>,
    /// `todisk=1` on suspend (hibernate).
    pub todisk: bool,
}

/// How long a task that fails its first check takes, in simulated seconds.
pub(crate) const FAIL_DURATION: f64 = 0.3;

impl Action {
    /// The task type PVE runs the action as (`qmstart`, `vzshutdown`, ...).
    pub(crate) fn task_type(self, kind: GuestKind) -> &'static str {
        use Action::*;
        match (kind, self) {
            (GuestKind::Qemu, Start) => "qmstart",
            (GuestKind::Qemu, Stop) => "qmstop",
            (GuestKind::Qemu, Shutdown) => "qmshutdown",
            (GuestKind::Qemu, Reset) => "qmreset",
            (GuestKind::Qemu, Reboot) => "qmreboot",
            (GuestKind::Qemu, Suspend) => "qmsuspend",
            (GuestKind::Qemu, Resume) => "qmresume",
            (GuestKind::Lxc, Start) => "vzstart",
            (GuestKind::Lxc, Stop) => "vzstop",
            (GuestKind::Lxc, Shutdown) => "vzshutdown",
            (GuestKind::Lxc, Reset) => "vzreset",
            (GuestKind::Lxc, Reboot) => "vzreboot",
            (GuestKind::Lxc, Suspend) => "vzsuspend",
            (GuestKind::Lxc, Resume) => "vzresume",
        }
    }

    /// Nominal duration in simulated seconds (before the time scale): start 2-4 s, clean
    /// shutdown ~5 s, hard stop ~1 s; a shutdown `timeout` shorter than that cuts it short.
    pub(crate) fn duration(self, g: &Guest, opts: Opts) -> f64 {
        let mem_gib = g.maxmem() as f64 / f64::from(1u32 << 30);
        let qemu = g.kind == GuestKind::Qemu;
        let base = match self {
            Action::Start => {
                if qemu {
                    2.0 + (mem_gib * 0.1).min(2.0)
                } else {
                    2.0
                }
            }
            Action::Stop => 1.0,
            Action::Shutdown => shutdown_time(g.kind),
            Action::Reset | Action::Resume => 0.5,
            Action::Suspend if opts.todisk => 2.0 + mem_gib * 0.5,
            Action::Suspend => 0.5,
            Action::Reboot => {
                if qemu {
                    8.0
                } else {
                    6.0
                }
            }
        };
        match (self, opts.timeout) {
            (Action::Shutdown | Action::Reboot, Some(t)) if (t as f64) < base => t.max(0) as f64,
            _ => base,
        }
    }
}

/// How long a clean shutdown takes inside the guest, in simulated seconds.
pub(crate) fn shutdown_time(kind: GuestKind) -> f64 {
    match kind {
        GuestKind::Qemu => 5.0,
        GuestKind::Lxc => 4.0,
    }
}

/// A QEMU-style process id for a guest started at `t`.
pub(crate) fn new_pid(vmid: u32, t: SimTime) -> u32 {
    let mix = (t as u64)
        .wrapping_mul(2_654_435_761)
        .wrapping_add(u64::from(vmid) * 97);
    1_000 + (mix % 4_000_000) as u32
}

/// Marks a guest running from `t` (new process, uptime from `t`); a VM's cloud-init drive is
/// regenerated from its config, as PVE does at every start.
pub(crate) fn set_running(g: &mut Guest, t: SimTime) {
    g.status = PowerState::Running;
    g.qmpstatus = "running".into();
    g.started_at = Some(t);
    g.pid = new_pid(g.vmid, t);
    if crate::routes::qemu::cloudinit_api::has_drive(g) {
        g.cloudinit = Some(crate::routes::qemu::cloudinit_api::options(&g.config));
    }
}

/// Marks a guest stopped.
pub(crate) fn set_stopped(g: &mut Guest) {
    g.status = PowerState::Stopped;
    g.qmpstatus = "stopped".into();
    g.started_at = None;
    g.pid = 0;
}

fn check_lock(g: &Guest, opts: Opts) -> Result<(), String> {
    match g.lock() {
        Some(l) if !opts.skiplock => Err(lock_message(g.kind, &l)),
        _ => Ok(()),
    }
}

fn not_running(g: &Guest) -> String {
    format!("{} {} not running", kind_word(g.kind), g.vmid)
}

/// Applies `action` to `g` as its task does when it ends at `t`: returns the task's extra log
/// lines, or the exit status PVE's worker dies with (`VM 100 already running`,
/// `you can't start a vm if it's a template`, `VM is locked (backup)`, `VM 100 not running`).
/// Stopping or shutting down a stopped VM succeeds without doing anything, as in PVE.
pub(crate) fn apply(
    g: &mut Guest,
    action: Action,
    opts: Opts,
    t: SimTime,
) -> Result<Vec<String>, String> {
    let running = g.status == PowerState::Running;
    let qemu = g.kind == GuestKind::Qemu;
    let mut log = Vec::new();
    match action {
        Action::Start => {
            if g.is_template() {
                return Err(if qemu {
                    "you can't start a vm if it's a template".into()
                } else {
                    "you can't start a CT if it's a template".into()
                });
            }
            let hibernated = qemu && g.lock().as_deref() == Some("suspended");
            if !hibernated {
                check_lock(g, opts)?;
            }
            if running {
                return Err(format!("{} {} already running", kind_word(g.kind), g.vmid));
            }
            if hibernated {
                log.push("Resuming suspended VM".into());
                g.config.remove("lock");
                g.config.remove("vmstate");
                log.push("resuming VM again after suspend to disk".into());
            }
            set_running(g, t);
        }
        Action::Stop | Action::Shutdown => {
            check_lock(g, opts)?;
            if !running {
                return Ok(log);
            }
            if action == Action::Shutdown
                && opts
                    .timeout
                    .is_some_and(|to| (to as f64) < shutdown_time(g.kind))
            {
                if !opts.force {
                    return Err(if qemu {
                        "VM quit/powerdown failed - got timeout".into()
                    } else {
                        format!(
                            "command 'lxc-stop -n {} --nokill --timeout {}' failed: exit code 1",
                            g.vmid,
                            opts.timeout.unwrap_or(0)
                        )
                    });
                }
                log.push(if qemu {
                    "VM still running - terminating now with SIGTERM".into()
                } else {
                    "shutdown timed out, stopping container forcefully".into()
                });
            }
            set_stopped(g);
        }
        Action::Reset => {
            check_lock(g, opts)?;
            if !running {
                return Err(not_running(g));
            }
            g.qmpstatus = "running".into();
        }
        Action::Reboot => {
            check_lock(g, opts)?;
            if !running {
                return Err(not_running(g));
            }
            set_running(g, t);
        }
        Action::Suspend => {
            if !opts.todisk {
                check_lock(g, opts)?;
            }
            if !running {
                return Err(not_running(g));
            }
            if opts.todisk {
                log.push("suspend VM to disk".into());
                set_stopped(g);
                g.config.insert("lock".into(), "suspended".into());
            } else {
                g.qmpstatus = "paused".into();
            }
        }
        Action::Resume => {
            // A VM hibernated to disk resumes by starting from its saved state.
            if qemu && !running && g.lock().as_deref() == Some("suspended") {
                log.push("Resuming suspended VM".into());
                g.config.remove("lock");
                g.config.remove("vmstate");
                set_running(g, t);
                return Ok(log);
            }
            check_lock(g, opts)?;
            if !running {
                return Err(not_running(g));
            }
            g.qmpstatus = "running".into();
        }
    }
    Ok(log)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::testkit::cluster;

    #[test]
    fn transitions_table() {
        let c = cluster();
        // (vmid, action, opts, expected result: Ok(status after) or Err(message))
        let cases: Vec<(u32, Action, Opts, Result<&str, &str>)> = vec![
            (101, Action::Start, Opts::default(), Ok("running")),
            (
                100,
                Action::Start,
                Opts::default(),
                Err("VM 100 already running"),
            ),
            (
                9000,
                Action::Start,
                Opts::default(),
                Err("you can't start a vm if it's a template"),
            ),
            (
                104,
                Action::Start,
                Opts::default(),
                Err("VM is locked (backup)"),
            ),
            (
                104,
                Action::Start,
                Opts {
                    skiplock: true,
                    ..Opts::default()
                },
                Ok("running"),
            ),
            (101, Action::Stop, Opts::default(), Ok("stopped")),
            (100, Action::Shutdown, Opts::default(), Ok("stopped")),
            (
                100,
                Action::Shutdown,
                Opts {
                    timeout: Some(1),
                    ..Opts::default()
                },
                Err("VM quit/powerdown failed - got timeout"),
            ),
            (
                100,
                Action::Shutdown,
                Opts {
                    timeout: Some(1),
                    force: true,
                    ..Opts::default()
                },
                Ok("stopped"),
            ),
            (
                101,
                Action::Reset,
                Opts::default(),
                Err("VM 101 not running"),
            ),
            (
                101,
                Action::Suspend,
                Opts::default(),
                Err("VM 101 not running"),
            ),
            (100, Action::Suspend, Opts::default(), Ok("running")),
            (
                200,
                Action::Start,
                Opts::default(),
                Err("CT 200 already running"),
            ),
            (201, Action::Start, Opts::default(), Ok("running")),
        ];
        for (vmid, action, opts, want) in cases {
            let mut g = c.guests[&vmid].clone();
            let got = apply(&mut g, action, opts, 5_000.0);
            match want {
                Ok(status) => {
                    assert!(got.is_ok(), "{vmid} {action:?}: {got:?}");
                    assert_eq!(g.status.as_str(), status, "{vmid} {action:?}");
                }
                Err(msg) => assert_eq!(got.unwrap_err(), msg, "{vmid} {action:?}"),
            }
        }
    }

    #[test]
    fn hibernate_and_resume_from_disk() {
        let c = cluster();
        let mut g = c.guests[&100].clone();
        let todisk = Opts {
            todisk: true,
            ..Opts::default()
        };
        apply(&mut g, Action::Suspend, todisk, 10.0).unwrap();
        assert_eq!(g.status, PowerState::Stopped);
        assert_eq!(g.lock().as_deref(), Some("suspended"));
        let log = apply(&mut g, Action::Start, Opts::default(), 20.0).unwrap();
        assert!(log.iter().any(|l| l.contains("Resuming")));
        assert_eq!(g.status, PowerState::Running);
        assert_eq!(g.lock(), None);
        assert_eq!(g.uptime(30.0), 10);
    }
}
