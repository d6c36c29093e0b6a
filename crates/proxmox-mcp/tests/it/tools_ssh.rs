//! `execute_container_command` and `execute_node_command` against the simulator's SSH servers,
//! wired as `serve --demo` wires them: hostile arguments reach the container as argv; the
//! envelope (confirmation, dry run with the exact remote command line, protected containers,
//! the exec policy, the audit record without the output) through the registry, MCP and REST;
//! clear errors with nothing run (stopped container, unknown VMID, no SSH configured); a
//! timeout and a cancelled call hang the command up.

use std::sync::Arc;
use std::time::Duration;

use proxmox_mcp::{
    Caller, ExecConfig, GuardConfig, McpHttpConfig, NoProgress, NodeCommandsConfig, RestConfig,
    ToolError,
};
use pve_sim::ssh::{Ran, SshRecord};
use rmcp::ServiceExt;
use rmcp::model::CallToolRequestParams;
use rmcp::transport::StreamableHttpClientTransport;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use crate::support::demo::{Demo, guarded, serve_doors};
use crate::support::mcp::eventually;

const CT: &str = "execute_container_command";
const NODE: &str = "execute_node_command";

/// What the simulated nodes were asked to run, in order.
fn ran(d: &Demo) -> Vec<SshRecord> {
    d.demo.ssh().records()
}

fn hostile() -> Vec<String> {
    [
        "a b",
        "; rm -rf /",
        "$(id)",
        "`id`",
        "it's",
        "\"q\"",
        "\\",
        "line1\nline2",
        "*",
        "&& reboot",
        "| cat /etc/shadow",
        "",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

#[tokio::test]
async fn hostile_arguments_stay_argv_in_the_container() {
    let d = guarded(GuardConfig::default()).await;
    let args = hostile();
    let out = d
        .call(
            CT,
            json!({"vmid": 200, "command": "echo", "args": args, "confirm": true}),
        )
        .await
        .unwrap();
    assert_eq!(out["exit_code"], 0, "{out}");
    assert_eq!(out["node"], "pve01");
    assert_eq!(out["stdout"], format!("{}\n", args.join(" ")));
    let line = out["command_line"].as_str().unwrap();
    assert!(
        line.starts_with("pct exec 200 -- echo 'a b' '; rm -rf /' '$(id)'"),
        "{line}"
    );
    let records = ran(&d);
    assert_eq!(records.len(), 1, "{records:#?}");
    let mut want = vec!["echo".to_string()];
    want.extend(args);
    assert_eq!(
        records[0].ran,
        Some(Ran::Container {
            vmid: 200,
            argv: want
        })
    );
    assert!(records[0].prologue, "the hang-up prologue wraps the line");
    // A shell line runs through /bin/sh -c inside the container, both streams and the status.
    let out = d
        .call(
            CT,
            json!({"vmid": 200, "command": "echo out; echo err >&2; exit 3", "confirm": true}),
        )
        .await
        .unwrap();
    assert_eq!(
        (&out["exit_code"], &out["stdout"], &out["stderr"]),
        (&json!(3), &json!("out\n"), &json!("err\n"))
    );
    assert_eq!(
        out["command_line"],
        "pct exec 200 -- /bin/sh -c 'echo out; echo err >&2; exit 3'"
    );
}

#[tokio::test]
async fn confirmation_dry_run_and_protection_run_nothing() {
    let d = guarded(GuardConfig {
        protected_vmids: vec![202],
        ..GuardConfig::default()
    })
    .await;
    let e = d
        .call(CT, json!({"vmid": 200, "command": "hostname"}))
        .await
        .unwrap_err();
    let ToolError::Policy(m) = &e else {
        panic!("{e:?}")
    };
    assert!(
        m.contains("confirm: true")
            && m.contains("SSH /nodes/pve01/lxc/200")
            && m.contains("command_line=pct exec 200 -- hostname"),
        "{m}"
    );
    let plan = d
        .call(
            CT,
            json!({"vmid": 200, "command": "cat", "args": ["/etc/os-release", "$(x)"], "dry_run": true}),
        )
        .await
        .unwrap();
    assert_eq!(plan["dry_run"], true);
    assert_eq!(
        plan["planned_calls"],
        json!([{
            "method": "SSH",
            "path": "/nodes/pve01/lxc/200",
            "params": {
                "ssh": "root@pve01",
                "command_line": "pct exec 200 -- cat /etc/os-release '$(x)'"
            }
        }])
    );
    let e = d
        .call(
            CT,
            json!({"vmid": 202, "command": "hostname", "confirm": true}),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&e, ToolError::Policy(m) if m.contains("container 202 is protected")),
        "{e:?}"
    );
    let e = d
        .call(
            CT,
            json!({"vmid": 202, "command": "hostname", "dry_run": true}),
        )
        .await
        .unwrap_err();
    assert!(matches!(&e, ToolError::Policy(_)), "{e:?}");
    assert_eq!(ran(&d), vec![], "nothing reached a node");
}

#[tokio::test]
async fn the_exec_policy_judges_the_container_command() {
    let d = guarded(GuardConfig {
        exec: ExecConfig {
            allow: vec!["hostname".into(), "cat /etc/*".into()],
            max_output_bytes: Some(8),
            ..ExecConfig::default()
        },
        ..GuardConfig::default()
    })
    .await;
    for (command, args) in [
        ("rm", json!(["-rf", "/"])),
        ("hostname; reboot", json!(null)),
        ("cat", json!(["/etc/x; reboot"])),
    ] {
        let e = d
            .call(
                CT,
                json!({"vmid": 200, "command": command, "args": args, "confirm": true}),
            )
            .await
            .unwrap_err();
        assert!(
            matches!(&e, ToolError::Policy(m) if m.contains("guard.exec.allow")),
            "{command}: {e:?}"
        );
    }
    assert_eq!(ran(&d), vec![]);
    let out = d
        .call(
            CT,
            json!({"vmid": 200, "command": "cat", "args": ["/etc/os-release"], "confirm": true}),
        )
        .await
        .unwrap();
    assert_eq!(out["stdout"].as_str().unwrap().len(), 8, "{out}");
    assert_eq!(out["stdout_truncated"], true);
    let e = d
        .call(
            CT,
            json!({"vmid": 200, "command": "hostname", "timeout_seconds": 51, "confirm": true}),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&e, ToolError::InvalidParams { param: Some(p), .. } if p == "timeout_seconds"),
        "{e:?}"
    );
}

