//! Which Proxmox VE privileges each tool needs, and what an identity's effective permissions
//! (`GET /access/permissions`: ACL path -> privilege -> propagate flag) make of each tool:
//! usable everywhere, only on some guests/nodes/storages, or not at all.
//!
//! The needs follow the PVE 9 API schema's `permissions` of the calls each tool makes; a tool
//! missing from [`needs`] is reported as unknown (a test keeps the table complete).

use std::collections::BTreeMap;

use serde_json::Value;

/// Where a privilege is checked: the ACL subtree a grant must cover.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AclScope {
    /// `/` itself (`GET /cluster/status` checks `Sys.Audit` on `/`).
    Root,
    /// `/vms/<vmid>` (a grant on `/vms`, `/` or a pool covers guests).
    Vms,
    /// `/nodes/<node>`.
    Nodes,
    /// `/storage/<storage>`.
    Storage,
    /// `/sdn/zones/<zone>/<bridge>` (bridges a new VM's NIC uses).
    Sdn,
}

impl AclScope {
    /// The ACL path whose grant covers the whole scope.
    fn base(self) -> &'static str {
        match self {
            AclScope::Root => "/",
            AclScope::Vms => "/vms",
            AclScope::Nodes => "/nodes",
            AclScope::Storage => "/storage",
            AclScope::Sdn => "/sdn",
        }
    }

    /// Whether a grant on `path` covers part of the scope.
    fn covers_part(self, path: &str) -> bool {
        match self {
            AclScope::Root => false,
            AclScope::Vms => path.starts_with("/vms/") || path.starts_with("/pool/"),
            other => path.starts_with(&format!("{}/", other.base())),
        }
    }
}

/// One requirement: any of these privileges on this scope.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Need {
    pub(crate) any_of: &'static [&'static str],
    pub(crate) scope: AclScope,
}

const fn need(any_of: &'static [&'static str], scope: AclScope) -> Need {
    Need { any_of, scope }
}

