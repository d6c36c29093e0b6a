//! `restore_backup` (the `backups` toolset): a vzdump archive back as a VM or container, under a
//! new VMID or over the existing guest with `force`. Destructive, because it can overwrite.

use pve_client::GuestKind;
use pve_client::api::backup::RestoreOptions;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::storage_content::storage_node;
use super::{archive_kind, volid_storage};
use crate::error::ToolError;
use crate::handler;
use crate::registry::lenient;
use crate::registry::{Access, ToolCtx, ToolDef, ToolSpec};
use crate::tools::common::WAIT_FOR_TASK;
use crate::tools::common::{TaskOutcome, is_false, wait_task};
use crate::tools::power::guest_status;

/// `restore_backup`.
pub(crate) fn restore_backup() -> ToolSpec {
    ToolSpec::new(
        ToolDef {
            name: "restore_backup",
            title: "Restore backup",
            description: "Restore a backup as a new guest, or over a stopped guest with force. Use create_backup to take one, delete_backup to remove one.",
            toolset: "backups",
            access: Access::Destructive,
            idempotent: false,
        },
        handler!(restore_backup_handler),
    )
    .waits(WAIT_FOR_TASK)
}

/// Parameters of `restore_backup`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RestoreParams {
    /// Backup volid (from list_backups).
    pub(crate) archive: String,
    /// VMID to restore to (default: next free; an existing one needs force).
    #[serde(default, deserialize_with = "lenient::opt_int")]
    #[schemars(range(min = 100))]
    pub(crate) vmid: Option<u32>,
    /// Replace the stopped guest with this VMID.
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    pub(crate) force: Option<bool>,
    /// Disk storage (default: where they were).
    #[serde(default)]
    pub(crate) storage: Option<String>,
    /// New MAC addresses (default: when the original still exists).
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    pub(crate) unique: Option<bool>,
    /// Start it once restored.
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    pub(crate) start: Option<bool>,
    /// Node (default: the guest's, else the backup storage's first).
    #[serde(default)]
    pub(crate) node: Option<String>,
}

/// Output of `restore_backup`.
#[derive(Debug, Serialize, JsonSchema)]
pub(super) struct RestoreOutput {
    /// VMID of the restored guest.
    pub(crate) vmid: u32,
    pub(crate) node: String,
    /// `qemu` (VM) or `lxc` (container).
    pub(crate) kind: String,
    pub(crate) archive: String,
    /// An existing guest was replaced.
    #[serde(skip_serializing_if = "is_false")]
    pub(crate) overwritten: bool,
    /// The guest's power state once the task finished.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) guest_status: Option<String>,
    #[serde(flatten)]
    pub(crate) task: TaskOutcome,
}

