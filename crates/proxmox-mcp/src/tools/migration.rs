//! Migration (toolset `migration`): `check_migration` (a preflight from PVE's `GET .../migrate`,
//! the node list and the guest's config: what would block a move, where it may go) and
//! `migrate_guest` (runs the same preflight, refuses with its blockers, then moves a VM online
//! when running, a container in restart mode when running; bounded wait).

use pve_client::api::guest::MigratePreflight;
use pve_client::api::lxc::LxcMigrate;
use pve_client::api::qemu::QemuMigrate;
use pve_client::{GuestKind, Upid};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::common::{TaskOutcome, gib, guest_error, wait_task};
use crate::error::ToolError;
use crate::handler;
use crate::registry::lenient;
use crate::registry::{Access, ToolCtx, ToolDef, ToolSpec};
use crate::tools::common::WAIT_FOR_TASK;

const TOOLSET: &str = "migration";

/// `check_migration`.
pub(super) fn check_migration() -> ToolSpec {
    ToolSpec::new(
        ToolDef {
            name: "check_migration",
            title: "Check migration",
            description: "Preflight, changing nothing: can the guest move (where), blockers, local disks, online or offline. Use it before migrate_guest.",
            toolset: TOOLSET,
            access: Access::Read,
            idempotent: true,
        },
        handler!(check_migration_handler),
    )
}

/// Parameters of `check_migration`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct CheckParams {
    /// VMID.
    #[serde(deserialize_with = "lenient::int")]
    pub(crate) vmid: u32,
    /// Accepted but not shown in the schema: found from the VMID when absent.
    #[serde(default)]
    #[schemars(skip)]
    pub(crate) node: Option<String>,
    /// Node to move it to; absent: which nodes it could go to.
    #[serde(default)]
    pub(crate) target_node: Option<String>,
}

/// A local disk a migration would copy.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub(super) struct LocalDisk {
    pub(crate) volid: String,
    pub(crate) size_gb: f64,
    /// A CD/ISO image (cannot be migrated from local storage).
    #[serde(skip_serializing_if = "super::common::is_false")]
    pub(crate) cdrom: bool,
    /// Not attached (an `unusedN` entry).
    #[serde(skip_serializing_if = "super::common::is_false")]
    pub(crate) unused: bool,
}

/// A node the guest cannot go to, and why.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub(super) struct NotAllowed {
    pub(crate) node: String,
    pub(crate) reason: String,
}

/// How a guest would move.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub(super) enum Mode {
    /// A running VM, live: no downtime.
    Online,
    /// A stopped guest.
    Offline,
    /// A running container: stopped, moved, started again on the target (short downtime).
    Restart,
}

/// Output of `check_migration`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub(super) struct Preflight {
    pub(crate) vmid: u32,
    /// `qemu` (VM) or `lxc` (container).
    pub(crate) kind: String,
    /// The node it is on.
    pub(crate) node: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) target_node: Option<String>,
    pub(crate) running: bool,
    pub(crate) mode: Mode,
    /// Whether nothing blocks the move (to target_node, or to at least one node).
    pub(crate) can_migrate: bool,
    /// What blocks the move; empty when it can go.
    pub(crate) blockers: Vec<String>,
    /// Online nodes it may go to.
    pub(crate) allowed_nodes: Vec<String>,
    /// Nodes it may not go to, with PVE's reasons (offline nodes too).
    pub(crate) not_allowed_nodes: Vec<NotAllowed>,
    /// Disks on storages of this node only: copied to the target.
    pub(crate) local_disks: Vec<LocalDisk>,
    /// Local devices (PCI/USB passthrough) tying a VM to its node.
    pub(crate) local_resources: Vec<String>,
    /// Things to know that do not block (downtime, HA, disk copy).
    pub(crate) notes: Vec<String>,
}

async fn check_migration_handler(ctx: &ToolCtx, p: CheckParams) -> Result<Preflight, ToolError> {
    preflight(ctx, p.vmid, p.node, p.target_node).await
}