const VM_AUDIT: &[Need] = &[need(&["VM.Audit"], AclScope::Vms)];
const VM_POWER: &[Need] = &[need(&["VM.PowerMgmt"], AclScope::Vms)];
const NODE_AUDIT: &[Need] = &[need(&["Sys.Audit"], AclScope::Nodes)];
const NODE_MODIFY: &[Need] = &[need(&["Sys.Modify"], AclScope::Nodes)];
const NODE_SYSLOG: &[Need] = &[need(&["Sys.Syslog"], AclScope::Nodes)];
const SNAPSHOT: &[Need] = &[need(&["VM.Snapshot"], AclScope::Vms)];
const ROLLBACK: &[Need] = &[need(
    &["VM.Snapshot", "VM.Snapshot.Rollback"],
    AclScope::Vms,
)];
/// vzdump: VM.Backup on the guest, Datastore.AllocateSpace on the backup storage; deleting a
/// backup volume needs the same pair.
const BACKUP: &[Need] = &[
    need(&["VM.Backup"], AclScope::Vms),
    need(&["Datastore.AllocateSpace"], AclScope::Storage),
];
/// A restore: VM.Allocate on the new guest (VM.Backup suffices over an existing one), plus
/// access to the archive and space for the disks.
const RESTORE: &[Need] = &[
    need(&["VM.Allocate"], AclScope::Vms),
    need(&["VM.Backup"], AclScope::Vms),
    need(&["Datastore.AllocateSpace"], AclScope::Storage),
];
const CREATE_VM: &[Need] = &[
    need(&["VM.Allocate"], AclScope::Vms),
    need(&["VM.Config.Disk"], AclScope::Vms),
    need(&["VM.Config.CDROM"], AclScope::Vms),
    need(&["VM.Config.CPU"], AclScope::Vms),
    need(&["VM.Config.Memory"], AclScope::Vms),
    need(&["VM.Config.Network"], AclScope::Vms),
    need(&["VM.Config.Options"], AclScope::Vms),
    need(&["Datastore.AllocateSpace"], AclScope::Storage),
    need(&["Datastore.Audit"], AclScope::Storage),
    need(&["SDN.Use"], AclScope::Sdn),
    need(&["Sys.Audit"], AclScope::Nodes),
];
const DELETE_VM: &[Need] = &[need(&["VM.Allocate"], AclScope::Vms)];
/// PVE 9 names it VM.GuestAgent.Unrestricted; PVE 8 checked VM.Monitor.
const EXEC: &[Need] = &[need(
    &["VM.GuestAgent.Unrestricted", "VM.Monitor"],
    AclScope::Vms,
)];
const CT_RESOURCES: &[Need] = &[
    need(&["VM.Config.CPU"], AclScope::Vms),
    need(&["VM.Config.Memory"], AclScope::Vms),
    need(&["VM.Config.Disk"], AclScope::Vms),
];
const STORAGE_AUDIT: &[Need] = &[need(
    &["Datastore.Audit", "Datastore.AllocateSpace"],
    AclScope::Storage,
)];
const ROOT_AUDIT: &[Need] = &[need(&["Sys.Audit"], AclScope::Root)];
/// SSH needs no API privilege; the container's status does, and the nodes' addresses come from
/// `/cluster/status` unless each node's address is configured.
const CT_EXEC: &[Need] = &[
    need(&["VM.Audit"], AclScope::Vms),
    need(&["Sys.Audit"], AclScope::Root),
];
const VM_CONFIG_UPDATE: &[Need] = &[
    need(&["VM.Config.CPU"], AclScope::Vms),
    need(&["VM.Config.Memory"], AclScope::Vms),
    need(&["VM.Config.Options"], AclScope::Vms),
];
const CLONE_VM: &[Need] = &[
    need(&["VM.Clone"], AclScope::Vms),
    need(&["VM.Allocate"], AclScope::Vms),
    need(&["Datastore.AllocateSpace"], AclScope::Storage),
    need(&["SDN.Use"], AclScope::Sdn),
];
const FROM_TEMPLATE: &[Need] = &[
    need(&["VM.Clone"], AclScope::Vms),
    need(&["VM.Allocate"], AclScope::Vms),
    need(&["Datastore.AllocateSpace"], AclScope::Storage),
    need(&["SDN.Use"], AclScope::Sdn),
    need(&["VM.Config.Cloudinit"], AclScope::Vms),
    need(&["VM.Config.CPU"], AclScope::Vms),
    need(&["VM.Config.Memory"], AclScope::Vms),
    need(&["VM.PowerMgmt"], AclScope::Vms),
];
const CREATE_CT: &[Need] = &[
    need(&["VM.Allocate"], AclScope::Vms),
    need(&["Datastore.AllocateSpace"], AclScope::Storage),
    need(&["Datastore.Audit"], AclScope::Storage),
    need(&["SDN.Use"], AclScope::Sdn),
    need(&["Sys.Audit"], AclScope::Nodes),
];
const DELETE_CT: &[Need] = &[
    need(&["VM.Allocate"], AclScope::Vms),
    need(&["VM.PowerMgmt"], AclScope::Vms),
];
const MIGRATE: &[Need] = &[
    need(&["VM.Migrate"], AclScope::Vms),
    need(&["VM.Audit"], AclScope::Vms),
    need(&["Sys.Audit"], AclScope::Nodes),
];
/// Cloud-init options and the drive's regeneration; the config is read first.
const CLOUD_INIT: &[Need] = &[
    need(&["VM.Config.Cloudinit"], AclScope::Vms),
    need(&["VM.Audit"], AclScope::Vms),
];
/// Network, DNS, onboot, notes and tags; bridges need SDN.Use.
const CT_CONFIG_UPDATE: &[Need] = &[
    need(&["VM.Config.Network"], AclScope::Vms),
    need(&["VM.Config.Options"], AclScope::Vms),
    need(&["VM.Audit"], AclScope::Vms),
    need(&["SDN.Use"], AclScope::Sdn),
];
const CLONE_CT: &[Need] = &[
    need(&["VM.Clone"], AclScope::Vms),
    need(&["VM.Allocate"], AclScope::Vms),
    need(&["Datastore.AllocateSpace"], AclScope::Storage),
    need(&["SDN.Use"], AclScope::Sdn),
];
const AGENT_AUDIT: &[Need] = &[need(
    &[
        "VM.GuestAgent.Audit",
        "VM.GuestAgent.Unrestricted",
        "VM.Monitor",
    ],
    AclScope::Vms,
)];

/// Growing or moving a disk: the guest's disk config and space on the storage.
const DISK: &[Need] = &[
    need(&["VM.Config.Disk"], AclScope::Vms),
    need(&["Datastore.AllocateSpace"], AclScope::Storage),
];
/// The datacenter's firewall needs Sys.Audit on `/`; a guest's, VM.Audit on it.
const FIREWALL: &[Need] = &[
    need(&["Sys.Audit"], AclScope::Root),
    need(&["VM.Audit"], AclScope::Vms),
];
/// `download-url`: template allocation on the storage, and reaching the network from the node
/// (Sys.AccessNetwork, or Sys.Modify as PVE 8 asked).
const DOWNLOAD: &[Need] = &[
    need(&["Datastore.AllocateTemplate"], AclScope::Storage),
    need(&["Sys.AccessNetwork", "Sys.Modify"], AclScope::Nodes),
];
/// `/cluster/backup-info/not-backed-up` checks Sys.Audit on `/`; the backups' ages come from
/// the backup storages.
const COVERAGE: &[Need] = &[ROOT_AUDIT[0], STORAGE_AUDIT[0]];

