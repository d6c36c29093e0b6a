//! The `migration` toolset against the demo simulator: `check_migration` (each blocker: target
//! offline or unknown, same node, lock, local devices, local ISO) and `migrate_guest` (VM
//! offline and online, container restart, refusal with the blockers, dry run, bounded wait).

use serde_json::{Value, json};

use crate::support::demo::Demo;
use crate::support::demo::writes;

fn node_of(d: &Demo, vmid: u32) -> Option<String> {
    d.sim()
        .with_sim(|s| s.cluster.guests.get(&vmid).map(|g| g.node.clone()))
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn check_migration_reports_where_and_how() {
    let d = Demo::start().await;
    let out = d
        .call("check_migration", json!({"vmid": 100}))
        .await
        .unwrap();
    assert_eq!(out["can_migrate"], true, "{out}");
    assert_eq!(
        (&out["kind"], &out["mode"]),
        (&json!("qemu"), &json!("online"))
    );
    assert_eq!(strings(&out["allowed_nodes"]), ["pve02", "pve03"]);
    assert_eq!(out["local_disks"][0]["volid"], "local-lvm:vm-100-disk-0");
    assert_eq!(out["blockers"], json!([]));
    assert!(
        strings(&out["notes"]).iter().any(|n| n.contains("copied")),
        "{out}"
    );
    let ct = d
        .call("check_migration", json!({"vmid": 200}))
        .await
        .unwrap();
    assert_eq!(
        (&ct["kind"], &ct["mode"]),
        (&json!("lxc"), &json!("restart"))
    );
    let off = d
        .call("check_migration", json!({"vmid": 103}))
        .await
        .unwrap();
    assert_eq!(off["mode"], "offline");

    // A node down: not a target, and said so.
    d.sim().with_sim(|s| {
        s.cluster.nodes.get_mut("pve03").unwrap().online = false;
    });
    let out = d
        .call("check_migration", json!({"vmid": 100}))
        .await
        .unwrap();
    assert_eq!(strings(&out["allowed_nodes"]), ["pve02"]);
    assert_eq!(out["not_allowed_nodes"][0]["node"], "pve03", "{out}");
    let out = d
        .call(
            "check_migration",
            json!({"vmid": 100, "target_node": "pve03"}),
        )
        .await
        .unwrap();
    assert_eq!(out["can_migrate"], false);
    assert!(
        out["blockers"][0].as_str().unwrap().contains("pve03"),
        "{out}"
    );
    assert!(
        out["blockers"][0].as_str().unwrap().contains("offline"),
        "{out}"
    );
}

#[tokio::test]
async fn check_migration_names_each_blocker() {
    let d = Demo::start().await;
    d.sim().with_sim(|s| {
        let g = s.cluster.guests.get_mut(&103).unwrap();
        g.config.insert(
            "ide2".into(),
            json!("local:iso/debian-12.8.0-amd64-netinst.iso,media=cdrom"),
        );
        g.config.insert("hostpci0".into(), json!("0000:01:00.0"));
    });
    let cases = [
        (
            json!({"vmid": 105, "target_node": "pve01"}),
            "locked (backup)",
        ),
        (
            json!({"vmid": 103, "target_node": "pve02"}),
            "local devices",
        ),
        (json!({"vmid": 103, "target_node": "pve02"}), "local ISO"),
        (
            json!({"vmid": 101, "target_node": "pve01"}),
            "already on pve01",
        ),
        (
            json!({"vmid": 101, "target_node": "pve9"}),
            "no node named pve9",
        ),
    ];
    for (args, says) in cases {
        let out = d.call("check_migration", args.clone()).await.unwrap();
        assert_eq!(out["can_migrate"], false, "{args}: {out}");
        assert!(
            strings(&out["blockers"]).iter().any(|b| b.contains(says)),
            "{args}: {says}: {out}"
        );
    }
    // A cloud-init drive on local storage is regenerated on the target: no blocker.
    d.sim().with_sim(|s| {
        let g = s.cluster.guests.get_mut(&101).unwrap();
        g.config.insert(
            "ide0".into(),
            json!("local-lvm:vm-101-cloudinit,media=cdrom"),
        );
    });
    let out = d
        .call(
            "check_migration",
            json!({"vmid": 101, "target_node": "pve02"}),
        )
        .await
        .unwrap();
    assert_eq!(out["can_migrate"], true, "{out}");
    let e = d
        .call("check_migration", json!({"vmid": 999}))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("999 does not exist"), "{e}");
    let e = d.call("check_migration", json!({})).await.unwrap_err();
    assert_eq!(e.kind(), "invalid_params");
}

