//! Access calls. Ticket login itself (`POST /access/ticket`) is done by the client on demand
//! (see `auth.rs`); this exposes an explicit login to check credentials at startup.

use crate::client::PveClient;
use crate::error::Error;

impl PveClient {
    /// With password credentials, logs in now (`POST /access/ticket`) so bad credentials show
    /// at startup rather than on the first tool call. With a token, does nothing (a token is
    /// checked by any call, e.g. [`PveClient::version`]).
    pub async fn login(&self) -> Result<(), Error> {
        self.inner.auth.force_login(self).await
    }

    /// Whether this client authenticates with a ticket (user + password) rather than a token.
    pub fn uses_ticket(&self) -> bool {
        self.inner.auth.is_ticket()
    }
}
