//! Guest exec through the agent: output, exit codes, stderr, shell form, truncation, timeout,
//! progress, cancellation, transient poll failures, agent errors; and the other agent calls.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use pve_client::ErrorKind;
use pve_client::exec::ExecRequest;
use pve_sim::{Fault, Method};
use tokio_util::sync::CancellationToken;

use crate::support::{env, env_with, realtime};

#[tokio::test]
async fn exec_returns_output_and_exit_codes() {
    let env = env().await;
    let c = &env.client;
    let cases: &[(&[&str], i64, &str, &str)] = &[
        (&["echo", "hello", "world"], 0, "hello world\n", ""),
        (&["false"], 1, "", ""),
        (&["hostname"], 0, "web-01\n", ""),
        (&["nosuchcmd", "--x"], 127, "", "command not found"),
    ];
    for (argv, code, out, err) in cases {
        let o = c
            .exec("pve01", 100, &ExecRequest::argv(argv.iter().copied()))
            .await
            .unwrap();
        assert!(o.exited && !o.timed_out, "{argv:?}: {o:?}");
        assert_eq!(o.exit_code, Some(*code), "{argv:?}: {o:?}");
        assert_eq!(o.stdout, *out, "{argv:?}");
        assert!(o.stderr.contains(err), "{argv:?}: {o:?}");
        assert_eq!(o.success(), *code == 0);
    }
    // argv is sent as repeated `command` keys, unchanged.
    let sent: Vec<Vec<String>> = env
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/agent/exec"))
        .map(|r| {
            r.params
                .iter()
                .filter(|(k, _)| k == "command")
                .map(|(_, v)| v.clone())
                .collect()
        })
        .collect();
    assert_eq!(sent[0], ["echo", "hello", "world"]);
    env.finish();
}

#[tokio::test]
async fn shell_form_is_explicit() {
    let env = env().await;
    let o = env
        .client
        .exec("pve01", 100, &ExecRequest::shell("echo a && echo b"))
        .await
        .unwrap();
    assert_eq!((o.exit_code, o.stdout.as_str()), (Some(0), "a\nb\n"));
    let exec = env
        .requests()
        .into_iter()
        .find(|r| r.path.ends_with("/agent/exec"))
        .unwrap();
    let argv: Vec<&str> = exec
        .params
        .iter()
        .filter(|(k, _)| k == "command")
        .map(|(_, v)| v.as_str())
        .collect();
    assert_eq!(argv, ["/bin/sh", "-c", "echo a && echo b"]);
    // Without `shell`, `&&` is just an argument.
    let o = env
        .client
        .exec(
            "pve01",
            100,
            &ExecRequest::argv(["echo", "a", "&&", "echo", "b"]),
        )
        .await
        .unwrap();
    assert_eq!(o.stdout, "a && echo b\n");
    env.finish();
}

#[tokio::test]
async fn output_is_capped_and_flagged() {
    let env = env().await;
    let mut req = ExecRequest::argv(["echo", "0123456789abcdef"]);
    req.max_output = 8;
    let o = env.client.exec("pve01", 100, &req).await.unwrap();
    assert_eq!(
        (o.stdout.as_str(), o.stdout_truncated, o.stderr_truncated),
        ("01234567", true, false)
    );
    env.finish();
}

#[tokio::test]
async fn exec_times_out_but_reports_the_pid() {
    let env = env_with(realtime()).await;
    let req = ExecRequest::argv(["sleep", "600"]).with_timeout(Duration::from_millis(300));
    let o = env.client.exec("pve01", 100, &req).await.unwrap();
    assert!(o.timed_out && !o.exited && o.pid > 0, "{o:?}");
    // The process is still there: its status says not exited.
    let st = env
        .client
        .agent_exec_status("pve01", 100, o.pid)
        .await
        .unwrap();
    assert!(!st.exited);
    env.finish();
}

#[tokio::test]
async fn agent_errors_carry_pve_words() {
    let env = env().await;
    let c = &env.client;
    // VM 106: agent enabled in the config but not running in the guest.
    let e = c
        .exec("pve02", 106, &ExecRequest::argv(["true"]))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Pve);
    assert!(
        e.message().contains("guest agent") || e.message().contains("guest-ping"),
        "{e}"
    );
    assert!(
        e.to_string()
            .ends_with("(POST /nodes/pve02/qemu/106/agent/exec)"),
        "{e}"
    );
    // VM 103 is stopped.
    let e = c
        .exec("pve01", 103, &ExecRequest::argv(["true"]))
        .await
        .unwrap_err();
    assert!(e.message().contains("not running"), "{e}");
    let e = c
        .exec("pve01", 100, &ExecRequest::argv(Vec::<String>::new()))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Params);
    env.finish();
}

