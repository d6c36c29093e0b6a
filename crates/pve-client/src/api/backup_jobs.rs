//! The datacenter's scheduled backup jobs: `GET /cluster/backup` and the guests no job covers,
//! `GET /cluster/backup-info/not-backed-up`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::client::PveClient;
use crate::de;
use crate::error::Error;
use crate::params::{ApiPath, Params};

/// One job of `GET /cluster/backup`: the fields a reader needs typed, the rest as PVE sends it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct BackupJob {
    pub id: String,
    #[serde(
        deserialize_with = "de::opt_bool",
        skip_serializing_if = "Option::is_none"
    )]
    pub enabled: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schedule: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storage: Option<String>,
    /// `snapshot`, `suspend`, `stop`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    /// Every guest (of `node`, when set).
    #[serde(
        deserialize_with = "de::opt_bool",
        skip_serializing_if = "Option::is_none"
    )]
    pub all: Option<bool>,
    /// VMIDs, comma-separated.
    #[serde(
        deserialize_with = "de::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub vmid: Option<String>,
    /// With `all`: VMIDs left out.
    #[serde(
        deserialize_with = "de::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub exclude: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pool: Option<String>,
    /// Only guests on this node.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    /// Unix time of the next run (enabled jobs).
    #[serde(
        rename = "next-run",
        deserialize_with = "de::opt_int",
        skip_serializing_if = "Option::is_none"
    )]
    pub next_run: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// Everything else (`prune-backups`, `compress`, `mailto`...).
    #[serde(flatten)]
    pub other: BTreeMap<String, Value>,
}

/// One guest of `GET /cluster/backup-info/not-backed-up`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct NotBackedUp {
    #[serde(deserialize_with = "de::int")]
    pub vmid: u32,
    /// `qemu` or `lxc`.
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl PveClient {
    /// `GET /cluster/backup`.
    pub async fn backup_jobs(&self) -> Result<Vec<BackupJob>, Error> {
        self.get(&ApiPath::new("/cluster/backup"), Params::new())
            .await
    }

    /// `GET /cluster/backup-info/not-backed-up`: guests no enabled job covers.
    pub async fn not_backed_up(&self) -> Result<Vec<NotBackedUp>, Error> {
        self.get(
            &ApiPath::new("/cluster/backup-info/not-backed-up"),
            Params::new(),
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn jobs_parse_with_pve_types() {
        let j: Vec<BackupJob> = serde_json::from_str(
            r#"[{"id":"backup-1","enabled":1,"schedule":"02:00","vmid":"100,101",
                 "storage":"nfs","mode":"snapshot","next-run":1700000000,
                 "prune-backups":{"keep-last":3}}]"#,
        )
        .unwrap();
        assert_eq!(j[0].enabled, Some(true));
        assert_eq!(j[0].next_run, Some(1_700_000_000));
        assert_eq!(j[0].other["prune-backups"]["keep-last"], 3);
    }
}
