//! The built binary: `serve --demo` starts, says where it listens and serves on one thread or
//! several; without a cluster it fails with a message saying what to set.

use crate::support::process::BIN;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn serve_demo_starts_and_prints_its_address() {
    serve_demo_answers_then_drains(Command::new(BIN), &[]);
}

/// The multi-thread runtime (`--threads 2`) serves the same way as the default one-thread one.
#[test]
fn serve_demo_runs_on_several_threads() {
    serve_demo_answers_then_drains(Command::new(BIN), &["--threads", "2"]);
}

#[test]
fn a_thread_count_of_zero_is_refused() {
    let out = Command::new(BIN)
        .args(["serve", "--demo", "--mcp-listen", "127.0.0.1:0"])
        .env("PROXMOX_MCP_THREADS", "0")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--threads") && err.contains('0'), "{err}");
}

/// Runs `serve --demo` with `extra` arguments through `binary` (the built binary, or a command
/// that runs it), reads the listen line, asks `/healthz` and `/readyz` (which reaches the demo
/// cluster over its pinned TLS) over a real socket, then sends SIGTERM right away: the process
/// must drain and exit 0 (the signal handlers are in place once the listen line is printed).
pub(crate) fn serve_demo_answers_then_drains(mut binary: Command, extra: &[&str]) {
    let mut child = binary
        .args(["serve", "--demo", "--mcp-listen", "127.0.0.1:0"])
        .args(extra)
        .env_remove("PROXMOX_HOST")
        .env_remove("PROXMOX_MCP_THREADS")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
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
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut url = None;
    while url.is_none() && Instant::now() < deadline {
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(200)) {
            if let Some(rest) = line.split("MCP listening on ").nth(1) {
                url = rest.split_whitespace().next().map(str::to_string);
            }
            seen.push(line);
        }
    }
    let url = url.unwrap_or_else(|| panic!("no listen line in {seen:#?}"));
    assert!(seen.iter().any(|l| l.contains("DEMO MODE")), "{seen:#?}");
    assert!(
        url.starts_with("http://127.0.0.1:") && url.ends_with("/proxmox/mcp"),
        "{url}"
    );
    let port: u16 = url["http://127.0.0.1:".len()..]
        .split('/')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert_ne!(port, 0);
    // It really serves there.
    let answer = http_get(port, "/healthz");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let answer = http_get(port, "/readyz");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    // SIGTERM drains and exits cleanly.
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = wait_exit(&mut child);
    assert!(status.success(), "exit after SIGTERM: {status:?}");
}

/// One `GET path` over a plain socket with `Connection: close`; the whole answer.
fn http_get(port: u16, path: &str) -> String {
    use std::io::{Read, Write};
    let mut tcp = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(
        tcp,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    tcp.read_to_string(&mut answer).unwrap();
    answer
}

/// Waits for the child to exit (killing it after 30 s so a hang fails instead of blocking).
fn wait_exit(child: &mut std::process::Child) -> std::process::ExitStatus {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("the process did not exit");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn sim_subcommand_runs_the_simulator_alone() {
    let mut child = Command::new(BIN)
        .args(["sim", "--listen", "127.0.0.1:0", "--time-scale", "0"])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let first = BufReader::new(stdout).lines().next().unwrap().unwrap();
    assert!(first.contains("listening on https://127.0.0.1:"), "{first}");
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn a_missing_cluster_is_a_clear_error() {
    let out = Command::new(BIN)
        .args(["serve", "--mcp-listen", "127.0.0.1:0"])
        .env_remove("PROXMOX_HOST")
        .env_remove("PROXMOX_MCP_CONFIG")
        .env("RUST_BACKTRACE", "0")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no Proxmox VE cluster configured") && err.contains("--demo"),
        "{err}"
    );
}

#[test]
fn an_unknown_config_key_is_named() {
    let dir = std::env::temp_dir().join(format!("pmcp-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("bad.toml");
    std::fs::write(&file, "[server]\nmcp_listne = \"127.0.0.1:0\"\n").unwrap();
    let out = Command::new(BIN)
        .args(["serve", "--demo", "--config"])
        .arg(&file)
        .env("RUST_BACKTRACE", "0")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("mcp_listne"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}
