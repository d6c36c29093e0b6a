//! `proxmox-mcp audit verify`: checks an audit log's chain (every line a record, `seq` counting
//! up by one, every `prev` the SHA-256 of the line before), with the key its HMACs (every line
//! from the first keyed one on must carry a right one), and against a chain head stored
//! earlier (`--head SEQ:HASH`: the log still holds that line, unchanged). Prints the head to
//! store elsewhere.
//!
//! What it proves, and what it cannot: see `docs/safety.md` (Audit log).

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use super::key::{AuditKey, KeyError, has_mac};
use super::{GENESIS, Record, sha256_hex};

/// A verified log: how many records, the head (the last line's `seq` and SHA-256), and how
/// many lines carry a MAC checked with the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub records: u64,
    pub last_hash: String,
    /// Lines whose HMAC was checked (0 without a key).
    pub authenticated: u64,
    /// Lines that carry an HMAC (checked or not).
    pub(crate) with_mac: u64,
}

impl Verified {
    /// The chain head as `audit verify --head` takes it: `SEQ:HASH`.
    pub(crate) fn head(&self) -> String {
        format!("{}:{}", self.records, self.last_hash)
    }
}

/// A chain head stored earlier: the `seq` of a line and its SHA-256.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    pub(crate) seq: u64,
    pub(crate) hash: String,
}

impl std::str::FromStr for Head {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let bad =
            || format!("{s:?} is not a chain head: expected SEQ:HASH as audit verify prints it");
        let (seq, hash) = s.trim().split_once(':').ok_or_else(bad)?;
        let seq = seq.parse().map_err(|_| bad())?;
        let hash = hash.to_ascii_lowercase();
        if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad());
        }
        Ok(Head { seq, hash })
    }
}

/// What to check besides the chain.
#[derive(Debug, Clone, Default)]
pub struct VerifyOptions {
    /// Check every line's HMAC with this key.
    pub key: Option<AuditKey>,
    /// The log must still hold this line, unchanged.
    pub head: Option<Head>,
}

/// Why a log does not verify: the 1-based line where the chain breaks, and what is wrong.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: line {line}: {problem}")]
    Broken {
        path: PathBuf,
        line: u64,
        problem: String,
    },
    #[error("{path}: {problem}")]
    Whole { path: PathBuf, problem: String },
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error("--head {0}")]
    Head(String),
    #[error("{path}: {breaks} break(s) in the replicas' chains (listed above)")]
    Replicas { path: PathBuf, breaks: usize },
}

/// Checks the chain of the log at `path` (no key, no stored head).
pub fn verify(path: &Path) -> Result<Verified, VerifyError> {
    verify_with(path, &VerifyOptions::default())
}

/// Checks the log at `path` as `opts` say; reports the first line that breaks it.
pub fn verify_with(path: &Path, opts: &VerifyOptions) -> Result<Verified, VerifyError> {
    let read_err = |source| VerifyError::Read {
        path: path.to_path_buf(),
        source,
    };
    let broken = |line: u64, problem: String| VerifyError::Broken {
        path: path.to_path_buf(),
        line,
        problem,
    };
    let mut reader = BufReader::new(File::open(path).map_err(read_err)?);
    let mut prev = GENESIS.to_string();
    let mut records = 0u64;
    let mut authenticated = 0u64;
    let mut with_mac = 0u64;
    let mut buf = Vec::new();
    // Line n must hold seq n: lines and records count up together.
    for n in 1u64.. {
        buf.clear();
        if reader.read_until(b'\n', &mut buf).map_err(read_err)? == 0 {
            break;
        }
        let whole = buf.ends_with(b"\n");
        let bytes = buf.strip_suffix(b"\n").unwrap_or(&buf);
        let line = std::str::from_utf8(bytes)
            .map_err(|_| broken(n, "altered: not UTF-8 text, so not an audit record".into()))?;
        records = n;
        let record: Record = serde_json::from_str(line).map_err(|e| {
            if whole {
                broken(n, format!("altered: not an audit record ({e})"))
            } else {
                broken(
                    n,
                    "torn: the last line is incomplete (a crash in the middle of a write); \
                     the server moves it aside at its next start"
                        .into(),
                )
            }
        })?;
        if record.prev != prev {
            return Err(chain_break(n, &record, &broken));
        }
        if record.seq != n {
            return Err(broken(
                n,
                format!("altered: seq is {} where {n} was expected", record.seq),
            ));
        }
        let mac = has_mac(line);
        if let Some(key) = &opts.key {
            if mac && !key.check(line) {
                return Err(broken(
                    n,
                    "altered: its HMAC does not match (written without this key, or changed \
                     since)"
                        .into(),
                ));
            }
            if !mac && with_mac > 0 {
                return Err(broken(
                    n,
                    "forged: it carries no HMAC although earlier lines do (written by someone \
                     without the key)"
                        .into(),
                ));
            }
            if mac {
                authenticated += 1;
            }
        }
        with_mac += u64::from(mac);
        prev = sha256_hex(line.as_bytes());
        if let Some(head) = &opts.head
            && head.seq == n
            && head.hash != prev
        {
            return Err(broken(
                n,
                format!(
                    "altered: this is not the stored head {}:{} (the log was rewritten up to \
                     here)",
                    head.seq, head.hash
                ),
            ));
        }
    }
    let whole = |problem: String| VerifyError::Whole {
        path: path.to_path_buf(),
        problem,
    };
    if opts.key.is_some() && records > 0 && authenticated == 0 {
        return Err(whole(
            "no line carries an HMAC: the log was not written with a key (or its HMACs were \
             removed and the chain rebuilt)"
                .into(),
        ));
    }
    if let Some(head) = &opts.head
        && records < head.seq
    {
        return Err(whole(format!(
            "lines removed: the log ends at seq {records}, before the stored head (seq {})",
            head.seq
        )));
    }
    Ok(Verified {
        records,
        last_hash: prev,
        authenticated,
        with_mac,
    })
}

