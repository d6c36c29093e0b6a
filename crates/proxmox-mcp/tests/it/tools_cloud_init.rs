//! `update_cloud_init` against the demo simulator: settings written and the drive regenerated,
//! removals, PVE's digest, bad input, a VM without a cloud-init drive, dry run, protected
//! guests, over MCP and REST, and the password in no answer, audit line or log of the binary.

use proxmox_mcp::GuardConfig;
use rmcp::model::CallToolRequestParams;
use serde_json::{Value, json};

use crate::support::demo::{Demo, guarded, writes};
use crate::support::door::Door;
use crate::support::process::{Bin, sim_env};
use crate::support::rest::{KEYS, Rest};

const KEY: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG4 ops@laptop";
const PASSWORD: &str = "Tr0ub4dor-cloud";

/// Clones template 9000 into VM `id` with a cloud-init drive (as create_vm_from_template adds).
async fn vm_with_drive(d: &Demo, id: u32) {
    let out = d
        .call(
            "create_vm_from_template",
            json!({"template_vmid": 9000, "name": format!("ci-{id}"), "newid": id, "ip": "dhcp"}),
        )
        .await
        .unwrap();
    assert!(out["cloudinit_drive_added"].is_string(), "{out}");
}

/// The cloud-init options the simulated drive was last generated with.
fn drive(d: &Demo, id: u32) -> Value {
    d.sim().with_sim(|s| json!(s.cluster.guests[&id].cloudinit))
}

#[tokio::test]
async fn settings_are_written_and_the_drive_regenerated() {
    let d = Demo::start().await;
    vm_with_drive(&d, 4500).await;
    let digest = d
        .call("get_vm_config", json!({"vmid": 4500}))
        .await
        .unwrap()["digest"]
        .clone();
    let out = d
        .call(
            "update_cloud_init",
            json!({"vmid": 4500, "ciuser": "ops", "password": PASSWORD, "ssh_keys": [KEY],
                   "ip": "10.20.0.5/24", "gateway": "10.20.0.1",
                   "ipconfigs": [{"nic": 1, "ip6": "fd00::5/64", "gateway6": "fd00::1"}],
                   "nameserver": ["1.1.1.1", "9.9.9.9"], "searchdomain": "lab.example",
                   "digest": digest}),
        )
        .await
        .unwrap();
    assert_eq!(
        out["changed"],
        json!([
            "ciuser",
            "cipassword",
            "sshkeys",
            "ipconfig0",
            "ipconfig1",
            "nameserver",
            "searchdomain"
        ])
    );
    assert_eq!(out["ciuser"], "ops");
    assert_eq!(out["password_set"], true);
    assert_eq!(out["ssh_keys"], 1);
    assert_eq!(
        out["ipconfigs"]["ipconfig0"],
        "ip=10.20.0.5/24,gw=10.20.0.1"
    );
    assert_eq!(out["ipconfigs"]["ipconfig1"], "ip6=fd00::5/64,gw6=fd00::1");
    assert_eq!(out["nameserver"], "1.1.1.1 9.9.9.9");
    assert_eq!(out["searchdomain"], "lab.example");
    assert!(out["drive"].as_str().unwrap().starts_with("ide"), "{out}");
    assert!(out.get("pending").is_none(), "the drive is in sync: {out}");
    assert_ne!(out["digest"], digest);
    assert!(!out.to_string().contains(PASSWORD), "{out}");
    // The simulated drive holds the new settings (PVE regenerated it).
    let on_drive = drive(&d, 4500);
    assert_eq!(on_drive["ciuser"], "ops", "{on_drive}");
    assert_eq!(on_drive["ipconfig0"], "ip=10.20.0.5/24,gw=10.20.0.1");
    assert_eq!(
        d.guest_config(4500, "searchdomain").as_deref(),
        Some("lab.example")
    );

    // The old digest is stale now: PVE's refusal, nothing changes.
    let e = d
        .call(
            "update_cloud_init",
            json!({"vmid": 4500, "ciuser": "x", "digest": digest}),
        )
        .await
        .unwrap_err();
    assert!(
        e.to_string().contains("detected modified configuration"),
        "{e}"
    );
    assert_eq!(d.guest_config(4500, "ciuser").as_deref(), Some("ops"));

    // Empty values remove settings, and the drive follows.
    let out = d
        .call(
            "update_cloud_init",
            json!({"vmid": 4500, "password": "", "ssh_keys": [], "nameserver": "",
                   "ipconfigs": [{"nic": 1, "remove": true}]}),
        )
        .await
        .unwrap();
    assert_eq!(out["password_set"], false, "{out}");
    assert_eq!(out["ssh_keys"], 0);
    assert!(out.get("nameserver").is_none(), "{out}");
    assert_eq!(
        out["ipconfigs"],
        json!({"ipconfig0": "ip=10.20.0.5/24,gw=10.20.0.1"})
    );
    assert_eq!(d.guest_config(4500, "cipassword"), None);
    assert!(drive(&d, 4500).get("sshkeys").is_none());

    // A running VM reads the drive at boot: the answer says a reboot applies it.
    d.call("start_vm", json!({"vmid": 4500})).await.unwrap();
    let out = d
        .call(
            "update_cloud_init",
            json!({"vmid": 4500, "ciuser": "admin"}),
        )
        .await
        .unwrap();
    assert_eq!(out["reboot_needed"], true, "{out}");
}

