//! Prompts an admin would otherwise write by hand: a daily cluster report, troubleshooting a
//! guest that will not start, planning a node's maintenance, reviewing backups. Each declares
//! its arguments (completed by `resources::complete`) and names the tools it expects the agent
//! to call; the text says which of them this server does not offer and how to get them.
//! Knows nothing of MCP's wire types: `mcp/prompts.rs` serves these.

use std::collections::HashMap;

use crate::error::ToolError;

/// One argument of a prompt.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Argument {
    pub(crate) name: &'static str,
    pub(crate) description: &'static str,
    pub(crate) required: bool,
}

/// One prompt.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Prompt {
    pub(crate) name: &'static str,
    pub(crate) title: &'static str,
    pub(crate) description: &'static str,
    pub(crate) arguments: &'static [Argument],
    /// The tools the prompt asks the agent to call, with their toolset.
    pub(crate) tools: &'static [(&'static str, &'static str)],
    /// The instructions; `{node}`, `{vmid}`, `{cluster}` are replaced by the arguments.
    text: &'static str,
}

const NODE: Argument = Argument {
    name: "node",
    description: "Node name, as get_nodes lists it.",
    required: true,
};
const VMID: Argument = Argument {
    name: "vmid",
    description: "VMID of the VM or container.",
    required: true,
};
const CLUSTER: Argument = Argument {
    name: "cluster",
    description: "Configured cluster name (list_clusters); the default cluster when left out.",
    required: false,
};

/// Every prompt, in the order `prompts/list` shows them.
pub(crate) const PROMPTS: &[Prompt] = &[
    Prompt {
        name: "daily_cluster_report",
        title: "Daily cluster report",
        description: "A short health report of the cluster: nodes, guests, storage, failed tasks.",
        arguments: &[CLUSTER],
        tools: &[
            ("get_cluster_status", "core"),
            ("get_nodes", "core"),
            ("get_vms", "core"),
            ("get_containers", "core"),
            ("get_storage", "core"),
            ("list_tasks", "tasks"),
        ],
        text: "Write today's report on the Proxmox VE cluster {cluster}. Call get_cluster_status \
               (quorum, nodes online), get_nodes (CPU, memory, uptime of each node), get_vms and \
               get_containers (how many run, which are stopped that usually run), get_storage \
               (any storage above 80 % used) and list_tasks with status error (what failed in \
               the last day). Report in this order: a one-line verdict, then problems first, \
               each with the guest or node it concerns and what you suggest. Change nothing.",
    },
    Prompt {
        name: "troubleshoot_guest_start",
        title: "Troubleshoot a guest that will not start",
        description: "Find why a VM or container does not start, without changing anything \
                      until the user agrees.",
        arguments: &[VMID, CLUSTER],
        tools: &[
            ("get_vms", "core"),
            ("get_containers", "core"),
            ("list_tasks", "tasks"),
            ("get_task", "core"),
            ("get_vm_config", "vm_config"),
            ("get_container_config", "provisioning"),
            ("get_node_status", "core"),
            ("get_storage", "core"),
        ],
        text: "Guest {vmid} on cluster {cluster} does not start. Find out why. Call get_vms and \
               get_containers to see its kind, node and status; list_tasks with vmid {vmid} to \
               find the failed start tasks, and get_task on the last one to read its log; \
               get_vm_config (VM) or get_container_config (container) to check its disks, \
               memory and locks; get_node_status of its node (memory free, load) and get_storage \
               (the storages its disks use: active, space left). Say what the cause most likely \
               is, with the evidence, and the fix. Do not start, stop or change the guest unless \
               the user asks you to.",
    },
    Prompt {
        name: "plan_node_maintenance",
        title: "Plan maintenance of a node",
        description: "What to move off a node before maintenance, and where, checked with \
                      check_migration.",
        arguments: &[NODE, CLUSTER],
        tools: &[
            ("get_nodes", "core"),
            ("get_node_status", "core"),
            ("get_vms", "core"),
            ("get_containers", "core"),
            ("check_migration", "migration"),
        ],
        text: "Node {node} of cluster {cluster} goes down for maintenance. Plan it. Call \
               get_nodes and get_node_status for the other nodes' free CPU and memory; get_vms \
               and get_containers with node {node} for what runs there. For each running guest, \
               pick a target node with room and call check_migration to see whether it can move \
               (local disks, online or offline). Answer with a table: guest, target, online or \
               offline, blockers; then what stays (and will be down), and the order to move \
               them. Do not migrate anything: migrate_guest is for when the user approves the \
               plan.",
    },
    Prompt {
        name: "review_backups",
        title: "Review backups",
        description: "Which guests have no recent backup, and what the backup tasks reported.",
        arguments: &[CLUSTER],
        tools: &[
            ("get_vms", "core"),
            ("get_containers", "core"),
            ("list_backups", "backups"),
            ("list_tasks", "tasks"),
            ("get_storage", "core"),
        ],
        text: "Review the backups of cluster {cluster}. Call get_vms and get_containers for \
               every guest; list_backups for the backups each has (newest first); list_tasks \
               with type vzdump for the recent backup runs and their errors; get_storage for \
               the space left on backup storages. Report the guests with no backup in the last \
               7 days first, then failed backup tasks, then storages that will soon be full. \
               Create or delete no backup unless the user asks.",
    },
];

