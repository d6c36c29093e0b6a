//! The cluster as read-only MCP resources: each cluster's summary, each node, each VM and
//! container (status and configuration, secrets masked), as JSON, named by the URIs of
//! `uri.rs`; and the values that complete a template's or a prompt's `node`, `vmid` and
//! `cluster` arguments. Knows nothing of MCP's wire types: the MCP door lists, pages and
//! serves what this returns, after admitting the read (`ToolHost::admit_read`).

mod uri;

use std::collections::BTreeMap;

use pve_client::api::cluster::ClusterResource;
use pve_client::{GuestKind, PveClient};
use serde_json::{Value, json};

use crate::audit::mask_secrets;
use crate::clusters::Clusters;
use crate::error::ToolError;
pub(crate) use uri::{ResourceUri, TEMPLATES, Target};

/// The MIME type of every resource.
pub(crate) const MIME: &str = "application/json";

/// One listed resource.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Listed {
    pub(crate) uri: String,
    /// A short name (`summary`, `pve01`, `vm 100 web`).
    pub(crate) name: String,
    pub(crate) description: String,
}

/// Every resource of every cluster: its summary, its nodes (by name), its VMs and containers
/// (by VMID), in that order.
pub(crate) async fn list(clusters: &Clusters) -> Result<Vec<Listed>, ToolError> {
    let mut out = Vec::new();
    for entry in clusters.iter() {
        let cluster = entry.name.to_string();
        let uri = |target| {
            ResourceUri {
                cluster: cluster.clone(),
                target,
            }
            .to_string()
        };
        out.push(Listed {
            uri: uri(Target::Summary),
            name: format!("{cluster} summary"),
            description: format!(
                "Cluster {cluster}: nodes and their load, guests counted by kind and status."
            ),
        });
        let all = entry.client.cluster_resources(None).await?;
        let mut nodes: Vec<&ClusterResource> = all.iter().filter(|r| r.kind == "node").collect();
        nodes.sort_by(|a, b| a.node.cmp(&b.node));
        for n in nodes {
            let Some(node) = &n.node else { continue };
            out.push(Listed {
                uri: uri(Target::Node(node.clone())),
                name: format!("node {node}"),
                description: format!(
                    "Node {node} of {cluster} ({}).",
                    n.status.as_deref().unwrap_or("unknown")
                ),
            });
        }
        let mut guests: Vec<(&ClusterResource, GuestKind, u32)> = all
            .iter()
            .filter_map(|r| Some((r, r.guest_kind()?, r.vmid?)))
            .collect();
        guests.sort_by_key(|(_, _, vmid)| *vmid);
        for (g, kind, vmid) in guests {
            let (target, word) = match kind {
                GuestKind::Qemu => (Target::Vm(vmid), "VM"),
                GuestKind::Lxc => (Target::Ct(vmid), "container"),
            };
            let label = g.name.as_deref().unwrap_or("");
            out.push(Listed {
                uri: uri(target),
                name: format!("{word} {vmid} {label}").trim_end().to_string(),
                description: format!(
                    "{word} {vmid} on {} ({}).",
                    g.node.as_deref().unwrap_or("?"),
                    g.status.as_deref().unwrap_or("unknown")
                ),
            });
        }
    }
    Ok(out)
}

/// The JSON of the resource at `uri`.
pub(crate) async fn read(clusters: &Clusters, uri: &str) -> Result<Value, ToolError> {
    let parsed = ResourceUri::parse(uri).map_err(|e| ToolError::invalid("uri", e))?;
    let entry = clusters.get(&parsed.cluster).ok_or_else(|| {
        ToolError::invalid(
            "uri",
            format!(
                "no cluster named `{}` (configured: {})",
                parsed.cluster,
                clusters.names()
            ),
        )
    })?;
    let client = &entry.client;
    match parsed.target {
        Target::Summary => summary(&parsed.cluster, client).await,
        Target::Node(node) => {
            let status = client.node_status(&node).await?;
            Ok(json!({"cluster": parsed.cluster, "node": node, "status": status}))
        }
        Target::Vm(vmid) => guest(&parsed.cluster, client, vmid, GuestKind::Qemu).await,
        Target::Ct(vmid) => guest(&parsed.cluster, client, vmid, GuestKind::Lxc).await,
    }
}

