//! Clone and templates (toolset `provisioning`): `clone_vm` (full or linked, as PVE: a linked
//! clone needs a template source), `convert_to_template` (irreversible) and, in
//! `from_template.rs`, `create_vm_from_template` (a clone plus cloud-init settings).
//! Containers of the same toolset are in `containers.rs` (create, delete, config) and
//! `container_copy.rs` (clone, template).

mod container_copy;
mod containers;
mod from_template;

pub(crate) use container_copy::{clone_container, convert_container_to_template};
pub(crate) use containers::{create_container, delete_container, get_container_config};
pub(crate) use from_template::create_vm_from_template;
pub(crate) use from_template::{SshKeys, check_public_keys, ipconfig, url_encode};

use pve_client::api::guest::GuestConfig;
use pve_client::api::qemu::QemuClone;
use pve_client::{ErrorKind, GuestKind};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::common::{TaskOutcome, guest_error, guest_node, wait_task};
use crate::error::ToolError;
use crate::handler;
use crate::registry::TaskWait;
use crate::registry::lenient;
use crate::registry::{Access, ToolCtx, ToolDef, ToolSpec};
use crate::tools::common::{WAIT_FOR_TASK, trimmed};

/// The toolset of these tools.
pub(super) const TOOLSET: &str = "provisioning";
const KIND: GuestKind = GuestKind::Qemu;

/// `clone_vm`.
pub(super) fn clone_vm() -> ToolSpec {
    ToolSpec::new(
        ToolDef {
            name: "clone_vm",
            title: "Clone VM",
            description: "Copy a VM or template into a new VM: a full copy, or a linked clone of a template (fast, small). Use create_vm_from_template to also set cloud-init, create_vm for an empty VM.",
            toolset: TOOLSET,
            access: Access::Write,
            idempotent: false,
        },
        handler!(clone_vm_handler),
    )
    .waits(TaskWait {
        default_seconds: 20,
        description: "Seconds to wait for the clone (default 20).",
    })
}

/// Parameters of `clone_vm`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct CloneVmParams {
    /// VMID of the VM or template to copy.
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
    /// Name (a DNS name).
    #[serde(default)]
    pub(crate) name: Option<String>,
    /// Full copy (default: linked from a template, else full).
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    pub(crate) full: Option<bool>,
    /// Node for the copy (default: the source's).
    #[serde(default)]
    pub(crate) target_node: Option<String>,
    /// Disk storage; full copies only (default: the source's).
    #[serde(default)]
    pub(crate) storage: Option<String>,
    /// Notes of the new VM.
    #[serde(default)]
    pub(crate) description: Option<String>,
}

/// Output of `clone_vm`.
#[derive(Debug, Serialize, JsonSchema)]
pub(super) struct CloneVmOutput {
    /// VMID of the new VM.
    pub(crate) vmid: u32,
    /// Node of the new VM.
    pub(crate) node: String,
    /// Name of the new VM, when given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) name: Option<String>,
    /// The VM or template copied.
    pub(crate) source_vmid: u32,
    /// True for a full copy, false for a linked clone.
    pub(crate) full: bool,
    #[serde(flatten)]
    pub(crate) task: TaskOutcome,
}

async fn clone_vm_handler(ctx: &ToolCtx, p: CloneVmParams) -> Result<CloneVmOutput, ToolError> {
    let wait = ctx.wait;
    let req = CloneRequest {
        vmid: p.vmid,
        node: p.node,
        newid: p.newid,
        name: p.name,
        full: p.full,
        target_node: p.target_node,
        storage: p.storage,
        description: p.description,
        need_template: false,
    };
    let started = start_clone(ctx, req).await?;
    let what = format!("clone of VM {} to {}", p.vmid, started.vmid);
    let task = wait_task(ctx, &started.upid, wait, &what).await?;
    Ok(CloneVmOutput {
        vmid: started.vmid,
        node: started.node,
        name: started.name,
        source_vmid: p.vmid,
        full: started.full,
        task,
    })
}

/// What a clone needs; shared by `clone_vm` and `create_vm_from_template`.
pub(crate) struct CloneRequest {
    pub(crate) vmid: u32,
    pub(crate) node: Option<String>,
    pub(crate) newid: Option<u32>,
    pub(crate) name: Option<String>,
    pub(crate) full: Option<bool>,
    pub(crate) target_node: Option<String>,
    pub(crate) storage: Option<String>,
    pub(crate) description: Option<String>,
    /// Refuse a source that is not a template (create_vm_from_template).
    pub(crate) need_template: bool,
}

/// A clone task started.
pub(crate) struct StartedClone {
    pub(crate) vmid: u32,
    pub(crate) node: String,
    pub(crate) name: Option<String>,
    pub(crate) full: bool,
    pub(crate) upid: pve_client::Upid,
    /// The source's config (cloud-init drive, cores...).
    pub(crate) source: GuestConfig,
}