/// The preflight of a move of `vmid` (to `target` when given).
pub(super) async fn preflight(
    ctx: &ToolCtx,
    vmid: u32,
    node: Option<String>,
    target: Option<String>,
) -> Result<Preflight, ToolError> {
    let loc = ctx.client.find_guest(vmid).await.map_err(|e| {
        // The VMID names no guest: word it as a VM (the tools list both kinds).
        guest_error(e, vmid, GuestKind::Qemu)
    })?;
    let kind = loc.kind;
    let node = node
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty())
        .unwrap_or(loc.node);
    let target = target
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty());
    let nodes = ctx.client.nodes().await?;
    let config = ctx
        .client
        .guest_config(&node, kind, vmid, None)
        .await
        .map_err(|e| guest_error(e, vmid, kind))?;
    let pre: MigratePreflight = ctx
        .client
        .guest_migrate_preflight(&node, kind, vmid, target.as_deref())
        .await
        .map_err(|e| guest_error(e, vmid, kind))?;
    let running = pre.running;
    let mode = match (running, kind) {
        (false, _) => Mode::Offline,
        (true, GuestKind::Qemu) => Mode::Online,
        (true, GuestKind::Lxc) => Mode::Restart,
    };
    let mut not_allowed: Vec<NotAllowed> = pre
        .not_allowed_nodes
        .iter()
        .map(|(n, why)| NotAllowed {
            node: n.clone(),
            reason: reason_text(why),
        })
        .collect();
    for n in nodes
        .iter()
        .filter(|n| n.node != node && n.status != "online")
    {
        if !not_allowed.iter().any(|x| x.node == n.node) {
            not_allowed.push(NotAllowed {
                node: n.node.clone(),
                reason: format!("node is {}", n.status),
            });
        }
    }
    let allowed_nodes: Vec<String> = nodes
        .iter()
        .filter(|n| n.node != node && n.status == "online")
        .filter(|n| !not_allowed.iter().any(|x| x.node == n.node))
        .map(|n| n.node.clone())
        .collect();
    let local_disks: Vec<LocalDisk> = pre.local_disks.iter().filter_map(local_disk).collect();
    let word = kind.noun();
    let mut blockers = Vec::new();
    if let Some(lock) = config.get_str("lock") {
        blockers.push(format!(
            "{word} {vmid} is locked ({lock}): wait for that operation to end"
        ));
    }
    if !pre.local_resources.is_empty() {
        blockers.push(format!(
            "local devices tie it to {node}: {} (remove them first)",
            pre.local_resources.join(", ")
        ));
    }
    // A cloud-init drive is regenerated on the target; a local ISO blocks.
    for d in local_disks
        .iter()
        .filter(|d| d.cdrom && !d.volid.contains("cloudinit"))
    {
        blockers.push(format!(
            "a local ISO is in its CD drive ({}): eject it or use one on shared storage",
            d.volid
        ));
    }
    if let Some(t) = &target {
        if *t == node {
            blockers.push(format!("{word} {vmid} is already on {t}"));
        } else if !nodes.iter().any(|n| n.node == *t) {
            blockers.push(format!(
                "no node named {t} (nodes: {})",
                nodes
                    .iter()
                    .map(|n| n.node.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        } else if let Some(x) = not_allowed.iter().find(|x| x.node == *t) {
            blockers.push(format!("cannot go to {t}: {}", x.reason));
        }
    } else if allowed_nodes.is_empty() {
        blockers.push("no other online node can take it".to_string());
    }
    let mut notes = Vec::new();
    match mode {
        Mode::Online => notes.push("running: moved live (online), without downtime".into()),
        Mode::Restart => notes.push(
            "running container: stopped, moved and started again on the target (restart mode, \
             a short downtime)"
                .into(),
        ),
        Mode::Offline => {}
    }
    let copied: Vec<&LocalDisk> = local_disks.iter().filter(|d| !d.cdrom).collect();
    if !copied.is_empty() {
        let total: f64 = copied.iter().map(|d| d.size_gb).sum();
        notes.push(format!(
            "{} local disk(s), {:.1} GiB in all, are copied to the target: this takes time",
            copied.len(),
            total
        ));
    }
    Ok(Preflight {
        vmid,
        kind: kind.as_str().to_string(),
        node,
        target_node: target,
        running,
        mode,
        can_migrate: blockers.is_empty(),
        blockers,
        allowed_nodes,
        not_allowed_nodes: not_allowed,
        local_disks,
        local_resources: pre.local_resources,
        notes,
    })
}

/// PVE's reason for a node (`{"unavailable_storages": ["local-zfs"]}`) in words.
fn reason_text(v: &Value) -> String {
    if let Some(list) = v.get("unavailable_storages").and_then(Value::as_array) {
        let names: Vec<&str> = list.iter().filter_map(Value::as_str).collect();
        return format!("storage not available there: {}", names.join(", "));
    }
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// One entry of PVE's `local_disks`.
fn local_disk(v: &Value) -> Option<LocalDisk> {
    let flag = |k: &str| {
        v.get(k)
            .is_some_and(|x| x.as_bool() == Some(true) || x.as_i64() == Some(1) || x == "1")
    };
    Some(LocalDisk {
        volid: v.get("volid")?.as_str()?.to_string(),
        size_gb: gib(v.get("size").and_then(Value::as_u64).unwrap_or(0)),
        cdrom: flag("cdrom"),
        unused: flag("is_unused"),
    })
}

/// `migrate_guest`.
pub(super) fn migrate_guest() -> ToolSpec {
    ToolSpec::new(
        ToolDef {
            name: "migrate_guest",
            title: "Migrate VM or container",
            description: "Move a VM or container to another node (running VMs live, containers restart). Use check_migration first: its blockers refuse the move.",
            toolset: TOOLSET,
            access: Access::Write,
            idempotent: false,
        },
        handler!(migrate_guest_handler),
    )
    .waits(WAIT_FOR_TASK)
}

/// Parameters of `migrate_guest`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct MigrateParams {
    /// VMID.
    #[serde(deserialize_with = "lenient::int")]
    pub(crate) vmid: u32,
    /// Node to move it to.
    pub(crate) target_node: String,
    /// Accepted but not shown in the schema: found from the VMID when absent.
    #[serde(default)]
    #[schemars(skip)]
    pub(crate) node: Option<String>,
    /// Storage on the target for its local disks (default: same storage name).
    #[serde(default)]
    pub(crate) target_storage: Option<String>,
}

/// Output of `migrate_guest`.
#[derive(Debug, Serialize, JsonSchema)]
pub(super) struct MigrateOutput {
    pub(crate) vmid: u32,
    pub(crate) kind: String,
    pub(crate) from_node: String,
    pub(crate) to_node: String,
    pub(crate) mode: Mode,
    /// True once the task finished: the guest is on to_node.
    pub(crate) migrated: bool,
    #[serde(flatten)]
    pub(crate) task: TaskOutcome,
}

async fn migrate_guest_handler(
    ctx: &ToolCtx,
    p: MigrateParams,
) -> Result<MigrateOutput, ToolError> {
    let wait = ctx.wait;
    let target = p.target_node.trim().to_string();
    if target.is_empty() {
        return Err(ToolError::invalid("target_node", "must not be empty"));
    }
    let storage = p
        .target_storage
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty());
    let pre = preflight(ctx, p.vmid, p.node, Some(target.clone())).await?;
    if !pre.can_migrate {
        return Err(ToolError::policy(format!(
            "{} {} cannot move to {target}: {} (nothing was done; check_migration shows the \
             details)",
            if pre.kind == "lxc" { "CT" } else { "VM" },
            p.vmid,
            pre.blockers.join("; ")
        )));
    }
    let vmid = p.vmid;
    let upid: Upid = if pre.kind == "lxc" {
        let spec = LxcMigrate {
            target: target.clone(),
            restart: (pre.mode == Mode::Restart).then_some(true),
            target_storage: storage,
            ..LxcMigrate::default()
        };
        ctx.client
            .lxc_migrate(&pre.node, vmid, &spec)
            .await
            .map_err(|e| guest_error(e, vmid, GuestKind::Lxc))?
    } else {
        let spec = QemuMigrate {
            target: target.clone(),
            online: (pre.mode == Mode::Online).then_some(true),
            with_local_disks: pre.local_disks.iter().any(|d| !d.cdrom).then_some(true),
            targetstorage: storage,
            ..QemuMigrate::default()
        };
        ctx.client
            .qemu_migrate(&pre.node, vmid, &spec)
            .await
            .map_err(|e| guest_error(e, vmid, GuestKind::Qemu))?
    };
    let word = if pre.kind == "lxc" { "CT" } else { "VM" };
    let what = format!("migration of {word} {vmid} to {target}");
    let task = wait_task(ctx, &upid, wait, &what).await?;
    Ok(MigrateOutput {
        vmid,
        kind: pre.kind,
        from_node: pre.node,
        to_node: target,
        mode: pre.mode,
        migrated: task.is_done(),
        task,
    })
}
