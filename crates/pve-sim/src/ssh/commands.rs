//! From an exec request to what the simulated node answers: the login shell reads the line
//! ([`super::line`]), then `pct` ([`super::pct`]) or the node's own commands ([`super::node`])
//! answer it from the simulated cluster, under its lock, at once. The answer says how long the
//! "process" then runs in wall-clock time before it ends (the `sleep`s of the command).

use std::time::Duration;

use super::log::{Ran, SshRecord};
use super::{NodeCtx, line, node, pct};
use crate::agent::guest_os::Outcome;

/// What a command answers once it has run.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Reply {
    pub status: u32,
    pub out: String,
    pub err: String,
    /// How long the command runs before it ends with this answer.
    pub wait: Duration,
}

impl Reply {
    pub(super) fn ok(out: String) -> Self {
        Self {
            status: 0,
            out,
            err: String::new(),
            wait: Duration::ZERO,
        }
    }

    pub(super) fn fail(status: u32, err: String) -> Self {
        Self {
            status,
            out: String::new(),
            err,
            wait: Duration::ZERO,
        }
    }

    /// A guest command's outcome; its waits (`sleep`) happen in wall-clock time (`sleep
    /// infinity` until it is hung up).
    pub(super) fn from_outcome(o: Outcome) -> Self {
        let endless = if o.waited > 0.0 {
            Duration::MAX
        } else {
            Duration::ZERO
        };
        Self {
            status: o.exitcode.clamp(0, 255) as u32,
            out: o.out,
            err: o.err,
            wait: Duration::try_from_secs_f64(o.waited).unwrap_or(endless),
        }
    }
}

/// An exec request prepared: its log record (what ran) and its answer.
#[derive(Debug)]
pub(super) struct Job {
    pub record: SshRecord,
    pub reply: Reply,
    /// The command came inside the hang-up prologue.
    pub prologue: bool,
}

/// Reads `data`, the exec request of `user` on the node of `ctx`, and answers it.
pub(super) fn prepare(ctx: &NodeCtx, user: &str, data: &[u8]) -> Job {
    let mut record = SshRecord {
        seq: 0,
        node: ctx.node.clone(),
        user: user.to_owned(),
        line: String::from_utf8_lossy(data).into_owned(),
        prologue: false,
        argv: None,
        ran: None,
        exit_status: None,
        signal: None,
    };
    let line = match line::parse(data) {
        Ok(line) => line,
        Err(refusal) => {
            return Job {
                record,
                reply: Reply::fail(refusal.status, refusal.message),
                prologue: false,
            };
        }
    };
    let (reply, ran) = run(ctx, &line.words);
    record.prologue = line.prologue;
    record.argv = Some(line.words);
    record.ran = ran;
    Job {
        record,
        reply,
        prologue: line.prologue,
    }
}

/// Runs the command `words` on the node.
fn run(ctx: &NodeCtx, words: &[String]) -> (Reply, Option<Ran>) {
    let Some(first) = words.first() else {
        return (Reply::ok(String::new()), None);
    };
    let sim = ctx.sim.lock_settled();
    let Some(n) = sim.cluster.nodes.get(&ctx.node) else {
        return (
            Reply::fail(
                255,
                format!("pve-sim: node {} left the cluster\n", ctx.node),
            ),
            None,
        );
    };
    match program(first) {
        "pct" => pct::run(&sim, &ctx.node, &words[1..]),
        _ => node::run(&sim, n, words),
    }
}

/// A program's name without its directory (`/usr/sbin/pct` is `pct`).
pub(super) fn program(word: &str) -> &str {
    word.rsplit('/').next().unwrap_or(word)
}
