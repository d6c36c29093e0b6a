//! The `network` toolset against the demo simulator: `list_networks` (interfaces, bridges, the
//! guests on each from their `netN`) and `get_firewall_rules` at the datacenter, node and guest
//! levels; errors for unknown nodes and guests; both tools over MCP and REST.

use std::collections::BTreeSet;

use reqwest::Method;
use serde_json::{Value, json};

use crate::support::demo::Demo;
use crate::support::rest::{Rest, check};

fn names(list: &Value, key: &str) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|x| x[key].as_str().unwrap().to_string())
        .collect()
}

fn iface<'a>(out: &'a Value, name: &str) -> &'a Value {
    out["interfaces"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == name)
        .unwrap_or_else(|| panic!("no {name} in {out}"))
}

#[tokio::test]
async fn list_networks_shows_bridges_and_the_guests_on_them() {
    let d = Demo::start().await;
    // VM 101 gets a second NIC on the VLAN-aware bridge, tagged 20.
    d.sim().with_sim(|s| {
        s.cluster.guests.get_mut(&101).unwrap().config.insert(
            "net1".into(),
            json!("virtio=BC:24:11:00:65:01,bridge=vmbr1,tag=20"),
        );
    });
    let out = d
        .call("list_networks", json!({"node": "pve01"}))
        .await
        .unwrap();
    assert_eq!(out["node"], "pve01");
    assert_eq!(out["bridges"], json!(["vmbr0", "vmbr1"]), "{out}");
    let node_ip = d
        .sim()
        .with_sim(|s| s.cluster.nodes.get("pve01").unwrap().ip.clone());
    let vmbr0 = iface(&out, "vmbr0");
    assert_eq!(vmbr0["type"], "bridge");
    assert_eq!(vmbr0["cidr"], format!("{node_ip}/24"));
    assert!(vmbr0["gateway"].as_str().unwrap().ends_with(".1"));
    assert_eq!(vmbr0["ports"], json!(["eno1"]));
    assert_eq!(vmbr0["active"], true);
    assert!(vmbr0.get("vlan_aware").is_none(), "{vmbr0}");
    let vmbr1 = iface(&out, "vmbr1");
    assert_eq!(
        (&vmbr1["vlan_aware"], &vmbr1["vlan_ids"]),
        (&json!(true), &json!("2-4094"))
    );
    assert_eq!(iface(&out, "eno1")["type"], "eth");

    // Every guest of pve01 is on vmbr0 (net0); only VM 101 is on vmbr1, with its tag.
    let on_node: BTreeSet<u64> = d.sim().with_sim(|s| {
        s.cluster
            .guests
            .values()
            .filter(|g| g.node == "pve01")
            .map(|g| u64::from(g.vmid))
            .collect()
    });
    let on_vmbr0: BTreeSet<u64> = vmbr0["guests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["vmid"].as_u64().unwrap())
        .collect();
    assert_eq!(on_vmbr0, on_node);
    assert!(
        vmbr0["guests"]
            .as_array()
            .unwrap()
            .iter()
            .all(|g| g["nic"] == "net0")
    );
    assert_eq!(
        vmbr1["guests"],
        json!([{"vmid": 101, "name": "web-02", "kind": "qemu", "nic": "net1", "vlan": 20}])
    );
    assert!(out.get("unreadable").is_none());
}

#[tokio::test]
async fn list_networks_errors() {
    let d = Demo::start().await;
    let e = d
        .call("list_networks", json!({"node": "pve9"}))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), "pve", "{e}");
    assert!(e.to_string().contains("pve9"), "{e}");
    for args in [json!({}), json!({"node": " "})] {
        let e = d.call("list_networks", args.clone()).await.unwrap_err();
        assert_eq!(e.kind(), "invalid_params", "{args}: {e}");
        assert!(e.to_string().contains("node"), "{args}: {e}");
    }
    // An offline node: PVE's own message.
    d.sim().with_sim(|s| {
        s.cluster.nodes.get_mut("pve03").unwrap().online = false;
    });
    let e = d
        .call("list_networks", json!({"node": "pve03"}))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), "pve", "{e}");
}