/// Where a guest is, if it exists: (kind, node).
async fn find(ctx: &ToolCtx, vmid: u32) -> Result<Option<(GuestKind, String)>, ToolError> {
    match ctx.client.find_guest(vmid).await {
        Ok(loc) => Ok(Some((loc.kind, loc.node))),
        Err(e) if e.kind() == pve_client::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// The storage of a guest's first disk (`rootfs` for containers).
async fn disk_storage(ctx: &ToolCtx, node: &str, kind: GuestKind, vmid: u32) -> Option<String> {
    let cfg = ctx.client.guest_config(node, kind, vmid, None).await.ok()?;
    let key = match kind {
        GuestKind::Lxc => "rootfs".to_string(),
        GuestKind::Qemu => ["scsi0", "virtio0", "sata0", "ide0"]
            .into_iter()
            .find(|k| cfg.get_str(k).is_some())?
            .to_string(),
    };
    let spec = cfg.get_str(&key)?;
    spec.split_once(':').map(|(s, _)| s.to_string())
}

/// The VMID of the guest a vzdump archive name holds (`vzdump-qemu-100-...` → 100).
fn archive_vmid(volid: &str) -> Option<u32> {
    let name = volid.rsplit('/').next().unwrap_or(volid);
    name.split('-').nth(2)?.parse().ok()
}

async fn restore_backup_handler(
    ctx: &ToolCtx,
    p: RestoreParams,
) -> Result<RestoreOutput, ToolError> {
    let wait = ctx.wait;
    let archive = p.archive.trim().to_string();
    let kind = archive_kind(&archive).ok_or_else(|| {
        ToolError::invalid(
            "archive",
            "is not a vzdump backup (expected STORAGE:backup/vzdump-qemu-... or vzdump-lxc-...; \
             see list_backups)",
        )
    })?;
    let archive_storage = volid_storage(&archive)
        .map_err(|_| ToolError::invalid("archive", "must be a volume id STORAGE:backup/FILE"))?
        .to_string();
    if p.vmid.is_some_and(|v| v < 100) {
        return Err(ToolError::invalid("vmid", "VMIDs start at 100"));
    }
    let force = p.force.unwrap_or(false);
    let given_node = p
        .node
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty());
    let source = match archive_vmid(&archive) {
        Some(v) => find(ctx, v).await?.filter(|(k, _)| *k == kind),
        None => None,
    };
    let target = match p.vmid {
        Some(v) => find(ctx, v).await?,
        None => None,
    };
    // Overwriting: only with force, the same kind, stopped; on the guest's own node.
    let mut node = given_node.clone();
    if let (Some(vmid), Some((tkind, tnode))) = (p.vmid, &target) {
        if *tkind != kind {
            return Err(ToolError::invalid(
                "vmid",
                format!(
                    "{} {vmid} exists and is a {}; this backup holds a {}",
                    tkind.noun(),
                    if *tkind == GuestKind::Qemu {
                        "VM"
                    } else {
                        "container"
                    },
                    if kind == GuestKind::Qemu {
                        "VM"
                    } else {
                        "container"
                    },
                ),
            ));
        }
        if !force {
            return Err(ToolError::invalid(
                "force",
                format!(
                    "{} {vmid} exists: pass force: true to replace it and its disks with the \
                     backup, or leave vmid out to restore under a new VMID",
                    kind.noun()
                ),
            ));
        }
        if given_node.as_ref().is_some_and(|n| n != tnode) {
            return Err(ToolError::invalid(
                "node",
                format!("{} {vmid} is on node {tnode}", kind.noun()),
            ));
        }
        let status = guest_status(ctx, kind, tnode, vmid).await?;
        if status != "stopped" {
            return Err(ToolError::invalid(
                "force",
                format!(
                    "{} {vmid} is {status}: stop it first (restoring replaces its disks)",
                    kind.noun()
                ),
            ));
        }
        node = Some(tnode.clone());
    }
    let node = match node.or_else(|| source.as_ref().map(|(_, n)| n.clone())) {
        Some(n) => storage_node(ctx, &archive_storage, Some(n)).await?,
        None => storage_node(ctx, &archive_storage, None).await?,
    };
    let listed = ctx
        .client
        .storage_content(&node, &archive_storage, Some("backup"), None)
        .await?
        .into_iter()
        .any(|v| v.volid == archive);
    if !listed {
        return Err(ToolError::invalid(
            "archive",
            format!("no backup {archive} on storage {archive_storage} (see list_backups)"),
        ));
    }
    let vmid = match p.vmid {
        Some(v) => v,
        None => ctx.client.next_id(None).await?,
    };
    let overwritten = target.is_some();
    let mut storage = p
        .storage
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty());
    // PVE puts a container's volumes on `local` unless told: keep them where they were.
    if storage.is_none() && kind == GuestKind::Lxc {
        let like = if overwritten {
            Some((vmid, node.clone()))
        } else {
            archive_vmid(&archive).zip(source.as_ref().map(|(_, n)| n.clone()))
        };
        if let Some((v, n)) = like {
            storage = disk_storage(ctx, &n, kind, v).await;
        }
        if storage.is_none() {
            return Err(ToolError::invalid(
                "storage",
                "is needed to restore this container (where its volumes go, content `rootdir`; \
                 see get_storage)",
            ));
        }
    }
    let unique = p
        .unique
        .unwrap_or_else(|| source.is_some() && archive_vmid(&archive) != Some(vmid));
    let opts = RestoreOptions {
        vmid,
        archive: archive.clone(),
        storage,
        force: force.then_some(true).filter(|_| overwritten),
        unique: unique.then_some(true),
        start: p.start.filter(|s| *s),
        ..RestoreOptions::default()
    };
    let upid = match kind {
        GuestKind::Qemu => ctx.client.qemu_restore(&node, &opts).await?,
        GuestKind::Lxc => ctx.client.lxc_restore(&node, &opts).await?,
    };
    let what = format!("restore of {} {vmid} from {archive}", kind.noun());
    let task = wait_task(ctx, &upid, wait, &what).await?;
    let guest_status = if task.is_done() {
        guest_status(ctx, kind, &node, vmid).await.ok()
    } else {
        None
    };
    Ok(RestoreOutput {
        vmid,
        node,
        kind: kind.as_str().to_string(),
        archive,
        overwritten,
        guest_status,
        task,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_archive_names_its_guest() {
        assert_eq!(
            archive_vmid("nfs:backup/vzdump-qemu-104-2026_01_31-02_10_13.vma.zst"),
            Some(104)
        );
        assert_eq!(archive_vmid("x:backup/other.tar"), None);
    }
}
