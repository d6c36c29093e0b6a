//! Containers in `vm_config` and `provisioning` against the demo simulator:
//! `get_container_ip_addresses` (running, stopped, unknown), `update_container_config` (merged
//! NIC changes, DNS, features, digest, bad input, dry run), `clone_container` and
//! `convert_container_to_template` (PVE's rules and words, confirmation, dry run), protected
//! containers, the audit log, bounded clone waits, and the tools over MCP and REST.

use proxmox_mcp::GuardConfig;
use rmcp::model::CallToolRequestParams;
use serde_json::{Value, json};

use crate::support::demo::{Demo, guarded, writes};
use crate::support::door::Door;
use crate::support::rest::KEYS;

#[tokio::test]
async fn ip_addresses_of_a_running_container() {
    let d = Demo::start().await;
    let out = d
        .call("get_container_ip_addresses", json!({"vmid": 200}))
        .await
        .unwrap();
    assert_eq!(out["node"], "pve01");
    let v4 = out["ipv4"].as_array().unwrap();
    assert!(!v4.is_empty(), "{out}");
    assert!(!v4.contains(&json!("127.0.0.1")), "{out}");
    assert_eq!(out["interfaces"][0]["name"], "eth0", "{out}");
    assert!(
        out["interfaces"][0]["ipv4"][0]
            .as_str()
            .unwrap()
            .contains('/'),
        "{out}"
    );
    assert!(
        out["ipv6"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| !a.as_str().unwrap().starts_with("fe80")),
        "{out}"
    );
    let with_lo = d
        .call(
            "get_container_ip_addresses",
            json!({"vmid": 200, "include_loopback": true}),
        )
        .await
        .unwrap();
    assert_eq!(with_lo["interfaces"][0]["name"], "lo", "{with_lo}");
    assert_eq!(with_lo["ipv4"], out["ipv4"], "loopback is never a target");

    for (vmid, kind, says) in [
        (205, "pve", "CT 205 is not running: start it first"),
        (999, "pve", "999 does not exist"),
        (100, "invalid_params", "is a VM"),
    ] {
        let e = d
            .call("get_container_ip_addresses", json!({"vmid": vmid}))
            .await
            .unwrap_err();
        assert!(e.to_string().contains(says), "{vmid}: {e}");
        if kind == "pve" {
            assert_eq!(e.kind(), "pve", "{vmid}: {e}");
        }
    }
}

