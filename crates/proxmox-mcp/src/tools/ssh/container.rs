//! `execute_container_command`: run a command inside a running LXC container. The Proxmox VE
//! API has no exec for containers, so it runs `pct exec VMID -- ARGV…` on the container's node
//! over SSH (pve-client's `ssh`: pinned host keys, every argument quoted), within the same exec
//! policy as `execute_vm_command` (`guard::exec`). The exact command line goes through the call's
//! request hook first, so a dry run shows it and protection refuses a protected container.

use std::time::Duration;

use pve_client::GuestKind;
use pve_client::ssh::{RunOptions, SshClient};
use schemars::JsonSchema;
use serde::Serialize;

use crate::error::ToolError;
use crate::handler;
use crate::registry::{Access, ToolCtx, ToolDef, ToolSpec};
use crate::tools::common::{guest_error, guest_node, is_false};
use crate::tools::core::exec_line::{GuestCommand, timeout_of};

/// `execute_container_command`.
pub(crate) fn execute_container_command() -> ToolSpec {
    ToolSpec::new(
        ToolDef {
            name: "execute_container_command",
            title: "Run command in container",
            description: "Run a command in a running LXC container (pct exec over SSH). Use it \
                          when you need output from inside a container.",
            toolset: "ssh",
            access: Access::Destructive,
            idempotent: false,
        },
        handler!(execute_container_command_handler),
    )
    .admin_only()
    .audits(AUDITED)
}

/// Output fields the audit log keeps (never the output itself).
pub(crate) const AUDITED: &[&str] = &["command_line", "exit_code", "timed_out", "duration_ms"];

/// Parameters of `execute_container_command`: those of `execute_vm_command`.
pub(crate) type CtExecParams = crate::tools::core::vm_exec::ExecParams;

/// Output of `execute_container_command` (and `execute_node_command`).
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct SshExecOutput {
    /// The container, for a command inside one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) vmid: Option<u32>,
    pub(crate) node: String,
    /// The exact command line run on the node over SSH.
    pub(crate) command_line: String,
    /// Exit status, once the command ended by itself (pct's 255 when it could not run it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) exit_code: Option<u32>,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
    /// stdout was cut at the exec policy's cap (64 KiB by default).
    #[serde(skip_serializing_if = "is_false")]
    pub(crate) stdout_truncated: bool,
    /// stderr was cut at the exec policy's cap (64 KiB by default).
    #[serde(skip_serializing_if = "is_false")]
    pub(crate) stderr_truncated: bool,
    /// The command was still running at timeout_seconds and was hung up (SIGHUP).
    #[serde(skip_serializing_if = "is_false")]
    pub(crate) timed_out: bool,
    /// How long the command ran, in milliseconds.
    pub(crate) duration_ms: u64,
}

async fn execute_container_command_handler(
    ctx: &ToolCtx,
    p: CtExecParams,
) -> Result<SshExecOutput, ToolError> {
    let policy = &ctx.guard.exec;
    let timeout = timeout_of(policy, p.timeout_seconds)?;
    let cmd = GuestCommand::new(&p.command, p.args, p.shell)?;
    policy.check(&cmd.line).map_err(ToolError::policy)?;
    let ssh = ssh_of(ctx)?;
    let vmid = p.vmid;
    let node = guest_node(ctx, vmid, p.node, GuestKind::Lxc).await?;
    let status = ctx
        .client
        .lxc_status(&node, vmid)
        .await
        .map_err(|e| guest_error(e, vmid, GuestKind::Lxc))?;
    if status.summary.status != "running" {
        return Err(ToolError::pve(format!(
            "container {vmid} is not running (status: {}): start it with start_container first; \
             nothing was run",
            status.summary.status
        )));
    }
    let opts = RunOptions::with_timeout(Duration::from_secs(u64::from(timeout)))
        .with_max_output(policy.max_output);
    let out = ctx
        .until_interrupted(|stop| {
            let (ssh, node, argv, opts) = (&ssh, &node, &cmd.argv, opts.cancel_on(stop));
            async move {
                ssh.pct_exec_checked(&ctx.client, node, vmid, argv, &opts)
                    .await
            }
        })
        .await
        .map_err(|e| ssh_error(e, &node))?;
    output(Some(vmid), node, out)
}

/// The SSH client of the call's cluster; an error saying how to configure it when there is none.
pub(crate) fn ssh_of(ctx: &ToolCtx) -> Result<SshClient, ToolError> {
    ctx.clusters
        .get(&ctx.cluster)
        .and_then(|c| c.ssh.clone())
        .ok_or_else(|| {
            ToolError::pve(format!(
                "SSH to the nodes of cluster {} is not configured on this server, so commands \
                 cannot run in containers or on nodes: the operator adds a [cluster.ssh] section \
                 (or PROXMOX_SSH_KEY_FILE and pinned fingerprints); nothing was run",
                ctx.cluster
            ))
        })
}

/// A pve-client SSH error worded for the agent; a timeout before the command started stays a
/// timeout.
pub(crate) fn ssh_error(e: pve_client::Error, node: &str) -> ToolError {
    use pve_client::ErrorKind;
    match e.kind() {
        ErrorKind::Timeout => ToolError::Timeout(e.to_string()),
        ErrorKind::Cancelled => ToolError::Internal(format!("the call was cancelled: {e}")),
        ErrorKind::Permission => ToolError::policy(e.message().to_string()),
        ErrorKind::HostKey => ToolError::pve(format!(
            "node {node}'s SSH host key is not trusted, so nothing was run: {e}. The operator \
             checks it (proxmox-mcp doctor prints each node's fingerprint) and pins it"
        )),
        _ => ToolError::pve(format!("SSH to node {node}: {e}")),
    }
}

/// The tool's answer from what the command did; a call cancelled while the command ran (the
/// caller went away, the server is shutting down) is an error saying it was hung up.
pub(crate) fn output(
    vmid: Option<u32>,
    node: String,
    out: pve_client::ssh::RunOutput,
) -> Result<SshExecOutput, ToolError> {
    if out.cancelled {
        return Err(ToolError::Internal(format!(
            "the call was cancelled (the caller went away, or the server is shutting down) while \
             `{}` ran on node {node}: it was hung up (SIGHUP)",
            out.command_line
        )));
    }
    Ok(SshExecOutput {
        vmid,
        node,
        command_line: out.command_line,
        exit_code: out.exit_code,
        stdout: out.stdout,
        stderr: out.stderr,
        stdout_truncated: out.stdout_truncated,
        stderr_truncated: out.stderr_truncated,
        timed_out: out.timed_out,
        duration_ms: u64::try_from(out.duration.as_millis()).unwrap_or(u64::MAX),
    })
}
