//! Helpers for the MCP door's key tests: the door over the demo cluster behind [`KEYS`] (with the
//! `ops` routes, as `serve` mounts them), raw requests with or without a key, a legacy SSE
//! session opened with a key, and an rmcp Streamable HTTP client presenting a key.

use std::sync::Arc;

use proxmox_mcp::{Gate, KeyRing, KeySpec, McpHttpConfig, RateLimiter};
use rmcp::ServiceExt;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use crate::support::demo::Demo;
use crate::support::mcp::{SseReader, init_tls, messages_until_answer};
use crate::support::rest::KEYS;

/// A running MCP client (rmcp, Streamable HTTP).
pub type Client = rmcp::service::RunningService<rmcp::RoleClient, ()>;

/// The gate of [`KEYS`] with `rate`.
pub fn gate(rate: RateLimiter) -> Gate {
    let keys = KEYS
        .iter()
        .map(|(name, scope, key)| KeySpec::from_plain(*name, *scope, key))
        .collect();
    Gate::new(Arc::new(KeyRing::new(keys, Some("X-API-Key")))).with_rate(rate)
}

/// The MCP door (plus `/healthz`, `/readyz`, `/metrics`) over a demo cluster.
pub struct Door {
    pub demo: Demo,
    pub base: String,
    pub http: reqwest::Client,
    shutdown: CancellationToken,
}

impl Drop for Door {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

impl Door {
    /// `demo` behind `cfg` (its gate decides who may call).
    pub async fn start(demo: Demo, cfg: McpHttpConfig) -> Door {
        init_tls();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let shutdown = CancellationToken::new();
        tokio::spawn(proxmox_mcp::serve_mcp(
            demo.app.clone(),
            listener,
            cfg,
            None,
            shutdown.clone(),
        ));
        Door {
            demo,
            base,
            http: reqwest::Client::new(),
            shutdown,
        }
    }

    /// The demo cluster behind [`KEYS`], no rate limit.
    pub async fn with_keys() -> Door {
        let cfg = McpHttpConfig {
            gate: gate(RateLimiter::unlimited()),
            ..McpHttpConfig::default()
        };
        Door::start(Demo::start().await, cfg).await
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A request on `path` with the bearer `key` and the headers MCP clients send.
    pub fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        key: Option<&str>,
    ) -> reqwest::RequestBuilder {
        let mut req = self
            .http
            .request(method, self.url(path))
            .header("accept", "application/json, text/event-stream");
        if let Some(k) = key {
            req = req.bearer_auth(k);
        }
        req
    }

    /// POSTs `body` (JSON) to `path`; returns the status, headers and body text.
    pub async fn post(
        &self,
        path: &str,
        key: Option<&str>,
        session: Option<&str>,
        body: &Value,
    ) -> (u16, reqwest::header::HeaderMap, String) {
        let mut req = self
            .request(reqwest::Method::POST, path, key)
            .header("content-type", "application/json")
            .body(body.to_string());
        if let Some(s) = session {
            req = req
                .header("mcp-session-id", s)
                .header("mcp-protocol-version", "2025-06-18");
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        (status, headers, resp.text().await.unwrap())
    }

    /// Opens a Streamable HTTP session with `key` (initialize, then initialized); its id.
    pub async fn session(&self, key: &str) -> String {
        let (s, headers, text) = self.post("/proxmox/mcp", Some(key), None, &init(1)).await;
        assert_eq!(s, 200, "{text}");
        let id = headers["mcp-session-id"].to_str().unwrap().to_string();
        let note = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
        let (s, _, text) = self.post("/proxmox/mcp", Some(key), Some(&id), &note).await;
        assert_eq!(s, 202, "{text}");
        id
    }

    /// An rmcp client over Streamable HTTP presenting `key`.
    pub async fn client(&self, key: &str) -> Client {
        let cfg = StreamableHttpClientTransportConfig::with_uri(self.url("/proxmox/mcp"))
            .auth_header(key);
        ().serve(StreamableHttpClientTransport::from_config(cfg))
            .await
            .unwrap()
    }

    /// Opens a legacy SSE session with `key`: the stream and the POST URL.
    pub async fn legacy(&self, key: &str) -> Legacy {
        let resp = self
            .http
            .get(self.url("/mcp"))
            .header("accept", "text/event-stream")
            .bearer_auth(key)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        let mut reader = SseReader::new(resp);
        let (event, data) = reader.next_event().await.unwrap();
        assert_eq!(event, "endpoint");
        let mut legacy = Legacy {
            http: self.http.clone(),
            endpoint: format!("{}{data}", self.base),
            reader,
            key: key.to_string(),
            next_id: 1,
        };
        let v = legacy
            .request("initialize", init(0)["params"].clone())
            .await;
        assert!(v["result"]["serverInfo"].is_object(), "{v}");
        let note = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
        assert_eq!(legacy.send(&note, Some(key)).await, 202);
        legacy
    }
}

/// An `initialize` request with id `id`.
pub fn init(id: i64) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {},
        "clientInfo": {"name": "auth-test", "version": "1"}}})
}

/// A legacy SSE session opened with a key.
pub struct Legacy {
    pub http: reqwest::Client,
    /// The session's POST URL.
    pub endpoint: String,
    pub reader: SseReader,
    /// The key its messages are sent with.
    pub key: String,
    next_id: i64,
}

impl Legacy {
    /// POSTs `message` with `key`; the status.
    pub async fn send(&self, message: &Value, key: Option<&str>) -> u16 {
        let mut req = self.http.post(&self.endpoint).json(message);
        if let Some(k) = key {
            req = req.bearer_auth(k);
        }
        req.send().await.unwrap().status().as_u16()
    }

    /// Sends request `method` with `params` (and the session's key); its answer from the stream.
    pub async fn request(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let msg = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        let key = self.key.clone();
        assert_eq!(self.send(&msg, Some(&key)).await, 202);
        messages_until_answer(&mut self.reader, id)
            .await
            .pop()
            .unwrap()
    }

    /// The names `tools/list` shows.
    pub async fn tool_names(&mut self) -> Vec<String> {
        let v = self.request("tools/list", json!({})).await;
        names(&v["result"]["tools"])
    }
}

/// The `name` of each tool of a `tools` array.
pub fn names(tools: &Value) -> Vec<String> {
    tools
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_string())
        .collect()
}

/// The JSON of the first `data:` line of an event-stream answer (or the body itself).
pub fn answer(text: &str) -> Value {
    text.lines()
        .filter_map(|l| l.strip_prefix("data:"))
        .find_map(|d| serde_json::from_str::<Value>(d.trim()).ok())
        .unwrap_or_else(|| serde_json::from_str(text).unwrap_or(Value::Null))
}
