//! `get_backup_coverage`: the guests no backup job covers (PVE's
//! `/cluster/backup-info/not-backed-up`) and, per guest, its newest backup and how old it is,
//! from the backup storages' contents; never-backed-up and oldest first.

use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

use futures_util::future::join_all;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{TOOLSET, backup_targets};
use crate::error::ToolError;
use crate::handler;
use crate::registry::lenient;
use crate::registry::{Access, ToolCtx, ToolDef, ToolSpec};
use crate::tools::common::round1;

/// Guests listed by default.
const DEFAULT_LIMIT: usize = 50;

/// `get_backup_coverage`.
pub(crate) fn get_backup_coverage() -> ToolSpec {
    ToolSpec::new(
        ToolDef {
            name: "get_backup_coverage",
            title: "Backup coverage",
            description: "Guests no backup job covers, and each guest's last backup age (never \
                          and oldest first). Use list_backup_jobs for the jobs themselves.",
            toolset: TOOLSET,
            access: Access::Read,
            idempotent: true,
        },
        handler!(get_backup_coverage_handler),
    )
}

/// Parameters of `get_backup_coverage`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CoverageParams {
    /// Guests listed (default 50).
    #[serde(default, deserialize_with = "lenient::opt_int")]
    #[schemars(range(min = 1, max = 5000))]
    pub(crate) limit: Option<u32>,
}

/// A guest no job covers.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Uncovered {
    pub(crate) vmid: u32,
    /// `qemu` or `lxc`.
    #[serde(rename = "type")]
    pub(crate) kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) name: Option<String>,
}

/// A guest's newest backup.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct GuestBackup {
    pub(crate) vmid: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) name: Option<String>,
    /// Whether a backup job covers it.
    pub(crate) covered: bool,
    /// Unix time of its newest backup; absent: none found.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) last_backup: Option<i64>,
    /// Hours since then.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) age_hours: Option<f64>,
    /// Where it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) storage: Option<String>,
}

/// Output of `get_backup_coverage`.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct CoverageOutput {
    /// Guests (templates not counted).
    pub(crate) guests_total: usize,
    /// Guests with no backup on any backup storage.
    pub(crate) never_backed_up: usize,
    /// How many guests no backup job covers.
    pub(crate) not_covered_count: usize,
    /// Guests no backup job covers, by VMID (at most `limit`).
    pub(crate) not_covered: Vec<Uncovered>,
    /// Guests, never backed up first, then oldest backup first (at most `limit`).
    pub(crate) guests: Vec<GuestBackup>,
    /// Backup storages that could not be read.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) unreadable: Vec<String>,
}

async fn get_backup_coverage_handler(
    ctx: &ToolCtx,
    p: CoverageParams,
) -> Result<CoverageOutput, ToolError> {
    let c = &ctx.client;
    let (uncovered, guests, storages) =
        tokio::join!(c.not_backed_up(), c.list_guests(), c.list_storage());
    let (uncovered, guests) = (uncovered?, guests?);
    let targets = backup_targets(storages?, None);
    let answers = join_all(targets.iter().map(|(s, n, _)| async move {
        (s, n, c.storage_content(n, s, Some("backup"), None).await)
    }))
    .await;
    // vmid → (newest ctime, storage)
    let mut newest: HashMap<u32, (i64, String)> = HashMap::new();
    let mut unreadable = Vec::new();
    for (s, n, r) in answers {
        match r {
            Ok(list) => {
                for v in list {
                    let (Some(vmid), Some(t)) = (v.vmid, v.ctime) else {
                        continue;
                    };
                    let e = newest.entry(vmid).or_insert((t, s.clone()));
                    if t > e.0 {
                        *e = (t, s.clone());
                    }
                }
            }
            Err(e) => unreadable.push(format!("{s} on {n}: {e}")),
        }
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let not_covered: Vec<u32> = uncovered.iter().map(|u| u.vmid).collect();
    let mut lines: Vec<GuestBackup> = guests
        .iter()
        .filter(|g| !g.template)
        .filter_map(|g| {
            let vmid = g.vmid?;
            let last = newest.get(&vmid);
            Some(GuestBackup {
                vmid,
                name: g.name.clone(),
                covered: !not_covered.contains(&vmid),
                last_backup: last.map(|l| l.0),
                age_hours: last.map(|l| round1((now - l.0).max(0) as f64 / 3600.0)),
                storage: last.map(|l| l.1.clone()),
            })
        })
        .collect();
    let guests_total = lines.len();
    let never_backed_up = lines.iter().filter(|l| l.last_backup.is_none()).count();
    lines.sort_by_key(|l| (l.last_backup.unwrap_or(i64::MIN), l.vmid));
    let limit = p.limit.map_or(DEFAULT_LIMIT, |l| l as usize);
    lines.truncate(limit);
    let mut not_covered: Vec<Uncovered> = uncovered
        .into_iter()
        .map(|u| Uncovered {
            vmid: u.vmid,
            kind: u.kind,
            name: u.name,
        })
        .collect();
    not_covered.sort_by_key(|u| u.vmid);
    let not_covered_count = not_covered.len();
    not_covered.truncate(limit);
    Ok(CoverageOutput {
        guests_total,
        never_backed_up,
        not_covered_count,
        not_covered,
        guests: lines,
        unreadable,
    })
}
