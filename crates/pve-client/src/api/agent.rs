//! QEMU guest agent calls: simple commands (`ping`, `get-osinfo`, ...), network interfaces,
//! agent info, and the raw exec / exec-status pair (the polling loop is in [`crate::exec`]).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::guest::guest_path;
use crate::cache::GuestKind;
use crate::client::PveClient;
use crate::de;
use crate::error::Error;
use crate::params::{ApiPath, Params};

fn agent_path(node: &str, vmid: u32) -> ApiPath {
    guest_path(node, GuestKind::Qemu, vmid).lit("agent")
}

/// Agent answers are wrapped: `{"result": ...}`.
#[derive(Debug, Deserialize)]
struct AgentResult<T> {
    result: T,
}

/// `POST .../agent/exec` answer.
#[derive(Debug, Clone, Copy, Deserialize)]
struct ExecStarted {
    #[serde(deserialize_with = "de::int")]
    pid: u64,
}

/// `GET .../agent/exec-status`: QGA's answer passed through (`exited` may be `1` or `true`;
/// output fields only present when non-empty).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ExecStatus {
    #[serde(deserialize_with = "de::bool01")]
    pub exited: bool,
    #[serde(
        deserialize_with = "de::opt_int",
        skip_serializing_if = "Option::is_none"
    )]
    pub exitcode: Option<i64>,
    /// Set when the process was killed by a signal.
    #[serde(
        deserialize_with = "de::opt_int",
        skip_serializing_if = "Option::is_none"
    )]
    pub signal: Option<i64>,
    #[serde(rename = "out-data", skip_serializing_if = "Option::is_none")]
    pub out_data: Option<String>,
    #[serde(rename = "err-data", skip_serializing_if = "Option::is_none")]
    pub err_data: Option<String>,
    /// The agent cut stdout (over its 16 MiB buffer).
    #[serde(rename = "out-truncated", deserialize_with = "de::bool01")]
    pub out_truncated: bool,
    #[serde(rename = "err-truncated", deserialize_with = "de::bool01")]
    pub err_truncated: bool,
}

/// An IP address of a guest interface.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct IpAddress {
    /// `ipv4` or `ipv6`.
    #[serde(rename = "ip-address-type")]
    pub ip_address_type: String,
    #[serde(rename = "ip-address")]
    pub ip_address: String,
    #[serde(deserialize_with = "de::int")]
    pub prefix: u8,
}

/// A guest network interface as the agent reports it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct NetworkInterface {
    pub name: String,
    #[serde(rename = "hardware-address", skip_serializing_if = "Option::is_none")]
    pub hardware_address: Option<String>,
    #[serde(rename = "ip-addresses")]
    pub ip_addresses: Vec<IpAddress>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub statistics: Option<Value>,
}

/// A command the agent supports.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AgentCommandInfo {
    pub name: String,
    #[serde(deserialize_with = "de::bool01")]
    pub enabled: bool,
    #[serde(rename = "success-response", deserialize_with = "de::bool01")]
    pub success_response: bool,
}

/// `GET .../agent/info`: agent version and commands.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AgentInfo {
    pub version: String,
    pub supported_commands: Vec<AgentCommandInfo>,
}

impl PveClient {
    /// `POST .../agent` with `command=<name>` (`ping`, `get-osinfo`, `get-host-name`,
    /// `fsfreeze-status`, ...); returns the agent's `result` (or the whole answer if unwrapped).
    pub async fn agent_command(
        &self,
        node: &str,
        vmid: u32,
        command: &str,
    ) -> Result<Value, Error> {
        let v: Value = self
            .post(
                &agent_path(node, vmid),
                Params::new().set("command", command),
            )
            .await?;
        Ok(match v {
            Value::Object(mut m) if m.contains_key("result") => {
                m.remove("result").unwrap_or(Value::Null)
            }
            other => other,
        })
    }

    /// `GET .../agent/network-get-interfaces`.
    pub async fn agent_network_interfaces(
        &self,
        node: &str,
        vmid: u32,
    ) -> Result<Vec<NetworkInterface>, Error> {
        let r: AgentResult<Vec<NetworkInterface>> = self
            .get(
                &agent_path(node, vmid).lit("network-get-interfaces"),
                Params::new(),
            )
            .await?;
        Ok(r.result)
    }

    /// `GET .../agent/info`.
    pub async fn agent_info(&self, node: &str, vmid: u32) -> Result<AgentInfo, Error> {
        let r: AgentResult<AgentInfo> = self
            .get(&agent_path(node, vmid).lit("info"), Params::new())
            .await?;
        Ok(r.result)
    }

    /// `POST .../agent/exec`: starts `command` (argv, no shell) with optional stdin; returns
    /// the guest pid. See [`PveClient::exec`] for the whole run-and-wait.
    pub async fn agent_exec(
        &self,
        node: &str,
        vmid: u32,
        command: &[String],
        input_data: Option<&str>,
    ) -> Result<u64, Error> {
        let params = Params::new()
            .list("command", command)
            .opt("input-data", input_data);
        let started: ExecStarted = self
            .post(&agent_path(node, vmid).lit("exec"), params)
            .await?;
        Ok(started.pid)
    }

    /// `GET .../agent/exec-status?pid=..`.
    pub async fn agent_exec_status(
        &self,
        node: &str,
        vmid: u32,
        pid: u64,
    ) -> Result<ExecStatus, Error> {
        self.get(
            &agent_path(node, vmid).lit("exec-status"),
            Params::new().set("pid", pid),
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn exec_status_tolerates_qga_types() {
        let check = |json: &str, exited: bool, code: Option<i64>| {
            let s: ExecStatus = serde_json::from_str(json).unwrap();
            assert_eq!((s.exited, s.exitcode), (exited, code), "{json}");
        };
        check(r#"{"exited": 0}"#, false, None);
        check(
            r#"{"exited": true, "exitcode": 0, "out-data": "hi\n", "err-data": ""}"#,
            true,
            Some(0),
        );
        check(
            r#"{"exited": 1, "exitcode": "2", "out-truncated": 1}"#,
            true,
            Some(2),
        );
    }

    #[test]
    fn interfaces_parse() {
        let r: AgentResult<Vec<NetworkInterface>> = serde_json::from_str(r#"{"result": [
            {"name": "lo", "hardware-address": "00:00:00:00:00:00", "ip-addresses": [{"ip-address-type": "ipv4", "ip-address": "127.0.0.1", "prefix": 8}]},
            {"name": "eth0", "ip-addresses": [{"ip-address-type": "ipv6", "ip-address": "fe80::1", "prefix": "64"}]}
        ]}"#).unwrap();
        assert_eq!(r.result[1].ip_addresses[0].prefix, 64);
        assert_eq!(r.result[0].ip_addresses[0].ip_address, "127.0.0.1");
    }
}
