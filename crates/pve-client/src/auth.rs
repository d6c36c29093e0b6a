//! Authentication: the API-token header, or a ticket from `POST /access/ticket` sent as the
//! `PVEAuthCookie` cookie with the `CSRFPreventionToken` header on writes.
//!
//! The ticket is renewed (by posting it as the password) once older than
//! `ticket_renew_after`, before PVE's 2-hour expiry; if renewal fails the client logs in again
//! with the password. Secrets go into sensitive header values and never into logs.

use std::time::Instant;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use reqwest::header::HeaderValue;
use serde::Deserialize;
use tokio::sync::Mutex;

use crate::client::{Envelope, Method, PveClient};
use crate::config::{ClientConfig, Credentials, Secret};
use crate::error::{Error, ErrorKind};
use crate::params::Params;

/// Characters kept as they are in the cookie value (the rest, notably `+ / = ;`, are %-encoded;
/// PVE URI-unescapes the cookie).
const COOKIE_KEEP: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b':')
    .remove(b'@')
    .remove(b'!');

/// The headers one request carries.
#[derive(Debug, Clone, Default)]
pub(crate) struct AuthHeaders {
    pub authorization: Option<HeaderValue>,
    pub cookie: Option<HeaderValue>,
    pub csrf: Option<HeaderValue>,
    /// Which ticket these came from (to invalidate only that one on a 401).
    pub generation: u64,
}

pub(crate) enum Auth {
    Token(HeaderValue),
    Ticket(Box<TicketAuth>),
}

pub(crate) struct TicketAuth {
    user: String,
    password: Secret,
    renew_after: std::time::Duration,
    state: Mutex<Option<Ticket>>,
    generation: std::sync::atomic::AtomicU64,
}

#[derive(Clone)]
struct Ticket {
    ticket: Secret,
    username: String,
    cookie: HeaderValue,
    csrf: HeaderValue,
    obtained: Instant,
    generation: u64,
}

/// `data` of `POST /access/ticket`.
#[derive(Debug, Deserialize)]
struct TicketData {
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    ticket: Option<String>,
    #[serde(rename = "CSRFPreventionToken", default)]
    csrf: Option<String>,
    #[serde(rename = "NeedTFA", default, deserialize_with = "crate::de::bool01")]
    need_tfa: bool,
}

impl Auth {
    pub(crate) fn new(config: &ClientConfig) -> Result<Self, Error> {
        match &config.credentials {
            Credentials::Token { name, value } => {
                let header = format!("PVEAPIToken={}!{}={}", config.user, name, value.expose());
                let mut v = HeaderValue::from_str(&header).map_err(|_| {
                    Error::config("the API token user, name or value holds characters not allowed in an HTTP header")
                })?;
                v.set_sensitive(true);
                Ok(Auth::Token(v))
            }
            Credentials::Password(pw) => Ok(Auth::Ticket(Box::new(TicketAuth {
                user: config.user.clone(),
                password: pw.clone(),
                renew_after: config.ticket_renew_after,
                state: Mutex::new(None),
                generation: std::sync::atomic::AtomicU64::new(0),
            }))),
        }
    }

    pub(crate) fn is_ticket(&self) -> bool {
        matches!(self, Auth::Ticket(_))
    }

    /// Headers for one request; logs in or renews the ticket first when needed.
    pub(crate) async fn headers(
        &self,
        client: &PveClient,
        write: bool,
    ) -> Result<AuthHeaders, Error> {
        match self {
            Auth::Token(h) => Ok(AuthHeaders {
                authorization: Some(h.clone()),
                ..AuthHeaders::default()
            }),
            Auth::Ticket(t) => {
                let tk = t.current(client).await?;
                Ok(AuthHeaders {
                    authorization: None,
                    cookie: Some(tk.cookie),
                    csrf: write.then_some(tk.csrf),
                    generation: tk.generation,
                })
            }
        }
    }

    /// Forgets the ticket of this generation (after a 401), so the next request logs in again.
    pub(crate) async fn invalidate(&self, generation: u64) {
        if let Auth::Ticket(t) = self {
            let mut g = t.state.lock().await;
            if g.as_ref().is_some_and(|tk| tk.generation == generation) {
                *g = None;
            }
        }
    }

    /// Forces a fresh password login (ticket auth); a no-op for tokens.
    pub(crate) async fn force_login(&self, client: &PveClient) -> Result<(), Error> {
        if let Auth::Ticket(t) = self {
            let mut g = t.state.lock().await;
            let fresh = t.login(client, t.password.expose()).await?;
            *g = Some(fresh);
        }
        Ok(())
    }
}

impl TicketAuth {
    async fn current(&self, client: &PveClient) -> Result<Ticket, Error> {
        let mut g = self.state.lock().await;
        if let Some(t) = g.as_ref()
            && t.obtained.elapsed() < self.renew_after
        {
            return Ok(t.clone());
        }
        let renewed = match g.as_ref() {
            Some(old) => {
                let (user, ticket) = (old.username.clone(), old.ticket.clone());
                match self.login_as(client, &user, ticket.expose()).await {
                    Ok(t) => {
                        tracing::debug!("PVE ticket renewed");
                        Some(t)
                    }
                    Err(e) => {
                        tracing::info!(error = %e, "ticket renewal failed; logging in with the password");
                        None
                    }
                }
            }
            None => None,
        };
        let fresh = match renewed {
            Some(t) => t,
            None => self.login(client, self.password.expose()).await?,
        };
        *g = Some(fresh.clone());
        Ok(fresh)
    }

    async fn login(&self, client: &PveClient, password: &str) -> Result<Ticket, Error> {
        self.login_as(client, &self.user, password).await
    }

    /// `POST /access/ticket` with `username` and `password` (a password or the current ticket).
    async fn login_as(
        &self,
        client: &PveClient,
        user: &str,
        password: &str,
    ) -> Result<Ticket, Error> {
        const PATH: &str = "/access/ticket";
        let params = Params::new()
            .set("username", user)
            .set("password", password);
        let body = client
            .send_once(
                Method::Post,
                PATH,
                &params,
                &AuthHeaders::default(),
                client.timeout(),
            )
            .await
            .map_err(|e| e.with_call("POST", PATH))?;
        let data = serde_json::from_slice::<Envelope<TicketData>>(&body)
            .map_err(|e| {
                Error::protocol(format!("unexpected ticket response: {e}")).with_call("POST", PATH)
            })?
            .data;
        if data.need_tfa {
            return Err(Error::new(
                ErrorKind::Auth,
                format!("user {user} needs two-factor authentication; use an API token instead"),
            )
            .with_call("POST", PATH));
        }
        let (Some(ticket), Some(csrf)) = (data.ticket, data.csrf) else {
            return Err(
                Error::protocol("ticket response without ticket or CSRFPreventionToken")
                    .with_call("POST", PATH),
            );
        };
        let cookie_value = format!(
            "PVEAuthCookie={}",
            utf8_percent_encode(&ticket, COOKIE_KEEP)
        );
        let bad = || Error::protocol("ticket holds characters not allowed in an HTTP header");
        let mut cookie = HeaderValue::from_str(&cookie_value).map_err(|_| bad())?;
        cookie.set_sensitive(true);
        let mut csrf = HeaderValue::from_str(&csrf).map_err(|_| bad())?;
        csrf.set_sensitive(true);
        let generation = self
            .generation
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            + 1;
        Ok(Ticket {
            ticket: Secret::new(ticket),
            username: data.username.unwrap_or_else(|| user.to_owned()),
            cookie,
            csrf,
            obtained: Instant::now(),
            generation,
        })
    }
}
