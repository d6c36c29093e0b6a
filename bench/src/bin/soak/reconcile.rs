//! Matching the server's audit log with what Proxmox VE (the simulator) received. Every
//! mutation of the soak carries a token unique to the run (a description, a snapshot name), so
//! each side can be keyed by (tool, token):
//!
//! - a request the simulator *received* is one that reached its handlers (it has a route: an
//!   injected fault answers before any route is matched, and a dropped connection has none);
//! - the audit log's lines of those tools that ran (`ok` or `error`).
//!
//! Targets: every `ok` line was received exactly once (none lost), no token was received twice
//! (none duplicated), every received mutation has an audit line (none unaudited), and no other
//! mutating request reached the simulator. The clients' own view is checked too: a call they saw
//! succeed has an `ok` line.

use std::collections::BTreeMap;

use pve_sim::RequestRecord;
use serde_json::Value;

use crate::doors::Outcome;
use crate::load::Mutation;

/// The tools the soak mutates with.
const TOOLS: [&str; 3] = ["update_vm_config", "create_snapshot", "delete_snapshot"];

/// The reconciliation's figures and the keys behind each miss.
#[derive(Debug, Default)]
pub struct Reconciled {
    /// Mutating calls the clients sent, and how many they saw succeed.
    pub sent: usize,
    pub client_ok: usize,
    /// Audit lines of those tools that ran, and how many say `ok`.
    pub audited: usize,
    pub audited_ok: usize,
    /// Mutations the simulator received (each token counted once), and logins.
    pub received: usize,
    pub logins: usize,
    /// Mutating requests sent but answered by a fault (never received), by (tool, token).
    pub faulted_sends: usize,
    /// `ok` in the audit log, never received.
    pub lost: Vec<String>,
    /// Received more than once.
    pub duplicated: Vec<String>,
    /// Received, with no audit line.
    pub unaudited: Vec<String>,
    /// Mutating requests the soak did not make (neither a login nor one of its tools).
    pub unexpected: Vec<String>,
    /// Succeeded for the client, with no `ok` line.
    pub client_ok_unaudited: Vec<String>,
    /// Audit lines that could not be read.
    pub bad_lines: usize,
}

impl Reconciled {
    /// No mutation lost, duplicated, unaudited or unexpected.
    pub fn clean(&self) -> bool {
        self.lost.is_empty()
            && self.duplicated.is_empty()
            && self.unaudited.is_empty()
            && self.unexpected.is_empty()
            && self.client_ok_unaudited.is_empty()
            && self.bad_lines == 0
    }
}

/// Reconciles the audit log's text, the simulator's non-GET requests and the clients' record.
pub fn reconcile(audit: &str, pve: &[RequestRecord], clients: &[Mutation]) -> Reconciled {
    let mut r = Reconciled {
        sent: clients.len(),
        client_ok: clients.iter().filter(|m| m.outcome == Outcome::Ok).count(),
        ..Reconciled::default()
    };
    // (tool, token) -> outcome of its audit line.
    let mut audited: BTreeMap<(String, String), String> = BTreeMap::new();
    for line in audit.lines().filter(|l| !l.trim().is_empty()) {
        let Ok(v) = serde_json::from_str::<Value>(line) else {
            r.bad_lines += 1;
            continue;
        };
        let tool = v["tool"].as_str().unwrap_or_default();
        let outcome = v["outcome"].as_str().unwrap_or_default();
        if !TOOLS.contains(&tool) || !matches!(outcome, "ok" | "error") {
            continue;
        }
        let token = match tool {
            "update_vm_config" => v["args"]["description"].as_str(),
            _ => v["args"]["name"].as_str(),
        };
        let Some(token) = token else { continue };
        r.audited += 1;
        if outcome == "ok" {
            r.audited_ok += 1;
        }
        audited.insert((tool.to_string(), token.to_string()), outcome.to_string());
    }

    let mut received: BTreeMap<(String, String), usize> = BTreeMap::new();
    for req in pve {
        match mutation_key(req) {
            Key::Login => {
                if req.route.is_some() {
                    r.logins += 1;
                }
            }
            Key::Mutation(key) => {
                if req.route.is_some() {
                    *received.entry(key).or_default() += 1;
                } else {
                    r.faulted_sends += 1;
                }
            }
            Key::Other if req.route.is_some() => {
                r.unexpected.push(format!("{} {}", req.method, req.path));
            }
            Key::Other => {}
        }
    }
    r.received = received.len();

    let show = |(tool, token): &(String, String)| format!("{tool} {token}");
    for (key, outcome) in &audited {
        if outcome == "ok" && !received.contains_key(key) {
            r.lost.push(show(key));
        }
    }
    for (key, n) in &received {
        if *n > 1 {
            r.duplicated.push(format!("{} ({n} times)", show(key)));
        }
        if !audited.contains_key(key) {
            r.unaudited.push(show(key));
        }
    }
    for m in clients.iter().filter(|m| m.outcome == Outcome::Ok) {
        let key = (m.tool.to_string(), m.token.clone());
        if audited.get(&key).map(String::as_str) != Some("ok") {
            r.client_ok_unaudited
                .push(format!("{} via {}", show(&key), m.door));
        }
    }
    r
}

