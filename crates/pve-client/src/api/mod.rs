//! Typed calls, one file per API area. Each adds methods to [`crate::PveClient`] and defines the
//! response types of its area (tolerant of PVE's JSON habits via [`crate::de`]).

pub mod access;
pub mod agent;
pub mod backup;
pub mod backup_jobs;
pub mod cloudinit;
pub mod cluster;
pub mod disks;
pub mod guest;
pub mod ha;
pub mod lxc;
pub mod lxc_admin;
pub mod monitor;
pub mod network;
pub mod nodes;
pub mod pools;
pub mod qemu;
pub mod snapshot;
pub mod storage;
pub mod tasks;
