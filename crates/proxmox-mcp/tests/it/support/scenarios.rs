//! The client scenarios every MCP transport runs: over the fixture tools (`fixture_scenario`,
//! `check_progress`) and over the real tools on the demo cluster (`real_tools_scenario`).

use rmcp::model::{CallToolRequestParams, ErrorCode};
use serde_json::{Value, json};

/// What every transport must do with the fixture tools: identify as us, list the tools with
/// their annotations and schemas, answer calls, report tool errors as `isError`, refuse unknown
/// tools with -32602.
pub async fn fixture_scenario<S: rmcp::Service<rmcp::RoleClient>>(
    client: &rmcp::service::RunningService<rmcp::RoleClient, S>,
) {
    let info = client.peer_info().expect("server info after initialize");
    let server = info.server_info.as_ref().expect("serverInfo");
    assert_eq!(server.name, "proxmox-mcp");
    assert_eq!(server.version, env!("CARGO_PKG_VERSION"));
    assert!(info.capabilities.tools.is_some());
    assert!(
        info.instructions
            .as_deref()
            .unwrap_or("")
            .contains("Proxmox VE")
    );

    let tools = client.list_all_tools().await.unwrap();
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    assert_eq!(names, ["echo", "steps", "fail", "wait_cancel"]);
    // name, readOnly, destructive, idempotent
    let want = [
        ("echo", true, false, true),
        ("steps", false, false, true),
        ("fail", false, true, false),
        ("wait_cancel", false, false, false),
    ];
    for (tool, (name, ro, destructive, idempotent)) in tools.iter().zip(want) {
        let a = tool.annotations.as_ref().expect("annotations");
        assert_eq!(
            (
                a.read_only_hint,
                a.destructive_hint,
                a.idempotent_hint,
                a.open_world_hint
            ),
            (Some(ro), Some(destructive), Some(idempotent), Some(false)),
            "annotations of {name}"
        );
        assert_eq!(tool.title.as_deref(), Some("Fixture tool"));
        assert_eq!(
            tool.input_schema["type"], "object",
            "input schema of {name}"
        );
        let out = tool.output_schema.as_ref().expect("output schema");
        assert_eq!(out["type"], "object", "output schema of {name}");
    }
    let echo = &tools[0];
    assert_eq!(echo.input_schema["properties"]["text"]["type"], "string");
    assert_eq!(echo.input_schema["required"], json!(["text"]));

    let mut args = serde_json::Map::new();
    args.insert("text".into(), json!("héllo"));
    let r = client
        .call_tool(CallToolRequestParams::new("echo").with_arguments(args))
        .await
        .unwrap();
    assert_eq!(r.is_error, Some(false));
    assert_eq!(r.structured_content, Some(json!({"text": "héllo"})));
    let text = &r.content[0].as_text().expect("one text block").text;
    assert_eq!(text, r#"{"text":"héllo"}"#);

    let r = client
        .call_tool(CallToolRequestParams::new("fail"))
        .await
        .unwrap();
    assert_eq!(r.is_error, Some(true));
    assert_eq!(r.structured_content, None);
    let text = &r.content[0].as_text().expect("one text block").text;
    assert_eq!(text, "Proxmox VE error: VM 999 does not exist");

    // Bad arguments are a tool error naming the parameter, not a protocol error.
    let r = client
        .call_tool(CallToolRequestParams::new("echo"))
        .await
        .unwrap();
    assert_eq!(r.is_error, Some(true));
    assert!(r.content[0].as_text().unwrap().text.contains("text"));

    match client.call_tool(CallToolRequestParams::new("nope")).await {
        Err(rmcp::ServiceError::McpError(e)) => {
            assert_eq!(e.code, ErrorCode::INVALID_PARAMS);
            assert!(e.message.contains("nope"));
        }
        other => panic!("unknown tool gave {other:?}"),
    }
}

/// `msgs` are three progress notifications for `token` (1/3, 2/3, 3/3), then the answer to `id`.
pub fn check_progress(msgs: &[Value], id: i64, token: Value, steps: u32) {
    let progress: Vec<&Value> = msgs
        .iter()
        .filter(|m| m["method"] == "notifications/progress")
        .collect();
    assert_eq!(progress.len(), steps as usize, "{msgs:?}");
    for (i, p) in progress.iter().enumerate() {
        assert_eq!(p["params"]["progressToken"], token);
        assert_eq!(p["params"]["progress"], json!(i as f64 + 1.0));
        assert_eq!(p["params"]["total"], json!(f64::from(steps)));
        assert_eq!(p["params"]["message"], json!(format!("step {}", i + 1)));
    }
    let last = msgs.last().unwrap();
    assert_eq!(last["id"], id, "the answer comes last: {msgs:?}");
    assert_eq!(last["result"]["structuredContent"], json!({"done": steps}));
}

/// On a fresh demo cluster: VM 103 is stopped; `start_vm 103` finishes and it runs.
pub async fn real_tools_scenario<S: rmcp::Service<rmcp::RoleClient>>(
    client: &rmcp::service::RunningService<rmcp::RoleClient, S>,
) {
    let tools = client.list_all_tools().await.unwrap();
    let get_vms = tools.iter().find(|t| t.name == "get_vms").unwrap();
    let a = get_vms.annotations.as_ref().unwrap();
    assert_eq!(
        (a.read_only_hint, a.destructive_hint),
        (Some(true), Some(false))
    );
    let start_vm = tools.iter().find(|t| t.name == "start_vm").unwrap();
    let a = start_vm.annotations.as_ref().unwrap();
    assert_eq!(a.read_only_hint, Some(false));
    assert_eq!(
        start_vm.input_schema["properties"]["vmid"]["type"],
        "integer"
    );

    let vms = call(client, "get_vms", json!({})).await;
    assert_eq!(status_of(&vms, 103), "stopped");
    let out = call(client, "start_vm", json!({"vmid": 103})).await;
    assert_eq!(out["vmid"], 103);
    assert_eq!(out["task_status"], "done", "{out}");
    assert_eq!(out["guest_status"], "running", "{out}");
    let vms = call(client, "get_vms", json!({})).await;
    assert_eq!(status_of(&vms, 103), "running");
}

pub async fn call<S: rmcp::Service<rmcp::RoleClient>>(
    client: &rmcp::service::RunningService<rmcp::RoleClient, S>,
    name: &'static str,
    args: Value,
) -> Value {
    let Value::Object(args) = args else {
        unreachable!()
    };
    let r = client
        .call_tool(CallToolRequestParams::new(name).with_arguments(args))
        .await
        .unwrap();
    assert_eq!(r.is_error, Some(false), "{name}: {r:?}");
    r.structured_content.unwrap()
}

pub fn status_of(vms: &Value, vmid: u64) -> String {
    vms["vms"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["vmid"] == vmid)
        .unwrap_or_else(|| panic!("VM {vmid} not listed: {vms}"))["status"]
        .as_str()
        .unwrap()
        .to_string()
}
