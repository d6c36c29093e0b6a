//! Every tool, one file or directory per toolset (`core/`, `tasks/`, `snapshots.rs`,
//! `backups/`, `vm_config.rs`, `provisioning/`, `migration.rs`, `network/`, `storage/`, `api/`,
//! `ssh/`, `power/`, `cluster/`, `monitoring/`, `toolsets.rs`; what several share in
//! `common.rs`, `power/mod.rs` and `paging.rs`). Each file declares, per tool: params struct, output struct, a
//! `ToolSpec` constructor and a typed handler. `all()` lists them in the documented order.
//!
//! Must not import rmcp or axum: tools are called the same way by every front door.

mod api;
mod backups;
mod cluster;
pub(crate) mod common;
pub(crate) mod core;
mod migration;
mod monitoring;
mod network;
pub(crate) mod paging;
mod power;
mod provisioning;
mod snapshots;
mod ssh;
mod storage;
mod tasks;
pub(crate) mod toolsets;
mod vm_config;

pub(crate) use core::vm_exec::deny_only_warning;

use crate::registry::{DuplicateTool, Registry, ToolSpec};

#[cfg(test)]
mod tests;

/// The registry of every built-in tool (no guard, no observer: the app adds those).
pub fn registry() -> Result<Registry, DuplicateTool> {
    Registry::new(all())
}

/// Every built-in tool, in the order `tools/list`, the docs and the README show them.
pub(crate) fn all() -> Vec<ToolSpec> {
    vec![
        core::nodes::get_nodes(),
        core::nodes::get_node_status(),
        core::vms::get_vms(),
        core::vms::create_vm(),
        core::vm_power::start_vm(),
        core::vm_power::stop_vm(),
        core::vm_power::shutdown_vm(),
        core::vm_power::reset_vm(),
        core::vms::delete_vm(),
        core::vm_exec::execute_vm_command(),
        core::containers::get_containers(),
        core::containers::start_container(),
        core::containers::stop_container(),
        core::containers::restart_container(),
        core::containers::update_container_resources(),
        core::storage::get_storage(),
        core::cluster_status::get_cluster_status(),
        tasks::get_task(),
        core::overview::get_cluster_overview(),
        core::clusters::list_clusters(),
        ssh::container::execute_container_command(),
        vm_config::get_vm_config(),
        vm_config::update_vm_config(),
        vm_config::get_vm_ip_addresses(),
        vm_config::update_cloud_init(),
        vm_config::get_container_ip_addresses(),
        vm_config::update_container_config(),
        provisioning::clone_vm(),
        provisioning::convert_to_template(),
        provisioning::create_vm_from_template(),
        provisioning::create_container(),
        provisioning::delete_container(),
        provisioning::get_container_config(),
        provisioning::clone_container(),
        provisioning::convert_container_to_template(),
        migration::check_migration(),
        migration::migrate_guest(),
        tasks::list_tasks(),
        tasks::stop_task(),
        snapshots::list_snapshots(),
        snapshots::create_snapshot(),
        snapshots::rollback_snapshot(),
        snapshots::delete_snapshot(),
        backups::create_backup(),
        backups::list_backups(),
        backups::restore_backup(),
        backups::delete_backup(),
        backups::list_storage_content(),
        backups::list_backup_jobs(),
        backups::get_backup_coverage(),
        network::list_networks(),
        network::get_firewall_rules(),
        storage::resize_disk(),
        storage::move_disk(),
        storage::download_to_storage(),
        storage::list_available_templates(),
        api::proxmox_api(),
        ssh::node::execute_node_command(),
        power::reboot_vm(),
        power::suspend_vm(),
        power::resume_vm(),
        power::suspend_container(),
        power::resume_container(),
        cluster::get_ha_status(),
        cluster::list_pools(),
        monitoring::get_metrics(),
        monitoring::get_node_logs(),
        monitoring::get_cluster_log(),
        monitoring::list_node_services(),
        monitoring::list_updates(),
        toolsets::list_toolsets(),
        toolsets::enable_toolset(),
        toolsets::disable_toolset(),
    ]
}
