//! `list_storage_content` (ISO images, container templates, backups... on one storage), and what
//! the backup tools share with it: finding a node that reaches a storage, and compact volume
//! lines.

use pve_client::api::storage::StorageContent;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::ToolError;
use crate::handler;
use crate::registry::lenient;
use crate::registry::{Access, ToolCtx, ToolDef, ToolSpec};
use crate::tools::common::{is_false, trimmed};
use crate::tools::paging::{MAX_ROWS, PageInfo, Window};

/// The node to reach `storage` through: `node` when given (it must have the storage), else the
/// first node (by name) where the storage is available. One `/cluster/resources` call.
pub(crate) async fn storage_node(
    ctx: &ToolCtx,
    storage: &str,
    node: Option<String>,
) -> Result<String, ToolError> {
    let mut on: Vec<(String, String)> = ctx
        .client
        .list_storage()
        .await?
        .into_iter()
        .filter(|r| r.storage.as_deref() == Some(storage))
        .filter_map(|r| Some((r.node?, r.status.unwrap_or_default())))
        .collect();
    on.sort();
    if on.is_empty() {
        return Err(ToolError::invalid(
            "storage",
            format!("no storage named {storage:?} (call get_storage for the names)"),
        ));
    }
    let nodes = || {
        on.iter()
            .map(|(n, _)| n.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    match trimmed(node) {
        Some(n) if on.iter().any(|(x, _)| *x == n) => Ok(n),
        Some(n) => Err(ToolError::invalid(
            "node",
            format!(
                "storage {storage} is not on node {n} (it is on {})",
                nodes()
            ),
        )),
        None => on
            .iter()
            .find(|(_, status)| status == "available")
            .map(|(n, _)| n.clone())
            .ok_or_else(|| {
                ToolError::pve(format!(
                    "storage {storage} is not available on any node right now (it is on {})",
                    nodes()
                ))
            }),
    }
}

/// One volume on a storage.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub(super) struct VolumeLine {
    /// Volume id, e.g. `local:iso/debian-13.iso` or `nfs-backup:backup/vzdump-qemu-100-....vma.zst`.
    pub(crate) volid: String,
    /// `iso`, `vztmpl` (container template), `backup`, `images` (VM disk), `rootdir`
    /// (container volume), `snippets`, `import`.
    pub(crate) content: String,
    /// `iso`, `raw`, `qcow2`, `vma.zst`, `tar.zst`, ...
    pub(crate) format: String,
    /// Size in MiB.
    pub(crate) size_mb: u64,
    /// Creation time, Unix epoch seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) time: Option<i64>,
    /// The guest it belongs to (disks, backups).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) vmid: Option<u32>,
    /// Notes (backups), first line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) notes: Option<String>,
    /// Protected from deletion and pruning (backups).
    #[serde(skip_serializing_if = "is_false")]
    pub(crate) protected: bool,
}

impl From<StorageContent> for VolumeLine {
    fn from(v: StorageContent) -> Self {
        VolumeLine {
            volid: v.volid,
            content: v.content,
            format: v.format,
            size_mb: crate::tools::common::mib(v.size),
            time: v.ctime,
            vmid: v.vmid,
            notes: v.notes.filter(|n| !n.is_empty()),
            protected: v.protected,
        }
    }
}

/// `list_storage_content`.
pub(crate) fn list_storage_content() -> ToolSpec {
    ToolSpec::new(
        ToolDef {
            name: "list_storage_content",
            title: "List storage content",
            description: "What a storage holds: ISOs, container templates, backups, disk images. Use it to find an ISO for create_vm or a template for create_container.",
            toolset: "backups",
            access: Access::Read,
            idempotent: true,
        },
        handler!(list_storage_content_handler),
    )
}

/// A content type to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub(super) enum ContentType {
    /// ISO images.
    Iso,
    /// Container templates.
    Vztmpl,
    /// vzdump backups.
    Backup,
    /// VM disk images.
    Images,
    /// Container volumes.
    Rootdir,
    /// Snippets (cloud-init, hook scripts).
    Snippets,
    /// Disk images to import.
    Import,
}

impl ContentType {
    fn as_str(self) -> &'static str {
        match self {
            ContentType::Iso => "iso",
            ContentType::Vztmpl => "vztmpl",
            ContentType::Backup => "backup",
            ContentType::Images => "images",
            ContentType::Rootdir => "rootdir",
            ContentType::Snippets => "snippets",
            ContentType::Import => "import",
        }
    }
}

/// Parameters of `list_storage_content`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct StorageContentParams {
    /// Storage id (see get_storage).
    pub(crate) storage: String,
    /// Only this content type.
    #[serde(default)]
    pub(crate) content: Option<ContentType>,
    /// Only this guest.
    #[serde(default, deserialize_with = "lenient::opt_int")]
    #[schemars(range(min = 100))]
    pub(crate) vmid: Option<u32>,
    /// Node to read it from.
    #[serde(default)]
    pub(crate) node: Option<String>,
    /// Rows (default 200).
    #[serde(default, deserialize_with = "lenient::opt_int")]
    pub(crate) limit: Option<u32>,
    /// Rows to skip.
    #[serde(default, deserialize_with = "lenient::opt_int")]
    pub(crate) offset: Option<u32>,
}

/// Volumes `list_storage_content` answers when the call gives no `limit`.
const VOLUME_ROWS: usize = 200;

/// Output of `list_storage_content`.
#[derive(Debug, Serialize, JsonSchema)]
pub(super) struct StorageContentOutput {
    pub(crate) storage: String,
    /// The node it was read from.
    pub(crate) node: String,
    pub(crate) volumes: Vec<VolumeLine>,
    #[serde(flatten)]
    pub(crate) page: PageInfo,
}

async fn list_storage_content_handler(
    ctx: &ToolCtx,
    p: StorageContentParams,
) -> Result<StorageContentOutput, ToolError> {
    let storage = p.storage.trim().to_string();
    if storage.is_empty() {
        return Err(ToolError::invalid("storage", "must not be empty"));
    }
    if p.vmid.is_some_and(|v| v < 100) {
        return Err(ToolError::invalid("vmid", "VMIDs start at 100"));
    }
    let window = Window::new(p.limit, p.offset, VOLUME_ROWS, MAX_ROWS)?;
    let node = storage_node(ctx, &storage, p.node).await?;
    let mut volumes: Vec<VolumeLine> = ctx
        .client
        .storage_content(&node, &storage, p.content.map(ContentType::as_str), p.vmid)
        .await?
        .into_iter()
        .map(VolumeLine::from)
        .collect();
    volumes.sort_by(|a, b| (&a.content, &a.volid).cmp(&(&b.content, &b.volid)));
    let (volumes, page) = window.cut(volumes, "volumes", "filter (content, vmid)");
    Ok(StorageContentOutput {
        storage,
        node,
        volumes,
        page,
    })
}
