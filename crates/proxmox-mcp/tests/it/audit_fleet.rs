//! The audit log of a fleet: lines to stdout as well as to a file, each carrying the replica's
//! name; `audit verify --replicas` checks a collected stream (several replicas' lines
//! interleaved, prefixed by the collector) chain by chain and reports breaks per replica.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use proxmox_mcp::{AuditLog, AuditSinks, Caller, FleetReport, Overrides, Settings};
use serde_json::{Value, json};

use crate::support::process::{BIN, sim, sim_env};

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pmcp-fleet-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A replica's log in `dir` with `lines` refused calls, returned as written.
fn replica_lines(dir: &Path, replica: &str, lines: usize) -> Vec<String> {
    let path = dir.join(format!("{replica}.jsonl"));
    let sinks = AuditSinks {
        file: Some(path.clone()),
        stdout: false,
        replica: Some(replica.into()),
    };
    let log = AuditLog::open_sinks(&sinks, None).unwrap();
    for i in 0..lines {
        log.refused(
            &Caller::new("rest"),
            "default",
            "stop_vm",
            Some(&json!({"vmid": 100 + i})),
            "scope",
        );
    }
    drop(log);
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    text.lines().map(str::to_string).collect()
}

/// `a` and `b` interleaved the way `kubectl logs --prefix` shows them, plus a line of other
/// output.
fn collected(a: &[String], b: &[String]) -> Vec<String> {
    let mut out = vec!["starting the collector".to_string()];
    for i in 0..a.len().max(b.len()) {
        if let Some(l) = a.get(i) {
            out.push(format!("[pod/mcp-a/proxmox-mcp] {l}"));
        }
        if let Some(l) = b.get(i) {
            out.push(l.clone());
        }
    }
    out
}

fn check(lines: &[String]) -> FleetReport {
    let text = lines.join("\n") + "\n";
    proxmox_mcp::verify_audit_stream(text.as_bytes(), None).unwrap()
}

#[test]
fn a_collected_stream_verifies_replica_by_replica() {
    let dir = temp_dir("stream");
    let (a, b) = (
        replica_lines(&dir, "mcp-a", 3),
        replica_lines(&dir, "mcp-b", 4),
    );
    let record: Value = serde_json::from_str(&a[0]).unwrap();
    assert_eq!(record["replica"], "mcp-a");
    let report = check(&collected(&a, &b));
    assert_eq!(report.skipped, 1);
    assert_eq!(report.breaks(), 0, "{report:?}");
    let names: Vec<&str> = report.replicas.keys().map(String::as_str).collect();
    assert_eq!(names, ["mcp-a", "mcp-b"]);
    assert_eq!(report.replicas["mcp-a"].records, 3);
    assert_eq!(report.replicas["mcp-b"].last_seq, 4);

    // A collection that began after a replica's first line anchors on the first line seen.
    let report = check(&collected(&a[1..], &b));
    assert_eq!(report.breaks(), 0, "{report:?}");
    assert_eq!(report.replicas["mcp-a"].first_seq, 2);

    // A replica restarted without a file starts a new chain: a restart, not a break.
    let again = replica_lines(&dir, "mcp-a", 2);
    let mut a2 = a.clone();
    a2.extend(again);
    let report = check(&collected(&a2, &b));
    assert_eq!(report.breaks(), 0, "{report:?}");
    assert_eq!(report.replicas["mcp-a"].restarts, 1);
}