/// The error for line `n` whose `prev` does not match the line before.
fn chain_break(
    n: u64,
    record: &Record,
    broken: &impl Fn(u64, String) -> VerifyError,
) -> VerifyError {
    if record.seq > n {
        broken(
            n,
            format!(
                "{} record(s) missing before this line (seq {} follows seq {})",
                record.seq - n,
                record.seq,
                n - 1
            ),
        )
    } else if n == 1 {
        broken(
            n,
            "altered: the first line's prev is not the genesis hash (or lines before it were \
             removed)"
                .into(),
        )
    } else {
        broken(
            n - 1,
            format!(
                "line {} was altered: its SHA-256 does not match the prev of line {n}",
                n - 1
            ),
        )
    }
}

/// `proxmox-mcp audit ...`.
#[derive(Debug, clap::Subcommand)]
pub enum AuditCommand {
    /// Check an audit log's hash chain (and, with --key-file, every line's HMAC); prints the
    /// chain head to store elsewhere, or the first altered, forged or missing line and exits
    /// non-zero.
    Verify {
        /// The audit log file (JSON lines); with --replicas, `-` reads stdin.
        file: PathBuf,
        /// The file is a collected stream: lines of several replicas interleaved (maybe
        /// prefixed by the collector), checked chain by chain, every break reported per
        /// replica.
        #[arg(long, conflicts_with = "head")]
        replicas: bool,
        /// The audit key file the server writes with (`[audit] key_file`): check every line's
        /// HMAC.
        #[arg(long, value_name = "FILE")]
        key_file: Option<PathBuf>,
        /// A chain head printed by an earlier `audit verify` (SEQ:HASH): the log must still
        /// hold that line unchanged (shows removed or rewritten lines).
        #[arg(long, value_name = "SEQ:HASH")]
        head: Option<String>,
    },
}

/// Runs an `audit` subcommand: prints the result on stdout; a broken chain is an `Err`.
pub fn run_cli(cmd: &AuditCommand) -> Result<(), VerifyError> {
    match cmd {
        AuditCommand::Verify {
            file,
            replicas: true,
            key_file,
            ..
        } => {
            let key = key_file.as_deref().map(AuditKey::load).transpose()?;
            verify_replicas(file, key.as_ref())
        }
        AuditCommand::Verify {
            file,
            key_file,
            head,
            ..
        } => {
            let opts = VerifyOptions {
                key: key_file.as_deref().map(AuditKey::load).transpose()?,
                head: head
                    .as_deref()
                    .map(str::parse)
                    .transpose()
                    .map_err(VerifyError::Head)?,
            };
            let v = verify_with(file, &opts)?;
            println!(
                "{}: {} records, chain intact; last hash {}",
                file.display(),
                v.records,
                v.last_hash
            );
            let macs = if opts.key.is_some() {
                format!(
                    "HMACs: {} line(s) checked with the key{}",
                    v.authenticated,
                    match v.records - v.authenticated {
                        0 => String::new(),
                        k => format!(
                            "; the first {k} were written before the key was set (the chain \
                             after them covers them)"
                        ),
                    }
                )
            } else if v.with_mac > 0 {
                "HMACs: present but not checked (pass --key-file)".to_string()
            } else {
                "HMACs: none (anyone able to write the file can rewrite its chain; see [audit] \
                 key_file)"
                    .to_string()
            };
            println!("{macs}");
            if let Some(h) = &opts.head {
                println!("stored head {}:{} found unchanged", h.seq, h.hash);
            }
            println!(
                "head: {} (store it elsewhere; `audit verify --head {}` shows later whether \
                 lines were removed or rewritten)",
                v.head(),
                v.head()
            );
            Ok(())
        }
    }
}

/// `audit verify --replicas FILE`: prints each replica's chain and its breaks.
fn verify_replicas(file: &Path, key: Option<&AuditKey>) -> Result<(), VerifyError> {
    let read_err = |source| VerifyError::Read {
        path: file.to_path_buf(),
        source,
    };
    let report = if file == Path::new("-") {
        super::verify_stream(std::io::stdin().lock(), key)
    } else {
        super::verify_stream(BufReader::new(File::open(file).map_err(read_err)?), key)
    }
    .map_err(read_err)?;
    for (name, chain) in &report.replicas {
        let restarts = match chain.restarts {
            0 => String::new(),
            r => format!(", {r} restart(s) (a new chain each)"),
        };
        let macs = if key.is_some() {
            format!(", {} HMAC(s) checked", chain.authenticated)
        } else {
            String::new()
        };
        println!(
            "replica {name}: {} records (seq {} to {}){restarts}{macs}; {}; last hash {}",
            chain.records,
            chain.first_seq,
            chain.last_seq,
            if chain.breaks.is_empty() {
                "chain intact".to_string()
            } else {
                format!("{} break(s)", chain.breaks.len())
            },
            chain.last_hash
        );
        for (line, problem) in &chain.breaks {
            println!("  line {line}: {problem}");
        }
    }
    if report.skipped > 0 {
        println!("{} line(s) without an audit record skipped", report.skipped);
    }
    match report.breaks() {
        0 => Ok(()),
        breaks => Err(VerifyError::Replicas {
            path: file.to_path_buf(),
            breaks,
        }),
    }
}
