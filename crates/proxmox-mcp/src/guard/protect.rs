//! [`Protection`]: the request hook of every mutating call that refuses any request which would
//! change, stop or pause a protected guest, whichever tool makes it.
//!
//! What counts as touching guest V: any write below `/nodes/{node}/{qemu|lxc}/V`; a command run
//! inside container V over SSH (`pct exec`); a restore
//! over V; a `vzdump` of V in `stop` or `suspend` mode (a live `snapshot` backup is allowed);
//! deleting or changing one of V's volumes (its backups, its disks); stopping a task whose id is
//! V. Whether V is protected is read from where V really is (`/cluster/resources`), never from the
//! node or kind a path names: a wrong `node` does not make a guest unprotected.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use futures_util::future::BoxFuture;
use pve_client::dry_run::{Intercepted, RequestHook, SshRequest};
use pve_client::{ApiPath, Error, ErrorKind, Method, Params, PveClient, Upid};
use serde_json::Value;

use super::Guard;

/// The request hook of one mutating call (see the module documentation). Each guest's
/// verdict is read once per call.
pub(crate) struct Protection {
    guard: Arc<Guard>,
    verdicts: Mutex<HashMap<u32, Verdict>>,
    refusal: Mutex<Option<String>>,
}

/// Whether a guest is protected: `reason` is `Some` when it is; `noun` names it in messages.
#[derive(Debug, Clone)]
struct Verdict {
    noun: &'static str,
    reason: Option<String>,
}

/// What a write request would do to which guests.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
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
}

impl std::fmt::Debug for Protection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Protection").finish_non_exhaustive()
    }
}

impl Protection {
    pub(crate) fn new(guard: Arc<Guard>) -> Self {
        Self {
            guard,
            verdicts: Mutex::new(HashMap::new()),
            refusal: Mutex::new(None),
        }
    }

