//! Helpers for the REST tests: the REST door over a demo App on 127.0.0.1:0, and a `check`
//! that sends one request and asserts its status and JSON fields.

use std::sync::Arc;

use proxmox_mcp::{App, Gate, KeyRing, KeySpec, RateLimiter, Registry, RestConfig, Scope};
use pve_client::PveClient;
use reqwest::Method;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use crate::support::demo::Demo;

/// A REST door serving a demo cluster.
pub struct Rest {
    pub demo: Demo,
    pub base: String,
    pub http: reqwest::Client,
    shutdown: CancellationToken,
}

impl Drop for Rest {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

impl Rest {
    /// The demo cluster (tasks end at once) behind a REST door without a key.
    pub async fn start() -> Rest {
        Self::with(RestConfig::default()).await
    }

    /// ... guarded by the single key `key`.
    pub async fn with_key(key: &str) -> Rest {
        Self::with(RestConfig {
            gate: Gate::new(Arc::new(KeyRing::single("default", Scope::Admin, key))),
            ..RestConfig::default()
        })
        .await
    }

    /// ... guarded by [`KEYS`] (also read from `X-API-Key`), with this rate limiter.
    pub async fn with_keys(rate: RateLimiter) -> Rest {
        let keys = KEYS
            .iter()
            .map(|(name, scope, key)| KeySpec::from_plain(*name, *scope, key))
            .collect();
        let ring = KeyRing::new(keys, Some("X-API-Key"));
        Self::with(RestConfig {
            gate: Gate::new(Arc::new(ring)).with_rate(rate),
            ..RestConfig::default()
        })
        .await
    }

    /// ... with this REST configuration.
    pub async fn with(cfg: RestConfig) -> Rest {
        Self::with_registry(None, cfg).await
    }

    /// ... serving `registry` (the built-in tools when `None`) with this configuration.
    pub async fn with_registry(registry: Option<Registry>, cfg: RestConfig) -> Rest {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut demo = Demo::start().await;
        if let Some(registry) = registry {
            let client = PveClient::new(demo.demo.client_config().unwrap()).unwrap();
            let ssh = demo.demo.ssh_client(client.clone()).unwrap();
            demo.app = Arc::new(App::with_ssh(registry, client, ssh));
        }
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let shutdown = CancellationToken::new();
        tokio::spawn(proxmox_mcp::serve_rest(
            demo.app.clone(),
            listener,
            cfg,
            shutdown.clone(),
        ));
        Rest {
            demo,
            base,
            http: reqwest::Client::new(),
            shutdown,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Sends `method path` with `body` (raw text) and the bearer `key`; returns the status, the
    /// headers and the body as JSON (`Null` when it is not JSON).
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&str>,
        key: Option<&str>,
    ) -> (u16, reqwest::header::HeaderMap, Value) {
        let mut req = self.http.request(method, self.url(path));
        if let Some(b) = body {
            req = req
                .header("content-type", "application/json")
                .body(b.to_string());
        }
        if let Some(k) = key {
            req = req.bearer_auth(k);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let text = resp.text().await.unwrap();
        (
            status,
            headers,
            serde_json::from_str(&text).unwrap_or(Value::Null),
        )
    }

    /// `POST /<tool>` with `args` as the JSON body.
    pub async fn post(&self, tool: &str, args: Value) -> (u16, Value) {
        let (s, _, v) = self
            .send(
                Method::POST,
                &format!("/{tool}"),
                Some(&args.to_string()),
                None,
            )
            .await;
        (s, v)
    }
}

/// Keys of [`Rest::with_keys`]: name, scope, key.
pub const KEYS: [(&str, Scope, &str); 3] = [
    ("reader", Scope::Read, "key-read-0123456789"),
    ("operator", Scope::Operate, "key-operate-0123456789"),
    ("admin", Scope::Admin, "key-admin-0123456789"),
];

/// Sends `method path body` and checks the status and JSON-pointer fields (`"*"` = present);
/// an error status also checks mcpo's body shape. Returns the body.
pub async fn check(
    r: &Rest,
    method: Method,
    path: &str,
    body: Option<&str>,
    status: u16,
    fields: &[(&str, Value)],
) -> Value {
    let (got, _, v) = r.send(method.clone(), path, body, None).await;
    assert_eq!(got, status, "{method} {path} {body:?}: {v}");
    if status >= 400 {
        assert!(
            v.pointer("/detail/message").is_some_and(Value::is_string),
            "{method} {path}: error body not in mcpo's shape: {v}"
        );
    }
    for (ptr, want) in fields {
        let have = v.pointer(ptr);
        if *want == json!("*") {
            assert!(have.is_some(), "{method} {path}: {ptr} missing in {v}");
        } else {
            assert_eq!(have, Some(want), "{method} {path}: {ptr} in {v}");
        }
    }
    v
}