#[tokio::test]
async fn other_agent_calls() {
    let env = env().await;
    let c = &env.client;
    let ifaces = c.agent_network_interfaces("pve01", 100).await.unwrap();
    assert!(ifaces.iter().any(|i| i.name == "lo"));
    assert!(
        ifaces
            .iter()
            .flat_map(|i| &i.ip_addresses)
            .any(|a| a.ip_address_type == "ipv4" && a.ip_address != "127.0.0.1")
    );
    let info = c.agent_info("pve01", 100).await.unwrap();
    assert!(!info.version.is_empty());
    assert!(
        info.supported_commands
            .iter()
            .any(|s| s.name == "guest-exec" && s.enabled)
    );
    let ping = c.agent_command("pve01", 100, "ping").await.unwrap();
    assert!(ping.is_object() || ping.is_null(), "{ping}");
    let host = c
        .agent_command("pve01", 100, "get-host-name")
        .await
        .unwrap();
    assert_eq!(host["host-name"], "web-01");
    env.finish();
}

#[tokio::test]
async fn exec_reports_progress_while_the_process_runs() {
    let env = env_with(realtime()).await;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let req = ExecRequest::argv(["sleep", "600"])
        .with_timeout(Duration::from_millis(700))
        .on_progress(move |p| {
            log.lock().unwrap().push((
                p.node.to_owned(),
                p.vmid,
                p.pid,
                p.polls,
                p.timeout,
                p.elapsed,
            ));
        });
    let o = env.client.exec("pve01", 100, &req).await.unwrap();
    assert!(o.timed_out && !o.cancelled && !o.exited, "{o:?}");
    let seen = seen.lock().unwrap();
    assert!(seen.len() >= 2, "{seen:?}");
    for (i, (node, vmid, pid, polls, timeout, _)) in seen.iter().enumerate() {
        assert_eq!((node.as_str(), *vmid, *pid), ("pve01", 100, o.pid));
        assert_eq!(*polls as usize, i + 1, "one report per running poll");
        assert_eq!(*timeout, Duration::from_millis(700));
    }
    assert!(
        seen.windows(2).all(|w| w[0].5 <= w[1].5),
        "elapsed grows: {seen:?}"
    );
    // Every report followed one exec-status poll that found the process running; a last poll
    // may have been cut short by the timeout.
    let polls = env.count("GET", "/agent/exec-status");
    assert!(
        polls == seen.len() || polls == seen.len() + 1,
        "{polls} polls, {} reports",
        seen.len()
    );
    env.finish();
}

#[tokio::test]
async fn exec_wait_ends_when_cancelled_and_keeps_the_pid() {
    let env = env_with(realtime()).await;
    let token = CancellationToken::new();
    // Cancel from the first progress report: the wait then stops at its next select.
    let trigger = token.clone();
    let req = ExecRequest::argv(["sleep", "600"])
        .with_timeout(Duration::from_secs(600))
        .cancel_on(token.clone())
        .on_progress(move |_| trigger.cancel());
    let o = env.client.exec("pve01", 100, &req).await.unwrap();
    assert!(
        o.cancelled && !o.timed_out && !o.exited && o.pid > 0,
        "{o:?}"
    );
    assert_eq!(
        env.count("GET", "/agent/exec-status"),
        1,
        "no poll after the cancellation"
    );
    // A token cancelled beforehand starts nothing.
    let e = env.client.exec("pve01", 100, &req).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Cancelled, "{e}");
    assert_eq!(env.count("POST", "/agent/exec"), 1);
    env.finish();
}

#[tokio::test]
async fn exec_rides_out_transient_poll_failures() {
    let env = env().await;
    // Four 595s: the client's own GET retries (1 + 2) give up on the first poll, the exec wait
    // polls again and gets one more 595 then the answer.
    env.sim
        .inject(
            Fault::status(595, "Connection timed out")
                .on(Method::Get, "/agent/exec-status$")
                .times(4),
        )
        .unwrap();
    let o = env
        .client
        .exec("pve01", 100, &ExecRequest::argv(["echo", "still here"]))
        .await
        .unwrap();
    assert_eq!((o.exit_code, o.stdout.as_str()), (Some(0), "still here\n"));
    assert_eq!(env.count("GET", "/agent/exec-status"), 5);
    // A failure that will not pass ends the wait with PVE's words.
    env.sim
        .inject(
            Fault::status(
                500,
                "VM 100 qmp command 'guest-exec-status' failed - got timeout",
            )
            .on(Method::Get, "/agent/exec-status$")
            .times(1),
        )
        .unwrap();
    let e = env
        .client
        .exec("pve01", 100, &ExecRequest::argv(["true"]))
        .await
        .unwrap_err();
    assert!(e.message().contains("guest-exec-status"), "{e}");
    env.finish();
}