/// The privileges `tool` needs, `None` for a tool this table does not know.
pub(crate) fn needs(tool: &str) -> Option<&'static [Need]> {
    Some(match tool {
        "get_nodes" | "get_node_status" => NODE_AUDIT,
        "get_vms" | "get_containers" => VM_AUDIT,
        "start_vm" | "stop_vm" | "shutdown_vm" | "reset_vm" | "start_container"
        | "stop_container" | "restart_container" | "reboot_vm" | "suspend_vm" | "resume_vm"
        | "suspend_container" | "resume_container" => VM_POWER,
        "create_vm" => CREATE_VM,
        "delete_vm" => DELETE_VM,
        "execute_vm_command" => EXEC,
        "execute_container_command" => CT_EXEC,
        "execute_node_command" => ROOT_AUDIT,
        "update_container_resources" => CT_RESOURCES,
        "get_storage" => STORAGE_AUDIT,
        // `/cluster/status` and the HA status check Sys.Audit on `/`; `/cluster/resources` and
        // `/cluster/tasks` show what the token may see.
        "get_cluster_status" | "get_cluster_overview" | "get_ha_status" => ROOT_AUDIT,
        "list_backup_jobs" => ROOT_AUDIT,
        "get_backup_coverage" => COVERAGE,
        // `/pools` lists the pools the token may audit.
        "list_pools" => &[],
        // `GET /version` needs only a login; `/nodes` lists the nodes the token may see.
        "list_clusters" => &[],
        // The toolset tools change what a session sees, never calling Proxmox VE.
        "list_toolsets" | "enable_toolset" | "disable_toolset" => &[],
        // A task's owner may always read it.
        "get_task" => &[],
        // Without Sys.Audit on a node, only the token's own tasks are listed.
        "list_tasks" => NODE_AUDIT,
        // Own tasks need nothing; others' (scheduled backups, the GUI's) Sys.Modify on the node.
        "stop_task" => NODE_MODIFY,
        "list_snapshots" => VM_AUDIT,
        "create_snapshot" | "delete_snapshot" => SNAPSHOT,
        "rollback_snapshot" => ROLLBACK,
        "create_backup" | "delete_backup" => BACKUP,
        // Listing needs only storage audit; PVE leaves out the backups of guests without
        // VM.Backup.
        "list_backups" => STORAGE_AUDIT,
        "restore_backup" => RESTORE,
        "list_storage_content" => STORAGE_AUDIT,
        "get_vm_config" => VM_AUDIT,
        "update_vm_config" => VM_CONFIG_UPDATE,
        "get_vm_ip_addresses" => AGENT_AUDIT,
        "clone_vm" => CLONE_VM,
        "convert_to_template" => DELETE_VM,
        "create_vm_from_template" => FROM_TEMPLATE,
        "create_container" => CREATE_CT,
        "delete_container" => DELETE_CT,
        "get_container_config" => VM_AUDIT,
        "update_cloud_init" => CLOUD_INIT,
        "get_container_ip_addresses" => VM_AUDIT,
        "update_container_config" => CT_CONFIG_UPDATE,
        "clone_container" => CLONE_CT,
        "convert_container_to_template" => DELETE_VM,
        "check_migration" | "migrate_guest" => MIGRATE,
        // Any user may read a node's interfaces; the guests on each bridge come from their
        // configs.
        "list_networks" => VM_AUDIT,
        "get_firewall_rules" => FIREWALL,
        "resize_disk" | "move_disk" => DISK,
        "download_to_storage" => DOWNLOAD,
        // Any user may read the appliance index.
        "list_available_templates" => &[],
        // Each endpoint checks its own privileges; the tool itself needs only a login.
        "proxmox_api" => &[],
        // A node's history; a guest's needs VM.Audit, a storage's Datastore.Audit instead.
        "get_metrics" | "list_node_services" => NODE_AUDIT,
        "get_node_logs" => NODE_SYSLOG,
        // Without Sys.Syslog on `/`, PVE gives only the token's own entries (no 403).
        "get_cluster_log" => &[],
        // PVE checks Sys.Modify on the node even to read the pending updates.
        "list_updates" => NODE_MODIFY,
        _ => return None,
    })
}

/// What the permissions make of one tool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Every privilege, on the whole scope.
    Usable,
    /// Some privileges only on parts of their scope: `(privilege, paths)`.
    Limited(Vec<(String, Vec<String>)>),
    /// These privileges nowhere: the tool fails with 403.
    Missing(Vec<String>),
    /// The tool is not in the table.
    Unknown,
}

/// Effective permissions: ACL path -> privilege -> propagates to sub-paths.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Permissions(BTreeMap<String, BTreeMap<String, bool>>);

