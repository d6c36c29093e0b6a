//! What a write request touches, read from its method, path and parameters alone (no call to
//! Proxmox VE): the guests [`Protection`](super::Protection) then judges. A guest's own path, a
//! restore over it, backups that stop or pause guests, its volumes, its tasks, and the
//! cluster-wide writes that name it (HA resources, replication, backup jobs, a node's bulk
//! actions).

use pve_client::{Method, Params, Upid};

/// What a write request would do to which guests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Target {
    /// A write below a guest's path (or a restore over it); the node and kind the path names.
    Guest {
        node: String,
        kind: &'static str,
        vmid: u32,
    },
    /// A backup of these guests that stops or pauses them (`mode`).
    Backup { vmids: Vec<u32>, mode: String },
    /// A backup of every guest (`all`) or of a pool, in a mode that stops or pauses them.
    BackupOfMany { mode: String },
    /// Deleting or changing one of the guest's volumes (a backup, a disk).
    Volume { vmid: u32, volume: String },
    /// Stopping a task that works on the guest.
    Task { vmid: u32, upid: String },
    /// A cluster-wide write naming these guests (`what` says which).
    Named { vmids: Vec<u32>, what: String },
    /// A node's bulk action over every guest of the node.
    NodeGuests { node: String, what: String },
}

/// What a request would touch, if it is a write that can reach a guest.
pub(super) fn target_of(method: Method, path: &str, params: &Params) -> Option<Target> {
    if method == Method::Get {
        return None;
    }
    if let Some((node, kind, vmid)) = guest_of(path).or_else(|| restored_guest(path, params)) {
        return Some(Target::Guest { node, kind, vmid });
    }
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match parts.as_slice() {
        ["nodes", _, "vzdump"] if method == Method::Post => backup_target(params),
        ["nodes", _, "storage", _, "content", volume]
            if matches!(method, Method::Delete | Method::Put) =>
        {
            let volume = percent_decode(volume);
            volume_owner(&volume).map(|vmid| Target::Volume { vmid, volume })
        }
        ["nodes", _, "tasks", upid] if method == Method::Delete => {
            let upid = percent_decode(upid);
            let vmid = upid.parse::<Upid>().ok()?.vmid()?;
            Some(Target::Task { vmid, upid })
        }
        ["cluster", "ha", "resources"] => {
            named(params.get("sid").and_then(sid_vmid), "its HA resource")
        }
        ["cluster", "ha", "resources", sid, ..] => {
            named(sid_vmid(&percent_decode(sid)), "its HA resource")
        }
        ["cluster", "replication"] => named(
            params.get("id").and_then(replication_vmid),
            "a replication job",
        ),
        ["cluster", "replication", id, ..] | ["nodes", _, "replication", id, ..] => {
            named(replication_vmid(&percent_decode(id)), "a replication job")
        }
        ["cluster", "backup"] | ["cluster", "backup", _]
            if matches!(method, Method::Post | Method::Put) =>
        {
            backup_target(params)
        }
        [
            "nodes",
            node,
            action @ ("startall" | "stopall" | "suspendall" | "migrateall"),
        ] if method == Method::Post => {
            let what = format!("{action} on node {}", percent_decode(node));
            let vmids = vmid_list(params.get("vms").unwrap_or(""));
            if vmids.is_empty() {
                Some(Target::NodeGuests {
                    node: percent_decode(node),
                    what,
                })
            } else {
                Some(Target::Named { vmids, what })
            }
        }
        _ => None,
    }
}

/// A write naming one guest, described by `what`.
fn named(vmid: Option<u32>, what: &str) -> Option<Target> {
    vmid.map(|vmid| Target::Named {
        vmids: vec![vmid],
        what: format!("This write to {what}"),
    })
}

/// The guest of an HA resource id: `vm:100`, `ct:200` or `100`.
fn sid_vmid(sid: &str) -> Option<u32> {
    let id = sid.split_once(':').map_or(sid, |(_, id)| id);
    id.trim().parse().ok()
}

/// The guest of a replication job id (`100-0`).
fn replication_vmid(id: &str) -> Option<u32> {
    id.split('-').next()?.trim().parse().ok()
}

/// VMIDs of a list PVE takes as text (`100,101`, `100 101`, `100;101`).
fn vmid_list(text: &str) -> Vec<u32> {
    text.split([',', ';', ' ', '\t', '\n'])
        .filter_map(|v| v.trim().parse().ok())
        .collect()
}

