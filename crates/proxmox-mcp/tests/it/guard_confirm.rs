//! Confirmation and dry run: every destructive tool refuses without `confirm: true`, saying what
//! it would do; every mutating tool answers `dry_run: true` with the exact PVE calls it would
//! make. In both cases the simulator's request log shows no write at all.

use proxmox_mcp::Access;
use proxmox_mcp::GuardConfig;
use serde_json::{Value, json};

use crate::support::demo::Demo;
use crate::support::demo::{guarded, seeded_backup, writes};

/// `(method, path)` of each planned call of a dry-run answer.
fn planned(out: &Value) -> Vec<(String, String)> {
    out["planned_calls"]
        .as_array()
        .unwrap_or_else(|| panic!("no planned_calls in {out}"))
        .iter()
        .map(|c| {
            (
                c["method"].as_str().unwrap().to_string(),
                c["path"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// One dry-run case: a tool, its arguments, and the calls it must plan (method, path, and
/// parameters that must be among those planned).
struct Case {
    tool: &'static str,
    args: Value,
    calls: &'static [(&'static str, &'static str)],
    params: &'static [(usize, &'static str, &'static str)],
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            tool: "create_vm",
            args: json!({"name": "planned", "cores": 2, "memory_mb": 1024, "disk_gb": 8,
                         "node": "pve02", "vmid": 4444, "storage": "local-lvm"}),
            calls: &[("POST", "/nodes/pve02/qemu")],
            params: &[
                (0, "vmid", "4444"),
                (0, "name", "planned"),
                (0, "cores", "2"),
            ],
        },
        Case {
            tool: "start_vm",
            args: json!({"vmid": 103}),
            calls: &[("POST", "/nodes/pve01/qemu/103/status/start")],
            params: &[],
        },
        Case {
            tool: "stop_vm",
            args: json!({"vmid": 100}),
            calls: &[("POST", "/nodes/pve01/qemu/100/status/stop")],
            params: &[],
        },
        Case {
            tool: "shutdown_vm",
            args: json!({"vmid": 101, "timeout_seconds": 30}),
            calls: &[("POST", "/nodes/pve01/qemu/101/status/shutdown")],
            params: &[(0, "timeout", "30")],
        },
        Case {
            tool: "reset_vm",
            args: json!({"vmid": 100}),
            calls: &[("POST", "/nodes/pve01/qemu/100/status/reset")],
            params: &[],
        },
        Case {
            tool: "delete_vm",
            args: json!({"vmid": 101, "force": true, "purge": true}),
            calls: &[
                ("POST", "/nodes/pve01/qemu/101/status/stop"),
                ("DELETE", "/nodes/pve01/qemu/101"),
            ],
            params: &[(1, "purge", "1")],
        },
        Case {
            tool: "execute_vm_command",
            args: json!({"vmid": 100, "command": "hostname"}),
            calls: &[("POST", "/nodes/pve01/qemu/100/agent/exec")],
            params: &[(0, "command", "hostname")],
        },
        Case {
            tool: "start_container",
            args: json!({"vmid": 205}),
            calls: &[("POST", "/nodes/pve01/lxc/205/status/start")],
            params: &[],
        },
        Case {
            tool: "stop_container",
            args: json!({"vmid": 200}),
            calls: &[("POST", "/nodes/pve01/lxc/200/status/shutdown")],
            params: &[],
        },
        Case {
            tool: "restart_container",
            args: json!({"vmid": 200}),
            calls: &[("POST", "/nodes/pve01/lxc/200/status/reboot")],
            params: &[],
        },
        Case {
            tool: "update_container_resources",
            args: json!({"vmid": 200, "cores": 3, "disk_add_gb": 2}),
            calls: &[
                ("PUT", "/nodes/pve01/lxc/200/config"),
                ("PUT", "/nodes/pve01/lxc/200/resize"),
            ],
            params: &[(0, "cores", "3"), (1, "disk", "rootfs"), (1, "size", "+2G")],
        },
        Case {
            tool: "execute_container_command",
            args: json!({"vmid": 200, "command": "hostname"}),
            calls: &[("SSH", "/nodes/pve01/lxc/200")],
            params: &[(0, "command_line", "pct exec 200 -- hostname")],
        },
        Case {
            tool: "update_vm_config",
            args: json!({"vmid": 103, "cores": 3}),
            calls: &[("PUT", "/nodes/pve01/qemu/103/config")],
            params: &[(0, "cores", "3")],
        },
        Case {
            // VM 103 is given a cloud-init drive at run time.
            tool: "update_cloud_init",
            args: json!({"vmid": 103, "ciuser": "ops", "password": "pw-secret"}),
            calls: &[
                ("PUT", "/nodes/pve01/qemu/103/config"),
                ("PUT", "/nodes/pve01/qemu/103/cloudinit"),
            ],
            params: &[(0, "ciuser", "ops"), (0, "cipassword", "********")],
        },
        Case {
            tool: "update_container_config",
            args: json!({"vmid": 205, "onboot": true}),
            calls: &[("PUT", "/nodes/pve01/lxc/205/config")],
            params: &[(0, "onboot", "1")],
        },
        Case {
            tool: "clone_vm",
            args: json!({"vmid": 9000, "newid": 4445}),
            calls: &[("POST", "/nodes/pve01/qemu/9000/clone")],
            params: &[(0, "newid", "4445"), (0, "full", "0")],
        },
        Case {
            tool: "convert_to_template",
            args: json!({"vmid": 103}),
            calls: &[("POST", "/nodes/pve01/qemu/103/template")],
            params: &[],
        },
        Case {
            tool: "create_vm_from_template",
            args: json!({"template_vmid": 9000, "name": "planned", "newid": 4446,
                         "ciuser": "ops", "password": "pw-secret"}),
            calls: &[
                ("POST", "/nodes/pve01/qemu/9000/clone"),
                ("PUT", "/nodes/pve01/qemu/4446/config"),
            ],
            params: &[(1, "ciuser", "ops"), (1, "cipassword", "********")],
        },
        Case {
            tool: "create_container",
            args: json!({"template": "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst",
                         "hostname": "planned", "password": "pw-secret", "node": "pve01",
                         "vmid": 4447, "storage": "local-lvm"}),
            calls: &[("POST", "/nodes/pve01/lxc")],
            params: &[(0, "password", "********"), (0, "unprivileged", "1")],
        },
        Case {
            tool: "delete_container",
            args: json!({"vmid": 205}),
            calls: &[("DELETE", "/nodes/pve01/lxc/205")],
            params: &[(0, "purge", "1")],
        },
        Case {
            tool: "clone_container",
            args: json!({"vmid": 205, "newid": 4448}),
            calls: &[("POST", "/nodes/pve01/lxc/205/clone")],
            params: &[(0, "newid", "4448"), (0, "full", "1")],
        },
        Case {
            tool: "convert_container_to_template",
            args: json!({"vmid": 205}),
            calls: &[("POST", "/nodes/pve01/lxc/205/template")],
            params: &[],
        },
        Case {
            tool: "migrate_guest",
            args: json!({"vmid": 103, "target_node": "pve02"}),
            calls: &[("POST", "/nodes/pve01/qemu/103/migrate")],
            params: &[(0, "target", "pve02"), (0, "with-local-disks", "1")],
        },
        Case {
            // The UPID of a running task is filled in at run time (a path ending in `*` is a prefix).
            tool: "stop_task",
            args: json!({}),
            calls: &[("DELETE", "/nodes/pve01/tasks/UPID%3Apve01%3A*")],
            params: &[],
        },
        Case {
            tool: "create_snapshot",
            args: json!({"vmid": 103, "name": "planned", "description": "why"}),
            calls: &[("POST", "/nodes/pve01/qemu/103/snapshot")],
            params: &[(0, "snapname", "planned"), (0, "description", "why")],
        },
        Case {
            tool: "rollback_snapshot",
            args: json!({"vmid": 103, "name": "before"}),
            calls: &[("POST", "/nodes/pve01/qemu/103/snapshot/before/rollback")],
            params: &[],
        },
        Case {
            tool: "delete_snapshot",
            args: json!({"vmid": 103, "name": "before"}),
            calls: &[("DELETE", "/nodes/pve01/qemu/103/snapshot/before")],
            params: &[],
        },
        Case {
            tool: "create_backup",
            args: json!({"vmid": 103, "storage": "nfs-backup", "mode": "stop"}),
            calls: &[("POST", "/nodes/pve01/vzdump")],
            params: &[
                (0, "vmid", "103"),
                (0, "storage", "nfs-backup"),
                (0, "mode", "stop"),
            ],
        },
        Case {
            // The archive (a seeded backup of VM 104 on pve02) is filled in at run time.
            tool: "restore_backup",
            args: json!({"vmid": 4321}),
            calls: &[("POST", "/nodes/pve02/qemu")],
            params: &[(0, "vmid", "4321")],
        },
        Case {
            // The volid (a seeded backup of VM 100) is filled in at run time.
            tool: "delete_backup",
            args: json!({}),
            calls: &[("DELETE", "/nodes/pve01/storage/nfs-backup/content/*")],
            params: &[],
        },
        Case {
            tool: "resize_disk",
            args: json!({"vmid": 200, "size": "+2G"}),
            calls: &[("PUT", "/nodes/pve01/lxc/200/resize")],
            params: &[(0, "disk", "rootfs"), (0, "size", "+2G")],
        },
        Case {
            tool: "move_disk",
            args: json!({"vmid": 103, "storage": "nfs-backup", "delete_source": true}),
            calls: &[("POST", "/nodes/pve01/qemu/103/move_disk")],
            params: &[(0, "disk", "scsi0"), (0, "delete", "1")],
        },
        Case {
            tool: "download_to_storage",
            args: json!({"storage": "local", "url": "https://e.invalid/plan.iso"}),
            calls: &[("POST", "/nodes/pve01/storage/local/download-url")],
            params: &[(0, "content", "iso"), (0, "filename", "plan.iso")],
        },
        Case {
            tool: "proxmox_api",
            args: json!({"method": "PUT", "path": "/nodes/pve01/qemu/103/config",
                         "params": {"cores": 3}}),
            calls: &[("PUT", "/nodes/pve01/qemu/103/config")],
            params: &[(0, "cores", "3")],
        },
        Case {
            tool: "execute_node_command",
            args: json!({"node": "pve02", "command": "pveversion -v"}),
            calls: &[("SSH", "/nodes/pve02")],
            params: &[(0, "command_line", "pveversion -v")],
        },
        Case {
            tool: "reboot_vm",
            args: json!({"vmid": 100, "timeout_seconds": 60}),
            calls: &[("POST", "/nodes/pve01/qemu/100/status/reboot")],
            params: &[(0, "timeout", "60")],
        },
        Case {
            tool: "suspend_vm",
            args: json!({"vmid": 100, "to_disk": true}),
            calls: &[("POST", "/nodes/pve01/qemu/100/status/suspend")],
            params: &[(0, "todisk", "1")],
        },
        Case {
            tool: "resume_vm",
            args: json!({"vmid": 100}),
            calls: &[("POST", "/nodes/pve01/qemu/100/status/resume")],
            params: &[],
        },
        Case {
            tool: "suspend_container",
            args: json!({"vmid": 200}),
            calls: &[("POST", "/nodes/pve01/lxc/200/status/suspend")],
            params: &[],
        },
        Case {
            tool: "resume_container",
            args: json!({"vmid": 200}),
            calls: &[("POST", "/nodes/pve01/lxc/200/status/resume")],
            params: &[],
        },
    ]
}

/// The guard of these tests: the defaults, with one node command allowed.
fn guard() -> GuardConfig {
    GuardConfig {
        node_commands: proxmox_mcp::NodeCommandsConfig {
            allow: vec!["pveversion -v".into()],
        },
        ..GuardConfig::default()
    }
}

/// The arguments of `case`, with what only exists at run time filled in.
fn run_args(d: &Demo, case: &Case) -> Value {
    let mut args = case.args.clone();
    match case.tool {
        "stop_task" => args["upid"] = json!(crate::support::demo::long_task(d)),
        "rollback_snapshot" | "delete_snapshot" => {
            crate::support::demo::add_snapshot(d, 103, "before");
        }
        "restore_backup" => args["archive"] = json!(seeded_backup(d, 104)),
        "delete_backup" => args["volid"] = json!(seeded_backup(d, 100)),
        "update_cloud_init" => d.sim().with_sim(|s| {
            let g = s.cluster.guests.get_mut(&103).unwrap();
            g.config.insert(
                "ide0".into(),
                json!("local-lvm:vm-103-cloudinit,media=cdrom"),
            );
        }),
        _ => {}
    }
    args
}

/// Whether the planned calls are the wanted ones (a wanted path ending in `*` is a prefix).
fn same_calls(got: &[(String, String)], want: &[(&str, &str)]) -> bool {
    got.len() == want.len()
        && got.iter().zip(want).all(|((gm, gp), (wm, wp))| {
            gm == wm
                && match wp.strip_suffix('*') {
                    Some(prefix) => gp.starts_with(prefix),
                    None => gp == wp,
                }
        })
}

/// A snapshot of what the cases could change: power states and a few config values.
fn state(d: &Demo) -> Vec<[Option<String>; 3]> {
    [100, 101, 103, 200, 205, 4444]
        .into_iter()
        .map(|v| {
            [
                d.guest_status(v),
                d.guest_config(v, "cores"),
                d.guest_config(v, "rootfs"),
            ]
        })
        .collect()
}

#[tokio::test]
async fn every_mutating_tool_dry_runs_without_writing() {
    let d = guarded(guard()).await;
    let cases = cases();
    // Every mutating tool of the registry has a case here (a new tool must add one).
    let mutating: Vec<&str> = d
        .app
        .registry()
        .tools()
        .filter(|t| t.access != Access::Read)
        .map(|t| t.name)
        .collect();
    let covered: Vec<&str> = cases.iter().map(|c| c.tool).collect();
    assert_eq!(mutating, covered, "one dry-run case per mutating tool");

    let before = state(&d);
    for case in &cases {
        d.sim().clear_requests();
        let mut args = run_args(&d, case);
        d.sim().clear_requests();
        args["dry_run"] = json!(true);
        // `Demo::call` checks the plan against the tool's output schema.
        let out = d.call(case.tool, args).await.unwrap_or_else(|e| {
            panic!("{} dry run: {e}", case.tool);
        });
        assert_eq!(out["dry_run"], json!(true), "{out}");
        assert!(
            same_calls(&planned(&out), case.calls),
            "{}: {out}",
            case.tool
        );
        for (i, key, value) in case.params {
            let got = &out["planned_calls"][*i]["params"][*key];
            assert_eq!(
                got,
                &json!(value),
                "{} call {i} param {key}: {out}",
                case.tool
            );
        }
        assert!(
            out["note"]
                .as_str()
                .unwrap()
                .contains("nothing was changed"),
            "{out}"
        );
        assert_eq!(writes(&d), Vec::<String>::new(), "{} wrote", case.tool);
        assert!(
            !d.sim().requests().is_empty(),
            "{}: the reads still happen",
            case.tool
        );
    }
    assert_eq!(state(&d), before, "dry runs changed the cluster");
}

#[tokio::test]
async fn destructive_tools_need_confirm_and_say_what_they_would_do() {
    let d = guarded(guard()).await;
    let destructive: Vec<&str> = d
        .app
        .registry()
        .tools()
        .filter(|t| t.access == Access::Destructive)
        .map(|t| t.name)
        .collect();
    assert!(
        destructive.starts_with(&["stop_vm", "reset_vm", "delete_vm", "execute_vm_command"]),
        "{destructive:?}"
    );
    let before = state(&d);
    for case in cases().iter().filter(|c| destructive.contains(&c.tool)) {
        for confirm in [None, Some(json!(false)), Some(json!("false"))] {
            let mut args = run_args(&d, case);
            d.sim().clear_requests();
            if let Some(c) = &confirm {
                args["confirm"] = c.clone();
            }
            let e = d.call(case.tool, args).await.unwrap_err();
            assert_eq!(e.kind(), "policy", "{} {confirm:?}: {e}", case.tool);
            let text = e.to_string();
            assert!(text.contains("confirm: true"), "{text}");
            assert!(text.contains("nothing was done"), "{text}");
            // It says what it would do: the PVE calls, from a dry run.
            for (method, path) in case.calls {
                let path = path.trim_end_matches('*');
                assert!(text.contains(&format!("{method} {path}")), "{text}");
            }
            assert_eq!(writes(&d), Vec::<String>::new(), "{} wrote", case.tool);
        }
        // A dry run needs no confirm.
        let mut args = run_args(&d, case);
        args["dry_run"] = json!("true");
        d.call(case.tool, args).await.unwrap();
        assert_eq!(writes(&d), Vec::<String>::new());
    }
    assert_eq!(state(&d), before);

    // With confirm: true the call is made.
    d.sim().clear_requests();
    d.call("stop_vm", json!({"vmid": 100, "confirm": true}))
        .await
        .unwrap();
    assert_eq!(writes(&d), ["POST /nodes/pve01/qemu/100/status/stop"]);
    assert_eq!(d.guest_status(100).as_deref(), Some("stopped"));
    // An unconfirmed call that would fail anyway says why, not "confirm".
    let e = d.call("delete_vm", json!({"vmid": 999})).await.unwrap_err();
    assert_eq!(e.kind(), "pve", "{e}");
    assert!(e.to_string().contains("999 does not exist"), "{e}");
    // `confirm` is not a parameter of non-destructive tools; `dry_run` not of read tools.
    let e = d
        .call("start_vm", json!({"vmid": 100, "confirm": true}))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), "invalid_params", "{e}");
    let e = d
        .call("get_vms", json!({"dry_run": true}))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), "invalid_params", "{e}");
}

