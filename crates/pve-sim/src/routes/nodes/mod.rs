//! Nodes: `GET /nodes` (the cluster's nodes with their live figures), `GET /nodes/{node}` (the
//! directory index) and `GET /nodes/{node}/status` (CPU, memory, swap, root fs, load, kernel).
//!
//! Unknown and offline nodes are refused by the dispatcher (500 / 595) before these handlers run.

use serde_json::{Map, Value, json};

use crate::Sim;
use crate::auth;
use crate::metrics::{self, NodeUsage};
use crate::route::{ApiError, Call, Method, Perm, Route};
use crate::seed::{KERNEL_RELEASE, KERNEL_VERSION};
use crate::state::Node;

/// The routes of this module.
pub(super) fn routes() -> Vec<Route> {
    vec![
        Route::new(Method::Get, "/nodes", Perm::All, list),
        Route::new(Method::Get, "/nodes/{node}", Perm::All, index),
        Route::new(
            Method::Get,
            "/nodes/{node}/status",
            Perm::Node(&["Sys.Audit"]),
            status,
        ),
        Route::new(
            Method::Get,
            "/nodes/{node}/subscription",
            Perm::All,
            subscription,
        ),
        Route::new(
            Method::Get,
            "/nodes/{node}/replication",
            Perm::All,
            |_, _| Ok(Value::Array(Vec::new())),
        ),
    ]
}

/// `GET /nodes/{node}/subscription`: the simulated nodes run without a subscription key (as a
/// homelab does); the server id is the node's own.
fn subscription(_: &mut Sim, call: &Call) -> Result<Value, ApiError> {
    let node = call.node()?;
    let serverid = hex::encode(crate::guest::seeded_bytes(node))[..32].to_uppercase();
    Ok(json!({
        "status": "notfound",
        "message": "There is no subscription key",
        "serverid": serverid,
        "url": "https://www.proxmox.com/en/proxmox-virtual-environment/pricing",
        "level": "",
    }))
}

/// The subdirectories PVE lists under `/nodes/{node}`.
const NODE_DIRS: &[&str] = &[
    "aplinfo",
    "apt",
    "capabilities",
    "ceph",
    "certificates",
    "config",
    "disks",
    "dns",
    "execute",
    "firewall",
    "hardware",
    "hosts",
    "journal",
    "lxc",
    "migrateall",
    "netstat",
    "network",
    "qemu",
    "query-oci-repo-tags",
    "query-url-metadata",
    "replication",
    "report",
    "rrd",
    "rrddata",
    "scan",
    "sdn",
    "services",
    "spiceshell",
    "startall",
    "status",
    "stopall",
    "storage",
    "subscription",
    "suspendall",
    "syslog",
    "tasks",
    "termproxy",
    "time",
    "version",
    "vncshell",
    "vncwebsocket",
    "vzdump",
    "wakeonlan",
];

/// `GET /nodes`: every node; the figures only for nodes the caller may audit and that are online.
fn list(sim: &mut Sim, call: &Call) -> Result<Value, ApiError> {
    let usages = metrics::node_usages(&sim.cluster, sim.now);
    let out = sim
        .cluster
        .nodes
        .values()
        .map(|n| {
            let audit = auth::allowed(
                &call.identity,
                &format!("/nodes/{}", n.name),
                &["Sys.Audit"],
                &sim.cluster,
            );
            let mut e = node_entry(n, usages.get(&n.name).filter(|_| audit));
            e.insert("ssl_fingerprint".into(), json!(n.ssl_fingerprint));
            Value::Object(e)
        })
        .collect();
    Ok(Value::Array(out))
}

/// The entry PVE builds for a node in `/nodes` and `/cluster/resources`: `id`, `node`, `type`,
/// `status`, and the figures when known (online and audited).
pub(super) fn node_entry(n: &Node, usage: Option<&NodeUsage>) -> Map<String, Value> {
    let mut e = Map::new();
    e.insert("id".into(), Value::String(format!("node/{}", n.name)));
    e.insert("type".into(), Value::from("node"));
    e.insert("node".into(), Value::String(n.name.clone()));
    e.insert(
        "status".into(),
        Value::from(if n.online { "online" } else { "offline" }),
    );
    if let Some(u) = usage.filter(|_| n.online) {
        e.insert("cpu".into(), json!(round4(u.cpu)));
        e.insert("maxcpu".into(), json!(n.maxcpu));
        e.insert("mem".into(), json!(u.mem));
        e.insert("maxmem".into(), json!(n.maxmem));
        e.insert("disk".into(), json!(u.disk));
        e.insert("maxdisk".into(), json!(n.maxdisk));
        e.insert("uptime".into(), json!(u.uptime));
        e.insert("level".into(), Value::from(""));
    }
    e
}

