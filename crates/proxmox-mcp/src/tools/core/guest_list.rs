//! The compact guest list shared by `get_vms` and `get_containers`: one
//! `/cluster/resources?type=vm` call, filtered by kind, node, status, tag, name and pool, then
//! paged (`limit`, `offset`, see `paging.rs`), projected (`fields`: by default every field on a
//! page of up to 50 rows, the short row on a bigger one,
//! `all` for the live figures too) or summarised (`summary`, see `guest_summary.rs`).

use pve_client::GuestKind;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::guest_summary::{self, Summary};
use crate::error::ToolError;
use crate::registry::{ToolCtx, lenient};
use crate::tools::common::{StatusFilter, gib, is_false, mib, percent, split_tags};
use crate::tools::paging::{MAX_ROWS, PageInfo, Window};

/// Rows answered when the call gives no `limit`.
const DEFAULT_LIMIT: usize = 200;

/// Parameters of `get_vms` and `get_containers`.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct GuestListParams {
    /// Only this node.
    #[serde(default)]
    pub(crate) node: Option<String>,
    /// Only this state.
    #[serde(default)]
    pub(crate) status: Option<StatusFilter>,
    /// Only this tag.
    #[serde(default)]
    pub(crate) tag: Option<String>,
    /// Name part.
    #[serde(default)]
    pub(crate) name: Option<String>,
    /// Only this pool.
    #[serde(default)]
    pub(crate) pool: Option<String>,
    /// Rows (default 200).
    #[serde(default, deserialize_with = "lenient::opt_int")]
    pub(crate) limit: Option<u32>,
    /// Rows to skip.
    #[serde(default, deserialize_with = "lenient::opt_int")]
    pub(crate) offset: Option<u32>,
    /// Fields, or all.
    #[serde(default)]
    pub(crate) fields: Option<FieldList>,
    /// Counts, not rows.
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    pub(crate) summary: Option<bool>,
}

/// Field names as a list, or as one comma-separated text.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(untagged)]
pub(crate) enum FieldList {
    List(Vec<String>),
    Text(String),
}

impl FieldList {
    fn names(&self) -> Vec<String> {
        let items: Vec<&str> = match self {
            FieldList::List(l) => l.iter().flat_map(|s| s.split(',')).collect(),
            FieldList::Text(t) => t.split(',').collect(),
        };
        items
            .into_iter()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    }
}

/// One guest in a list. Only `vmid` is always there: `fields` can leave out the rest.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub(crate) struct GuestLine {
    pub(crate) vmid: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) node: Option<String>,
    /// `running` or `stopped`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) status: Option<String>,
    /// Virtual CPUs.
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "whole_as_integer"
    )]
    pub(crate) cpus: Option<f64>,
    /// CPU use in percent of its CPUs (running guests).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) cpu_percent: Option<f64>,
    /// Memory in use (running guests).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) memory_used_mb: Option<u64>,
    /// Configured memory.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) memory_mb: Option<u64>,
    /// Disk in use (containers; PVE does not know it for VMs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) disk_used_gb: Option<f64>,
    /// Size of the boot disk (VMs) or root volume (containers).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) disk_gb: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) uptime_seconds: Option<u64>,
    /// A template (clone it; it cannot be started).
    #[serde(skip_serializing_if = "is_false")]
    pub(crate) template: bool,
    /// A lock held by a running operation (`backup`, `migrate`, `snapshot`, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) lock: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) tags: Vec<String>,
    /// The resource pool it belongs to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) pool: Option<String>,
}

/// A count that is whole (as virtual CPUs mostly are) written as an integer: `2`, not `2.0`,
/// which costs an agent a token less per row; `0.5` stays as it is.
fn whole_as_integer<S: serde::Serializer>(v: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        #[allow(clippy::cast_possible_truncation)]
        Some(x) if x.fract() == 0.0 && x.abs() < 1e15 => s.serialize_i64(*x as i64),
        Some(x) => s.serialize_f64(*x),
        None => s.serialize_none(),
    }
}

/// Pages of at most this many rows come with every field when the call gives no `fields`: a
/// homelab's `get_vms {}` shows the live figures as it always did.
const FULL_ROWS_UP_TO: usize = 50;

