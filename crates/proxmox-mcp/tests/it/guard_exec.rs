//! The `execute_vm_command` policy: allow and deny patterns (deny wins), the timeout bound and
//! the output cap from `[guard.exec]`; a refused command never reaches the guest agent.

use serde_json::json;

use crate::support::demo::{Want, check};
use crate::support::demo::{guarded, writes};
use proxmox_mcp::{ExecConfig, GuardConfig};

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

/// A deny-only policy: the bypasses of a naive line match, and more.
fn deny_only() -> GuardConfig {
    GuardConfig {
        exec: ExecConfig {
            deny: vec![
                "rm *".into(),
                "re:(?i)\\b(shutdown|reboot|poweroff)\\b".into(),
            ],
            ..ExecConfig::default()
        },
        ..GuardConfig::default()
    }
}

#[tokio::test]
async fn deny_patterns_match_the_normalised_program() {
    let d = guarded(deny_only()).await;
    let denied = "guard.exec.deny";
    let substitution = "substitution";
    // (arguments of execute_vm_command without vmid/confirm, what the refusal names)
    let cases: Vec<(serde_json::Value, &str)> = vec![
        // A path to the program: its basename is what runs.
        (json!({"command": "/bin/rm", "args": ["-rf", "x"]}), denied),
        (json!({"command": "/usr/bin/../bin/rm -rf x"}), denied),
        (json!({"command": "'/bin/rm' -rf x"}), denied),
        (json!({"command": "sudo /bin/rm -rf x"}), denied),
        // A shell given the payload as an argument, any spelling of `-c`.
        (json!({"command": "sh", "args": ["-c", "rm -rf x"]}), denied),
        (
            json!({"command": "/bin/sh", "args": ["-xc", "rm -rf x"]}),
            denied,
        ),
        (
            json!({"command": "bash", "args": ["-c", "sudo /bin/rm -rf x"]}),
            denied,
        ),
        (json!({"command": "sh -c \"sh -c 'rm -rf x'\""}), denied),
        (json!({"command": "sh -c 'reb''oot'"}), denied),
        (json!({"command": "eval 'r''m -rf x'"}), denied),
        // Quotes and escapes the shell removes.
        (json!({"command": "\\rm -rf x"}), denied),
        (json!({"command": "r''m -rf x"}), denied),
        (json!({"command": "\"rm\" -rf x"}), denied),
        (json!({"command": "r\\m -rf x"}), denied),
        (json!({"command": "r\"\"m -rf x"}), denied),
        (json!({"command": "rm\\\n -rf x"}), denied),
        (json!({"command": "re\\boot", "shell": true}), denied),
        // Any whitespace between words.
        (json!({"command": "rm\t-rf x"}), denied),
        (json!({"command": "rm  -rf x"}), denied),
        // Separators and compound commands.
        (json!({"command": "ls;rm -rf x"}), denied),
        (json!({"command": "ls\nrm -rf x"}), denied),
        (json!({"command": "ls&&rm -rf x"}), denied),
        (json!({"command": "(rm -rf x)"}), denied),
        (json!({"command": "if true; then rm -rf x; fi"}), denied),
        (json!({"command": "echo x | xargs rm -rf"}), denied),
        (
            json!({"command": "env", "args": ["rm", "-rf", "x"]}),
            denied,
        ),
        (
            json!({"command": "busybox", "args": ["rm", "-rf", "x"]}),
            denied,
        ),
        (json!({"command": "/sbin/reboot"}), denied),
        (json!({"command": "systemctl", "args": ["reboot"]}), denied),
        // A program the line computes: refused when a deny list is the only policy.
        (json!({"command": "$(echo rm) -rf x"}), substitution),
        (json!({"command": "`echo rm` -rf x"}), substitution),
        (json!({"command": "\"$(echo rm)\" -rf x"}), substitution),
        (json!({"command": "cat <(echo x)"}), substitution),
        (
            json!({"command": "sh", "args": ["-c", "$(printf rm) -rf x"]}),
            substitution,
        ),
        (json!({"command": "x=rm; $x -rf y"}), "variable"),
        (json!({"command": "rm${IFS}-rf x"}), "variable"),
        // Even quoted: with only a deny list, the server does not guess what a substitution runs.
        (
            json!({"command": "echo", "args": ["$(not run)"]}),
            substitution,
        ),
        (json!({"command": "${X:-rm} -rf x"}), "variable"),
        // A line a shell could not read.
        (json!({"command": "echo 'unterminated"}), "could not read"),
    ];
    for (mut args, why) in cases {
        args["vmid"] = json!(100);
        args["confirm"] = json!(true);
        d.sim().clear_requests();
        check(
            &d,
            "execute_vm_command",
            args.clone(),
            Want::Err("policy", why),
        )
        .await;
        assert_eq!(writes(&d), Vec::<String>::new(), "{args}");
    }
    // Ordinary commands still run.
    for mut args in [
        json!({"command": "hostname"}),
        json!({"command": "uptime"}),
        json!({"command": "df -h"}),
        json!({"command": "echo $HOME"}),
        json!({"command": "echo", "args": ["farm", "rmdir"]}),
        json!({"command": "ls -l /var/log | tail -n 5"}),
        json!({"command": "sh", "args": ["-c", "uptime; df -h"]}),
    ] {
        args["vmid"] = json!(100);
        args["confirm"] = json!(true);
        check(
            &d,
            "execute_vm_command",
            args,
            Want::Fields(vec![("/exited", json!(true))]),
        )
        .await;
    }
}