    /// The refusal this hook made during the call, if any (the registry turns the call's
    /// error into this policy refusal).
    pub(crate) fn refusal(&self) -> Option<String> {
        self.refusal
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Whether guest `vmid` is protected, read where the guest really is. `named` is the node
    /// and kind a path gave: tried first (the common case, one read), but a guest that is not
    /// there is looked up in `/cluster/resources`. A guest that exists nowhere is left to PVE;
    /// any other failure to read is an error, so an unreadable guest is never written to blindly.
    async fn verdict(
        &self,
        client: &PveClient,
        vmid: u32,
        named: Option<(&str, &'static str)>,
    ) -> Result<Verdict, Error> {
        let known = self
            .verdicts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&vmid)
            .cloned();
        if let Some(v) = known {
            return Ok(v);
        }
        let verdict = match self.guard.configured_reason(vmid) {
            Some(reason) => Verdict {
                noun: named.map_or("guest", |(_, kind)| noun(kind)),
                reason: Some(reason),
            },
            None => self.read_verdict(client, vmid, named).await?,
        };
        self.verdicts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(vmid, verdict.clone());
        Ok(verdict)
    }

    async fn read_verdict(
        &self,
        client: &PveClient,
        vmid: u32,
        named: Option<(&str, &'static str)>,
    ) -> Result<Verdict, Error> {
        if let Some((node, kind)) = named {
            match guest_config(client, node, kind, vmid).await {
                Ok(config) => {
                    return Ok(Verdict {
                        noun: noun(kind),
                        reason: self.guard.config_reason(&config),
                    });
                }
                Err(e) if e.kind() == ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        // Not where the path says (or no path): where is it really?
        let here = client
            .list_guests()
            .await?
            .iter()
            .filter_map(pve_client::api::cluster::ClusterResource::location)
            .find(|l| l.vmid == vmid);
        let Some(loc) = here else {
            return Ok(Verdict {
                noun: named.map_or("guest", |(_, kind)| noun(kind)),
                reason: None,
            });
        };
        let kind = loc.kind.as_str();
        let kind: &'static str = if kind == "lxc" { "lxc" } else { "qemu" };
        let config = guest_config(client, &loc.node, kind, vmid).await?;
        Ok(Verdict {
            noun: noun(kind),
            reason: self.guard.config_reason(&config),
        })
    }

    /// The refusal of a request aimed at `target`, if a guest it touches is protected.
    async fn judge(&self, client: &PveClient, target: &Target) -> Result<Option<String>, Error> {
        let said = |v: &Verdict, vmid: u32| {
            v.reason
                .as_ref()
                .map(|r| format!("{} {vmid} is protected: {r}", v.noun))
        };
        Ok(match target {
            Target::Guest { node, kind, vmid } => {
                let v = self.verdict(client, *vmid, Some((node, kind))).await?;
                said(&v, *vmid).map(|s| {
                    format!(
                        "{s}. No tool of this server changes a protected guest, even with \
                         confirm: true; reading it is fine"
                    )
                })
            }
            Target::Backup { vmids, mode } => {
                let mut out = None;
                for vmid in vmids {
                    let v = self.verdict(client, *vmid, None).await?;
                    if let Some(s) = said(&v, *vmid) {
                        out = Some(format!(
                            "{s}. A backup in {mode} mode would {} it: back it up with mode \
                             snapshot (live), which protection allows",
                            if mode == "stop" { "stop" } else { "pause" }
                        ));
                        break;
                    }
                }
                out
            }
            Target::BackupOfMany { mode } => Some(format!(
                "a backup of every guest (all) or of a pool in {mode} mode could stop or pause a \
                 protected guest, which no tool of this server does: back the guests up one by \
                 one, or use mode snapshot (live)"
            )),
            Target::Volume { vmid, volume } => {
                let v = self.verdict(client, *vmid, None).await?;
                said(&v, *vmid).map(|s| {
                    format!(
                        "{s}. Volume {volume} is one of its backups or disks, and no tool of \
                         this server deletes or changes those"
                    )
                })
            }
            Target::Task { vmid, upid } => {
                let v = self.verdict(client, *vmid, None).await?;
                said(&v, *vmid).map(|s| {
                    format!(
                        "{s}. Task {upid} works on it, and no tool of this server interrupts a \
                         protected guest's tasks (a backup, a migration); let it finish"
                    )
                })
            }
        })
    }
}

impl RequestHook for Protection {
    fn intercept<'a>(
        &'a self,
        client: &'a PveClient,
        method: Method,
        path: &'a ApiPath,
        params: &'a Params,
    ) -> BoxFuture<'a, Result<Intercepted, Error>> {
        Box::pin(async move {
            let Some(target) = target_of(method, path.as_str(), params) else {
                return Ok(Intercepted::Pass);
            };
            let Some(message) = self.judge(client, &target).await? else {
                return Ok(Intercepted::Pass);
            };
            *self.refusal.lock().unwrap_or_else(PoisonError::into_inner) = Some(message.clone());
            Err(Error::new(ErrorKind::Permission, message))
        })
    }

    /// A command in a container (`pct exec`) touches that container.
    fn intercept_ssh<'a>(
        &'a self,
        client: &'a PveClient,
        command: &'a SshRequest,
    ) -> BoxFuture<'a, Result<Intercepted, Error>> {
        Box::pin(async move {
            let Some(vmid) = command.vmid else {
                return Ok(Intercepted::Pass);
            };
            let target = Target::Guest {
                node: command.node.clone(),
                kind: "lxc",
                vmid,
            };
            let Some(message) = self.judge(client, &target).await? else {
                return Ok(Intercepted::Pass);
            };
            *self.refusal.lock().unwrap_or_else(PoisonError::into_inner) = Some(message.clone());
            Err(Error::new(ErrorKind::Permission, message))
        })
    }
}

fn noun(kind: &str) -> &'static str {
    if kind == "lxc" { "container" } else { "VM" }
}

async fn guest_config(
    client: &PveClient,
    node: &str,
    kind: &'static str,
    vmid: u32,
) -> Result<Value, Error> {
    let path = ApiPath::new("/nodes")
        .seg(node)
        .lit(kind)
        .seg(vmid)
        .lit("config");
    client.get::<Value>(&path, Params::new()).await
}

/// What a request would touch, if it is a write that can reach a guest.
fn target_of(method: Method, path: &str, params: &Params) -> Option<Target> {
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
        _ => None,
    }
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
    let vmids: Vec<u32> = params
        .get("vmid")
        .unwrap_or("")
        .split([',', ';', ' ', '\t', '\n'])
        .filter_map(|v| v.trim().parse().ok())
        .collect();
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
        let node_task = "UPID:pve1:000003E8:00001B58:6B05BE88:aptupdate::root@pam:";
        let path = format!("/nodes/pve1/tasks/{}", node_task.replace(':', "%3A"));
        assert_eq!(target_of(Method::Delete, &path, &Params::new()), None);
        assert_eq!(
            target_of(Method::Get, "/nodes/pve1/qemu/101/config", &Params::new()),
            None
        );
    }
}
