//! The `power` toolset's VM tools: `reboot_vm` (a clean reboot through the guest OS, in one
//! task), `suspend_vm` (pause the CPUs, or hibernate to disk with `to_disk`) and `resume_vm`.
//! PVE refuses a reboot of a stopped or paused VM and a suspend or resume of a stopped one
//! (a hibernated VM resumes); a resume of a running VM does nothing.

use pve_client::GuestKind;
use pve_client::api::guest::{ActionOptions, PowerAction};
use schemars::JsonSchema;
use serde::Deserialize;

use super::{PowerOutput, PowerRequest, run};
use crate::error::ToolError;
use crate::handler;
use crate::registry::lenient;
use crate::registry::{Access, ToolCtx, ToolDef, ToolSpec};
use crate::tools::common::WAIT_FOR_TASK;

/// The toolset of this file's tools.
const TOOLSET: &str = "power";

/// Parameters of `resume_vm`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct VmParams {
    /// VMID.
    #[serde(deserialize_with = "lenient::int")]
    pub(crate) vmid: u32,
    /// Accepted but not shown in the schema: found from the VMID when absent.
    #[serde(default)]
    #[schemars(skip)]
    pub(crate) node: Option<String>,
}

/// Parameters of `reboot_vm`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RebootVmParams {
    /// VMID.
    #[serde(deserialize_with = "lenient::int")]
    pub(crate) vmid: u32,
    /// Accepted but not shown in the schema: found from the VMID when absent.
    #[serde(default)]
    #[schemars(skip)]
    pub(crate) node: Option<String>,
    /// Seconds the guest may take to shut down before the reboot fails.
    #[serde(default, deserialize_with = "lenient::opt_int")]
    pub(crate) timeout_seconds: Option<u32>,
}

/// Parameters of `suspend_vm`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SuspendVmParams {
    /// VMID.
    #[serde(deserialize_with = "lenient::int")]
    pub(crate) vmid: u32,
    /// Accepted but not shown in the schema: found from the VMID when absent.
    #[serde(default)]
    #[schemars(skip)]
    pub(crate) node: Option<String>,
    /// Hibernate: save RAM to disk and stop (resume_vm or start_vm brings it back).
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    pub(crate) to_disk: Option<bool>,
}

/// `reboot_vm`.
pub(crate) fn reboot_vm() -> ToolSpec {
    ToolSpec::new(
        ToolDef::new(
            TOOLSET,
            "reboot_vm",
            "Reboot VM",
            "Reboot a running VM cleanly through its OS, in one call. Use reset_vm only if it hangs.",
            Access::Write,
            false,
        ),
        handler!(reboot_vm_handler),
    )
    .waits(WAIT_FOR_TASK)
}

async fn reboot_vm_handler(ctx: &ToolCtx, p: RebootVmParams) -> Result<PowerOutput, ToolError> {
    let options = ActionOptions {
        timeout: p.timeout_seconds,
        ..ActionOptions::default()
    };
    vm_action(ctx, p.vmid, p.node, PowerAction::Reboot, options).await
}

/// `suspend_vm`.
pub(crate) fn suspend_vm() -> ToolSpec {
    ToolSpec::new(
        ToolDef::new(
            TOOLSET,
            "suspend_vm",
            "Suspend VM",
            "Pause a running VM (or hibernate it to disk). Use resume_vm to continue it.",
            Access::Write,
            true,
        ),
        handler!(suspend_vm_handler),
    )
    .waits(WAIT_FOR_TASK)
}

async fn suspend_vm_handler(ctx: &ToolCtx, p: SuspendVmParams) -> Result<PowerOutput, ToolError> {
    let options = ActionOptions {
        todisk: p.to_disk.filter(|d| *d),
        ..ActionOptions::default()
    };
    vm_action(ctx, p.vmid, p.node, PowerAction::Suspend, options).await
}

/// `resume_vm`.
pub(crate) fn resume_vm() -> ToolSpec {
    ToolSpec::new(
        ToolDef::new(
            TOOLSET,
            "resume_vm",
            "Resume VM",
            "Resume a VM paused or hibernated by suspend_vm. Use start_vm for a stopped one.",
            Access::Write,
            true,
        ),
        handler!(resume_vm_handler),
    )
    .waits(WAIT_FOR_TASK)
}

async fn resume_vm_handler(ctx: &ToolCtx, p: VmParams) -> Result<PowerOutput, ToolError> {
    vm_action(
        ctx,
        p.vmid,
        p.node,
        PowerAction::Resume,
        ActionOptions::default(),
    )
    .await
}

async fn vm_action(
    ctx: &ToolCtx,
    vmid: u32,
    node: Option<String>,
    action: PowerAction,
    options: ActionOptions,
) -> Result<PowerOutput, ToolError> {
    run(
        ctx,
        PowerRequest {
            kind: GuestKind::Qemu,
            vmid,
            node,
            action,
            options,
        },
    )
    .await
}