#[tokio::test]
async fn stopped_unknown_and_unconfigured_are_clear_errors() {
    let d = guarded(GuardConfig::default()).await;
    let e = d
        .call(
            CT,
            json!({"vmid": 205, "command": "hostname", "confirm": true}),
        )
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("container 205 is not running") && e.contains("start_container"),
        "{e}"
    );
    let e = d
        .call(
            CT,
            json!({"vmid": 999, "command": "hostname", "confirm": true}),
        )
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("999 does not exist"), "{e}");
    let e = d
        .call(
            CT,
            json!({"vmid": 200, "node": "pve02", "command": "hostname", "confirm": true}),
        )
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("200 does not exist"), "{e}");
    let e = d
        .call(
            CT,
            json!({"vmid": 100, "command": "hostname", "confirm": true}),
        )
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("guest 100 is a VM (QEMU), not a container"),
        "{e}"
    );
    assert_eq!(ran(&d), vec![]);
    // The same cluster without SSH configured.
    let plain = Demo::start().await.without_ssh();
    let e = plain
        .call(
            CT,
            json!({"vmid": 200, "command": "hostname", "confirm": true}),
        )
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("SSH to the nodes of cluster default is not configured"),
        "{e}"
    );
}

#[tokio::test]
async fn a_timeout_hangs_the_command_up() {
    let d = guarded(GuardConfig::default()).await;
    let out = d
        .call(
            CT,
            json!({"vmid": 200, "command": "sleep", "args": ["30"], "timeout_seconds": 1, "confirm": true}),
        )
        .await
        .unwrap();
    assert_eq!(out["timed_out"], true, "{out}");
    assert!(out.get("exit_code").is_none(), "{out}");
    eventually("the simulated sleep ends by SIGHUP", async || {
        ran(&d)
            .first()
            .is_some_and(|r| r.signal.as_deref() == Some("HUP"))
    })
    .await;
}

#[tokio::test]
async fn a_cancelled_call_hangs_the_command_up() {
    let d = guarded(GuardConfig::default()).await;
    let cancel = CancellationToken::new();
    let ctx = d
        .app
        .ctx(Caller::new("test"), Arc::new(NoProgress), cancel.clone());
    let app = d.app.clone();
    let call = tokio::spawn(async move {
        app.registry()
            .call(
                CT,
                Some(json!({"vmid": 200, "command": "sleep", "args": ["30"], "confirm": true})),
                ctx,
            )
            .await
    });
    eventually("the command starts", async || !ran(&d).is_empty()).await;
    cancel.cancel();
    let r = tokio::time::timeout(Duration::from_secs(5), call)
        .await
        .unwrap()
        .unwrap();
    assert!(r.is_err(), "{r:?}");
    eventually("the simulated sleep ends by SIGHUP", async || {
        ran(&d)
            .first()
            .is_some_and(|r| r.signal.as_deref() == Some("HUP"))
    })
    .await;
}

