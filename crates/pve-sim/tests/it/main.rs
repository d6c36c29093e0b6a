//! pve-sim integration tests: the simulator served on 127.0.0.1:0 over real sockets (plain
//! HTTP and HTTPS), driven with reqwest, and the route table checked against PVE's schema.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod auth;
mod cli;
mod contract;
mod endpoints;
mod errors;
mod faults;
mod operations;
mod request_log;
mod rules;
mod samples;
mod ssh;
mod support;
mod tasks;
mod transport;