/// A `vzdump` that stops or pauses guests (PVE's default mode is `snapshot`, which does not).
fn backup_target(params: &Params) -> Option<Target> {
    let mode = params.get("mode").unwrap_or("snapshot").trim();
    if mode == "snapshot" {
        return None;
    }
    let mode = mode.to_string();
    let truthy = |v: Option<&str>| v.is_some_and(|v| matches!(v.trim(), "1" | "true" | "on"));
    if truthy(params.get("all")) || params.get("pool").is_some_and(|p| !p.trim().is_empty()) {
        return Some(Target::BackupOfMany { mode });
    }
    let vmids = vmid_list(params.get("vmid").unwrap_or(""));
    (!vmids.is_empty()).then_some(Target::Backup { vmids, mode })
}

/// The guest a volume belongs to, from PVE's naming: vzdump archives
/// (`vzdump-qemu-102-...`), Proxmox Backup Server snapshots (`backup/vm/102/...`) and guest
/// disks (`vm-102-disk-0`, `base-`, `subvol-`, `basevol-`).
fn volume_owner(volid: &str) -> Option<u32> {
    let name = volid.split_once(':').map_or(volid, |(_, n)| n);
    let parts: Vec<&str> = name.split('/').collect();
    if let ["backup", "vm" | "ct", id, ..] = parts.as_slice() {
        return id.parse().ok();
    }
    let file = parts.last().copied().unwrap_or(name);
    if let Some(rest) = file.strip_prefix("vzdump-") {
        let mut it = rest.splitn(3, '-');
        return match (it.next(), it.next()) {
            (Some("qemu" | "lxc" | "openvz"), Some(id)) => id.parse().ok(),
            _ => None,
        };
    }
    ["vm-", "base-", "subvol-", "basevol-"]
        .iter()
        .find_map(|p| file.strip_prefix(p))
        .and_then(|rest| rest.split('-').next())
        .and_then(|id| id.parse().ok())
}

/// `(node, "qemu"|"lxc", vmid)` of a path below `/nodes/{node}/{qemu|lxc}/{vmid}`.
fn guest_of(path: &str) -> Option<(String, &'static str, u32)> {
    let mut parts = path.trim_start_matches('/').split('/');
    if parts.next()? != "nodes" {
        return None;
    }
    let node = parts.next()?;
    let kind = match parts.next()? {
        "qemu" => "qemu",
        "lxc" => "lxc",
        _ => return None,
    };
    let vmid = parts.next()?.parse().ok()?;
    let node = percent_decode(node);
    Some((node, kind, vmid))
}

