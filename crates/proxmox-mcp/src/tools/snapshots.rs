//! The `snapshots` toolset (off by default), for VMs and containers alike (the kind comes from
//! the VMID): `list_snapshots` (the tree: parents, descriptions, times, saved RAM, and where the
//! current state stands), `create_snapshot`, `rollback_snapshot` and `delete_snapshot`
//! (both destructive). Each task is waited for a bounded time.

use std::collections::HashMap;

use pve_client::api::snapshot::{SnapshotCreate, SnapshotEntry};
use pve_client::{ErrorKind, GuestKind};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::common::{TaskOutcome, is_false, wait_task};
use super::power::guest_status;
use crate::error::ToolError;
use crate::handler;
use crate::registry::lenient;
use crate::registry::{Access, ToolCtx, ToolDef, ToolSpec};
use crate::tools::common::{WAIT_FOR_TASK, trimmed};
use crate::tools::paging::{MAX_ROWS, PageInfo, Window};

/// The toolset of this file's tools.
const TOOLSET: &str = "snapshots";
/// Snapshots `list_snapshots` answers when the call gives no `limit`.
const SNAPSHOT_ROWS: usize = 100;

/// The kind and node of guest `vmid` (VM or container), from the cluster's guest list; `node`,
/// when given, is where the guest must be.
pub(super) async fn locate(
    ctx: &ToolCtx,
    vmid: u32,
    node: Option<String>,
) -> Result<(GuestKind, String), ToolError> {
    let loc = ctx.client.find_guest(vmid).await.map_err(|e| {
        if e.kind() == ErrorKind::NotFound && e.status() != Some(501) {
            ToolError::Pve {
                status: Some(404),
                message: format!(
                    "no VM or container has VMID {vmid} (call get_vms or get_containers to see \
                     the existing VMIDs)"
                ),
            }
        } else {
            e.into()
        }
    })?;
    match trimmed(node) {
        Some(n) if n != loc.node => Err(ToolError::invalid(
            "node",
            format!(
                "{} {vmid} is on node {}, not {n} (node may be left out)",
                loc.kind.noun(),
                loc.node
            ),
        )),
        _ => Ok((loc.kind, loc.node)),
    }
}

