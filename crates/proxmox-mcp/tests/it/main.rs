//! The one integration-test binary of proxmox-mcp: real simulator over HTTPS, real servers on
//! 127.0.0.1:0. Each module covers one layer; MCP_TRANSPORT adds its `transport*` modules here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

mod cli;
mod docs;
mod tidy;
mod tools;
mod tools_errors;

mod transport_demo;
mod transport_http;
mod transport_sse;
mod transport_sse_answers;
mod transport_stdio;
mod transport_support;

mod rest_errors;
mod rest_openapi;
mod rest_support;
mod rest_tools;