impl Permissions {
    /// Reads the `data` of `GET /access/permissions`.
    pub(crate) fn from_json(v: &Value) -> Option<Self> {
        let obj = v.as_object()?;
        let mut out = BTreeMap::new();
        for (path, privs) in obj {
            let privs = privs.as_object()?;
            let map = privs
                .iter()
                .map(|(p, flag)| {
                    let propagate = match flag {
                        Value::Bool(b) => *b,
                        Value::Number(n) => n.as_i64() != Some(0),
                        Value::String(s) => s != "0",
                        _ => true,
                    };
                    (p.clone(), propagate)
                })
                .collect();
            out.insert(path.clone(), map);
        }
        Some(Self(out))
    }

    /// Whether nothing at all is granted.
    pub(crate) fn is_empty(&self) -> bool {
        self.0.values().all(BTreeMap::is_empty)
    }

    /// Whether `privilege` covers all of `scope`; else the paths where it covers part of it.
    fn coverage(&self, privilege: &str, scope: AclScope) -> Result<(), Vec<String>> {
        let at = |path: &str| self.0.get(path).and_then(|m| m.get(privilege));
        match at("/") {
            Some(true) => return Ok(()),
            Some(false) if scope == AclScope::Root => return Ok(()),
            _ => {}
        }
        if scope != AclScope::Root && at(scope.base()).is_some() {
            return Ok(());
        }
        Err(self
            .0
            .iter()
            .filter(|(path, privs)| scope.covers_part(path) && privs.contains_key(privilege))
            .map(|(path, _)| path.clone())
            .collect())
    }

    /// The verdict for a tool with these needs.
    pub(crate) fn verdict(&self, needs: &[Need]) -> Verdict {
        let mut missing = Vec::new();
        let mut limited = Vec::new();
        for n in needs {
            let mut partial: Vec<String> = Vec::new();
            let mut full = false;
            for p in n.any_of {
                match self.coverage(p, n.scope) {
                    Ok(()) => full = true,
                    Err(paths) => partial.extend(paths),
                }
            }
            if full {
                continue;
            }
            let name = n.any_of.join(" or ");
            if partial.is_empty() {
                missing.push(name);
            } else {
                partial.sort();
                partial.dedup();
                limited.push((name, partial));
            }
        }
        if !missing.is_empty() {
            Verdict::Missing(missing)
        } else if !limited.is_empty() {
            Verdict::Limited(limited)
        } else {
            Verdict::Usable
        }
    }
}

/// The verdict for `tool` under `perms`.
pub(crate) fn judge(tool: &str, perms: &Permissions) -> Verdict {
    match needs(tool) {
        Some(n) => perms.verdict(n),
        None => Verdict::Unknown,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    #[test]
    fn every_builtin_tool_has_its_needs_listed() {
        let unknown: Vec<&str> = crate::tools::all()
            .iter()
            .map(|t| t.name)
            .filter(|n| needs(n).is_none())
            .collect();
        assert!(
            unknown.is_empty(),
            "add these tools to doctor::privileges::needs: {unknown:?}"
        );
    }

    #[test]
    fn verdicts_follow_paths_and_propagation() {
        let perms = Permissions::from_json(&json!({
            "/": {"Sys.Audit": 1, "VM.Audit": 1, "Datastore.Audit": 0},
            "/vms/100": {"VM.PowerMgmt": 1},
            "/pool/dev": {"VM.PowerMgmt": 1},
            "/storage/local": {"Datastore.Audit": 1},
        }))
        .unwrap();
        assert_eq!(judge("get_vms", &perms), Verdict::Usable);
        assert_eq!(judge("get_cluster_status", &perms), Verdict::Usable);
        assert_eq!(judge("get_task", &perms), Verdict::Usable);
        assert_eq!(
            judge("start_vm", &perms),
            Verdict::Limited(vec![(
                "VM.PowerMgmt".into(),
                vec!["/pool/dev".into(), "/vms/100".into()]
            )])
        );
        // Not propagated from `/`: only /storage/local.
        assert_eq!(
            judge("get_storage", &perms),
            Verdict::Limited(vec![(
                "Datastore.Audit or Datastore.AllocateSpace".into(),
                vec!["/storage/local".into()]
            )])
        );
        assert_eq!(
            judge("delete_vm", &perms),
            Verdict::Missing(vec!["VM.Allocate".into()])
        );
        assert_eq!(judge("no_such_tool", &perms), Verdict::Unknown);
        let exec_pve8 = Permissions::from_json(&json!({"/vms": {"VM.Monitor": 1}})).unwrap();
        assert_eq!(judge("execute_vm_command", &exec_pve8), Verdict::Usable);
        assert!(Permissions::from_json(&json!({})).unwrap().is_empty());
        assert!(Permissions::from_json(&json!([1])).is_none());
    }
}