/// Checks a snapshot name as PVE's `pve-configid` format (and its 40-character limit) does.
pub(super) fn check_name(name: &str) -> Result<(), ToolError> {
    let ok = name.len() >= 2
        && name.len() <= 40
        && name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if !ok {
        return Err(ToolError::invalid(
            "name",
            "must be 2 to 40 characters: a letter first, then letters, digits, `-` or `_` \
             (e.g. before-upgrade)",
        ));
    }
    if name == "current" || name.eq_ignore_ascii_case("pending") || name == "vzdump" {
        return Err(ToolError::invalid("name", format!("`{name}` is reserved")));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// list_snapshots

/// `list_snapshots`.
pub(super) fn list_snapshots() -> ToolSpec {
    ToolSpec::new(
        ToolDef::new(
            TOOLSET,
            "list_snapshots",
            "List snapshots",
            "A guest's snapshots (a tree, oldest first) and current_parent. Use it to find a name for rollback_snapshot.",
            Access::Read,
            true,
        ),
        handler!(list_snapshots_handler),
    )
}

/// Parameters of `list_snapshots`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct ListSnapshotsParams {
    /// VMID.
    #[serde(deserialize_with = "lenient::int")]
    pub(crate) vmid: u32,
    /// Rows (default 100).
    #[serde(default, deserialize_with = "lenient::opt_int")]
    pub(crate) limit: Option<u32>,
    /// Rows to skip.
    #[serde(default, deserialize_with = "lenient::opt_int")]
    pub(crate) offset: Option<u32>,
    /// Accepted but not shown in the schema: found from the VMID when absent.
    #[serde(default)]
    #[schemars(skip)]
    pub(crate) node: Option<String>,
}

/// One snapshot.
#[derive(Debug, Serialize, JsonSchema)]
pub(super) struct SnapshotLine {
    pub(crate) name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub(crate) description: String,
    /// When it was taken, Unix epoch seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) time: Option<i64>,
    /// The snapshot it was taken after (absent for the first).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) parent: Option<String>,
    /// VMs: the RAM was saved too (a rollback resumes the VM running).
    #[serde(skip_serializing_if = "is_false")]
    pub(crate) vmstate: bool,
}

/// Output of `list_snapshots`.
#[derive(Debug, Serialize, JsonSchema)]
pub(super) struct ListSnapshotsOutput {
    pub(crate) vmid: u32,
    pub(crate) node: String,
    /// `qemu` (VM) or `lxc` (container).
    pub(crate) kind: String,
    pub(crate) snapshots: Vec<SnapshotLine>,
    #[serde(flatten)]
    pub(crate) page: PageInfo,
    /// The snapshot the current state derives from (absent when there is none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) current_parent: Option<String>,
}

async fn list_snapshots_handler(
    ctx: &ToolCtx,
    p: ListSnapshotsParams,
) -> Result<ListSnapshotsOutput, ToolError> {
    let window = Window::new(p.limit, p.offset, SNAPSHOT_ROWS, MAX_ROWS)?;
    let (kind, node) = locate(ctx, p.vmid, p.node).await?;
    let entries = ctx.client.snapshot_list(&node, kind, p.vmid).await?;
    let current_parent = entries
        .iter()
        .find(|e| e.is_current())
        .and_then(|e| e.parent.clone());
    let mut snapshots: Vec<SnapshotLine> = entries
        .into_iter()
        .filter(|e| !e.is_current())
        .map(|e: SnapshotEntry| SnapshotLine {
            name: e.name,
            description: e.description.trim_end().to_string(),
            time: e.snaptime,
            parent: e.parent,
            vmstate: e.vmstate.unwrap_or(false),
        })
        .collect();
    // Oldest first; a parent before its children when taken in the same second.
    let parents: HashMap<String, Option<String>> = snapshots
        .iter()
        .map(|s| (s.name.clone(), s.parent.clone()))
        .collect();
    snapshots.sort_by_cached_key(|s| (s.time, depth(&parents, s), s.name.clone()));
    let (snapshots, page) = window.cut(snapshots, "snapshots", "");
    Ok(ListSnapshotsOutput {
        vmid: p.vmid,
        node,
        kind: kind.as_str().to_string(),
        snapshots,
        page,
        current_parent,
    })
}

/// How many ancestors a snapshot has (a broken or cyclic chain stops counting).
fn depth(parents: &HashMap<String, Option<String>>, s: &SnapshotLine) -> usize {
    let mut n = 0;
    let mut at = s.parent.as_deref();
    while let Some(p) = at
        && n <= parents.len()
    {
        n += 1;
        at = parents.get(p).and_then(Option::as_deref);
    }
    n
}

/// The names of the snapshots of a guest (without `current`).
async fn snapshot_names(
    ctx: &ToolCtx,
    node: &str,
    kind: GuestKind,
    vmid: u32,
) -> Result<Vec<String>, ToolError> {
    Ok(ctx
        .client
        .snapshot_list(node, kind, vmid)
        .await?
        .into_iter()
        .filter(|e| !e.is_current())
        .map(|e| e.name)
        .collect())
}

/// An error unless snapshot `name` exists.
async fn require_snapshot(
    ctx: &ToolCtx,
    node: &str,
    kind: GuestKind,
    vmid: u32,
    name: &str,
) -> Result<(), ToolError> {
    let names = snapshot_names(ctx, node, kind, vmid).await?;
    if names.iter().any(|n| n == name) {
        return Ok(());
    }
    let known = if names.is_empty() {
        "it has none".to_string()
    } else {
        format!("it has {}", names.join(", "))
    };
    Err(ToolError::invalid(
        "name",
        format!(
            "{} {vmid} has no snapshot `{name}` ({known}; see list_snapshots)",
            kind.noun()
        ),
    ))
}

// ---------------------------------------------------------------------------------------------
// create_snapshot

/// `create_snapshot`.
pub(super) fn create_snapshot() -> ToolSpec {
    ToolSpec::new(
        ToolDef::new(
            TOOLSET,
            "create_snapshot",
            "Create snapshot",
            "Snapshot a VM or container, e.g. before an upgrade; vmstate also saves a running VM's RAM. Use rollback_snapshot to return to it.",
            Access::Write,
            false,
        ),
        handler!(create_snapshot_handler),
    )
    .waits(WAIT_FOR_TASK)
}

/// Parameters of `create_snapshot`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct CreateSnapshotParams {
    /// VMID.
    #[serde(deserialize_with = "lenient::int")]
    pub(crate) vmid: u32,
    /// Snapshot name: 2-40 letters, digits, - or _, first a letter.
    pub(crate) name: String,
    /// What the snapshot is for.
    #[serde(default)]
    pub(crate) description: Option<String>,
    /// Also save a running VM's RAM.
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    pub(crate) vmstate: Option<bool>,
    /// Accepted but not shown in the schema: found from the VMID when absent.
    #[serde(default)]
    #[schemars(skip)]
    pub(crate) node: Option<String>,
}

