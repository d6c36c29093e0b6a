//! Package updates: `GET /nodes/{node}/apt/update` (the pending updates, one of them a
//! security fix, as the package index knows them), `POST .../apt/update` (an `aptupdate` task
//! refreshing the index) and `GET /nodes/{node}/apt/versions` (installed PVE packages).

use serde_json::{Value, json};

use crate::Sim;
use crate::guest;
use crate::route::{ApiError, Call};
use crate::seed::{KERNEL_RELEASE, PVE_VERSION};
use crate::tasks::TaskSpec;

/// A pending update: package, title, installed and candidate version, origin, section,
/// priority, description.
type Update = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
);

/// What every node has pending (the security fix carries Debian's `+deb13uN` version).
const UPDATES: &[Update] = &[
    (
        "pve-manager",
        "Proxmox Virtual Environment Management Tools",
        "9.1.2",
        "9.1.3",
        "Proxmox",
        "admin",
        "optional",
        "Tool to manage Proxmox VE clusters.",
    ),
    (
        "proxmox-kernel-6.14",
        "Latest Proxmox Kernel Image",
        "6.14.8-2",
        "6.14.11-1",
        "Proxmox",
        "admin",
        "optional",
        "Latest Proxmox Kernel Image",
    ),
    (
        "openssl",
        "Secure Sockets Layer toolkit - cryptographic utility",
        "3.5.1-1",
        "3.5.1-1+deb13u1",
        "Debian",
        "utils",
        "optional",
        "Security update (DSA-6012-1): fixes CVE-2026-31790, a buffer over-read in X.509 name checks.",
    ),
    (
        "libssl3t64",
        "Secure Sockets Layer toolkit - shared libraries",
        "3.5.1-1",
        "3.5.1-1+deb13u1",
        "Debian",
        "libs",
        "optional",
        "Security update (DSA-6012-1): fixes CVE-2026-31790, a buffer over-read in X.509 name checks.",
    ),
    (
        "tzdata",
        "time zone and daylight-saving time data",
        "2025b-4",
        "2026a-0+deb13u1",
        "Debian",
        "localization",
        "required",
        "Time zone rule changes for 2026.",
    ),
];

/// `GET /nodes/{node}/apt/update`.
pub(super) fn updates(_: &mut Sim, _: &Call) -> Result<Value, ApiError> {
    Ok(Value::Array(
        UPDATES
            .iter()
            .map(|(pkg, title, old, new, origin, section, prio, desc)| {
                json!({
                    "Package": pkg,
                    "Title": title,
                    "OldVersion": old,
                    "Version": new,
                    "Origin": origin,
                    "Section": section,
                    "Priority": prio,
                    "Arch": if *pkg == "tzdata" { "all" } else { "amd64" },
                    "Description": desc,
                })
            })
            .collect(),
    ))
}

/// `POST /nodes/{node}/apt/update`: an `aptupdate` task.
pub(super) fn refresh(sim: &mut Sim, call: &Call) -> Result<Value, ApiError> {
    let node = call.node()?.to_string();
    let log = vec![
        "starting apt-get update".to_string(),
        "Hit:1 http://deb.debian.org/debian trixie InRelease".to_string(),
        "Hit:2 http://security.debian.org/debian-security trixie-security InRelease".to_string(),
        "Hit:3 http://download.proxmox.com/debian/pve trixie InRelease".to_string(),
        "Reading package lists...".to_string(),
    ];
    let upid = sim.spawn_task(TaskSpec {
        node,
        kind: "aptupdate".into(),
        id: String::new(),
        user: guest::task_user(call),
        duration: 6.0,
        log,
        lock_vmid: None,
        finish: Box::new(|_, _| Ok(Vec::new())),
    });
    Ok(Value::String(upid))
}

/// `GET /nodes/{node}/apt/versions`: the installed PVE packages; the first names the running
/// kernel and manager version.
pub(super) fn versions(_: &mut Sim, _: &Call) -> Result<Value, ApiError> {
    let manager = PVE_VERSION
        .strip_prefix("pve-manager/")
        .unwrap_or(PVE_VERSION);
    let packages = [
        ("proxmox-ve", "9.1.0", "Proxmox Virtual Environment"),
        (
            "pve-manager",
            "9.1.2",
            "Proxmox Virtual Environment Management Tools",
        ),
        (
            "proxmox-kernel-6.14",
            "6.14.8-2",
            "Latest Proxmox Kernel Image",
        ),
        ("qemu-server", "9.0.23", "Qemu Server Tools"),
        (
            "pve-container",
            "6.0.13",
            "Proxmox VE Container management tool",
        ),
        (
            "pve-qemu-kvm",
            "10.0.2-4",
            "Full virtualization on x86 hardware",
        ),
        ("lxc-pve", "6.0.5-1", "Linux containers userspace tools"),
        (
            "corosync",
            "3.1.9-pve2",
            "cluster engine daemon and utilities",
        ),
        (
            "zfsutils-linux",
            "2.3.4-pve1",
            "command-line tools to manage OpenZFS filesystems",
        ),
    ];
    Ok(Value::Array(
        packages
            .iter()
            .enumerate()
            .map(|(i, (pkg, version, title))| {
                let mut e = json!({
                    "Package": pkg,
                    "Version": version,
                    "Title": title,
                    "Description": title,
                    "Origin": "Proxmox",
                    "Section": "admin",
                    "Priority": "optional",
                    "Arch": "amd64",
                    "CurrentState": "Installed",
                });
                if i == 0 {
                    e["RunningKernel"] = json!(KERNEL_RELEASE);
                    e["ManagerVersion"] = json!(manager);
                }
                e
            })
            .collect(),
    ))
}
