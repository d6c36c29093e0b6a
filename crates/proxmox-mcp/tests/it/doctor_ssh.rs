//! `doctor` and SSH to the nodes, against the simulator's SSH servers on 127.0.0.1: each node's
//! host-key fingerprint is printed, trusted when pinned right, refused (naming the fingerprint
//! seen and how to pin it) when pinned wrong or not pinned at all; `[cluster.ssh]` in a config
//! file means the same as the `PROXMOX_SSH_*` variables; and a server configured that way runs
//! `execute_container_command` only on a node whose key is pinned right.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use proxmox_mcp::{
    App, Caller, DoctorArgs, Level, NoProgress, Overrides, Report, Settings, diagnose,
};
use pve_sim::server::SimServer;
use pve_sim::ssh::SshServer;
use russh::keys::PrivateKey;
use russh::keys::ssh_key::LineEnding;
use russh::keys::ssh_key::private::Ed25519Keypair;
use serde_json::json;
use tokio_util::sync::CancellationToken;

use crate::support::process::{sim, sim_env};

/// A directory of its own, removed on drop.
struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Self {
        let p = std::env::temp_dir().join(format!("pmcp-doctor-ssh-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&p).unwrap();
        Self(p)
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The simulator, its nodes' SSH servers with one client key authorized, and that key's file.
async fn setup(dir: &Dir) -> (SimServer, SshServer, PathBuf) {
    let s = sim().await;
    let key = PrivateKey::from(Ed25519Keypair::from_seed(&[7; 32]));
    let path = dir.0.join("id_ed25519");
    std::fs::write(&path, key.to_openssh(LineEnding::LF).unwrap().as_bytes()).unwrap();
    let ssh = pve_sim::ssh::spawn(
        &s,
        pve_sim::ssh::SshConfig::new(
            "127.0.0.1:0".parse().unwrap(),
            [key.public_key().to_openssh().unwrap()],
        ),
    )
    .await
    .unwrap();
    (s, ssh, path)
}

fn addresses(ssh: &SshServer) -> String {
    ssh.nodes()
        .iter()
        .map(|n| format!("{}={}", n.node, n.addr))
        .collect::<Vec<_>>()
        .join(",")
}

fn fp(ssh: &SshServer, node: &str) -> String {
    ssh.node(node).unwrap().fingerprint.clone()
}

async fn run(env: &HashMap<String, String>, config: Option<PathBuf>) -> Report {
    let args = DoctorArgs {
        demo: false,
        config,
        cluster: None,
    };
    diagnose(&args, env).await
}

fn ssh_findings(report: &Report, level: Level) -> Vec<String> {
    report
        .at(level)
        .iter()
        .filter(|f| f.text.starts_with("node pve"))
        .map(|f| f.text.clone())
        .collect()
}

#[tokio::test]
async fn doctor_prints_each_fingerprint_and_refuses_wrong_or_missing_pins() {
    let dir = Dir::new("pins");
    let (s, ssh, key) = setup(&dir).await;
    let mut env: HashMap<String, String> = sim_env(&s).into_iter().collect();
    env.insert("PROXMOX_SSH_KEY_FILE".into(), key.display().to_string());
    env.insert("PROXMOX_SSH_ADDRESSES".into(), addresses(&ssh));
    // pve01 pinned right, pve02 pinned to pve01's key, pve03 not pinned.
    env.insert(
        "PROXMOX_SSH_FINGERPRINTS".into(),
        format!("pve01={},pve02={}", fp(&ssh, "pve01"), fp(&ssh, "pve01")),
    );
    let report = run(&env, None).await;
    let text = report.render();
    let ok = ssh_findings(&report, Level::Ok);
    assert_eq!(ok.len(), 1, "{text}");
    assert!(
        ok[0].contains(&fp(&ssh, "pve01")) && ok[0].contains("is trusted"),
        "{text}"
    );
    let fails = ssh_findings(&report, Level::Fail);
    assert_eq!(fails.len(), 2, "{text}");
    for (node, f) in ["pve02", "pve03"].iter().zip(&fails) {
        assert!(f.starts_with(&format!("node {node} ")), "{text}");
        assert!(
            f.contains(&fp(&ssh, node)) && f.contains("not trusted"),
            "{text}"
        );
    }
    let hint = report
        .at(Level::Fail)
        .iter()
        .find(|f| f.text.starts_with("node pve03"))
        .and_then(|f| f.hint.clone())
        .unwrap();
    assert!(
        hint.contains(&format!("pve03 = \"{}\"", fp(&ssh, "pve03"))),
        "{hint}"
    );
    assert!(
        ssh.records().is_empty(),
        "the doctor runs nothing on a node"
    );
}

#[tokio::test]
async fn a_config_file_section_pins_the_nodes_and_the_server_runs_commands() {
    let dir = Dir::new("file");
    let (s, ssh, key) = setup(&dir).await;
    let env: HashMap<String, String> = sim_env(&s).into_iter().collect();
    let pins: Vec<String> = ssh
        .nodes()
        .iter()
        .map(|n| {
            // pve02's pin is wrong: its commands are refused.
            let pin = if n.node == "pve02" {
                fp(&ssh, "pve01")
            } else {
                n.fingerprint.clone()
            };
            format!("{} = \"{pin}\"", n.node)
        })
        .collect();
    let addrs: Vec<String> = ssh
        .nodes()
        .iter()
        .map(|n| format!("{} = \"{}\"", n.node, n.addr))
        .collect();
    let config = dir.0.join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[tools]\ntoolsets = [\"default\", \"ssh\"]\n\n[cluster.ssh]\nkey_file = \"{}\"\n\
             fingerprints = {{ {} }}\naddresses = {{ {} }}\n",
            key.display(),
            pins.join(", "),
            addrs.join(", ")
        ),
    )
    .unwrap();
    let report = run(&env, Some(config.clone())).await;
    assert_eq!(
        ssh_findings(&report, Level::Ok).len(),
        2,
        "{}",
        report.render()
    );
    assert_eq!(
        ssh_findings(&report, Level::Fail).len(),
        1,
        "{}",
        report.render()
    );

    let settings = Settings::resolve(
        &Overrides {
            config: Some(config),
            ..Overrides::default()
        },
        &env,
    )
    .unwrap();
    let app = App::from_settings(&settings).await.unwrap();
    let call = async |vmid: u32| {
        let ctx = app.ctx(
            Caller::new("test"),
            Arc::new(NoProgress),
            CancellationToken::new(),
        );
        app.registry()
            .call(
                "execute_container_command",
                Some(json!({"vmid": vmid, "command": "hostname", "confirm": true})),
                ctx,
            )
            .await
    };
    let out = call(200).await.unwrap();
    assert_eq!(out["exit_code"], 0, "{out}");
    assert_eq!(out["node"], "pve01");
    // CT 202 lives on pve02, whose pin is wrong: refused before anything is sent.
    let e = call(202).await.unwrap_err().to_string();
    assert!(
        e.contains("host key is not trusted") && e.contains(&fp(&ssh, "pve02")),
        "{e}"
    );
    let ran: Vec<String> = ssh.records().iter().map(|r| r.node.clone()).collect();
    assert_eq!(ran, ["pve01"]);
}