/// Output of the snapshot-changing tools.
#[derive(Debug, Serialize, JsonSchema)]
pub(super) struct SnapshotOutput {
    pub(crate) vmid: u32,
    pub(crate) node: String,
    /// `qemu` (VM) or `lxc` (container).
    pub(crate) kind: String,
    /// The snapshot's name.
    pub(crate) snapshot: String,
    /// Rollback: the guest's power state once the task finished.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) guest_status: Option<String>,
    #[serde(flatten)]
    pub(crate) task: TaskOutcome,
}

async fn create_snapshot_handler(
    ctx: &ToolCtx,
    p: CreateSnapshotParams,
) -> Result<SnapshotOutput, ToolError> {
    let wait = ctx.wait;
    check_name(&p.name)?;
    let (kind, node) = locate(ctx, p.vmid, p.node).await?;
    let vmstate = p.vmstate.filter(|v| *v);
    if vmstate.is_some() {
        if kind == GuestKind::Lxc {
            return Err(ToolError::invalid(
                "vmstate",
                format!("CT {} is a container: only VMs can save their RAM", p.vmid),
            ));
        }
        let status = guest_status(ctx, kind, &node, p.vmid).await?;
        if status != "running" {
            return Err(ToolError::invalid(
                "vmstate",
                format!("VM {} is {status}: there is no RAM to save", p.vmid),
            ));
        }
    }
    let names = snapshot_names(ctx, &node, kind, p.vmid).await?;
    if names.contains(&p.name) {
        return Err(ToolError::invalid(
            "name",
            format!(
                "{} {} already has a snapshot `{}`",
                kind.noun(),
                p.vmid,
                p.name
            ),
        ));
    }
    let spec = SnapshotCreate {
        snapname: p.name.clone(),
        description: p.description.filter(|d| !d.is_empty()),
        vmstate,
    };
    let upid = ctx
        .client
        .snapshot_create(&node, kind, p.vmid, &spec)
        .await?;
    let what = format!("snapshot `{}` of {} {}", p.name, kind.noun(), p.vmid);
    let task = wait_task(ctx, &upid, wait, &what).await?;
    Ok(SnapshotOutput {
        vmid: p.vmid,
        node,
        kind: kind.as_str().to_string(),
        snapshot: p.name,
        guest_status: None,
        task,
    })
}

// ---------------------------------------------------------------------------------------------
// rollback_snapshot

/// `rollback_snapshot`.
pub(super) fn rollback_snapshot() -> ToolSpec {
    ToolSpec::new(
        ToolDef::new(
            TOOLSET,
            "rollback_snapshot",
            "Roll back to snapshot",
            "Return a guest to a snapshot; everything since is lost, a running guest is stopped first. Use delete_snapshot to drop a snapshot instead.",
            Access::Destructive,
            false,
        ),
        handler!(rollback_snapshot_handler),
    )
    .waits(WAIT_FOR_TASK)
}

