//! The `network` toolset (off by default), read-only: `list_networks` (a node's interfaces and
//! bridges, with the guests on each bridge) and `get_firewall_rules` (datacenter, node or guest
//! rules with options, aliases and IP sets).

mod firewall;
mod interfaces;

pub(crate) use firewall::get_firewall_rules;
pub(crate) use interfaces::list_networks;

/// The toolset of these tools.
const TOOLSET: &str = "network";
