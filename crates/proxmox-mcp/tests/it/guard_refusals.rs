//! Refusals made before a tool runs, on both doors: a call to a mutating tool the server hides
//! (read-only mode, toolset filters) writes an audit line, as a call above the key's scope
//! does; every such refusal is counted in the metrics with its reason.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use proxmox_mcp::App;
use proxmox_mcp::DemoCluster;
use proxmox_mcp::McpHttpConfig;
use proxmox_mcp::RestConfig;
use proxmox_mcp::ToolFilter;
use proxmox_mcp::{Gate, KeyRing, KeySpec, Scope};
use proxmox_mcp::{Guard, GuardConfig};
use pve_client::PveClient;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use crate::support::demo::serve_doors;
use crate::support::mcp::post;
use crate::support::process::parse_metrics;

const READER: &str = "reader-key-0123456789";
const ADMIN: &str = "admin-key-0123456789";

/// Both doors over the demo cluster, with `filter` applied, two keys and an audit log.
struct Doors {
    _demo: DemoCluster,
    mcp: String,
    rest: String,
    audit: PathBuf,
    http: reqwest::Client,
    shutdown: CancellationToken,
}

impl Drop for Doors {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

impl Doors {
    async fn start(name: &str, filter: ToolFilter) -> Doors {
        let dir = std::env::temp_dir().join(format!("pmcp-refusals-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let audit = dir.join(format!("{name}.jsonl"));
        let _ = std::fs::remove_file(&audit);
        let demo = DemoCluster::spawn(pve_sim::seed::demo(), 0.0)
            .await
            .unwrap();
        let registry = filter
            .apply(&proxmox_mcp::builtin_tools().unwrap())
            .unwrap()
            .with_guard(
                Guard::new(&GuardConfig {
                    audit_log: Some(audit.clone()),
                    ..GuardConfig::default()
                })
                .unwrap(),
            );
        let client = PveClient::new(demo.client_config().unwrap()).unwrap();
        let app = Arc::new(App::new(registry, client));
        let keys = vec![
            KeySpec::from_plain("reader", Scope::Read, READER),
            KeySpec::from_plain("admin", Scope::Admin, ADMIN),
        ];
        let gate = Gate::new(Arc::new(KeyRing::new(keys, None)));
        let shutdown = CancellationToken::new();
        let mcp_cfg = McpHttpConfig {
            gate: gate.clone(),
            ..McpHttpConfig::default()
        };
        let rest_cfg = RestConfig {
            gate,
            ..RestConfig::default()
        };
        let (mcp, rest) = serve_doors(&app, mcp_cfg, rest_cfg, &shutdown).await;
        Doors {
            _demo: demo,
            mcp: format!("{mcp}/mcp"),
            rest,
            audit,
            http: reqwest::Client::new(),
            shutdown,
        }
    }

    /// `POST /<tool>` on the REST door: status and body.
    async fn rest(&self, key: Option<&str>, tool: &str, args: Value) -> (u16, Value) {
        let mut req = self.http.post(format!("{}/{tool}", self.rest)).json(&args);
        if let Some(k) = key {
            req = req.bearer_auth(k);
        }
        let resp = req.send().await.unwrap();
        (
            resp.status().as_u16(),
            resp.json().await.unwrap_or(Value::Null),
        )
    }

    /// One `tools/call` over Streamable HTTP with `key`: the JSON-RPC answer.
    async fn mcp(&self, key: &str, tool: &str, args: Value) -> Value {
        let auth = format!("Bearer {key}");
        let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {},
            "clientInfo": {"name": "test", "version": "1"}}});
        let (status, hdrs, _) =
            post(&self.http, &self.mcp, &[("authorization", &auth)], init).await;
        assert_eq!(status, 200);
        let session = hdrs["mcp-session-id"].to_str().unwrap().to_string();
        let headers = [
            ("authorization", auth.as_str()),
            ("mcp-session-id", session.as_str()),
            ("mcp-protocol-version", "2025-06-18"),
        ];
        let note = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
        assert_eq!(post(&self.http, &self.mcp, &headers, note).await.0, 202);
        let call = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
            "params": {"name": tool, "arguments": args}});
        let (_, _, msgs) = post(&self.http, &self.mcp, &headers, call).await;
        msgs.last().unwrap().clone()
    }

    /// The audit log's records.
    fn audit(&self) -> Vec<Value> {
        audit_records(&self.audit)
    }

    /// The value of one sample of `/metrics` (0 when absent).
    async fn metric(&self, sample: &str) -> f64 {
        let url = format!("{}/metrics", self.rest);
        let text = self
            .http
            .get(url)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        parse_metrics(&text).get(sample).copied().unwrap_or(0.0)
    }
}

