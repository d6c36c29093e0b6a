//! The SSH client without an SSH server: node addresses (overrides, then the simulator's
//! `/cluster/status`), key loading, refused and silent ports, bad argv refused before any
//! connection. The real-server tests are in `openssh.rs` (run by `e2e/ssh/run.sh`).

use std::path::PathBuf;
use std::time::Duration;

use pve_client::ErrorKind;
use pve_client::ssh::{NodeAddress, RunOptions, SshClient, SshConfig};
use russh::keys::PrivateKey;
use russh::keys::ssh_key::LineEnding;
use russh::keys::ssh_key::private::Ed25519Keypair;

use crate::support::env;

/// A private key file (OpenSSH format) in a temp dir, removed on drop.
pub(crate) struct KeyFile(pub(crate) PathBuf);

impl KeyFile {
    pub(crate) fn new(name: &str, text: &str) -> Self {
        let p = std::env::temp_dir().join(format!("pve-client-it-{}-{name}", std::process::id()));
        std::fs::write(&p, text).unwrap();
        Self(p)
    }
    pub(crate) fn ed25519(name: &str) -> Self {
        let key = PrivateKey::from(Ed25519Keypair::from_seed(&[42; 32]));
        Self::new(name, &key.to_openssh(LineEnding::LF).unwrap())
    }
}

impl Drop for KeyFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[tokio::test]
async fn ssh_node_addresses_come_from_overrides_then_cluster_status() {
    let env = env().await;
    let key = KeyFile::ed25519("addr");
    let mut cfg = SshConfig::new(&key.0).address("pve02", "192.0.2.7:2222".parse().unwrap());
    cfg.port = 2200;
    let ssh = SshClient::new(cfg.clone(), Some(env.client.clone())).unwrap();
    let status = env.client.cluster_status().await.unwrap();
    let ip = status
        .iter()
        .find(|e| e.kind == "node" && e.name == "pve01")
        .and_then(|e| e.ip.clone())
        .unwrap();
    assert_eq!(
        ssh.node_address("pve01").await.unwrap(),
        NodeAddress::with_port(ip, 2200),
        "the node's /cluster/status address on the configured port"
    );
    assert_eq!(
        ssh.node_address("pve02").await.unwrap(),
        NodeAddress::with_port("192.0.2.7", 2222),
        "an override wins, with its own port"
    );
    let e = ssh.node_address("pve99").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    assert!(
        e.message().contains("node pve99 is not in the cluster"),
        "{e}"
    );
    // Without the API, only overrides are known.
    let alone = SshClient::new(cfg, None).unwrap();
    let e = alone.node_address("pve01").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Config);
    assert!(e.message().contains("PROXMOX_SSH_ADDRESSES"), "{e}");
    env.finish();
}

#[test]
fn ssh_key_files_are_checked_when_the_client_is_built() {
    let missing = SshClient::new(SshConfig::new("/nonexistent/id_ed25519"), None).unwrap_err();
    assert_eq!(missing.kind(), ErrorKind::Config);
    assert!(
        missing
            .message()
            .starts_with("cannot load the SSH key /nonexistent/id_ed25519:"),
        "{missing}"
    );
    let junk = KeyFile::new("junk", "not a key\n");
    let e = SshClient::new(SshConfig::new(&junk.0), None).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Config, "{e}");
    let good = KeyFile::ed25519("good");
    let ssh = SshClient::new(SshConfig::new(&good.0), None).unwrap();
    assert!(!format!("{ssh:?}").contains("PRIVATE KEY"));
}

#[tokio::test]
async fn ssh_refused_and_silent_ports_fail_clearly() {
    let key = KeyFile::ed25519("ports");
    // A port nobody listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed_port = closed.local_addr().unwrap().port();
    drop(closed);
    // A listener that accepts and never speaks SSH.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent_port = silent.local_addr().unwrap().port();
    let hold = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((sock, _)) = silent.accept().await {
            held.push(sock);
        }
    });
    let mut cfg = SshConfig::new(&key.0)
        .address("gone", NodeAddress::with_port("127.0.0.1", closed_port))
        .address("mute", NodeAddress::with_port("127.0.0.1", silent_port));
    cfg.connect_timeout = Duration::from_millis(300);
    let ssh = SshClient::new(cfg, None).unwrap();
    let opts = RunOptions::with_timeout(Duration::from_secs(20));
    let e = ssh.run("gone", &["true"], &opts).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unreachable, "{e}");
    assert!(
        e.message().starts_with(&format!(
            "cannot reach node gone (127.0.0.1:{closed_port}) over SSH"
        )),
        "{e}"
    );
    let e = ssh.run("mute", &["true"], &opts).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Timeout, "{e}");
    assert!(
        e.message().contains("did not connect and authenticate"),
        "{e}"
    );
    let e = ssh.probe_host_key("mute").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Timeout, "{e}");
    assert!(
        e.message().contains("did not present an SSH host key"),
        "{e}"
    );
    // The call's own timeout, shorter than the connect timeout: nothing ran.
    let e = ssh
        .run(
            "mute",
            &["true"],
            &RunOptions::with_timeout(Duration::from_millis(100)),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Timeout, "{e}");
    assert!(e.message().contains("nothing ran"), "{e}");
    hold.abort();
}

#[tokio::test]
async fn ssh_bad_commands_are_refused_before_connecting() {
    let key = KeyFile::ed25519("argv");
    // An address that would only time out: every case must fail before dialling it.
    let cfg = SshConfig::new(&key.0).address("pve1", NodeAddress::with_port("127.0.0.1", 9));
    let ssh = SshClient::new(cfg, None).unwrap();
    let opts = RunOptions::default();
    let e = ssh.run::<&str>("pve1", &[], &opts).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Params, "{e}");
    let e = ssh
        .pct_exec::<&str>("pve1", 101, &[], &opts)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Params, "{e}");
    let e = ssh
        .pct_exec("pve1", 101, &["echo", "a\0b"], &opts)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Params, "{e}");
    assert!(e.message().contains("NUL"), "{e}");
}