#[tokio::test]
async fn bad_input_a_missing_drive_and_unknown_guests_change_nothing() {
    let d = Demo::start().await;
    vm_with_drive(&d, 4501).await;
    for (args, param) in [
        (json!({"vmid": 4501}), None),
        (json!({"vmid": 4501, "ciuser": "a b"}), Some("ciuser")),
        (
            json!({"vmid": 4501, "ssh_keys": "-----BEGIN OPENSSH PRIVATE KEY-----"}),
            Some("ssh_keys"),
        ),
        (json!({"vmid": 4501, "ip": "10.0.0.5"}), Some("ip")),
        (
            json!({"vmid": 4501, "gateway": "10.0.0.1"}),
            Some("gateway"),
        ),
        (
            json!({"vmid": 4501, "nameserver": "dns.example"}),
            Some("nameserver"),
        ),
        (
            json!({"vmid": 4501, "ipconfigs": [{"nic": 2}]}),
            Some("ipconfigs"),
        ),
        (json!({"vmid": 4501, "cipassword": "x"}), Some("cipassword")),
        (json!({"ciuser": "ops"}), Some("vmid")),
    ] {
        d.sim().clear_requests();
        let e = d.call("update_cloud_init", args.clone()).await.unwrap_err();
        assert_eq!(e.kind(), "invalid_params", "{args}: {e}");
        if let Some(p) = param {
            assert!(e.to_string().contains(&format!("`{p}`")), "{args}: {e}");
        }
        assert!(writes(&d).is_empty(), "{args}");
    }
    // VM 103 has no cloud-init drive: refused before anything is written.
    d.sim().clear_requests();
    let e = d
        .call("update_cloud_init", json!({"vmid": 103, "ciuser": "ops"}))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), "policy", "{e}");
    assert!(e.to_string().contains("has no cloud-init drive"), "{e}");
    assert!(writes(&d).is_empty());
    assert_eq!(d.guest_config(103, "ciuser"), None);
    for (vmid, says) in [(999, "999 does not exist"), (200, "is a container")] {
        let e = d
            .call("update_cloud_init", json!({"vmid": vmid, "ciuser": "ops"}))
            .await
            .unwrap_err();
        assert!(e.to_string().contains(says), "{vmid}: {e}");
    }
}

#[tokio::test]
async fn a_dry_run_plans_both_writes_with_the_password_masked() {
    let d = Demo::start().await;
    vm_with_drive(&d, 4502).await;
    d.sim().clear_requests();
    let out = d
        .call(
            "update_cloud_init",
            json!({"vmid": 4502, "ciuser": "ops", "password": PASSWORD, "dry_run": true}),
        )
        .await
        .unwrap();
    let calls = out["planned_calls"].as_array().unwrap();
    let planned: Vec<(&str, &str)> = calls
        .iter()
        .map(|c| (c["method"].as_str().unwrap(), c["path"].as_str().unwrap()))
        .collect();
    assert_eq!(
        planned,
        [
            ("PUT", "/nodes/pve01/qemu/4502/config"),
            ("PUT", "/nodes/pve01/qemu/4502/cloudinit")
        ]
    );
    assert_eq!(calls[0]["params"]["ciuser"], "ops");
    assert_eq!(calls[0]["params"]["cipassword"], "********");
    assert!(!out.to_string().contains(PASSWORD), "{out}");
    assert!(writes(&d).is_empty());
    assert_eq!(d.guest_config(4502, "ciuser"), None);
}

#[tokio::test]
async fn protected_vms_are_refused_every_way() {
    let d = guarded(GuardConfig::default()).await;
    vm_with_drive(&d, 4503).await;
    // PVE's protection flag, set as an admin would.
    d.sim().with_sim(|s| {
        let g = s.cluster.guests.get_mut(&4503).unwrap();
        g.config.insert("protection".into(), json!(1));
    });
    for dry in [false, true] {
        d.sim().clear_requests();
        let e = d
            .call(
                "update_cloud_init",
                json!({"vmid": 4503, "ciuser": "ops", "dry_run": dry}),
            )
            .await
            .unwrap_err();
        assert_eq!(e.kind(), "policy", "{e}");
        assert!(
            e.to_string().contains("is protected") && e.to_string().contains("protection flag"),
            "{e}"
        );
        assert!(writes(&d).is_empty());
    }
    assert_eq!(d.guest_config(4503, "ciuser"), None);
}

