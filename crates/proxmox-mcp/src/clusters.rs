//! The clusters a server acts on: each configured cluster's name, address, client and, when
//! configured, SSH to its nodes, in the configured order (the first is the default).
//! `Registry::call` picks one per call from the `cluster` argument. Every tool takes it, but
//! input schemas show it only when more than one cluster is configured (then as an
//! enumeration of their names; added here, in one place).

use std::sync::Arc;

use serde_json::{Map, Value, json};

use crate::error::ToolError;
use pve_client::PveClient;
use pve_client::ssh::SshClient;

/// The argument naming the cluster a call acts on.
pub(crate) const CLUSTER: &str = "cluster";

/// Name of the single cluster of the `[cluster]` section or the `PROXMOX_*` variables.
pub(crate) const DEFAULT_NAME: &str = "default";

/// Name of the embedded simulator's cluster in demo mode.
pub(crate) const DEMO_NAME: &str = "demo";

/// One configured cluster.
#[derive(Debug, Clone)]
pub struct ClusterEntry {
    /// Its configured name (`prod`, `default`, `demo`).
    pub name: Arc<str>,
    /// `https://host:port`, for people (no credentials).
    pub(crate) address: String,
    /// The client that reaches it.
    pub(crate) client: Arc<PveClient>,
    /// SSH to its nodes (`pct exec`, node commands), when configured.
    pub(crate) ssh: Option<SshClient>,
}

/// Every configured cluster, in order; never empty.
#[derive(Debug, Clone)]
pub struct Clusters {
    entries: Vec<ClusterEntry>,
}

impl Clusters {
    /// One cluster, with SSH to its nodes when `ssh` is given.
    pub(crate) fn single(name: &str, client: Arc<PveClient>, ssh: Option<SshClient>) -> Self {
        let address = address_of(&client);
        Self {
            entries: vec![ClusterEntry {
                name: name.into(),
                address,
                client,
                ssh,
            }],
        }
    }

    /// These clusters, in this order; `None` when empty (names are checked unique by the
    /// configuration).
    pub(crate) fn new(entries: Vec<ClusterEntry>) -> Option<Self> {
        (!entries.is_empty()).then_some(Self { entries })
    }

    /// The default cluster (the first configured).
    pub(crate) fn first(&self) -> &ClusterEntry {
        // `new` refuses an empty list.
        &self.entries[0]
    }

    /// Every cluster, in the configured order.
    pub fn iter(&self) -> impl Iterator<Item = &ClusterEntry> {
        self.entries.iter()
    }

    /// The cluster named `name`.
    pub(crate) fn get(&self, name: &str) -> Option<&ClusterEntry> {
        self.entries.iter().find(|e| &*e.name == name)
    }

    /// The names, in the configured order.
    pub(crate) fn name_list(&self) -> Vec<&str> {
        self.entries.iter().map(|e| &*e.name).collect()
    }

    /// The names, comma-separated, for messages.
    pub(crate) fn names(&self) -> String {
        self.entries
            .iter()
            .map(|e| &*e.name)
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The cluster a call's `cluster` argument names (taken out of `args`); the default one
    /// when absent or null. An unknown name is a bad parameter listing the names.
    pub(crate) fn take_from(&self, args: &mut Value) -> Result<Option<&ClusterEntry>, ToolError> {
        let Value::Object(map) = args else {
            return Ok(None);
        };
        let Some(v) = map.remove(CLUSTER) else {
            return Ok(None);
        };
        let name = match v {
            Value::Null => return Ok(None),
            Value::String(s) if s.trim().is_empty() => return Ok(None),
            Value::String(s) => s,
            other => {
                return Err(ToolError::invalid(
                    CLUSTER,
                    format!(
                        "must be a cluster name (a string), not {other}; configured: {}",
                        self.names()
                    ),
                ));
            }
        };
        self.get(name.trim()).map(Some).ok_or_else(|| {
            ToolError::invalid(
                CLUSTER,
                format!(
                    "no cluster named {name:?} is configured; configured clusters: {} \
                     (list_clusters shows them)",
                    self.names()
                ),
            )
        })
    }
}

/// `https://host:port` of a client's cluster.
pub(crate) fn address_of(client: &PveClient) -> String {
    client.base_url().trim_end_matches("/api2/json").to_string()
}

/// The cluster a door refusal names (the `cluster` argument as given, when it is a string).
pub(crate) fn named_in(args: Option<&Value>) -> Option<String> {
    args?
        .get(CLUSTER)?
        .as_str()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// Adds the optional `cluster` argument to a tool's input schema, listing `names`, when there is
/// more than one name: with a single cluster the argument stays accepted but is not shown.
pub(crate) fn augment_input(schema: &mut Map<String, Value>, names: &[&str]) {
    if names.len() < 2 {
        return;
    }
    let props = schema
        .entry("properties")
        .or_insert_with(|| Value::Object(Map::new()));
    if let Some(props) = props.as_object_mut() {
        props.insert(
            CLUSTER.into(),
            json!({
                "type": "string",
                "enum": names,
                "description": format!("Cluster to act on (default {}).", names[0])
            }),
        );
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn names_and_schema() {
        let mut schema = Map::new();
        augment_input(&mut schema, &["only"]);
        assert!(schema.is_empty(), "one cluster: no parameter shown");
        augment_input(&mut schema, &["a", "b"]);
        assert_eq!(schema["properties"][CLUSTER]["type"], "string");
        assert_eq!(schema["properties"][CLUSTER]["enum"], json!(["a", "b"]));
        assert_eq!(
            named_in(Some(&json!({"cluster": " b "}))).as_deref(),
            Some("b")
        );
        assert_eq!(named_in(Some(&json!({"cluster": 1}))), None);
    }
}
