//! VM power tools: `start_vm`, `stop_vm` (hard stop), `shutdown_vm` (ACPI, with a timeout) and
//! `reset_vm`. Each waits a bounded time for its task (see `common::wait_task`).

use pve_client::GuestKind;
use pve_client::api::guest::{ActionOptions, PowerAction};
use schemars::JsonSchema;
use serde::Deserialize;

use crate::error::ToolError;
use crate::handler;
use crate::registry::lenient;
use crate::registry::{Access, ToolCtx, ToolDef, ToolSpec};
use crate::tools::common::WAIT_FOR_TASK;
use crate::tools::power::{self, PowerOutput, PowerRequest};

/// Parameters of `start_vm`, `stop_vm` and `reset_vm`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct VmActionParams {
    /// VMID.
    #[serde(deserialize_with = "lenient::int")]
    pub(crate) vmid: u32,
    /// Accepted but not shown in the schema: found from the VMID when absent.
    #[serde(default)]
    #[schemars(skip)]
    pub(crate) node: Option<String>,
}

/// Parameters of `shutdown_vm`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ShutdownVmParams {
    /// VMID.
    #[serde(deserialize_with = "lenient::int")]
    pub(crate) vmid: u32,
    /// Accepted but not shown in the schema: found from the VMID when absent.
    #[serde(default)]
    #[schemars(skip)]
    pub(crate) node: Option<String>,
    /// Shutdown timeout (default 180).
    #[serde(default, deserialize_with = "lenient::opt_int")]
    pub(crate) timeout_seconds: Option<u32>,
}

/// The toolset of this file's tools.
const TOOLSET: &str = "core";

/// `start_vm`.
pub(crate) fn start_vm() -> ToolSpec {
    ToolSpec::new(
        ToolDef::new(
            TOOLSET,
            "start_vm",
            "Start VM",
            "Start a VM. Use shutdown_vm to stop it cleanly.",
            Access::Write,
            true,
        ),
        handler!(start_vm_handler),
    )
    .waits(WAIT_FOR_TASK)
}

async fn start_vm_handler(ctx: &ToolCtx, p: VmActionParams) -> Result<PowerOutput, ToolError> {
    action(ctx, p, PowerAction::Start).await
}

/// `stop_vm`.
pub(crate) fn stop_vm() -> ToolSpec {
    ToolSpec::new(
        ToolDef::new(
            TOOLSET,
            "stop_vm",
            "Stop VM (hard)",
            "Power a VM off at once (unsaved guest data is lost). Use shutdown_vm for a clean stop.",
            Access::Destructive,
            true,
        ),
        handler!(stop_vm_handler),
    ).waits(WAIT_FOR_TASK)
}

async fn stop_vm_handler(ctx: &ToolCtx, p: VmActionParams) -> Result<PowerOutput, ToolError> {
    action(ctx, p, PowerAction::Stop).await
}

/// `reset_vm`.
pub(crate) fn reset_vm() -> ToolSpec {
    ToolSpec::new(
        ToolDef::new(
            TOOLSET,
            "reset_vm",
            "Reset VM",
            "Hard-reset a running VM (no clean shutdown). Use it when it hangs, else shutdown_vm.",
            Access::Destructive,
            false,
        ),
        handler!(reset_vm_handler),
    )
    .waits(WAIT_FOR_TASK)
}

async fn reset_vm_handler(ctx: &ToolCtx, p: VmActionParams) -> Result<PowerOutput, ToolError> {
    action(ctx, p, PowerAction::Reset).await
}

async fn action(
    ctx: &ToolCtx,
    p: VmActionParams,
    action: PowerAction,
) -> Result<PowerOutput, ToolError> {
    power::run(
        ctx,
        PowerRequest {
            kind: GuestKind::Qemu,
            vmid: p.vmid,
            node: p.node,
            action,
            options: ActionOptions::default(),
        },
    )
    .await
}

/// `shutdown_vm`.
pub(crate) fn shutdown_vm() -> ToolSpec {
    ToolSpec::new(
        ToolDef::new(
            TOOLSET,
            "shutdown_vm",
            "Shut down VM",
            "Shut a VM down cleanly through its OS. Use stop_vm only when it hangs.",
            Access::Write,
            true,
        ),
        handler!(shutdown_vm_handler),
    )
    .waits(WAIT_FOR_TASK)
}

async fn shutdown_vm_handler(ctx: &ToolCtx, p: ShutdownVmParams) -> Result<PowerOutput, ToolError> {
    power::run(
        ctx,
        PowerRequest {
            kind: GuestKind::Qemu,
            vmid: p.vmid,
            node: p.node,
            action: PowerAction::Shutdown,
            options: ActionOptions {
                timeout: p.timeout_seconds,
                ..ActionOptions::default()
            },
        },
    )
    .await
}
