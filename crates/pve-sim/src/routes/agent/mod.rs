//! QEMU guest agent routes: `GET/POST .../agent` (index, and `command=...`), `agent/exec`,
//! `agent/exec-status`, `agent/file-read` and one route per QGA command (`agent/info`,
//! `agent/network-get-interfaces`, `agent/ping`...), answering `{"result": ...}` as QGA does.
//! Every call first checks what PVE checks, in its order: agent enabled in config (`No QEMU
//! guest agent configured`), VM running (`VM 100 is not running`), agent answering (`QEMU guest
//! agent is not running`).

use serde_json::{Value, json};

use crate::Sim;
use crate::agent::guest_os;
use crate::guest::power;
use crate::metrics::guest_usage;
use crate::route::{ApiError, Call, Method, Perm, Route};
use crate::state::{AgentState, Guest, GuestKind, PowerState};

/// The QGA commands PVE exposes (the `command` enum of `POST .../agent`).
pub(super) const COMMANDS: &[&str] = &[
    "fsfreeze-freeze",
    "fsfreeze-status",
    "fsfreeze-thaw",
    "fstrim",
    "get-fsinfo",
    "get-host-name",
    "get-memory-block-info",
    "get-memory-blocks",
    "get-osinfo",
    "get-time",
    "get-timezone",
    "get-users",
    "get-vcpus",
    "info",
    "network-get-interfaces",
    "ping",
    "shutdown",
    "suspend-disk",
    "suspend-hybrid",
    "suspend-ram",
];

const GET_COMMANDS: &[&str] = &[
    "get-fsinfo",
    "get-host-name",
    "get-memory-block-info",
    "get-memory-blocks",
    "get-osinfo",
    "get-time",
    "get-timezone",
    "get-users",
    "get-vcpus",
    "info",
    "network-get-interfaces",
];

const UNRESTRICTED: Perm = Perm::Vm(&["VM.GuestAgent.Unrestricted"]);
const AUDIT: Perm = Perm::Vm(&["VM.GuestAgent.Audit", "VM.GuestAgent.Unrestricted"]);

