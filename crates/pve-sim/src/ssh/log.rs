//! The SSH log: one record per exec request the simulated nodes received, written when the
//! command starts and completed when it ends, so tests can check what ran, how it ended, and that
//! nothing ran when it should not have.

use std::collections::VecDeque;
use std::sync::Mutex;

use crate::server::lock;

/// One exec request on a simulated node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SshRecord {
    /// Order of arrival, from 0, across all nodes.
    pub seq: u64,
    /// The node whose SSH server received it.
    pub node: String,
    /// The login user.
    pub user: String,
    /// The command line as received (invalid UTF-8 replaced).
    pub line: String,
    /// The command came inside the client's hang-up prologue.
    pub prologue: bool,
    /// The command's words as the login shell split them; `None` when the shell refused the line.
    pub argv: Option<Vec<String>>,
    /// What ran; `None` when nothing did (a refused line, a stopped or missing container, a
    /// command the node does not have).
    pub ran: Option<Ran>,
    /// How the command ended: its exit status ...
    pub exit_status: Option<u32>,
    /// ... or the signal that ended it (`HUP` when the client hung up).
    pub signal: Option<String>,
}

impl SshRecord {
    /// The command has ended (with a status or by a signal).
    pub fn ended(&self) -> bool {
        self.exit_status.is_some() || self.signal.is_some()
    }
}

/// What an exec request ran.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ran {
    /// `pct exec VMID -- ARGV…`: `argv` ran inside container `vmid`.
    Container { vmid: u32, argv: Vec<String> },
    /// A command of the node itself.
    Node { argv: Vec<String> },
}

/// How many records the log keeps (the oldest go first).
pub const SSH_LOG_CAPACITY: usize = 10_000;

/// The log the nodes of one SSH server share.
#[derive(Debug, Default)]
pub(super) struct SshLog {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    records: VecDeque<SshRecord>,
    next: u64,
}

impl SshLog {
    /// Appends `record` (its `seq` assigned here); returns the seq.
    pub(super) fn push(&self, mut record: SshRecord) -> u64 {
        let mut inner = lock(&self.inner);
        record.seq = inner.next;
        inner.next += 1;
        if inner.records.len() >= SSH_LOG_CAPACITY {
            inner.records.pop_front();
        }
        inner.records.push_back(record);
        inner.next - 1
    }

    /// Records how command `seq` ended.
    pub(super) fn end(&self, seq: u64, exit_status: Option<u32>, signal: Option<String>) {
        let mut inner = lock(&self.inner);
        if let Some(r) = inner.records.iter_mut().rev().find(|r| r.seq == seq) {
            r.exit_status = exit_status;
            r.signal = signal;
        }
    }

    pub(super) fn records(&self) -> Vec<SshRecord> {
        lock(&self.inner).records.iter().cloned().collect()
    }

    pub(super) fn clear(&self) {
        lock(&self.inner).records.clear();
    }
}
