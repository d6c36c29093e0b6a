//! The `core` toolset (on by default): nodes, VMs, containers, storage, the cluster's status, its
//! overview and the configured clusters. `get_task`, in `core` too, lives with the other task tools in
//! `tasks/`.

pub(super) mod cluster_status;
pub(super) mod clusters;
pub(super) mod containers;
pub(crate) mod exec_line;
mod guest_list;
mod guest_summary;
pub(super) mod nodes;
pub(super) mod overview;
pub(super) mod storage;
pub(crate) mod vm_exec;
pub(super) mod vm_power;
pub(super) mod vms;
