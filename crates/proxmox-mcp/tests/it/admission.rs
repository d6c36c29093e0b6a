//! One admission for every door: the same out-of-scope calls (a tool above the key's scope, a
//! `proxmox_api` call whose method is) and the same over-rate call, sent through REST,
//! Streamable HTTP and legacy SSE, get the same decision (refused or not, in the same words) and
//! the same audit line (the door's `transport` aside).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use proxmox_mcp::{GuardConfig, McpHttpConfig, RateLimiter};
use serde_json::{Value, json};

use crate::support::demo::guarded;
use crate::support::door::{Door, answer, gate};
use crate::support::rest::{KEYS, Rest};

/// The reader key: it may read, and make one call a minute.
const READER: &str = KEYS[0].2;

/// What a door answered a call: `Ok` or the refusal's words (without the `refused: ` that MCP
/// tool errors start with).
type Decision = Result<(), String>;

/// The calls every door gets, in order: above the key's scope (a tool, then a call whose
/// method needs more than the tool's mildest call), within the rate, over the rate.
fn calls() -> [(&'static str, Value); 4] {
    [
        ("stop_vm", json!({"vmid": 100})),
        (
            "proxmox_api",
            json!({"method": "POST", "path": "/pools", "params": {"poolid": "p"}}),
        ),
        ("get_nodes", json!({})),
        ("get_nodes", json!({})),
    ]
}

/// One call a minute for the reader key.
fn one_a_minute() -> RateLimiter {
    RateLimiter::new(None, HashMap::from([("reader".to_string(), 1)]))
}

fn audit_path(door: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pmcp-admission-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{door}.jsonl"));
    let _ = std::fs::remove_file(&path);
    path
}

fn audited(path: &Path) -> GuardConfig {
    GuardConfig {
        audit_log: Some(path.to_path_buf()),
        ..GuardConfig::default()
    }
}

/// The words of a refusal as the caller reads them.
fn words(text: &str) -> String {
    text.strip_prefix("refused: ").unwrap_or(text).to_string()
}

/// The refusal lines of an audit log, without what differs by door or by moment (`transport`,
/// `seq`, `time`, `prev`, and the seconds to wait).
fn refusal_lines(path: &Path) -> Vec<Value> {
    let retry = regex::Regex::new(r"retry in \d+ s").unwrap();
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|r| r["outcome"] == "refused")
        .map(|mut r| {
            let m = r.as_object_mut().unwrap();
            for k in ["transport", "seq", "time", "prev"] {
                m.remove(k);
            }
            if let Some(Value::String(s)) = m.get_mut("message") {
                *s = retry.replace_all(s, "retry in N s").into_owned();
            }
            r
        })
        .collect()
}

/// The transports the audit log's lines name.
fn transports(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap()["transport"].to_string())
        .collect()
}

async fn over_rest(path: &Path) -> Vec<Decision> {
    let rest_cfg = proxmox_mcp::RestConfig {
        gate: gate(one_a_minute()),
        ..proxmox_mcp::RestConfig::default()
    };
    let registry = proxmox_mcp::builtin_tools()
        .unwrap()
        .with_guard(proxmox_mcp::Guard::new(&audited(path)).unwrap());
    let r = Rest::with_registry(Some(registry), rest_cfg).await;
    let mut out = Vec::new();
    for (tool, args) in calls() {
        let (status, headers, v) = r
            .send(
                reqwest::Method::POST,
                &format!("/{tool}"),
                Some(&args.to_string()),
                Some(READER),
            )
            .await;
        out.push(match status {
            200 => Ok(()),
            403 => {
                assert_eq!(v["detail"]["kind"], "policy", "{v}");
                Err(words(v["detail"]["message"].as_str().unwrap()))
            }
            429 => {
                assert_eq!(v["detail"]["kind"], "rate_limited", "{v}");
                assert!(headers.contains_key("retry-after"));
                Err(words(v["detail"]["message"].as_str().unwrap()))
            }
            other => panic!("{tool}: {other} {v}"),
        });
    }
    out
}

