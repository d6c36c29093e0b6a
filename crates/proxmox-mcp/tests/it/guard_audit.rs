//! The audit log: one hash-chained JSON line per mutating or refused call; `audit verify`
//! (library and binary) accepts an intact file and names the first altered or missing line.

use std::path::{Path, PathBuf};
use std::process::Command;

use proxmox_mcp::audit::{self, AuditLog, VerifyError};
use proxmox_mcp::guard::GuardConfig;
use proxmox_mcp::registry::Caller;
use serde_json::{Value, json};

use crate::common::Demo;
use crate::guard_confirm::guarded;

const BIN: &str = env!("CARGO_BIN_EXE_proxmox-mcp");

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
    let out = Command::new(BIN)
        .args(["audit", "verify"])
        .arg(path)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
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
    // A refusal made at a door (key scope), through the API the doors use.
    let door = Caller {
        transport: "rest",
        key: Some("ci-bot".into()),
    };
    d.app.registry().guard().refused(
        &door,
        "delete_vm",
        Some(&json!({"vmid": 100, "password": "hunter2"})),
        "the key `ci-bot` has scope read",
    );

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
    assert_eq!(recs[0]["prev"], audit::GENESIS);
    for (i, r) in recs.iter().enumerate() {
        assert_eq!(r["seq"], json!(i + 1));
        assert!(r["time"].as_str().unwrap().ends_with('Z'), "{r}");
    }

    let v = audit::verify(&path).unwrap();
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
    match audit::verify(&path) {
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
    match audit::verify(&path) {
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
        audit::verify(&path),
        Err(VerifyError::Broken { line: 4, .. })
    ));
    std::fs::write(&path, &original).unwrap();
    rewrite(&path, |l| {
        l.remove(0);
    });
    assert!(matches!(
        audit::verify(&path),
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
    assert_eq!(audit::verify(&path).unwrap().records, 24);
    drop(d);

    // A restarted server continues the chain of the existing file.
    let log = AuditLog::open(&path).unwrap();
    log.refused(&Caller::new("stdio"), "stop_vm", None, "test");
    drop(log);
    let d = audited(&path).await;
    d.call("stop_vm", json!({"vmid": 100, "dry_run": true}))
        .await
        .unwrap();
    let v = audit::verify(&path).unwrap();
    assert_eq!(v.records, 26);
    assert_eq!(records(&path)[25]["seq"], 26);
}
