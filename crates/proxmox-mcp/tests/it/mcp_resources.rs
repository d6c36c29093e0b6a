//! MCP resources, completion and prompts with the rmcp client over Streamable HTTP and raw
//! messages over legacy SSE: the listing (paged) and the templates, reads of the summary, a
//! node, a VM and a container checked against the simulator's state, errors for what is not
//! there, completion of `vmid` and `node`, the prompts with their arguments, and a key over its
//! rate refused on reads as on calls.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use proxmox_mcp::{McpHttpConfig, RateLimiter};
use pve_sim::state::GuestKind;
use rmcp::model::{
    ArgumentInfo, CompleteRequestParams, GetPromptRequestParams, PaginatedRequestParams,
    ReadResourceRequestParams, Reference, ResourceContents,
};
use rmcp::service::RunningService;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::{RoleClient, ServiceExt};
use serde_json::{Value, json};

use crate::support::demo::Demo;
use crate::support::door::{Door, gate};
use crate::support::mcp::{Server, open_legacy, start_with};

async fn client(server: &Server) -> RunningService<RoleClient, ()> {
    let transport = StreamableHttpClientTransport::from_uri(server.url("/proxmox/mcp"));
    ().serve(transport).await.unwrap()
}

async fn read(client: &RunningService<RoleClient, ()>, uri: &str) -> Value {
    let r = client
        .read_resource(ReadResourceRequestParams::new(uri))
        .await
        .unwrap();
    let ResourceContents::TextResourceContents {
        text, mime_type, ..
    } = &r.contents[0]
    else {
        panic!("not text: {r:?}")
    };
    assert_eq!(mime_type.as_deref(), Some("application/json"));
    serde_json::from_str(text).unwrap()
}

/// (vmid, is a VM) of every guest of the simulator, and its nodes.
fn sim_guests(demo: &Demo) -> (Vec<(u32, bool)>, Vec<String>) {
    demo.sim().with_sim(|s| {
        (
            s.cluster
                .guests
                .values()
                .map(|g| (g.vmid, g.kind == GuestKind::Qemu))
                .collect(),
            s.cluster.nodes.keys().cloned().collect(),
        )
    })
}