#[tokio::test]
async fn with_an_allow_list_substitution_is_the_allow_list_s_to_judge() {
    // An allow list is the safe mode: what it does not name does not run, and deny still wins
    // on the normalised program.
    let d = guarded(GuardConfig {
        exec: ExecConfig {
            allow: vec!["re:^.*$".into()],
            deny: vec!["rm *".into()],
            ..ExecConfig::default()
        },
        ..GuardConfig::default()
    })
    .await;
    check(
        &d,
        "execute_vm_command",
        exec("echo $(hostname)"),
        Want::Fields(vec![("/exited", json!(true))]),
    )
    .await;
    check(
        &d,
        "execute_vm_command",
        json!({"vmid": 100, "command": "/bin/rm", "args": ["x"], "confirm": true}),
        Want::Err("policy", "guard.exec.deny"),
    )
    .await;
}

/// A config file in a temporary directory holding `text`.
fn config_file(name: &str, text: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("pmcp-exec-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, text).unwrap();
    path
}

#[tokio::test]
async fn doctor_and_serve_warn_about_a_deny_list_alone() {
    use proxmox_mcp::{DoctorArgs, Level, diagnose};
    let doctor = |path: std::path::PathBuf| async move {
        let args = DoctorArgs {
            demo: true,
            config: Some(path),
            cluster: None,
        };
        diagnose(&args, &std::collections::HashMap::new()).await
    };
    let deny_only = config_file("deny-only", "[guard.exec]\ndeny = [\"rm *\"]\n");
    let report = doctor(deny_only.clone()).await;
    let warned: Vec<String> = report
        .at(Level::Warn)
        .iter()
        .filter(|f| f.text.contains("deny list"))
        .map(|f| format!("{} -> {:?}", f.text, f.hint))
        .collect();
    assert_eq!(warned.len(), 1, "{}", report.render());
    assert!(
        warned[0].contains("best-effort") && warned[0].contains("allow"),
        "{warned:?}"
    );
    // With an allow list, or without guest exec, nothing to warn about.
    for (name, text) in [
        (
            "allow",
            "[guard.exec]\nallow = [\"uptime\"]\ndeny = [\"rm *\"]\n",
        ),
        (
            "no-exec",
            "[tools]\nexclude_tools = [\"execute_vm_command\"]\n[guard.exec]\ndeny = [\"rm *\"]\n",
        ),
    ] {
        let report = doctor(config_file(name, text)).await;
        assert!(
            report
                .at(Level::Warn)
                .iter()
                .all(|f| !f.text.contains("deny list")),
            "{name}: {}",
            report.render()
        );
    }

    // `serve` logs it at start.
    let path = deny_only.to_str().unwrap().to_string();
    let mut bin = crate::support::process::Bin::start(
        &[
            "serve",
            "--demo",
            "--config",
            &path,
            "--mcp-listen",
            "127.0.0.1:0",
            "--rest-listen",
            "off",
        ],
        &[],
    );
    let line = bin.wait_for("deny list");
    assert!(line.contains("WARN") && line.contains("allow"), "{line}");
}