fn args(v: Value) -> serde_json::Map<String, Value> {
    v.as_object().unwrap().clone()
}

#[tokio::test]
async fn over_mcp_and_rest() {
    let door = Door::with_keys().await;
    vm_with_drive(&door.demo, 4504).await;
    let client = door.client(KEYS[2].2).await;
    let r = client
        .call_tool(
            CallToolRequestParams::new("update_cloud_init").with_arguments(args(
                json!({"vmid": 4504, "ciuser": "mcp", "password": PASSWORD}),
            )),
        )
        .await
        .unwrap();
    assert_eq!(r.is_error, Some(false), "{r:?}");
    let out = r.structured_content.clone().unwrap();
    assert_eq!(out["ciuser"], "mcp");
    assert!(!format!("{r:?}").contains(PASSWORD));
    let r = client
        .call_tool(
            CallToolRequestParams::new("update_cloud_init")
                .with_arguments(args(json!({"vmid": 103, "ciuser": "mcp"}))),
        )
        .await
        .unwrap();
    assert_eq!(r.is_error, Some(true));
    assert!(
        r.content[0]
            .as_text()
            .unwrap()
            .text
            .contains("has no cloud-init drive"),
        "{r:?}"
    );
    client.cancel().await.unwrap();

    let rest = Rest::start().await;
    vm_with_drive(&rest.demo, 4505).await;
    let (status, body) = rest
        .post(
            "update_cloud_init",
            json!({"vmid": 4505, "ip": "dhcp", "password": PASSWORD}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["ipconfigs"]["ipconfig0"], "ip=dhcp");
    assert_eq!(body["password_set"], true);
    assert!(!body.to_string().contains(PASSWORD));
    let (status, body) = rest
        .post("update_cloud_init", json!({"vmid": 4505, "ip": "nope"}))
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(body.to_string().contains("`ip`"), "{body}");
}

#[tokio::test]
async fn the_password_reaches_no_answer_audit_line_or_log() {
    crate::support::mcp::init_tls();
    let sim = crate::support::process::sim().await;
    let dir = std::env::temp_dir().join(format!("pmcp-ci-{}", rand::random::<u64>()));
    std::fs::create_dir_all(&dir).unwrap();
    let audit = dir.join("audit.jsonl");
    let mut env = sim_env(&sim);
    env.push(("RUST_LOG".into(), "debug".into()));
    let mut bin = Bin::start(
        &[
            "serve",
            "--toolsets",
            "all",
            "--audit-log",
            audit.to_str().unwrap(),
            "--mcp-listen",
            "127.0.0.1:0",
            "--rest-listen",
            "127.0.0.1:0",
        ],
        &env,
    );
    let rest = bin.port("REST");
    let http = reqwest::Client::new();
    let call = async |tool: &str, args: Value| -> (u16, String) {
        let r = http
            .post(format!("http://127.0.0.1:{rest}/{tool}"))
            .json(&args)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    };
    let (s, text) = call(
        "create_vm_from_template",
        json!({"template_vmid": 9000, "name": "ci-log", "newid": 4510, "ip": "dhcp"}),
    )
    .await;
    assert_eq!(s, 200, "{text}");
    let mut answers = Vec::new();
    for dry in [true, false] {
        let (s, text) = call(
            "update_cloud_init",
            json!({"vmid": 4510, "password": PASSWORD, "dry_run": dry}),
        )
        .await;
        assert_eq!(s, 200, "{text}");
        answers.push(text);
    }
    // A refused call (a VM without drive) is audited too.
    let (s, text) = call(
        "update_cloud_init",
        json!({"vmid": 103, "password": PASSWORD}),
    )
    .await;
    assert_eq!(s, 403, "{text}");
    answers.push(text);
    bin.terminate();
    assert_eq!(bin.wait_exit().code(), Some(0), "{}", bin.seen.join("\n"));

    // The password did reach PVE (it must), and nothing else.
    let sent = sim
        .requests()
        .into_iter()
        .any(|r| r.params.contains(&("cipassword".into(), PASSWORD.into())));
    assert!(sent, "PVE never got the password");
    for a in &answers {
        assert!(!a.contains(PASSWORD), "an answer shows the password: {a}");
    }
    let log = bin.seen.join("\n");
    assert!(log.contains("update_cloud_init"), "{log}");
    assert!(
        !log.contains(PASSWORD),
        "the log shows the password:\n{log}"
    );
    let lines = std::fs::read_to_string(&audit).unwrap();
    assert!(
        !lines.contains(PASSWORD),
        "the audit log shows it:\n{lines}"
    );
    let recs: Vec<Value> = lines
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .filter(|r: &Value| r["tool"] == "update_cloud_init")
        .collect();
    let outcomes: Vec<&str> = recs
        .iter()
        .map(|r| r["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, ["dry_run", "ok", "refused"], "{lines}");
    for r in &recs {
        assert_eq!(r["args"]["password"], "********", "{r}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
