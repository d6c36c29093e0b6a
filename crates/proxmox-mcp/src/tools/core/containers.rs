//! Container (LXC) tools: `get_containers`, `start_container`, `stop_container` (graceful by
//! default, hard with force), `restart_container` and `update_container_resources`.

use pve_client::api::guest::{ActionOptions, PowerAction};
use pve_client::{GuestKind, Params};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::guest_list::{self, GuestLine, GuestListParams, GuestPage};
use crate::error::ToolError;
use crate::handler;
use crate::registry::TaskWait;
use crate::registry::lenient;
use crate::registry::{Access, ToolCtx, ToolDef, ToolSpec};
use crate::tools::common::WAIT_FOR_TASK;
use crate::tools::common::{TaskOutcome, guest_error, guest_node, wait_task};
use crate::tools::power::{self, PowerOutput, PowerRequest};

/// The toolset of this file's tools.
const TOOLSET: &str = "core";

/// `get_containers`.
pub(crate) fn get_containers() -> ToolSpec {
    ToolSpec::new(
        ToolDef::new(
            TOOLSET,
            "get_containers",
            "List containers",
            "List containers, 200 a page. Use it to find VMIDs; summary: true for an overview.",
            Access::Read,
            true,
        ),
        handler!(get_containers_handler),
    )
}

/// Output of `get_containers`.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct ContainersOutput {
    pub(crate) containers: Vec<GuestLine>,
    #[serde(flatten)]
    pub(crate) page: GuestPage,
}

async fn get_containers_handler(
    ctx: &ToolCtx,
    p: GuestListParams,
) -> Result<ContainersOutput, ToolError> {
    let (containers, page) = guest_list::list(ctx, GuestKind::Lxc, p).await?;
    Ok(ContainersOutput { containers, page })
}

/// Parameters of `start_container`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CtActionParams {
    /// VMID.
    #[serde(deserialize_with = "lenient::int")]
    pub(crate) vmid: u32,
    /// Accepted but not shown in the schema: found from the VMID when absent.
    #[serde(default)]
    #[schemars(skip)]
    pub(crate) node: Option<String>,
}

/// Parameters of `stop_container` and `restart_container`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CtStopParams {
    /// VMID.
    #[serde(deserialize_with = "lenient::int")]
    pub(crate) vmid: u32,
    /// Accepted but not shown in the schema: found from the VMID when absent.
    #[serde(default)]
    #[schemars(skip)]
    pub(crate) node: Option<String>,
    /// Shutdown timeout (default 60).
    #[serde(default, deserialize_with = "lenient::opt_int")]
    pub(crate) timeout_seconds: Option<u32>,
    /// Stop at once (stop_container).
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    pub(crate) force: Option<bool>,
}

/// `start_container`.
pub(crate) fn start_container() -> ToolSpec {
    ToolSpec::new(
        ToolDef::new(
            TOOLSET,
            "start_container",
            "Start container",
            "Start a container. Use stop_container to stop it.",
            Access::Write,
            true,
        ),
        handler!(start_container_handler),
    )
    .waits(WAIT_FOR_TASK)
}

async fn start_container_handler(
    ctx: &ToolCtx,
    p: CtActionParams,
) -> Result<PowerOutput, ToolError> {
    power::run(
        ctx,
        PowerRequest {
            kind: GuestKind::Lxc,
            vmid: p.vmid,
            node: p.node,
            action: PowerAction::Start,
            options: ActionOptions::default(),
        },
    )
    .await
}

/// `stop_container`.
pub(crate) fn stop_container() -> ToolSpec {
    ToolSpec::new(
        ToolDef::new(
            TOOLSET,
            "stop_container",
            "Stop container",
            "Stop a container: a clean shutdown, or at once with force. Use restart_container to reboot it.",
            Access::Write,
            true,
        ),
        handler!(stop_container_handler),
    )
    .waits(WAIT_FOR_TASK)
}

async fn stop_container_handler(ctx: &ToolCtx, p: CtStopParams) -> Result<PowerOutput, ToolError> {
    let force = p.force == Some(true);
    if force && p.timeout_seconds.is_some() {
        return Err(ToolError::invalid(
            "timeout_seconds",
            "applies to a clean shutdown only; drop it or drop force",
        ));
    }
    let (action, options) = if force {
        (PowerAction::Stop, ActionOptions::default())
    } else {
        (
            PowerAction::Shutdown,
            ActionOptions {
                timeout: p.timeout_seconds,
                ..ActionOptions::default()
            },
        )
    };
    power::run(
        ctx,
        PowerRequest {
            kind: GuestKind::Lxc,
            vmid: p.vmid,
            node: p.node,
            action,
            options,
        },
    )
    .await
}

/// `restart_container`.
pub(crate) fn restart_container() -> ToolSpec {
    ToolSpec::new(
        ToolDef::new(
            TOOLSET,
            "restart_container",
            "Restart container",
            "Reboot a running container cleanly. Use stop_container to stop it.",
            Access::Write,
            false,
        ),
        handler!(restart_container_handler),
    )
    .waits(WAIT_FOR_TASK)
}