/// The routes of this module.
pub(super) fn routes() -> Vec<Route> {
    let r = Route::new;
    let mut out = vec![
        r(
            Method::Get,
            "/nodes/{node}/qemu/{vmid}/agent",
            Perm::All,
            index,
        ),
        r(
            Method::Post,
            "/nodes/{node}/qemu/{vmid}/agent",
            UNRESTRICTED,
            by_param,
        ),
        r(
            Method::Post,
            "/nodes/{node}/qemu/{vmid}/agent/exec",
            UNRESTRICTED,
            exec_start,
        ),
        r(
            Method::Get,
            "/nodes/{node}/qemu/{vmid}/agent/exec-status",
            UNRESTRICTED,
            exec_status,
        ),
        r(
            Method::Get,
            "/nodes/{node}/qemu/{vmid}/agent/file-read",
            Perm::Vm(&["VM.GuestAgent.FileRead", "VM.GuestAgent.Unrestricted"]),
            file_read,
        ),
    ];
    for cmd in COMMANDS {
        let path: &'static str = match *cmd {
            "fsfreeze-freeze" => "/nodes/{node}/qemu/{vmid}/agent/fsfreeze-freeze",
            "fsfreeze-status" => "/nodes/{node}/qemu/{vmid}/agent/fsfreeze-status",
            "fsfreeze-thaw" => "/nodes/{node}/qemu/{vmid}/agent/fsfreeze-thaw",
            "fstrim" => "/nodes/{node}/qemu/{vmid}/agent/fstrim",
            "get-fsinfo" => "/nodes/{node}/qemu/{vmid}/agent/get-fsinfo",
            "get-host-name" => "/nodes/{node}/qemu/{vmid}/agent/get-host-name",
            "get-memory-block-info" => "/nodes/{node}/qemu/{vmid}/agent/get-memory-block-info",
            "get-memory-blocks" => "/nodes/{node}/qemu/{vmid}/agent/get-memory-blocks",
            "get-osinfo" => "/nodes/{node}/qemu/{vmid}/agent/get-osinfo",
            "get-time" => "/nodes/{node}/qemu/{vmid}/agent/get-time",
            "get-timezone" => "/nodes/{node}/qemu/{vmid}/agent/get-timezone",
            "get-users" => "/nodes/{node}/qemu/{vmid}/agent/get-users",
            "get-vcpus" => "/nodes/{node}/qemu/{vmid}/agent/get-vcpus",
            "info" => "/nodes/{node}/qemu/{vmid}/agent/info",
            "network-get-interfaces" => "/nodes/{node}/qemu/{vmid}/agent/network-get-interfaces",
            "ping" => "/nodes/{node}/qemu/{vmid}/agent/ping",
            "shutdown" => "/nodes/{node}/qemu/{vmid}/agent/shutdown",
            "suspend-disk" => "/nodes/{node}/qemu/{vmid}/agent/suspend-disk",
            "suspend-hybrid" => "/nodes/{node}/qemu/{vmid}/agent/suspend-hybrid",
            _ => "/nodes/{node}/qemu/{vmid}/agent/suspend-ram",
        };
        let (method, perm) = if GET_COMMANDS.contains(cmd) {
            (Method::Get, AUDIT)
        } else if cmd.starts_with("fs") {
            let perm = if *cmd == "fsfreeze-status" {
                Perm::Vm(&[
                    "VM.GuestAgent.Audit",
                    "VM.GuestAgent.FileSystemMgmt",
                    "VM.GuestAgent.Unrestricted",
                ])
            } else {
                Perm::Vm(&["VM.GuestAgent.FileSystemMgmt", "VM.GuestAgent.Unrestricted"])
            };
            (Method::Post, perm)
        } else if *cmd == "ping" {
            (Method::Post, AUDIT)
        } else {
            (
                Method::Post,
                Perm::Vm(&["VM.PowerMgmt", "VM.GuestAgent.Unrestricted"]),
            )
        };
        out.push(r(method, path, perm, by_path));
    }
    out
}

fn index(_: &mut Sim, _: &Call) -> Result<Value, ApiError> {
    let mut names: Vec<&str> = COMMANDS.to_vec();
    names.extend([
        "exec",
        "exec-status",
        "file-read",
        "file-write",
        "set-user-password",
    ]);
    names.sort_unstable();
    Ok(Value::Array(
        names.into_iter().map(|n| json!({ "name": n })).collect(),
    ))
}

/// The guest, if its agent can answer; PVE's errors otherwise.
fn agent_guest(sim: &Sim, call: &Call) -> Result<Guest, ApiError> {
    let vmid = call.vmid()?;
    let g = sim.guest_on(call.node()?, vmid, GuestKind::Qemu)?;
    if !g.agent_enabled() {
        return Err(ApiError::internal("No QEMU guest agent configured"));
    }
    if g.status != PowerState::Running {
        return Err(ApiError::internal(format!("VM {vmid} is not running")));
    }
    if g.agent == AgentState::Missing || g.qmpstatus != "running" {
        return Err(ApiError::internal("QEMU guest agent is not running"));
    }
    Ok(g.clone())
}

fn disabled(command: &str) -> ApiError {
    ApiError::internal(format!(
        "Agent error: The command {command} has been disabled for this instance"
    ))
}

fn exec_start(sim: &mut Sim, call: &Call) -> Result<Value, ApiError> {
    let g = agent_guest(sim, call)?;
    if g.agent == AgentState::NoExec {
        return Err(disabled("guest-exec"));
    }
    let argv: Vec<String> = match call.params.get("command") {
        Some(Value::Array(items)) => items.iter().map(crate::guest::value_text).collect(),
        Some(other) => vec![crate::guest::value_text(other)],
        None => Vec::new(),
    };
    if argv.is_empty() {
        return Err(ApiError::param(
            "command",
            "property is missing and it is not optional",
        ));
    }
    let (now, scale) = (sim.now, sim.time_scale);
    let pid = sim
        .agent
        .exec(&g, &argv, call.str("input-data"), now, scale);
    Ok(json!({ "pid": pid }))
}

