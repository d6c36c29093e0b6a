//! VM tools: `get_vms` (list), `create_vm` and `delete_vm`.

use pve_client::api::guest::{ActionOptions, DeleteOptions, PowerAction};
use pve_client::api::qemu::QemuCreate;
use pve_client::api::storage::NodeStorageQuery;
use pve_client::{ErrorKind, GuestKind, Params};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::guest_list::{self, GuestLine, GuestListParams, GuestPage};
use crate::error::ToolError;
use crate::handler;
use crate::registry::TaskWait;
use crate::registry::lenient;
use crate::registry::{Access, ToolCtx, ToolDef, ToolSpec};
use crate::tools::common::WAIT_FOR_TASK;
use crate::tools::common::{TaskOutcome, guest_error, guest_node, is_false, wait_task};
use crate::tools::power::guest_status;

/// `get_vms`.
pub(crate) fn get_vms() -> ToolSpec {
    ToolSpec::new(
        ToolDef {
            name: "get_vms",
            title: "List VMs",
            description: "List VMs, 200 a page. Use it to find VMIDs; summary: true for an overview.",
            toolset: "core",
            access: Access::Read,
            idempotent: true,
        },
        handler!(get_vms_handler),
    )
}

/// Output of `get_vms`.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct VmsOutput {
    pub(crate) vms: Vec<GuestLine>,
    #[serde(flatten)]
    pub(crate) page: GuestPage,
}

async fn get_vms_handler(ctx: &ToolCtx, p: GuestListParams) -> Result<VmsOutput, ToolError> {
    let (vms, page) = guest_list::list(ctx, GuestKind::Qemu, p).await?;
    Ok(VmsOutput { vms, page })
}

/// `create_vm`.
pub(crate) fn create_vm() -> ToolSpec {
    ToolSpec::new(
        ToolDef {
            name: "create_vm",
            title: "Create VM",
            description: "Create an empty VM; VMID, node and storage are picked when absent. Use clone_vm or create_vm_from_template for an image.",
            toolset: "core",
            access: Access::Write,
            idempotent: false,
        },
        handler!(create_vm_handler),
    ).waits(WAIT_FOR_TASK)
}

/// Parameters of `create_vm`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateVmParams {
    /// VM name.
    pub(crate) name: String,
    /// CPU cores.
    #[serde(deserialize_with = "lenient::int")]
    #[schemars(range(min = 1, max = 512))]
    pub(crate) cores: u32,
    /// Memory in MiB.
    #[serde(deserialize_with = "lenient::int")]
    #[schemars(range(min = 16))]
    pub(crate) memory_mb: u64,
    /// Disk size in GiB.
    #[serde(deserialize_with = "lenient::int")]
    #[schemars(range(min = 1))]
    pub(crate) disk_gb: u64,
    /// Node (default: most free memory).
    #[serde(default)]
    pub(crate) node: Option<String>,
    /// VMID (default: next free).
    #[serde(default, deserialize_with = "lenient::opt_int")]
    #[schemars(range(min = 100, max = 999_999_999))]
    pub(crate) vmid: Option<u32>,
    /// Disk storage (default: most free).
    #[serde(default)]
    pub(crate) storage: Option<String>,
    /// OS type (default l26).
    #[serde(default)]
    pub(crate) ostype: Option<String>,
    /// Bridge (default vmbr0).
    #[serde(default)]
    pub(crate) bridge: Option<String>,
    /// ISO volume to attach.
    #[serde(default)]
    pub(crate) iso: Option<String>,
    /// Start it.
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    pub(crate) start: Option<bool>,
}

/// Output of `create_vm`.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct CreateVmOutput {
    pub(crate) vmid: u32,
    pub(crate) node: String,
    pub(crate) name: String,
    /// Storage holding the disk.
    pub(crate) storage: String,
    /// The VM's power state once created (`stopped`, or `running` with start: true).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) guest_status: Option<String>,
    #[serde(flatten)]
    pub(crate) task: TaskOutcome,
}

async fn create_vm_handler(ctx: &ToolCtx, p: CreateVmParams) -> Result<CreateVmOutput, ToolError> {
    let wait = ctx.wait;
    let name = p.name.trim().to_string();
    if name.is_empty() {
        return Err(ToolError::invalid("name", "must not be empty"));
    }
    if p.cores == 0 {
        return Err(ToolError::invalid("cores", "must be at least 1"));
    }
    if p.memory_mb < 16 {
        return Err(ToolError::invalid("memory_mb", "must be at least 16 (MiB)"));
    }
    if p.disk_gb == 0 {
        return Err(ToolError::invalid("disk_gb", "must be at least 1 (GiB)"));
    }
    let node = match p.node.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
        Some(n) => n.to_string(),
        None => pick_node(ctx).await?,
    };
    let vmid = match p.vmid {
        Some(v) => ctx.client.next_id(Some(v)).await.map_err(|e| {
            if e.kind() == ErrorKind::Params {
                ToolError::invalid("vmid", format!("VMID {v} is already in use ({e})"))
            } else {
                e.into()
            }
        })?,
        None => ctx.client.next_id(None).await?,
    };
    let storage = match p
        .storage
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        Some(s) => s.to_string(),
        None => pick_storage(ctx, &node).await?,
    };
    let bridge = p.bridge.as_deref().unwrap_or("vmbr0");
    let mut extra = Params::new()
        .set("scsi0", format!("{storage}:{},iothread=1", p.disk_gb))
        .set("net0", format!("virtio,bridge={bridge}"));
    let boot = match p.iso.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(iso) => {
            extra = extra.set("ide2", format!("{iso},media=cdrom"));
            "order=scsi0;ide2;net0"
        }
        None => "order=scsi0;net0",
    };
    extra = extra.set("boot", boot);
    let spec = QemuCreate {
        vmid,
        name: Some(name.clone()),
        memory: Some(p.memory_mb),
        cores: Some(p.cores),
        sockets: Some(1),
        ostype: Some(p.ostype.unwrap_or_else(|| "l26".into())),
        scsihw: Some("virtio-scsi-single".into()),
        agent: Some("1".into()),
        start: p.start.filter(|s| *s),
        extra,
        ..QemuCreate::default()
    };
    let upid = ctx.client.qemu_create(&node, &spec).await?;
    let task = wait_task(ctx, &upid, wait, &format!("creation of VM {vmid}")).await?;
    let guest_status = if task.is_done() {
        guest_status(ctx, GuestKind::Qemu, &node, vmid).await.ok()
    } else {
        None
    };
    Ok(CreateVmOutput {
        vmid,
        node,
        name,
        storage,
        guest_status,
        task,
    })
}

