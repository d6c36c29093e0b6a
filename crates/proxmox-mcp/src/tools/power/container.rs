//! The `power` toolset's container tools: `suspend_container` (freeze its processes) and
//! `resume_container`. PVE marks container suspend experimental; it refuses both on a stopped
//! container. A container's reboot is core's `restart_container`.

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

/// Parameters of `suspend_container` and `resume_container`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CtParams {
    /// VMID.
    #[serde(deserialize_with = "lenient::int")]
    pub(crate) vmid: u32,
    /// Accepted but not shown in the schema: found from the VMID when absent.
    #[serde(default)]
    #[schemars(skip)]
    pub(crate) node: Option<String>,
}

/// `suspend_container`.
pub(crate) fn suspend_container() -> ToolSpec {
    ToolSpec::new(
        ToolDef::new(
            TOOLSET,
            "suspend_container",
            "Suspend container",
            "Freeze a running container (experimental in PVE). Use resume_container to continue it.",
            Access::Write,
            true,
        ),
        handler!(suspend_container_handler),
    )
    .waits(WAIT_FOR_TASK)
}

async fn suspend_container_handler(ctx: &ToolCtx, p: CtParams) -> Result<PowerOutput, ToolError> {
    ct_action(ctx, p, PowerAction::Suspend).await
}

/// `resume_container`.
pub(crate) fn resume_container() -> ToolSpec {
    ToolSpec::new(
        ToolDef::new(
            TOOLSET,
            "resume_container",
            "Resume container",
            "Resume a container frozen by suspend_container. Use start_container for a stopped one.",
            Access::Write,
            true,
        ),
        handler!(resume_container_handler),
    )
    .waits(WAIT_FOR_TASK)
}

async fn resume_container_handler(ctx: &ToolCtx, p: CtParams) -> Result<PowerOutput, ToolError> {
    ct_action(ctx, p, PowerAction::Resume).await
}

async fn ct_action(
    ctx: &ToolCtx,
    p: CtParams,
    action: PowerAction,
) -> Result<PowerOutput, ToolError> {
    run(
        ctx,
        PowerRequest {
            kind: GuestKind::Lxc,
            vmid: p.vmid,
            node: p.node,
            action,
            options: ActionOptions::default(),
        },
    )
    .await
}
