//! The audit log: one JSON line per mutating call and per refused call (time, key name,
//! transport, tool, arguments with secrets masked, outcome, UPID), each line carrying the
//! SHA-256 of the line before it (`prev`) and a sequence number (`seq`), so that
//! `proxmox-mcp audit verify FILE` finds the first altered or missing line. With a key
//! (`[audit] key_file`, `key.rs`) each line also carries its HMAC, so that only the key holder
//! can write lines that verify.
//!
//! For a fleet of replicas (`sinks.rs`): the lines can also (or only) go to stdout, where a
//! cluster's log collector picks them up, each carrying the replica's name (`replica`); each
//! replica keeps its own chain, and `audit verify --replicas` checks a collected stream of
//! several replicas' lines, interleaved, chain by chain (`fleet.rs`).
//!
//! One writer per file: appends from concurrent calls of this process are serialized (each
//! line is written whole, in one `write`); two processes must not share a file. At open, a
//! torn last line (a crash mid-write) is moved aside and a `marker` line says so (`tail.rs`).
//! Deleting the last lines of a file cannot be seen from the file alone: keep the head that
//! `audit verify` prints somewhere else and check it later with `--head` (`verify.rs`).

mod fleet;
mod key;
mod sinks;
mod tail;
mod verify;

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::caller::Caller;
pub use fleet::{FleetReport, ReplicaChain, verify_stream};
pub use key::AuditKey;
pub use sinks::AuditSinks;
pub(crate) use sinks::check_replica;
pub(crate) use verify::AuditCommand;
pub use verify::{Verified, VerifyError, VerifyOptions, run_cli, verify, verify_with};

/// `prev` of the first line.
pub(crate) const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// How a call ended, as the audit log says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Outcome {
    /// The call ran and succeeded.
    Ok,
    /// The call ran and failed (bad parameters, PVE error, timeout).
    Error,
    /// Policy refused it (confirmation missing, protected guest, exec policy, key scope).
    Refused,
    /// A dry run: nothing was changed.
    DryRun,
    /// A line the server wrote about the log itself (a torn tail moved aside, a key set).
    Marker,
}

/// Who confirmed a destructive call that ran, when it was not its `confirm` argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Confirmation {
    /// The human behind the client, asked through the client (MCP elicitation).
    User,
}

/// `[audit]` of the configuration file.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AuditSection {
    /// File holding the audit key (at least 32 bytes): every line then carries its HMAC, and
    /// only the key holder can extend the chain (`audit verify --key-file`).
    pub key_file: Option<PathBuf>,
    /// Also write every line to stdout (`PROXMOX_MCP_AUDIT_STDOUT`), for a log collector.
    pub stdout: Option<bool>,
    /// The replica's name in every line (`PROXMOX_MCP_REPLICA`; default with `stdout`: the
    /// `HOSTNAME` variable, a pod's name in Kubernetes).
    pub replica: Option<String>,
}

/// One record, as written (field order is the line's order).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Record {
    /// The replica that wrote the line (with `[audit] stdout` or `replica`): its own chain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) replica: Option<String>,
    pub(crate) seq: u64,
    /// UTC, RFC 3339 with milliseconds.
    pub(crate) time: String,
    /// Name of the API key used, when the door authenticates.
    pub(crate) key: Option<String>,
    /// `streamable-http`, `sse`, `stdio`, `rest`...
    pub(crate) transport: String,
    /// The configured name of the cluster the call acted on (or would have).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) cluster: Option<String>,
    pub(crate) tool: String,
    /// The arguments, secrets masked.
    pub(crate) args: Value,
    pub(crate) outcome: Outcome,
    /// The error or refusal message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) message: Option<String>,
    /// The PVE task the call started, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) upid: Option<String>,
    /// What the call did, for tools that declare it (a command's line, exit code and
    /// durations; never its output).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) result: Option<Value>,
    /// `user`: the human confirmed this destructive call when the client asked them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) confirmed_by: Option<Confirmation>,
    /// SHA-256 (hex) of the previous line, without its newline; [`GENESIS`] for the first.
    pub(crate) prev: String,
    /// With a key: HMAC-SHA-256 (hex) of this line as it reads without this field (always last).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) mac: Option<String>,
}

/// What to log about one call.
#[derive(Debug, Clone)]
pub(crate) struct Entry<'a> {
    pub(crate) caller: &'a Caller,
    /// The cluster the call acted on.
    pub(crate) cluster: Option<&'a str>,
    pub(crate) tool: &'a str,
    /// The arguments as received; secrets are masked here.
    pub(crate) args: Option<&'a Value>,
    pub(crate) outcome: Outcome,
    pub(crate) message: Option<String>,
    pub(crate) upid: Option<String>,
    /// What the call did (see [`Record::result`]).
    pub(crate) result: Option<Value>,
    /// Who confirmed the call, when not its `confirm` argument.
    pub(crate) confirmation: Option<Confirmation>,
}

