//! Container provisioning (toolset `provisioning`): `create_container` (from a `vztmpl`
//! template volume, unprivileged by default), `delete_container` (destructive, purges by
//! default) and `get_container_config`.

use std::time::Instant;

use pve_client::api::guest::{ActionOptions, DeleteOptions, PowerAction};
use pve_client::api::lxc::LxcCreate;
use pve_client::api::storage::NodeStorageQuery;
use pve_client::{GuestKind, Secret};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::from_template::SshKeys;
use super::{TOOLSET, is_dns_name, new_vmid};
use crate::error::ToolError;
use crate::handler;
use crate::registry::TaskWait;
use crate::registry::lenient;
use crate::registry::{Access, ToolCtx, ToolDef, ToolSpec};
use crate::tools::common::WAIT_FOR_TASK;
use crate::tools::common::trimmed;
use crate::tools::common::{TaskOutcome, guest_error, guest_node, is_false, wait_task};
use crate::tools::power::guest_status;
use crate::tools::vm_config::masked;

const KIND: GuestKind = GuestKind::Lxc;

/// `create_container`.
pub(crate) fn create_container() -> ToolSpec {
    ToolSpec::new(
        ToolDef {
            name: "create_container",
            title: "Create container",
            description: "Create an LXC container from a template volume (list_storage_content, content vztmpl) with network, password or SSH keys. Use delete_container to remove one.",
            toolset: TOOLSET,
            access: Access::Write,
            idempotent: false,
        },
        handler!(create_container_handler),
    )
    .waits(WAIT_FOR_TASK)
}

/// Parameters of `create_container`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct CreateCtParams {
    /// Template volume (local:vztmpl/...).
    pub(crate) template: String,
    /// Hostname (a DNS name).
    pub(crate) hostname: String,
    /// Root password (or ssh_keys, or both).
    #[serde(default)]
    pub(crate) password: Option<String>,
    /// SSH keys for root: a list (or one per line).
    #[serde(default)]
    pub(crate) ssh_keys: Option<SshKeys>,
    /// CPU cores (default 1).
    #[serde(default, deserialize_with = "lenient::opt_int")]
    #[schemars(range(min = 1, max = 8192))]
    pub(crate) cores: Option<u32>,
    /// Memory in MiB (default 512).
    #[serde(default, deserialize_with = "lenient::opt_int")]
    #[schemars(range(min = 16))]
    pub(crate) memory_mb: Option<u64>,
    /// Swap in MiB (default 512).
    #[serde(default, deserialize_with = "lenient::opt_int")]
    pub(crate) swap_mb: Option<u64>,
    /// Root disk in GiB (default 8).
    #[serde(default, deserialize_with = "lenient::opt_int")]
    #[schemars(range(min = 1))]
    pub(crate) disk_gb: Option<u64>,
    /// Root disk storage (default: most free space).
    #[serde(default)]
    pub(crate) storage: Option<String>,
    /// Node (default: one with the template, most free memory).
    #[serde(default)]
    pub(crate) node: Option<String>,
    /// VMID (default: next free).
    #[serde(default, deserialize_with = "lenient::opt_int")]
    #[schemars(range(min = 100, max = 999_999_999))]
    pub(crate) vmid: Option<u32>,
    /// Bridge of eth0 (default vmbr0).
    #[serde(default)]
    pub(crate) bridge: Option<String>,
    /// IPv4 of eth0: dhcp (default) or 10.0.0.7/24.
    #[serde(default)]
    pub(crate) ip: Option<String>,
    /// Gateway for a static ip.
    #[serde(default)]
    pub(crate) gateway: Option<String>,
    /// Unprivileged (default true).
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    pub(crate) unprivileged: Option<bool>,
    /// Start it once created.
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    pub(crate) start: Option<bool>,
}

/// Output of `create_container`.
#[derive(Debug, Serialize, JsonSchema)]
pub(super) struct CreateCtOutput {
    pub(crate) vmid: u32,
    pub(crate) node: String,
    pub(crate) hostname: String,
    /// Storage of the root disk.
    pub(crate) storage: String,
    /// eth0 as configured (`name=eth0,bridge=vmbr0,ip=dhcp`).
    pub(crate) net0: String,
    pub(crate) unprivileged: bool,
    /// The container's power state once created, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) guest_status: Option<String>,
    #[serde(flatten)]
    pub(crate) task: TaskOutcome,
}

