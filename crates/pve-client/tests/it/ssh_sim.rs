//! The SSH client against the simulator's SSH servers (one per node, on 127.0.0.1): the line the
//! client sends (every argument quoted, inside the hang-up prologue) is the one the simulated
//! node's shell reads back into the same argv; host keys pinned from the fingerprints the
//! simulator announces; PVE's errors as exit status and stderr; output caps; a timeout and a
//! cancellation hang the simulated command up.

use std::time::Duration;

use pve_client::ErrorKind;
use pve_client::ssh::{
    HostKeyFingerprint, NodeAddress, RunOptions, SshClient, SshConfig, command_line, pct_exec_argv,
    session_line,
};
use pve_sim::ssh::{Ran, SshRecord, SshServer};
use russh::keys::PrivateKey;
use russh::keys::ssh_key::private::Ed25519Keypair;
use tokio_util::sync::CancellationToken;

use crate::ssh::KeyFile;
use crate::support::{Env, env};

/// The simulator (API and SSH) and a client pinned to its nodes' announced host keys.
async fn setup(name: &str) -> (Env, SshServer, SshClient, KeyFile) {
    let env = env().await;
    let key = KeyFile::ed25519(name);
    let public = PrivateKey::from(Ed25519Keypair::from_seed(&[42; 32]))
        .public_key()
        .to_openssh()
        .unwrap();
    let ssh = pve_sim::ssh::spawn(
        &env.sim,
        pve_sim::ssh::SshConfig::new("127.0.0.1:0".parse().unwrap(), [public]),
    )
    .await
    .unwrap();
    let mut cfg = SshConfig::new(&key.0);
    for n in ssh.nodes() {
        cfg = cfg
            .address(
                n.node.clone(),
                NodeAddress::with_port(n.addr.ip().to_string(), n.addr.port()),
            )
            .pin(n.node.clone(), n.fingerprint.parse().unwrap());
    }
    let client = SshClient::new(cfg, Some(env.client.clone())).unwrap();
    (env, ssh, client, key)
}

fn opts(secs: f64) -> RunOptions {
    RunOptions::with_timeout(Duration::from_secs_f64(secs))
}

/// The SSH log's record of `line` once its command has ended.
async fn ended(ssh: &SshServer, line: &str) -> SshRecord {
    for _ in 0..400 {
        if let Some(r) = ssh
            .records()
            .into_iter()
            .find(|r| r.line == line && r.ended())
        {
            return r;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("{line:?} never ended: {:#?}", ssh.records());
}

#[tokio::test]
async fn ssh_sim_client_and_simulated_nodes_agree_on_the_line() {
    let (env, ssh, client, _key) = setup("agree").await;
    let argv = [
        "echo",
        "a b",
        "; rm -rf /",
        "$(id)",
        "`id`",
        "it's",
        "\"q\"",
        "\\",
        "line1\nline2",
        "*",
        "~",
        "a=b",
        "--",
        "{a,b}",
        "héllo",
        "",
    ];
    let out = client
        .pct_exec("pve01", 200, &argv, &opts(10.0))
        .await
        .unwrap();
    assert!(out.success(), "{out:?}");
    assert_eq!(out.stdout, format!("{}\n", argv[1..].join(" ")));
    let sent = session_line(&command_line(&pct_exec_argv(200, &argv)).unwrap());
    let rec = ended(&ssh, &sent).await;
    assert!(rec.prologue, "{rec:?}");
    assert_eq!(
        rec.ran,
        Some(Ran::Container {
            vmid: 200,
            argv: argv.iter().map(|a| (*a).to_owned()).collect()
        })
    );
    // PVE's errors arrive as pct's exit status and stderr; nothing ran.
    let out = client
        .pct_exec("pve01", 205, &["hostname"], &opts(10.0))
        .await
        .unwrap();
    assert_eq!(
        (out.exit_code, out.stderr.as_str()),
        (Some(255), "container '205' not running!\n")
    );
    let out = client
        .pct_exec("pve02", 999, &["hostname"], &opts(10.0))
        .await
        .unwrap();
    assert_eq!(
        out.stderr,
        "Configuration file 'nodes/pve02/lxc/999.conf' does not exist\n"
    );
    let out = client
        .pct_exec(
            "pve02",
            202,
            &["sh", "-c", "echo out; echo err >&2; exit 3"],
            &opts(10.0),
        )
        .await
        .unwrap();
    assert_eq!(
        (out.exit_code, out.stdout.as_str(), out.stderr.as_str()),
        (Some(3), "out\n", "err\n")
    );
    let out = client
        .run("pve03", &["pveversion"], &opts(10.0))
        .await
        .unwrap();
    assert_eq!(
        out.stdout,
        "pve-manager/9.1.2/b9b5ba39e94f2e7c (running kernel: 6.14.8-2-pve)\n"
    );
    let capped = opts(10.0).with_max_output(1000);
    let out = client
        .pct_exec("pve01", 200, &["seq", "1", "100000"], &capped)
        .await
        .unwrap();
    assert_eq!(
        (out.exit_code, out.stdout.len(), out.stdout_truncated),
        (Some(0), 1000, true)
    );
    env.finish();
}

#[tokio::test]
async fn ssh_sim_timeout_and_cancellation_hang_the_command_up() {
    let (env, ssh, client, _key) = setup("hangup").await;
    let out = client
        .pct_exec("pve01", 200, &["sleep", "30"], &opts(0.5))
        .await
        .unwrap();
    assert!(out.timed_out && out.exit_code.is_none(), "{out:?}");
    let line = session_line(&command_line(&pct_exec_argv(200, &["sleep", "30"])).unwrap());
    assert_eq!(ended(&ssh, &line).await.signal.as_deref(), Some("HUP"));

    let token = CancellationToken::new();
    let cancel = token.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        cancel.cancel();
    });
    let out = client
        .pct_exec("pve02", 201, &["sleep", "31"], &opts(20.0).cancel_on(token))
        .await
        .unwrap();
    assert!(out.cancelled, "{out:?}");
    let line = session_line(&command_line(&pct_exec_argv(201, &["sleep", "31"])).unwrap());
    assert_eq!(ended(&ssh, &line).await.signal.as_deref(), Some("HUP"));
    env.finish();
}

#[tokio::test]
async fn ssh_sim_probe_and_pins_match_the_announced_fingerprints() {
    let (env, ssh, client, key) = setup("probe").await;
    let pve03 = ssh.node("pve03").unwrap();
    let probe = client.probe_host_key("pve03").await.unwrap();
    assert_eq!(probe.fingerprint.to_string(), pve03.fingerprint);
    assert_eq!(probe.public_key, pve03.public_key);
    assert!(probe.trusted, "{probe:?}");
    // Pinned to pve02's key, pve01 is refused with the fingerprint it showed; nothing runs.
    let pve01 = ssh.node("pve01").unwrap();
    let wrong: HostKeyFingerprint = ssh.node("pve02").unwrap().fingerprint.parse().unwrap();
    let cfg = SshConfig::new(&key.0)
        .address(
            "pve01",
            NodeAddress::with_port(pve01.addr.ip().to_string(), pve01.addr.port()),
        )
        .pin("pve01", wrong);
    let pinned_wrong = SshClient::new(cfg, None).unwrap();
    let e = pinned_wrong
        .pct_exec("pve01", 200, &["hostname"], &opts(10.0))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::HostKey, "{e}");
    assert!(e.message().contains(&pve01.fingerprint), "{e}");
    assert!(ssh.records().is_empty(), "{:#?}", ssh.records());
    env.finish();
}
