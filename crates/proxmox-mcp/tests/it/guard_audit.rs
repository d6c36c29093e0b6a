//! The audit log: one hash-chained JSON line per mutating or refused call; `audit verify`
//! (library and binary) accepts an intact file and names the first altered or missing line.

use std::path::{Path, PathBuf};
use std::process::Command;

use proxmox_mcp::{
    AuditKey, AuditLog, Caller, GuardConfig, RateLimiter, Scope, Verified, VerifyError,
    VerifyOptions, verify_audit_log, verify_audit_log_with,
};
use serde_json::{Value, json};

use crate::support::demo::Demo;
use crate::support::demo::guarded;
use crate::support::process::BIN;

fn temp_log(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pmcp-audit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{name}.jsonl"));
    let _ = std::fs::remove_file(&path);
    path
}

async fn audited(path: &Path) -> Demo {
    guarded(GuardConfig {
        audit_log: Some(path.to_path_buf()),
        ..GuardConfig::default()
    })
    .await
}

fn records(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Runs `proxmox-mcp audit verify FILE`: (success, stdout + stderr).
fn verify_cli(path: &Path) -> (bool, String) {
    verify_cli_with(path, &[])
}

fn rewrite(path: &Path, f: impl FnOnce(&mut Vec<String>)) {
    let mut lines: Vec<String> = std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    f(&mut lines);
    std::fs::write(path, lines.join("\n") + "\n").unwrap();
}

#[tokio::test]
async fn mutating_and_refused_calls_are_chained_then_tampering_is_caught() {
    let path = temp_log("chain");
    let d = audited(&path).await;
    d.call("get_vms", json!({})).await.unwrap();
    d.call("start_vm", json!({"vmid": 103})).await.unwrap();
    d.call("stop_vm", json!({"vmid": 103, "dry_run": true}))
        .await
        .unwrap();
    d.call("delete_vm", json!({"vmid": 103, "force": true}))
        .await
        .unwrap_err();
    d.call("start_vm", json!({"vmid": 9999})).await.unwrap_err();
    // A refusal made at a door (key scope), through the admission the doors use.
    let door = Caller {
        transport: "rest",
        key: Some("ci-bot".into()),
        toolsets: None,
    };
    let refused = d.app.host().admit(
        &door,
        Scope::Read,
        &RateLimiter::unlimited(),
        "delete_vm",
        Some(&json!({"vmid": 100, "password": "hunter2"})),
    );
    assert!(refused.is_err());

    let recs = records(&path);
    let summary: Vec<(&str, &str)> = recs
        .iter()
        .map(|r| (r["tool"].as_str().unwrap(), r["outcome"].as_str().unwrap()))
        .collect();
    assert_eq!(
        summary,
        [
            ("start_vm", "ok"),
            ("stop_vm", "dry_run"),
            ("delete_vm", "refused"),
            ("start_vm", "error"),
            ("delete_vm", "refused"),
        ],
        "reads are not logged"
    );
    assert!(recs[0]["upid"].as_str().unwrap().starts_with("UPID:pve01:"));
    assert_eq!(recs[0]["transport"], "test");
    assert_eq!(recs[0]["args"], json!({"vmid": 103}));
    assert_eq!(recs[1]["args"]["dry_run"], json!(true));
    assert!(
        recs[2]["message"]
            .as_str()
            .unwrap()
            .contains("confirm: true")
    );
    assert!(recs[3]["message"].as_str().unwrap().contains("9999"));
    assert_eq!(recs[4]["key"], "ci-bot");
    assert_eq!(recs[4]["transport"], "rest");
    assert_eq!(recs[4]["args"]["password"], "********");
    assert!(!std::fs::read_to_string(&path).unwrap().contains("hunter2"));
    assert_eq!(recs[0]["prev"], "0".repeat(64));
    for (i, r) in recs.iter().enumerate() {
        assert_eq!(r["seq"], json!(i + 1));
        assert!(r["time"].as_str().unwrap().ends_with('Z'), "{r}");
    }

    let v = verify_audit_log(&path).unwrap();
    assert_eq!(v.records, 5);
    let (ok, text) = verify_cli(&path);
    assert!(ok, "{text}");
    assert!(text.contains("5 records, chain intact"), "{text}");
    assert!(text.contains(&v.last_hash), "{text}");

    // An edited line: the next line's `prev` no longer matches; line 2 is named.
    let original = std::fs::read_to_string(&path).unwrap();
    rewrite(&path, |l| {
        l[1] = l[1].replace("dry_run\"}", "ok\"}").replace("dry_run", "ok")
    });
    match verify_audit_log(&path) {
        Err(VerifyError::Broken { line, problem, .. }) => {
            assert_eq!(line, 2, "{problem}");
            assert!(problem.contains("altered"), "{problem}");
        }
        other => panic!("{other:?}"),
    }
    let (ok, text) = verify_cli(&path);
    assert!(!ok && text.contains("line 2"), "{text}");

    // A deleted line: the records after it say one is missing.
    std::fs::write(&path, &original).unwrap();
    rewrite(&path, |l| {
        l.remove(2);
    });
    match verify_audit_log(&path) {
        Err(VerifyError::Broken { line, problem, .. }) => {
            assert_eq!(line, 3, "{problem}");
            assert!(problem.contains("missing"), "{problem}");
        }
        other => panic!("{other:?}"),
    }
    let (ok, text) = verify_cli(&path);
    assert!(
        !ok && text.contains("line 3") && text.contains("missing"),
        "{text}"
    );

    // A line that is no longer JSON, and a first line that was removed.
    std::fs::write(&path, &original).unwrap();
    rewrite(&path, |l| l[3].push('x'));
    assert!(matches!(
        verify_audit_log(&path),
        Err(VerifyError::Broken { line: 4, .. })
    ));
    std::fs::write(&path, &original).unwrap();
    rewrite(&path, |l| {
        l.remove(0);
    });
    assert!(matches!(
        verify_audit_log(&path),
        Err(VerifyError::Broken { line: 1, .. })
    ));
    let (ok, _) = verify_cli(&temp_log("does-not-exist"));
    assert!(!ok);
}

#[tokio::test]
async fn concurrent_calls_and_restarts_keep_the_chain_valid() {
    let path = temp_log("concurrent");
    let d = audited(&path).await;
    let calls = (0..24).map(|i| {
        let d = &d;
        async move {
            let vmid = [100, 101, 103, 104][i % 4];
            match i % 3 {
                0 => d
                    .call("stop_vm", json!({"vmid": vmid, "dry_run": true}))
                    .await
                    .map(|_| ()),
                1 => d.call("reset_vm", json!({"vmid": vmid})).await.map(|_| ()),
                _ => d
                    .call("start_vm", json!({"vmid": vmid, "wait_seconds": 5}))
                    .await
                    .map(|_| ()),
            }
        }
    });
    let _ = futures_util::future::join_all(calls).await;
    assert_eq!(verify_audit_log(&path).unwrap().records, 24);
    drop(d);

    // A restarted server continues the chain of the existing file.
    let log = AuditLog::open(&path).unwrap();
    log.refused(&Caller::new("stdio"), "default", "stop_vm", None, "test");
    drop(log);
    let d = audited(&path).await;
    d.call("stop_vm", json!({"vmid": 100, "dry_run": true}))
        .await
        .unwrap();
    let v = verify_audit_log(&path).unwrap();
    assert_eq!(v.records, 26);
    assert_eq!(records(&path)[25]["seq"], 26);
}

#[tokio::test]
async fn a_torn_last_line_is_moved_aside_and_marked() {
    let path = temp_log("torn");
    let d = audited(&path).await;
    d.call("start_vm", json!({"vmid": 103})).await.unwrap();
    d.call("stop_vm", json!({"vmid": 103, "dry_run": true}))
        .await
        .unwrap();
    drop(d);
    // A crash in the middle of a write leaves half a line, without its newline.
    let whole = std::fs::read_to_string(&path).unwrap();
    let torn = r#"{"seq":3,"time":"2026-11-29T17:03:15.042Z","key":null,"transport":"te"#;
    std::fs::write(&path, format!("{whole}{torn}")).unwrap();
    assert!(verify_audit_log(&path).is_err());

    // The next start moves the torn bytes aside, says so in a marker line, and carries on.
    let d = audited(&path).await;
    d.call("stop_vm", json!({"vmid": 100, "dry_run": true}))
        .await
        .unwrap();
    let recs = records(&path);
    assert_eq!(recs.len(), 4, "{recs:?}");
    let marker = &recs[2];
    assert_eq!(marker["outcome"], "marker", "{marker}");
    assert_eq!(marker["seq"], 3);
    let message = marker["message"].as_str().unwrap();
    assert!(message.contains("torn"), "{message}");
    let moved = marker["args"]["moved_to"].as_str().unwrap();
    assert_eq!(std::fs::read_to_string(moved).unwrap(), torn);
    assert_eq!(marker["args"]["torn_bytes"], json!(torn.len()));
    assert_eq!(recs[3]["tool"], "stop_vm");
    assert_eq!(verify_audit_log(&path).unwrap().records, 4);
    assert!(std::fs::read_to_string(&path).unwrap().starts_with(&whole));
}

/// Writes a key file and returns its path.
fn key_file(name: &str, key: &str) -> PathBuf {
    let path = temp_log(&format!("{name}-key")).with_extension("key");
    std::fs::write(&path, format!("{key}\n")).unwrap();
    path
}

/// Runs `proxmox-mcp audit verify FILE ARGS...`: (success, stdout + stderr).
fn verify_cli_with(path: &Path, args: &[&str]) -> (bool, String) {
    let out = Command::new(BIN)
        .args(["audit", "verify"])
        .arg(path)
        .args(args)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// Asserts that a verification failed at `line`, saying `what`.
fn broken_at(r: Result<Verified, VerifyError>, line: u64, what: &str) {
    match r {
        Err(VerifyError::Broken {
            line: l, problem, ..
        }) => {
            assert_eq!(l, line, "{problem}");
            assert!(problem.contains(what), "{problem}");
        }
        other => panic!("{other:?}"),
    }
}

/// `line` re-chained after `prev_line`: `prev` set to its SHA-256 (what anyone can compute).
fn rechain(line: &str, prev_line: &str) -> String {
    let mut r: Value = serde_json::from_str(line).unwrap();
    r["prev"] = json!(sha256_hex(prev_line.as_bytes()));
    serde_json::to_string(&r).unwrap()
}

#[tokio::test]
async fn a_keyed_chain_cannot_be_extended_or_rewritten_without_the_key() {
    let path = temp_log("keyed");
    let key = key_file(
        "keyed",
        "c2VjcmV0LWtleS1vZi10aGUtYXVkaXQtbG9nLTAxMjM0NTY3ODk=",
    );
    let d = guarded(GuardConfig {
        audit_log: Some(path.clone()),
        audit_key_file: Some(key.clone()),
        ..GuardConfig::default()
    })
    .await;
    d.call("start_vm", json!({"vmid": 103})).await.unwrap();
    d.call("stop_vm", json!({"vmid": 103, "dry_run": true}))
        .await
        .unwrap();
    d.call("delete_vm", json!({"vmid": 103})).await.unwrap_err();
    let recs = records(&path);
    assert_eq!(recs.len(), 3);
    assert!(
        recs.iter()
            .all(|r| r["mac"].as_str().is_some_and(|m| m.len() == 64))
    );
    let opts = |key: Option<&Path>| VerifyOptions {
        key: key.map(|k| AuditKey::load(k).unwrap()),
        head: None,
    };
    let v = verify_audit_log_with(&path, &opts(Some(&key))).unwrap();
    assert_eq!((v.records, v.authenticated), (3, 3));
    let (ok, text) = verify_cli_with(&path, &["--key-file", key.to_str().unwrap()]);
    assert!(ok, "{text}");
    assert!(text.contains("3 line(s) checked with the key"), "{text}");
    assert!(text.contains(&format!("head: 3:{}", v.last_hash)), "{text}");
    let original = std::fs::read_to_string(&path).unwrap();

    // A forged line with a correctly computed prev: the chain alone accepts it (anyone can
    // compute SHA-256); the key does not.
    rewrite(&path, |l| {
        let mut forged: Value = serde_json::from_str(&l[2]).unwrap();
        forged["seq"] = json!(4);
        forged["tool"] = json!("start_vm");
        forged["outcome"] = json!("ok");
        forged.as_object_mut().unwrap().remove("mac");
        let forged = rechain(&serde_json::to_string(&forged).unwrap(), &l[2]);
        l.push(forged);
    });
    assert_eq!(
        verify_audit_log(&path).unwrap().records,
        4,
        "the bare chain holds"
    );
    broken_at(
        verify_audit_log_with(&path, &opts(Some(&key))),
        4,
        "no HMAC",
    );
    let (ok, text) = verify_cli_with(&path, &["--key-file", key.to_str().unwrap()]);
    assert!(!ok && text.contains("line 4"), "{text}");

    // An edit, then the rest of the chain recomputed: the edited line's HMAC gives it away.
    std::fs::write(&path, &original).unwrap();
    rewrite(&path, |l| {
        l[1] = l[1].replace("\"dry_run\"", "\"ok\"");
        l[2] = rechain(&l[2], &l[1]);
    });
    assert_eq!(
        verify_audit_log(&path).unwrap().records,
        3,
        "the bare chain holds"
    );
    broken_at(verify_audit_log_with(&path, &opts(Some(&key))), 2, "HMAC");

    // The whole file rewritten without any HMAC, and the wrong key: both refused.
    std::fs::write(&path, &original).unwrap();
    rewrite(&path, |l| {
        let mut prev = String::new();
        for (i, line) in l.iter_mut().enumerate() {
            let mut r: Value = serde_json::from_str(line).unwrap();
            r.as_object_mut().unwrap().remove("mac");
            if i > 0 {
                r["prev"] = json!(sha256_hex(prev.as_bytes()));
            }
            *line = serde_json::to_string(&r).unwrap();
            prev = line.clone();
        }
    });
    assert!(verify_audit_log(&path).is_ok());
    assert!(verify_audit_log_with(&path, &opts(Some(&key))).is_err());
    std::fs::write(&path, &original).unwrap();
    let wrong = key_file("wrong", "another-key-of-enough-length-0123456789abcdef");
    assert!(matches!(
        verify_audit_log_with(&path, &opts(Some(&wrong))),
        Err(VerifyError::Broken { line: 1, .. })
    ));
    let short = key_file("short", "too-short");
    let (ok, text) = verify_cli_with(&path, &["--key-file", short.to_str().unwrap()]);
    assert!(!ok && text.contains("at least 32"), "{text}");

    // The server refuses to start with a short key, or a key and no log.
    drop(d);
    let e = proxmox_mcp::Guard::new(&GuardConfig {
        audit_log: Some(path.clone()),
        audit_key_file: Some(short),
        ..GuardConfig::default()
    })
    .unwrap_err();
    assert!(e.to_string().contains("at least 32"), "{e}");
    let text = format!("[audit]\nkey_file = \"{}\"\n", key.display());
    let cfg = proxmox_mcp::FileConfig::parse(&text, Path::new("c.toml")).unwrap();
    assert_eq!(cfg.audit.key_file.as_deref(), Some(key.as_path()));
    let e = GuardConfig {
        audit_key_file: cfg.audit.key_file,
        ..GuardConfig::default()
    }
    .resolved(None, &Default::default())
    .unwrap_err();
    assert!(e.to_string().contains("no audit log"), "{e}");
}

#[tokio::test]
async fn a_key_set_on_an_old_log_starts_with_a_marker_the_chain_pins() {
    let path = temp_log("rekeyed");
    let d = audited(&path).await;
    d.call("start_vm", json!({"vmid": 103})).await.unwrap();
    drop(d);
    let key = key_file("rekeyed", "0123456789abcdef0123456789abcdef0123");
    let d = guarded(GuardConfig {
        audit_log: Some(path.clone()),
        audit_key_file: Some(key.clone()),
        ..GuardConfig::default()
    })
    .await;
    d.call("stop_vm", json!({"vmid": 103, "dry_run": true}))
        .await
        .unwrap();
    let recs = records(&path);
    assert_eq!(recs[1]["outcome"], "marker", "{recs:?}");
    assert!(recs[0].get("mac").is_none() && recs[1]["mac"].is_string());
    let (ok, text) = verify_cli_with(&path, &["--key-file", key.to_str().unwrap()]);
    assert!(ok, "{text}");
    assert!(
        text.contains("the first 1 were written before the key"),
        "{text}"
    );
    // The unkeyed first line is pinned by the keyed line after it.
    rewrite(&path, |l| l[0] = l[0].replace("start_vm", "stop_vm"));
    let (ok, text) = verify_cli_with(&path, &["--key-file", key.to_str().unwrap()]);
    assert!(!ok && text.contains("line 1"), "{text}");
}

#[tokio::test]
async fn a_stored_head_shows_removed_and_rewritten_lines() {
    let path = temp_log("head");
    let d = audited(&path).await;
    for vmid in [100, 101, 103] {
        d.call("stop_vm", json!({"vmid": vmid, "dry_run": true}))
            .await
            .unwrap();
    }
    let (ok, text) = verify_cli(&path);
    assert!(ok, "{text}");
    let head = text
        .lines()
        .find_map(|l| l.strip_prefix("head: "))
        .and_then(|l| l.split(' ').next())
        .unwrap()
        .to_string();
    assert!(head.starts_with("3:"), "{text}");
    assert!(text.contains("HMACs: none"), "{text}");
    let (ok, text) = verify_cli_with(&path, &["--head", &head]);
    assert!(ok && text.contains("found unchanged"), "{text}");
    // More lines later: the stored head still holds.
    d.call("stop_vm", json!({"vmid": 104, "dry_run": true}))
        .await
        .unwrap();
    let (ok, text) = verify_cli_with(&path, &["--head", &head]);
    assert!(ok, "{text}");
    let original = std::fs::read_to_string(&path).unwrap();
    // The last two lines removed: the file alone verifies, the head does not.
    rewrite(&path, |l| l.truncate(2));
    assert!(verify_cli(&path).0);
    let (ok, text) = verify_cli_with(&path, &["--head", &head]);
    assert!(!ok && text.contains("lines removed"), "{text}");
    // The log rewritten (a line changed, the chain recomputed after it): line 3 is not the head.
    std::fs::write(&path, &original).unwrap();
    rewrite(&path, |l| {
        // Only the VMID: `101` may also occur in the line's time or hashes.
        l[1] = l[1].replace("\"vmid\":101", "\"vmid\":109");
        assert!(l[1].contains("\"vmid\":109"), "{}", l[1]);
        l[2] = rechain(&l[2], &l[1]);
        l[3] = rechain(&l[3], &l[2]);
    });
    assert!(verify_cli(&path).0);
    let (ok, text) = verify_cli_with(&path, &["--head", &head]);
    assert!(
        !ok && text.contains("line 3") && text.contains("stored head"),
        "{text}"
    );
    let (ok, text) = verify_cli_with(&path, &["--head", "nonsense"]);
    assert!(!ok && text.contains("SEQ:HASH"), "{text}");
}

/// Lowercase hex SHA-256 of `bytes`, as the audit chain links lines.
fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(<sha2::Sha256 as sha2::Digest>::digest(bytes))
}
