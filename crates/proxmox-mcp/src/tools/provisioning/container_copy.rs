//! Container copies (toolset `provisioning`): `clone_container` (full, or linked from a
//! template, as PVE allows; a running container only from a snapshot) and
//! `convert_container_to_template` (irreversible; the container must be stopped).

use pve_client::GuestKind;
use pve_client::api::lxc::LxcClone;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{TOOLSET, is_dns_name, new_vmid};
use crate::error::ToolError;
use crate::handler;
use crate::registry::TaskWait;
use crate::registry::lenient;
use crate::registry::{Access, ToolCtx, ToolDef, ToolSpec};
use crate::tools::common::trimmed;
use crate::tools::common::{TaskOutcome, guest_error, guest_node, wait_task};

const KIND: GuestKind = GuestKind::Lxc;

/// `clone_container`.
pub(crate) fn clone_container() -> ToolSpec {
    ToolSpec::new(
        ToolDef {
            name: "clone_container",
            title: "Clone container",
            description: "Copy a container or template into a new container: full, or linked from a template. Use create_container to start from a template volume.",
            toolset: TOOLSET,
            access: Access::Write,
            idempotent: false,
        },
        handler!(clone_container_handler),
    )
    .waits(TaskWait {
        default_seconds: 20,
        description: "Seconds to wait for the clone (default 20).",
    })
}

/// Parameters of `clone_container`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct CloneCtParams {
    /// VMID of the container or template to copy.
    #[serde(deserialize_with = "lenient::int")]
    pub(crate) vmid: u32,
    /// Accepted but not shown in the schema: found from the VMID when absent.
    #[serde(default)]
    #[schemars(skip)]
    pub(crate) node: Option<String>,
    /// VMID (default: next free).
    #[serde(default, deserialize_with = "lenient::opt_int")]
    #[schemars(range(min = 100, max = 999_999_999))]
    pub(crate) newid: Option<u32>,
    /// Hostname (a DNS name).
    #[serde(default)]
    pub(crate) hostname: Option<String>,
    /// Full copy (default: linked from a template, else full).
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    pub(crate) full: Option<bool>,
    /// Node for the copy (default: the source's).
    #[serde(default)]
    pub(crate) target_node: Option<String>,
    /// Storage; full copies only.
    #[serde(default)]
    pub(crate) storage: Option<String>,
    /// Snapshot to copy (needed if the source runs).
    #[serde(default)]
    pub(crate) snapshot: Option<String>,
    /// Notes of the new container.
    #[serde(default)]
    pub(crate) description: Option<String>,
}

/// Output of `clone_container`.
#[derive(Debug, Serialize, JsonSchema)]
pub(super) struct CloneCtOutput {
    /// VMID of the new container.
    pub(crate) vmid: u32,
    /// Node of the new container.
    pub(crate) node: String,
    /// Hostname of the new container, when given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) hostname: Option<String>,
    /// The container or template copied.
    pub(crate) source_vmid: u32,
    /// True for a full copy, false for a linked clone.
    pub(crate) full: bool,
    #[serde(flatten)]
    pub(crate) task: TaskOutcome,
}

