//! Task calls: list a node's tasks or the cluster's recent ones, read a task's status and log, stop a task. Waiting for a
//! task lives in [`crate::task`].

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::client::{Method, PveClient};
use crate::de;
use crate::error::Error;
use crate::params::{ApiPath, Params, node_path};
use crate::upid::Upid;

/// One entry of `GET /nodes/{node}/tasks`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TaskSummary {
    pub upid: String,
    pub node: String,
    #[serde(rename = "type")]
    pub task_type: String,
    #[serde(deserialize_with = "de::string")]
    pub id: String,
    pub user: String,
    #[serde(deserialize_with = "de::int")]
    pub starttime: i64,
    #[serde(
        deserialize_with = "de::opt_int",
        skip_serializing_if = "Option::is_none"
    )]
    pub endtime: Option<i64>,
    /// Exit status once finished: `OK`, `WARNINGS: n`, or the error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(deserialize_with = "de::int")]
    pub pid: u32,
    #[serde(deserialize_with = "de::int")]
    pub pstart: u64,
}

/// `GET /nodes/{node}/tasks/{upid}/status`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TaskStatus {
    pub upid: String,
    pub node: String,
    /// `running` or `stopped`.
    pub status: String,
    /// Once stopped: `OK`, `WARNINGS: n`, or the failure (`command 'qmshutdown' failed: ...`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exitstatus: Option<String>,
    #[serde(rename = "type")]
    pub task_type: String,
    #[serde(deserialize_with = "de::string")]
    pub id: String,
    pub user: String,
    #[serde(deserialize_with = "de::int")]
    pub starttime: i64,
    #[serde(deserialize_with = "de::int")]
    pub pid: u32,
    #[serde(deserialize_with = "de::int")]
    pub pstart: u64,
}

impl TaskStatus {
    /// Still running.
    pub fn is_running(&self) -> bool {
        self.status == "running"
    }
    /// Finished successfully (`OK`, or `WARNINGS: n` which PVE counts as success).
    pub fn is_ok(&self) -> bool {
        !self.is_running()
            && self
                .exitstatus
                .as_deref()
                .is_some_and(|s| s == "OK" || s.starts_with("WARNINGS"))
    }
}

/// One line of a task log.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct TaskLogLine {
    /// Line number, from 1.
    #[serde(deserialize_with = "de::int")]
    pub n: u64,
    #[serde(deserialize_with = "de::string")]
    pub t: String,
}

/// A page of a task log, with the total line count when PVE gives it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskLog {
    pub lines: Vec<TaskLogLine>,
    pub total: Option<u64>,
}

/// Filters of `GET /nodes/{node}/tasks`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskListQuery {
    /// Max entries (PVE default 50).
    pub limit: Option<u32>,
    /// Skip this many.
    pub start: Option<u32>,
    pub vmid: Option<u32>,
    /// Task type: `qmstart`, `vzdump`, ...
    pub typefilter: Option<String>,
    /// Only tasks of this user.
    pub userfilter: Option<String>,
    /// Only failed tasks.
    pub errors: Option<bool>,
    /// Only tasks ending in these states: `ok`, `warning`, `error`, `unknown` (comma-separated).
    pub statusfilter: Option<String>,
    /// `archive` (finished, default), `active`, `all`.
    pub source: Option<String>,
    /// Unix times.
    pub since: Option<i64>,
    pub until: Option<i64>,
}

pub(crate) fn task_path(upid: &Upid) -> ApiPath {
    node_path(&upid.node).lit("tasks").seg(upid.as_str())
}

impl PveClient {
    /// `GET /nodes/{node}/tasks`.
    pub async fn tasks_list(
        &self,
        node: &str,
        q: &TaskListQuery,
    ) -> Result<Vec<TaskSummary>, Error> {
        Ok(self.tasks_page(node, q).await?.0)
    }