/// Checks a clone request (template rules as PVE), picks the VMID and starts the clone.
pub(crate) async fn start_clone(ctx: &ToolCtx, r: CloneRequest) -> Result<StartedClone, ToolError> {
    let name = trimmed(r.name);
    if let Some(n) = &name
        && !is_dns_name(n)
    {
        return Err(ToolError::invalid(
            "name",
            "must be a DNS name: letters, digits, `-` and `.`",
        ));
    }
    let target = trimmed(r.target_node);
    let storage = trimmed(r.storage);
    let node = guest_node(ctx, r.vmid, r.node, KIND).await?;
    let source = ctx
        .client
        .qemu_config(&node, r.vmid, None, None)
        .await
        .map_err(|e| guest_error(e, r.vmid, KIND))?;
    let is_template = source.flag("template");
    if r.need_template && !is_template {
        return Err(ToolError::invalid(
            "template_vmid",
            format!(
                "VM {} is not a template: use clone_vm to copy a VM, or convert_to_template first",
                r.vmid
            ),
        ));
    }
    let full = r.full.unwrap_or(!is_template);
    if !full && !is_template {
        return Err(ToolError::invalid(
            "full",
            format!(
                "a linked clone needs a template source and VM {} is not one: use full: true, \
                 or convert_to_template first",
                r.vmid
            ),
        ));
    }
    if !full && storage.is_some() {
        return Err(ToolError::invalid(
            "storage",
            "applies to full clones only (a linked clone stays on the template's storage)",
        ));
    }
    let newid = new_vmid(ctx, r.newid, "newid").await?;
    let spec = QemuClone {
        newid,
        name: name.clone(),
        description: r.description.filter(|d| !d.trim().is_empty()),
        target: target.clone().filter(|t| *t != node),
        full: Some(full),
        storage,
        ..QemuClone::default()
    };
    let upid = ctx
        .client
        .qemu_clone(&node, r.vmid, &spec)
        .await
        .map_err(|e| clone_error(e, r.vmid))?;
    Ok(StartedClone {
        vmid: newid,
        node: target.unwrap_or(node),
        name,
        full,
        upid,
        source,
    })
}

/// A clone refusal; PVE's "linked clone not supported" (a storage without snapshots of base
/// volumes, such as plain LVM) says what would work.
fn clone_error(e: pve_client::Error, vmid: u32) -> ToolError {
    if e.message()
        .contains("Linked clone feature is not supported")
    {
        return ToolError::Pve {
            status: e.status(),
            message: format!(
                "{}: the template's storage cannot make linked clones; use full: true",
                e.message()
            ),
        };
    }
    guest_error(e, vmid, KIND)
}

/// `wanted` checked as free, or the next free VMID.
pub(crate) async fn new_vmid(
    ctx: &ToolCtx,
    wanted: Option<u32>,
    param: &str,
) -> Result<u32, ToolError> {
    match wanted {
        Some(v) => ctx.client.next_id(Some(v)).await.map_err(|e| {
            if e.kind() == ErrorKind::Params {
                ToolError::invalid(param, format!("VMID {v} is already in use ({e})"))
            } else {
                e.into()
            }
        }),
        None => Ok(ctx.client.next_id(None).await?),
    }
}

/// A DNS name as PVE's `dns-name` format accepts it.
pub(crate) fn is_dns_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// `convert_to_template`.
pub(super) fn convert_to_template() -> ToolSpec {
    ToolSpec::new(
        ToolDef {
            name: "convert_to_template",
            title: "Convert VM to template",
            description: "Turn a stopped VM without snapshots into a template for good (a read-only base for clones). Use it before cloning many copies.",
            toolset: TOOLSET,
            access: Access::Destructive,
            idempotent: false,
        },
        handler!(convert_to_template_handler),
    )
    .waits(WAIT_FOR_TASK)
}

/// Parameters of `convert_to_template`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct TemplateParams {
    /// VMID of the VM to convert.
    #[serde(deserialize_with = "lenient::int")]
    pub(crate) vmid: u32,
    /// Accepted but not shown in the schema: found from the VMID when absent.
    #[serde(default)]
    #[schemars(skip)]
    pub(crate) node: Option<String>,
}

/// Output of `convert_to_template`.
#[derive(Debug, Serialize, JsonSchema)]
pub(super) struct TemplateOutput {
    pub(crate) vmid: u32,
    pub(crate) node: String,
    /// True once the conversion finished.
    pub(crate) template: bool,
    #[serde(flatten)]
    pub(crate) task: TaskOutcome,
}

async fn convert_to_template_handler(
    ctx: &ToolCtx,
    p: TemplateParams,
) -> Result<TemplateOutput, ToolError> {
    let wait = ctx.wait;
    let vmid = p.vmid;
    let node = guest_node(ctx, vmid, p.node, KIND).await?;
    let upid = ctx
        .client
        .qemu_template(&node, vmid, None)
        .await
        .map_err(|e| guest_error(e, vmid, KIND))?;
    let what = format!("conversion of VM {vmid} to a template");
    let task = wait_task(ctx, &upid, wait, &what).await?;
    Ok(TemplateOutput {
        vmid,
        node,
        template: task.is_done(),
        task,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_names() {
        for ok in ["web-04", "a.example.org", "x1"] {
            assert!(is_dns_name(ok), "{ok}");
        }
        for bad in ["", "-a", "a-", "a..b", "web_04", "a b"] {
            assert!(!is_dns_name(bad), "{bad}");
        }
    }
}
