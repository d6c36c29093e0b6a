//! Confirmation asked of the human: a client that declared the `elicitation` capability gets an
//! `elicitation/create` question for a destructive call without `confirm: true`, showing the
//! planned PVE calls; accepted, the call runs and the audit line says the user confirmed;
//! declined or cancelled, nothing reaches the simulator and the refusal is audited. Over
//! Streamable HTTP (the rmcp client) and legacy SSE (raw messages); `[guard] elicit = false`
//! and clients without the capability keep the plain refusal.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use proxmox_mcp::{GuardConfig, McpHttpConfig};
use rmcp::model::{
    CallToolRequestParams, ClientCapabilities, ClientConfig, ElicitRequestParams, ElicitResult,
    ElicitationAction, ElicitationCapability, FormElicitationCapability, Implementation,
    ProtocolVersion,
};
use rmcp::service::{RequestContext, RunningService};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::{ClientHandler, ErrorData, RoleClient, ServiceExt};
use serde_json::{Value, json};

use crate::support::demo::{Demo, guarded, writes};
use crate::support::mcp::{Server, open_legacy, start_with};

const RESET: &str = "POST /nodes/pve01/qemu/100/status/reset";

/// A client that answers every question with `action`, keeping the messages it was shown.
#[derive(Clone)]
struct Human {
    action: ElicitationAction,
    /// `false`: the client does not declare the capability.
    capable: bool,
    asked: Arc<Mutex<Vec<String>>>,
}

impl Human {
    fn new(action: ElicitationAction) -> Self {
        Self {
            action,
            capable: true,
            asked: Arc::default(),
        }
    }

    fn asked(&self) -> Vec<String> {
        self.asked.lock().unwrap().clone()
    }
}

impl ClientHandler for Human {
    async fn create_elicitation(
        &self,
        request: ElicitRequestParams,
        _context: RequestContext<RoleClient>,
    ) -> Result<ElicitResult, ErrorData> {
        if let ElicitRequestParams::FormElicitationParams {
            message,
            requested_schema,
            ..
        } = request
        {
            assert!(requested_schema.properties.is_empty());
            self.asked.lock().unwrap().push(message);
        }
        Ok(ElicitResult::new(self.action.clone()))
    }

    fn get_info(&self) -> ClientConfig {
        let mut caps = ClientCapabilities::default();
        if self.capable {
            caps.elicitation =
                Some(ElicitationCapability::new().with_form(FormElicitationCapability::default()));
        }
        ClientConfig::new(caps, Implementation::new("human", "1"))
            .with_protocol_version(ProtocolVersion::V_2025_11_25)
    }
}

fn temp_log(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pmcp-elicit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{name}.jsonl"));
    let _ = std::fs::remove_file(&path);
    path
}

