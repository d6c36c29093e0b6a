//! Node calls: `/nodes` (index), `/nodes/{node}/status` (read; reboot/shutdown), and the status
//! of several nodes fetched concurrently.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::client::PveClient;
use crate::de;
use crate::error::Error;
use crate::params::{ApiPath, Params, node_path};

/// One entry of `GET /nodes`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct NodeSummary {
    pub node: String,
    /// `online`, `offline` or `unknown`.
    pub status: String,
    #[serde(
        deserialize_with = "de::opt_float",
        skip_serializing_if = "Option::is_none"
    )]
    pub cpu: Option<f64>,
    #[serde(
        deserialize_with = "de::opt_int",
        skip_serializing_if = "Option::is_none"
    )]
    pub maxcpu: Option<u32>,
    #[serde(
        deserialize_with = "de::opt_int",
        skip_serializing_if = "Option::is_none"
    )]
    pub mem: Option<u64>,
    #[serde(
        deserialize_with = "de::opt_int",
        skip_serializing_if = "Option::is_none"
    )]
    pub maxmem: Option<u64>,
    #[serde(
        deserialize_with = "de::opt_int",
        skip_serializing_if = "Option::is_none"
    )]
    pub disk: Option<u64>,
    #[serde(
        deserialize_with = "de::opt_int",
        skip_serializing_if = "Option::is_none"
    )]
    pub maxdisk: Option<u64>,
    #[serde(
        deserialize_with = "de::opt_int",
        skip_serializing_if = "Option::is_none"
    )]
    pub uptime: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub level: Option<String>,
    /// SHA-256 fingerprint of the node's certificate (`AA:BB:...`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ssl_fingerprint: Option<String>,
}

/// Memory or disk usage in bytes (`memory`, `swap`, `rootfs` of node status).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Usage {
    #[serde(deserialize_with = "de::int")]
    pub total: u64,
    #[serde(deserialize_with = "de::int")]
    pub used: u64,
    #[serde(deserialize_with = "de::int")]
    pub free: u64,
    /// rootfs: space available to unprivileged users.
    #[serde(
        deserialize_with = "de::opt_int",
        skip_serializing_if = "Option::is_none"
    )]
    pub avail: Option<u64>,
    /// memory: available (free + reclaimable).
    #[serde(
        deserialize_with = "de::opt_int",
        skip_serializing_if = "Option::is_none"
    )]
    pub available: Option<u64>,
}

/// `cpuinfo` of node status.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CpuInfo {
    pub model: String,
    /// Logical CPUs.
    #[serde(deserialize_with = "de::int")]
    pub cpus: u32,
    /// Cores per socket.
    #[serde(deserialize_with = "de::int")]
    pub cores: u32,
    #[serde(deserialize_with = "de::int")]
    pub sockets: u32,
    #[serde(
        deserialize_with = "de::opt_float",
        skip_serializing_if = "Option::is_none"
    )]
    pub mhz: Option<f64>,
}

/// `GET /nodes/{node}/status`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct NodeStatus {
    /// CPU load, 0..1 of all CPUs.
    #[serde(deserialize_with = "de::float")]
    pub cpu: f64,
    /// IO wait, 0..1.
    #[serde(
        deserialize_with = "de::opt_float",
        skip_serializing_if = "Option::is_none"
    )]
    pub wait: Option<f64>,
    pub cpuinfo: CpuInfo,
    pub memory: Usage,
    pub swap: Usage,
    pub rootfs: Usage,
    /// 1, 5, 15 minute load averages (PVE sends strings).
    #[serde(deserialize_with = "de::float_list")]
    pub loadavg: Vec<f64>,
    #[serde(deserialize_with = "de::int")]
    pub uptime: u64,
    /// `pve-manager/9.1.3/<hash>`.
    pub pveversion: String,
    /// Kernel version string.
    pub kversion: String,
    /// Fields not modelled above (`current-kernel`, `boot-info`, `ksm`, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `POST /nodes/{node}/status` commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeCommand {
    Reboot,
    Shutdown,
}

impl PveClient {
    /// `GET /nodes`.
    pub async fn nodes(&self) -> Result<Vec<NodeSummary>, Error> {
        self.get(&ApiPath::new("/nodes"), Params::new()).await
    }

    /// `GET /nodes/{node}/status`.
    pub async fn node_status(&self, node: &str) -> Result<NodeStatus, Error> {
        self.get(&node_path(node).lit("status"), Params::new())
            .await
    }

    /// The status of several nodes, fetched concurrently (within the client's concurrency cap).
    /// One result per node, in the order given; an offline node fails alone.
    pub async fn nodes_status<S: AsRef<str>>(
        &self,
        nodes: &[S],
    ) -> Vec<(String, Result<NodeStatus, Error>)> {
        let calls = nodes.iter().map(|n| async move {
            let n = n.as_ref();
            (n.to_owned(), self.node_status(n).await)
        });
        futures_util::future::join_all(calls).await
    }

    /// `POST /nodes/{node}/status` with `command=reboot|shutdown` (the node itself!).
    pub async fn node_command(&self, node: &str, command: NodeCommand) -> Result<(), Error> {
        let cmd = match command {
            NodeCommand::Reboot => "reboot",
            NodeCommand::Shutdown => "shutdown",
        };
        let _: Option<Value> = self
            .post(
                &node_path(node).lit("status"),
                Params::new().set("command", cmd),
            )
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn node_status_tolerates_strings() {
        let s: NodeStatus = serde_json::from_str(r#"{
            "cpu": "0.05", "wait": 0.001, "loadavg": ["0.10","0.05","0.01"], "uptime": 3600,
            "cpuinfo": {"model":"Xeon","cpus":"8","cores":4,"sockets":1,"mhz":"2400.000"},
            "memory": {"total": 8589934592, "used": "2147483648", "free": 6442450944},
            "rootfs": {"total": 100, "used": 10, "free": 90, "avail": 85},
            "pveversion": "pve-manager/9.1.3/abc", "kversion": "Linux 6.14", "boot-info": {"mode":"efi"}
        }"#).unwrap();
        assert_eq!(s.loadavg, vec![0.10, 0.05, 0.01]);
        assert_eq!(s.cpuinfo.cpus, 8);
        assert_eq!(s.memory.used, 2_147_483_648);
        assert_eq!(s.rootfs.avail, Some(85));
        assert_eq!(s.swap, Usage::default());
        assert!(s.extra.contains_key("boot-info"));
    }
}
