//! The audit log's readers: `audit verify` over a file of any bytes, and the server opening an
//! existing log to continue its chain (moving a torn last line aside, reading the last link).
//! Literal inputs are a file's bytes; generated ones are lines of a real chain (written by the
//! server itself) then changed: a line cut, doubled, dropped or edited. Properties: no panic; a
//! file that verifies still verifies after the server opens it and appends a line (the chain
//! continues across a restart); a verified file's count of lines is the count it holds.

#![no_main]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use arbitrary::Unstructured;
use libfuzzer_sys::fuzz_target;
use proxmox_mcp::{AuditLog, Caller, verify_audit_log};
use proxmox_mcp_fuzz::{Input, input};

fn dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir =
            std::env::temp_dir().join(format!("proxmox-mcp-fuzz-audit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a temporary directory");
        dir
    })
}

/// Lines of a real chain of `n` entries, written by the server's own log.
fn chain(n: usize) -> Vec<u8> {
    let path = dir().join("chain.log");
    let _ = std::fs::remove_file(&path);
    {
        let log = AuditLog::open(&path).expect("open a new log");
        for i in 0..n {
            log.refused(
                &Caller::new("fuzz"),
                "default",
                "get_vms",
                None,
                &format!("refusal {i}"),
            );
        }
    }
    std::fs::read(&path).expect("read the chain")
}

fuzz_target!(|data: &[u8]| {
    let bytes = match input(data) {
        Input::Literal(bytes) => bytes.to_vec(),
        Input::Generated(mut u) => match generated(&mut u) {
            Ok(bytes) => bytes,
            Err(_) => return,
        },
    };
    let path = dir().join("audit.log");
    // Torn tails set aside by earlier runs (`audit.log.torn-<time>`): one run's are its own.
    if let Ok(entries) = std::fs::read_dir(dir()) {
        for entry in entries.flatten() {
            if entry
                .file_name()
                .to_string_lossy()
                .starts_with("audit.log.torn")
            {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
    std::fs::write(&path, &bytes).expect("write the log");
    let before = verify_audit_log(&path);
    {
        let log = AuditLog::open(&path).expect("open an existing log");
        log.refused(
            &Caller::new("fuzz"),
            "default",
            "get_vms",
            None,
            "after a restart",
        );
    }
    let after = verify_audit_log(&path);
    if let Ok(v) = &before {
        let after = after.unwrap_or_else(|e| panic!("verified before the restart, not after: {e}"));
        assert!(after.records > v.records, "the appended line is counted");
    }
});

fn generated(u: &mut Unstructured<'_>) -> arbitrary::Result<Vec<u8>> {
    let text = chain(u.int_in_range(0..=4)?);
    let mut lines: Vec<Vec<u8>> = text
        .split_inclusive(|b| *b == b'\n')
        .map(<[u8]>::to_vec)
        .collect();
    for _ in 0..u.int_in_range(0..=3)? {
        if lines.is_empty() {
            break;
        }
        let i = u.choose_index(lines.len())?;
        match u.int_in_range(0..=4)? {
            0 => {
                let cut = u.int_in_range(0..=lines[i].len())?;
                lines[i].truncate(cut);
            }
            1 => {
                let line = lines[i].clone();
                lines.insert(i, line);
            }
            2 => {
                lines.remove(i);
            }
            3 => {
                let at = u.choose_index(lines[i].len().max(1))?;
                if let Some(b) = lines[i].get_mut(at) {
                    *b = u.arbitrary()?;
                }
            }
            _ => {
                let n = u.int_in_range(0..=16)?;
                lines[i].extend_from_slice(u.bytes(n)?);
            }
        }
    }
    Ok(lines.concat())
}