#[tokio::test]
async fn resources_list_read_and_complete_what_the_cluster_holds() {
    let demo = Demo::start().await;
    let server = start_with(demo.app.host().clone(), McpHttpConfig::default()).await;
    let client = client(&server).await;
    let info = client.peer_info().unwrap();
    assert!(info.capabilities.resources.is_some() && info.capabilities.completions.is_some());

    let listed = client.list_all_resources().await.unwrap();
    let uris: Vec<&str> = listed.iter().map(|r| r.uri.as_str()).collect();
    let cluster = uris[0]
        .strip_prefix("proxmox://")
        .and_then(|r| r.strip_suffix("/summary"))
        .unwrap()
        .to_string();
    let (guests, nodes) = sim_guests(&demo);
    let mut expected = vec![format!("proxmox://{cluster}/summary")];
    expected.extend(
        nodes
            .iter()
            .map(|n| format!("proxmox://{cluster}/node/{n}")),
    );
    expected.extend(
        guests
            .iter()
            .map(|(v, vm)| format!("proxmox://{cluster}/{}/{v}", if *vm { "vm" } else { "ct" })),
    );
    assert_eq!(uris, expected);
    assert!(
        listed
            .iter()
            .all(|r| r.mime_type.as_deref() == Some("application/json"))
    );

    // Caching directives: the templates never change, the listing follows the cluster (the
    // rmcp client counts down what it received by the time the answer took).
    let page = client.list_resource_templates(None).await.unwrap();
    assert!(
        page.ttl_ms.is_some_and(|t| t > 3_500_000 && t <= 3_600_000),
        "{page:?}"
    );
    let page = client.list_resources(None).await.unwrap();
    assert!(
        page.ttl_ms.is_some_and(|t| t > 0 && t <= 10_000),
        "{page:?}"
    );
    let templates = client.list_all_resource_templates().await.unwrap();
    let names: BTreeSet<&str> = templates.iter().map(|t| t.uri_template.as_str()).collect();
    assert_eq!(
        names,
        BTreeSet::from([
            "proxmox://{cluster}/ct/{vmid}",
            "proxmox://{cluster}/node/{node}",
            "proxmox://{cluster}/vm/{vmid}"
        ])
    );

    let summary = read(&client, &expected[0]).await;
    let total: u64 = ["qemu", "lxc"]
        .iter()
        .map(|k| summary["guests"][k]["total"].as_u64().unwrap_or(0))
        .sum();
    assert_eq!(total, guests.len() as u64, "{summary}");
    assert_eq!(summary["nodes"].as_array().unwrap().len(), nodes.len());

    let node = read(&client, &format!("proxmox://{cluster}/node/{}", nodes[0])).await;
    assert_eq!(node["node"], nodes[0].as_str());
    assert!(node["status"]["uptime"].is_u64(), "{node}");

    let (vm, _) = guests.iter().find(|(_, vm)| *vm).unwrap();
    let (ct, _) = guests.iter().find(|(_, vm)| !*vm).unwrap();
    let v = read(&client, &format!("proxmox://{cluster}/vm/{vm}")).await;
    let sim_status = demo.guest_status(*vm).unwrap();
    assert_eq!(v["status"]["status"], sim_status.as_str(), "{v}");
    assert_eq!(v["type"], "qemu");
    assert!(v["config"].is_object());
    let c = read(&client, &format!("proxmox://{cluster}/ct/{ct}")).await;
    assert_eq!(c["type"], "lxc");
    assert_eq!(c["vmid"], *ct);

    // What is not there: a guest, the wrong kind, a malformed URI, another cluster.
    let err = |uri: String| {
        let client = &client;
        async move {
            match client
                .read_resource(ReadResourceRequestParams::new(uri))
                .await
            {
                Err(rmcp::ServiceError::McpError(e)) => e,
                other => panic!("{other:?}"),
            }
        }
    };
    let e = err(format!("proxmox://{cluster}/vm/999999")).await;
    assert_eq!(e.code.0, -32002, "{e:?}");
    let e = err(format!("proxmox://{cluster}/ct/{vm}")).await;
    assert_eq!(e.code.0, -32602);
    assert!(e.message.contains(&format!("/vm/{vm}")), "{e:?}");
    assert_eq!(err("proxmox://x".into()).await.code.0, -32602);
    assert_eq!(err(format!("proxmox://nope/vm/{vm}")).await.code.0, -32602);

    // Completion: VMIDs by prefix (VMs only for the vm template), node names.
    let complete = |r: Reference, name: &str, value: &str| {
        let client = &client;
        let p = CompleteRequestParams::new(r, ArgumentInfo::new(name, value));
        async move { client.complete(p).await.unwrap().completion.values }
    };
    let vms: Vec<String> = guests
        .iter()
        .filter(|(_, is_vm)| *is_vm)
        .map(|(v, _)| v.to_string())
        .collect();
    assert_eq!(
        complete(
            Reference::for_resource("proxmox://{cluster}/vm/{vmid}"),
            "vmid",
            ""
        )
        .await,
        vms
    );
    let prefix = &vms[0][..2];
    let all_prefixed: Vec<String> = guests
        .iter()
        .map(|(v, _)| v.to_string())
        .filter(|v| v.starts_with(prefix))
        .collect();
    assert_eq!(
        complete(
            Reference::for_prompt("troubleshoot_guest_start"),
            "vmid",
            prefix
        )
        .await,
        all_prefixed
    );
    assert_eq!(
        complete(
            Reference::for_resource("proxmox://{cluster}/node/{node}"),
            "node",
            ""
        )
        .await,
        nodes
    );
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn resources_are_paged() {
    let cluster = pve_sim::seed::ClusterBuilder::new()
        .nodes(3)
        .vms(150)
        .cts(60)
        .build();
    let demo = Demo::with(cluster, 0.0).await;
    let server = start_with(demo.app.host().clone(), McpHttpConfig::default()).await;
    let client = client(&server).await;
    let first = client.list_resources(None).await.unwrap();
    assert_eq!(first.resources.len(), 100);
    let cursor = first.next_cursor.clone().unwrap();
    let second = client
        .list_resources(Some(
            PaginatedRequestParams::default().with_cursor(Some(cursor)),
        ))
        .await
        .unwrap();
    assert_eq!(second.resources.len(), 100);
    let all = client.list_all_resources().await.unwrap();
    assert_eq!(all.len(), 1 + 3 + 150 + 60);
    let unique: BTreeSet<&str> = all.iter().map(|r| r.uri.as_str()).collect();
    assert_eq!(unique.len(), all.len());
    let bad = client
        .list_resources(Some(
            PaginatedRequestParams::default().with_cursor(Some("x".into())),
        ))
        .await;
    assert!(bad.is_err());
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn prompts_take_arguments_and_name_their_tools() {
    let demo = Demo::start().await;
    let server = start_with(demo.app.host().clone(), McpHttpConfig::default()).await;
    let client = client(&server).await;
    let prompts = client.list_all_prompts().await.unwrap();
    let names: Vec<&str> = prompts.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "daily_cluster_report",
            "troubleshoot_guest_start",
            "plan_node_maintenance",
            "review_backups"
        ]
    );
    let plan = prompts
        .iter()
        .find(|p| p.name == "plan_node_maintenance")
        .unwrap();
    let args = plan.arguments.as_ref().unwrap();
    assert!(
        args.iter()
            .any(|a| a.name == "node" && a.required == Some(true))
    );

    let Value::Object(a) = json!({"node": "pve02"}) else {
        unreachable!()
    };
    let r = client
        .get_prompt(GetPromptRequestParams::new("plan_node_maintenance").with_arguments(a))
        .await
        .unwrap();
    let text = r.messages[0].content.as_text().unwrap().text.clone();
    assert!(
        text.contains("pve02") && text.contains("check_migration"),
        "{text}"
    );
    // The test app offers every tool: nothing is said missing (the unit tests cover that).
    assert!(!text.contains("does not offer"), "{text}");
    // No cluster given: the default one, by name.
    let default = demo.app.clusters().iter().next().unwrap().name.to_string();
    assert!(text.contains(&format!("cluster {default}")), "{text}");

    let missing = client
        .get_prompt(GetPromptRequestParams::new("plan_node_maintenance"))
        .await;
    assert!(format!("{missing:?}").contains("node"), "{missing:?}");
    let unknown = client
        .get_prompt(GetPromptRequestParams::new("no_such_prompt"))
        .await;
    assert!(unknown.is_err());
    let node = client
        .complete(CompleteRequestParams::new(
            Reference::for_prompt("plan_node_maintenance"),
            ArgumentInfo::new("node", "pve0"),
        ))
        .await
        .unwrap();
    assert!(node.completion.values.contains(&"pve02".to_string()));
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn legacy_sse_serves_resources_and_prompts() {
    let demo = Demo::start().await;
    let server = start_with(demo.app.host().clone(), McpHttpConfig::default()).await;
    let http = reqwest::Client::new();
    let (mut reader, endpoint) = open_legacy(&http, &server.url("/mcp")).await;
    let mut id = 0;
    let mut ask = async |method: &str, params: Value| {
        id += 1;
        let msg = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        let s = http.post(&endpoint).json(&msg).send().await.unwrap();
        assert_eq!(s.status(), 202);
        crate::support::mcp::messages_until_answer(&mut reader, id)
            .await
            .pop()
            .unwrap()
    };
    let init = ask(
        "initialize",
        json!({"protocolVersion": "2024-11-05", "capabilities": {},
               "clientInfo": {"name": "sse", "version": "1"}}),
    )
    .await;
    assert!(
        init["result"]["capabilities"]["resources"].is_object(),
        "{init}"
    );
    assert!(
        init["result"]["capabilities"]["prompts"].is_object(),
        "{init}"
    );
    let list = ask("resources/list", json!({})).await;
    let uri = list["result"]["resources"][0]["uri"]
        .as_str()
        .unwrap()
        .to_string();
    let r = ask("resources/read", json!({"uri": uri})).await;
    let text = r["result"]["contents"][0]["text"].as_str().unwrap();
    let summary: Value = serde_json::from_str(text).unwrap();
    assert!(summary["nodes"].is_array(), "{summary}");
    let p = ask(
        "prompts/get",
        json!({"name": "troubleshoot_guest_start", "arguments": {"vmid": "100"}}),
    )
    .await;
    let text = p["result"]["messages"][0]["content"]["text"]
        .as_str()
        .unwrap();
    assert!(
        text.contains("Guest 100") && text.contains("list_tasks"),
        "{text}"
    );
}

#[tokio::test]
async fn reads_count_against_the_key_rate() {
    let door = Door::start(
        Demo::start().await,
        McpHttpConfig {
            gate: gate(RateLimiter::new(Some(2), HashMap::new())),
            sse_keep_alive: Duration::from_secs(15),
            ..McpHttpConfig::default()
        },
    )
    .await;
    let client = door.client("key-read-0123456789").await;
    let uri = client.list_all_resources().await.unwrap()[0].uri.clone();
    client
        .read_resource(ReadResourceRequestParams::new(uri.clone()))
        .await
        .unwrap();
    let refused = client
        .read_resource(ReadResourceRequestParams::new(uri))
        .await;
    assert!(format!("{refused:?}").contains("rate"), "{refused:?}");
    client.cancel().await.unwrap();
}