struct Tail {
    /// The file, when the log has one.
    file: Option<File>,
    prev: String,
    seq: u64,
}

/// An append-only, hash-chained audit log: a file, stdout, or both.
pub struct AuditLog {
    path: Option<PathBuf>,
    stdout: bool,
    replica: Option<String>,
    key: Option<AuditKey>,
    tail: Mutex<Tail>,
}

impl std::fmt::Debug for AuditLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditLog")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl AuditLog {
    /// Opens (or creates) `path` for appending; an existing file's chain is continued from its
    /// last line.
    pub fn open(path: &Path) -> std::io::Result<Self> {
        Self::open_keyed(path, None)
    }

    /// The same, each line signed with `key` when given. A torn last line is moved aside first,
    /// and a `marker` line records it (and a warning is logged); a key set on a log written
    /// without one gets a marker line too, the first line it signs.
    pub(crate) fn open_keyed(path: &Path, key: Option<AuditKey>) -> std::io::Result<Self> {
        Self::open_sinks(&AuditSinks::file(path), key)
    }

    /// A log writing to `sinks` (see [`AuditSinks`]), each line signed with `key` when given.
    /// With a file, its chain is continued (and a torn tail moved aside, as `open_keyed`
    /// says); with stdout only, a chain starts at this process's start.
    pub fn open_sinks(sinks: &AuditSinks, key: Option<AuditKey>) -> std::io::Result<Self> {
        let (file, torn, end) = match &sinks.file {
            Some(path) => {
                let torn = tail::move_torn_tail(path)?;
                let end = match File::open(path) {
                    Ok(f) => tail::last_link(f)?,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => tail::End::default(),
                    Err(e) => return Err(e),
                };
                let file = OpenOptions::new().create(true).append(true).open(path)?;
                (Some(file), torn, end)
            }
            None => (None, None, tail::End::default()),
        };
        let path = sinks.file.as_deref().unwrap_or(Path::new("-"));
        let log = Self {
            path: sinks.file.clone(),
            stdout: sinks.stdout,
            replica: sinks.replica.clone(),
            key,
            tail: Mutex::new(Tail {
                file,
                prev: end.hash.clone(),
                seq: end.seq,
            }),
        };
        let marker = Caller::new("audit");
        if let Some(t) = torn {
            let message = format!(
                "the last line was torn (a crash in the middle of a write): its {} byte(s) \
                 were moved to {}; the chain continues from line {}",
                t.bytes,
                t.moved_to.display(),
                end.seq
            );
            tracing::warn!(path = %path.display(), "audit log: {message}");
            log.marker(
                &marker,
                &message,
                serde_json::json!({
                    "torn_bytes": t.bytes,
                    "moved_to": t.moved_to.display().to_string(),
                }),
            );
        }
        if let Some(key) = &log.key
            && let Some(last) = &end.line
        {
            if !key::has_mac(last) {
                log.marker(
                    &marker,
                    "from this line on, every line carries an HMAC made with the audit key",
                    Value::Null,
                );
            } else if !key.check(last) {
                tracing::warn!(
                    path = %path.display(),
                    "the audit log's last line was signed with another key: `audit verify \
                     --key-file` checks one key, so start a new file when changing the key"
                );
            }
        }
        Ok(log)
    }

    fn marker(&self, caller: &Caller, message: &str, args: Value) {
        self.record(Entry {
            caller,
            cluster: None,
            tool: "audit_log",
            args: Some(&args).filter(|a| !a.is_null()),
            outcome: Outcome::Marker,
            message: Some(message.to_string()),
            upid: None,
            result: None,
            confirmation: None,
        });
    }

    /// Appends one record. A write failure is logged (the call itself is not failed for it).
    pub(crate) fn record(&self, entry: Entry<'_>) {
        let args = entry.args.map(mask_secrets).unwrap_or(Value::Null);
        let mut tail = self.tail.lock().unwrap_or_else(PoisonError::into_inner);
        let record = Record {
            replica: self.replica.clone(),
            seq: tail.seq + 1,
            time: rfc3339_now(),
            key: entry.caller.key.clone(),
            transport: entry.caller.transport.to_string(),
            cluster: entry.cluster.map(str::to_string),
            tool: entry.tool.to_string(),
            args,
            outcome: entry.outcome,
            message: entry.message,
            upid: entry.upid,
            result: entry.result,
            confirmed_by: entry.confirmation,
            prev: tail.prev.clone(),
            mac: None,
        };
        let mut line = match serde_json::to_string(&record) {
            Ok(l) => l,
            Err(e) => {
                tracing::error!(error = %e, "cannot serialize an audit record");
                return;
            }
        };
        if let Some(key) = &self.key {
            line = key.sign(&line);
        }
        let hash = sha256_hex(line.as_bytes());
        line.push('\n');
        // The chain moves on when a sink holds the line.
        let mut written = false;
        if let Some(file) = &mut tail.file {
            match file.write_all(line.as_bytes()) {
                Ok(()) => written = true,
                Err(e) => {
                    let path = self.path.as_deref().unwrap_or(Path::new("-"));
                    tracing::error!(path = %path.display(), error = %e, "cannot write to the audit log");
                }
            }
        }
        if self.stdout {
            let mut out = std::io::stdout().lock();
            match out.write_all(line.as_bytes()).and_then(|()| out.flush()) {
                Ok(()) => written = true,
                Err(e) => tracing::error!(error = %e, "cannot write the audit line to stdout"),
            }
        }
        if written {
            tail.prev = hash;
            tail.seq += 1;
        }
    }

    /// Logs a call refused before its tool ran (a key's scope or rate, a tool the server-wide
    /// filters hide): `args` as received, `reason` as told to the caller, `cluster` the one the
    /// call named or the default.
    pub fn refused(
        &self,
        caller: &Caller,
        cluster: &str,
        tool: &str,
        args: Option<&Value>,
        reason: &str,
    ) {
        self.record(Entry {
            caller,
            cluster: Some(cluster),
            tool,
            args,
            outcome: Outcome::Refused,
            message: Some(reason.to_string()),
            upid: None,
            result: None,
            confirmation: None,
        });
    }
}

