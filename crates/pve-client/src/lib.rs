//! Proxmox VE API client. Knows nothing of MCP, HTTP servers or the simulator.
#![doc = include_str!("../README.md")]

pub mod api;
mod auth;
mod cache;
mod client;
pub mod config;
pub mod de;
mod error;
pub mod params;
pub mod tls;
mod upid;

pub use cache::{GuestKind, GuestLocation};
pub use client::{Method, PveClient};
pub use config::{ClientConfig, Credentials, Scheme, Secret, TlsMode};
pub use error::{Error, ErrorKind};
pub use params::{ApiPath, ParamValue, Params};
pub use upid::Upid;
