//! The confirmer of the MCP doors: the call flow's question to the human
//! (`registry::Question`) as an `elicitation/create` request to a client that declared the
//! `elicitation` capability (form mode), and the client's `ElicitResult` as the answer. rmcp's
//! peer carries it on stdio and Streamable HTTP; the legacy SSE sessions carry it themselves
//! (`sse/ask.rs`).

use std::collections::BTreeMap;
use std::sync::Arc;

use futures_util::future::BoxFuture;
use rmcp::model::{
    ClientCapabilities, ClientResult, ElicitRequest, ElicitRequestParams, ElicitResult,
    ElicitationAction, ElicitationSchema, ServerRequest,
};
use rmcp::{Peer, RoleServer};

use crate::registry::{Answer, Confirmer, Question};

/// Whether a client that declared `capabilities` can be asked a form question: the
/// `elicitation` capability with `form`, or with neither mode (form is then implied).
pub(crate) fn can_ask(capabilities: &ClientCapabilities) -> bool {
    capabilities
        .elicitation
        .as_ref()
        .is_some_and(|e| e.form.is_some() || e.url.is_none())
}

/// The `elicitation/create` request of `question`: its message, and an empty form (accepting
/// is the confirmation; there is nothing to fill in).
pub(crate) fn request(question: &Question) -> ServerRequest {
    let params = ElicitRequestParams::FormElicitationParams {
        meta: None,
        message: question.message.clone(),
        requested_schema: ElicitationSchema::new(BTreeMap::new()),
    };
    ServerRequest::ElicitRequest(ElicitRequest::new(params))
}

/// The answer a client's result gives.
pub(crate) fn answer(result: Result<ClientResult, String>) -> Answer {
    match result {
        Ok(ClientResult::ElicitResult(r)) => answer_of(&r),
        Ok(_) => Answer::Unavailable("the client answered the question with another result".into()),
        Err(e) => Answer::Unavailable(e),
    }
}

pub(crate) fn answer_of(result: &ElicitResult) -> Answer {
    match result.action {
        ElicitationAction::Accept => Answer::Accepted,
        ElicitationAction::Decline => Answer::Declined,
        ElicitationAction::Cancel => Answer::Cancelled,
        // An action a later revision adds is no acceptance.
        _ => Answer::Cancelled,
    }
}

/// Asks through an rmcp peer (stdio, Streamable HTTP sessions).
pub(crate) struct PeerConfirmer(Peer<RoleServer>);

impl PeerConfirmer {
    /// A confirmer for `peer`, when its client declared it can be asked.
    pub(crate) fn of(peer: &Peer<RoleServer>) -> Option<Arc<dyn Confirmer>> {
        let info = peer.peer_info()?;
        can_ask(&info.capabilities).then(|| Arc::new(Self(peer.clone())) as Arc<dyn Confirmer>)
    }
}

impl Confirmer for PeerConfirmer {
    fn ask<'a>(&'a self, question: &'a Question) -> BoxFuture<'a, Answer> {
        Box::pin(async move {
            let sent = self.0.send_request(request(question)).await;
            answer(sent.map_err(|e| e.to_string()))
        })
    }
}
