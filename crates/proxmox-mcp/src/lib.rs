//! The proxmox-mcp server library: tool registry, policy and the MCP and REST front doors.
//!
//! `registry` defines what a tool is; `tools` holds every tool (one place each); `app` ties the
//! registry to a Proxmox VE client (a real cluster, or the embedded simulator of `demo`);
//! `mcp` is the MCP front door, `rest` the REST one (`auth` guards the HTTP doors); `docs`
//! renders the tool reference from the registry; `guard` is the policy of mutating calls
//! (confirmation, dry run, protected guests, exec policy) and `audit` its hash-chained log;
//! `ops` serves health and metrics and drains calls on shutdown; `config_import` reads the JSON
//! configuration of the Python servers; `serve` runs a door's connections within the budget of
//! `conns`.

pub mod app;
pub mod audit;
pub mod auth;
pub mod cli;
pub mod clusters;
pub mod config;
pub mod conns;
pub mod demo;
pub mod docs;
pub mod doctor;
pub mod error;
pub mod guard;
pub mod mcp;
pub mod ops;
pub mod registry;
pub mod rest;
pub mod serve;
pub mod tls;
pub mod tools;

pub use app::App;
pub use error::ToolError;
pub use registry::{Access, Registry, ToolCtx, ToolSpec};
