//! The binary's safety rails: it refuses to expose a door without a key, stops on unknown filter
//! names, makes keys with `keys new`, and never writes a key to its logs.

use crate::support::process::BIN;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Runs the binary with `args` and a clean `PROXMOX_MCP_*` environment plus `env`, until it exits
/// or prints a line containing `until`; returns (exit code if it exited, stderr lines).
fn run_bin(args: &[&str], env: &[(&str, &str)], until: &str) -> (Option<i32>, Vec<String>) {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (k, _) in std::env::vars() {
        if k.starts_with("PROXMOX_") {
            cmd.env_remove(k);
        }
    }
    cmd.envs(env.iter().copied());
    let mut guard = KillOnDrop(cmd.spawn().unwrap());
    let child = &mut guard.0;
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut seen = Vec::new();
    let mut closed = false;
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        match rx.recv_timeout(Duration::from_millis(200)) {
            Ok(line) => {
                let done = line.contains(until);
                seen.push(line);
                if done {
                    break;
                }
            }
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                closed = true;
                break;
            }
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
        }
    }
    // Its stderr closed: it is exiting.
    let status = if closed {
        Some(child.wait().unwrap())
    } else {
        child.try_wait().unwrap()
    };
    let code = match status {
        Some(status) => status.code(),
        None => {
            let _ = child.kill();
            let _ = child.wait();
            None
        }
    };
    (code, seen)
}

#[test]
fn the_binary_refuses_to_expose_a_door_without_a_key() {
    // No key, a non-loopback address on either door: refused before anything starts.
    for args in [
        [
            "serve",
            "--demo",
            "--mcp-listen",
            "0.0.0.0:0",
            "--rest-listen",
            "off",
        ],
        [
            "serve",
            "--demo",
            "--mcp-listen",
            "127.0.0.1:0",
            "--rest-listen",
            "0.0.0.0:0",
        ],
    ] {
        let (code, seen) = run_bin(&args, &[], "MCP listening");
        assert!(
            code.is_some_and(|c| c != 0),
            "{args:?} must exit with an error: {seen:#?}"
        );
        let text = seen.join("\n");
        assert!(
            text.contains("refusing to listen on 0.0.0.0:0") && text.contains("keys new"),
            "{text}"
        );
    }
    // Allowed explicitly: it starts, with a warning.
    let (code, seen) = run_bin(
        &[
            "serve",
            "--demo",
            "--mcp-listen",
            "0.0.0.0:0",
            "--rest-listen",
            "off",
            "--allow-unauthenticated",
        ],
        &[],
        "MCP listening",
    );
    let text = seen.join("\n");
    assert_eq!(code, None, "{text}");
    assert!(
        text.contains("WITHOUT AUTHENTICATION") && text.contains("MCP listening"),
        "{text}"
    );
    // With a key: it starts.
    let (code, seen) = run_bin(
        &[
            "serve",
            "--demo",
            "--mcp-listen",
            "127.0.0.1:0",
            "--rest-listen",
            "0.0.0.0:0",
        ],
        &[("PROXMOX_MCP_API_KEY", "k-0123456789abcdef")],
        "REST listening",
    );
    let text = seen.join("\n");
    assert_eq!(code, None, "{text}");
    assert!(
        text.contains("REST listening") && !text.contains("WITHOUT AUTHENTICATION"),
        "{text}"
    );
}

#[test]
fn short_api_keys_are_refused_and_keys_under_32_characters_warned() {
    let serve = [
        "serve",
        "--demo",
        "--mcp-listen",
        "127.0.0.1:0",
        "--rest-listen",
        "off",
    ];
    // 15 characters: refused before anything starts, with a way out; the key is not shown.
    let (code, seen) = run_bin(
        &serve,
        &[("PROXMOX_MCP_API_KEY", "zz-short-secret")],
        "MCP listening",
    );
    let text = seen.join("\n");
    assert!(code.is_some_and(|c| c != 0), "{text}");
    assert!(
        text.contains("PROXMOX_MCP_API_KEY")
            && text.contains("16")
            && text.contains("keys new")
            && !text.contains("zz-short-secret"),
        "{text}"
    );
    // 16 to 31 characters: it starts, with a warning.
    let (code, seen) = run_bin(
        &serve,
        &[("PROXMOX_MCP_API_KEY", "k-0123456789abcdef")],
        "MCP listening",
    );
    let text = seen.join("\n");
    assert_eq!(code, None, "{text}");
    assert!(
        text.contains("shorter than 32") && text.contains("keys new"),
        "{text}"
    );
    // 32 and more: no warning.
    let (code, seen) = run_bin(
        &serve,
        &[("PROXMOX_MCP_API_KEY", "k-0123456789abcdef0123456789abcdef")],
        "MCP listening",
    );
    let text = seen.join("\n");
    assert_eq!(code, None, "{text}");
    assert!(!text.contains("shorter than 32"), "{text}");
}

