//! High availability: `/cluster/ha/status/current` (quorum, manager, each node's LRM, each
//! managed guest), `/cluster/ha/status/manager_status`, `/cluster/ha/resources` and the PVE 9
//! `/cluster/ha/rules` (node and resource affinity, which replaced HA groups).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::client::PveClient;
use crate::de;
use crate::error::Error;
use crate::params::{ApiPath, Params};

/// One entry of `GET /cluster/ha/status/current`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct HaStatusEntry {
    /// `quorum`, `master`, `lrm:<node>`, `service:<sid>`.
    pub id: String,
    /// `quorum`, `master`, `lrm`, `service`, `fencing`.
    #[serde(rename = "type")]
    pub kind: String,
    pub node: String,
    /// Depends on the type: `OK`, `pve1 (active, ...)`, `started`...
    #[serde(deserialize_with = "de::string")]
    pub status: String,
    /// Quorum: whether the cluster is quorate.
    #[serde(
        deserialize_with = "de::opt_bool",
        skip_serializing_if = "Option::is_none"
    )]
    pub quorate: Option<bool>,
    /// Service: `vm:100`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// Service: verbose state (`started`, `error`, `fence`...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// Service: the state the CRM sees.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub crm_state: Option<String>,
    /// Service: the requested state.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_state: Option<String>,
    /// Fencing: `armed`, `standby`, `disarming`, `disarmed`.
    #[serde(rename = "armed-state", skip_serializing_if = "Option::is_none")]
    pub armed_state: Option<String>,
}

/// One entry of `GET /cluster/ha/resources`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct HaResource {
    /// `vm:100` / `ct:200`.
    pub sid: String,
    /// `vm` or `ct`.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Requested state: `started`, `stopped`, `disabled`, `ignored`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(
        deserialize_with = "de::opt_int",
        skip_serializing_if = "Option::is_none"
    )]
    pub max_restart: Option<u32>,
    #[serde(
        deserialize_with = "de::opt_int",
        skip_serializing_if = "Option::is_none"
    )]
    pub max_relocate: Option<u32>,
    #[serde(
        deserialize_with = "de::opt_bool",
        skip_serializing_if = "Option::is_none"
    )]
    pub failback: Option<bool>,
    /// PVE 8 and earlier: the HA group.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

/// One entry of `GET /cluster/ha/rules` (PVE 9): its id and type, and the rest as PVE sends it
/// (`resources`, `nodes`, `affinity`, `strict`, `disable`, `comment`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct HaRule {
    pub rule: String,
    /// `node-affinity` or `resource-affinity`.
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(flatten)]
    pub other: BTreeMap<String, Value>,
}

impl PveClient {
    /// `GET /cluster/ha/status/current`.
    pub async fn ha_status(&self) -> Result<Vec<HaStatusEntry>, Error> {
        self.get(&ApiPath::new("/cluster/ha/status/current"), Params::new())
            .await
    }

    /// `GET /cluster/ha/resources`.
    pub async fn ha_resources(&self) -> Result<Vec<HaResource>, Error> {
        self.get(&ApiPath::new("/cluster/ha/resources"), Params::new())
            .await
    }

    /// `GET /cluster/ha/rules` (PVE 9; older versions answer 501 or 404).
    pub async fn ha_rules(&self) -> Result<Vec<HaRule>, Error> {
        self.get(&ApiPath::new("/cluster/ha/rules"), Params::new())
            .await
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn status_entries_parse_with_pve_types() {
        let e: Vec<HaStatusEntry> = serde_json::from_str(
            r#"[{"id":"quorum","type":"quorum","node":"pve1","status":"OK","quorate":1},
                {"id":"service:vm:100","type":"service","node":"pve1","sid":"vm:100",
                 "status":"started","state":"started","crm_state":"started"}]"#,
        )
        .unwrap();
        assert_eq!(e[0].quorate, Some(true));
        assert_eq!(e[1].sid.as_deref(), Some("vm:100"));
        let r: Vec<HaRule> = serde_json::from_str(
            r#"[{"rule":"keep","type":"node-affinity","nodes":"pve1:2","resources":"vm:100"}]"#,
        )
        .unwrap();
        assert_eq!(r[0].other["nodes"], "pve1:2");
    }
}
