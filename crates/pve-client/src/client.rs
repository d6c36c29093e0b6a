//! The client core: one reqwest `Client` per cluster (connections reused), auth headers, a cap on
//! concurrent requests, timeouts, retries with jittered backoff for idempotent GETs only, one
//! re-login on a 401 with ticket auth, and PVE's `{"data": ...}` envelope.
//!
//! Typed calls live in `api/`; they all end up in [`PveClient::request`].

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, COOKIE, HeaderName};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use tokio::sync::Semaphore;

use crate::auth::{Auth, AuthHeaders};
use crate::cache::GuestCache;
use crate::config::ClientConfig;
use crate::dry_run::{Intercepted, RequestHook};
use crate::error::{Error, ErrorKind};
use crate::observe::RequestObserver;
use crate::params::{ApiPath, Params};

/// HTTP methods of the PVE API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    Get,
    Post,
    Put,
    Delete,
}

impl Method {
    /// `GET`, `POST`, `PUT`, `DELETE`.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
        }
    }

    fn to_reqwest(self) -> reqwest::Method {
        match self {
            Method::Get => reqwest::Method::GET,
            Method::Post => reqwest::Method::POST,
            Method::Put => reqwest::Method::PUT,
            Method::Delete => reqwest::Method::DELETE,
        }
    }
}

/// PVE's response envelope: `{"data": ..., "total": N}`.
#[derive(Debug, Deserialize)]
pub(crate) struct Envelope<T> {
    pub data: T,
    #[serde(default, deserialize_with = "crate::de::opt_int")]
    pub total: Option<u64>,
}

/// Reads a 2xx answer's body: PVE's envelope around the wanted `data`.
pub(crate) fn decode_envelope<T: DeserializeOwned>(body: &[u8]) -> Result<Envelope<T>, Error> {
    serde_json::from_slice::<Envelope<T>>(body)
        .map_err(|e| Error::protocol(format!("unexpected response shape: {e}")))
}

const CSRF_HEADER: HeaderName = HeaderName::from_static("csrfpreventiontoken");

/// A Proxmox VE API client for one cluster. Cheap to clone (shares connections, the ticket,
/// the concurrency cap and the guest cache).
#[derive(Clone)]
pub struct PveClient {
    pub(crate) inner: Arc<Inner>,
    /// Per-call timeout override (see [`PveClient::with_timeout`]).
    timeout: Option<Duration>,
    /// Sees each request first (dry run, policy); see [`PveClient::with_hook`].
    hook: Option<Arc<dyn RequestHook>>,
}

impl std::fmt::Debug for PveClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PveClient")
            .field("base", &self.inner.base)
            .field("user", &self.inner.config.user)
            .field("timeout", &self.timeout)
            .field("hook", &self.hook.is_some())
            .finish_non_exhaustive()
    }
}

pub(crate) struct Inner {
    http: reqwest::Client,
    base: String,
    /// `base` parsed once: request URLs are built from it without parsing scheme and host
    /// again (`None` if it does not parse; each request then reports the error).
    base_url: Option<reqwest::Url>,
    pub(crate) config: ClientConfig,
    pub(crate) auth: Auth,
    limit: Semaphore,
    pub(crate) guests: GuestCache,
    /// Told about every HTTP exchange once it ends (metrics); see [`PveClient::set_observer`].
    observer: std::sync::OnceLock<Arc<dyn RequestObserver>>,
}

impl PveClient {
    /// Builds a client (TLS setup, HTTP client). Does not contact the server; ticket login
    /// happens on the first call (or explicitly with [`PveClient::login`]).
    pub fn new(config: ClientConfig) -> Result<Self, Error> {
        let mut builder = reqwest::Client::builder()
            .http1_only()
            .connect_timeout(config.connect_timeout)
            .pool_idle_timeout(Duration::from_secs(50))
            .tcp_nodelay(true)
            .user_agent(concat!(
                "proxmox-mcp-pve-client/",
                env!("CARGO_PKG_VERSION")
            ));
        if config.scheme == crate::config::Scheme::Https {
            builder = builder.tls_backend_preconfigured(crate::tls::rustls_config(&config.tls)?);
        }
        let http = builder.build().map_err(|e| {
            Error::config(format!("cannot build the HTTP client: {e}")).with_source(e)
        })?;
        let inner = Inner {
            http,
            base: config.base_url(),
            base_url: reqwest::Url::parse(&config.base_url()).ok(),
            auth: Auth::new(&config)?,
            limit: Semaphore::new(config.max_concurrent.max(1)),
            guests: GuestCache::new(config.guest_cache_ttl),
            config,
            observer: std::sync::OnceLock::new(),
        };
        Ok(Self {
            inner: Arc::new(inner),
            timeout: None,
            hook: None,
        })
    }

