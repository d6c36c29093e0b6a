//! What the integration tests share, in one place: hostile paths for `proxmox_api` (`api`),
//! the demo cluster behind an app and its
//! checks (`demo`), the REST door (`rest`), the MCP door over fixture tools and raw MCP over HTTP
//! (`mcp`), the MCP door behind keys (`door`), the client scenarios every transport runs
//! (`scenarios`), tool calls in one Streamable HTTP session (`session`), and the `proxmox-mcp`
//! binary run as a process (`process`).

pub mod api;
pub mod demo;
pub mod door;
pub mod mcp;
pub mod process;
pub mod rest;
pub mod scenarios;
pub mod session;