fn records(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

async fn serve(log: &Path, elicit: Option<bool>) -> (Demo, Server) {
    let demo = guarded(GuardConfig {
        audit_log: Some(log.to_path_buf()),
        elicit,
        ..GuardConfig::default()
    })
    .await;
    let server = start_with(demo.app.host().clone(), McpHttpConfig::default()).await;
    demo.sim().clear_requests();
    (demo, server)
}

async fn connect(server: &Server, human: &Human) -> RunningService<RoleClient, Human> {
    let transport = StreamableHttpClientTransport::from_uri(server.url("/proxmox/mcp"));
    human.clone().serve(transport).await.unwrap()
}

async fn reset_100(client: &RunningService<RoleClient, Human>) -> rmcp::model::CallToolResult {
    let Value::Object(args) = json!({"vmid": 100}) else {
        unreachable!()
    };
    client
        .call_tool(CallToolRequestParams::new("reset_vm").with_arguments(args))
        .await
        .unwrap()
}

#[tokio::test]
async fn streamable_http_accept_runs_the_call_and_audits_the_user() {
    let log = temp_log("accept");
    let (demo, server) = serve(&log, None).await;
    let human = Human::new(ElicitationAction::Accept);
    let client = connect(&server, &human).await;
    let r = reset_100(&client).await;
    assert_eq!(r.is_error, Some(false), "{r:?}");
    let asked = human.asked();
    assert_eq!(asked.len(), 1, "{asked:?}");
    assert!(
        asked[0].contains("reset_vm") && asked[0].contains("/nodes/pve01/qemu/100/status/reset"),
        "the question shows the planned call: {}",
        asked[0]
    );
    assert_eq!(writes(&demo), [RESET]);
    let last = records(&log).pop().unwrap();
    assert_eq!(last["tool"], "reset_vm");
    assert_eq!(last["outcome"], "ok");
    assert_eq!(last["confirmed_by"], "user");
    assert_eq!(last["transport"], "streamable-http");
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn streamable_http_decline_and_cancel_do_nothing_and_are_refusals() {
    for (action, word) in [
        (ElicitationAction::Decline, "declined"),
        (ElicitationAction::Cancel, "cancelled"),
    ] {
        let log = temp_log(word);
        let (demo, server) = serve(&log, None).await;
        let human = Human::new(action);
        let client = connect(&server, &human).await;
        let r = reset_100(&client).await;
        assert_eq!(r.is_error, Some(true));
        let text = &r.content[0].as_text().unwrap().text;
        assert!(
            text.contains(word) && text.contains("nothing was done"),
            "{text}"
        );
        assert_eq!(human.asked().len(), 1);
        assert_eq!(writes(&demo), Vec::<String>::new());
        let last = records(&log).pop().unwrap();
        assert_eq!(last["outcome"], "refused");
        assert!(last["message"].as_str().unwrap().contains(word), "{last}");
        assert!(last.get("confirmed_by").is_none(), "{last}");
        client.cancel().await.unwrap();
    }
}

#[tokio::test]
async fn no_capability_or_elicit_off_keeps_the_refusal_and_confirm_needs_no_question() {
    let log = temp_log("off");
    let (demo, server) = serve(&log, Some(false)).await;
    let human = Human::new(ElicitationAction::Accept);
    let client = connect(&server, &human).await;
    let r = reset_100(&client).await;
    assert_eq!(r.is_error, Some(true));
    assert!(
        r.content[0]
            .as_text()
            .unwrap()
            .text
            .contains("needs confirm: true")
    );
    assert!(human.asked().is_empty(), "elicit = false asks nobody");
    client.cancel().await.unwrap();
    drop(server);

    let log = temp_log("incapable");
    let (demo2, server) = serve(&log, None).await;
    let mut human = Human::new(ElicitationAction::Accept);
    human.capable = false;
    let client = connect(&server, &human).await;
    let r = reset_100(&client).await;
    assert_eq!(r.is_error, Some(true));
    assert!(human.asked().is_empty());
    // With confirm: true a capable client is not asked either.
    let human = Human::new(ElicitationAction::Decline);
    let capable = connect(&server, &human).await;
    let Value::Object(args) = json!({"vmid": 100, "confirm": true}) else {
        unreachable!()
    };
    let r = capable
        .call_tool(CallToolRequestParams::new("reset_vm").with_arguments(args))
        .await
        .unwrap();
    assert_eq!(r.is_error, Some(false), "{r:?}");
    assert!(human.asked().is_empty());
    assert_eq!(writes(&demo), Vec::<String>::new());
    assert_eq!(writes(&demo2), [RESET]);
    let last = records(&log).pop().unwrap();
    assert!(last.get("confirmed_by").is_none(), "{last}");
    client.cancel().await.unwrap();
    capable.cancel().await.unwrap();
}

/// Sends one message to a legacy session's endpoint.
async fn post(http: &reqwest::Client, endpoint: &str, message: &Value) {
    let status = http.post(endpoint).json(message).send().await.unwrap();
    assert_eq!(status.status(), 202);
}

#[tokio::test]
async fn legacy_sse_asks_on_the_stream_and_takes_the_answer_by_post() {
    for (action, ran) in [("accept", true), ("decline", false)] {
        let log = temp_log(&format!("sse-{action}"));
        let (demo, server) = serve(&log, None).await;
        let http = reqwest::Client::new();
        let (mut reader, endpoint) = open_legacy(&http, &server.url("/mcp")).await;
        let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2024-11-05", "capabilities": {"elicitation": {}},
            "clientInfo": {"name": "sse-human", "version": "1"}}});
        post(&http, &endpoint, &init).await;
        let (_, data) = reader.next_event().await.unwrap();
        assert_eq!(serde_json::from_str::<Value>(&data).unwrap()["id"], 1);
        let note = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
        post(&http, &endpoint, &note).await;
        let call = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
            "params": {"name": "reset_vm", "arguments": {"vmid": 100}}});
        post(&http, &endpoint, &call).await;
        let (event, data) = reader.next_event().await.unwrap();
        assert_eq!(event, "message");
        let question: Value = serde_json::from_str(&data).unwrap();
        assert_eq!(question["method"], "elicitation/create", "{question}");
        let message = question["params"]["message"].as_str().unwrap();
        assert!(
            message.contains("/nodes/pve01/qemu/100/status/reset"),
            "{message}"
        );
        assert_eq!(question["params"]["requestedSchema"]["type"], "object");
        assert_eq!(
            writes(&demo),
            Vec::<String>::new(),
            "nothing before the answer"
        );
        let reply = json!({"jsonrpc": "2.0", "id": question["id"], "result": {"action": action}});
        post(&http, &endpoint, &reply).await;
        let (_, data) = reader.next_event().await.unwrap();
        let answer: Value = serde_json::from_str(&data).unwrap();
        assert_eq!(answer["id"], 2, "{answer}");
        assert_eq!(answer["result"]["isError"], !ran, "{answer}");
        let last = records(&log).pop().unwrap();
        assert_eq!(last["transport"], "sse");
        if ran {
            assert_eq!(writes(&demo), [RESET]);
            assert_eq!(last["confirmed_by"], "user");
        } else {
            assert_eq!(writes(&demo), Vec::<String>::new());
            assert_eq!(last["outcome"], "refused");
        }
    }
}

