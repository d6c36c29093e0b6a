//! `get_ha_status`: the HA manager (quorum, master, each node's LRM), the managed guests with
//! their requested and current state, and the PVE 9 rules (node and resource affinity, which
//! replaced HA groups), from three requests sent together.

use std::collections::HashMap;

use pve_client::api::ha::HaRule;
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

use super::TOOLSET;
use crate::error::ToolError;
use crate::handler;
use crate::registry::{Access, ToolCtx, ToolDef, ToolSpec};
use crate::tools::common::NoParams;

/// `get_ha_status`.
pub(crate) fn get_ha_status() -> ToolSpec {
    ToolSpec::new(
        ToolDef {
            name: "get_ha_status",
            title: "HA status",
            description: "High availability: manager, quorum, each node's LRM, managed guests \
                          and their state, affinity rules. Use it when HA guests misbehave.",
            toolset: TOOLSET,
            access: Access::Read,
            idempotent: true,
        },
        handler!(get_ha_status_handler),
    )
}

/// A node's local resource manager.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct LrmLine {
    pub(crate) node: String,
    /// PVE's status line (`pve1 (active, ...)`, `old timestamp - dead?`).
    pub(crate) status: String,
}

/// A guest HA manages.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct HaResourceLine {
    /// `vm:100` / `ct:200`.
    pub(crate) sid: String,
    pub(crate) node: String,
    /// The state the CRM sees (`started`, `stopped`, `error`, `fence`, `recovery`...).
    pub(crate) state: String,
    /// The state asked for (`started`, `stopped`, `disabled`, `ignored`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) requested: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) max_restart: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) max_relocate: Option<u32>,
    /// PVE 8 and earlier: its HA group.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) group: Option<String>,
}

/// An HA rule (PVE 9).
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct RuleLine {
    pub(crate) rule: String,
    /// `node-affinity` or `resource-affinity`.
    #[serde(rename = "type")]
    pub(crate) kind: String,
    /// The rule's settings as PVE shows them (`resources`, `nodes`, `affinity`, `strict`,
    /// `disable`, `comment`).
    pub(crate) settings: std::collections::BTreeMap<String, Value>,
}

/// Output of `get_ha_status`.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct HaStatusOutput {
    /// The HA quorum status (`OK`, or why not).
    pub(crate) quorum: String,
    pub(crate) quorate: bool,
    /// The node running the HA manager and its status line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) master: Option<String>,
    pub(crate) nodes: Vec<LrmLine>,
    pub(crate) resources: Vec<HaResourceLine>,
    /// Absent when this PVE has no rules (before 9.0): see `note`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) rules: Option<Vec<RuleLine>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) note: Option<String>,
}

async fn get_ha_status_handler(ctx: &ToolCtx, _p: NoParams) -> Result<HaStatusOutput, ToolError> {
    let c = &ctx.client;
    let (status, resources, rules) = tokio::join!(c.ha_status(), c.ha_resources(), c.ha_rules());
    let status = status?;
    let config: HashMap<String, pve_client::api::ha::HaResource> =
        resources?.into_iter().map(|r| (r.sid.clone(), r)).collect();
    let quorum = status.iter().find(|e| e.kind == "quorum");
    let nodes = status
        .iter()
        .filter(|e| e.kind == "lrm")
        .map(|e| LrmLine {
            node: e.node.clone(),
            status: e.status.clone(),
        })
        .collect();
    let mut lines: Vec<HaResourceLine> = status
        .iter()
        .filter(|e| e.kind == "service")
        .map(|e| {
            let sid = e.sid.clone().unwrap_or_else(|| e.id.clone());
            let conf = config.get(&sid);
            HaResourceLine {
                node: e.node.clone(),
                state: e
                    .crm_state
                    .clone()
                    .or_else(|| e.state.clone())
                    .unwrap_or_else(|| e.status.clone()),
                requested: e
                    .request_state
                    .clone()
                    .or_else(|| conf.and_then(|c| c.state.clone())),
                max_restart: conf.and_then(|c| c.max_restart),
                max_relocate: conf.and_then(|c| c.max_relocate),
                group: conf.and_then(|c| c.group.clone()),
                sid,
            }
        })
        .collect();
    lines.sort_by(|a, b| a.sid.cmp(&b.sid));
    let (rules, note) = match rules {
        Ok(r) => (Some(r.into_iter().map(rule_line).collect()), None),
        Err(e) => (
            None,
            Some(format!(
                "HA rules not available (Proxmox VE 9 has them; older versions use HA groups): {e}"
            )),
        ),
    };
    Ok(HaStatusOutput {
        quorum: quorum.map_or_else(|| "unknown".into(), |q| q.status.clone()),
        quorate: quorum.and_then(|q| q.quorate).unwrap_or(false),
        master: status
            .iter()
            .find(|e| e.kind == "master")
            .map(|m| m.status.clone()),
        nodes,
        resources: lines,
        rules,
        note,
    })
}

fn rule_line(r: HaRule) -> RuleLine {
    let settings = r
        .other
        .into_iter()
        .filter(|(k, _)| k != "digest" && k != "order")
        .collect();
    RuleLine {
        rule: r.rule,
        kind: r.kind,
        settings,
    }
}