fn audit_records(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// (tool, transport, key, message) of each audit record.
fn summary(recs: &[Value]) -> Vec<(String, String, String, String)> {
    recs.iter()
        .map(|r| {
            assert_eq!(r["outcome"], "refused", "{r}");
            (
                r["tool"].as_str().unwrap().to_string(),
                r["transport"].as_str().unwrap().to_string(),
                r["key"].as_str().unwrap_or("-").to_string(),
                r["message"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn hidden_mutating_tools_are_audited_and_counted() {
    let d = Doors::start(
        "read-only",
        ToolFilter {
            read_only: true,
            ..ToolFilter::default()
        },
    )
    .await;
    // The answers stay what they were: a JSON-RPC error on MCP, a 404 on REST.
    let answer = d.mcp(ADMIN, "delete_vm", json!({"vmid": 103})).await;
    assert_eq!(answer["error"]["code"], -32602, "{answer}");
    let (status, body) = d.rest(Some(ADMIN), "delete_vm", json!({"vmid": 103})).await;
    assert_eq!(status, 404, "{body}");
    let answer = d.mcp(READER, "start_vm", json!({"vmid": 103})).await;
    assert!(answer["error"].is_object(), "{answer}");
    // Without a key nothing is written: the gate answers first.
    let (status, _) = d.rest(None, "delete_vm", json!({"vmid": 103})).await;
    assert_eq!(status, 401);
    // Reading is not refused, and not audited.
    let (status, _) = d.rest(Some(READER), "get_vms", json!({})).await;
    assert_eq!(status, 200);

    let recs = d.audit();
    let got = summary(&recs);
    let want = [
        ("delete_vm", "streamable-http", "admin"),
        ("delete_vm", "rest", "admin"),
        ("start_vm", "streamable-http", "reader"),
    ];
    assert_eq!(got.len(), want.len(), "{got:?}");
    for ((tool, transport, key, message), (t, tr, k)) in got.iter().zip(want) {
        assert_eq!(
            (tool.as_str(), transport.as_str(), key.as_str()),
            (t, tr, k)
        );
        assert!(message.contains("read-only"), "{message}");
    }
    assert_eq!(recs[0]["args"], json!({"vmid": 103}));
    let refusals = |tool: &str, transport: &str| {
        format!(
            "proxmox_mcp_tool_refusals_total{{tool=\"{tool}\",transport=\"{transport}\",reason=\"read_only\"}}"
        )
    };
    assert_eq!(
        d.metric(&refusals("delete_vm", "streamable-http")).await,
        1.0
    );
    assert_eq!(d.metric(&refusals("delete_vm", "rest")).await, 1.0);
    assert_eq!(
        d.metric(&refusals("start_vm", "streamable-http")).await,
        1.0
    );
}

#[tokio::test]
async fn tools_left_out_by_toolsets_and_scope_refusals_are_audited_and_counted() {
    let d = Doors::start(
        "toolsets",
        ToolFilter {
            toolsets: Some(vec!["core".into()]),
            ..ToolFilter::default()
        },
    )
    .await;
    let (status, _) = d
        .rest(
            Some(ADMIN),
            "create_backup",
            json!({"vmid": 100, "mode": "stop"}),
        )
        .await;
    assert_eq!(status, 404);
    let answer = d.mcp(ADMIN, "delete_backup", json!({"volid": "x"})).await;
    assert!(answer["error"].is_object(), "{answer}");
    // A hidden read tool is simply not there.
    let (status, _) = d.rest(Some(ADMIN), "list_backups", json!({})).await;
    assert_eq!(status, 404);
    // Scope: audited (as before) and now counted, in the refusals and in the calls.
    let (status, body) = d.rest(Some(READER), "stop_vm", json!({"vmid": 100})).await;
    assert_eq!(status, 403, "{body}");
    let answer = d.mcp(READER, "stop_vm", json!({"vmid": 100})).await;
    assert_eq!(answer["result"]["isError"], true, "{answer}");

    let got = summary(&d.audit());
    let tools: Vec<(&str, &str)> = got
        .iter()
        .map(|(t, tr, _, _)| (t.as_str(), tr.as_str()))
        .collect();
    assert_eq!(
        tools,
        [
            ("create_backup", "rest"),
            ("delete_backup", "streamable-http"),
            ("stop_vm", "rest"),
            ("stop_vm", "streamable-http"),
        ]
    );
    assert!(got[0].3.contains("not offered"), "{got:?}");
    let sample = |tool: &str, transport: &str, reason: &str| {
        format!(
            "proxmox_mcp_tool_refusals_total{{tool=\"{tool}\",transport=\"{transport}\",reason=\"{reason}\"}}"
        )
    };
    assert_eq!(
        d.metric(&sample("create_backup", "rest", "not_offered"))
            .await,
        1.0
    );
    assert_eq!(
        d.metric(&sample("delete_backup", "streamable-http", "not_offered"))
            .await,
        1.0
    );
    assert_eq!(
        d.metric(&sample("list_backups", "rest", "not_offered"))
            .await,
        0.0
    );
    assert_eq!(d.metric(&sample("stop_vm", "rest", "scope")).await, 1.0);
    assert_eq!(
        d.metric(&sample("stop_vm", "streamable-http", "scope"))
            .await,
        1.0
    );
    let calls = "proxmox_mcp_tool_calls_total{tool=\"stop_vm\",transport=\"rest\",cluster=\"default\",outcome=\"policy\"}";
    assert_eq!(d.metric(calls).await, 1.0);
}