#[tokio::test]
async fn the_audit_keeps_the_command_and_its_end_never_the_output() {
    let dir = std::env::temp_dir().join(format!("pmcp-ssh-audit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("audit.jsonl");
    let _ = std::fs::remove_file(&path);
    let d = guarded(GuardConfig {
        audit_log: Some(path.clone()),
        ..GuardConfig::default()
    })
    .await;
    d.call(
        CT,
        json!({"vmid": 200, "command": "echo", "args": ["secret-output-xyz"], "confirm": true}),
    )
    .await
    .unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let line: Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    assert_eq!(line["tool"], CT);
    assert_eq!(line["outcome"], "ok");
    assert_eq!(line["args"]["command"], "echo");
    let result = &line["result"];
    assert_eq!(
        result["command_line"],
        "pct exec 200 -- echo secret-output-xyz"
    );
    assert_eq!(result["exit_code"], 0);
    assert!(
        result["duration_ms"].is_u64() && result["elapsed_ms"].is_u64(),
        "{line}"
    );
    assert_eq!(
        text.matches("secret-output-xyz").count(),
        2,
        "in the args and the command line, never as output: {text}"
    );
    assert!(!text.contains("\"stdout\""), "{text}");
    proxmox_mcp::verify_audit_log(&path).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn node_commands_run_only_from_the_allow_list() {
    let closed = guarded(GuardConfig::default()).await;
    let e = closed
        .call(
            NODE,
            json!({"node": "pve01", "command": "pveversion -v", "confirm": true}),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&e, ToolError::Policy(m) if m.contains("[guard.node_commands] allow")),
        "{e:?}"
    );
    let d = guarded(GuardConfig {
        node_commands: NodeCommandsConfig {
            allow: vec![
                "pveversion -v".into(),
                "journalctl -u pve-cluster -n *".into(),
            ],
        },
        ..GuardConfig::default()
    })
    .await;
    let out = d
        .call(
            NODE,
            json!({"node": "pve02", "command": "pveversion  -v", "confirm": true}),
        )
        .await
        .unwrap();
    assert_eq!(out["exit_code"], 0, "{out}");
    assert!(
        out["stdout"].as_str().unwrap().contains("pve-manager"),
        "{out}"
    );
    assert_eq!(out["command_line"], "pveversion -v");
    assert!(out.get("vmid").is_none());
    for bad in [
        "zpool status",
        "pveversion -v; reboot",
        "journalctl -u pve-cluster -n 5|sh",
    ] {
        let e = d
            .call(
                NODE,
                json!({"node": "pve02", "command": bad, "confirm": true}),
            )
            .await
            .unwrap_err();
        assert!(
            matches!(&e, ToolError::Policy(m) if m.contains("guard.node_commands.allow")),
            "{bad}: {e:?}"
        );
    }
    let plan = d
        .call(
            NODE,
            json!({"node": "pve01", "command": "journalctl -u pve-cluster -n 5", "dry_run": true}),
        )
        .await
        .unwrap();
    assert_eq!(plan["planned_calls"][0]["path"], "/nodes/pve01");
    assert_eq!(
        plan["planned_calls"][0]["params"]["command_line"],
        "journalctl -u pve-cluster -n 5"
    );
    let e = d
        .call(NODE, json!({"node": "pve01", "command": "pveversion -v"}))
        .await
        .unwrap_err();
    assert!(
        matches!(&e, ToolError::Policy(m) if m.contains("confirm: true")),
        "{e:?}"
    );
    assert_eq!(ran(&d).len(), 1, "{:#?}", ran(&d));
    let e = d
        .call(
            NODE,
            json!({"node": "pve9", "command": "pveversion -v", "confirm": true}),
        )
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("pve9"), "{e}");
}

#[tokio::test]
async fn mcp_and_rest_carry_the_same_envelope() {
    crate::support::mcp::init_tls();
    let d = guarded(GuardConfig {
        protected_vmids: vec![202],
        ..GuardConfig::default()
    })
    .await;
    let shutdown = CancellationToken::new();
    let (mcp, rest) = serve_doors(
        &d.app,
        McpHttpConfig::default(),
        RestConfig::default(),
        &shutdown,
    )
    .await;
    let client = ()
        .serve(StreamableHttpClientTransport::from_uri(format!(
            "{mcp}/proxmox/mcp"
        )))
        .await
        .unwrap();
    let tools = client.list_all_tools().await.unwrap();
    let tool = tools.iter().find(|t| t.name == CT).unwrap();
    assert_eq!(
        tool.input_schema["properties"]["confirm"]["type"],
        "boolean"
    );
    let call = async |args: Value| {
        let Value::Object(args) = args else {
            unreachable!()
        };
        client
            .call_tool(CallToolRequestParams::new(CT).with_arguments(args))
            .await
            .unwrap()
    };
    let r =
        call(json!({"vmid": 200, "command": "echo", "args": ["$(id)", "a;b"], "confirm": true}))
            .await;
    assert_eq!(r.is_error, Some(false), "{r:?}");
    let out = r.structured_content.unwrap();
    assert_eq!(out["stdout"], "$(id) a;b\n");
    let r = call(json!({"vmid": 200, "command": "hostname"})).await;
    assert_eq!(r.is_error, Some(true));
    let r = call(json!({"vmid": 202, "command": "hostname", "confirm": true})).await;
    assert_eq!(r.is_error, Some(true));
    assert!(r.content[0].as_text().unwrap().text.contains("protected"));
    let r = call(json!({"vmid": 200, "command": "hostname", "dry_run": true})).await;
    assert_eq!(
        r.structured_content.unwrap()["planned_calls"][0]["params"]["command_line"],
        "pct exec 200 -- hostname"
    );
    client.cancel().await.unwrap();

    let http = reqwest::Client::new();
    let post = async |args: Value| {
        let r = http
            .post(format!("{rest}/{CT}"))
            .json(&args)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json::<Value>().await.unwrap())
    };
    let (status, body) =
        post(json!({"vmid": 200, "command": "echo", "args": ["`id`", "x y"], "confirm": true}))
            .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["stdout"], "`id` x y\n");
    let (status, body) = post(json!({"vmid": 200, "command": "hostname"})).await;
    assert_eq!(
        (status, body["detail"]["kind"].as_str()),
        (403, Some("policy")),
        "{body}"
    );
    let (status, body) = post(json!({"vmid": 202, "command": "hostname", "confirm": true})).await;
    assert_eq!(status, 403, "{body}");
    let (status, body) = post(json!({"vmid": 205, "command": "hostname", "confirm": true})).await;
    assert!(status >= 400, "{body}");
    assert!(
        body["detail"]["message"]
            .as_str()
            .unwrap()
            .contains("not running"),
        "{body}"
    );
    let (status, body) = post(json!({"vmid": 200, "command": "hostname", "dry_run": true})).await;
    assert_eq!(status, 200);
    assert_eq!(body["planned_calls"][0]["method"], "SSH");
    let containers: Vec<u32> = ran(&d)
        .iter()
        .filter_map(|r| match &r.ran {
            Some(Ran::Container { vmid, .. }) => Some(*vmid),
            _ => None,
        })
        .collect();
    assert_eq!(containers, [200, 200], "only the two confirmed calls ran");
    shutdown.cancel();
}

