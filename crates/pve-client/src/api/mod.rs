//! Typed calls, one file per API area. Each adds methods to [`crate::PveClient`] and defines the
//! response types of its area (tolerant of PVE's JSON habits via [`crate::de`]).

pub mod access;
pub mod agent;
pub mod backup;
pub mod cluster;
pub mod guest;
pub mod lxc;
pub mod monitor;
pub mod nodes;
pub mod qemu;
pub mod snapshot;
pub mod storage;
pub mod tasks;