/// The guest a restore would overwrite: `POST /nodes/{node}/{qemu|lxc}` with an archive and a
/// `vmid` (a guest that does not exist yet is no one's, see `verdict`).
fn restored_guest(path: &str, params: &Params) -> Option<(String, &'static str, u32)> {
    let mut parts = path.trim_start_matches('/').split('/');
    let (Some("nodes"), Some(node), Some(kind), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    let kind = match kind {
        "qemu" if params.get("archive").is_some() => "qemu",
        "lxc" if params.get("restore").is_some() => "lxc",
        _ => return None,
    };
    let vmid = params.get("vmid")?.parse().ok()?;
    Some((percent_decode(node), kind, vmid))
}

fn percent_decode(s: &str) -> String {
    form_urlencoded::parse(format!("x={s}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| s.to_string())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn guest_paths_and_restores() {
        assert_eq!(
            guest_of("/nodes/pve1/qemu/101/status/stop"),
            Some(("pve1".into(), "qemu", 101))
        );
        assert_eq!(
            guest_of("/nodes/pve1/lxc/200"),
            Some(("pve1".into(), "lxc", 200))
        );
        assert_eq!(guest_of("/nodes/pve1/qemu"), None);
        assert_eq!(guest_of("/cluster/resources"), None);
        // A restore names its guest in the parameters; a plain create is nobody's yet.
        let restore = Params::new()
            .set("vmid", 103)
            .set("archive", "nfs:backup/x.vma");
        assert_eq!(
            restored_guest("/nodes/pve1/qemu", &restore),
            Some(("pve1".into(), "qemu", 103))
        );
        let ct = Params::new().set("vmid", 250).set("restore", true);
        assert_eq!(
            restored_guest("/nodes/pve1/lxc", &ct),
            Some(("pve1".into(), "lxc", 250))
        );
        let create = Params::new().set("vmid", 103).set("name", "x");
        assert_eq!(restored_guest("/nodes/pve1/qemu", &create), None);
        assert_eq!(
            restored_guest("/nodes/pve1/qemu/103/config", &restore),
            None
        );
    }

    #[test]
    fn disk_resizes_and_moves_name_their_guest() {
        for (method, path, vmid, kind) in [
            (Method::Put, "/nodes/pve1/qemu/101/resize", 101, "qemu"),
            (Method::Post, "/nodes/pve1/qemu/101/move_disk", 101, "qemu"),
            (Method::Put, "/nodes/pve2/lxc/200/resize", 200, "lxc"),
            (Method::Post, "/nodes/pve2/lxc/200/move_volume", 200, "lxc"),
        ] {
            let params = Params::new().set("disk", "scsi0").set("storage", "x");
            let Some(Target::Guest {
                vmid: v, kind: k, ..
            }) = target_of(method, path, &params)
            else {
                panic!("{path} names no guest");
            };
            assert_eq!((v, k), (vmid, kind), "{path}");
        }
        // A download onto a storage touches no guest.
        let dl = Params::new().set("url", "https://e/x.iso");
        assert_eq!(
            target_of(Method::Post, "/nodes/pve1/storage/local/download-url", &dl),
            None
        );
    }

    #[test]
    fn backups_volumes_and_tasks_name_their_guest() {
        let post = |p: &Params| target_of(Method::Post, "/nodes/pve1/vzdump", p);
        assert_eq!(
            post(&Params::new().set("vmid", "102")),
            None,
            "snapshot is the default"
        );
        assert_eq!(
            post(&Params::new().set("vmid", "102,103").set("mode", "stop")),
            Some(Target::Backup {
                vmids: vec![102, 103],
                mode: "stop".into()
            })
        );
        assert_eq!(
            post(&Params::new().set("all", 1).set("mode", "suspend")),
            Some(Target::BackupOfMany {
                mode: "suspend".into()
            })
        );
        assert_eq!(
            post(&Params::new().set("pool", "prod").set("mode", "snapshot")),
            None
        );
        for (volid, owner) in [
            (
                "nfs:backup/vzdump-qemu-102-2026_01_31-02_00_17.vma.zst",
                Some(102),
            ),
            (
                "nfs:backup/vzdump-lxc-200-2026_01_31-02_00_17.tar.zst",
                Some(200),
            ),
            ("pbs:backup/vm/104/2026-01-31T02:00:17Z", Some(104)),
            ("pbs:backup/ct/201/2026-01-31T02:00:17Z", Some(201)),
            ("local-lvm:vm-102-disk-0", Some(102)),
            ("local:102/vm-102-disk-1.qcow2", Some(102)),
            ("local-lvm:base-9000-disk-0", Some(9000)),
            ("local:iso/debian-13.iso", None),
            ("local:vztmpl/debian-12-standard.tar.zst", None),
        ] {
            assert_eq!(volume_owner(volid), owner, "{volid}");
        }
        assert_eq!(
            target_of(
                Method::Delete,
                "/nodes/pve1/storage/nfs/content/nfs%3Abackup%2Fvzdump-qemu-102-2026_01_31-02_00_17.vma.zst",
                &Params::new()
            ),
            Some(Target::Volume {
                vmid: 102,
                volume: "nfs:backup/vzdump-qemu-102-2026_01_31-02_00_17.vma.zst".into()
            })
        );
        let upid = "UPID:pve1:000003E8:00001B58:6B05BE88:qmigrate:101:root@pam:";
        let path = format!("/nodes/pve1/tasks/{}", upid.replace(':', "%3A"));
        assert_eq!(
            target_of(Method::Delete, &path, &Params::new()),
            Some(Target::Task {
                vmid: 101,
                upid: upid.into()
            })
        );
        for (path, params, vmid) in [
            (
                "/cluster/ha/resources",
                Params::new().set("sid", "vm:101"),
                101,
            ),
            ("/cluster/ha/resources/ct%3A201", Params::new(), 201),
            ("/cluster/ha/resources/vm:102/migrate", Params::new(), 102),
            (
                "/cluster/replication",
                Params::new().set("id", "103-0"),
                103,
            ),
            ("/cluster/replication/104-1", Params::new(), 104),
            (
                "/nodes/pve1/stopall",
                Params::new().set("vms", "105,106"),
                105,
            ),
        ] {
            match target_of(Method::Post, path, &params) {
                Some(Target::Named { vmids, .. }) => assert_eq!(vmids[0], vmid, "{path}"),
                other => panic!("{path}: {other:?}"),
            }
        }
        assert!(matches!(
            target_of(Method::Post, "/nodes/pve1/suspendall", &Params::new()),
            Some(Target::NodeGuests { .. })
        ));
        assert_eq!(
            target_of(
                Method::Post,
                "/cluster/backup",
                &Params::new().set("vmid", "107").set("mode", "stop")
            ),
            Some(Target::Backup {
                vmids: vec![107],
                mode: "stop".into()
            })
        );
        let node_task = "UPID:pve1:000003E8:00001B58:6B05BE88:aptupdate::root@pam:";
        let path = format!("/nodes/pve1/tasks/{}", node_task.replace(':', "%3A"));
        assert_eq!(target_of(Method::Delete, &path, &Params::new()), None);
        assert_eq!(
            target_of(Method::Get, "/nodes/pve1/qemu/101/config", &Params::new()),
            None
        );
    }
}
