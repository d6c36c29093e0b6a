//! The proxmox-mcp server library: tool registry, policy and the MCP and REST front doors.