async fn create_container_handler(
    ctx: &ToolCtx,
    p: CreateCtParams,
) -> Result<CreateCtOutput, ToolError> {
    let wait = ctx.wait;
    let template = p.template.trim().to_string();
    if !template.contains(':') {
        return Err(ToolError::invalid(
            "template",
            "must be a volume id `STORAGE:vztmpl/FILE` (list the storage's vztmpl content)",
        ));
    }
    let hostname = p.hostname.trim().to_string();
    if !is_dns_name(&hostname) {
        return Err(ToolError::invalid(
            "hostname",
            "must be a DNS name: letters, digits, `-` and `.`",
        ));
    }
    let password = p.password.clone().filter(|s| !s.is_empty());
    if password.as_ref().is_some_and(|pw| pw.chars().count() < 5) {
        return Err(ToolError::invalid(
            "password",
            "must be at least 5 characters",
        ));
    }
    let keys = p.ssh_keys.as_ref().map(SshKeys::lines).unwrap_or_default();
    super::from_template::check_public_keys(&keys)?;
    if password.is_none() && keys.is_empty() {
        return Err(ToolError::InvalidParams {
            param: Some("password".into()),
            message: "give password or ssh_keys (or both), or nobody can log in".into(),
        });
    }
    let cores = p.cores.unwrap_or(1);
    if cores == 0 {
        return Err(ToolError::invalid("cores", "must be at least 1"));
    }
    let memory = p.memory_mb.unwrap_or(512);
    if memory < 16 {
        return Err(ToolError::invalid("memory_mb", "must be at least 16 (MiB)"));
    }
    let disk_gb = p.disk_gb.unwrap_or(8);
    if disk_gb == 0 {
        return Err(ToolError::invalid("disk_gb", "must be at least 1 (GiB)"));
    }
    let ip = super::from_template::ipconfig(
        Some(p.ip.as_deref().unwrap_or("dhcp")),
        p.gateway.as_deref(),
    )?
    .unwrap_or_else(|| "ip=dhcp".into());
    let bridge = trimmed(p.bridge.clone()).unwrap_or_else(|| "vmbr0".into());
    let net0 = format!("name=eth0,bridge={bridge},{ip}");
    let node = match trimmed(p.node.clone()) {
        Some(n) => n,
        None => node_with_template(ctx, &template).await?,
    };
    let storage = match trimmed(p.storage.clone()) {
        Some(s) => s,
        None => pick_rootdir_storage(ctx, &node).await?,
    };
    let vmid = new_vmid(ctx, p.vmid, "vmid").await?;
    let unprivileged = p.unprivileged.unwrap_or(true);
    let spec = LxcCreate {
        vmid,
        ostemplate: template,
        hostname: Some(hostname.clone()),
        password: password.map(Secret::new),
        ssh_public_keys: (!keys.is_empty()).then(|| keys.join("\n")),
        memory: Some(memory),
        swap: Some(p.swap_mb.unwrap_or(512)),
        cores: Some(cores),
        rootfs: Some(format!("{storage}:{disk_gb}")),
        unprivileged: Some(unprivileged),
        start: p.start.filter(|s| *s),
        extra: pve_client::Params::new().set("net0", net0.as_str()),
        ..LxcCreate::default()
    };
    let upid = ctx.client.lxc_create(&node, &spec).await?;
    let task = wait_task(ctx, &upid, wait, &format!("creation of CT {vmid}")).await?;
    let guest_status = if task.is_done() {
        guest_status(ctx, KIND, &node, vmid).await.ok()
    } else {
        None
    };
    Ok(CreateCtOutput {
        vmid,
        node,
        hostname,
        storage,
        net0,
        unprivileged,
        guest_status,
        task,
    })
}

/// The online node, most free memory first, whose storage holds the template `volid`.
async fn node_with_template(ctx: &ToolCtx, volid: &str) -> Result<String, ToolError> {
    let storage = volid.split(':').next().unwrap_or_default();
    let mut nodes: Vec<_> = ctx
        .client
        .nodes()
        .await?
        .into_iter()
        .filter(|n| n.status == "online")
        .collect();
    nodes.sort_by_key(|n| {
        std::cmp::Reverse(n.maxmem.unwrap_or(0).saturating_sub(n.mem.unwrap_or(0)))
    });
    for n in nodes {
        let Ok(content) = ctx
            .client
            .storage_content(&n.node, storage, Some("vztmpl"), None)
            .await
        else {
            continue;
        };
        if content.iter().any(|c| c.volid == volid) {
            return Ok(n.node);
        }
    }
    Err(ToolError::invalid(
        "template",
        format!(
            "`{volid}` was found on no online node (list the vztmpl content of storage \
             `{storage}`, or give node)"
        ),
    ))
}

/// The enabled storage of `node` holding `rootdir` with the most free space.
async fn pick_rootdir_storage(ctx: &ToolCtx, node: &str) -> Result<String, ToolError> {
    let query = NodeStorageQuery {
        content: Some("rootdir".into()),
        enabled: Some(true),
        ..NodeStorageQuery::default()
    };
    ctx.client
        .node_storage(node, &query)
        .await?
        .into_iter()
        .filter(|s| s.content.split(',').any(|c| c.trim() == "rootdir"))
        .max_by_key(|s| s.avail.unwrap_or(0))
        .map(|s| s.storage)
        .ok_or_else(|| {
            ToolError::invalid(
                "storage",
                format!("node {node} has no enabled storage for containers (content `rootdir`); pass storage"),
            )
        })
}

