//! The `vm_config` toolset against the demo simulator: `get_vm_config`, `update_vm_config`
//! (effect, digest conflicts, bad inputs, dry run) and `get_vm_ip_addresses` (each way the
//! guest agent can be missing).

use serde_json::{Value, json};

use crate::support::demo::Demo;
use crate::support::demo::writes;

#[tokio::test]
async fn get_vm_config_shows_config_and_digest() {
    let d = Demo::start().await;
    let out = d.call("get_vm_config", json!({"vmid": 100})).await.unwrap();
    assert_eq!(out["node"], "pve01");
    assert_eq!(out["config"]["name"], "web-01");
    assert_eq!(out["config"]["cores"], "4");
    assert_eq!(out["template"], false);
    assert_eq!(out["digest"].as_str().unwrap().len(), 40, "{out}");
    assert!(out["config"].get("digest").is_none());
    let t = d
        .call("get_vm_config", json!({"vmid": "9000", "node": "pve01"}))
        .await
        .unwrap();
    assert_eq!(t["template"], true);

    // A cloud-init password is never shown.
    d.sim().with_sim(|s| {
        let g = s.cluster.guests.get_mut(&103).unwrap();
        g.config.insert("cipassword".into(), json!("$5$hash"));
    });
    let out = d.call("get_vm_config", json!({"vmid": 103})).await.unwrap();
    assert_eq!(out["config"]["cipassword"], "********");

    let e = d
        .call("get_vm_config", json!({"vmid": 999}))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("999 does not exist"), "{e}");
    let e = d
        .call("get_vm_config", json!({"vmid": 200}))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("is a container"), "{e}");
    let e = d.call("get_vm_config", json!({})).await.unwrap_err();
    assert_eq!(e.to_string(), "invalid parameter `vmid`: is required");
}

#[tokio::test]
async fn update_vm_config_changes_the_vm_and_catches_concurrent_edits() {
    let d = Demo::start().await;
    let read = d.call("get_vm_config", json!({"vmid": 103})).await.unwrap();
    let digest = read["digest"].as_str().unwrap().to_string();
    let out = d
        .call(
            "update_vm_config",
            json!({"vmid": 103, "cores": 3, "sockets": 2, "memory_mb": 6144,
                   "name": "dev-02", "tags": ["dev", "blue"], "description": "renamed",
                   "digest": digest}),
        )
        .await
        .unwrap();
    assert_eq!(
        out["changed"],
        json!(["cores", "sockets", "memory", "name", "tags", "description"])
    );
    assert_eq!(
        (&out["cores"], &out["sockets"], &out["memory_mb"]),
        (&json!(3), &json!(2), &json!(6144))
    );
    // PVE stores tags sorted and de-duplicated; the answer reads them back as stored.
    assert_eq!(out["tags"], json!(["blue", "dev"]));
    assert_ne!(
        out["digest"],
        json!(digest),
        "the digest follows the config"
    );
    assert_eq!(d.guest_config(103, "name").as_deref(), Some("dev-02"));
    assert_eq!(d.guest_config(103, "memory").as_deref(), Some("6144"));
    assert_eq!(d.guest_config(103, "tags").as_deref(), Some("blue;dev"));

    // The old digest is stale now: PVE's refusal, and nothing changes.
    let e = d
        .call(
            "update_vm_config",
            json!({"vmid": 103, "cores": 1, "digest": digest}),
        )
        .await
        .unwrap_err();
    let text = e.to_string();
    assert!(
        text.contains("detected modified configuration - file changed by other user? Try again."),
        "{text}"
    );
    assert!(text.contains("retry with the new digest"), "{text}");
    assert_eq!(d.guest_config(103, "cores").as_deref(), Some("3"));

    // Empty tags and description remove them.
    let out = d
        .call(
            "update_vm_config",
            json!({"vmid": 103, "tags": "", "description": " "}),
        )
        .await
        .unwrap();
    assert_eq!(out["tags"], json!([]));
    assert!(out.get("description").is_none(), "{out}");
    assert_eq!(d.guest_config(103, "tags"), None);
}

#[tokio::test]
async fn update_vm_config_refuses_bad_input_and_dry_runs() {
    let d = Demo::start().await;
    for (args, param) in [
        (json!({"vmid": 103}), None),
        (json!({"vmid": 103, "cores": 0}), Some("cores")),
        (json!({"vmid": 103, "memory_mb": 8}), Some("memory_mb")),
        (json!({"vmid": 103, "name": " "}), Some("name")),
        (json!({"vmid": 103, "cpu": 2}), Some("cpu")),
        (json!({"cores": 2}), Some("vmid")),
    ] {
        d.sim().clear_requests();
        let e = d.call("update_vm_config", args.clone()).await.unwrap_err();
        assert_eq!(e.kind(), "invalid_params", "{args}: {e}");
        if let Some(p) = param {
            assert!(e.to_string().contains(&format!("`{p}`")), "{args}: {e}");
        }
        assert!(writes(&d).is_empty());
    }
    let e = d
        .call("update_vm_config", json!({"vmid": 999, "cores": 2}))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("999 does not exist"), "{e}");

    d.sim().clear_requests();
    let out = d
        .call(
            "update_vm_config",
            json!({"vmid": 103, "cores": 6, "digest": "abc", "dry_run": true}),
        )
        .await
        .unwrap();
    assert_eq!(out["planned_calls"][0]["method"], "PUT");
    assert_eq!(
        out["planned_calls"][0]["path"],
        "/nodes/pve01/qemu/103/config"
    );
    assert_eq!(
        out["planned_calls"][0]["params"],
        json!({"cores": "6", "digest": "abc"})
    );
    assert!(writes(&d).is_empty());
    assert_eq!(d.guest_config(103, "cores").as_deref(), Some("2"));
}

#[tokio::test]
async fn ip_addresses_come_from_the_guest_agent() {
    let d = Demo::start().await;
    let out = d
        .call("get_vm_ip_addresses", json!({"vmid": 100}))
        .await
        .unwrap();
    let v4: Vec<&str> = out["ipv4"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(!v4.is_empty(), "{out}");
    assert!(!v4.contains(&"127.0.0.1"), "{out}");
    let names: Vec<&Value> = out["interfaces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| &i["name"])
        .collect();
    assert!(!names.contains(&&json!("lo")), "{out}");
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
            "get_vm_ip_addresses",
            json!({"vmid": 100, "include_loopback": true}),
        )
        .await
        .unwrap();
    assert_eq!(with_lo["interfaces"][0]["name"], "lo", "{with_lo}");
    assert_eq!(with_lo["ipv4"], out["ipv4"], "loopback is never a target");

    // Each way the agent can be missing, worded so the caller knows what to do.
    for (vmid, says) in [
        (106, "does not answer"),
        (110, "is not enabled"),
        (103, "is not running: start it first"),
    ] {
        let e = d
            .call("get_vm_ip_addresses", json!({"vmid": vmid}))
            .await
            .unwrap_err();
        assert_eq!(e.kind(), "pve", "{vmid}: {e}");
        assert!(e.to_string().contains(says), "{vmid}: {e}");
    }
    let e = d
        .call("get_vm_ip_addresses", json!({"vmid": 999}))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("999 does not exist"), "{e}");
}
