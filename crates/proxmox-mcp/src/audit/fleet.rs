//! `audit verify --replicas`: checks a collected stream of audit lines (several replicas'
//! stdout, interleaved as a log collector gathers them, each line maybe prefixed by the
//! collector with the pod or container name) chain by chain, one chain per `replica`, and
//! reports every break of each.
//!
//! A collection may begin after a replica's first line: the first line seen of a replica
//! anchors its chain. A replica restarted without a file starts a new chain (`seq` 1 after the
//! genesis hash): that is counted as a restart, not a break (lines removed just before a
//! restart cannot be seen that way; a file per replica keeps one chain across restarts).

use std::collections::BTreeMap;
use std::io::BufRead;

use super::key::{AuditKey, has_mac};
use super::{GENESIS, Record, sha256_hex};

/// The chain of one replica in a stream.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReplicaChain {
    /// Lines of this replica.
    pub records: u64,
    /// `seq` of its first line in the stream (1 unless the collection began later).
    pub first_seq: u64,
    /// `seq` of its last line.
    pub last_seq: u64,
    /// SHA-256 of its last line.
    pub last_hash: String,
    /// New chains started (a restart without a file).
    pub restarts: u64,
    /// Lines whose HMAC was checked with the key.
    pub authenticated: u64,
    /// Every break: the stream's 1-based line number and what is wrong.
    pub breaks: Vec<(u64, String)>,
}

/// Every replica's chain in a stream, by name (`-` for lines without one).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FleetReport {
    pub replicas: BTreeMap<String, ReplicaChain>,
    /// Lines that hold no audit record (other output the collector mixed in), skipped.
    pub skipped: u64,
}

impl FleetReport {
    /// Breaks of all replicas together.
    pub fn breaks(&self) -> usize {
        self.replicas.values().map(|c| c.breaks.len()).sum()
    }
}

/// Checks the stream `input` replica by replica; with `key`, every line's HMAC too (a line
/// without one after lines with one is a break). Only reading can fail.
pub fn verify_stream(input: impl BufRead, key: Option<&AuditKey>) -> std::io::Result<FleetReport> {
    let mut report = FleetReport::default();
    for (n, line) in (1u64..).zip(input.lines()) {
        let line = line?;
        // What the server wrote starts at the first `{`; a collector's prefix comes before.
        let Some(start) = line.find('{') else {
            report.skipped += 1;
            continue;
        };
        let json = line[start..].trim_end_matches('\r');
        let Ok(record) = serde_json::from_str::<Record>(json) else {
            report.skipped += 1;
            continue;
        };
        let name = record.replica.clone().unwrap_or_else(|| "-".into());
        let chain = report.replicas.entry(name).or_default();
        check(chain, n, json, &record, key);
    }
    Ok(report)
}

/// Adds line `n` (`json`, holding `record`) to `chain`.
fn check(chain: &mut ReplicaChain, n: u64, json: &str, record: &Record, key: Option<&AuditKey>) {
    let fresh = record.seq == 1 && record.prev == GENESIS;
    if chain.records == 0 {
        chain.first_seq = record.seq;
        if record.seq == 1 && !fresh {
            chain.breaks.push((
                n,
                "altered: the first line's prev is not the genesis hash".into(),
            ));
        }
    } else if record.seq == chain.last_seq + 1 && record.prev == chain.last_hash {
        // The chain goes on.
    } else if fresh {
        chain.restarts += 1;
    } else if record.seq > chain.last_seq + 1 {
        chain.breaks.push((
            n,
            format!(
                "{} record(s) missing before this line (seq {} follows seq {})",
                record.seq - chain.last_seq - 1,
                record.seq,
                chain.last_seq
            ),
        ));
    } else if record.seq <= chain.last_seq {
        chain.breaks.push((
            n,
            format!(
                "altered: seq {} does not follow seq {} (a line repeated, moved or rewritten)",
                record.seq, chain.last_seq
            ),
        ));
    } else {
        chain.breaks.push((
            n,
            format!(
                "its prev does not match the line of seq {} before it (that line or this one \
                 was altered)",
                chain.last_seq
            ),
        ));
    }
    let mac = has_mac(json);
    if let Some(key) = key {
        if mac && !key.check(json) {
            chain.breaks.push((
                n,
                "altered: its HMAC does not match (written without this key, or changed since)"
                    .into(),
            ));
        } else if !mac && chain.authenticated > 0 {
            chain.breaks.push((
                n,
                "forged: it carries no HMAC although earlier lines of this replica do".into(),
            ));
        }
        if mac {
            chain.authenticated += 1;
        }
    }
    chain.records += 1;
    chain.last_seq = record.seq;
    chain.last_hash = sha256_hex(json.as_bytes());
}