enum Key {
    Login,
    Mutation((String, String)),
    Other,
}

/// What a non-GET request was, by its route (or, for a request a fault answered before any
/// route matched, by its path).
fn mutation_key(req: &RequestRecord) -> Key {
    let param = |name: &str| {
        req.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let path = req.path.trim_end_matches('/');
    let segments: Vec<&str> = path.split('/').collect();
    if path == "/access/ticket" {
        return Key::Login;
    }
    // /nodes/{node}/qemu/{vmid}/...
    let tail: Vec<&str> = match segments.as_slice() {
        ["", "nodes", _, "qemu", _, rest @ ..] => rest.to_vec(),
        _ => return Key::Other,
    };
    let key = |tool: &str, token: Option<String>| match token {
        Some(t) => Key::Mutation((tool.to_string(), t)),
        None => Key::Other,
    };
    match (req.method.as_str(), tail.as_slice()) {
        ("POST" | "PUT", ["config"]) => key("update_vm_config", param("description")),
        ("POST", ["snapshot"]) => key("create_snapshot", param("snapname")),
        ("DELETE", ["snapshot", name]) => key("delete_snapshot", Some(name.to_string())),
        _ => Key::Other,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn req(method: &str, path: &str, params: &[(&str, &str)], routed: bool) -> RequestRecord {
        RequestRecord {
            method: method.into(),
            path: path.into(),
            route: routed.then_some("/a/route"),
            params: params
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            status: if routed { 200 } else { 503 },
            userid: None,
        }
    }

    fn line(tool: &str, args: &str, outcome: &str) -> String {
        format!(r#"{{"seq":1,"tool":"{tool}","args":{args},"outcome":"{outcome}"}}"#)
    }

    fn client(tool: &'static str, token: &str, outcome: Outcome) -> Mutation {
        Mutation {
            tool,
            token: token.into(),
            door: "rest",
            outcome,
        }
    }

    #[test]
    fn a_clean_run_matches_every_side() {
        let audit = [
            line(
                "update_vm_config",
                r#"{"vmid":100,"description":"d1"}"#,
                "ok",
            ),
            line("create_snapshot", r#"{"vmid":100,"name":"s2"}"#, "ok"),
            line("delete_snapshot", r#"{"vmid":100,"name":"s2"}"#, "error"),
            line("create_snapshot", r#"{"vmid":100,"name":"s3"}"#, "error"),
        ]
        .join("\n");
        let pve = [
            req("POST", "/access/ticket", &[], true),
            req(
                "PUT",
                "/nodes/n1/qemu/100/config",
                &[("description", "d1")],
                true,
            ),
            // A fault answered the first send; the retry reached PVE.
            req(
                "POST",
                "/nodes/n1/qemu/100/snapshot",
                &[("snapname", "s2")],
                false,
            ),
            req(
                "POST",
                "/nodes/n1/qemu/100/snapshot",
                &[("snapname", "s2")],
                true,
            ),
            req("DELETE", "/nodes/n1/qemu/100/snapshot/s2", &[], true),
        ];
        let clients = [
            client("update_vm_config", "d1", Outcome::Ok),
            client("create_snapshot", "s2", Outcome::Ok),
            client("delete_snapshot", "s2", Outcome::ToolError),
            client("create_snapshot", "s3", Outcome::Failed),
        ];
        let r = reconcile(&audit, &pve, &clients);
        assert!(r.clean(), "{r:?}");
        assert_eq!((r.sent, r.client_ok), (4, 2));
        assert_eq!((r.audited, r.audited_ok), (4, 2));
        assert_eq!((r.received, r.logins, r.faulted_sends), (3, 1, 1));
    }

    #[test]
    fn finds_lost_duplicated_unaudited_and_unexpected_mutations() {
        let audit = [
            line(
                "update_vm_config",
                r#"{"vmid":100,"description":"lost"}"#,
                "ok",
            ),
            line("create_snapshot", r#"{"vmid":100,"name":"twice"}"#, "ok"),
            "not json".to_string(),
        ]
        .join("\n");
        let pve = [
            req(
                "POST",
                "/nodes/n1/qemu/100/snapshot",
                &[("snapname", "twice")],
                true,
            ),
            req(
                "POST",
                "/nodes/n1/qemu/100/snapshot",
                &[("snapname", "twice")],
                true,
            ),
            req("DELETE", "/nodes/n1/qemu/100/snapshot/quiet", &[], true),
            req("POST", "/nodes/n1/qemu/100/status/stop", &[], true),
        ];
        let clients = [client("create_snapshot", "unseen", Outcome::Ok)];
        let r = reconcile(&audit, &pve, &clients);
        assert!(!r.clean());
        assert_eq!(r.lost, ["update_vm_config lost"]);
        assert_eq!(r.duplicated, ["create_snapshot twice (2 times)"]);
        assert_eq!(r.unaudited, ["delete_snapshot quiet"]);
        assert_eq!(r.unexpected, ["POST /nodes/n1/qemu/100/status/stop"]);
        assert_eq!(r.client_ok_unaudited, ["create_snapshot unseen via rest"]);
        assert_eq!(r.bad_lines, 1);
    }
}