/// One 2026-07-28 `tools/call` of `reset_vm` 100 (no session), with `params` added.
async fn call_2026(server: &Server, capabilities: Value, extra: Value) -> Value {
    let mut params = json!({
        "_meta": {
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientInfo": {"name": "mrtr", "version": "1"},
            "io.modelcontextprotocol/clientCapabilities": capabilities,
        },
        "name": "reset_vm",
        "arguments": {"vmid": 100},
    });
    params
        .as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    let headers = [
        ("mcp-protocol-version", "2026-07-28"),
        ("mcp-method", "tools/call"),
        ("mcp-name", "reset_vm"),
    ];
    let body = json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": params});
    let http = reqwest::Client::new();
    let (status, _, mut msgs) =
        crate::support::mcp::post(&http, &server.url("/proxmox/mcp"), &headers, body).await;
    assert_eq!(status, 200, "{msgs:?}");
    msgs.pop().unwrap()["result"].clone()
}

#[tokio::test]
async fn protocol_2026_07_28_asks_with_an_input_required_result() {
    for (action, ran) in [("accept", true), ("decline", false)] {
        let log = temp_log(&format!("mrtr-{action}"));
        let (demo, server) = serve(&log, None).await;
        let caps = json!({"elicitation": {"form": {}}});
        let first = call_2026(&server, caps.clone(), json!({})).await;
        assert_eq!(first["resultType"], "input_required", "{first}");
        let question = &first["inputRequests"]["confirm"];
        assert_eq!(question["method"], "elicitation/create", "{first}");
        let message = question["params"]["message"].as_str().unwrap();
        assert!(
            message.contains("/nodes/pve01/qemu/100/status/reset"),
            "{message}"
        );
        assert_eq!(
            writes(&demo),
            Vec::<String>::new(),
            "nothing before the answer"
        );

        let retry = json!({"inputResponses": {"confirm": {"action": action}}});
        let second = call_2026(&server, caps, retry).await;
        assert_eq!(second["resultType"], "complete", "{second}");
        assert_eq!(second["isError"], !ran, "{second}");
        let last = records(&log).pop().unwrap();
        if ran {
            assert_eq!(writes(&demo), [RESET]);
            assert_eq!(last["confirmed_by"], "user");
        } else {
            assert_eq!(writes(&demo), Vec::<String>::new());
            assert_eq!(last["outcome"], "refused");
        }
    }
    // Without the capability: the plain refusal, no question.
    let log = temp_log("mrtr-incapable");
    let (demo, server) = serve(&log, None).await;
    let r = call_2026(&server, json!({}), json!({})).await;
    assert_eq!(r["resultType"], "complete", "{r}");
    assert_eq!(r["isError"], true);
    assert!(
        r["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("needs confirm: true")
    );
    assert_eq!(writes(&demo), Vec::<String>::new());
}

#[tokio::test]
async fn stdio_asks_the_human_through_the_same_flow() {
    let dir = temp_log("stdio").parent().unwrap().to_path_buf();
    let log = dir.join("stdio-audit.jsonl");
    let _ = std::fs::remove_file(&log);
    for (action, word) in [
        (ElicitationAction::Decline, "declined"),
        (ElicitationAction::Accept, "ok"),
    ] {
        let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_proxmox-mcp"));
        cmd.args(["stdio", "--demo", "--audit-log"]).arg(&log);
        let transport = rmcp::transport::TokioChildProcess::builder(cmd)
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap()
            .0;
        let human = Human::new(action);
        let client = human.clone().serve(transport).await.unwrap();
        let r = reset_100(&client).await;
        assert_eq!(r.is_error, Some(word == "declined"), "{r:?}");
        assert_eq!(human.asked().len(), 1);
        let last = records(&log).pop().unwrap();
        assert_eq!(last["transport"], "stdio");
        if word == "ok" {
            assert_eq!(last["outcome"], "ok");
            assert_eq!(last["confirmed_by"], "user");
        } else {
            assert_eq!(last["outcome"], "refused");
        }
        client.cancel().await.unwrap();
    }
}