/// Parameters of `rollback_snapshot`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RollbackParams {
    /// VMID.
    #[serde(deserialize_with = "lenient::int")]
    pub(crate) vmid: u32,
    /// Name of the snapshot to return to (see list_snapshots).
    pub(crate) name: String,
    /// Start the guest once rolled back.
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    pub(crate) start: Option<bool>,
    /// Accepted but not shown in the schema: found from the VMID when absent.
    #[serde(default)]
    #[schemars(skip)]
    pub(crate) node: Option<String>,
}

async fn rollback_snapshot_handler(
    ctx: &ToolCtx,
    p: RollbackParams,
) -> Result<SnapshotOutput, ToolError> {
    let wait = ctx.wait;
    let (kind, node) = locate(ctx, p.vmid, p.node).await?;
    require_snapshot(ctx, &node, kind, p.vmid, &p.name).await?;
    let upid = ctx
        .client
        .snapshot_rollback(&node, kind, p.vmid, &p.name, p.start.filter(|s| *s))
        .await?;
    let what = format!("rollback of {} {} to `{}`", kind.noun(), p.vmid, p.name);
    let task = wait_task(ctx, &upid, wait, &what).await?;
    let guest_status = if task.is_done() {
        guest_status(ctx, kind, &node, p.vmid).await.ok()
    } else {
        None
    };
    Ok(SnapshotOutput {
        vmid: p.vmid,
        node,
        kind: kind.as_str().to_string(),
        snapshot: p.name,
        guest_status,
        task,
    })
}

// ---------------------------------------------------------------------------------------------
// delete_snapshot

/// `delete_snapshot`.
pub(super) fn delete_snapshot() -> ToolSpec {
    ToolSpec::new(
        ToolDef::new(
            TOOLSET,
            "delete_snapshot",
            "Delete snapshot",
            "Delete a snapshot; the guest's current state is kept. Use rollback_snapshot to return to it instead.",
            Access::Destructive,
            false,
        ),
        handler!(delete_snapshot_handler),
    )
    .waits(WAIT_FOR_TASK)
}

/// Parameters of `delete_snapshot`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct DeleteSnapshotParams {
    /// VMID.
    #[serde(deserialize_with = "lenient::int")]
    pub(crate) vmid: u32,
    /// Name of the snapshot to delete (see list_snapshots).
    pub(crate) name: String,
    /// Remove the snapshot from the configuration even if removing its disk snapshots fails.
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    pub(crate) force: Option<bool>,
    /// Accepted but not shown in the schema: found from the VMID when absent.
    #[serde(default)]
    #[schemars(skip)]
    pub(crate) node: Option<String>,
}

async fn delete_snapshot_handler(
    ctx: &ToolCtx,
    p: DeleteSnapshotParams,
) -> Result<SnapshotOutput, ToolError> {
    let wait = ctx.wait;
    let (kind, node) = locate(ctx, p.vmid, p.node).await?;
    require_snapshot(ctx, &node, kind, p.vmid, &p.name).await?;
    let upid = ctx
        .client
        .snapshot_delete(&node, kind, p.vmid, &p.name, p.force.filter(|f| *f))
        .await?;
    let what = format!(
        "deletion of snapshot `{}` of {} {}",
        p.name,
        kind.noun(),
        p.vmid
    );
    let task = wait_task(ctx, &upid, wait, &what).await?;
    Ok(SnapshotOutput {
        vmid: p.vmid,
        node,
        kind: kind.as_str().to_string(),
        snapshot: p.name,
        guest_status: None,
        task,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_pve_configid() {
        for ok in ["before-upgrade", "s1", "Pre_2026-11"] {
            assert!(check_name(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "a",
            "1abc",
            "has space",
            "x.y",
            "current",
            &"a".repeat(41),
        ] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
    }
}
