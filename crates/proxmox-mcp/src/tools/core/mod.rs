//! The `core` toolset (on by default): nodes, VMs, containers, storage, the cluster's status and
//! the configured clusters. `get_task`, in `core` too, lives with the other task tools in
//! `tasks/`.

pub mod cluster_status;
pub mod clusters;
pub mod containers;
mod guest_list;
pub mod nodes;
pub mod storage;
pub mod vm_exec;
pub mod vm_power;
pub mod vms;
