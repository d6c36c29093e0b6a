//! API keys reloaded without a restart: the real binary picks up a changed configuration file
//! or keys file by itself (a Kubernetes Secret update changes the mounted file) and on SIGHUP; a file with
//! no key, or one that does not read, leaves the keys in place.

use std::process::Command;
use std::time::Duration;

use proxmox_mcp::{Gate, KeySpec, Scope};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::support::process::{Bin, sim, sim_env, temp_file};

const KEY_A: &str = "key-a-0123456789abcdef0123456789";
const KEY_B: &str = "key-b-0123456789abcdef0123456789";

fn keys_toml(keys: &[(&str, &str)]) -> String {
    keys.iter()
        .map(|(name, key)| {
            let digest = hex::encode(Sha256::digest(key.as_bytes()));
            format!("[[keys]]\nname = \"{name}\"\nscope = \"read\"\nsha256 = \"{digest}\"\n\n")
        })
        .collect()
}

async fn status(port: u16, key: &str) -> u16 {
    reqwest::Client::new()
        .post(format!("http://127.0.0.1:{port}/get_vms"))
        .bearer_auth(key)
        .json(&json!({}))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// Waits until `key` gets `want` (a hang guard of 60 s, not a timing check).
async fn until(port: u16, key: &str, want: u16) {
    for _ in 0..600 {
        if status(port, key).await == want {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{key} never got {want}");
}

fn hangup(bin: &Bin) {
    let ok = Command::new("kill")
        .args(["-HUP", &bin.pid().to_string()])
        .status()
        .unwrap();
    assert!(ok.success());
}

#[tokio::test]
async fn keys_follow_the_configuration_file_and_sighup() {
    crate::support::mcp::init_tls();
    let sim = sim().await;
    let config = temp_file("keys.toml", &keys_toml(&[("a", KEY_A)]));
    let path = config.path.to_str().unwrap().to_string();
    let mut bin = Bin::start(
        &[
            "serve",
            "--config",
            &path,
            "--mcp-listen",
            "127.0.0.1:0",
            "--rest-listen",
            "127.0.0.1:0",
        ],
        &sim_env(&sim),
    );
    let rest = bin.port("REST");
    assert_eq!(status(rest, KEY_A).await, 200);
    assert_eq!(status(rest, KEY_B).await, 401);

    // The file changes (as a mounted Secret does): B replaces A without a signal.
    std::fs::write(&config.path, keys_toml(&[("b", KEY_B)])).unwrap();
    until(rest, KEY_B, 200).await;
    assert_eq!(status(rest, KEY_A).await, 401);
    bin.wait_for("API keys reloaded");

    // SIGHUP reads it again at once.
    std::fs::write(&config.path, keys_toml(&[("a", KEY_A), ("b", KEY_B)])).unwrap();
    hangup(&bin);
    until(rest, KEY_A, 200).await;
    assert_eq!(status(rest, KEY_B).await, 200);

    // No key at all, or a file that does not read: the keys in place stay.
    for bad in ["", "[[keys]]\nname = \"a\"\n"] {
        std::fs::write(&config.path, bad).unwrap();
        hangup(&bin);
        bin.wait_for("API keys not reloaded");
        assert_eq!(status(rest, KEY_A).await, 200);
        assert_eq!(status(rest, KEY_B).await, 200);
    }
}

#[tokio::test]
async fn a_keys_file_of_its_own_is_read_and_followed() {
    // Digests in a file of their own (a Kubernetes Secret), the rest of the configuration in
    // another (a ConfigMap): the keys file is read at start and followed like the configuration.
    crate::support::mcp::init_tls();
    let sim = sim().await;
    let keys = temp_file("keys-secret.toml", &keys_toml(&[("a", KEY_A)]));
    let mut env = sim_env(&sim);
    env.push((
        "PROXMOX_MCP_KEYS_FILE".into(),
        keys.path.to_str().unwrap().to_string(),
    ));
    let mut bin = Bin::start(
        &[
            "serve",
            "--mcp-listen",
            "127.0.0.1:0",
            "--rest-listen",
            "127.0.0.1:0",
        ],
        &env,
    );
    let rest = bin.port("REST");
    assert_eq!(status(rest, KEY_A).await, 200);
    assert_eq!(status(rest, KEY_B).await, 401);
    std::fs::write(&keys.path, keys_toml(&[("b", KEY_B)])).unwrap();
    until(rest, KEY_B, 200).await;
    assert_eq!(status(rest, KEY_A).await, 401);
}

#[test]
fn a_gate_without_keys_cannot_be_given_some() {
    let keys = vec![KeySpec::from_plain("a", Scope::Read, KEY_A)];
    let err = Gate::default().reload_keys(keys).unwrap_err();
    assert!(err.contains("restart"), "{err}");
}
