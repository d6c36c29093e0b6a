//! The proxmox-mcp server library: tool registry, policy and the MCP and REST front doors.
//!
//! `registry` defines what a tool is; `tools` holds every tool (one place each); `app` ties the
//! registry to a Proxmox VE client; `mcp` (and later `rest`) are the front doors.

pub mod error;
pub mod registry;
pub mod tools;

pub use error::ToolError;
pub use registry::{Access, Registry, ToolCtx, ToolSpec};
