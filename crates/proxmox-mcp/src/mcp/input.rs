//! The confirmer of MCP 2026-07-28 requests, which forbid server-to-client requests: the
//! question goes back to the client as an input-required result (`inputRequests` with one
//! `elicitation/create` under [`KEY`]), and the client retries the same `tools/call` with the
//! human's `ElicitResult` in `inputResponses`. The retry is answered from that response; the
//! call flow decides the rest, as for every other confirmer.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

use futures_util::future::BoxFuture;
use rmcp::model::{
    ElicitResult, InputRequest, InputRequiredResult, InputResponses, RequestMetaObject,
    ServerRequest,
};
use serde_json::Value;

use super::elicit;
use crate::registry::{Answer, Confirmer, Question};

/// The key of the question in `inputRequests` and of its answer in `inputResponses`.
pub(crate) const KEY: &str = "confirm";

/// Answers from a request's `inputResponses`, or defers the question to the client.
#[derive(Debug, Default)]
pub(crate) struct InputConfirmer {
    /// The client's answer to [`KEY`], on a retry.
    response: Option<Value>,
    /// The question put during this request, to send back.
    asked: Mutex<Option<Question>>,
}

impl InputConfirmer {
    /// A confirmer for a request with `meta` and `responses`, when the request speaks a
    /// revision without `initialize` (2026-07-28 and later) and its client declared it can be
    /// asked.
    pub(crate) fn of(
        meta: &RequestMetaObject,
        responses: Option<&InputResponses>,
    ) -> Option<Arc<Self>> {
        let stateless = meta.protocol_version().is_some_and(|v| !v.has_initialize());
        let capable = meta
            .client_capabilities()
            .is_some_and(|c| elicit::can_ask(&c));
        (stateless && capable).then(|| {
            Arc::new(Self {
                response: responses.and_then(|r| r.get(KEY)).cloned(),
                asked: Mutex::default(),
            })
        })
    }

    /// The input-required result to answer with, when this request put a question.
    pub(crate) fn input_required(&self) -> Option<InputRequiredResult> {
        let asked = self
            .asked
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()?;
        let ServerRequest::ElicitRequest(request) = elicit::request(&asked) else {
            return None;
        };
        let requests = BTreeMap::from([(KEY.to_string(), InputRequest::Elicitation(request))]);
        Some(InputRequiredResult::from_input_requests(requests))
    }
}

impl Confirmer for InputConfirmer {
    fn ask<'a>(&'a self, question: &'a Question) -> BoxFuture<'a, Answer> {
        Box::pin(async move {
            match &self.response {
                Some(v) => match serde_json::from_value::<ElicitResult>(v.clone()) {
                    Ok(result) => elicit::answer_of(&result),
                    Err(e) => Answer::Unavailable(format!(
                        "inputResponses.{KEY} is not an elicitation result: {e}"
                    )),
                },
                None => {
                    *self.asked.lock().unwrap_or_else(PoisonError::into_inner) =
                        Some(question.clone());
                    Answer::Deferred
                }
            }
        })
    }
}
