//! The `execute_vm_command` policy: allow and deny patterns (deny wins), the timeout bound and
//! the output cap from `[guard.exec]`; a refused command never reaches the guest agent.

use serde_json::json;

use crate::guard_confirm::{guarded, writes};
use crate::tools::{Want, check};
use proxmox_mcp::guard::{ExecConfig, GuardConfig};

fn exec(command: &str) -> serde_json::Value {
    json!({"vmid": 100, "command": command, "confirm": true})
}

#[tokio::test]
async fn allow_and_deny_patterns_decide_what_runs() {
    let d = guarded(GuardConfig {
        exec: ExecConfig {
            allow: vec![
                "hostname".into(),
                "echo *".into(),
                "re:^uptime( -p)?$".into(),
            ],
            deny: vec!["echo *secret*".into()],
            ..ExecConfig::default()
        },
        ..GuardConfig::default()
    })
    .await;
    let ran = |stdout: &'static str| {
        Want::Fields(vec![("/exited", json!(true)), ("/stdout", json!(stdout))])
    };
    let cases = [
        (exec("hostname"), ran("web-01\n")),
        (exec("echo hi there"), ran("hi there\n")),
        (
            json!({"vmid": 100, "command": "echo", "args": ["a b"], "confirm": true}),
            ran("a b\n"),
        ),
        (exec("ls /"), Want::Err("policy", "guard.exec.allow")),
        // The allow glob's `*` does not reach past a shell separator.
        (
            exec("echo hi; reboot"),
            Want::Err("policy", "guard.exec.allow"),
        ),
        (exec("echo $(id)"), Want::Err("policy", "guard.exec.allow")),
        (
            exec("echo my secret"),
            Want::Err("policy", "guard.exec.deny"),
        ),
        (exec("uptime -x"), Want::Err("policy", "guard.exec.allow")),
    ];
    for (args, want) in cases {
        d.sim().clear_requests();
        let refused = matches!(want, Want::Err(..));
        check(&d, "execute_vm_command", args.clone(), want).await;
        if refused {
            assert_eq!(writes(&d), Vec::<String>::new(), "{args}");
            // Refused in a dry run, and without confirm, too: confirming would not help.
            let mut dry = args.clone();
            dry["dry_run"] = json!(true);
            check(
                &d,
                "execute_vm_command",
                dry,
                Want::Err("policy", "exec policy"),
            )
            .await;
            let mut unconfirmed = args.clone();
            unconfirmed.as_object_mut().unwrap().remove("confirm");
            check(
                &d,
                "execute_vm_command",
                unconfirmed,
                Want::Err("policy", "exec policy"),
            )
            .await;
            assert_eq!(writes(&d), Vec::<String>::new(), "{args}");
        }
    }
}

#[tokio::test]
async fn deny_wins_over_an_open_policy_and_limits_apply() {
    let d = guarded(GuardConfig {
        exec: ExecConfig {
            deny: vec![
                "rm *".into(),
                "re:(?i)\\b(shutdown|reboot|poweroff)\\b".into(),
            ],
            default_timeout_seconds: Some(5),
            max_timeout_seconds: Some(10),
            max_output_bytes: Some(4),
            ..ExecConfig::default()
        },
        ..GuardConfig::default()
    })
    .await;
    for bad in [
        "rm -rf /tmp/x",
        "sudo rm x",
        "true && rm x",
        "systemctl Reboot",
    ] {
        check(
            &d,
            "execute_vm_command",
            exec(bad),
            Want::Err("policy", "guard.exec.deny"),
        )
        .await;
    }
    // Output is cut at max_output_bytes and flagged.
    check(
        &d,
        "execute_vm_command",
        exec("hostname"),
        Want::Fields(vec![
            ("/stdout", json!("web-")),
            ("/stdout_truncated", json!(true)),
        ]),
    )
    .await;
    // timeout_seconds is bounded by max_timeout_seconds.
    let mut args = exec("hostname");
    args["timeout_seconds"] = json!(11);
    check(
        &d,
        "execute_vm_command",
        args,
        Want::Err("invalid_params", "between 1 and 10"),
    )
    .await;
    let mut args = exec("hostname");
    args["timeout_seconds"] = json!(10);
    check(
        &d,
        "execute_vm_command",
        args,
        Want::Fields(vec![("/exited", json!(true))]),
    )
    .await;
}