#[tokio::test]
async fn migrate_guest_moves_vms_and_containers() {
    let d = Demo::start().await;
    // Stopped VM: offline, its local disk moves too.
    let out = d
        .call(
            "migrate_guest",
            json!({"vmid": 103, "target_node": "pve02"}),
        )
        .await
        .unwrap();
    assert_eq!(out["migrated"], true, "{out}");
    assert_eq!(
        (&out["mode"], &out["from_node"]),
        (&json!("offline"), &json!("pve01"))
    );
    assert_eq!(node_of(&d, 103).as_deref(), Some("pve02"));
    let disk_node = d.sim().with_sim(|s| {
        s.cluster
            .volumes
            .iter()
            .find(|v| v.volid == "local-lvm:vm-103-disk-0")
            .map(|v| v.node.clone())
    });
    assert_eq!(disk_node.as_deref(), Some("pve02"));
    // Running VM: online, still running there.
    d.sim().clear_requests();
    let out = d
        .call(
            "migrate_guest",
            json!({"vmid": 100, "target_node": "pve03"}),
        )
        .await
        .unwrap();
    assert_eq!(out["mode"], "online");
    assert_eq!(node_of(&d, 100).as_deref(), Some("pve03"));
    assert_eq!(d.guest_status(100).as_deref(), Some("running"));
    let post = d
        .sim()
        .requests()
        .into_iter()
        .find(|r| r.method == "POST")
        .unwrap();
    assert!(
        post.params.contains(&("online".into(), "1".into())),
        "{post:?}"
    );
    assert!(
        post.params
            .contains(&("with-local-disks".into(), "1".into()))
    );
    // Running container: restart mode.
    let out = d
        .call(
            "migrate_guest",
            json!({"vmid": "200", "target_node": "pve02"}),
        )
        .await
        .unwrap();
    assert_eq!(
        (&out["kind"], &out["mode"]),
        (&json!("lxc"), &json!("restart"))
    );
    assert_eq!(node_of(&d, 200).as_deref(), Some("pve02"));
    assert_eq!(d.guest_status(200).as_deref(), Some("running"));
}

#[tokio::test]
async fn migrate_guest_refuses_blocked_moves_and_dry_runs() {
    let d = Demo::start().await;
    d.sim().with_sim(|s| {
        s.cluster.nodes.get_mut("pve03").unwrap().online = false;
    });
    for (args, kind, says) in [
        (
            json!({"vmid": 101, "target_node": "pve03"}),
            "policy",
            "offline",
        ),
        (
            json!({"vmid": 105, "target_node": "pve01"}),
            "policy",
            "locked",
        ),
        (
            json!({"vmid": 101, "target_node": "pve01"}),
            "policy",
            "already on",
        ),
        (json!({"vmid": 101}), "invalid_params", "target_node"),
        (
            json!({"vmid": 101, "target_node": " "}),
            "invalid_params",
            "target_node",
        ),
        (
            json!({"vmid": 999, "target_node": "pve02"}),
            "pve",
            "999 does not exist",
        ),
    ] {
        d.sim().clear_requests();
        let e = d.call("migrate_guest", args.clone()).await.unwrap_err();
        assert_eq!(e.kind(), kind, "{args}: {e}");
        assert!(e.to_string().contains(says), "{args}: {e}");
        assert!(writes(&d).is_empty(), "{args}");
    }
    assert_eq!(node_of(&d, 101).as_deref(), Some("pve01"));

    d.sim().clear_requests();
    let out = d
        .call(
            "migrate_guest",
            json!({"vmid": 101, "target_node": "pve02", "target_storage": "local-lvm",
                   "dry_run": true}),
        )
        .await
        .unwrap();
    assert_eq!(
        out["planned_calls"][0]["path"],
        "/nodes/pve01/qemu/101/migrate"
    );
    assert_eq!(
        out["planned_calls"][0]["params"],
        json!({"target": "pve02", "online": "1", "with-local-disks": "1",
               "targetstorage": "local-lvm"})
    );
    assert!(writes(&d).is_empty());
    assert_eq!(node_of(&d, 101).as_deref(), Some("pve01"));
}