fn exec_status(sim: &mut Sim, call: &Call) -> Result<Value, ApiError> {
    let g = agent_guest(sim, call)?;
    if g.agent == AgentState::NoExec {
        return Err(disabled("guest-exec-status"));
    }
    let pid = call
        .int("pid")
        .and_then(|p| u32::try_from(p).ok())
        .ok_or_else(|| ApiError::internal("Agent error: Invalid parameter 'pid'"))?;
    let now = sim.now;
    sim.agent
        .status(&g, pid, now)
        .ok_or_else(|| ApiError::internal("Agent error: Invalid parameter 'pid'"))
}

fn file_read(sim: &mut Sim, call: &Call) -> Result<Value, ApiError> {
    let g = agent_guest(sim, call)?;
    let file = call.req_str("file")?;
    let text = guest_os::read_file(&g, file).ok_or_else(|| {
        ApiError::internal(format!(
            "Agent error: failed to open file '{file}' (mode: 'r'): No such file or directory"
        ))
    })?;
    let offset = call.int("offset").unwrap_or(0).max(0) as usize;
    let count = call.int("count").unwrap_or(16_777_216).max(1) as usize;
    let bytes = text.as_bytes();
    let start = offset.min(bytes.len());
    let end = start.saturating_add(count).min(bytes.len());
    let mut out = json!({ "content": String::from_utf8_lossy(&bytes[start..end]) });
    if end < bytes.len() {
        out["truncated"] = json!(1);
    }
    Ok(out)
}

fn by_param(sim: &mut Sim, call: &Call) -> Result<Value, ApiError> {
    let cmd = call.req_str("command")?.to_string();
    command(sim, call, &cmd)
}

fn by_path(sim: &mut Sim, call: &Call) -> Result<Value, ApiError> {
    let cmd = call.path.rsplit('/').next().unwrap_or("").to_string();
    command(sim, call, &cmd)
}

/// Runs one QGA command and wraps its answer as `{"result": ...}`.
fn command(sim: &mut Sim, call: &Call, cmd: &str) -> Result<Value, ApiError> {
    let g = agent_guest(sim, call)?;
    let vmid = g.vmid;
    let now = sim.now;
    let result = match cmd {
        "ping" => json!({}),
        "info" => info(&g),
        "get-host-name" => json!({ "host-name": guest_os::hostname(&g) }),
        "get-osinfo" => guest_os::osinfo(&g),
        "network-get-interfaces" => interfaces(&g, now),
        "get-time" => json!((now * 1e9) as i64),
        "get-timezone" => json!({ "zone": "UTC", "offset": 0 }),
        "get-users" => json!([]),
        "get-vcpus" => Value::Array(
            (0..g.cpus())
                .map(|i| json!({ "logical-id": i, "online": true, "can-offline": i != 0 }))
                .collect(),
        ),
        "get-fsinfo" => fsinfo(&g),
        "get-memory-block-info" => json!({ "size": 134_217_728 }),
        "get-memory-blocks" => Value::Array(
            (0..g.maxmem() / 134_217_728)
                .map(|i| json!({ "phys-index": i, "online": true, "can-offline": i != 0 }))
                .collect(),
        ),
        "fsfreeze-status" => {
            json!(if sim.agent.frozen.contains(&vmid) {
                "frozen"
            } else {
                "thawed"
            })
        }
        "fsfreeze-freeze" => {
            sim.agent.frozen.insert(vmid);
            json!(1)
        }
        "fsfreeze-thaw" => json!(u8::from(sim.agent.frozen.remove(&vmid))),
        "fstrim" => json!({ "paths": [{ "path": "/", "trimmed": 0, "minimum": 0 }] }),
        "shutdown" | "suspend-disk" | "suspend-ram" | "suspend-hybrid" => {
            if let Some(g) = sim.cluster.guests.get_mut(&vmid) {
                if matches!(cmd, "shutdown" | "suspend-disk") {
                    power::set_stopped(g);
                } else {
                    g.qmpstatus = "suspended".into();
                }
            }
            json!({})
        }
        other => {
            return Err(ApiError::param(
                "command",
                format!("value '{other}' does not have a value in the enumeration"),
            ));
        }
    };
    Ok(json!({ "result": result }))
}

