//! The firewall configuration the simulated cluster has, derived from its state (nothing to
//! store while it is read-only): a datacenter ruleset with security groups, aliases and IP
//! sets, a node ruleset, and per guest the options its NICs imply (`firewall=1` turns it on)
//! and rules by role (its tags).

use serde_json::{Map, Value, json};

use crate::state::{Guest, GuestKind};

/// One rule: direction/type, action (or group), and the fields set.
pub(super) fn rule(kind: &str, action: &str, fields: &[(&str, &str)], comment: &str) -> Value {
    let mut e = Map::new();
    e.insert("type".into(), json!(kind));
    e.insert("action".into(), json!(action));
    e.insert("enable".into(), json!(1));
    for (k, v) in fields {
        e.insert((*k).into(), json!(v));
    }
    if !comment.is_empty() {
        e.insert("comment".into(), json!(comment));
    }
    Value::Object(e)
}

/// The datacenter rules.
pub(super) fn cluster_rules() -> Vec<Value> {
    vec![
        rule(
            "in",
            "ACCEPT",
            &[("macro", "SSH"), ("source", "+management")],
            "SSH from the admin network",
        ),
        rule(
            "in",
            "ACCEPT",
            &[
                ("proto", "tcp"),
                ("dport", "8006"),
                ("source", "+management"),
            ],
            "Web UI and API",
        ),
        rule("in", "ACCEPT", &[("macro", "Ping")], ""),
        rule(
            "in",
            "DROP",
            &[("source", "+blocklist"), ("log", "warning")],
            "Known bad networks",
        ),
    ]
}

/// The datacenter options.
pub(super) fn cluster_options() -> Value {
    json!({
        "enable": 1,
        "policy_in": "DROP",
        "policy_out": "ACCEPT",
        "policy_forward": "ACCEPT",
        "ebtables": 1,
        "log_ratelimit": "enable=1,burst=5,rate=1/second",
    })
}

/// Security groups: name, comment, rules.
pub(super) fn groups() -> Vec<(&'static str, &'static str, Vec<Value>)> {
    vec![
        (
            "webserver",
            "HTTP and HTTPS from anywhere",
            vec![
                rule("in", "ACCEPT", &[("macro", "HTTP")], ""),
                rule("in", "ACCEPT", &[("macro", "HTTPS")], ""),
            ],
        ),
        (
            "database",
            "PostgreSQL from the application servers",
            vec![rule(
                "in",
                "ACCEPT",
                &[
                    ("proto", "tcp"),
                    ("dport", "5432"),
                    ("source", "+app-servers"),
                ],
                "",
            )],
        ),
    ]
}

/// Datacenter aliases: name, CIDR, comment.
pub(super) const ALIASES: &[(&str, &str, &str)] = &[
    ("gateway", "10.10.0.1", "Default gateway"),
    ("monitoring", "10.10.20.5", "Prometheus server"),
    ("backup-server", "10.10.20.9", "Proxmox Backup Server"),
];

/// An IP set of the datacenter: name, comment, entries (CIDR, comment, nomatch).
pub(super) type StaticSet = (
    &'static str,
    &'static str,
    Vec<(&'static str, &'static str, bool)>,
);

/// An IP set of a guest: name, comment, entries (CIDR, comment, nomatch).
pub(super) type GuestSet = (String, String, Vec<(String, String, bool)>);

/// Datacenter IP sets.
pub(super) fn ipsets() -> Vec<StaticSet> {
    vec![
        (
            "management",
            "Admin network",
            vec![
                ("10.10.0.0/24", "", false),
                ("192.0.2.10", "admin laptop", false),
            ],
        ),
        (
            "app-servers",
            "Hosts that talk to the databases",
            vec![
                ("10.10.0.100", "web-01", false),
                ("10.10.0.105", "app-01", false),
            ],
        ),
        (
            "blocklist",
            "Networks refused everywhere",
            vec![
                ("203.0.113.0/24", "", false),
                ("203.0.113.77", "allowed partner", true),
            ],
        ),
    ]
}

/// A node's rules.
pub(super) fn node_rules() -> Vec<Value> {
    vec![rule(
        "in",
        "ACCEPT",
        &[
            ("proto", "tcp"),
            ("dport", "9100"),
            ("source", "monitoring"),
        ],
        "node exporter",
    )]
}

/// A node's options.
pub(super) fn node_options() -> Value {
    json!({
        "enable": 1,
        "log_level_in": "nolog",
        "log_level_out": "nolog",
        "ndp": 1,
        "nosmurfs": 1,
        "tcpflags": 0,
        "nftables": 0,
    })
}

/// Whether any NIC of the guest has the firewall on.
fn nic_firewall(g: &Guest) -> bool {
    g.config
        .iter()
        .any(|(k, v)| k.starts_with("net") && v.as_str().is_some_and(|s| s.contains("firewall=1")))
}

fn tagged(g: &Guest, tag: &str) -> bool {
    g.config
        .get("tags")
        .and_then(Value::as_str)
        .is_some_and(|t| t.split([';', ',', ' ']).any(|x| x == tag))
}

/// A guest's rules: its security group by role, then SSH from the admin network.
pub(super) fn guest_rules(g: &Guest) -> Vec<Value> {
    let mut out = Vec::new();
    if tagged(g, "web") {
        out.push(rule("group", "webserver", &[], "web role"));
    }
    if tagged(g, "db") {
        out.push(rule("group", "database", &[], "database role"));
    }
    if nic_firewall(g) {
        out.push(rule(
            "in",
            "ACCEPT",
            &[("macro", "SSH"), ("source", "+management")],
            "",
        ));
    }
    out
}

/// A guest's options: on when a NIC has the firewall on.
pub(super) fn guest_options(g: &Guest) -> Value {
    let on = nic_firewall(g);
    json!({
        "enable": u8::from(on),
        "policy_in": if on { "DROP" } else { "ACCEPT" },
        "policy_out": "ACCEPT",
        "dhcp": u8::from(g.kind == GuestKind::Lxc || on),
        "macfilter": 1,
        "ipfilter": 0,
        "ndp": 1,
        "radv": 0,
        "log_level_in": "nolog",
        "log_level_out": "nolog",
    })
}

/// A guest's aliases: its own address.
pub(super) fn guest_aliases(g: &Guest) -> Vec<(String, String, String)> {
    crate::agent::guest_os::interfaces(g)
        .into_iter()
        .take(1)
        .map(|(_, _, cidr)| {
            let ip = cidr.split('/').next().unwrap_or(&cidr).to_string();
            ("self".to_string(), ip, format!("address of {}", g.name()))
        })
        .collect()
}

/// A guest's IP sets: `ipfilter-netN` with the NIC's address, as PVE names them.
pub(super) fn guest_ipsets(g: &Guest) -> Vec<GuestSet> {
    crate::agent::guest_os::interfaces(g)
        .into_iter()
        .enumerate()
        .map(|(i, (_, _, cidr))| {
            let ip = cidr.split('/').next().unwrap_or(&cidr).to_string();
            (
                format!("ipfilter-net{i}"),
                String::new(),
                vec![(ip, String::new(), false)],
            )
        })
        .collect()
}
