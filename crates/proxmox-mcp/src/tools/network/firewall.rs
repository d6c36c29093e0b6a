//! `get_firewall_rules` (read-only): the firewall of the datacenter, a node or a guest: its
//! options (enabled, policies), its rules in order, and where PVE has them its aliases and IP
//! sets (datacenter and guests) and security groups (datacenter).

use futures_util::future::{join_all, try_join};
use pve_client::api::network::{FirewallLevel, FirewallRule};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::TOOLSET;
use crate::error::ToolError;
use crate::handler;
use crate::registry::lenient;
use crate::registry::{Access, ToolCtx, ToolDef, ToolSpec};
use crate::tools::common::guest_error;

/// `get_firewall_rules`.
pub(crate) fn get_firewall_rules() -> ToolSpec {
    ToolSpec::new(
        ToolDef::new(
            TOOLSET,
            "get_firewall_rules",
            "Show firewall rules",
            "Firewall rules, options, aliases and IP sets of the datacenter, a node or a guest (vmid). Use it to see why traffic is blocked.",
            Access::Read,
            true,
        ),
        handler!(get_firewall_rules_handler),
    )
}

/// Parameters of `get_firewall_rules`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct FirewallParams {
    /// A guest's firewall.
    #[serde(default, deserialize_with = "lenient::opt_int")]
    #[schemars(range(min = 100))]
    pub(crate) vmid: Option<u32>,
    /// A node's firewall (neither: the datacenter's).
    #[serde(default)]
    pub(crate) node: Option<String>,
}

/// One rule.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub(crate) struct RuleLine {
    /// Position (rules apply in this order).
    pub(crate) pos: u32,
    /// `in`, `out`, `forward` or `group` (a security group inserted here).
    pub(crate) direction: String,
    /// `ACCEPT`, `DROP`, `REJECT`, or the security group.
    pub(crate) action: String,
    pub(crate) enabled: bool,
    #[serde(rename = "macro", skip_serializing_if = "Option::is_none")]
    pub(crate) macro_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) proto: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) source: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) dest: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) sport: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) dport: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) iface: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) icmp_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) log: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) comment: Option<String>,
}

impl From<FirewallRule> for RuleLine {
    fn from(r: FirewallRule) -> Self {
        RuleLine {
            pos: r.pos,
            direction: r.kind,
            action: r.action,
            enabled: r.enable.is_some_and(|e| e != 0),
            macro_name: r.r#macro,
            proto: r.proto,
            source: r.source,
            dest: r.dest,
            sport: r.sport,
            dport: r.dport,
            iface: r.iface,
            icmp_type: r.icmp_type,
            log: r.log.filter(|l| l != "nolog"),
            comment: r.comment.filter(|c| !c.is_empty()),
        }
    }
}

/// A named address or network.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct AliasLine {
    pub(crate) name: String,
    pub(crate) cidr: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) comment: Option<String>,
}

/// An IP set and its entries (`!` before an excluded one).
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct IpSetLine {
    pub(crate) name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) comment: Option<String>,
    pub(crate) entries: Vec<String>,
}

/// A security group of the datacenter and its rules.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct GroupLine {
    pub(crate) name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) comment: Option<String>,
    pub(crate) rules: Vec<RuleLine>,
}

/// Output of `get_firewall_rules`.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct FirewallOutput {
    /// `cluster`, `node` or `guest`.
    pub(crate) level: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) node: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) vmid: Option<u32>,
    /// Whether this firewall is on (`enable` of its options; PVE's default is off).
    pub(crate) enabled: bool,
    /// PVE's options as it reports them (`policy_in`, `policy_out`, `log_level_in`...).
    pub(crate) options: Map<String, Value>,
    pub(crate) rules: Vec<RuleLine>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) aliases: Vec<AliasLine>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) ipsets: Vec<IpSetLine>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) groups: Vec<GroupLine>,
}

fn enabled(options: &Map<String, Value>) -> bool {
    match options.get("enable") {
        Some(Value::Number(n)) => n.as_i64().is_some_and(|n| n != 0),
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => !matches!(s.as_str(), "" | "0"),
        _ => false,
    }
}

async fn get_firewall_rules_handler(
    ctx: &ToolCtx,
    p: FirewallParams,
) -> Result<FirewallOutput, ToolError> {
    let node = p
        .node
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty());
    let (level, node, kind) = match (p.vmid, node) {
        (Some(vmid), node) => {
            if vmid < 100 {
                return Err(ToolError::invalid("vmid", "VMIDs start at 100"));
            }
            let (kind, at) = crate::tools::snapshots::locate(ctx, vmid, node).await?;
            let level = FirewallLevel::Guest {
                node: at.clone(),
                kind,
                vmid,
            };
            (level, Some(at), Some(kind))
        }
        (None, Some(n)) => (FirewallLevel::Node(n.clone()), Some(n), None),
        (None, None) => (FirewallLevel::Cluster, None, None),
    };
    let wrap = |e: pve_client::Error| match (p.vmid, kind) {
        (Some(vmid), Some(kind)) => guest_error(e, vmid, kind),
        _ => e.into(),
    };
    let (options, rules) = try_join(
        ctx.client.firewall_options(&level),
        ctx.client.firewall_rules(&level),
    )
    .await
    .map_err(wrap)?;
    let mut out = FirewallOutput {
        level: match level {
            FirewallLevel::Cluster => "cluster",
            FirewallLevel::Node(_) => "node",
            FirewallLevel::Guest { .. } => "guest",
        }
        .to_string(),
        node,
        vmid: p.vmid,
        enabled: enabled(&options),
        options,
        rules: rules.into_iter().map(RuleLine::from).collect(),
        aliases: Vec::new(),
        ipsets: Vec::new(),
        groups: Vec::new(),
    };
    if matches!(level, FirewallLevel::Node(_)) {
        return Ok(out);
    }
    let (aliases, sets) = try_join(
        ctx.client.firewall_aliases(&level),
        ctx.client.firewall_ipsets(&level),
    )
    .await
    .map_err(wrap)?;
    out.aliases = aliases
        .into_iter()
        .map(|a| AliasLine {
            name: a.name,
            cidr: a.cidr,
            comment: a.comment.filter(|c| !c.is_empty()),
        })
        .collect();
    let entries = join_all(
        sets.iter()
            .map(|s| ctx.client.firewall_ipset(&level, &s.name)),
    )
    .await;
    for (set, entries) in sets.into_iter().zip(entries) {
        out.ipsets.push(IpSetLine {
            name: set.name,
            comment: set.comment.filter(|c| !c.is_empty()),
            entries: entries
                .map_err(wrap)?
                .into_iter()
                .map(|e| {
                    if e.nomatch {
                        format!("!{}", e.cidr)
                    } else {
                        e.cidr
                    }
                })
                .collect(),
        });
    }
    if level == FirewallLevel::Cluster {
        let groups = ctx.client.firewall_groups().await?;
        let rules = join_all(
            groups
                .iter()
                .map(|g| ctx.client.firewall_group_rules(&g.group)),
        )
        .await;
        for (g, rules) in groups.into_iter().zip(rules) {
            out.groups.push(GroupLine {
                name: g.group,
                comment: g.comment.filter(|c| !c.is_empty()),
                rules: rules?.into_iter().map(RuleLine::from).collect(),
            });
        }
    }
    Ok(out)
}
