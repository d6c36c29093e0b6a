//! Every tool, one file per group. Each file declares, per tool: params struct, output struct,
//! a `ToolSpec` constructor and a typed handler. `all()` lists them in the documented order.
//!
//! Must not import rmcp or axum: tools are called the same way by every front door.

pub mod backup_restore;
pub mod backups;
pub mod cluster;
pub mod clusters;
pub mod common;
pub mod containers;
pub mod containers_admin;
pub mod guest_list;
pub mod migration;
pub mod nodes;
pub mod power;
pub mod provisioning;
pub mod snapshots;
pub mod storage;
pub mod storage_content;
pub mod tasks;
pub mod tasks_list;
pub mod vm_config;
pub mod vm_exec;
pub mod vm_power;
pub mod vms;

use crate::registry::ToolSpec;

/// Every built-in tool, in the order `tools/list`, the docs and the README show them.
pub fn all() -> Vec<ToolSpec> {
    vec![
        nodes::get_nodes(),
        nodes::get_node_status(),
        vms::get_vms(),
        vms::create_vm(),
        vm_power::start_vm(),
        vm_power::stop_vm(),
        vm_power::shutdown_vm(),
        vm_power::reset_vm(),
        vms::delete_vm(),
        vm_exec::execute_vm_command(),
        containers::get_containers(),
        containers::start_container(),
        containers::stop_container(),
        containers::restart_container(),
        containers::update_container_resources(),
        storage::get_storage(),
        cluster::get_cluster_status(),
        tasks::get_task(),
        clusters::list_clusters(),
        vm_config::get_vm_config(),
        vm_config::update_vm_config(),
        vm_config::get_vm_ip_addresses(),
        provisioning::clone_vm(),
        provisioning::convert_to_template(),
        provisioning::create_vm_from_template(),
        containers_admin::create_container(),
        containers_admin::delete_container(),
        containers_admin::get_container_config(),
        migration::check_migration(),
        migration::migrate_guest(),
        tasks_list::list_tasks(),
        tasks_list::stop_task(),
        snapshots::list_snapshots(),
        snapshots::create_snapshot(),
        snapshots::rollback_snapshot(),
        snapshots::delete_snapshot(),
        backups::create_backup(),
        backups::list_backups(),
        backup_restore::restore_backup(),
        backups::delete_backup(),
        storage_content::list_storage_content(),
    ]
}
