//! The `ssh` toolset (off by default; SSH to the nodes must be configured first): commands the
//! Proxmox VE API cannot run, over SSH with pinned host keys. `container.rs`:
//! `execute_container_command` (`pct exec` in a container); `node.rs`: `execute_node_command`
//! (the diagnostics `[guard.node_commands]` allows).

pub(super) mod container;
pub(super) mod node;
