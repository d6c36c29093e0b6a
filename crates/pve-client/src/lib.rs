//! Proxmox VE API client. Knows nothing of MCP, HTTP servers or the simulator.
//!
//! # Usage
//! ```no_run
//! # async fn demo() -> Result<(), pve_client::Error> {
//! use std::time::Duration;
//! use pve_client::{ClientConfig, PveClient, GuestKind};
//! use pve_client::api::guest::{PowerAction, ActionOptions};
//! use pve_client::task::WaitOptions;
//!
//! let client = PveClient::new(ClientConfig::from_env()?)?;      // PROXMOX_HOST, PROXMOX_USER, ...
//! let guests = client.list_guests().await?;                     // one GET /cluster/resources?type=vm
//! let loc = client.find_guest(101).await?;                      // VMID -> node + kind (cached briefly)
//! let upid = client.guest_action(&loc.node, loc.kind, 101, PowerAction::Start,
//!                                &ActionOptions::default()).await?;
//! let outcome = client.wait_task(&upid, &WaitOptions::with_timeout(Duration::from_secs(60))).await?;
//! let status = outcome.into_result()?;                          // TaskFailed / Timeout errors carry PVE's words
//! let out = client.exec(&loc.node, 101, &pve_client::exec::ExecRequest::argv(["uname", "-a"])).await?;
//! let slow = client.with_timeout(Duration::from_secs(900));     // per-call timeout override (vzdump...)
//! # let _ = (guests, status, out, slow); Ok(()) }
//! ```
//!
//! # Map
//! - [`config`]: [`ClientConfig`] (`from_env_map` reads `PROXMOX_*`), [`TlsMode`], [`Credentials`].
//! - [`PveClient`]: the client; raw [`PveClient::get`]/[`PveClient::post`]/... plus typed calls in
//!   [`api`] (`cluster`, `nodes`, `qemu`, `lxc`, `guest` (kind-generic), `snapshot`, `agent`,
//!   `storage`, `tasks`, `backup`, `access`).
//! - [`observe`]: [`observe::RequestObserver`] sees every HTTP exchange (metrics).
//! - [`dry_run`]: request hooks; [`PveClient::dry_run`] records writes instead of sending them.
//! - [`task`]: [`PveClient::wait_task`] → [`task::TaskOutcome`]; [`exec`]: [`PveClient::exec`].
//! - [`Error`] with [`ErrorKind`]: Auth, Permission, NotFound, Params, Unreachable, Timeout, Tls,
//!   TaskFailed, Config, Protocol, Pve, Cancelled, HostKey; `Display` is PVE's message plus the call.
//! - [`ssh`]: the nodes over SSH ([`ssh::SshClient`]: `pct exec`, node commands, host-key probes).
//! - [`de`]: tolerant serde helpers; [`Params`]/[`ApiPath`]: how requests are encoded; [`Upid`].
//!
//! # Behaviour
//! - Token auth (`PVEAPIToken=` header) or ticket auth (cookie + CSRF on writes, renewed after
//!   `ticket_renew_after`, one re-login on a 401).
//! - GETs are retried (bounded, jittered backoff) on connection errors, 502, 503, 595, 596;
//!   POST/PUT/DELETE never are. At most `max_concurrent` requests in flight per client.
//! - TLS: rustls + ring; system roots, a CA file, a pinned SHA-256 fingerprint, or insecure.

pub mod api;
mod auth;
mod cache;
mod client;
pub mod config;
pub mod de;
pub mod dry_run;
mod error;
pub mod exec;
#[doc(hidden)]
pub mod fuzzing;
pub mod observe;
pub mod params;
pub mod ssh;
pub mod task;
pub mod tls;
mod upid;

pub use cache::{GuestKind, GuestLocation};
pub use client::{Method, PveClient};
pub use config::{ClientConfig, Credentials, Scheme, Secret, TlsMode};
pub use error::{Error, ErrorKind};
pub use params::{ApiPath, ParamValue, Params};
pub use upid::Upid;
