//! [`Protection`]: the request hook of every mutating call that refuses any request which would
//! change, stop or pause a protected guest, whichever tool makes it.
//!
//! What counts as touching guest V: any write below `/nodes/{node}/{qemu|lxc}/V`; a command run
//! inside container V over SSH (`pct exec`); a restore
//! over V; a `vzdump` of V in `stop` or `suspend` mode (a live `snapshot` backup is allowed);
//! deleting or changing one of V's volumes (its backups, its disks); stopping a task whose id is
//! V; the cluster-wide writes that name V: its HA resource (`/cluster/ha/resources`, `sid`
//! `vm:V`), its replication jobs (`/cluster/replication`, id `V-n`), a backup job
//! (`/cluster/backup`) that would stop or pause it; and a node's bulk actions (`startall`,
//! `stopall`, `suspendall`, `migrateall`) over V, named in `vms` or, without it, as a guest of
//! that node (read from the request in `target.rs`). Whether V is protected is read from where
//! V really is (`/cluster/resources`), never from the node or kind a path names: a wrong `node`
//! does not make a guest unprotected.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use futures_util::future::BoxFuture;
use pve_client::dry_run::{Intercepted, RequestHook, SshRequest};
use pve_client::{ApiPath, Error, ErrorKind, Method, Params, PveClient};
use serde_json::Value;

use super::Guard;
use super::target::{Target, target_of};

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
            Target::Named { vmids, what } => {
                let mut out = None;
                for vmid in vmids {
                    let v = self.verdict(client, *vmid, None).await?;
                    if let Some(s) = said(&v, *vmid) {
                        out = Some(format!(
                            "{s}. {what} names it, and no tool of this server changes a \
                             protected guest, even with confirm: true"
                        ));
                        break;
                    }
                }
                out
            }
            Target::NodeGuests { node, what } => {
                let vmids: Vec<u32> = client
                    .list_guests()
                    .await?
                    .iter()
                    .filter_map(pve_client::api::cluster::ClusterResource::location)
                    .filter(|l| &l.node == node)
                    .map(|l| l.vmid)
                    .collect();
                let mut out = None;
                for vmid in vmids {
                    let v = self.verdict(client, vmid, None).await?;
                    if let Some(s) = said(&v, vmid) {
                        out = Some(format!(
                            "{s}. {what} would act on every guest of node {node}, this one \
                             included: name the guests in `vms` instead"
                        ));
                        break;
                    }
                }
                out
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

impl Protection {
    /// Passes a request that touches no protected guest; otherwise remembers the refusal (for
    /// the call's error) and refuses the request.
    async fn refuse_if_protected(
        &self,
        client: &PveClient,
        target: &Target,
    ) -> Result<Intercepted, Error> {
        let Some(message) = self.judge(client, target).await? else {
            return Ok(Intercepted::Pass);
        };
        *self.refusal.lock().unwrap_or_else(PoisonError::into_inner) = Some(message.clone());
        Err(Error::new(ErrorKind::Permission, message))
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
            self.refuse_if_protected(client, &target).await
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
            self.refuse_if_protected(client, &target).await
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
