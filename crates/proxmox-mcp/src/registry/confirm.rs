//! Confirmation asked of the human: what a door supplies (through the call's `ToolCtx`) when its
//! client can put a question to its user (MCP elicitation). The call flow (`flow.rs`) asks it
//! when a destructive call comes without `confirm: true`; the door only carries the question
//! and the answer, it decides nothing.

use futures_util::future::BoxFuture;

/// What the call flow asks: the tool and the PVE calls it would make, worded for the human.
#[derive(Debug, Clone)]
pub(crate) struct Question {
    /// What the human reads: the tool, what it would call, in one paragraph.
    pub(crate) message: String,
}

/// The human's answer, or why there is none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Answer {
    /// The human accepted: the call runs.
    Accepted,
    /// The human declined: nothing is done.
    Declined,
    /// The human dismissed the question: nothing is done.
    Cancelled,
    /// The question could not be put (the client failed to answer, the stream closed): the
    /// call is refused as it would be without a confirmer, `confirm: true` still works.
    Unavailable(String),
    /// The question goes back to the client in the call's answer (MCP 2026-07-28's
    /// input-required result), which retries the call with the human's answer: nothing is
    /// done now.
    Deferred,
}

/// Puts a [`Question`] to the human behind a call's client. Implemented by the MCP doors.
pub(crate) trait Confirmer: Send + Sync {
    /// Asks `question`; the future ends with the human's answer.
    fn ask<'a>(&'a self, question: &'a Question) -> BoxFuture<'a, Answer>;
}
