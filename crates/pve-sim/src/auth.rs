//! Authentication and privileges: ticket login with CSRF tokens, API tokens, and the roles
//! that decide between 200 and 403.

/// Users, passwords, API tokens and live tickets.
#[derive(Debug, Default)]
pub struct AuthDb {}