fn info(g: &Guest) -> Value {
    const QGA: &[&str] = &[
        "guest-exec",
        "guest-exec-status",
        "guest-file-close",
        "guest-file-open",
        "guest-file-read",
        "guest-file-write",
        "guest-fsfreeze-freeze",
        "guest-fsfreeze-status",
        "guest-fsfreeze-thaw",
        "guest-fstrim",
        "guest-get-fsinfo",
        "guest-get-host-name",
        "guest-get-memory-block-info",
        "guest-get-memory-blocks",
        "guest-get-osinfo",
        "guest-get-time",
        "guest-get-timezone",
        "guest-get-users",
        "guest-get-vcpus",
        "guest-info",
        "guest-network-get-interfaces",
        "guest-ping",
        "guest-set-user-password",
        "guest-shutdown",
        "guest-suspend-disk",
        "guest-suspend-hybrid",
        "guest-suspend-ram",
        "guest-sync",
        "guest-sync-delimited",
    ];
    let cmds: Vec<Value> = QGA
        .iter()
        .map(|name| {
            let blocked = g.agent == AgentState::NoExec && name.starts_with("guest-exec");
            json!({
                "name": name,
                "enabled": !blocked,
                "success-response": !matches!(*name, "guest-shutdown" | "guest-suspend-disk" | "guest-suspend-hybrid" | "guest-suspend-ram"),
            })
        })
        .collect();
    json!({ "version": "9.2.0", "supported_commands": cmds })
}

fn interfaces(g: &Guest, now: f64) -> Value {
    let u = guest_usage(g, now);
    let stats = |rx: u64, tx: u64| {
        json!({
            "rx-bytes": rx, "rx-dropped": 0, "rx-errs": 0, "rx-packets": rx / 1_200,
            "tx-bytes": tx, "tx-dropped": 0, "tx-errs": 0, "tx-packets": tx / 1_000,
        })
    };
    let mut out = vec![json!({
        "name": "lo",
        "hardware-address": "00:00:00:00:00:00",
        "ip-addresses": [
            { "ip-address": "127.0.0.1", "ip-address-type": "ipv4", "prefix": 8 },
            { "ip-address": "::1", "ip-address-type": "ipv6", "prefix": 128 }
        ],
        "statistics": stats(4_096, 4_096),
    })];
    for (name, mac, ip) in guest_os::interfaces(g) {
        let (addr, prefix) = ip.split_once('/').unwrap_or((ip.as_str(), "24"));
        let prefix: u32 = prefix.parse().unwrap_or(24);
        out.push(json!({
            "name": name,
            "hardware-address": mac,
            "ip-addresses": [
                { "ip-address": addr, "ip-address-type": "ipv4", "prefix": prefix },
                { "ip-address": guest_os::link_local(&mac), "ip-address-type": "ipv6", "prefix": 64 }
            ],
            "statistics": stats(u.netin, u.netout),
        }));
    }
    Value::Array(out)
}

fn fsinfo(g: &Guest) -> Value {
    let total = g.maxdisk().max(1 << 30);
    let used = (total as f64 * g.disk_fraction) as u64;
    json!([{
        "name": "sda1",
        "mountpoint": "/",
        "type": "ext4",
        "total-bytes": total,
        "used-bytes": used,
        "disk": [{
            "bus-type": "scsi", "bus": 0, "target": 0, "unit": 0,
            "dev": "/dev/sda1", "serial": "0QEMU_QEMU_HARDDISK_drive-scsi0",
            "pci-controller": { "domain": 0, "bus": 9, "slot": 1, "function": 0 }
        }]
    }])
}

#[cfg(test)]
mod tests;