#[tokio::test]
async fn serve_demo_wires_ssh_out_of_the_box() {
    // What `serve --demo` builds: settings with the demo cluster, then the app from them.
    let settings = proxmox_mcp::Settings::resolve(
        &proxmox_mcp::Overrides {
            demo: true,
            ..proxmox_mcp::Overrides::default()
        },
        // The `ssh` toolset is off by default.
        &std::collections::HashMap::from([(
            "PROXMOX_MCP_TOOLSETS".to_string(),
            "default,ssh".to_string(),
        )]),
    )
    .unwrap();
    let app = proxmox_mcp::App::from_settings(&settings).await.unwrap();
    let ctx = app.ctx(
        Caller::new("test"),
        Arc::new(NoProgress),
        CancellationToken::new(),
    );
    let out = app
        .registry()
        .call(
            CT,
            Some(json!({"vmid": 200, "command": "cat", "args": ["/etc/os-release"], "confirm": true})),
            ctx,
        )
        .await
        .unwrap();
    assert_eq!(out["exit_code"], 0, "{out}");
    assert!(
        out["stdout"].as_str().unwrap().contains("PRETTY_NAME"),
        "{out}"
    );
    let records = app.demo().unwrap().ssh().records();
    assert_eq!(records.len(), 1, "{records:#?}");
    assert!(records[0].prologue);
}
