//! The `backups` toolset (off by default): `create_backup` (vzdump of one guest), `list_backups`
//! (on one storage or on every backup storage), `delete_backup` (destructive); `restore_backup`
//! lives in `restore.rs`, `list_storage_content` in `storage_content.rs`, the scheduled jobs
//! (`list_backup_jobs`) in `jobs.rs` and what they leave out (`get_backup_coverage`) in
//! `coverage.rs`.

mod coverage;
mod jobs;
mod restore;
mod storage_content;

pub(crate) use coverage::get_backup_coverage;
pub(crate) use jobs::list_backup_jobs;
pub(crate) use restore::restore_backup;
pub(crate) use storage_content::list_storage_content;
pub(crate) use storage_content::storage_node;

use futures_util::future::join_all;
use pve_client::api::backup::{BackupMode, VzdumpOptions};
use pve_client::api::storage::NodeStorageQuery;
use pve_client::{GuestKind, Upid};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::ToolError;
use crate::handler;
use crate::registry::lenient;
use crate::registry::{Access, ToolCtx, ToolDef, ToolSpec};
use crate::tools::common::WAIT_FOR_TASK;
use crate::tools::common::{TaskOutcome, TaskState, is_false, mib, wait_task};
use crate::tools::paging::{MAX_ROWS, PageInfo, Window};
use crate::tools::snapshots::locate;

/// The toolset of this file's tools.
const TOOLSET: &str = "backups";

/// The guest kind a vzdump archive holds, from its name (`vzdump-qemu-...`, `vzdump-lxc-...`).
pub(super) fn archive_kind(volid: &str) -> Option<GuestKind> {
    let name = volid.rsplit('/').next().unwrap_or(volid);
    if name.starts_with("vzdump-qemu-") {
        Some(GuestKind::Qemu)
    } else if name.starts_with("vzdump-lxc-") || name.starts_with("vzdump-openvz-") {
        Some(GuestKind::Lxc)
    } else {
        None
    }
}

/// The storage part of a volume id (`nfs-backup` of `nfs-backup:backup/...`).
pub(super) fn volid_storage(volid: &str) -> Result<&str, ToolError> {
    volid
        .split_once(':')
        .map(|(s, _)| s)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            ToolError::invalid(
                "volid",
                "must be a volume id STORAGE:backup/FILE (as list_backups shows)",
            )
        })
}

// ---------------------------------------------------------------------------------------------
// create_backup

/// `create_backup`.
pub(super) fn create_backup() -> ToolSpec {
    ToolSpec::new(
        ToolDef::new(
            TOOLSET,
            "create_backup",
            "Back up a guest",
            "Back up a VM or container with vzdump (mode snapshot keeps it running). Use restore_backup to restore it.",
            Access::Write,
            false,
        ),
        handler!(create_backup_handler),
    )
    .waits(WAIT_FOR_TASK)
}

/// How the guest is treated during the backup.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub(super) enum Mode {
    /// Live backup (the default).
    Snapshot,
    /// Suspend the guest meanwhile.
    Suspend,
    /// Stop the guest meanwhile, start it again after.
    Stop,
}

/// Compression of the archive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub(super) enum Compress {
    /// zstd (the default: fast, small).
    #[serde(rename = "zstd")]
    Zstd,
    #[serde(rename = "gzip")]
    Gzip,
    #[serde(rename = "lzo")]
    Lzo,
    /// No compression.
    #[serde(rename = "0")]
    None,
}

impl Compress {
    fn as_str(self) -> &'static str {
        match self {
            Compress::Zstd => "zstd",
            Compress::Gzip => "gzip",
            Compress::Lzo => "lzo",
            Compress::None => "0",
        }
    }
}

/// Parameters of `create_backup`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct CreateBackupParams {
    /// VMID of the VM or container to back up.
    #[serde(deserialize_with = "lenient::int")]
    pub(crate) vmid: u32,
    /// Backup storage (default: most free space).
    #[serde(default)]
    pub(crate) storage: Option<String>,
    /// snapshot (default, live), suspend or stop.
    #[serde(default)]
    pub(crate) mode: Option<Mode>,
    /// zstd (default), gzip, lzo, or 0 for none.
    #[serde(default)]
    pub(crate) compress: Option<Compress>,
    /// Notes; {{guestname}}, {{vmid}}, {{node}} are filled in.
    #[serde(default)]
    pub(crate) notes: Option<String>,
    /// Protect it from pruning and deletion.
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    pub(crate) protected: Option<bool>,
    /// Accepted but not shown in the schema: found from the VMID when absent.
    #[serde(default)]
    #[schemars(skip)]
    pub(crate) node: Option<String>,
}