#[test]
fn unknown_filter_names_stop_the_start() {
    let (code, seen) = run_bin(
        &[
            "serve",
            "--demo",
            "--mcp-listen",
            "127.0.0.1:0",
            "--tools",
            "get_vm,get_vms",
        ],
        &[],
        "MCP listening",
    );
    let text = seen.join("\n");
    assert!(
        code.is_some_and(|c| c != 0) && text.contains("`get_vm`") && !text.contains("`get_vms`"),
        "{text}"
    );
    let (code, seen) = run_bin(
        &["stdio", "--demo"],
        &[("PROXMOX_MCP_TOOLSETS", "core,snapshotz")],
        "never",
    );
    let text = seen.join("\n");
    assert!(
        code.is_some_and(|c| c != 0) && text.contains("`snapshotz`"),
        "{text}"
    );
}

#[test]
fn keys_new_prints_a_key_once_and_its_config_entry() {
    let out = Command::new(BIN)
        .args(["keys", "new", "--name", "n8n", "--scope", "operate"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let key = text
        .split_whitespace()
        .find(|w| w.starts_with("pmcp_"))
        .unwrap();
    assert_eq!(key.len(), 5 + 64);
    let sha = <sha2::Sha256 as sha2::Digest>::digest(key.as_bytes());
    assert!(
        text.contains(&format!("sha256 = \"{}\"", hex::encode(sha))),
        "{text}"
    );
    assert!(
        text.contains("[[keys]]\nname = \"n8n\"\nscope = \"operate\""),
        "{text}"
    );
    let bad = Command::new(BIN)
        .args(["keys", "new", "--name", "n8n", "--scope", "root"])
        .output()
        .unwrap();
    assert!(!bad.status.success());
}

#[tokio::test]
async fn keys_never_reach_the_logs() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let key = "pmcp_never-logged-0123456789abcdef";
    let wrong = "pmcp_wrong-never-logged-0123456789";
    let mut cmd = Command::new(BIN);
    cmd.args([
        "serve",
        "--demo",
        "--mcp-listen",
        "127.0.0.1:0",
        "--rest-listen",
        "127.0.0.1:0",
    ])
    .env("RUST_LOG", "debug")
    .env("PROXMOX_MCP_API_KEY", key)
    .stdout(Stdio::null())
    .stderr(Stdio::piped());
    for (k, _) in std::env::vars() {
        if k.starts_with("PROXMOX_") && k != "PROXMOX_MCP_API_KEY" {
            cmd.env_remove(k);
        }
    }
    let mut child = KillOnDrop(cmd.spawn().unwrap());
    let stderr = child.0.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut rest = None;
    while rest.is_none() && Instant::now() < deadline {
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(200)) {
            rest = line
                .split("REST listening on ")
                .nth(1)
                .and_then(|r| r.split_whitespace().next())
                .map(str::to_string);
            seen.push(line);
        }
    }
    let rest = rest.unwrap_or_else(|| panic!("no REST line: {seen:#?}"));
    let http = reqwest::Client::new();
    for (k, want) in [(key, 200), (wrong, 401)] {
        let resp = http
            .post(format!("{rest}/get_nodes"))
            .bearer_auth(k)
            .header("content-type", "application/json")
            .body("{}")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), want);
        let body = resp.text().await.unwrap();
        assert!(!body.contains(k), "{body}");
    }
    let resp = http
        .post(format!("{rest}/delete_vm"))
        .bearer_auth(wrong)
        .header("content-type", "application/json")
        .body("{\"vmid\": 100}")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    drop(child);
    while let Ok(line) = rx.recv_timeout(Duration::from_millis(500)) {
        seen.push(line);
    }
    let text = seen.join("\n");
    assert!(
        text.contains("refused an unauthenticated request"),
        "the refusal is logged: {text}"
    );
    assert!(
        !text.contains("never-logged"),
        "a key reached the logs: {text}"
    );
}

/// A child process killed when the test ends, even by a panic.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