/// `delete_container`.
pub(crate) fn delete_container() -> ToolSpec {
    ToolSpec::new(
        ToolDef {
            name: "delete_container",
            title: "Delete container",
            description: "Delete a container and its volumes for good, purged from backup jobs and HA; force stops a running one. Use stop_container to only stop it.",
            toolset: TOOLSET,
            access: Access::Destructive,
            idempotent: false,
        },
        handler!(delete_container_handler),
    )
    .waits(TaskWait {
        default_seconds: 20,
        description: "Seconds to wait (default 20).",
    })
}

/// Parameters of `delete_container`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct DeleteCtParams {
    /// VMID of the container to delete.
    #[serde(deserialize_with = "lenient::int")]
    pub(crate) vmid: u32,
    /// Accepted but not shown in the schema: found from the VMID when absent.
    #[serde(default)]
    #[schemars(skip)]
    pub(crate) node: Option<String>,
    /// Also remove it from backup jobs, replication and HA (default true).
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    pub(crate) purge: Option<bool>,
    /// Stop it first if running.
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    pub(crate) force: Option<bool>,
}

/// Output of `delete_container`.
#[derive(Debug, Serialize, JsonSchema)]
pub(super) struct DeleteCtOutput {
    pub(crate) vmid: u32,
    pub(crate) node: String,
    /// True once the deletion task finished.
    pub(crate) deleted: bool,
    /// The container was running and was stopped first (force).
    #[serde(skip_serializing_if = "is_false")]
    pub(crate) stopped_first: bool,
    #[serde(flatten)]
    pub(crate) task: TaskOutcome,
}

async fn delete_container_handler(
    ctx: &ToolCtx,
    p: DeleteCtParams,
) -> Result<DeleteCtOutput, ToolError> {
    let wait = ctx.wait;
    let began = Instant::now();
    let vmid = p.vmid;
    let node = guest_node(ctx, vmid, p.node, KIND).await?;
    let status = guest_status(ctx, KIND, &node, vmid).await?;
    let mut stopped_first = false;
    if status != "stopped" {
        if p.force != Some(true) {
            return Err(ToolError::policy(format!(
                "CT {vmid} is {status}: stop it first (stop_container), or pass force: true to \
                 stop it and delete it"
            )));
        }
        let upid = ctx
            .client
            .lxc_action(&node, vmid, PowerAction::Stop, &ActionOptions::default())
            .await
            .map_err(|e| guest_error(e, vmid, KIND))?;
        let stop = wait_task(ctx, &upid, wait, &format!("stop of CT {vmid}")).await?;
        if !stop.is_done() {
            return Err(ToolError::Timeout(format!(
                "CT {vmid} is still stopping (task {}); call delete_container again once \
                 get_task shows the stop finished",
                stop.upid
            )));
        }
        stopped_first = true;
    }
    let opts = DeleteOptions {
        purge: Some(p.purge.unwrap_or(true)),
        ..DeleteOptions::default()
    };
    let upid = ctx
        .client
        .lxc_delete(&node, vmid, &opts)
        .await
        .map_err(|e| guest_error(e, vmid, KIND))?;
    let left = wait.saturating_sub(began.elapsed());
    let task = wait_task(ctx, &upid, left, &format!("deletion of CT {vmid}")).await?;
    Ok(DeleteCtOutput {
        vmid,
        node,
        deleted: task.is_done(),
        stopped_first,
        task,
    })
}

/// `get_container_config`.
pub(crate) fn get_container_config() -> ToolSpec {
    ToolSpec::new(
        ToolDef {
            name: "get_container_config",
            title: "Show container config",
            description: "A container's stored configuration and digest. Use it to inspect mounts, NICs and features.",
            toolset: TOOLSET,
            access: Access::Read,
            idempotent: true,
        },
        handler!(get_container_config_handler),
    )
}

/// Parameters of `get_container_config`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct CtRef {
    /// VMID.
    #[serde(deserialize_with = "lenient::int")]
    pub(crate) vmid: u32,
    /// Accepted but not shown in the schema: found from the VMID when absent.
    #[serde(default)]
    #[schemars(skip)]
    pub(crate) node: Option<String>,
}

/// Output of `get_container_config`.
#[derive(Debug, Serialize, JsonSchema)]
pub(super) struct CtConfigOutput {
    pub(crate) vmid: u32,
    pub(crate) node: String,
    /// SHA-1 of the config (changes with every edit).
    pub(crate) digest: String,
    /// Whether the container is a template.
    pub(crate) template: bool,
    /// Every config key with its value as text; secrets shown as `********`.
    pub(crate) config: std::collections::BTreeMap<String, String>,
}

async fn get_container_config_handler(
    ctx: &ToolCtx,
    p: CtRef,
) -> Result<CtConfigOutput, ToolError> {
    let node = guest_node(ctx, p.vmid, p.node, KIND).await?;
    let config = ctx
        .client
        .lxc_config(&node, p.vmid, None, None)
        .await
        .map_err(|e| guest_error(e, p.vmid, KIND))?;
    Ok(CtConfigOutput {
        vmid: p.vmid,
        node,
        digest: config.digest().unwrap_or_default(),
        template: config.flag("template"),
        config: masked(&config),
    })
}