/// Output of `create_backup`.
#[derive(Debug, Serialize, JsonSchema)]
pub(super) struct CreateBackupOutput {
    pub(crate) vmid: u32,
    pub(crate) node: String,
    /// `qemu` (VM) or `lxc` (container).
    pub(crate) kind: String,
    pub(crate) storage: String,
    /// Once done: the backup's volume id (for restore_backup or delete_backup).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) backup: Option<String>,
    /// Once done: the archive's size in MiB.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) size_mb: Option<u64>,
    #[serde(flatten)]
    pub(crate) task: TaskOutcome,
}

/// The storages of `node` that take backups, most free space first.
async fn backup_storages(ctx: &ToolCtx, node: &str) -> Result<Vec<String>, ToolError> {
    let query = NodeStorageQuery {
        content: Some("backup".into()),
        enabled: Some(true),
        ..NodeStorageQuery::default()
    };
    let mut found: Vec<(u64, String)> = ctx
        .client
        .node_storage(node, &query)
        .await?
        .into_iter()
        .filter(|s| s.content.split(',').any(|c| c.trim() == "backup"))
        .map(|s| (s.avail.unwrap_or(0), s.storage))
        .collect();
    found.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    Ok(found.into_iter().map(|(_, s)| s).collect())
}

async fn create_backup_handler(
    ctx: &ToolCtx,
    p: CreateBackupParams,
) -> Result<CreateBackupOutput, ToolError> {
    let wait = ctx.wait;
    if let Some(n) = &p.notes
        && (n.contains('\n') || n.len() > 1024)
    {
        return Err(ToolError::invalid(
            "notes",
            "must be one line of at most 1024 characters",
        ));
    }
    let (kind, node) = locate(ctx, p.vmid, p.node).await?;
    let usable = backup_storages(ctx, &node).await?;
    let storage = match p
        .storage
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
    {
        Some(s) if usable.contains(&s) => s,
        Some(s) => {
            return Err(ToolError::invalid(
                "storage",
                format!(
                    "{s} does not take backups on node {node} (backup storages there: {})",
                    if usable.is_empty() {
                        "none".to_string()
                    } else {
                        usable.join(", ")
                    }
                ),
            ));
        }
        None => usable.first().cloned().ok_or_else(|| {
            ToolError::invalid(
                "storage",
                format!("node {node} has no enabled storage for backups (content `backup`)"),
            )
        })?,
    };
    let opts = VzdumpOptions {
        vmids: vec![p.vmid],
        storage: Some(storage.clone()),
        mode: Some(match p.mode.unwrap_or(Mode::Snapshot) {
            Mode::Snapshot => BackupMode::Snapshot,
            Mode::Suspend => BackupMode::Suspend,
            Mode::Stop => BackupMode::Stop,
        }),
        compress: Some(p.compress.unwrap_or(Compress::Zstd).as_str().to_string()),
        notes_template: p.notes.filter(|n| !n.trim().is_empty()),
        protected: p.protected.filter(|x| *x),
        ..VzdumpOptions::default()
    };
    let upid = ctx.client.vzdump(&node, &opts).await?;
    let what = format!("backup of {} {}", kind.noun(), p.vmid);
    let task = match wait_task(ctx, &upid, wait, &what).await {
        Ok(t) => t,
        Err(e) => return Err(backup_failure(ctx, &upid, &what, e).await),
    };
    let mut out = CreateBackupOutput {
        vmid: p.vmid,
        node: node.clone(),
        kind: kind.as_str().to_string(),
        storage: storage.clone(),
        backup: None,
        size_mb: None,
        task,
    };
    if out.task.task_status == TaskState::Done
        && let Ok(list) = ctx
            .client
            .storage_content(&node, &storage, Some("backup"), Some(p.vmid))
            .await
        && let Some(newest) = list
            .into_iter()
            .filter(|v| v.ctime.unwrap_or(0) >= upid.starttime)
            .max_by_key(|v| v.ctime)
    {
        out.backup = Some(newest.volid);
        out.size_mb = Some(mib(newest.size));
    }
    Ok(out)
}

/// A failed vzdump task's error, with the `ERROR:` line of its log (vzdump ends every failed
/// job with the bare `job errors`).
async fn backup_failure(ctx: &ToolCtx, upid: &Upid, what: &str, e: ToolError) -> ToolError {
    if !matches!(e, ToolError::Pve { .. }) {
        return e;
    }
    let Ok(lines) = ctx.client.task_log_tail(upid, 50).await else {
        return e;
    };
    match lines.iter().rev().find(|l| l.t.starts_with("ERROR:")) {
        Some(line) => ToolError::pve(format!(
            "{what} failed: {} (task {})",
            line.t.trim_start_matches("ERROR:").trim(),
            upid.as_str()
        )),
        None => e,
    }
}