#[tokio::test]
async fn migrate_guest_wait_is_bounded() {
    // Tasks take simulated time: the guest moves when the task ends, not before.
    let d = Demo::with(pve_sim::seed::demo(), 1.0).await;
    let out = d
        .call(
            "migrate_guest",
            json!({"vmid": 103, "target_node": "pve02", "wait_seconds": 0}),
        )
        .await
        .unwrap();
    assert_eq!(out["task_status"], "running", "{out}");
    assert_eq!(out["migrated"], false);
    assert!(out["upid"].as_str().unwrap().contains(":qmigrate:103:"));
    assert!(out["hint"].as_str().unwrap().contains("get_task"));
    assert_eq!(node_of(&d, 103).as_deref(), Some("pve01"));
    assert_eq!(d.guest_config(103, "lock").as_deref(), Some("migrate"));
}

/// The new toolsets through a real MCP client over Streamable HTTP: listed with their
/// annotations, called for real, errors as `isError` results.
#[tokio::test]
async fn new_tools_work_through_mcp() {
    use proxmox_mcp::McpHttpConfig;
    use rmcp::ServiceExt;
    use rmcp::model::CallToolRequestParams;
    use rmcp::transport::StreamableHttpClientTransport;

    use crate::support::mcp::{init_tls, start_with};

    init_tls();
    let d = Demo::start().await;
    let server = start_with(d.app.host().clone(), McpHttpConfig::default()).await;
    let transport = StreamableHttpClientTransport::from_uri(server.url("/proxmox/mcp"));
    let client = ().serve(transport).await.unwrap();
    let tools = client.list_all_tools().await.unwrap();
    let hints = |name: &str| {
        let t = tools.iter().find(|t| t.name == name).unwrap();
        let a = t.annotations.as_ref().unwrap();
        (a.read_only_hint, a.destructive_hint)
    };
    assert_eq!(hints("check_migration"), (Some(true), Some(false)));
    assert_eq!(hints("migrate_guest"), (Some(false), Some(false)));
    assert_eq!(hints("convert_to_template"), (Some(false), Some(true)));
    assert_eq!(hints("get_vm_config"), (Some(true), Some(false)));
    let call = |name: &'static str, args: Value| {
        let Value::Object(args) = args else {
            unreachable!()
        };
        client.call_tool(CallToolRequestParams::new(name).with_arguments(args))
    };
    let r = call(
        "clone_vm",
        json!({"vmid": 9000, "newid": 190, "name": "via-mcp"}),
    )
    .await
    .unwrap();
    assert_eq!(r.is_error, Some(false), "{r:?}");
    assert_eq!(r.structured_content.unwrap()["vmid"], 190);
    let r = call(
        "migrate_guest",
        json!({"vmid": 190, "target_node": "pve02"}),
    )
    .await
    .unwrap();
    assert_eq!(r.is_error, Some(false), "{r:?}");
    assert_eq!(node_of(&d, 190).as_deref(), Some("pve02"));
    let r = call("get_vm_config", json!({"vmid": 190})).await.unwrap();
    assert_eq!(r.structured_content.unwrap()["config"]["name"], "via-mcp");
    let r = call("convert_to_template", json!({"vmid": 190}))
        .await
        .unwrap();
    assert_eq!(r.is_error, Some(true), "unconfirmed: {r:?}");
    assert_eq!(d.guest_config(190, "template"), None);
    client.cancel().await.unwrap();
    server.stop().await.unwrap();
}