    /// The same client with another request timeout for the calls made through it (long calls
    /// such as vzdump or a big clone): `client.with_timeout(Duration::from_secs(600)).vzdump(..)`.
    pub fn with_timeout(&self, timeout: Duration) -> Self {
        Self {
            inner: self.inner.clone(),
            timeout: Some(timeout),
            hook: self.hook.clone(),
        }
    }

    /// What this view's hook says about an SSH command: `true` to run it, `false` when the
    /// hook answered it (a dry run recorded it); an `Err` refuses it.
    pub(crate) async fn check_ssh(
        &self,
        command: &crate::dry_run::SshRequest,
    ) -> Result<bool, Error> {
        match &self.hook {
            None => Ok(true),
            Some(hook) => Ok(matches!(
                hook.intercept_ssh(self, command).await?,
                Intercepted::Pass
            )),
        }
    }

    /// The same client with `hook` seeing every request first (replacing any hook this view
    /// had): see [`crate::dry_run`].
    pub fn with_hook(&self, hook: Arc<dyn RequestHook>) -> Self {
        Self {
            inner: self.inner.clone(),
            timeout: self.timeout,
            hook: Some(hook),
        }
    }

    /// Tells `observer` about every HTTP exchange of this client and of every view of it (all
    /// share one observer). Only the first observer set counts: returns `false` if one was set.
    pub fn set_observer(&self, observer: Arc<dyn RequestObserver>) -> bool {
        self.inner.observer.set(observer).is_ok()
    }

    /// The configuration this client was built from.
    pub fn config(&self) -> &ClientConfig {
        &self.inner.config
    }

    /// `https://host:port/api2/json`.
    pub fn base_url(&self) -> &str {
        &self.inner.base
    }

    /// The timeout in effect for calls through this handle.
    pub fn timeout(&self) -> Duration {
        self.timeout.unwrap_or(self.inner.config.request_timeout)
    }

    /// `GET path?params`, returning `data`.
    pub async fn get<T: DeserializeOwned>(
        &self,
        path: &ApiPath,
        params: Params,
    ) -> Result<T, Error> {
        self.request(Method::Get, path, params).await
    }
    /// `POST path` with a form body, returning `data`. Never retried.
    pub async fn post<T: DeserializeOwned>(
        &self,
        path: &ApiPath,
        params: Params,
    ) -> Result<T, Error> {
        self.request(Method::Post, path, params).await
    }
    /// `PUT path` with a form body, returning `data`. Never retried.
    pub async fn put<T: DeserializeOwned>(
        &self,
        path: &ApiPath,
        params: Params,
    ) -> Result<T, Error> {
        self.request(Method::Put, path, params).await
    }
    /// `DELETE path?params`, returning `data`. Never retried.
    pub async fn delete<T: DeserializeOwned>(
        &self,
        path: &ApiPath,
        params: Params,
    ) -> Result<T, Error> {
        self.request(Method::Delete, path, params).await
    }