/// A copy of `args` with the values of secret-looking keys (`password`, `token`, `secret`,
/// `key`...) replaced by `********`, at any depth.
pub(crate) fn mask_secrets(args: &Value) -> Value {
    match args {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| {
                    let v = if pve_client::dry_run::is_secret(k) && !v.is_null() {
                        Value::from(pve_client::dry_run::MASK)
                    } else {
                        mask_secrets(v)
                    };
                    (k.clone(), v)
                })
                .collect::<Map<String, Value>>(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(mask_secrets).collect()),
        other => other.clone(),
    }
}

/// Lowercase hex SHA-256.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Now, UTC, `2026-11-29T17:03:15.123Z`.
pub(crate) fn rfc3339_now() -> String {
    rfc3339_at(SystemTime::now())
}

/// `t`, UTC, `2026-11-29T17:03:15.123Z`.
pub fn rfc3339_at(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    rfc3339(d.as_secs(), d.subsec_millis())
}

fn rfc3339(secs: u64, millis: u32) -> String {
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    #[test]
    fn times_and_masks() {
        assert_eq!(rfc3339(0, 0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(1_795_971_795, 42), "2026-11-29T17:03:15.042Z");
        assert_eq!(rfc3339(951_782_400, 0), "2000-02-29T00:00:00.000Z");
        let m = mask_secrets(&json!({"vmid": 1, "password": "x", "nested": {"token": "y"}}));
        assert_eq!(
            m,
            json!({"vmid": 1, "password": "********", "nested": {"token": "********"}})
        );
    }

    /// A fresh path under the temporary directory for test `name`.
    fn temp_log(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("audit-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir.join("audit.log")
    }

    fn refuse(path: &Path, n: usize) {
        let log = AuditLog::open(path).unwrap();
        for i in 0..n {
            log.refused(
                &Caller::new("t"),
                "default",
                "get_vms",
                None,
                &format!("r{i}"),
            );
        }
    }

    /// Found by the `audit_reader` fuzz target: a log holding a line that is not UTF-8 stopped
    /// the server at start with a bare "stream did not contain valid UTF-8". It now opens and
    /// goes on, and `audit verify` names the damaged line.
    #[test]
    fn a_line_that_is_not_utf8_neither_stops_the_server_nor_hides_from_verify() {
        let path = temp_log("utf8");
        refuse(&path, 2);
        let mut bytes = std::fs::read(&path).unwrap();
        bytes.extend_from_slice(b"\xff\xfe not text\n");
        std::fs::write(&path, &bytes).unwrap();
        refuse(&path, 1);
        let err = verify::verify(&path).unwrap_err().to_string();
        assert!(err.contains("line 3") && err.contains("not UTF-8"), "{err}");
    }

    /// A line ending in `\r\n` verifies (JSON allows the `\r`); reopening the log links the
    /// next line to the same bytes `audit verify` hashes, so the chain survives a restart.
    #[test]
    fn reopening_links_to_the_line_as_verify_reads_it() {
        let path = temp_log("crlf");
        refuse(&path, 2);
        let text = std::fs::read_to_string(&path).unwrap();
        let crlf = format!("{}\r\n", text.trim_end_matches('\n'));
        std::fs::write(&path, crlf).unwrap();
        assert_eq!(verify::verify(&path).unwrap().records, 2);
        refuse(&path, 1);
        assert_eq!(verify::verify(&path).unwrap().records, 3);
    }
}