// ---------------------------------------------------------------------------------------------
// list_backups

/// `list_backups`.
pub(super) fn list_backups() -> ToolSpec {
    ToolSpec::new(
        ToolDef::new(
            TOOLSET,
            "list_backups",
            "List backups",
            "Backups, newest first. Use it to find a volid for restore_backup or delete_backup.",
            Access::Read,
            true,
        ),
        handler!(list_backups_handler),
    )
}

/// Parameters of `list_backups`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct ListBackupsParams {
    /// Only this storage.
    #[serde(default)]
    pub(crate) storage: Option<String>,
    /// Only the backups of this guest.
    #[serde(default, deserialize_with = "lenient::opt_int")]
    #[schemars(range(min = 100))]
    pub(crate) vmid: Option<u32>,
    /// Only what this node sees.
    #[serde(default)]
    pub(crate) node: Option<String>,
    /// Rows (default 100).
    #[serde(default, deserialize_with = "lenient::opt_int")]
    pub(crate) limit: Option<u32>,
    /// Rows to skip.
    #[serde(default, deserialize_with = "lenient::opt_int")]
    pub(crate) offset: Option<u32>,
}

/// Backups `list_backups` answers when the call gives no `limit`.
const BACKUP_ROWS: usize = 100;

/// One backup.
#[derive(Debug, Serialize, JsonSchema)]
pub(super) struct BackupLine {
    /// Volume id (pass it to restore_backup or delete_backup).
    pub(crate) volid: String,
    pub(crate) storage: String,
    /// The node holding it (local storages only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) node: Option<String>,
    /// The guest it backs up.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) vmid: Option<u32>,
    /// `qemu` (VM) or `lxc` (container).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) kind: Option<String>,
    /// When it was made, Unix epoch seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) time: Option<i64>,
    pub(crate) size_mb: u64,
    /// `vma.zst`, `tar.zst`, ...
    pub(crate) format: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) notes: Option<String>,
    /// Protected from pruning and deletion.
    #[serde(skip_serializing_if = "is_false")]
    pub(crate) protected: bool,
}

/// Output of `list_backups`.
#[derive(Debug, Serialize, JsonSchema)]
pub(super) struct ListBackupsOutput {
    pub(crate) backups: Vec<BackupLine>,
    #[serde(flatten)]
    pub(crate) page: PageInfo,
    /// Storages that could not be read, with the reason.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) unreadable: Vec<String>,
}

/// The available storages that hold backups, as (storage, node to read it from, shared): a
/// shared storage once, and only `node`'s when given.
pub(super) fn backup_targets(
    resources: Vec<pve_client::api::cluster::ClusterResource>,
    node: Option<&str>,
) -> Vec<(String, String, bool)> {
    let mut targets: Vec<(String, String, bool)> = Vec::new();
    for r in resources {
        let (Some(s), Some(n)) = (r.storage.clone(), r.node.clone()) else {
            continue;
        };
        let holds_backups = r
            .content
            .as_deref()
            .unwrap_or("")
            .split(',')
            .any(|c| c.trim() == "backup");
        let shared = r.shared == Some(true);
        if !holds_backups
            || r.status.as_deref() != Some("available")
            || node.is_some_and(|want| want != n)
            || (shared && targets.iter().any(|(x, _, _)| *x == s))
        {
            continue;
        }
        targets.push((s, n, shared));
    }
    targets
}

