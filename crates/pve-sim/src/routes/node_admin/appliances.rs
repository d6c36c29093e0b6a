//! The appliance index (`GET /nodes/{node}/aplinfo`: container templates one can download) and
//! `POST /nodes/{node}/aplinfo`, a `download` task that puts one on a storage.

use serde_json::{Value, json};

use crate::Sim;
use crate::guest;
use crate::route::{ApiError, Call};
use crate::state::Volume;
use crate::tasks::TaskSpec;

/// The index: template file, section, OS, version, headline, size in MiB.
const TEMPLATES: &[(&str, &str, &str, &str, &str, u64)] = &[
    (
        "debian-13-standard_13.1-2_amd64.tar.zst",
        "system",
        "debian-13",
        "13.1-2",
        "Debian 13 Trixie (standard)",
        123,
    ),
    (
        "debian-12-standard_12.12-1_amd64.tar.zst",
        "system",
        "debian-12",
        "12.12-1",
        "Debian 12 Bookworm (standard)",
        120,
    ),
    (
        "ubuntu-24.04-standard_24.04-2_amd64.tar.zst",
        "system",
        "ubuntu-24.04",
        "24.04-2",
        "Ubuntu 24.04 Noble (standard)",
        141,
    ),
    (
        "alpine-3.22-default_20250617_amd64.tar.xz",
        "system",
        "alpine-3.22",
        "3.22-default",
        "Alpine Linux 3.22 (default)",
        3,
    ),
    (
        "rockylinux-9-default_20240912_amd64.tar.xz",
        "system",
        "rockylinux-9",
        "9-default",
        "Rocky Linux 9 (default)",
        88,
    ),
    (
        "archlinux-base_20250101-1_amd64.tar.zst",
        "system",
        "archlinux",
        "20250101-1",
        "Arch Linux base",
        151,
    ),
    (
        "turnkey-wordpress_18.1-1_amd64.tar.gz",
        "turnkeylinux",
        "debian-12",
        "18.1-1",
        "TurnKey WordPress",
        402,
    ),
    (
        "turnkey-nextcloud_18.1-1_amd64.tar.gz",
        "turnkeylinux",
        "debian-12",
        "18.1-1",
        "TurnKey Nextcloud",
        613,
    ),
];

/// `GET /nodes/{node}/aplinfo`.
pub(super) fn index(_: &mut Sim, _: &Call) -> Result<Value, ApiError> {
    Ok(Value::Array(
        TEMPLATES
            .iter()
            .map(|(file, section, os, version, headline, mib)| {
                let package = file.split('_').next().unwrap_or(file);
                let base = if *section == "turnkeylinux" {
                    "https://releases.turnkeylinux.org/pve"
                } else {
                    "http://download.proxmox.com/images/system"
                };
                json!({
                    "template": file,
                    "package": package,
                    "version": version,
                    "os": os,
                    "section": section,
                    "type": "lxc",
                    "headline": headline,
                    "description": format!("{headline}, ready to run as a container."),
                    "architecture": "amd64",
                    "location": format!("{base}/{file}"),
                    "source": format!("{base}/{file}"),
                    "sha512sum": hex::encode(guest::seeded_bytes(file)).repeat(4)[..128].to_string(),
                    "maintainer": "Proxmox Support Team <support@proxmox.com>",
                    "infopage": "https://pve.proxmox.com/wiki/Linux_Container",
                    "size": mib << 20,
                })
            })
            .collect(),
    ))
}

/// `POST /nodes/{node}/aplinfo`: downloads `template` to `storage` (which must hold `vztmpl`).
pub(super) fn download(sim: &mut Sim, call: &Call) -> Result<Value, ApiError> {
    let node = call.node()?.to_string();
    let storage = call.req_str("storage")?.to_string();
    let name = call.req_str("template")?.to_string();
    let (_, _, _, _, _, mib) = TEMPLATES
        .iter()
        .find(|t| t.0 == name)
        .ok_or_else(|| ApiError::internal(format!("no such template '{name}'")))?;
    guest::check_storage(&sim.cluster, &storage, &node, "vztmpl").map_err(ApiError::internal)?;
    let size = mib << 20;
    let volid = format!("{storage}:vztmpl/{name}");
    let upid = sim.spawn_task(TaskSpec {
        node: node.clone(),
        kind: "download".into(),
        id: name.clone(),
        user: guest::task_user(call),
        duration: 3.0 + *mib as f64 / 50.0,
        log: vec![format!("starting template download from: {name}")],
        lock_vmid: None,
        finish: Box::new(move |cluster, t| {
            if cluster.volumes.iter().any(|v| v.volid == volid) {
                return Ok(vec![format!(
                    "file '{name}' already exists, skipping download"
                )]);
            }
            let log = guest::alloc_space(cluster, &node, &storage, &name, size)?;
            cluster.volumes.push(Volume {
                volid: volid.clone(),
                storage: storage.clone(),
                node: node.clone(),
                content: "vztmpl".into(),
                format: "tzst".into(),
                size,
                ctime: t as i64,
                vmid: None,
                notes: None,
                protected: false,
            });
            let mut log = log;
            log.push(format!("download of '{name}' to '{volid}' finished"));
            Ok(log)
        }),
    });
    Ok(Value::String(upid))
}