/// A `tools/call` answer as a decision (a JSON-RPC error is a failure of the test).
fn mcp_decision(v: &Value) -> Decision {
    let result = &v["result"];
    assert!(result.is_object(), "{v}");
    if result["isError"] == true {
        Err(words(result["content"][0]["text"].as_str().unwrap()))
    } else {
        Ok(())
    }
}

async fn over_mcp(path: &Path, legacy: bool) -> Vec<Decision> {
    let cfg = McpHttpConfig {
        gate: gate(one_a_minute()),
        ..McpHttpConfig::default()
    };
    let d = Door::start(guarded(audited(path)).await, cfg).await;
    let mut out = Vec::new();
    if legacy {
        let mut session = d.legacy(READER).await;
        for (tool, args) in calls() {
            let v = session
                .request("tools/call", json!({"name": tool, "arguments": args}))
                .await;
            out.push(mcp_decision(&v));
        }
    } else {
        let id = d.session(READER).await;
        for (i, (tool, args)) in calls().into_iter().enumerate() {
            let call = json!({"jsonrpc": "2.0", "id": i + 2, "method": "tools/call",
                "params": {"name": tool, "arguments": args}});
            let (status, _, text) = d.post("/proxmox/mcp", Some(READER), Some(&id), &call).await;
            assert_eq!(status, 200, "{text}");
            out.push(mcp_decision(&answer(&text)));
        }
    }
    out
}

#[tokio::test]
async fn every_door_admits_and_refuses_alike_and_audits_alike() {
    let paths = [
        audit_path("rest"),
        audit_path("streamable"),
        audit_path("sse"),
    ];
    let decisions = [
        over_rest(&paths[0]).await,
        over_mcp(&paths[1], false).await,
        over_mcp(&paths[2], true).await,
    ];
    let scope = decisions[0][0].clone().unwrap_err();
    assert!(
        scope.contains("`stop_vm` needs the `admin` scope") && scope.contains("`reader`"),
        "{scope}"
    );
    let api = decisions[0][1].clone().unwrap_err();
    assert!(
        api.contains("`proxmox_api` needs the `admin` scope for this call")
            && api.contains("`reader`"),
        "{api}"
    );
    // The refused calls did not spend the key's budget; the next one over it is refused.
    assert_eq!(decisions[0][2], Ok(()));
    let rate = decisions[0][3].clone().unwrap_err();
    assert!(rate.contains("1 calls per minute"), "{rate}");
    let retry = regex::Regex::new(r"retry in \d+ s").unwrap();
    let alike = |d: &[Decision]| -> Vec<Decision> {
        d.iter()
            .map(|r| {
                r.clone()
                    .map_err(|e| retry.replace_all(&e, "N").into_owned())
            })
            .collect()
    };
    for (door, d) in ["streamable-http", "sse"].iter().zip(&decisions[1..]) {
        assert_eq!(alike(d), alike(&decisions[0]), "{door} decided otherwise");
    }

    let lines = refusal_lines(&paths[0]);
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert_eq!(lines[0]["tool"], "stop_vm");
    assert_eq!(lines[0]["key"], "reader");
    assert_eq!(lines[0]["args"], json!({"vmid": 100}));
    assert_eq!(lines[0]["message"], format!("refused: {scope}"));
    assert_eq!(lines[1]["tool"], "proxmox_api");
    assert_eq!(lines[1]["args"]["method"], "POST");
    assert_eq!(lines[2]["tool"], "get_nodes");
    for (door, path) in ["streamable-http", "sse"].iter().zip(&paths[1..]) {
        assert_eq!(refusal_lines(path), lines, "{door} audited otherwise");
    }
    for (want, path) in ["\"rest\"", "\"streamable-http\"", "\"sse\""]
        .iter()
        .zip(&paths)
    {
        assert!(
            transports(path).iter().all(|t| t == want),
            "{}",
            path.display()
        );
    }
}
