//! The one integration-test binary of proxmox-mcp: real simulator over HTTPS, real servers on
//! 127.0.0.1:0. Each module covers one layer; MCP_TRANSPORT adds its `transport*` modules here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

mod admission;
mod audit_fleet;
mod auth_matrix;
mod auth_mcp;
mod auth_mcp_limits;
mod binary_needs;
mod harden_conns;
mod harden_doors;
mod harden_sessions;
mod lean_surface;
mod list_paging;
mod security_binary;
mod security_doors;
mod security_props;

mod cli;
mod demo_shape;
mod docs;
mod doctor;
mod doctor_ssh;
mod guard_audit;
mod guard_confirm;
mod guard_doors;
mod guard_elicit;
mod guard_exec;
mod guard_protect;
mod guard_refusals;
mod kubernetes;
mod mcp_logging;
mod mcp_resources;
mod multi_cluster;
mod openssh_tool;
mod ops_config;
mod ops_config_errors;
mod ops_drain;
mod ops_health;
mod ops_keys_reload;
mod ops_logs;
mod ops_shutdown;
mod packaging;
mod tidy;
mod tools;
mod tools_api;
mod tools_api_doors;
mod tools_api_schema;
mod tools_backups;
mod tools_containers_admin;
mod tools_errors;
mod tools_migration;
mod tools_monitoring;
mod tools_provisioning;
mod tools_snapshots;
mod tools_ssh;
mod tools_tasks;
mod tools_vm_config;
mod tools_waits;

mod transport_demo;
mod transport_http;
mod transport_sse;
mod transport_sse_answers;
mod transport_stateless;
mod transport_stdio;

mod rest_errors;
mod rest_openapi;
mod rest_tools;