async fn clone_container_handler(
    ctx: &ToolCtx,
    p: CloneCtParams,
) -> Result<CloneCtOutput, ToolError> {
    let vmid = p.vmid;
    let hostname = trimmed(p.hostname);
    if let Some(h) = &hostname
        && !is_dns_name(h)
    {
        return Err(ToolError::invalid(
            "hostname",
            "must be a DNS name: letters, digits, `-` and `.`",
        ));
    }
    let storage = trimmed(p.storage);
    let target = trimmed(p.target_node);
    let node = guest_node(ctx, vmid, p.node, KIND).await?;
    let source = ctx
        .client
        .lxc_config(&node, vmid, None, None)
        .await
        .map_err(|e| guest_error(e, vmid, KIND))?;
    let is_template = source.flag("template");
    let full = p.full.unwrap_or(!is_template);
    if !full && !is_template {
        return Err(ToolError::invalid(
            "full",
            format!(
                "a linked clone needs a template source and CT {vmid} is not one: use full: \
                 true, or convert_container_to_template first"
            ),
        ));
    }
    if !full && storage.is_some() {
        return Err(ToolError::invalid(
            "storage",
            "applies to full clones only (a linked clone stays on the template's storage)",
        ));
    }
    let newid = new_vmid(ctx, p.newid, "newid").await?;
    let spec = LxcClone {
        newid,
        hostname: hostname.clone(),
        description: p.description.filter(|d| !d.trim().is_empty()),
        target: target.clone().filter(|t| *t != node),
        full: Some(full),
        storage,
        snapname: trimmed(p.snapshot),
        ..LxcClone::default()
    };
    let upid = ctx
        .client
        .lxc_clone(&node, vmid, &spec)
        .await
        .map_err(|e| clone_error(e, vmid))?;
    let what = format!("clone of CT {vmid} to {newid}");
    let task = wait_task(ctx, &upid, ctx.wait, &what).await?;
    Ok(CloneCtOutput {
        vmid: newid,
        node: target.unwrap_or(node),
        hostname,
        source_vmid: vmid,
        full,
        task,
    })
}

/// A clone refusal with what would work (PVE's words kept).
fn clone_error(e: pve_client::Error, vmid: u32) -> ToolError {
    let msg = e.message().to_string();
    let hint = if msg.contains("without snapshot") {
        Some("stop it first, or give snapshot (list_snapshots, create_snapshot)")
    } else if msg.contains("is on local storage") {
        Some("give storage (a storage on the target node), or clone on the same node")
    } else {
        None
    };
    match hint {
        Some(h) => ToolError::Pve {
            status: e.status(),
            message: format!("{msg}: {h}"),
        },
        None => guest_error(e, vmid, KIND),
    }
}

/// `convert_container_to_template`.
pub(crate) fn convert_container_to_template() -> ToolSpec {
    ToolSpec::new(
        ToolDef {
            name: "convert_container_to_template",
            title: "Convert container to template",
            description: "Turn a stopped container without snapshots into a template for good (a read-only base for clone_container). Use it before cloning many copies.",
            toolset: TOOLSET,
            access: Access::Destructive,
            idempotent: false,
        },
        handler!(convert_container_to_template_handler),
    )
}

/// Parameters of `convert_container_to_template`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct CtTemplateParams {
    /// VMID of the container to convert.
    #[serde(deserialize_with = "lenient::int")]
    pub(crate) vmid: u32,
    /// Accepted but not shown in the schema: found from the VMID when absent.
    #[serde(default)]
    #[schemars(skip)]
    pub(crate) node: Option<String>,
}

/// Output of `convert_container_to_template`.
#[derive(Debug, Serialize, JsonSchema)]
pub(super) struct CtTemplateOutput {
    pub(crate) vmid: u32,
    pub(crate) node: String,
    /// True once converted (read back from the config).
    pub(crate) template: bool,
}

async fn convert_container_to_template_handler(
    ctx: &ToolCtx,
    p: CtTemplateParams,
) -> Result<CtTemplateOutput, ToolError> {
    let vmid = p.vmid;
    let node = guest_node(ctx, vmid, p.node, KIND).await?;
    ctx.client
        .lxc_template(&node, vmid)
        .await
        .map_err(|e| template_error(e, vmid))?;
    let config = ctx
        .client
        .lxc_config(&node, vmid, None, None)
        .await
        .map_err(|e| guest_error(e, vmid, KIND))?;
    Ok(CtTemplateOutput {
        vmid,
        node,
        template: config.flag("template"),
    })
}

/// A conversion refusal with what to do (PVE's words kept).
fn template_error(e: pve_client::Error, vmid: u32) -> ToolError {
    let msg = e.message().to_string();
    let hint = if msg.contains("is running") {
        Some("stop it first (stop_container)")
    } else if msg.contains("contains snapshots") {
        Some("delete its snapshots first (list_snapshots, delete_snapshot)")
    } else {
        None
    };
    match hint {
        Some(h) => ToolError::Pve {
            status: e.status(),
            message: format!("{msg}: {h}"),
        },
        None => guest_error(e, vmid, KIND),
    }
}
