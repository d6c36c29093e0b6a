//! The QEMU guest agent inside simulated VMs: `exec` starts a deterministic fake command,
//! `exec-status` reports it running, then its exit code and output.

/// Processes started through `agent/exec`, by VMID and pid.
#[derive(Debug, Default)]
pub struct AgentProcs {}
