//! `list_updates`: the package updates pending on one node or every online node, as the
//! node's package index knows them (it does not refresh the index), security fixes flagged.

use futures_util::future::join_all;
use pve_client::api::monitor::AptUpdate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::ToolError;
use crate::handler;
use crate::registry::{Access, ToolCtx, ToolDef, ToolSpec};
use crate::tools::common::is_false;

/// `list_updates`.
pub(crate) fn list_updates() -> ToolSpec {
    ToolSpec::new(
        ToolDef {
            name: "list_updates",
            title: "Pending updates",
            description: "Pending package updates per node, security fixes flagged. Use it before patching.",
            toolset: "monitoring",
            access: Access::Read,
            idempotent: true,
        },
        handler!(list_updates_handler),
    )
}

/// Parameters of `list_updates`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UpdatesParams {
    /// Only this node (default: all).
    #[serde(default)]
    pub(crate) node: Option<String>,
}

/// One pending update.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct UpdateLine {
    pub(crate) package: String,
    /// Installed version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) installed: Option<String>,
    /// The version it would update to.
    pub(crate) version: String,
    /// `Proxmox`, `Debian`...
    pub(crate) origin: String,
    /// Its title or description names a security fix.
    #[serde(skip_serializing_if = "is_false")]
    pub(crate) security: bool,
}

/// One node's pending updates.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct NodeUpdates {
    pub(crate) node: String,
    pub(crate) updates: Vec<UpdateLine>,
    pub(crate) count: usize,
    /// How many are security fixes.
    pub(crate) security: usize,
}

/// Output of `list_updates`.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct UpdatesOutput {
    pub(crate) nodes: Vec<NodeUpdates>,
    /// Nodes whose updates could not be read, with the reason.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) unreachable_nodes: Vec<String>,
}

/// Whether an update is a security fix: PVE's answer has no flag, so its title or
/// description must say so (Debian's security advisories: DSA, DLA, CVE numbers).
fn is_security(u: &AptUpdate) -> bool {
    let text = format!("{} {}", u.title, u.description).to_lowercase();
    ["security", "cve-", "dsa-", "dla-"]
        .iter()
        .any(|w| text.contains(w))
}

fn node_updates(node: String, list: Vec<AptUpdate>) -> NodeUpdates {
    let mut updates: Vec<UpdateLine> = list
        .into_iter()
        .map(|u| UpdateLine {
            security: is_security(&u),
            package: u.package,
            installed: u.old_version,
            version: u.version,
            origin: u.origin,
        })
        .collect();
    // Security fixes first, then by name.
    updates.sort_by(|a, b| b.security.cmp(&a.security).then(a.package.cmp(&b.package)));
    NodeUpdates {
        node,
        count: updates.len(),
        security: updates.iter().filter(|u| u.security).count(),
        updates,
    }
}

async fn list_updates_handler(ctx: &ToolCtx, p: UpdatesParams) -> Result<UpdatesOutput, ToolError> {
    let asked = p
        .node
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty());
    let nodes: Vec<String> = match &asked {
        Some(n) => vec![n.clone()],
        None => {
            let mut names: Vec<String> = ctx
                .client
                .nodes()
                .await?
                .into_iter()
                .filter(|n| n.status == "online")
                .map(|n| n.node)
                .collect();
            names.sort();
            names
        }
    };
    let answers = join_all(nodes.into_iter().map(|n| async move {
        let r = ctx.client.apt_updates(&n).await;
        (n, r)
    }))
    .await;
    let mut out = UpdatesOutput {
        nodes: Vec::new(),
        unreachable_nodes: Vec::new(),
    };
    for (node, answer) in answers {
        match answer {
            Ok(list) => out.nodes.push(node_updates(node, list)),
            // Asked for one node: its error is the answer.
            Err(e) if asked.is_some() => return Err(e.into()),
            Err(e) => out.unreachable_nodes.push(format!("{node}: {e}")),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn security_fixes_are_told_by_their_words() {
        let u = |title: &str, description: &str| AptUpdate {
            title: title.into(),
            description: description.into(),
            ..AptUpdate::default()
        };
        assert!(is_security(&u("x", "Security update (DSA-6012-1)")));
        assert!(is_security(&u("fixes CVE-2026-1", "")));
        assert!(!is_security(&u("tzdata", "Time zone rule changes")));
    }
}
