//! `move_disk`: moves a VM disk (`POST .../qemu/{vmid}/move_disk`, running or not) or a stopped
//! container's volume (`POST .../lxc/{vmid}/move_volume`) to another storage. The source stays
//! as an `unusedN` disk unless `delete_source`, which makes the call destructive (confirmation).

use pve_client::GuestKind;
use pve_client::api::disks::DiskMove;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{TOOLSET, pick_disk, volume};
use crate::error::ToolError;
use crate::handler;
use crate::registry::lenient;
use crate::registry::{Access, ToolCtx, ToolDef, ToolSpec};
use crate::tools::common::{TaskOutcome, WAIT_FOR_TASK, guest_error, wait_task};
use crate::tools::snapshots::locate;

/// `move_disk`.
pub(crate) fn move_disk() -> ToolSpec {
    ToolSpec::new(
        ToolDef::new(
            TOOLSET,
            "move_disk",
            "Move a disk to another storage",
            "Move a VM disk (live) or a stopped container's volume to another storage, keeping the source as unusedN unless delete_source. Use resize_disk to grow one.",
            Access::Destructive,
            false,
        ),
        handler!(move_disk_handler),
    )
    .waits(WAIT_FOR_TASK)
    .access_by_args(Access::Write, access_of, keep_source)
}

/// One call's access: destructive only when it deletes the source.
fn access_of(args: &Value) -> Option<Access> {
    let deletes = match args.get("delete_source") {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => matches!(s.trim(), "true" | "1"),
        Some(Value::Number(n)) => n.as_i64() == Some(1),
        _ => false,
    };
    Some(if deletes {
        Access::Destructive
    } else {
        Access::Write
    })
}

/// The input schema of the mildest view: the source is kept.
fn keep_source(schema: &mut Map<String, Value>) {
    if let Some(Value::Object(props)) = schema.get_mut("properties") {
        props.remove("delete_source");
    }
}

/// Target format of a moved VM disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Format {
    Raw,
    Qcow2,
    Vmdk,
}

impl Format {
    fn as_str(self) -> &'static str {
        match self {
            Format::Raw => "raw",
            Format::Qcow2 => "qcow2",
            Format::Vmdk => "vmdk",
        }
    }
}

/// Parameters of `move_disk`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct MoveParams {
    /// VMID.
    #[serde(deserialize_with = "lenient::int")]
    pub(crate) vmid: u32,
    /// Target storage.
    pub(crate) storage: String,
    /// Default: rootfs, or the VM's only disk.
    #[serde(default)]
    pub(crate) disk: Option<String>,
    /// Delete the source once copied (needs confirm).
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    pub(crate) delete_source: Option<bool>,
    /// VMs only.
    #[serde(default)]
    pub(crate) format: Option<Format>,
    /// Accepted but not shown in the schema: found from the VMID when absent.
    #[serde(default)]
    #[schemars(skip)]
    pub(crate) node: Option<String>,
}

/// Output of `move_disk`.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct MoveOutput {
    pub(crate) vmid: u32,
    /// `qemu` (VM) or `lxc` (container).
    pub(crate) kind: String,
    pub(crate) node: String,
    pub(crate) disk: String,
    /// The volume before the move.
    pub(crate) from_volume: String,
    pub(crate) storage: String,
    /// The volume once moved, read back from the config.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) volume: Option<String>,
    /// Whether the task deletes the source once copied (else it is kept as an unusedN disk).
    pub(crate) deletes_source: bool,
    #[serde(flatten)]
    pub(crate) task: TaskOutcome,
}

async fn move_disk_handler(ctx: &ToolCtx, p: MoveParams) -> Result<MoveOutput, ToolError> {
    let wait = ctx.wait;
    let storage = p.storage.trim().to_string();
    if storage.is_empty() {
        return Err(ToolError::invalid("storage", "must not be empty"));
    }
    let vmid = p.vmid;
    let (kind, node) = locate(ctx, vmid, p.node).await?;
    if kind == GuestKind::Lxc && p.format.is_some() {
        return Err(ToolError::invalid(
            "format",
            "only VM disks take a format; a container volume keeps its own",
        ));
    }
    let config = ctx
        .client
        .guest_config(&node, kind, vmid, None)
        .await
        .map_err(|e| guest_error(e, vmid, kind))?;
    let (disk, spec) = pick_disk(&config, kind, vmid, p.disk)?;
    let from = volume(&spec).to_string();
    let delete = p.delete_source.unwrap_or(false);
    let spec = DiskMove {
        disk: disk.clone(),
        storage: storage.clone(),
        delete: delete.then_some(true),
        format: p.format.map(|f| f.as_str().to_string()),
        digest: config.digest(),
    };
    let upid = match kind {
        GuestKind::Qemu => ctx.client.qemu_move_disk(&node, vmid, &spec).await,
        GuestKind::Lxc => ctx.client.lxc_move_volume(&node, vmid, &spec).await,
    }?;
    let what = format!("move of {disk} of {} {vmid} to {storage}", kind.noun());
    let task = wait_task(ctx, &upid, wait, &what).await?;
    let moved = if task.is_done() {
        ctx.client
            .guest_config(&node, kind, vmid, None)
            .await
            .ok()
            .and_then(|c| c.get_str(&disk))
            .map(|s| volume(&s).to_string())
    } else {
        None
    };
    Ok(MoveOutput {
        vmid,
        kind: kind.as_str().to_string(),
        node,
        disk,
        from_volume: from,
        storage,
        volume: moved,
        deletes_source: delete,
        task,
    })
}