/// The `hwaddr` of a container NIC value.
fn mac(net: &str) -> String {
    net.split(',')
        .find_map(|p| p.strip_prefix("hwaddr="))
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn update_container_config_merges_and_catches_concurrent_edits() {
    let d = Demo::start().await;
    let before = d.guest_config(200, "net0").unwrap();
    let read = d
        .call("get_container_config", json!({"vmid": 200}))
        .await
        .unwrap();
    let digest = read["digest"].clone();
    let out = d
        .call(
            "update_container_config",
            json!({"vmid": 200,
                   "network": [{"nic": 0, "ip": "10.20.0.9/24", "gateway": "10.20.0.1",
                                "vlan": 20, "firewall": true},
                               {"nic": 1, "bridge": "vmbr1", "ip": "dhcp"}],
                   "nameserver": "1.1.1.1 9.9.9.9", "searchdomain": ["lab.example"],
                   "features": {"nesting": true, "keyctl": true}, "onboot": false,
                   "description": "edge DNS", "tags": ["infra", "dns", "edge"],
                   "digest": digest}),
        )
        .await
        .unwrap();
    assert_eq!(
        out["changed"],
        json!([
            "net0",
            "net1",
            "nameserver",
            "searchdomain",
            "features",
            "onboot",
            "description",
            "tags"
        ])
    );
    let net0 = out["network"]["net0"].as_str().unwrap();
    assert_eq!(mac(net0), mac(&before), "the MAC is kept: {net0}");
    for part in [
        "ip=10.20.0.9/24",
        "gw=10.20.0.1",
        "tag=20",
        "firewall=1",
        "name=eth0",
    ] {
        assert!(net0.split(',').any(|p| p == part), "{part} in {net0}");
    }
    let net1 = out["network"]["net1"].as_str().unwrap();
    assert!(
        net1.contains("bridge=vmbr1") && net1.contains("name=eth1"),
        "{net1}"
    );
    assert_eq!(out["nameserver"], "1.1.1.1 9.9.9.9");
    assert_eq!(out["features"], "nesting=1,keyctl=1");
    assert_eq!(out["onboot"], false);
    assert_eq!(out["tags"], json!(["dns", "edge", "infra"]));
    assert_ne!(out["digest"], digest);
    assert_eq!(
        d.guest_config(200, "searchdomain").as_deref(),
        Some("lab.example")
    );
    assert_eq!(
        d.guest_config(200, "description").as_deref(),
        Some("edge DNS")
    );

    // The old digest is stale: PVE's refusal, nothing changes.
    let e = d
        .call(
            "update_container_config",
            json!({"vmid": 200, "onboot": true, "digest": digest}),
        )
        .await
        .unwrap_err();
    assert!(
        e.to_string().contains("detected modified configuration"),
        "{e}"
    );
    assert!(e.to_string().contains("retry with the new digest"), "{e}");
    assert_eq!(d.guest_config(200, "onboot").as_deref(), Some("0"));

    // Removals: a NIC, the DNS servers, a feature, the notes.
    let out = d
        .call(
            "update_container_config",
            json!({"vmid": 200, "network": [{"nic": 1, "remove": true}], "nameserver": [],
                   "features": {"keyctl": false}, "description": ""}),
        )
        .await
        .unwrap();
    assert!(out["network"].get("net1").is_none(), "{out}");
    assert!(out.get("nameserver").is_none(), "{out}");
    assert!(out.get("description").is_none(), "{out}");
    assert_eq!(out["features"], "nesting=1");
    assert_eq!(d.guest_config(200, "net1"), None);
}

#[tokio::test]
async fn update_container_config_refuses_bad_input_and_dry_runs() {
    let d = Demo::start().await;
    for (args, param) in [
        (json!({"vmid": 200}), None),
        (json!({"vmid": 200, "network": []}), None),
        (
            json!({"vmid": 200, "network": [{"nic": 0, "ip": "10.0.0.9"}]}),
            Some("network"),
        ),
        (
            json!({"vmid": 200, "network": [{"nic": 0, "gateway": "10.0.0.1"}]}),
            Some("network"),
        ),
        (
            json!({"vmid": 200, "network": [{"nic": 5, "remove": true}]}),
            Some("network"),
        ),
        (
            json!({"vmid": 200, "network": [{"nic": 0, "vlan": 2}, {"nic": 0, "vlan": 3}]}),
            Some("network"),
        ),
        (
            json!({"vmid": 200, "nameserver": "dns.example"}),
            Some("nameserver"),
        ),
        (
            json!({"vmid": 200, "features": {"mount": "nfs"}}),
            Some("mount"),
        ),
        (json!({"vmid": 200, "cores": 2}), Some("cores")),
        (json!({"onboot": true}), Some("vmid")),
    ] {
        d.sim().clear_requests();
        let e = d
            .call("update_container_config", args.clone())
            .await
            .unwrap_err();
        assert_eq!(e.kind(), "invalid_params", "{args}: {e}");
        if let Some(p) = param {
            assert!(e.to_string().contains(&format!("`{p}`")), "{args}: {e}");
        }
        assert!(writes(&d).is_empty(), "{args}");
    }
    for (vmid, says) in [(999, "CT 999 does not exist"), (100, "is a VM")] {
        let e = d
            .call(
                "update_container_config",
                json!({"vmid": vmid, "onboot": true}),
            )
            .await
            .unwrap_err();
        assert!(e.to_string().contains(says), "{vmid}: {e}");
    }

    // A dry run plans the PUT with the digest it read, and writes nothing.
    let digest = d
        .call("get_container_config", json!({"vmid": 202}))
        .await
        .unwrap()["digest"]
        .clone();
    d.sim().clear_requests();
    let out = d
        .call(
            "update_container_config",
            json!({"vmid": 202, "onboot": true, "tags": "a;b", "dry_run": true}),
        )
        .await
        .unwrap();
    assert_eq!(out["planned_calls"][0]["method"], "PUT");
    assert_eq!(
        out["planned_calls"][0]["path"],
        "/nodes/pve02/lxc/202/config"
    );
    assert_eq!(
        out["planned_calls"][0]["params"],
        json!({"onboot": "1", "tags": "a;b", "digest": digest})
    );
    assert!(writes(&d).is_empty());
    assert_eq!(d.guest_config(202, "tags").as_deref(), Some("prod;cache"));
}

#[tokio::test]
async fn clones_and_templates_follow_pve_rules() {
    let d = guarded(GuardConfig::default()).await;
    // A running container is copied only from a snapshot: PVE's words, and what to do.
    let e = d
        .call("clone_container", json!({"vmid": 200, "newid": 4600}))
        .await
        .unwrap_err();
    let text = e.to_string();
    assert!(
        text.contains("unable to clone running container 200 without snapshot"),
        "{text}"
    );
    assert!(text.contains("give snapshot"), "{text}");
    assert!(d.guest_status(4600).is_none());
    // From a snapshot it works; the copy is stopped.
    crate::support::demo::add_snapshot(&d, 200, "nightly");
    let out = d
        .call(
            "clone_container",
            json!({"vmid": 200, "newid": 4600, "snapshot": "nightly"}),
        )
        .await
        .unwrap();
    assert_eq!(out["task_status"], "done", "{out}");
    assert_eq!(d.guest_status(4600).as_deref(), Some("stopped"));
    assert_eq!(d.guest_status(200).as_deref(), Some("running"));
    // Local volumes do not cross nodes on their own: PVE's words, and what to do.
    let e = d
        .call(
            "clone_container",
            json!({"vmid": 205, "newid": 4603, "target_node": "pve02"}),
        )
        .await
        .unwrap_err();
    assert!(
        e.to_string().contains("is on local storage") && e.to_string().contains("give storage"),
        "{e}"
    );
    // A linked clone needs a template.
    let e = d
        .call("clone_container", json!({"vmid": 205, "full": false}))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), "invalid_params", "{e}");
    assert!(
        e.to_string().contains("convert_container_to_template"),
        "{e}"
    );

    let out = d
        .call(
            "clone_container",
            json!({"vmid": 205, "newid": 4601, "hostname": "test-ct-copy"}),
        )
        .await
        .unwrap();
    assert_eq!(
        (&out["vmid"], &out["full"], &out["task_status"]),
        (&json!(4601), &json!(true), &json!("done")),
        "{out}"
    );
    assert_eq!(
        d.guest_config(4601, "hostname").as_deref(),
        Some("test-ct-copy")
    );
    assert!(
        out["upid"].as_str().unwrap().contains(":vzclone:205:"),
        "{out}"
    );

    // Converting is destructive: confirmation first, and a dry run plans it.
    d.sim().clear_requests();
    let e = d
        .call("convert_container_to_template", json!({"vmid": 205}))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), "policy", "{e}");
    assert!(e.to_string().contains("confirm"), "{e}");
    let out = d
        .call(
            "convert_container_to_template",
            json!({"vmid": 205, "dry_run": true}),
        )
        .await
        .unwrap();
    assert_eq!(out["planned_calls"][0]["method"], "POST");
    assert_eq!(
        out["planned_calls"][0]["path"],
        "/nodes/pve01/lxc/205/template"
    );
    assert!(writes(&d).is_empty());
    // A running container: PVE's refusal and what to do.
    let e = d
        .call(
            "convert_container_to_template",
            json!({"vmid": 202, "confirm": true}),
        )
        .await
        .unwrap_err();
    let text = e.to_string();
    assert!(
        text.contains("you can't convert a CT to template if the CT is running"),
        "{text}"
    );
    assert!(text.contains("stop_container"), "{text}");
    assert_eq!(d.guest_config(202, "template"), None);

    let out = d
        .call(
            "convert_container_to_template",
            json!({"vmid": 205, "confirm": true}),
        )
        .await
        .unwrap();
    assert_eq!(out["template"], true, "{out}");
    // A template is cloned linked by default; storage is for full copies only.
    let out = d
        .call("clone_container", json!({"vmid": 205, "newid": 4602}))
        .await
        .unwrap();
    assert_eq!(out["full"], false, "{out}");
    assert_eq!(d.guest_status(4602).as_deref(), Some("stopped"));
    let e = d
        .call(
            "clone_container",
            json!({"vmid": 205, "full": false, "storage": "local-lvm"}),
        )
        .await
        .unwrap_err();
    assert!(e.to_string().contains("`storage`"), "{e}");
    // Converting it again: PVE's words.
    let e = d
        .call(
            "convert_container_to_template",
            json!({"vmid": 205, "confirm": true}),
        )
        .await
        .unwrap_err();
    assert!(
        e.to_string().contains("convert a template to a template"),
        "{e}"
    );

    for (tool, args, says) in [
        (
            "clone_container",
            json!({"vmid": 999}),
            "999 does not exist",
        ),
        ("clone_container", json!({"vmid": 100}), "is a VM"),
        (
            "clone_container",
            json!({"vmid": 205, "hostname": "bad_name"}),
            "`hostname`",
        ),
        (
            "clone_container",
            json!({"vmid": 205, "newid": 200}),
            "already in use",
        ),
        (
            "convert_container_to_template",
            json!({"vmid": 999, "confirm": true}),
            "999 does not exist",
        ),
    ] {
        let e = d.call(tool, args.clone()).await.unwrap_err();
        assert!(e.to_string().contains(says), "{tool} {args}: {e}");
    }
}