#[test]
fn breaks_are_reported_for_the_replica_they_are_in() {
    let dir = temp_dir("breaks");
    let (a, b) = (
        replica_lines(&dir, "mcp-a", 4),
        replica_lines(&dir, "mcp-b", 4),
    );
    // mcp-b: line of seq 2 altered; mcp-a: line of seq 3 removed.
    let mut b2 = b.clone();
    b2[1] = b2[1].replace("\"vmid\":101", "\"vmid\":999");
    let mut a2 = a.clone();
    a2.remove(2);
    let report = check(&collected(&a2, &b2));
    let chain_a = &report.replicas["mcp-a"];
    assert_eq!(chain_a.breaks.len(), 1, "{report:?}");
    assert!(
        chain_a.breaks[0].1.contains("1 record(s) missing"),
        "{report:?}"
    );
    let chain_b = &report.replicas["mcp-b"];
    assert_eq!(chain_b.breaks.len(), 1, "{report:?}");
    assert!(chain_b.breaks[0].1.contains("seq 2"), "{report:?}");

    // The command line: per-replica lines, a non-zero exit, reading a file or stdin.
    let path = dir.join("stream.log");
    std::fs::write(&path, collected(&a2, &b2).join("\n") + "\n").unwrap();
    let out = Command::new(BIN)
        .args(["audit", "verify", "--replicas"])
        .arg(&path)
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{text}");
    assert!(text.contains("replica mcp-a: 3 records"), "{text}");
    assert!(text.contains("replica mcp-b: 4 records"), "{text}");
    assert!(text.contains("2 break(s)"), "{text}");

    let mut child = Command::new(BIN)
        .args(["audit", "verify", "--replicas", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stream = collected(&a, &b).join("\n") + "\n";
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stream.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("replica mcp-a: 4 records (seq 1 to 4); chain intact"),
        "{text}"
    );
}

#[tokio::test]
async fn the_server_writes_each_line_to_stdout_and_to_its_file() {
    crate::support::mcp::init_tls();
    let sim = sim().await;
    let dir = temp_dir("serve");
    let file = dir.join("audit.jsonl");
    let mut cmd = Command::new(BIN);
    cmd.args([
        "serve",
        "--mcp-listen",
        "127.0.0.1:0",
        "--rest-listen",
        "127.0.0.1:0",
    ])
    .arg("--audit-log")
    .arg(&file)
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    for (k, _) in std::env::vars() {
        if k.starts_with("PROXMOX_") || k == "RUST_LOG" {
            cmd.env_remove(k);
        }
    }
    cmd.envs(sim_env(&sim))
        .env("PROXMOX_MCP_AUDIT_STDOUT", "true")
        .env("HOSTNAME", "mcp-7f9c-x2");
    let mut child = cmd.spawn().unwrap();
    let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let rest_port = loop {
        let mut line = String::new();
        assert!(std::io::BufRead::read_line(&mut stderr, &mut line).unwrap() > 0);
        if let Some(rest) = line.split("REST listening on http://127.0.0.1:").nth(1) {
            break rest
                .split(|c: char| !c.is_ascii_digit())
                .next()
                .unwrap()
                .parse::<u16>()
                .unwrap();
        }
    };
    let http = reqwest::Client::new();
    for _ in 0..2 {
        let resp = http
            .post(format!("http://127.0.0.1:{rest_port}/stop_vm"))
            .json(&json!({"vmid": 100, "dry_run": true}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
    }
    let ok = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(ok.success());
    let mut out = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    assert!(child.wait().unwrap().success());
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    for (i, line) in lines.iter().enumerate() {
        let v: Value = serde_json::from_str(line).unwrap();
        assert_eq!(v["replica"], "mcp-7f9c-x2");
        assert_eq!(v["seq"], i + 1);
        assert_eq!(v["tool"], "stop_vm");
    }
    assert_eq!(std::fs::read_to_string(&file).unwrap(), out);
    let report = proxmox_mcp::verify_audit_stream(out.as_bytes(), None).unwrap();
    assert_eq!(report.breaks(), 0);
}

#[test]
fn stdout_audit_settings_are_checked() {
    let resolve = |env: &[(&str, &str)]| {
        let env: HashMap<String, String> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let flags = Overrides {
            demo: true,
            ..Overrides::default()
        };
        Settings::resolve(&flags, &env).map(|s| s.guard)
    };
    let g = resolve(&[("PROXMOX_MCP_AUDIT_STDOUT", "1"), ("HOSTNAME", "pod-1")]).unwrap();
    assert!(g.audit_stdout);
    assert_eq!(g.audit_replica.as_deref(), Some("pod-1"));
    let g = resolve(&[
        ("PROXMOX_MCP_AUDIT_STDOUT", "1"),
        ("HOSTNAME", "pod-1"),
        ("PROXMOX_MCP_REPLICA", "east-1"),
    ])
    .unwrap();
    assert_eq!(g.audit_replica.as_deref(), Some("east-1"));
    let err = resolve(&[("PROXMOX_MCP_AUDIT_STDOUT", "1")]).unwrap_err();
    assert!(err.to_string().contains("PROXMOX_MCP_REPLICA"), "{err}");
    let err = resolve(&[("PROXMOX_MCP_REPLICA", "bad name")]).unwrap_err();
    assert!(err.to_string().contains("not a host name"), "{err}");
    let err = resolve(&[("PROXMOX_MCP_AUDIT_STDOUT", "perhaps")]).unwrap_err();
    assert!(
        err.to_string().contains("PROXMOX_MCP_AUDIT_STDOUT"),
        "{err}"
    );

    // stdio's stdout carries MCP: no audit lines there.
    let out = Command::new(BIN)
        .args(["stdio", "--demo"])
        .env("PROXMOX_MCP_AUDIT_STDOUT", "1")
        .env("HOSTNAME", "pod-1")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("[audit] stdout is for `serve`"));
}