/// The online node with the most free memory.
async fn pick_node(ctx: &ToolCtx) -> Result<String, ToolError> {
    ctx.client
        .nodes()
        .await?
        .into_iter()
        .filter(|n| n.status == "online")
        .max_by_key(|n| n.maxmem.unwrap_or(0).saturating_sub(n.mem.unwrap_or(0)))
        .map(|n| n.node)
        .ok_or_else(|| ToolError::pve("no node is online"))
}

/// The enabled storage of `node` holding `images` with the most free space.
async fn pick_storage(ctx: &ToolCtx, node: &str) -> Result<String, ToolError> {
    let query = NodeStorageQuery {
        content: Some("images".into()),
        enabled: Some(true),
        ..NodeStorageQuery::default()
    };
    ctx.client
        .node_storage(node, &query)
        .await?
        .into_iter()
        .filter(|s| s.content.split(',').any(|c| c.trim() == "images"))
        .max_by_key(|s| s.avail.unwrap_or(0))
        .map(|s| s.storage)
        .ok_or_else(|| {
            ToolError::invalid(
                "storage",
                format!("node {node} has no enabled storage for VM disks (content `images`); pass storage"),
            )
        })
}

/// `delete_vm`.
pub(crate) fn delete_vm() -> ToolSpec {
    ToolSpec::new(
        ToolDef {
            name: "delete_vm",
            title: "Delete VM",
            description: "Delete a VM and its disks for good; force stops it first. Use stop_vm to only stop it.",
            toolset: "core",
            access: Access::Destructive,
            idempotent: false,
        },
        handler!(delete_vm_handler),
    )
    .waits(TaskWait {
        default_seconds: 20,
        description: "Seconds to wait (default 20).",
    })
}

/// Parameters of `delete_vm`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct DeleteVmParams {
    /// VMID of the VM to delete.
    #[serde(deserialize_with = "lenient::int")]
    pub(crate) vmid: u32,
    /// Also remove it from jobs, replication, HA.
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    pub(crate) purge: Option<bool>,
    /// Stop it first if running.
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    pub(crate) force: Option<bool>,
    /// Accepted but not shown in the schema: found from the VMID when absent.
    #[serde(default)]
    #[schemars(skip)]
    pub(crate) node: Option<String>,
}

/// Output of `delete_vm`.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct DeleteVmOutput {
    pub(crate) vmid: u32,
    pub(crate) node: String,
    /// True once the deletion task finished.
    pub(crate) deleted: bool,
    /// The VM was running and was stopped first (force).
    #[serde(skip_serializing_if = "is_false")]
    pub(crate) stopped_first: bool,
    #[serde(flatten)]
    pub(crate) task: TaskOutcome,
}

async fn delete_vm_handler(ctx: &ToolCtx, p: DeleteVmParams) -> Result<DeleteVmOutput, ToolError> {
    let wait = ctx.wait;
    let vmid = p.vmid;
    let started = std::time::Instant::now();
    let node = guest_node(ctx, vmid, p.node, GuestKind::Qemu).await?;
    let status = guest_status(ctx, GuestKind::Qemu, &node, vmid).await?;
    let mut stopped_first = false;
    if status != "stopped" {
        if p.force != Some(true) {
            return Err(ToolError::policy(format!(
                "VM {vmid} is {status}: stop it first (stop_vm or shutdown_vm), \
                 or pass force: true to stop it and delete it"
            )));
        }
        let upid = ctx
            .client
            .qemu_action(&node, vmid, PowerAction::Stop, &ActionOptions::default())
            .await
            .map_err(|e| guest_error(e, vmid, GuestKind::Qemu))?;
        let stop = wait_task(ctx, &upid, wait, &format!("stop of VM {vmid}")).await?;
        if !stop.is_done() {
            return Err(ToolError::Timeout(format!(
                "VM {vmid} is still stopping (task {}); call delete_vm again once get_task shows \
                 the stop finished",
                stop.upid
            )));
        }
        stopped_first = true;
    }
    let opts = DeleteOptions {
        purge: p.purge,
        ..DeleteOptions::default()
    };
    let upid = ctx
        .client
        .qemu_delete(&node, vmid, &opts)
        .await
        .map_err(|e| guest_error(e, vmid, GuestKind::Qemu))?;
    let left = wait.saturating_sub(started.elapsed());
    let task = wait_task(ctx, &upid, left, &format!("deletion of VM {vmid}")).await?;
    Ok(DeleteVmOutput {
        vmid,
        node,
        deleted: task.is_done(),
        stopped_first,
        task,
    })
}
