//! Commands over SSH: `pct exec` in the containers of each node, arguments as argv, both output
//! streams and exit codes, PVE's errors with nothing run, the node commands, and the shell
//! syntax the simulated login shell refuses. Every answer is checked against the SSH log.

use pve_sim::ssh::Ran;

use crate::support::ssh::{Out, in_prologue, quoted, start_ssh};

fn argv(words: &[&str]) -> Vec<String> {
    words.iter().map(|w| (*w).to_owned()).collect()
}

#[tokio::test]
async fn pct_exec_runs_in_the_container_of_each_node() {
    let sim = start_ssh().await;
    for (node, vmid, host) in [
        ("pve01", 200, "dns-01"),
        ("pve02", 201, "nginx-proxy"),
        ("pve03", 204, "ci-runner-01"),
    ] {
        let conn = sim.login(node).await;
        let line = in_prologue(&format!("pct exec {vmid} -- hostname"));
        let out = conn.run(&line).await;
        assert_eq!(
            out,
            Out {
                status: Some(0),
                stdout: format!("{host}\n"),
                ..Out::default()
            },
            "{node}"
        );
        let rec = sim.ended(&line).await;
        assert_eq!(
            (
                rec.node.as_str(),
                rec.user.as_str(),
                rec.prologue,
                rec.exit_status
            ),
            (node, "root", true, Some(0))
        );
        assert_eq!(
            rec.ran,
            Some(Ran::Container {
                vmid,
                argv: argv(&["hostname"])
            })
        );
    }
    // Plain lines, as `ssh node pct exec …` sends them, run too.
    let conn = sim.login("pve01").await;
    let out = conn.run("pct exec 200 -- cat /etc/os-release").await;
    assert_eq!(out.status, Some(0));
    assert!(out.stdout.contains("VERSION_CODENAME=trixie\n"), "{out:?}");
    let out = conn.run("/usr/sbin/pct exec 200 -- uname -a").await;
    assert!(out.stdout.starts_with("Linux dns-01 "), "{out:?}");
}

#[tokio::test]
async fn hostile_arguments_arrive_as_argv() {
    let sim = start_ssh().await;
    let conn = sim.login("pve01").await;
    let hostile = [
        "a b",
        "; rm -rf /",
        "$(touch /tmp/pwned)",
        "`id`",
        "${HOME}",
        "it's",
        "'",
        "\"q\"",
        "\\",
        "line1\nline2",
        "*",
        "?",
        "[a-z]",
        "~",
        "a=b",
        "-n",
        "--",
        "!",
        "&&",
        "|",
        ">out",
        "<in",
        "#c",
        "{a,b}",
        "héllo ☃",
        "",
    ];
    let mut words = vec!["pct", "exec", "200", "--", "echo"];
    words.extend(hostile);
    let line = in_prologue(&quoted(&words));
    let out = conn.run(&line).await;
    assert_eq!(out.status, Some(0), "{out:?}");
    assert_eq!(out.stdout, format!("{}\n", hostile.join(" ")));
    let rec = sim.ended(&line).await;
    let mut want = vec!["echo"];
    want.extend(hostile);
    assert_eq!(
        rec.ran,
        Some(Ran::Container {
            vmid: 200,
            argv: argv(&want)
        })
    );
    assert_eq!(rec.argv.unwrap(), argv(&words));
}

#[tokio::test]
async fn output_on_both_streams_and_exit_codes() {
    let sim = start_ssh().await;
    let conn = sim.login("pve02").await;
    let cases: &[(&[&str], u32, &str, &str)] = &[
        (
            &["sh", "-c", "echo out; echo err >&2; exit 3"],
            3,
            "out\n",
            "err\n",
        ),
        (
            &["/bin/sh", "-c", "hostname && false || echo fallback"],
            0,
            "redis-01\nfallback\n",
            "",
        ),
        (&["false"], 1, "", ""),
        (&["true"], 0, "", ""),
        (
            &["cat", "/etc/hostname", "/nope"],
            1,
            "redis-01\n",
            "cat: /nope: No such file or directory\n",
        ),
        (&["nmap"], 127, "", "nmap: command not found\n"),
        (&["sh", "-c", "exit 300"], 44, "", ""),
    ];
    for (cmd, status, stdout, stderr) in cases {
        let mut words = vec!["pct", "exec", "202", "--"];
        words.extend(cmd.iter());
        let out = conn.run(&in_prologue(&quoted(&words))).await;
        assert_eq!(
            (out.status, out.stdout.as_str(), out.stderr.as_str()),
            (Some(*status), *stdout, *stderr),
            "{cmd:?}"
        );
    }
    // Large output arrives whole (flow control over the channel's window).
    let out = conn.run("pct exec 202 -- seq 1 200000").await;
    assert_eq!(out.status, Some(0));
    assert_eq!(out.stdout.lines().count(), 200_000);
    assert!(out.stdout.ends_with("\n199999\n200000\n"));
}

#[tokio::test]
async fn stopped_missing_and_foreign_containers_run_nothing() {
    let sim = start_ssh().await;
    let conn = sim.login("pve01").await;
    let cases = [
        (205, "container '205' not running!\n"),
        (
            999,
            "Configuration file 'nodes/pve01/lxc/999.conf' does not exist\n",
        ),
        // CT 201 lives on pve02; VM 100 is no container.
        (
            201,
            "Configuration file 'nodes/pve01/lxc/201.conf' does not exist\n",
        ),
        (
            100,
            "Configuration file 'nodes/pve01/lxc/100.conf' does not exist\n",
        ),
    ];
    for (vmid, err) in cases {
        let line = in_prologue(&format!("pct exec {vmid} -- hostname"));
        let out = conn.run(&line).await;
        assert_eq!(
            (out.status, out.stdout.as_str(), out.stderr.as_str()),
            (Some(255), "", err),
            "{vmid}"
        );
        let rec = sim.ended(&line).await;
        assert_eq!((rec.ran, rec.exit_status), (None, Some(255)), "{vmid}");
    }
    // The SSH servers share the API's cluster: stop CT 200 through the API, and pct sees it.
    let r = sim.api.post("/nodes/pve01/lxc/200/status/stop", &[]).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    sim.api.server.advance(60.0);
    let out = conn.run("pct exec 200 -- hostname").await;
    assert_eq!(
        (out.status, out.stderr.as_str()),
        (Some(255), "container '200' not running!\n")
    );
}

