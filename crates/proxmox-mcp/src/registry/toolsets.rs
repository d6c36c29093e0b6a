//! The toolsets, declared in this one place: each tool names its toolset in its `ToolDef`, and
//! this table says which toolsets exist, what they hold and which are on by default.
//! A test checks that every built-in tool belongs to a declared toolset.
//!
//! Later groups (snapshots, backups, ...) add a row here and name it in their tools.

/// A named group of tools that the operator turns on or off as a whole (`--toolsets`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Toolset {
    /// The name used in `--toolsets` and in each tool's `ToolDef::toolset`.
    pub(crate) name: &'static str,
    /// One line for the docs and the OpenAPI tags.
    pub(crate) description: &'static str,
    /// On when the operator names no toolset (the `default` keyword).
    pub(crate) default: bool,
}

/// Every toolset, in the documented order.
pub(crate) const TOOLSETS: &[Toolset] = &[
    Toolset {
        name: "core",
        description: "Nodes, VMs, containers, storage, cluster and tasks.",
        default: true,
    },
    Toolset {
        name: "tasks",
        description: "Recent tasks of the cluster (filter by node, guest, state, type); stop a running task.",
        default: true,
    },
    Toolset {
        name: "snapshots",
        description: "Snapshots of VMs and containers: list, create, roll back, delete.",
        default: false,
    },
    Toolset {
        name: "backups",
        description: "Backups (vzdump): create, list, restore, delete; what a storage holds; \
                      scheduled jobs and the guests they leave out.",
        default: false,
    },
    Toolset {
        name: "vm_config",
        description: "VM and container details: show and change a VM's config (with PVE's \
                      digest) and cloud-init, its IP addresses through the guest agent; change \
                      a container's network, DNS and features, its IP addresses.",
        default: false,
    },
    Toolset {
        name: "provisioning",
        description: "Clone VMs and containers, templates, VMs from templates with \
                      cloud-init, containers (create, delete, show config).",
        default: false,
    },
    Toolset {
        name: "migration",
        description: "Move VMs and containers between nodes, with a preflight that says what \
                      would block it.",
        default: false,
    },
    Toolset {
        name: "network",
        description: "A node's interfaces and bridges with the guests on each; firewall rules, \
                      options, aliases and IP sets (read-only).",
        default: false,
    },
    Toolset {
        name: "storage",
        description: "Disks and images: grow or move a guest's disk, download ISOs, cloud \
                      images and container templates onto a storage.",
        default: false,
    },
    Toolset {
        name: "api",
        description: "proxmox_api: any Proxmox VE endpoint (GET reads; POST, PUT and DELETE \
                      are destructive), for what no typed tool covers.",
        default: false,
    },
    Toolset {
        name: "power",
        description: "Reboot, suspend and resume VMs; suspend and resume containers.",
        default: false,
    },
    Toolset {
        name: "cluster",
        description: "HA, pools: high availability status and rules; resource pools with \
                      their members.",
        default: false,
    },
    Toolset {
        name: "ssh",
        description: "Commands over SSH to the nodes, once SSH is configured ([cluster.ssh]): \
                      inside a container (pct exec), and the diagnostics the operator allows \
                      on a node ([guard.node_commands]).",
        default: false,
    },
    Toolset {
        name: "monitoring",
        description: "Metrics history of nodes, guests and storages; node logs and the cluster \
                      log; node services and pending updates (read-only).",
        default: false,
    },
    Toolset {
        name: "dynamic",
        description: "The toolsets of an MCP session: list them, turn one on or off. Served \
                      with --dynamic-toolsets only (never named in --toolsets).",
        default: false,
    },
];

/// Keyword for every toolset.
pub(crate) const ALL: &str = "all";
/// Keyword for the toolsets that are on by default.
pub(crate) const DEFAULT: &str = "default";

/// The toolset named `name`.
pub(crate) fn get(name: &str) -> Option<&'static Toolset> {
    TOOLSETS.iter().find(|t| t.name == name)
}

/// The description of toolset `name` (a generic line for an undeclared one).
pub(crate) fn description(name: &str) -> String {
    match get(name) {
        Some(t) => t.description.to_string(),
        None => format!("Tools of the `{name}` toolset."),
    }
}