async fn summary(cluster: &str, client: &PveClient) -> Result<Value, ToolError> {
    let all = client.cluster_resources(None).await?;
    let nodes: Vec<Value> = all
        .iter()
        .filter(|r| r.kind == "node")
        .map(|n| {
            json!({
                "node": n.node, "status": n.status, "cpu": n.cpu, "maxcpu": n.maxcpu,
                "mem": n.mem, "maxmem": n.maxmem, "uptime": n.uptime,
            })
        })
        .collect();
    let mut counts: BTreeMap<&str, BTreeMap<String, u64>> = BTreeMap::new();
    for g in &all {
        let Some(kind) = g.guest_kind() else { continue };
        let status = g.status.clone().unwrap_or_else(|| "unknown".into());
        *counts
            .entry(kind.as_str())
            .or_default()
            .entry(status)
            .or_default() += 1;
        *counts
            .entry(kind.as_str())
            .or_default()
            .entry("total".into())
            .or_default() += 1;
    }
    let storages = all.iter().filter(|r| r.kind == "storage").count();
    Ok(json!({
        "cluster": cluster,
        "nodes": nodes,
        "guests": counts,
        "storages": storages,
    }))
}

async fn guest(
    cluster: &str,
    client: &PveClient,
    vmid: u32,
    kind: GuestKind,
) -> Result<Value, ToolError> {
    let loc = client.find_guest(vmid).await.map_err(|e| {
        if e.kind() == pve_client::ErrorKind::NotFound {
            // As PVE says of a guest that is not there.
            ToolError::Pve {
                status: Some(404),
                message: e.to_string(),
            }
        } else {
            e.into()
        }
    })?;
    if loc.kind != kind {
        let (asked, is) = match kind {
            GuestKind::Qemu => ("vm", "ct"),
            GuestKind::Lxc => ("ct", "vm"),
        };
        return Err(ToolError::invalid(
            "uri",
            format!("guest {vmid} is not a {asked}: read proxmox://{cluster}/{is}/{vmid} instead"),
        ));
    }
    let status = match kind {
        GuestKind::Qemu => serde_json::to_value(client.qemu_status(&loc.node, vmid).await?),
        GuestKind::Lxc => serde_json::to_value(client.lxc_status(&loc.node, vmid).await?),
    }
    .map_err(|e| ToolError::Internal(format!("guest status: {e}")))?;
    let config = client.guest_config(&loc.node, kind, vmid, None).await?;
    let config = serde_json::to_value(config)
        .map_err(|e| ToolError::Internal(format!("guest config: {e}")))?;
    Ok(json!({
        "cluster": cluster,
        "vmid": vmid,
        "node": loc.node,
        "type": kind.as_str(),
        "status": status,
        "config": mask_secrets(&config),
    }))
}

/// The values that complete argument `name` (`cluster`, `node`, `vmid`) starting with
/// `prefix`, in `cluster` (the default when `None`), at most 100; `kind` narrows `vmid` to VMs
/// or containers. Other arguments complete to nothing.
pub(crate) async fn complete(
    clusters: &Clusters,
    cluster: Option<&str>,
    name: &str,
    prefix: &str,
    kind: Option<GuestKind>,
) -> Result<Vec<String>, ToolError> {
    let mut values: Vec<String> = match name {
        "cluster" => clusters.iter().map(|c| c.name.to_string()).collect(),
        "node" | "vmid" => {
            let entry = cluster
                .and_then(|c| clusters.get(c))
                .unwrap_or_else(|| clusters.first());
            let all = entry.client.cluster_resources(None).await?;
            if name == "node" {
                all.iter()
                    .filter(|r| r.kind == "node")
                    .filter_map(|r| r.node.clone())
                    .collect()
            } else {
                let mut ids: Vec<u32> = all
                    .iter()
                    .filter(|r| kind.is_none_or(|k| r.guest_kind() == Some(k)))
                    .filter(|r| r.guest_kind().is_some())
                    .filter_map(|r| r.vmid)
                    .collect();
                ids.sort_unstable();
                ids.into_iter().map(|v| v.to_string()).collect()
            }
        }
        _ => Vec::new(),
    };
    values.retain(|v| v.starts_with(prefix));
    values.sort();
    values.dedup();
    values.truncate(100);
    Ok(values)
}
