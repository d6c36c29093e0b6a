//! Integration tests of pve-client against the pve-sim simulator over loopback HTTPS. Every
//! test's requests are checked against the PVE schema when it ends (see `contract`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod auth;
mod calls_cluster;
mod calls_guests;
mod calls_monitor;
mod calls_network;
mod calls_storage;
mod contract;
mod exec;
mod faults;
mod openssh;
mod ssh;
mod ssh_sim;
mod support;
mod tasks;
mod tls;