/// The short row answered for a bigger page when the call gives no `fields`: what a guest is
/// (the live figures, `cpu_percent`, `memory_used_mb`, `disk_used_gb`, `disk_gb` and
/// `uptime_seconds`, come with `fields`). Its size keeps a default page of 200 rows within an
/// agent's context budget.
const DEFAULT_FIELDS: &[&str] = &[
    "vmid",
    "name",
    "node",
    "status",
    "cpus",
    "memory_mb",
    "template",
    "lock",
    "tags",
    "pool",
];

/// The `fields` value that keeps every field.
const ALL: &str = "all";

/// The names `fields` accepts, in row order.
const FIELDS: &[&str] = &[
    "vmid",
    "name",
    "node",
    "status",
    "cpus",
    "cpu_percent",
    "memory_used_mb",
    "memory_mb",
    "disk_used_gb",
    "disk_gb",
    "uptime_seconds",
    "template",
    "lock",
    "tags",
    "pool",
];

impl GuestLine {
    /// This row with only `keep` (and `vmid`).
    fn project(self, keep: &[String]) -> GuestLine {
        let has = |f: &str| keep.iter().any(|k| k == f);
        GuestLine {
            vmid: self.vmid,
            name: self.name.filter(|_| has("name")),
            node: self.node.filter(|_| has("node")),
            status: self.status.filter(|_| has("status")),
            cpus: self.cpus.filter(|_| has("cpus")),
            cpu_percent: self.cpu_percent.filter(|_| has("cpu_percent")),
            memory_used_mb: self.memory_used_mb.filter(|_| has("memory_used_mb")),
            memory_mb: self.memory_mb.filter(|_| has("memory_mb")),
            disk_used_gb: self.disk_used_gb.filter(|_| has("disk_used_gb")),
            disk_gb: self.disk_gb.filter(|_| has("disk_gb")),
            uptime_seconds: self.uptime_seconds.filter(|_| has("uptime_seconds")),
            template: self.template && has("template"),
            lock: self.lock.filter(|_| has("lock")),
            tags: if has("tags") { self.tags } else { Vec::new() },
            pool: self.pool.filter(|_| has("pool")),
        }
    }
}

/// What a guest list answer says beside its rows.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct GuestPage {
    #[serde(flatten)]
    pub(crate) page: PageInfo,
    /// With summary: true.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) summary: Option<Summary>,
}

/// The guests of `kind`, filtered, sorted by VMID, then summarised or paged and projected.
pub(super) async fn list(
    ctx: &ToolCtx,
    kind: GuestKind,
    p: GuestListParams,
) -> Result<(Vec<GuestLine>, GuestPage), ToolError> {
    // `None`: no `fields` given; `Some(None)`: every field.
    let asked = p.fields.as_ref().map(checked_fields).transpose()?;
    let window = Window::new(p.limit, p.offset, DEFAULT_LIMIT, MAX_ROWS)?;
    let node = p.node.as_deref().map(str::trim).filter(|n| !n.is_empty());
    let tag = p.tag.as_deref().map(str::trim).filter(|t| !t.is_empty());
    let name = p
        .name
        .as_deref()
        .map(|n| n.trim().to_lowercase())
        .filter(|n| !n.is_empty());
    let pool = p.pool.as_deref().map(str::trim).filter(|n| !n.is_empty());
    let mut rows: Vec<GuestLine> = ctx
        .client
        .list_guests()
        .await?
        .into_iter()
        .filter(|r| r.guest_kind() == Some(kind))
        .filter(|r| node.is_none() || r.node.as_deref() == node)
        .filter(|r| match p.status {
            None => true,
            Some(s) => r.status.as_deref() == Some(s.as_str()),
        })
        .filter(|r| pool.is_none() || r.pool.as_deref() == pool)
        .filter_map(|r| {
            let vmid = r.vmid?;
            let running = r.status.as_deref() == Some("running");
            Some(GuestLine {
                vmid,
                name: Some(r.name.unwrap_or_default()),
                node: Some(r.node.unwrap_or_default()),
                status: Some(r.status.unwrap_or_else(|| "unknown".into())),
                cpus: r.maxcpu,
                cpu_percent: r.cpu.filter(|_| running).map(percent),
                memory_used_mb: r.mem.filter(|_| running).map(mib),
                memory_mb: r.maxmem.map(mib),
                disk_used_gb: r.disk.filter(|d| kind == GuestKind::Lxc && *d > 0).map(gib),
                disk_gb: r.maxdisk.filter(|d| *d > 0).map(gib),
                uptime_seconds: r.uptime.filter(|_| running),
                template: r.template,
                lock: r.lock,
                tags: split_tags(r.tags.as_deref()),
                pool: r.pool,
            })
        })
        .filter(|g| tag.is_none_or(|t| g.tags.iter().any(|x| x == t)))
        .filter(|g| {
            name.as_deref().is_none_or(|n| {
                g.name
                    .as_deref()
                    .is_some_and(|x| x.to_lowercase().contains(n))
            })
        })
        .collect();
    rows.sort_by_key(|g| g.vmid);
    if p.summary == Some(true) {
        let info = GuestPage {
            page: PageInfo::none_of(rows.len()),
            summary: Some(guest_summary::of(&rows)),
        };
        return Ok((Vec::new(), info));
    }
    let noun = match kind {
        GuestKind::Qemu => "VMs",
        GuestKind::Lxc => "containers",
    };
    let narrow = "filter (node, status, tag, name, pool); summary: true for counts, fields: all for live use";
    let (page, info) = window.cut(rows, noun, narrow);
    let keep = asked.unwrap_or_else(|| {
        (page.len() > FULL_ROWS_UP_TO)
            .then(|| DEFAULT_FIELDS.iter().map(|f| (*f).to_string()).collect())
    });
    let page = match &keep {
        Some(k) => page.into_iter().map(|g| g.project(k)).collect(),
        None => page,
    };
    let info = GuestPage {
        page: info,
        summary: None,
    };
    Ok((page, info))
}

