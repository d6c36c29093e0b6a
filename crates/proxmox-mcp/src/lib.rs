//! The proxmox-mcp server library: the tools over Proxmox VE, the one call flow every door uses
//! (admission, confirmation, dry run, protected guests, audit, metrics), the MCP and REST doors,
//! and the wiring that turns settings into them. ARCHITECTURE.md gives the layers, bottom to top:
//! `error`, `caller`, `clusters`; `audit`; `guard`; `registry`; `tools`, `resources`, `prompts`,
//! `auth`, `ops`, `docs`; `config`; the doors `mcp`, `rest`, `serve`, `conns`, `tls`; `app`,
//! `demo`, `doctor`, `reload`; `cli`.
//!
//! Every module is private: the items below are the public surface (what the binary and the
//! integration tests use), each reachable by one path, so that rustc reports the rest when it
//! is dead (`unreachable_pub` is denied).
#![deny(unreachable_pub)]

mod app;
mod audit;
mod auth;
mod caller;
mod cli;
mod clusters;
mod config;
mod conns;
mod demo;
mod docs;
mod doctor;
mod error;
#[doc(hidden)]
pub mod fuzzing;
mod guard;
mod mcp;
mod ops;
mod prompts;
mod registry;
mod reload;
mod resources;
mod rest;
mod serve;
mod tls;
mod tools;

// Tools, calls and what is generated from them.
pub use caller::{Caller, SessionToolsets};
pub use docs::{readme_table, replace_readme_table, schema_snapshot, tools_markdown};
pub use error::ToolError;
pub use registry::{
    Access, NoProgress, Progress, RateLimiter, Registry, Scope, ToolCtx, ToolDef, ToolFilter,
    ToolHost, ToolSpec,
};
pub use rest::openapi::{document as openapi_document, render as render_openapi};
pub use tools::registry as builtin_tools;

// Configuration and the policy it sets.
pub use config::{ClusterChoice, FileConfig, LogFormat, Overrides, Settings, TlsFiles};
pub use guard::{ApiConfig, ExecConfig, Guard, GuardConfig, NodeCommandsConfig};

// The wiring and the doors.
pub use app::{App, AppError, bind, door_configs, serve_mcp, serve_rest};
pub use auth::{Gate, KeyRing, KeySpec};
pub use conns::{ConnLimits, Connections, raise_open_files_limit};
pub use demo::DemoCluster;
pub use mcp::{McpHttp, McpHttpConfig, PATHS as MCP_PATHS, serve_stdio};
pub use ops::Ops;
pub use reload::{KEY_WATCH_INTERVAL, reload_keys};
pub use rest::RestConfig;
pub use serve::serve_http;
pub use tls::server_config as tls_server_config;

// The commands of the binary.
pub use audit::{
    AuditKey, AuditLog, AuditSinks, FleetReport, ReplicaChain, Verified, VerifyError,
    VerifyOptions, rfc3339_at, run_cli as run_audit, verify as verify_audit_log,
    verify_stream as verify_audit_stream, verify_with as verify_audit_log_with,
};
pub use auth::keygen::NewKey;
pub use cli::{Cli, Command, KeysCommand, ServeArgs, StdioArgs, init_tracing};
pub use doctor::{DoctorArgs, Level, Report, diagnose, main as run_doctor};
