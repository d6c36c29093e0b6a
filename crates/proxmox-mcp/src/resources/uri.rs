//! The resource URIs: `proxmox://{cluster}/summary`, `proxmox://{cluster}/node/{node}`,
//! `proxmox://{cluster}/vm/{vmid}` and `proxmox://{cluster}/ct/{vmid}`, parsed and written here
//! only. Cluster and node names are PVE identifiers (letters, digits, `-`, `_`, `.`), so they
//! need no escaping.

use std::fmt;

/// The scheme prefix of every resource URI.
pub(crate) const SCHEME: &str = "proxmox://";

/// The resource templates: (URI template, name, title, what it holds).
pub(crate) const TEMPLATES: [(&str, &str, &str, &str); 3] = [
    (
        "proxmox://{cluster}/vm/{vmid}",
        "vm",
        "Virtual machine",
        "A QEMU VM's status (power state, CPU, memory, uptime) and configuration (secrets masked).",
    ),
    (
        "proxmox://{cluster}/ct/{vmid}",
        "ct",
        "Container",
        "An LXC container's status and configuration (secrets masked).",
    ),
    (
        "proxmox://{cluster}/node/{node}",
        "node",
        "Node",
        "A node's status: CPU, memory, root disk, uptime, PVE and kernel versions.",
    ),
];

/// What a resource URI names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Target {
    /// The cluster summary.
    Summary,
    /// A node.
    Node(String),
    /// A QEMU VM.
    Vm(u32),
    /// An LXC container.
    Ct(u32),
}

/// A parsed resource URI: the cluster and what in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ResourceUri {
    pub(crate) cluster: String,
    pub(crate) target: Target,
}

impl ResourceUri {
    /// Parses `uri`; the error says what a valid one looks like.
    pub(crate) fn parse(uri: &str) -> Result<Self, String> {
        let shape = "expected proxmox://{cluster}/summary, proxmox://{cluster}/node/{node}, \
                     proxmox://{cluster}/vm/{vmid} or proxmox://{cluster}/ct/{vmid}";
        let rest = uri
            .strip_prefix(SCHEME)
            .ok_or_else(|| format!("`{uri}` is not a proxmox:// URI: {shape}"))?;
        let parts: Vec<&str> = rest.split('/').collect();
        let bad = || format!("`{uri}` names no resource: {shape}");
        let name_ok = |s: &str| {
            !s.is_empty()
                && s.len() <= 64
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        };
        let vmid = |s: &str| {
            s.parse::<u32>()
                .ok()
                .filter(|v| (100..=999_999_999).contains(v) && s == v.to_string())
                .ok_or_else(|| format!("`{s}` in `{uri}` is not a VMID (100 to 999999999)"))
        };
        let (cluster, target) = match parts.as_slice() {
            [cluster, "summary"] => (*cluster, Target::Summary),
            [cluster, "node", node] if name_ok(node) => (*cluster, Target::Node(node.to_string())),
            [cluster, "vm", id] => (*cluster, Target::Vm(vmid(id)?)),
            [cluster, "ct", id] => (*cluster, Target::Ct(vmid(id)?)),
            _ => return Err(bad()),
        };
        if !name_ok(cluster) {
            return Err(bad());
        }
        Ok(Self {
            cluster: cluster.to_string(),
            target,
        })
    }
}

impl fmt::Display for ResourceUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &self.cluster;
        match &self.target {
            Target::Summary => write!(f, "{SCHEME}{c}/summary"),
            Target::Node(n) => write!(f, "{SCHEME}{c}/node/{n}"),
            Target::Vm(v) => write!(f, "{SCHEME}{c}/vm/{v}"),
            Target::Ct(v) => write!(f, "{SCHEME}{c}/ct/{v}"),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn uris_round_trip_and_bad_ones_say_why() {
        for uri in [
            "proxmox://demo/summary",
            "proxmox://demo/node/pve01",
            "proxmox://prod-1/vm/100",
            "proxmox://demo/ct/200",
        ] {
            assert_eq!(ResourceUri::parse(uri).unwrap().to_string(), uri);
        }
        for bad in [
            "http://demo/summary",
            "proxmox://demo",
            "proxmox://demo/vm/abc",
            "proxmox://demo/vm/99",
            "proxmox://demo/vm/0100",
            "proxmox://demo/node/a b",
            "proxmox:///summary",
            "proxmox://demo/vm/100/extra",
        ] {
            assert!(ResourceUri::parse(bad).is_err(), "{bad}");
        }
    }
}