    /// Any call: parameters as query (GET, DELETE) or form body (POST, PUT); returns `data`.
    pub async fn request<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &ApiPath,
        params: Params,
    ) -> Result<T, Error> {
        Ok(self.request_envelope(method, path, params).await?.data)
    }

    /// Like [`PveClient::request`] but keeps the envelope's `total`.
    pub(crate) async fn request_envelope<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &ApiPath,
        params: Params,
    ) -> Result<Envelope<T>, Error> {
        if let Some(hook) = &self.hook
            && let Intercepted::Answer(answers) =
                hook.intercept(self, method, path, &params).await?
        {
            return crate::dry_run::decode_answer(answers)
                .map_err(|e| e.with_call(method.as_str(), path.as_str()));
        }
        let body = self.send_with_policy(method, path, &params).await?;
        decode_envelope(&body).map_err(|e| e.with_call(method.as_str(), path.as_str()))
    }

    /// Sends with auth, the concurrency cap, retries (GET only) and one re-login on 401.
    async fn send_with_policy(
        &self,
        method: Method,
        path: &ApiPath,
        params: &Params,
    ) -> Result<Bytes, Error> {
        let timeout = self.timeout();
        let mut retries = 0u32;
        let mut relogged = false;
        loop {
            // Login failures already name their call (`POST /access/ticket`).
            let auth = self.inner.auth.headers(self, method != Method::Get).await?;
            let result = {
                let _permit = self
                    .inner
                    .limit
                    .acquire()
                    .await
                    .map_err(|_| Error::protocol("client is shutting down"))?;
                self.send_once(method, path.as_str(), params, &auth, timeout)
                    .await
            };
            let err = match result {
                Ok(body) => return Ok(body),
                Err(e) => e,
            };
            if err.status() == Some(401) && self.inner.auth.is_ticket() && !relogged {
                tracing::info!(
                    path = path.as_str(),
                    "PVE answered 401; logging in again once"
                );
                relogged = true;
                self.inner.auth.invalidate(auth.generation).await;
                continue;
            }
            if method == Method::Get && retryable(&err) && retries < self.inner.config.max_retries {
                retries += 1;
                let delay = backoff(self.inner.config.retry_backoff, retries);
                tracing::warn!(
                    path = path.as_str(), error = %err, retry = retries, delay_ms = delay.as_millis() as u64,
                    "retrying idempotent GET"
                );
                tokio::time::sleep(delay).await;
                continue;
            }
            return Err(err.with_call(method.as_str(), path.as_str()));
        }
    }

    /// One HTTP exchange. Errors carry no call (the caller attaches it).
    pub(crate) async fn send_once(
        &self,
        method: Method,
        path: &str,
        params: &Params,
        auth: &AuthHeaders,
        timeout: Duration,
    ) -> Result<Bytes, Error> {
        let started = Instant::now();
        let has_body = matches!(method, Method::Post | Method::Put);
        let query = (!has_body && !params.is_empty()).then(|| params.encode());
        let mut rb = match &self.inner.base_url {
            Some(base) => self.inner.http.request(
                method.to_reqwest(),
                request_url(base, path, query.as_deref()),
            ),
            None => {
                let mut url = String::with_capacity(self.inner.base.len() + path.len() + 64);
                url.push_str(&self.inner.base);
                url.push_str(path);
                if let Some(q) = &query {
                    url.push('?');
                    url.push_str(q);
                }
                self.inner.http.request(method.to_reqwest(), url)
            }
        }
        .timeout(timeout);
        if has_body {
            rb = rb
                .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(params.encode());
        }
        if let Some(v) = &auth.authorization {
            rb = rb.header(AUTHORIZATION, v.clone());
        }
        if let Some(v) = &auth.cookie {
            rb = rb.header(COOKIE, v.clone());
        }
        if let Some(v) = &auth.csrf {
            rb = rb.header(CSRF_HEADER, v.clone());
        }
        let resp = match rb.send().await {
            Ok(resp) => resp,
            Err(e) => {
                self.observe(method, None, started);
                return Err(self.map_transport(e, timeout));
            }
        };
        let status = resp.status();
        let reason = resp
            .extensions()
            .get::<hyper::ext::ReasonPhrase>()
            .and_then(|r| std::str::from_utf8(r.as_bytes()).ok())
            .map(str::to_owned);
        let body = resp.bytes().await.map_err(|e| {
            self.observe(method, None, started);
            self.map_transport(e, timeout)
        })?;
        self.observe(method, Some(status.as_u16()), started);
        tracing::debug!(
            method = method.as_str(),
            path,
            status = status.as_u16(),
            micros = started.elapsed().as_micros() as u64,
            "PVE call"
        );
        if status.is_success() {
            Ok(body)
        } else {
            Err(Error::from_response(
                status.as_u16(),
                reason.as_deref(),
                &body,
            ))
        }
    }

    fn observe(&self, method: Method, status: Option<u16>, started: Instant) {
        if let Some(o) = self.inner.observer.get() {
            o.observe(method, status, started.elapsed());
        }
    }

    /// Turns a transport failure into a Timeout, Tls or Unreachable error.
    fn map_transport(&self, e: reqwest::Error, timeout: Duration) -> Error {
        let target = format!("{}:{}", self.inner.config.host, self.inner.config.port);
        if e.is_timeout() {
            return Error::timeout(timeout).with_source(e);
        }
        if let Some(tls) = find_rustls_error(&e) {
            return Error::new(ErrorKind::Tls, format!("TLS with {target} failed: {tls}"))
                .with_source(e);
        }
        let cause = root_cause(&e);
        let what = if e.is_connect() {
            "cannot connect to"
        } else {
            "connection failed with"
        };
        Error::new(
            ErrorKind::Unreachable,
            format!("{what} PVE API at {target}: {cause}"),
        )
        .with_source(e)
    }
}