/// `GET /nodes/{node}`: the directory index.
fn index(_sim: &mut Sim, _call: &Call) -> Result<Value, ApiError> {
    Ok(Value::Array(
        NODE_DIRS.iter().map(|d| json!({ "name": d })).collect(),
    ))
}

/// `GET /nodes/{node}/status`.
fn status(sim: &mut Sim, call: &Call) -> Result<Value, ApiError> {
    let name = call.node()?;
    let Some(n) = sim.cluster.nodes.get(name) else {
        return Err(ApiError::internal(format!(
            "hostname lookup '{name}' failed - failed to get address info for: {name}: Name or service not known"
        )));
    };
    let u = metrics::node_usage(&sim.cluster, n, sim.now);
    Ok(node_status(n, &u))
}

/// The status object of a node, in the schema's shape.
pub(super) fn node_status(n: &Node, u: &NodeUsage) -> Value {
    // The kernel keeps some memory as cache: "available" is a little more than "free".
    let free = n.maxmem.saturating_sub(u.mem);
    let available = (free + n.maxmem / 20).min(n.maxmem);
    let mhz = if n.cpu_model.contains("EPYC") {
        "2999.998"
    } else {
        "3699.998"
    };
    json!({
        "cpu": round4(u.cpu),
        "wait": round4(u.wait),
        "idle": 0,
        "uptime": u.uptime,
        "loadavg": u.loadavg,
        "kversion": n.kversion,
        "pveversion": n.pveversion,
        "cpuinfo": {
            "model": n.cpu_model,
            "sockets": n.sockets,
            "cores": n.cores_per_socket,
            "cpus": n.maxcpu,
            "mhz": mhz,
            "hvm": "1",
            "user_hz": 100,
            "flags": CPU_FLAGS,
        },
        "memory": {
            "total": n.maxmem,
            "used": u.mem,
            "free": free,
            "available": available,
        },
        "swap": {
            "total": n.maxswap,
            "used": u.swap,
            "free": n.maxswap.saturating_sub(u.swap),
        },
        "rootfs": {
            "total": n.maxdisk,
            "used": u.disk,
            "free": n.maxdisk.saturating_sub(u.disk),
            "avail": n.maxdisk.saturating_sub(u.disk).saturating_sub(n.maxdisk / 20),
        },
        "ksm": { "shared": 0 },
        "current-kernel": {
            "sysname": "Linux",
            "release": KERNEL_RELEASE,
            "version": KERNEL_VERSION,
            "machine": "x86_64",
        },
        "boot-info": { "mode": "efi", "secureboot": 0 },
    })
}

/// A fraction rounded as PVE's figures usually are (a few significant digits).
pub(super) fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

const CPU_FLAGS: &str = "fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush mmx fxsr sse sse2 ht syscall nx mmxext fxsr_opt pdpe1gb rdtscp lm constant_tsc rep_good nopl nonstop_tsc cpuid extd_apicid aperfmperf pni pclmulqdq monitor ssse3 fma cx16 sse4_1 sse4_2 movbe popcnt aes xsave avx f16c rdrand lahf_lm cmp_legacy svm extapic cr8_legacy abm sse4a misalignsse 3dnowprefetch osvw ibs skinit wdt tce topoext perfctr_core perfctr_nb bpext perfctr_llc mwaitx cpb cat_l3 cdp_l3 hw_pstate ssbd mba ibrs ibpb stibp vmmcall fsgsbase bmi1 avx2 smep bmi2 cqm rdt_a rdseed adx smap clflushopt clwb sha_ni xsaveopt xsavec xgetbv1 xsaves cqm_llc cqm_occup_llc cqm_mbm_total cqm_mbm_local clzero irperf xsaveerptr rdpru wbnoinvd amd_ppin arat npt lbrv svm_lock nrip_save tsc_scale vmcb_clean flushbyasid decodeassists pausefilter pfthreshold avic v_vmsave_vmload vgif v_spec_ctrl umip rdpid overflow_recov succor smca sev sev_es";

#[cfg(test)]
mod tests;