async fn list_backups_handler(
    ctx: &ToolCtx,
    p: ListBackupsParams,
) -> Result<ListBackupsOutput, ToolError> {
    if p.vmid.is_some_and(|v| v < 100) {
        return Err(ToolError::invalid("vmid", "VMIDs start at 100"));
    }
    let window = Window::new(p.limit, p.offset, BACKUP_ROWS, MAX_ROWS)?;
    let node = p
        .node
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty());
    let storage = p
        .storage
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty());
    // (storage, node to read it from, shared)
    let mut targets: Vec<(String, String, bool)> = Vec::new();
    let resources = ctx.client.list_storage().await?;
    if let Some(s) = &storage {
        let n = storage_node(ctx, s, node.clone()).await?;
        let shared = resources
            .iter()
            .any(|r| r.storage.as_deref() == Some(s.as_str()) && r.shared == Some(true));
        targets.push((s.clone(), n, shared));
    } else {
        targets = backup_targets(resources, node.as_deref());
    }
    let answers = join_all(targets.iter().map(|(s, n, shared)| async move {
        let r = ctx
            .client
            .storage_content(n, s, Some("backup"), p.vmid)
            .await;
        (s, n, *shared, r)
    }))
    .await;
    let mut backups = Vec::new();
    let mut unreadable = Vec::new();
    for (s, n, shared, r) in answers {
        match r {
            Ok(list) => backups.extend(list.into_iter().map(|v| BackupLine {
                kind: archive_kind(&v.volid).map(|k| k.as_str().to_string()),
                storage: s.clone(),
                node: (!shared).then(|| n.clone()),
                vmid: v.vmid,
                time: v.ctime,
                size_mb: mib(v.size),
                format: v.format,
                notes: v.notes.filter(|x| !x.is_empty()),
                protected: v.protected,
                volid: v.volid,
            })),
            Err(e) if storage.is_some() => return Err(e.into()),
            Err(e) => unreadable.push(format!("{s} on {n}: {e}")),
        }
    }
    backups.sort_by(|a, b| b.time.cmp(&a.time).then_with(|| a.volid.cmp(&b.volid)));
    let (backups, page) = window.cut(backups, "backups", "filter (storage, vmid, node)");
    Ok(ListBackupsOutput {
        backups,
        page,
        unreadable,
    })
}

// ---------------------------------------------------------------------------------------------
// delete_backup

/// `delete_backup`.
pub(super) fn delete_backup() -> ToolSpec {
    ToolSpec::new(
        ToolDef::new(
            TOOLSET,
            "delete_backup",
            "Delete backup",
            "Delete a backup archive for good (protected ones are refused). Use restore_backup to restore it instead.",
            Access::Destructive,
            false,
        ),
        handler!(delete_backup_handler),
    )
    .waits(WAIT_FOR_TASK)
}

/// Parameters of `delete_backup`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct DeleteBackupParams {
    /// Backup volid (from list_backups).
    pub(crate) volid: String,
    /// Node to delete it through (default: the first with the storage).
    #[serde(default)]
    pub(crate) node: Option<String>,
}

/// Output of `delete_backup`.
#[derive(Debug, Serialize, JsonSchema)]
pub(super) struct DeleteBackupOutput {
    pub(crate) volid: String,
    pub(crate) storage: String,
    pub(crate) node: String,
    /// True once the deletion finished.
    pub(crate) deleted: bool,
    #[serde(flatten)]
    pub(crate) task: TaskOutcome,
}

async fn delete_backup_handler(
    ctx: &ToolCtx,
    p: DeleteBackupParams,
) -> Result<DeleteBackupOutput, ToolError> {
    let wait = ctx.wait;
    let volid = p.volid.trim().to_string();
    let storage = volid_storage(&volid)?.to_string();
    let node = storage_node(ctx, &storage, p.node).await?;
    let found = ctx
        .client
        .storage_content(&node, &storage, Some("backup"), None)
        .await?
        .into_iter()
        .find(|v| v.volid == volid)
        .ok_or_else(|| {
            ToolError::invalid(
                "volid",
                format!("no backup {volid} on storage {storage} (see list_backups)"),
            )
        })?;
    if found.protected {
        return Err(ToolError::invalid(
            "volid",
            format!(
                "backup {volid} is protected in Proxmox VE; an operator must remove its \
                 protection first"
            ),
        ));
    }
    let upid = ctx
        .client
        .volume_delete(&node, &storage, &volid, None)
        .await?;
    let task = match upid {
        Some(upid) => wait_task(ctx, &upid, wait, &format!("deletion of {volid}")).await?,
        // PVE answered null: deleted at once.
        None => TaskOutcome {
            upid: String::new(),
            task_status: TaskState::Done,
            exitstatus: Some("OK".into()),
            hint: None,
        },
    };
    Ok(DeleteBackupOutput {
        deleted: task.is_done(),
        volid,
        storage,
        node,
        task,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn archive_names_tell_the_kind() {
        let k = |v| archive_kind(v);
        assert_eq!(
            k("nfs:backup/vzdump-qemu-100-2026_01_01-02_00_00.vma.zst"),
            Some(GuestKind::Qemu)
        );
        assert_eq!(
            k("local:backup/vzdump-lxc-200-2026_01_01-02_00_00.tar.zst"),
            Some(GuestKind::Lxc)
        );
        assert_eq!(k("local:iso/debian.iso"), None);
        assert!(volid_storage("nfs:backup/x").is_ok());
        assert!(volid_storage("no-colon").is_err());
    }
}