    /// `GET /nodes/{node}/tasks` with the number of tasks matching the filters (PVE's `total`,
    /// beyond `limit`), when PVE gives it.
    pub async fn tasks_page(
        &self,
        node: &str,
        q: &TaskListQuery,
    ) -> Result<(Vec<TaskSummary>, Option<u64>), Error> {
        let params = Params::new()
            .opt("limit", q.limit)
            .opt("start", q.start)
            .opt("vmid", q.vmid)
            .opt("typefilter", q.typefilter.as_deref())
            .opt("userfilter", q.userfilter.as_deref())
            .opt("errors", q.errors)
            .opt("statusfilter", q.statusfilter.as_deref())
            .opt("source", q.source.as_deref())
            .opt("since", q.since)
            .opt("until", q.until);
        let env = self
            .request_envelope::<Vec<TaskSummary>>(
                Method::Get,
                &node_path(node).lit("tasks"),
                params,
            )
            .await?;
        Ok((env.data, env.total))
    }

    /// `GET /cluster/tasks`: the recent tasks of every node (running and finished), in one
    /// request.
    pub async fn cluster_tasks(&self) -> Result<Vec<TaskSummary>, Error> {
        self.get(&ApiPath::new("/cluster/tasks"), Params::new())
            .await
    }

    /// `GET /nodes/{node}/tasks/{upid}/status` (node taken from the UPID).
    pub async fn task_status(&self, upid: &Upid) -> Result<TaskStatus, Error> {
        self.get(&task_path(upid).lit("status"), Params::new())
            .await
    }

    /// `GET /nodes/{node}/tasks/{upid}/log?start=..&limit=..`.
    pub async fn task_log(
        &self,
        upid: &Upid,
        start: Option<u64>,
        limit: Option<u64>,
    ) -> Result<TaskLog, Error> {
        let params = Params::new().opt("start", start).opt("limit", limit);
        let env = self
            .request_envelope::<Vec<TaskLogLine>>(Method::Get, &task_path(upid).lit("log"), params)
            .await?;
        Ok(TaskLog {
            lines: env.data,
            total: env.total,
        })
    }

    /// The last `n` lines of a task log (two requests when PVE reports the total, else one).
    pub async fn task_log_tail(&self, upid: &Upid, n: u64) -> Result<Vec<TaskLogLine>, Error> {
        let probe = self.task_log(upid, Some(0), Some(n.max(1))).await?;
        match probe.total {
            Some(total) if total > n => {
                Ok(self.task_log(upid, Some(total - n), Some(n)).await?.lines)
            }
            Some(_) => Ok(probe.lines),
            None if (probe.lines.len() as u64) < n.max(1) => Ok(probe.lines),
            None => {
                // No total: read a big page and keep its end.
                let mut lines = self.task_log(upid, Some(0), Some(10_000)).await?.lines;
                let skip = lines
                    .len()
                    .saturating_sub(usize::try_from(n).unwrap_or(usize::MAX));
                lines.drain(..skip);
                Ok(lines)
            }
        }
    }

    /// `DELETE /nodes/{node}/tasks/{upid}`: stops a running task.
    pub async fn task_stop(&self, upid: &Upid) -> Result<(), Error> {
        let _: Option<Value> = self.delete(&task_path(upid), Params::new()).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn status_parses_proxmoxer_samples() {
        let s: TaskStatus = serde_json::from_str(r#"{"id": "110", "pid": 1044989, "node": "node1", "pstart": 284768076,
            "status": "running", "upid": "UPID:node1:000FF1FD:10F9374C:630D702C:vzdump:110:root@pam:",
            "starttime": 1661825068, "user": "root@pam", "type": "vzdump"}"#).unwrap();
        assert!(s.is_running() && !s.is_ok());
        let check = |exit: &str, ok: bool| {
            let s = TaskStatus {
                status: "stopped".into(),
                exitstatus: Some(exit.into()),
                ..Default::default()
            };
            assert_eq!(s.is_ok(), ok, "{exit}");
        };
        check("OK", true);
        check("WARNINGS: 2", true);
        check("interrupted by signal", false);
        check("command 'qmshutdown' failed: got timeout", false);
    }
}
