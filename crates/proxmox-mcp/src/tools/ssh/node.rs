//! `execute_node_command` (toolset `ssh`, off by default): a diagnostic command run
//! on a node over SSH (`pveversion -v`, `zpool status`, `journalctl -u pve-cluster -n 100`),
//! for what an agent cannot read from the API. Only the command lines `[guard.node_commands]
//! allow` names run (no deny-list mode; an empty list runs nothing); admin keys only;
//! confirmation, dry run (the exact remote command line) and audit come from the call flow.

use std::time::Duration;

use pve_client::ssh::{RunOptions, command_line};
use schemars::JsonSchema;
use serde::Deserialize;

use super::container::{AUDITED, SshExecOutput, output, ssh_error, ssh_of};
use crate::error::ToolError;
use crate::handler;
use crate::registry::lenient;
use crate::registry::{Access, ToolCtx, ToolDef, ToolSpec};
use crate::tools::core::exec_line::timeout_of;

/// `execute_node_command`.
pub(crate) fn execute_node_command() -> ToolSpec {
    ToolSpec::new(
        ToolDef {
            name: "execute_node_command",
            title: "Run diagnostic command on node",
            description: "Run a diagnostic command the operator allows (pveversion -v, zpool \
                          status) on a node over SSH. Use it for what the API cannot show.",
            toolset: "ssh",
            access: Access::Destructive,
            idempotent: false,
        },
        handler!(execute_node_command_handler),
    )
    .admin_only()
    .audits(AUDITED)
}

/// Parameters of `execute_node_command`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NodeExecParams {
    /// Node.
    pub(crate) node: String,
    /// Command line, words split on spaces (no shell).
    pub(crate) command: String,
    /// Seconds for the command (default 30).
    #[serde(default, deserialize_with = "lenient::opt_int")]
    #[schemars(range(min = 1))]
    pub(crate) timeout_seconds: Option<u32>,
}

async fn execute_node_command_handler(
    ctx: &ToolCtx,
    p: NodeExecParams,
) -> Result<SshExecOutput, ToolError> {
    let policy = &ctx.guard.node_commands;
    if policy.allows_nothing() {
        return Err(ToolError::policy(
            "no node command is allowed on this server: the operator lists the ones agents may \
             run in [guard.node_commands] allow (e.g. \"pveversion -v\", \"zpool status\"); \
             nothing was run",
        ));
    }
    let timeout = timeout_of(policy, p.timeout_seconds)?;
    let node = p.node.trim();
    if node.is_empty() {
        return Err(ToolError::invalid("node", "must not be empty"));
    }
    let argv: Vec<&str> = p.command.split_whitespace().collect();
    if argv.is_empty() {
        return Err(ToolError::invalid("command", "must not be empty"));
    }
    let line = command_line(&argv).map_err(|e| ToolError::invalid("command", e.message()))?;
    policy.check(&line).map_err(ToolError::policy)?;
    let ssh = ssh_of(ctx)?;
    let status = ctx.client.cluster_status().await?;
    if !status.iter().any(|e| e.kind == "node" && e.name == node) {
        let nodes: Vec<&str> = status
            .iter()
            .filter(|e| e.kind == "node")
            .map(|e| e.name.as_str())
            .collect();
        return Err(ToolError::invalid(
            "node",
            format!(
                "node {node:?} is not in the cluster (its nodes: {}); nothing was run",
                nodes.join(", ")
            ),
        ));
    }
    let opts = RunOptions::with_timeout(Duration::from_secs(u64::from(timeout)))
        .with_max_output(policy.max_output);
    let out = ctx
        .until_interrupted(|stop| {
            let (ssh, argv, opts) = (&ssh, &argv, opts.cancel_on(stop));
            async move { ssh.run_checked(&ctx.client, node, argv, &opts).await }
        })
        .await
        .map_err(|e| ssh_error(e, node))?;
    output(None, node.to_string(), out)
}