/// The prompt named `name`.
pub(crate) fn get(name: &str) -> Option<&'static Prompt> {
    PROMPTS.iter().find(|p| p.name == name)
}

impl Prompt {
    /// The prompt's text for `args`; `offered` says whether this server offers a tool. A
    /// missing required argument or a malformed one is an error naming it.
    pub(crate) fn render(
        &self,
        args: &HashMap<String, String>,
        offered: impl Fn(&str) -> bool,
    ) -> Result<String, ToolError> {
        let mut text = self.text.to_string();
        for a in self.arguments {
            let value = args.get(a.name).map(|v| v.trim()).filter(|v| !v.is_empty());
            let value = match (value, a.required) {
                (Some(v), _) => check(a.name, v)?.to_string(),
                (None, true) => {
                    return Err(ToolError::invalid(a.name, "is required for this prompt"));
                }
                (None, false) => "(the default cluster)".to_string(),
            };
            text = text.replace(&format!("{{{}}}", a.name), &value);
        }
        let missing: Vec<String> = self
            .tools
            .iter()
            .filter(|(tool, _)| !offered(tool))
            .map(|(tool, set)| format!("{tool} (toolset {set})"))
            .collect();
        if !missing.is_empty() {
            text.push_str(&format!(
                "\n\nThis server does not offer {}: do without them, or ask the operator to \
                 enable their toolsets (--toolsets).",
                missing.join(", ")
            ));
        }
        Ok(text)
    }
}

/// `value` of argument `name`, checked: a VMID is a number, names are PVE identifiers.
fn check<'a>(name: &str, value: &'a str) -> Result<&'a str, ToolError> {
    let ok = if name == "vmid" {
        value.parse::<u32>().is_ok_and(|v| v >= 100)
    } else {
        value.len() <= 64
            && value
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    };
    if ok {
        Ok(value)
    } else {
        Err(ToolError::invalid(
            name,
            format!("`{value}` is not a valid {name}"),
        ))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn prompts_name_declared_tools_and_fill_their_arguments() {
        let names: Vec<&str> = crate::tools::all().iter().map(|t| t.name).collect();
        for p in PROMPTS {
            for (tool, _) in p.tools {
                assert!(names.contains(tool), "{} names unknown tool {tool}", p.name);
                assert!(p.text.contains(tool), "{} does not mention {tool}", p.name);
            }
            let args: HashMap<String, String> = p
                .arguments
                .iter()
                .map(|a| {
                    (
                        a.name.to_string(),
                        if a.name == "vmid" { "100" } else { "pve01" }.to_string(),
                    )
                })
                .collect();
            let text = p.render(&args, |_| true).unwrap();
            assert!(!text.contains('{'), "{text}");
        }
        let p = get("plan_node_maintenance").unwrap();
        let e = p.render(&HashMap::new(), |_| true).unwrap_err();
        assert!(e.to_string().contains("node"), "{e}");
        let args = HashMap::from([("node".to_string(), "pve02".to_string())]);
        let text = p.render(&args, |t| t != "check_migration").unwrap();
        assert!(
            text.contains("check_migration (toolset migration)"),
            "{text}"
        );
        let bad = HashMap::from([("node".to_string(), "a b".to_string())]);
        assert!(p.render(&bad, |_| true).is_err());
    }
}
