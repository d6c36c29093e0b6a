//! Confirmation, dry run and protection as the doors show them: over MCP (Streamable HTTP, the
//! rmcp client) a refusal is `isError: true` and a plan is `structuredContent`; over REST a
//! refusal is 403 (`kind: policy`) and a plan is the 200 body. No write reaches the simulator.

use proxmox_mcp::McpHttpConfig;
use rmcp::ServiceExt;
use rmcp::model::CallToolRequestParams;
use rmcp::transport::StreamableHttpClientTransport;
use serde_json::{Value, json};

use crate::support::demo::Demo;
use crate::support::demo::writes;
use crate::support::mcp::{init_tls, start_with};
use crate::support::rest::Rest;

#[tokio::test]
async fn mcp_refuses_unconfirmed_calls_and_returns_plans() {
    init_tls();
    let demo = Demo::start().await;
    let server = start_with(demo.app.host().clone(), McpHttpConfig::default()).await;
    let transport = StreamableHttpClientTransport::from_uri(server.url("/proxmox/mcp"));
    let client = ().serve(transport).await.unwrap();

    let tools = client.list_all_tools().await.unwrap();
    let delete = tools.iter().find(|t| t.name == "delete_vm").unwrap();
    assert_eq!(
        delete.input_schema["properties"]["confirm"]["type"],
        "boolean"
    );
    assert_eq!(
        delete.input_schema["properties"]["dry_run"]["type"],
        "boolean"
    );

    let call = async |args: Value| {
        let Value::Object(args) = args else {
            unreachable!()
        };
        client
            .call_tool(CallToolRequestParams::new("delete_vm").with_arguments(args))
            .await
            .unwrap()
    };
    demo.sim().clear_requests();
    let r = call(json!({"vmid": 103})).await;
    assert_eq!(r.is_error, Some(true));
    let text = &r.content[0].as_text().unwrap().text;
    assert!(
        text.contains("confirm: true") && text.contains("DELETE /nodes/pve01/qemu/103"),
        "{text}"
    );
    let r = call(json!({"vmid": 103, "dry_run": true})).await;
    assert_eq!(r.is_error, Some(false), "{r:?}");
    let plan = r.structured_content.unwrap();
    assert_eq!(plan["dry_run"], true);
    assert_eq!(plan["planned_calls"][0]["method"], "DELETE");
    let r = call(json!({"vmid": 102, "confirm": true, "force": true})).await;
    assert_eq!(r.is_error, Some(true));
    assert!(
        r.content[0]
            .as_text()
            .unwrap()
            .text
            .contains("protection flag")
    );
    assert_eq!(writes(&demo), Vec::<String>::new());
    assert!(demo.guest_status(103).is_some() && demo.guest_status(102).is_some());
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn rest_answers_403_for_refusals_and_200_for_plans() {
    let r = Rest::start().await;
    r.demo.sim().clear_requests();
    let (status, body) = r.post("reset_vm", json!({"vmid": 100})).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["detail"]["kind"], "policy");
    assert!(
        body["detail"]["message"]
            .as_str()
            .unwrap()
            .contains("POST /nodes/pve01/qemu/100/status/reset"),
        "{body}"
    );
    let (status, body) = r
        .post("reset_vm", json!({"vmid": 100, "dry_run": true}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["planned_calls"][0]["path"],
        "/nodes/pve01/qemu/100/status/reset"
    );
    let (status, body) = r
        .post("stop_vm", json!({"vmid": 102, "confirm": true}))
        .await;
    assert_eq!(status, 403, "{body}");
    assert!(
        body["detail"]["message"]
            .as_str()
            .unwrap()
            .contains("is protected"),
        "{body}"
    );
    assert_eq!(writes(&r.demo), Vec::<String>::new());
}
