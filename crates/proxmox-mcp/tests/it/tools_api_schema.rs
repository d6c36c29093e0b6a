//! `proxmox_api` against the official schema (`tests/fixtures/pve-api/apidoc.json`): every
//! method of every endpoint passes the path check (no literal segment of Proxmox VE's paths is
//! refused as hostile), and is either refused by a built-in deny rule or reaches the allow
//! list; every built-in rule documented in docs/safety.md refuses at least one endpoint, and no
//! other rule refuses any. Nothing is sent: an allow list that matches nothing stops each call.

use std::collections::BTreeSet;
use std::path::Path;

use proxmox_mcp::{ApiConfig, GuardConfig};
use serde_json::{Value, json};

use crate::support::demo::guarded;

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

/// Every `(method, path template)` of the schema.
fn endpoints() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(root().join("tests/fixtures/pve-api/apidoc.json")).unwrap();
    let tree: Value = serde_json::from_str(&text).unwrap();
    let mut out = Vec::new();
    let mut stack: Vec<&Value> = tree.as_array().unwrap().iter().collect();
    while let Some(node) = stack.pop() {
        if let Some(info) = node["info"].as_object() {
            for method in info.keys() {
                out.push((method.clone(), node["path"].as_str().unwrap().to_string()));
            }
        }
        if let Some(children) = node["children"].as_array() {
            stack.extend(children);
        }
    }
    out.sort();
    out
}

/// A concrete path: `{node}` is pve01, `{vmid}` 103, any other parameter a plain word.
fn concrete(template: &str) -> String {
    let re = regex::Regex::new(r"\{([^}]+)\}").unwrap();
    re.replace_all(template, |c: &regex::Captures| match &c[1] {
        "node" => "pve01".to_string(),
        "vmid" => "103".to_string(),
        _ => "x1".to_string(),
    })
    .into_owned()
}

/// The rules of the deny-list table of docs/safety.md (each in backquotes).
fn documented_rules() -> BTreeSet<String> {
    let text = std::fs::read_to_string(root().join("docs/safety.md")).unwrap();
    let start = text.find("| rule | keeps out |").unwrap();
    let table = text[start..].split("\n\n").next().unwrap();
    let re = regex::Regex::new(r"`([^`]+)`").unwrap();
    table
        .lines()
        .skip(2)
        .filter_map(|l| l.split('|').nth(1))
        .flat_map(|cell| {
            re.captures_iter(cell)
                .map(|c| c[1].to_string())
                .collect::<Vec<_>>()
        })
        .collect()
}

#[tokio::test]
async fn every_schema_endpoint_passes_the_path_check_and_the_deny_list_is_documented() {
    let d = guarded(GuardConfig {
        api: ApiConfig {
            allow: vec!["GET /matches/nothing".into()],
            ..ApiConfig::default()
        },
        ..GuardConfig::default()
    })
    .await;
    let all = endpoints();
    assert!(all.len() > 600, "{} endpoints", all.len());
    let rule = regex::Regex::new(r"deny rule `([^`]+)` \(built-in deny list").unwrap();
    let mut seen = BTreeSet::new();
    d.sim().clear_requests();
    for (method, template) in &all {
        let path = concrete(template);
        let args = json!({"method": method, "path": path, "confirm": true});
        let e = d.call("proxmox_api", args).await.unwrap_err();
        let text = e.to_string();
        assert_eq!(e.kind(), "policy", "{method} {template}: {text}");
        match rule.captures(&text) {
            Some(c) => {
                seen.insert(c[1].to_string());
            }
            None => assert!(text.contains("allow list"), "{method} {template}: {text}"),
        }
    }
    assert_eq!(d.sim().requests().len(), 0, "a call reached the simulator");
    assert_eq!(
        seen,
        documented_rules(),
        "every built-in rule refuses an endpoint of the schema, and docs/safety.md lists them all"
    );
}
