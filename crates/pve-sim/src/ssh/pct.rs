//! `pct exec VMID [--] ARGV…` on a simulated node, as pve-container's `pct` answers it: the
//! container must be on this node (else PVE's "Configuration file … does not exist") and running
//! (else "container 'VMID' not running!"), both exiting 255 as a dying `pct` does; then ARGV runs
//! in the container's fake OS (the guest agent's command engine). Other `pct` subcommands are
//! not simulated over SSH.

use super::commands::Reply;
use super::log::Ran;
use crate::Sim;
use crate::agent::guest_os;
use crate::state::{GuestKind, PowerState};

const USAGE: &str = "pct exec <vmid> [<extra-args>] [OPTIONS]";

/// `pct ARGS…` on `node`.
pub(super) fn run(sim: &Sim, node: &str, args: &[String]) -> (Reply, Option<Ran>) {
    match args.first().map(String::as_str) {
        Some("exec") => exec(sim, node, &args[1..]),
        Some(other) => (
            Reply::fail(
                255,
                format!("pve-sim: 'pct {other}' is not simulated over SSH (only 'pct exec')\n"),
            ),
            None,
        ),
        None => (
            Reply::fail(
                255,
                "ERROR: no command specified\nUSAGE: pct <COMMAND> [ARGS] [OPTIONS]\n".into(),
            ),
            None,
        ),
    }
}

fn exec(sim: &Sim, node: &str, args: &[String]) -> (Reply, Option<Ran>) {
    let Some(vmid) = args.first() else {
        return (
            Reply::fail(255, format!("400 not enough arguments\n{USAGE}\n")),
            None,
        );
    };
    let vmid = match vmid.parse::<u64>() {
        Ok(v) if (100..=999_999_999).contains(&v) => v as u32,
        Ok(_) => {
            return (
                param_error("invalid format - value does not look like a valid VM ID"),
                None,
            );
        }
        Err(_) => {
            return (
                param_error(&format!("type check ('integer') failed - got '{vmid}'")),
                None,
            );
        }
    };
    let rest = &args[1..];
    let argv = match rest.first().map(String::as_str) {
        Some("--") => &rest[1..],
        _ => rest,
    };
    let guest = match sim.guest_on(node, vmid, GuestKind::Lxc) {
        Ok(g) => g,
        Err(e) => return (Reply::fail(255, format!("{}\n", e.message)), None),
    };
    if guest.status != PowerState::Running {
        return (
            Reply::fail(255, format!("container '{vmid}' not running!\n")),
            None,
        );
    }
    if argv.is_empty() {
        return (
            Reply::fail(
                255,
                "missing command at /usr/share/perl5/PVE/CLI/pct.pm line 212.\n".into(),
            ),
            None,
        );
    }
    let outcome = guest_os::run(guest, argv, None, sim.now);
    (
        Reply::from_outcome(outcome),
        Some(Ran::Container {
            vmid,
            argv: argv.to_vec(),
        }),
    )
}

/// PVE's CLI answer to a bad `vmid`.
fn param_error(why: &str) -> Reply {
    Reply::fail(
        255,
        format!("400 Parameter verification failed.\nvmid: {why}\n{USAGE}\n"),
    )
}