#[tokio::test]
async fn firewall_at_each_level() {
    let d = Demo::start().await;
    let dc = d.call("get_firewall_rules", json!({})).await.unwrap();
    assert_eq!(dc["level"], "cluster");
    assert_eq!(dc["enabled"], true);
    assert_eq!(dc["options"]["policy_in"], "DROP");
    let rules = dc["rules"].as_array().unwrap();
    assert!(!rules.is_empty());
    for (i, r) in rules.iter().enumerate() {
        assert_eq!(r["pos"], json!(i), "rules in order: {r}");
    }
    assert_eq!(rules[0]["macro"], "SSH");
    assert_eq!(rules[0]["direction"], "in");
    assert!(!dc["aliases"].as_array().unwrap().is_empty(), "{dc}");
    let sets = dc["ipsets"].as_array().unwrap();
    assert!(names(&dc["ipsets"], "name").contains(&"management".to_string()));
    assert!(
        sets.iter()
            .all(|s| !s["entries"].as_array().unwrap().is_empty()),
        "{dc}"
    );
    let groups = names(&dc["groups"], "name");
    assert!(groups.contains(&"webserver".to_string()), "{groups:?}");
    let web = dc["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["name"] == "webserver")
        .unwrap();
    assert_eq!(names(&web["rules"], "macro"), ["HTTP", "HTTPS"]);

    let node = d
        .call("get_firewall_rules", json!({"node": "pve02"}))
        .await
        .unwrap();
    assert_eq!(
        (&node["level"], &node["node"]),
        (&json!("node"), &json!("pve02"))
    );
    assert!(node.get("aliases").is_none() && node.get("groups").is_none());

    // A guest: found from its VMID, its options say whether its firewall is on.
    for vmid in [100, 200] {
        let g = d
            .call("get_firewall_rules", json!({"vmid": vmid}))
            .await
            .unwrap();
        assert_eq!(g["level"], "guest");
        assert_eq!(g["vmid"], vmid);
        assert_eq!(g["node"], "pve01");
        let on = g["options"]["enable"].as_i64().unwrap_or(0) != 0;
        assert_eq!(g["enabled"], on, "{g}");
        assert!(g.get("groups").is_none());
    }
}

#[tokio::test]
async fn firewall_errors() {
    let d = Demo::start().await;
    let e = d
        .call("get_firewall_rules", json!({"vmid": 999}))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("999"), "{e}");
    assert!(e.to_string().contains("get_vms"), "{e}");
    let e = d
        .call("get_firewall_rules", json!({"vmid": 100, "node": "pve02"}))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), "invalid_params", "{e}");
    assert!(e.to_string().contains("pve01"), "{e}");
    let e = d
        .call("get_firewall_rules", json!({"node": "pve9"}))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), "pve", "{e}");
    let e = d
        .call("get_firewall_rules", json!({"vmid": "abc"}))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), "invalid_params", "{e}");
}

/// Both tools over the REST door (POST and GET with a query) and through a real MCP client.
#[tokio::test]
async fn network_tools_over_rest_and_mcp() {
    use proxmox_mcp::McpHttpConfig;
    use rmcp::ServiceExt;
    use rmcp::model::CallToolRequestParams;
    use rmcp::transport::StreamableHttpClientTransport;

    use crate::support::mcp::{init_tls, start_with};

    let r = Rest::start().await;
    check(
        &r,
        Method::POST,
        "/list_networks",
        Some(r#"{"node": "pve02"}"#),
        200,
        &[("/node", json!("pve02")), ("/bridges/0", json!("vmbr0"))],
    )
    .await;
    check(
        &r,
        Method::GET,
        "/get_firewall_rules?vmid=201",
        None,
        200,
        &[("/level", json!("guest")), ("/node", json!("pve02"))],
    )
    .await;
    check(&r, Method::POST, "/list_networks", Some("{}"), 422, &[]).await;

    init_tls();
    let d = Demo::start().await;
    let server = start_with(d.app.host().clone(), McpHttpConfig::default()).await;
    let transport = StreamableHttpClientTransport::from_uri(server.url("/proxmox/mcp"));
    let client = ().serve(transport).await.unwrap();
    let tools = client.list_all_tools().await.unwrap();
    for name in ["list_networks", "get_firewall_rules"] {
        let t = tools.iter().find(|t| t.name == name).unwrap();
        let a = t.annotations.as_ref().unwrap();
        assert_eq!(
            (a.read_only_hint, a.destructive_hint),
            (Some(true), Some(false))
        );
    }
    let call = |name: &'static str, args: Value| {
        let Value::Object(args) = args else {
            unreachable!()
        };
        client.call_tool(CallToolRequestParams::new(name).with_arguments(args))
    };
    let res = call("get_firewall_rules", json!({})).await.unwrap();
    assert_eq!(res.is_error, Some(false), "{res:?}");
    assert_eq!(res.structured_content.unwrap()["level"], "cluster");
    let res = call("list_networks", json!({"node": "pve9"}))
        .await
        .unwrap();
    assert_eq!(res.is_error, Some(true), "{res:?}");
    client.cancel().await.unwrap();
    server.stop().await.unwrap();
}