#[tokio::test]
async fn schemas_carry_confirm_and_dry_run_from_access() {
    let d = guarded(GuardConfig::default()).await;
    for t in d.app.registry().tools() {
        let props = t.input_schema["properties"].as_object().unwrap();
        assert_eq!(
            props.contains_key("confirm"),
            t.access == Access::Destructive,
            "{}",
            t.name
        );
        assert_eq!(
            props.contains_key("dry_run"),
            t.access != Access::Read,
            "{}",
            t.name
        );
        let required: Vec<&str> = t
            .input_schema
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        assert!(!required.contains(&"confirm") && !required.contains(&"dry_run"));
    }
}

#[tokio::test]
async fn only_true_confirms() {
    let d = guarded(GuardConfig::default()).await;
    // Loose truthy values are errors naming `confirm`: nothing runs, not even a dry run.
    for loose in [
        json!(1),
        json!("1"),
        json!("yes"),
        json!("on"),
        json!("True"),
        json!("TRUE"),
        json!(" true"),
        json!(2),
        json!([true]),
        json!({"v": true}),
    ] {
        d.sim().clear_requests();
        let e = d
            .call("stop_vm", json!({"vmid": 100, "confirm": loose}))
            .await
            .unwrap_err();
        assert!(
            matches!(&e, proxmox_mcp::ToolError::InvalidParams { param: Some(p), .. } if p == "confirm"),
            "{loose}: {e}"
        );
        assert!(e.to_string().contains("true"), "{e}");
        assert!(d.sim().requests().is_empty(), "{loose}: a request was made");
    }
    // `false`, `"false"` and `null` do not confirm: the call is refused with its plan.
    for no in [json!(false), json!("false"), Value::Null] {
        let e = d
            .call("stop_vm", json!({"vmid": 100, "confirm": no}))
            .await
            .unwrap_err();
        assert_eq!(e.kind(), "policy", "{no}: {e}");
    }
    assert_eq!(d.guest_status(100).as_deref(), Some("running"));
    // JSON `true` and the string "true" (some agent frameworks send it) confirm.
    for (vmid, yes) in [(100, json!(true)), (101, json!("true"))] {
        d.call("stop_vm", json!({"vmid": vmid, "confirm": yes}))
            .await
            .unwrap();
        assert_eq!(d.guest_status(vmid).as_deref(), Some("stopped"), "{yes}");
    }
}