#[tokio::test]
async fn protected_containers_are_refused_and_writes_are_audited() {
    let dir = std::env::temp_dir().join(format!("pmcp-ctmore-{}", rand::random::<u64>()));
    std::fs::create_dir_all(&dir).unwrap();
    let audit = dir.join("audit.jsonl");
    let d = guarded(GuardConfig {
        protected_vmids: vec![202],
        audit_log: Some(audit.clone()),
        ..GuardConfig::default()
    })
    .await;
    for (tool, args) in [
        (
            "update_container_config",
            json!({"vmid": 202, "onboot": false}),
        ),
        (
            "clone_container",
            json!({"vmid": 202, "snapshot": "x", "newid": 4610}),
        ),
        (
            "convert_container_to_template",
            json!({"vmid": 202, "confirm": true}),
        ),
    ] {
        for dry in [false, true] {
            let mut args = args.clone();
            args["dry_run"] = json!(dry);
            d.sim().clear_requests();
            let e = d.call(tool, args.clone()).await.unwrap_err();
            assert_eq!(e.kind(), "policy", "{tool} {args}: {e}");
            assert!(
                e.to_string().contains("is protected")
                    && e.to_string().contains("guard.protected_vmids"),
                "{tool}: {e}"
            );
            assert!(writes(&d).is_empty(), "{tool} {args}");
        }
    }
    assert_eq!(d.guest_config(202, "onboot").as_deref(), Some("1"));
    d.call(
        "update_container_config",
        json!({"vmid": 203, "onboot": false}),
    )
    .await
    .unwrap();
    let recs: Vec<Value> = std::fs::read_to_string(&audit)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let summary: Vec<(&str, &str)> = recs
        .iter()
        .map(|r| (r["tool"].as_str().unwrap(), r["outcome"].as_str().unwrap()))
        .collect();
    assert_eq!(
        summary,
        [
            ("update_container_config", "refused"),
            ("update_container_config", "refused"),
            ("clone_container", "refused"),
            ("clone_container", "refused"),
            ("convert_container_to_template", "refused"),
            ("convert_container_to_template", "refused"),
            ("update_container_config", "ok"),
        ]
    );
    assert_eq!(recs[6]["args"], json!({"vmid": 203, "onboot": false}));
    std::fs::remove_dir_all(&dir).unwrap();
}

