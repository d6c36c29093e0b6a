//! The power-action machinery shared by the VM and container tools: find the node, start the
//! action's task, wait a bounded time, read the guest's state once the task is done. Its
//! submodules are the `power` toolset (off by default): reboot, suspend and resume of VMs
//! (`vm.rs`) and suspend and resume of containers (`container.rs`; their reboot is core's
//! `restart_container`).

mod container;
mod vm;

pub(super) use container::{resume_container, suspend_container};
pub(super) use vm::{reboot_vm, resume_vm, suspend_vm};

use pve_client::GuestKind;
use pve_client::api::guest::{ActionOptions, PowerAction};
use schemars::JsonSchema;
use serde::Serialize;

use super::common::{TaskOutcome, guest_error, guest_node, wait_task};
use crate::error::ToolError;
use crate::registry::ToolCtx;

/// Result of a power action.
#[derive(Debug, Serialize, JsonSchema)]
pub(super) struct PowerOutput {
    pub(crate) vmid: u32,
    pub(crate) node: String,
    /// `start`, `stop`, `shutdown`, `reset`, `reboot`, `suspend` or `resume`.
    pub(crate) action: String,
    /// The guest's power state once the task finished (`running`, `stopped`; `paused` for a
    /// suspended VM).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) guest_status: Option<String>,
    #[serde(flatten)]
    pub(crate) task: TaskOutcome,
}

/// What to run.
#[derive(Debug)]
pub(super) struct PowerRequest {
    pub(crate) kind: GuestKind,
    pub(crate) vmid: u32,
    pub(crate) node: Option<String>,
    pub(crate) action: PowerAction,
    pub(crate) options: ActionOptions,
}

/// Runs a power action and waits for it (bounded).
pub(super) async fn run(ctx: &ToolCtx, req: PowerRequest) -> Result<PowerOutput, ToolError> {
    let wait = ctx.wait;
    let node = guest_node(ctx, req.vmid, req.node, req.kind).await?;
    let upid = ctx
        .client
        .guest_action(&node, req.kind, req.vmid, req.action, &req.options)
        .await
        .map_err(|e| guest_error(e, req.vmid, req.kind))?;
    let what = format!(
        "{} of {} {}",
        req.action.as_str(),
        req.kind.noun(),
        req.vmid
    );
    let task = wait_task(ctx, &upid, wait, &what).await?;
    let guest_status = if task.is_done() {
        guest_status(ctx, req.kind, &node, req.vmid).await.ok()
    } else {
        None
    };
    Ok(PowerOutput {
        vmid: req.vmid,
        node,
        action: req.action.as_str().to_string(),
        guest_status,
        task,
    })
}

/// `running` or `stopped`; for a running VM whose CPUs QEMU holds, its QMP state (`paused`).
pub(super) async fn guest_status(
    ctx: &ToolCtx,
    kind: GuestKind,
    node: &str,
    vmid: u32,
) -> Result<String, ToolError> {
    let status = match kind {
        GuestKind::Qemu => ctx.client.qemu_status(node, vmid).await.map(|s| {
            match s
                .qmpstatus
                .filter(|q| s.status == "running" && q != "running")
            {
                Some(qmp) => qmp,
                None => s.status,
            }
        }),
        GuestKind::Lxc => ctx
            .client
            .lxc_status(node, vmid)
            .await
            .map(|s| s.summary.status),
    };
    status.map_err(|e| guest_error(e, vmid, kind))
}