#[tokio::test]
async fn node_commands_answer_from_the_cluster() {
    let sim = start_ssh().await;
    for (i, node) in ["pve01", "pve02", "pve03"].into_iter().enumerate() {
        let conn = sim.login(node).await;
        let out = conn.run(&in_prologue("hostname")).await;
        assert_eq!(out.stdout, format!("{node}\n"));
        let out = conn.run(&in_prologue("pveversion")).await;
        assert_eq!(
            out.stdout,
            "pve-manager/9.1.2/b9b5ba39e94f2e7c (running kernel: 6.14.8-2-pve)\n"
        );
        let out = conn.run(&in_prologue("pvecm status")).await;
        assert_eq!(out.status, Some(0));
        assert!(
            out.stdout.contains("\nName:             demo-cluster\n"),
            "{}",
            out.stdout
        );
        let local = format!("0x{:08x}          1 10.10.10.{} (local)\n", i + 1, 11 + i);
        assert!(out.stdout.contains(&local), "{node}: {}", out.stdout);
    }
    let conn = sim.login("pve02").await;
    let out = conn
        .run(&in_prologue(&quoted(&[
            "journalctl",
            "-u",
            "pve-cluster",
            "-n",
            "5",
        ])))
        .await;
    assert_eq!(out.stdout.lines().count(), 5, "{}", out.stdout);
    assert!(
        out.stdout.lines().all(|l| l.contains(" pve02 pmxcfs[")),
        "{}",
        out.stdout
    );
    let out = conn.run(&in_prologue("pveversion -v")).await;
    assert!(
        out.stdout
            .starts_with("proxmox-ve: 9.1.0 (running kernel: 6.14.8-2-pve)\n")
    );
    let out = conn.run(&in_prologue("df -h")).await;
    assert!(
        out.stdout.contains(" /mnt/pve/nfs-backup\n"),
        "{}",
        out.stdout
    );
    let out = conn.run(&in_prologue("uptime")).await;
    assert!(out.stdout.contains(" load average: "), "{}", out.stdout);
    let out = conn.run(&in_prologue("zpool status")).await;
    assert_eq!(out.stdout, "no pools available\n");
    let line = in_prologue("rm -rf /");
    let out = conn.run(&line).await;
    assert_eq!(
        (out.status, out.stderr.as_str()),
        (Some(127), "bash: line 1: rm: command not found\n")
    );
    let rec = sim.ended(&line).await;
    assert_eq!(rec.ran, None);
    assert_eq!(rec.argv, Some(argv(&["rm", "-rf", "/"])));
    let rec = sim.ended(&in_prologue("uptime")).await;
    assert_eq!(
        rec.ran,
        Some(Ran::Node {
            argv: argv(&["uptime"])
        })
    );
}

#[tokio::test]
async fn shell_syntax_is_refused_and_nothing_runs() {
    let sim = start_ssh().await;
    let conn = sim.login("pve01").await;
    for line in [
        "pct exec 200 -- hostname; rm -rf /".to_owned(),
        "pct exec 200 -- echo $(id)".to_owned(),
        "pct exec 200 -- echo `id`".to_owned(),
        "pct exec 200 -- hostname | tee /tmp/x".to_owned(),
        "pct exec 200 -- hostname > /tmp/x".to_owned(),
        in_prologue("pct exec 200 -- hostname && reboot"),
        // A prologue that is not the client's is just shell syntax.
        "exec 3<&0; pct exec 200 -- hostname".to_owned(),
    ] {
        let out = conn.run(&line).await;
        assert_eq!(out.status, Some(127), "{line:?}: {out:?}");
        assert!(
            out.stderr.starts_with("bash: pve-sim: "),
            "{line:?}: {out:?}"
        );
        assert_eq!(out.stdout, "");
        let rec = sim.ended(&line).await;
        assert_eq!((rec.argv, rec.ran), (None, None), "{line:?}");
    }
    let out = conn.run("pct exec 200 -- echo 'open").await;
    assert_eq!(out.status, Some(2));
    assert_eq!(
        out.stderr,
        "bash: -c: line 1: unexpected EOF while looking for matching `''\n"
    );
}

#[tokio::test]
async fn a_channel_runs_one_command_and_no_shell() {
    let sim = start_ssh().await;
    let conn = sim.login("pve01").await;
    let channel = conn.start("pct exec 200 -- sleep 0.2").await;
    // A second exec request on the same channel is refused; the first still ends normally.
    channel.exec(true, "hostname").await.unwrap();
    let out = crate::support::ssh::collect(channel).await;
    assert!(out.refused, "{out:?}");
    assert_eq!(out.status, Some(0), "{out:?}");
    let mut channel = conn.handle.channel_open_session().await.unwrap();
    channel.request_shell(true).await.unwrap();
    loop {
        match channel.wait().await {
            Some(russh::ChannelMsg::Failure) => break,
            Some(russh::ChannelMsg::Success) | None => panic!("a shell was granted"),
            Some(_) => {}
        }
    }
    let records = sim.ssh.records();
    assert_eq!(records.len(), 1, "{records:#?}");
}
