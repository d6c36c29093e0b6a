//! `list_backup_jobs`: the datacenter's scheduled backup jobs, one line each: schedule, target
//! storage, which guests it selects, mode, retention and next run.

use pve_client::api::backup_jobs::BackupJob;
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

use super::TOOLSET;
use crate::error::ToolError;
use crate::handler;
use crate::registry::{Access, ToolCtx, ToolDef, ToolSpec};
use crate::tools::common::NoParams;

/// `list_backup_jobs`.
pub(crate) fn list_backup_jobs() -> ToolSpec {
    ToolSpec::new(
        ToolDef {
            name: "list_backup_jobs",
            title: "List backup jobs",
            description: "Scheduled backup jobs: schedule, storage, guests, mode, retention, next \
                          run. Use get_backup_coverage to find guests no job covers.",
            toolset: TOOLSET,
            access: Access::Read,
            idempotent: true,
        },
        handler!(list_backup_jobs_handler),
    )
}

/// One job.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct JobLine {
    pub(crate) id: String,
    pub(crate) enabled: bool,
    /// PVE calendar event (`02:00`, `sat 03:00`, `*/6:00`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) schedule: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) storage: Option<String>,
    /// Which guests: `all`, `all except 101,102`, `vmids 100,101`, `pool production`; `on
    /// node X` when limited to a node.
    pub(crate) selection: String,
    /// `snapshot`, `suspend` or `stop`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) mode: Option<String>,
    /// Backups kept (`keep-last=3,keep-daily=7`); absent: the storage's own setting.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) retention: Option<String>,
    /// Unix time of the next run (enabled jobs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) next_run: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) comment: Option<String>,
}

/// Output of `list_backup_jobs`.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct BackupJobsOutput {
    pub(crate) count: usize,
    pub(crate) jobs: Vec<JobLine>,
}

async fn list_backup_jobs_handler(
    ctx: &ToolCtx,
    _p: NoParams,
) -> Result<BackupJobsOutput, ToolError> {
    let mut jobs: Vec<JobLine> = ctx
        .client
        .backup_jobs()
        .await?
        .into_iter()
        .map(line)
        .collect();
    jobs.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(BackupJobsOutput {
        count: jobs.len(),
        jobs,
    })
}

fn line(j: BackupJob) -> JobLine {
    let list = |s: &Option<String>| {
        s.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let mut selection = if let Some(pool) = list(&j.pool) {
        format!("pool {pool}")
    } else if let Some(ids) = list(&j.vmid) {
        format!("vmids {ids}")
    } else {
        match list(&j.exclude) {
            Some(ex) => format!("all except {ex}"),
            None => "all".to_string(),
        }
    };
    if let Some(node) = list(&j.node) {
        selection.push_str(&format!(" on node {node}"));
    }
    JobLine {
        enabled: j.enabled.unwrap_or(true),
        selection,
        retention: j.other.get("prune-backups").and_then(retention),
        next_run: j.next_run,
        id: j.id,
        schedule: j.schedule,
        storage: j.storage,
        mode: j.mode,
        comment: j.comment.filter(|c| !c.is_empty()),
    }
}

/// `prune-backups` as PVE writes it (`keep-last=3,keep-daily=7`), from its object or string
/// form; `keep-all=1` reads `keep-all`.
fn retention(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Object(m) if !m.is_empty() => Some(
            m.iter()
                .map(|(k, v)| match v {
                    Value::String(s) => format!("{k}={s}"),
                    other => format!("{k}={other}"),
                })
                .collect::<Vec<_>>()
                .join(","),
        ),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn selection_and_retention_read_as_pve_means_them() {
        let job = |v: Value| line(serde_json::from_value(v).unwrap());
        let j = job(
            serde_json::json!({"id": "a", "all": 1, "exclude": "101,102",
            "node": "pve1", "prune-backups": {"keep-last": 3, "keep-daily": 7}}),
        );
        assert_eq!(j.selection, "all except 101,102 on node pve1");
        assert_eq!(j.retention.as_deref(), Some("keep-daily=7,keep-last=3"));
        assert!(j.enabled);
        let j = job(serde_json::json!({"id": "b", "pool": "prod", "enabled": 0}));
        assert_eq!((j.selection.as_str(), j.enabled), ("pool prod", false));
        let j = job(serde_json::json!({"id": "c", "vmid": "100,101"}));
        assert_eq!(j.selection, "vmids 100,101");
        assert_eq!(j.retention, None);
    }
}
