//! Questions a legacy SSE session puts to its client: the server's `elicitation/create`
//! request goes out on the event stream with an id of its own (`ask-N`); the client POSTs its
//! answer to the session's endpoint, which hands it to the waiting question
//! ([`Session::answered`]). A session that ends answers every open question as unavailable.

use std::sync::Arc;

use futures_util::future::BoxFuture;
use rmcp::model::{ClientResult, RequestId, ServerJsonRpcMessage};
use tokio::sync::oneshot;

use super::Session;
use crate::mcp::elicit;
use crate::registry::{Answer, Confirmer, Question};

/// A client's answer to a question: its result, or the error it sent.
pub(super) type Reply = Result<ClientResult, String>;

/// Asks through one legacy session's stream.
pub(super) struct SessionConfirmer(pub(super) Arc<Session>);

impl Confirmer for SessionConfirmer {
    fn ask<'a>(&'a self, question: &'a Question) -> BoxFuture<'a, Answer> {
        Box::pin(async move {
            let session = &self.0;
            let (tx, rx) = oneshot::channel();
            let id = {
                let mut state = session.state();
                state.next_ask += 1;
                let id = RequestId::String(format!("ask-{}", state.next_ask).into());
                state.asked.insert(id.clone(), tx);
                id
            };
            let message = ServerJsonRpcMessage::request(elicit::request(question), id.clone());
            session.send(&message).await;
            let reply = tokio::select! {
                reply = rx => reply.unwrap_or_else(|_| Err("the session ended".into())),
                () = session.cancel.cancelled() => Err("the session ended".into()),
            };
            session.state().asked.remove(&id);
            elicit::answer(reply)
        })
    }
}

impl Session {
    /// Hands a client's answer to the question `id`; an answer to no open question is dropped.
    pub(super) fn answered(&self, id: &RequestId, reply: Reply) {
        let waiting = self.state().asked.remove(id);
        match waiting {
            Some(tx) => {
                let _ = tx.send(reply);
            }
            None => tracing::debug!(%id, "ignored an answer to no open question"),
        }
    }
}
