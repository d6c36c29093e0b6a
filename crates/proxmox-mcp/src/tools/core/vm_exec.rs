//! `execute_vm_command`: run a command inside a VM through the QEMU guest agent (pve-client's
//! `exec`: its polling, retries and output cap) and return its exit code and output, within the
//! server's exec policy (allow/deny patterns on the command line, timeout and output cap:
//! `guard::exec`). Every agent failure is reported plainly (VM off, agent not enabled or not
//! running, exec refused by the agent).

use std::time::Duration;

use pve_client::GuestKind;
use pve_client::exec::ExecRequest;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::exec_line::{GuestCommand, timeout_of};
use crate::error::ToolError;
use crate::guard::ExecPolicy;
use crate::handler;
use crate::registry::lenient;
use crate::registry::{Access, Registry, ToolCtx, ToolDef, ToolSpec};
use crate::tools::common::{guest_error, guest_node, is_false};

/// This tool's name.
pub(crate) const NAME: &str = "execute_vm_command";

/// What `serve` and `doctor` say when this tool is offered under a deny list alone: the
/// warning and what to do.
pub(crate) fn deny_only_warning(
    offered: &Registry,
    policy: &ExecPolicy,
) -> Option<(String, String)> {
    (offered.get(NAME).is_some() && policy.deny_only()).then(|| {
        (
            format!(
                "guest exec ({NAME}) is offered with a deny list alone (guard.exec.deny): deny \
                 lists are best-effort, a caller can word a command around them"
            ),
            format!(
                "add an allow list (guard.exec.allow) naming the commands agents may run (allow \
                 lists are the safe mode), or exclude {NAME} (tools.exclude_tools)"
            ),
        )
    })
}

/// `execute_vm_command`.
pub(crate) fn execute_vm_command() -> ToolSpec {
    ToolSpec::new(
        ToolDef {
            name: NAME,
            title: "Run command in VM",
            description: "Run a command in a running VM via the guest agent. Use it when you need output from inside the guest.",
            toolset: "core",
            access: Access::Destructive,
            idempotent: false,
        },
        handler!(execute_vm_command_handler),
    )
    .admin_only()
}

/// Parameters of `execute_vm_command` (and `execute_container_command`).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExecParams {
    /// VMID.
    #[serde(deserialize_with = "lenient::int")]
    pub(crate) vmid: u32,
    /// Program, or a shell line.
    pub(crate) command: String,
    /// Program arguments (no quoting).
    #[serde(default)]
    pub(crate) args: Option<Vec<String>>,
    /// Run via /bin/sh -c (default: if spaces and no args).
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    pub(crate) shell: Option<bool>,
    /// Seconds for the command (default 30).
    #[serde(default, deserialize_with = "lenient::opt_int")]
    #[schemars(range(min = 1))]
    pub(crate) timeout_seconds: Option<u32>,
    /// Accepted but not shown in the schema: found from the VMID when absent.
    #[serde(default)]
    #[schemars(skip)]
    pub(crate) node: Option<String>,
}

/// Output of `execute_vm_command`.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct ExecOutput {
    pub(crate) vmid: u32,
    pub(crate) node: String,
    /// Process id inside the guest.
    pub(crate) pid: u64,
    /// The command finished within timeout_seconds.
    pub(crate) exited: bool,
    /// Exit code, once exited.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) exit_code: Option<i64>,
    /// Signal that killed it, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) signal: Option<i64>,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
    /// stdout was cut (by the agent, or here at the exec policy's cap, 64 KiB by default).
    #[serde(skip_serializing_if = "is_false")]
    pub(crate) stdout_truncated: bool,
    /// stderr was cut (by the agent, or here at the exec policy's cap, 64 KiB by default).
    #[serde(skip_serializing_if = "is_false")]
    pub(crate) stderr_truncated: bool,
    /// What happened when the command did not finish in time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) hint: Option<String>,
}

async fn execute_vm_command_handler(ctx: &ToolCtx, p: ExecParams) -> Result<ExecOutput, ToolError> {
    let policy = &ctx.guard.exec;
    let timeout = timeout_of(policy, p.timeout_seconds)?;
    let cmd = GuestCommand::new(&p.command, p.args, p.shell)?;
    policy.check(&cmd.line).map_err(ToolError::policy)?;
    let request = if cmd.shell {
        ExecRequest::shell(cmd.line)
    } else {
        ExecRequest::argv(cmd.argv)
    };
    let vmid = p.vmid;
    let node = guest_node(ctx, vmid, p.node, GuestKind::Qemu).await?;
    let status = ctx
        .client
        .qemu_status(&node, vmid)
        .await
        .map_err(|e| guest_error(e, vmid, GuestKind::Qemu))?;
    if status.status != "running" {
        return Err(ToolError::pve(format!(
            "VM {vmid} is not running (status: {}): start it with start_vm first; commands run \
             through the QEMU guest agent inside the running guest",
            status.status
        )));
    }
    if !status.agent {
        return Err(ToolError::pve(format!(
            "the QEMU guest agent is not enabled in VM {vmid}'s options (set agent: 1 and install \
             qemu-guest-agent in the guest)"
        )));
    }
    let progress = ctx.progress.clone();
    let request = request
        .with_timeout(Duration::from_secs(u64::from(timeout)))
        .with_max_output(policy.max_output)
        .on_progress(move |p| {
            progress.report(
                p.elapsed.as_secs_f64(),
                Some(p.timeout.as_secs_f64()),
                Some(format!("waiting for pid {} in VM {}", p.pid, p.vmid)),
            );
        });
    let out = ctx
        .until_interrupted(|stop| {
            let (node, request) = (&node, request.cancel_on(stop));
            async move { ctx.client.exec(node, vmid, &request).await }
        })
        .await
        .map_err(|e| agent_error(e, vmid))?;
    let hint = (!out.exited).then(|| {
        let pid = out.pid;
        if ctx.stop_waiting.is_cancelled() {
            format!(
                "the server is shutting down, so it stopped waiting: the command goes on running \
                 in the guest (pid {pid}), but its output is not collected"
            )
        } else {
            format!(
                "the command was still running after {timeout}s (pid {pid} in the guest); it goes \
                 on running, but its output is not collected. Run long jobs in the background \
                 (nohup ... &) and read their output with a later command"
            )
        }
    });
    Ok(ExecOutput {
        vmid,
        node,
        pid: out.pid,
        exited: out.exited,
        exit_code: out.exit_code,
        signal: out.signal,
        stdout: out.stdout,
        stderr: out.stderr,
        stdout_truncated: out.stdout_truncated,
        stderr_truncated: out.stderr_truncated,
        hint,
    })
}

/// Agent failures worded plainly.
fn agent_error(e: pve_client::Error, vmid: u32) -> ToolError {
    let text = e.to_string();
    let lower = text.to_ascii_lowercase();
    let message = if lower.contains("not running") && lower.contains("agent") {
        format!(
            "the QEMU guest agent is not running inside VM {vmid}: install and start \
             qemu-guest-agent in the guest ({text})"
        )
    } else if lower.contains("disabled")
        || lower.contains("not allowed")
        || lower.contains("blocked")
    {
        format!(
            "the QEMU guest agent of VM {vmid} refuses to run commands (guest-exec is disabled in \
             its configuration) ({text})"
        )
    } else if lower.contains("does not exist") {
        return guest_error(e, vmid, GuestKind::Qemu);
    } else {
        format!("guest agent of VM {vmid}: {text}")
    };
    ToolError::Pve {
        status: e.status(),
        message,
    }
}