fn args(v: Value) -> serde_json::Map<String, Value> {
    v.as_object().unwrap().clone()
}

#[tokio::test]
async fn over_mcp() {
    let door = Door::with_keys().await;
    let client = door.client(KEYS[2].2).await;
    let call = async |tool: &str, a: Value| {
        client
            .call_tool(CallToolRequestParams::new(tool.to_string()).with_arguments(args(a)))
            .await
            .unwrap()
    };
    let r = call("get_container_ip_addresses", json!({"vmid": 202})).await;
    assert_eq!(r.is_error, Some(false), "{r:?}");
    assert!(
        !r.structured_content.unwrap()["ipv4"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let r = call("get_container_ip_addresses", json!({"vmid": 205})).await;
    assert_eq!(r.is_error, Some(true));
    assert!(
        r.content[0]
            .as_text()
            .unwrap()
            .text
            .contains("start it first"),
        "{r:?}"
    );
    let r = call(
        "update_container_config",
        json!({"vmid": 205, "features": {"nesting": true}}),
    )
    .await;
    assert_eq!(r.is_error, Some(false), "{r:?}");
    assert_eq!(r.structured_content.unwrap()["features"], "nesting=1");
    let r = call("clone_container", json!({"vmid": 205, "newid": 4620})).await;
    assert_eq!(r.is_error, Some(false), "{r:?}");
    assert_eq!(door.demo.guest_status(4620).as_deref(), Some("stopped"));
    let r = call(
        "convert_container_to_template",
        json!({"vmid": 4620, "confirm": true}),
    )
    .await;
    assert_eq!(r.is_error, Some(false), "{r:?}");
    assert_eq!(
        door.demo.guest_config(4620, "template").as_deref(),
        Some("1")
    );
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn errors_over_rest() {
    let r = crate::support::rest::Rest::start().await;
    for (tool, body, status, says) in [
        (
            "get_container_ip_addresses",
            json!({"vmid": 205}),
            409,
            "start it first",
        ),
        (
            "get_container_ip_addresses",
            json!({"vmid": 999}),
            404,
            "999 does not exist",
        ),
        (
            "update_container_config",
            json!({"vmid": 200, "network": [{"nic": 0, "ip": "nope"}]}),
            422,
            "`network`",
        ),
        (
            "clone_container",
            json!({"vmid": 200, "newid": 4630}),
            409,
            "without snapshot",
        ),
        (
            "convert_container_to_template",
            json!({"vmid": 200, "confirm": true}),
            409,
            "CT is running",
        ),
    ] {
        r.demo.sim().clear_requests();
        let (got, v) = r.post(tool, body.clone()).await;
        assert_eq!(got, status, "{tool} {body}: {v}");
        let message = v.pointer("/detail/message").and_then(Value::as_str);
        assert!(
            message.is_some_and(|m| m.contains(says)),
            "{tool} {body}: {v}"
        );
    }
    assert_eq!(r.demo.guest_status(4630), None);
    assert_eq!(r.demo.guest_config(200, "template"), None);
}

#[tokio::test]
async fn clone_waits_are_bounded() {
    // Tasks take simulated time: a zero wait returns the running task to follow.
    let d = Demo::with(pve_sim::seed::demo(), 1.0).await;
    let out = d
        .call(
            "clone_container",
            json!({"vmid": 205, "newid": 4640, "wait_seconds": 0}),
        )
        .await
        .unwrap();
    assert_eq!(out["task_status"], "running", "{out}");
    assert!(
        out["upid"].as_str().unwrap().contains(":vzclone:205:"),
        "{out}"
    );
    assert!(out["hint"].as_str().unwrap().contains("get_task"), "{out}");
    let e = d
        .call(
            "clone_container",
            json!({"vmid": 205, "newid": 4641, "wait_seconds": 51}),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind(), "invalid_params", "{e}");
    assert!(e.to_string().contains("`wait_seconds`"), "{e}");
    assert!(d.guest_status(4641).is_none());
}