/// Whether an idempotent GET may be retried after this error.
fn retryable(e: &Error) -> bool {
    match e.status() {
        Some(502 | 503 | 595 | 596) => true,
        Some(_) => false,
        None => e.kind() == ErrorKind::Unreachable,
    }
}

/// `base` + `path` (already percent-encoded) + `?query`, as parsing the joined string would
/// give, without parsing scheme and host again.
fn request_url(base: &reqwest::Url, path: &str, query: Option<&str>) -> reqwest::Url {
    let mut url = base.clone();
    let mut full = String::with_capacity(base.path().len() + path.len());
    full.push_str(base.path());
    full.push_str(path);
    url.set_path(&full);
    url.set_query(query);
    url
}

/// `base * 2^(n-1)`, scaled by a random factor in [0.5, 1.0] so clients do not retry in step.
fn backoff(base: Duration, n: u32) -> Duration {
    let exp = base.saturating_mul(1u32 << (n.saturating_sub(1)).min(10));
    exp.mul_f64(rand::random_range(0.5..=1.0))
}

fn find_rustls_error(e: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(r) = err.downcast_ref::<rustls::Error>() {
            return Some(crate::tls::describe_rustls_error(r));
        }
        // io::Error::source() skips the wrapped error itself; look inside explicitly
        // (the TLS connector nests io errors: Other(InvalidData(rustls::Error))).
        if let Some(inner) = err
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            let inner: &(dyn std::error::Error + 'static) = inner;
            if let Some(found) = find_rustls_error(inner) {
                return Some(found);
            }
        }
        cur = err.source();
    }
    None
}

fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn request_urls_are_the_parsed_strings() {
        for base in [
            "https://pve.example:8006/api2/json",
            "http://[::1]:8006/api2/json",
        ] {
            let parsed = reqwest::Url::parse(base).unwrap();
            for (path, query) in [
                ("/cluster/resources", Some("type=vm")),
                ("/nodes/pve%2F1/qemu/100/status/current", None),
                (
                    "/nodes/n/tasks/UPID%3Apve%3A0001%3A%40root%40pam%3A/log",
                    Some("limit=50&start=0"),
                ),
                ("/version", Some("a=%20b&c=%C3%A9")),
                ("", None),
            ] {
                let joined = match query {
                    Some(q) => format!("{base}{path}?{q}"),
                    None => format!("{base}{path}"),
                };
                assert_eq!(
                    request_url(&parsed, path, query).as_str(),
                    reqwest::Url::parse(&joined).unwrap().as_str(),
                    "{joined}"
                );
            }
        }
    }

    #[test]
    fn retry_policy() {
        let check = |status: u16, want: bool| {
            assert_eq!(
                retryable(&Error::from_response(status, None, b"")),
                want,
                "{status}"
            );
        };
        for s in [502, 503, 595, 596] {
            check(s, true);
        }
        for s in [400, 401, 403, 404, 500, 501] {
            check(s, false);
        }
        assert!(retryable(&Error::new(ErrorKind::Unreachable, "refused")));
        assert!(!retryable(&Error::timeout(Duration::from_secs(1))));
        assert!(!retryable(&Error::new(ErrorKind::Tls, "bad cert")));
    }

    #[test]
    fn backoff_grows_with_jitter() {
        let base = Duration::from_millis(100);
        for n in 1..=4u32 {
            let full = base * (1 << (n - 1));
            let d = backoff(base, n);
            assert!(d >= full / 2 && d <= full, "{n}: {d:?}");
        }
    }
}