/// The names of `fields`, each one a row field; `None` for `all`.
fn checked_fields(f: &FieldList) -> Result<Option<Vec<String>>, ToolError> {
    let names = f.names();
    if names.iter().any(|n| n == ALL) {
        return Ok(None);
    }
    if let Some(bad) = names.iter().find(|n| !FIELDS.contains(&n.as_str())) {
        return Err(ToolError::invalid(
            "fields",
            format!(
                "`{bad}` is not a row field (fields: {ALL}, or any of {})",
                FIELDS.join(", ")
            ),
        ));
    }
    Ok(Some(names))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn fields_come_as_a_list_or_a_text_and_are_checked() {
        let list: FieldList =
            serde_json::from_value(serde_json::json!(["vmid", "name,status"])).unwrap();
        assert_eq!(
            checked_fields(&list).unwrap().unwrap(),
            ["vmid", "name", "status"]
        );
        let text: FieldList = serde_json::from_value(serde_json::json!(" name , node ")).unwrap();
        assert_eq!(checked_fields(&text).unwrap().unwrap(), ["name", "node"]);
        let all: FieldList = serde_json::from_value(serde_json::json!("all")).unwrap();
        assert_eq!(checked_fields(&all).unwrap(), None);
        let bad: FieldList = serde_json::from_value(serde_json::json!(["nmae"])).unwrap();
        let e = checked_fields(&bad).unwrap_err().to_string();
        assert!(e.contains("nmae") && e.contains("cpu_percent"), "{e}");
    }

    #[test]
    fn every_field_name_is_a_row_member() {
        let row = GuestLine {
            vmid: 100,
            name: Some("a".into()),
            node: Some("n".into()),
            status: Some("running".into()),
            cpus: Some(1.0),
            cpu_percent: Some(1.0),
            memory_used_mb: Some(1),
            memory_mb: Some(1),
            disk_used_gb: Some(1.0),
            disk_gb: Some(1.0),
            uptime_seconds: Some(1),
            template: true,
            lock: Some("backup".into()),
            tags: vec!["t".into()],
            pool: Some("p".into()),
        };
        let full = serde_json::to_value(&row).unwrap();
        let keys: Vec<&str> = full
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let mut fields = FIELDS.to_vec();
        fields.sort_unstable();
        let mut keys = keys.clone();
        keys.sort_unstable();
        assert_eq!(keys, fields);
        assert_eq!(
            full["cpus"],
            serde_json::json!(1),
            "a whole count is an integer"
        );
        let only = serde_json::to_value(row.project(&["status".into()])).unwrap();
        assert_eq!(only, serde_json::json!({"vmid": 100, "status": "running"}));
    }
}
