//! A node's system services: `GET /nodes/{node}/services` (each with its systemd states),
//! `GET .../services/{service}` (its index), `GET .../state`, and `start`, `stop`, `restart`,
//! `reload` (`srvstart`... tasks changing its state when they end).

use serde_json::{Value, json};

use crate::Sim;
use crate::guest;
use crate::route::{ApiError, Call};
use crate::tasks::TaskSpec;

/// The services PVE manages: name, description, whether it runs on a fresh install.
const SERVICES: &[(&str, &str, bool)] = &[
    ("chrony", "chrony, an NTP client/server", true),
    ("corosync", "Corosync Cluster Engine", true),
    ("cron", "Regular background program processing daemon", true),
    (
        "ksmtuned",
        "Kernel Samepage Merging (KSM) Tuning Daemon",
        true,
    ),
    ("lxcfs", "FUSE filesystem for LXC", true),
    ("postfix", "Postfix Mail Transport Agent (instance -)", true),
    ("proxmox-firewall", "Proxmox nftables firewall", false),
    ("pve-cluster", "The Proxmox VE cluster filesystem", true),
    ("pve-firewall", "Proxmox VE firewall", true),
    ("pve-ha-crm", "PVE Cluster HA Resource Manager Daemon", true),
    ("pve-ha-lrm", "PVE Local HA Resource Manager Daemon", true),
    ("pve-lxc-syscalld", "Proxmox VE LXC Syscall Daemon", true),
    ("pvedaemon", "PVE API Daemon", true),
    ("pvefw-logger", "Proxmox VE firewall logger", true),
    ("pveproxy", "PVE API Proxy Server", true),
    ("pvescheduler", "Proxmox VE scheduler", true),
    ("pvestatd", "PVE Status Daemon", true),
    ("qmeventd", "PVE Qemu Event Daemon", true),
    ("spiceproxy", "PVE SPICE Proxy Server", true),
    ("sshd", "OpenBSD Secure Shell server", true),
    ("syslog", "System Logging Service", false),
    ("systemd-journald", "Journal Service", true),
    ("systemd-timesyncd", "Network Time Synchronization", false),
];

/// A service's entry on a node.
fn entry(sim: &Sim, node: &str, name: &str) -> Option<Value> {
    let (_, desc, on) = SERVICES.iter().find(|(n, _, _)| *n == name)?;
    let running = sim
        .cluster
        .services
        .get(&(node.to_string(), name.to_string()))
        .copied()
        .unwrap_or(*on);
    let unit_state = match name {
        "syslog" => "not-found",
        "proxmox-firewall" | "systemd-timesyncd" => "disabled",
        _ => "enabled",
    };
    Some(json!({
        "service": name,
        "name": format!("{name}.service"),
        "desc": desc,
        "state": if running { "running" } else { "dead" },
        "active-state": if running { "active" } else { "inactive" },
        "unit-state": unit_state,
    }))
}

/// `GET /nodes/{node}/services`.
pub(super) fn list(sim: &mut Sim, call: &Call) -> Result<Value, ApiError> {
    let node = call.node()?;
    Ok(Value::Array(
        SERVICES
            .iter()
            .filter_map(|(n, _, _)| entry(sim, node, n))
            .collect(),
    ))
}

/// `GET /nodes/{node}/services/{service}`.
pub(super) fn index(_: &mut Sim, _: &Call) -> Result<Value, ApiError> {
    Ok(json!([
        {"subdir": "state"},
        {"subdir": "start"},
        {"subdir": "stop"},
        {"subdir": "restart"},
        {"subdir": "reload"},
    ]))
}

/// `GET .../state`.
pub(super) fn state(sim: &mut Sim, call: &Call) -> Result<Value, ApiError> {
    let name = call.req_str("service")?;
    entry(sim, call.node()?, name)
        .ok_or_else(|| ApiError::internal(format!("unknown service '{name}'")))
}

/// The `srv*` tasks: what the action does to the service when it ends.
pub(super) fn action(sim: &mut Sim, call: &Call) -> Result<Value, ApiError> {
    let node = call.node()?.to_string();
    let name = call.req_str("service")?.to_string();
    let verb = call
        .path
        .rsplit('/')
        .next()
        .unwrap_or("restart")
        .to_string();
    if name == "syslog" {
        return Err(ApiError::internal(
            "Failed to start syslog.service: Unit syslog.service not found.",
        ));
    }
    let key = (node.clone(), name.clone());
    let installed_on = SERVICES.iter().any(|(n, _, on)| *n == name && *on);
    let upid = sim.spawn_task(TaskSpec {
        node,
        kind: format!("srv{verb}"),
        id: name.clone(),
        user: guest::task_user(call),
        duration: 2.0,
        log: Vec::new(),
        lock_vmid: None,
        finish: Box::new(move |cluster, _| {
            let running = cluster.services.get(&key).copied().unwrap_or(installed_on);
            match verb.as_str() {
                "stop" => {
                    cluster.services.insert(key, false);
                }
                "reload" if !running => {
                    return Err(format!(
                        "command 'systemctl reload {name}' failed: exit code 1"
                    ));
                }
                "reload" => {}
                _ => {
                    cluster.services.insert(key, true);
                }
            }
            Ok(Vec::new())
        }),
    });
    Ok(Value::String(upid))
}