async fn restart_container_handler(
    ctx: &ToolCtx,
    p: CtStopParams,
) -> Result<PowerOutput, ToolError> {
    if p.force.is_some() {
        return Err(ToolError::invalid(
            "force",
            "is for stop_container; a restart is always a clean reboot",
        ));
    }
    power::run(
        ctx,
        PowerRequest {
            kind: GuestKind::Lxc,
            vmid: p.vmid,
            node: p.node,
            action: PowerAction::Reboot,
            options: ActionOptions {
                timeout: p.timeout_seconds,
                ..ActionOptions::default()
            },
        },
    )
    .await
}

/// `update_container_resources`.
pub(crate) fn update_container_resources() -> ToolSpec {
    ToolSpec::new(
        ToolDef::new(
            TOOLSET,
            "update_container_resources",
            "Resize container",
            "Change a container's cores, memory or swap (live) or grow its disk. Use it to resize one.",
            Access::Write,
            false,
        ),
        handler!(update_container_resources_handler),
    )
    .waits(TaskWait {
        default_seconds: 20,
        description: "Seconds to wait (default 20).",
    })
}

/// Parameters of `update_container_resources`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UpdateCtParams {
    /// VMID.
    #[serde(deserialize_with = "lenient::int")]
    pub(crate) vmid: u32,
    /// Accepted but not shown in the schema: found from the VMID when absent.
    #[serde(default)]
    #[schemars(skip)]
    pub(crate) node: Option<String>,
    /// CPU cores.
    #[serde(default, deserialize_with = "lenient::opt_int")]
    #[schemars(range(min = 1, max = 8192))]
    pub(crate) cores: Option<u32>,
    /// Memory in MiB.
    #[serde(default, deserialize_with = "lenient::opt_int")]
    #[schemars(range(min = 16))]
    pub(crate) memory_mb: Option<u64>,
    /// Swap in MiB.
    #[serde(default, deserialize_with = "lenient::opt_int")]
    pub(crate) swap_mb: Option<u64>,
    /// GiB to add to the disk.
    #[serde(default, deserialize_with = "lenient::opt_int")]
    #[schemars(range(min = 1))]
    pub(crate) disk_add_gb: Option<u64>,
}

/// Output of `update_container_resources`.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct UpdateCtOutput {
    pub(crate) vmid: u32,
    pub(crate) node: String,
    /// What changed: `cores`, `memory`, `swap`, `rootfs`.
    pub(crate) changed: Vec<String>,
    /// Settings after the change, read back from the container's config.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) cores: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) memory_mb: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) swap_mb: Option<i64>,
    /// The root disk (`local-lvm:vm-200-disk-0,size=12G`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) rootfs: Option<String>,
    /// The disk resize task, when disk_add_gb was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) resize_task: Option<TaskOutcome>,
}

async fn update_container_resources_handler(
    ctx: &ToolCtx,
    p: UpdateCtParams,
) -> Result<UpdateCtOutput, ToolError> {
    let wait = ctx.wait;
    if p.cores.is_none() && p.memory_mb.is_none() && p.swap_mb.is_none() && p.disk_add_gb.is_none()
    {
        return Err(ToolError::InvalidParams {
            param: None,
            message:
                "nothing to change: give at least one of cores, memory_mb, swap_mb, disk_add_gb"
                    .into(),
        });
    }
    if p.cores == Some(0) {
        return Err(ToolError::invalid("cores", "must be at least 1"));
    }
    if p.memory_mb.is_some_and(|m| m < 16) {
        return Err(ToolError::invalid("memory_mb", "must be at least 16 (MiB)"));
    }
    if p.disk_add_gb == Some(0) {
        return Err(ToolError::invalid(
            "disk_add_gb",
            "must be at least 1 (GiB)",
        ));
    }
    let vmid = p.vmid;
    let kind = GuestKind::Lxc;
    let node = guest_node(ctx, vmid, p.node, kind).await?;
    let mut changed = Vec::new();
    let mut changes = Params::new();
    if let Some(c) = p.cores {
        changes = changes.set("cores", c);
        changed.push("cores".to_string());
    }
    if let Some(m) = p.memory_mb {
        changes = changes.set("memory", m);
        changed.push("memory".to_string());
    }
    if let Some(s) = p.swap_mb {
        changes = changes.set("swap", s);
        changed.push("swap".to_string());
    }
    if !changes.is_empty() {
        ctx.client
            .lxc_set_config(&node, vmid, changes)
            .await
            .map_err(|e| guest_error(e, vmid, kind))?;
    }
    let mut resize_task = None;
    if let Some(add) = p.disk_add_gb {
        let upid = ctx
            .client
            .lxc_resize(&node, vmid, "rootfs", &format!("+{add}G"), None)
            .await
            .map_err(|e| guest_error(e, vmid, kind))?;
        changed.push("rootfs".to_string());
        if let Some(upid) = upid {
            let what = format!("resize of CT {vmid} rootfs");
            resize_task = Some(wait_task(ctx, &upid, wait, &what).await?);
        }
    }
    let config = ctx
        .client
        .lxc_config(&node, vmid, None, None)
        .await
        .map_err(|e| guest_error(e, vmid, kind))?;
    Ok(UpdateCtOutput {
        vmid,
        node,
        changed,
        cores: config.get_int("cores"),
        memory_mb: config.get_int("memory"),
        swap_mb: config.get_int("swap"),
        rootfs: config.get_str("rootfs"),
        resize_task,
    })
}
