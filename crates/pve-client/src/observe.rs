//! Request observers: told about every HTTP exchange a client makes (method, status, time), once
//! it ends; the server's metrics use it. An observer must be quick and must not block: it runs
//! on the request's task. It never sees paths, parameters or credentials.

use std::time::Duration;

use crate::client::Method;

/// Sees every HTTP exchange of a client (see [`crate::PveClient::set_observer`]): each retry and
/// each login is one exchange.
pub trait RequestObserver: Send + Sync {
    /// One exchange ended: `status` is the HTTP status PVE answered, `None` when no answer came
    /// (connection refused or dropped, timeout, TLS failure); `elapsed` includes the body.
    fn observe(&self, method: Method, status: Option<u16>, elapsed: Duration);
}
