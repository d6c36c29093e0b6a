//! Helpers for the MCP transport tests: a fixture tool host (tools that echo, fail, panic,
//! report progress and wait for cancellation), the MCP HTTP endpoint on 127.0.0.1:0, a raw SSE
//! reader, and an rmcp client transport speaking legacy HTTP+SSE.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use proxmox_mcp::{
    Access, App, McpHttp, McpHttpConfig, Registry, ToolCtx, ToolDef, ToolError, ToolHost, ToolSpec,
    serve_http,
};
use pve_client::PveClient;
use reqwest::header::HeaderMap;
use rmcp::RoleClient;
use rmcp::model::{ClientJsonRpcMessage, ServerJsonRpcMessage};
use rmcp::transport::Transport;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// reqwest (inside rmcp's client too) needs a process-wide rustls provider: ring.
pub fn init_tls() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

// ---------------------------------------------------------------- fixture tools

#[derive(Deserialize, JsonSchema)]
pub struct EchoParams {
    /// Text to send back.
    pub text: String,
}

#[derive(Serialize, JsonSchema)]
pub struct EchoOut {
    pub text: String,
}

async fn echo(_ctx: &ToolCtx, p: EchoParams) -> Result<EchoOut, ToolError> {
    Ok(EchoOut { text: p.text })
}

#[derive(Deserialize, JsonSchema)]
pub struct StepsParams {
    /// Number of progress steps to report.
    pub steps: u32,
}

#[derive(Serialize, JsonSchema)]
pub struct StepsOut {
    pub done: u32,
}

async fn steps(ctx: &ToolCtx, p: StepsParams) -> Result<StepsOut, ToolError> {
    for i in 1..=p.steps {
        tokio::time::sleep(Duration::from_millis(5)).await;
        ctx.report(f64::from(i), Some(f64::from(p.steps)), format!("step {i}"));
    }
    Ok(StepsOut { done: p.steps })
}

#[derive(Deserialize, JsonSchema)]
pub struct Empty {}

#[derive(Serialize, JsonSchema)]
pub struct Nothing {}

async fn fail(_ctx: &ToolCtx, _p: Empty) -> Result<Nothing, ToolError> {
    Err(ToolError::pve("VM 999 does not exist"))
}

/// How many `wait_cancel` calls have ended (they end only when cancelled: the handler returns,
/// or `Registry::call` drops it on cancellation).
pub static WAIT_CANCEL_ENDED: std::sync::atomic::AtomicUsize =
    std::sync::atomic::AtomicUsize::new(0);

struct CountOnDrop;

impl Drop for CountOnDrop {
    fn drop(&mut self) {
        WAIT_CANCEL_ENDED.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
}

async fn wait_cancel(ctx: &ToolCtx, _p: Empty) -> Result<Nothing, ToolError> {
    let _count = CountOnDrop;
    ctx.cancel.cancelled().await;
    Err(ToolError::Internal("cancelled".into()))
}

fn def(name: &'static str, access: Access, idempotent: bool) -> ToolDef {
    ToolDef {
        name,
        title: "Fixture tool",
        description: "A tool of the transport tests.",
        toolset: "core",
        access,
        idempotent,
    }
}

/// The fixture registry: `echo` (read), `steps` (write, idempotent), `fail` (destructive),
/// `wait_cancel` (write).
pub fn fixture_registry() -> Registry {
    Registry::new(vec![
        ToolSpec::new(
            def("echo", Access::Read, false),
            proxmox_mcp::handler!(echo),
        ),
        ToolSpec::new(
            def("steps", Access::Write, true),
            proxmox_mcp::handler!(steps),
        ),
        ToolSpec::new(
            def("fail", Access::Destructive, false),
            proxmox_mcp::handler!(fail),
        ),
        ToolSpec::new(
            def("wait_cancel", Access::Write, false),
            proxmox_mcp::handler!(wait_cancel),
        ),
    ])
    .unwrap()
}

/// A [`ToolHost`] over the fixture registry. Its tools never use the PVE client, which points
/// at a closed port.
pub fn fixture_host() -> ToolHost {
    init_tls();
    let cfg = pve_client::ClientConfig::new(
        "127.0.0.1",
        "root@pam",
        pve_client::Credentials::Token {
            name: "unused".into(),
            value: pve_client::Secret::new("unused"),
        },
    )
    .with_port(9);
    App::new(fixture_registry(), PveClient::new(cfg).unwrap())
        .host()
        .clone()
}

// ---------------------------------------------------------------- server

/// The MCP HTTP endpoint served on 127.0.0.1:0; stops when dropped.
pub struct Server {
    pub base: String,
    pub port: u16,
    pub mcp: Arc<McpHttp>,
    shutdown: CancellationToken,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

impl Server {
    /// `path` is `/proxmox/mcp` or `/mcp`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Cancels the shutdown token and waits until the server has drained and stopped.
    pub async fn stop(mut self) -> std::io::Result<()> {
        self.shutdown.cancel();
        self.task.take().unwrap().await.unwrap()
    }
}

/// Starts the endpoint over `host` with `cfg`.
pub async fn start_with(host: ToolHost, cfg: McpHttpConfig) -> Server {
    init_tls();
    let shutdown = CancellationToken::new();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let mcp = McpHttp::new(host, cfg, shutdown.clone());
    let router = mcp.router();
    let task = tokio::spawn(serve_http(listener, router, shutdown.clone()));
    Server {
        base: format!("http://127.0.0.1:{port}"),
        port,
        mcp,
        shutdown,
        task: Some(task),
    }
}

/// Starts the endpoint over the fixture tools with a short keep-alive.
pub async fn start() -> Server {
    let cfg = McpHttpConfig {
        sse_keep_alive: Duration::from_millis(100),
        ..McpHttpConfig::default()
    };
    start_with(fixture_host(), cfg).await
}

/// Polls `f` until it is true; panics after a generous deadline (a hang guard, not a speed
/// check).
pub async fn eventually(what: &str, mut f: impl AsyncFnMut() -> bool) {
    for _ in 0..1000 {
        if f().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("never happened: {what}");
}

// ---------------------------------------------------------------- SSE

/// One server-sent event, or a comment line.
#[derive(Debug, Clone, PartialEq)]
pub enum SseItem {
    Event { event: String, data: String },
    Comment(String),
}

/// Reads server-sent events from a streaming HTTP response.
pub struct SseReader {
    body: futures_util::stream::BoxStream<'static, reqwest::Result<axum::body::Bytes>>,
    buf: String,
}

impl SseReader {
    pub fn new(resp: reqwest::Response) -> Self {
        Self {
            body: resp.bytes_stream().boxed(),
            buf: String::new(),
        }
    }

    /// The next event or comment; `None` when the stream ends.
    pub async fn next_item(&mut self) -> Option<SseItem> {
        loop {
            if let Some(end) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..end + 2).collect();
                if let Some(item) = parse_block(&block) {
                    return Some(item);
                }
                continue;
            }
            match self.body.next().await {
                Some(Ok(chunk)) => self.buf.push_str(&String::from_utf8_lossy(&chunk)),
                _ => return None,
            }
        }
    }

    /// The next event (comments skipped).
    pub async fn next_event(&mut self) -> Option<(String, String)> {
        loop {
            match self.next_item().await? {
                SseItem::Event { event, data } => return Some((event, data)),
                SseItem::Comment(_) => {}
            }
        }
    }
}

fn parse_block(block: &str) -> Option<SseItem> {
    let mut event = None;
    let mut data: Vec<&str> = Vec::new();
    let mut comment = None;
    for line in block.lines() {
        if let Some(c) = line.strip_prefix(':') {
            comment = Some(c.trim().to_string());
        } else if let Some(e) = line.strip_prefix("event:") {
            event = Some(e.trim().to_string());
        } else if let Some(d) = line.strip_prefix("data:") {
            data.push(d.strip_prefix(' ').unwrap_or(d));
        }
    }
    if event.is_none() && data.is_empty() {
        return comment.map(SseItem::Comment);
    }
    Some(SseItem::Event {
        event: event.unwrap_or_else(|| "message".into()),
        data: data.join("\n"),
    })
}

/// Opens a legacy SSE session on `url`; returns the reader and the POST URL from the
/// endpoint event (resolved against `url`).
pub async fn open_legacy(http: &reqwest::Client, url: &str) -> (SseReader, String) {
    let resp = http
        .get(url)
        .header("accept", "text/event-stream")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "GET {url}");
    assert_eq!(
        resp.headers()["content-type"].to_str().unwrap(),
        "text/event-stream"
    );
    let mut reader = SseReader::new(resp);
    let (event, data) = reader.next_event().await.unwrap();
    assert_eq!(event, "endpoint");
    let endpoint = reqwest::Url::parse(url).unwrap().join(&data).unwrap();
    (reader, endpoint.to_string())
}

/// The JSON bodies of the `event: message` events of `reader` until one answers `id`.
pub async fn messages_until_answer(reader: &mut SseReader, id: i64) -> Vec<Value> {
    let mut out = Vec::new();
    while let Some((event, data)) = reader.next_event().await {
        if event != "message" {
            continue;
        }
        let v: Value = serde_json::from_str(&data).unwrap();
        let done = v["id"] == id;
        out.push(v);
        if done {
            return out;
        }
    }
    panic!("stream ended before the answer to {id}: {out:?}");
}

// ---------------------------------------------------------------- rmcp client over legacy SSE

/// An rmcp client transport for legacy HTTP+SSE: POSTs messages to the endpoint, reads answers
/// from the event stream.
pub struct LegacySseClient {
    http: reqwest::Client,
    endpoint: String,
    rx: mpsc::Receiver<ServerJsonRpcMessage>,
}

impl LegacySseClient {
    pub async fn connect(url: &str) -> Self {
        let http = reqwest::Client::new();
        let (mut reader, endpoint) = open_legacy(&http, url).await;
        let (tx, rx) = mpsc::channel(64);
        // Reads until the stream ends or the transport is dropped (then the stream is closed,
        // as a real client going away would).
        tokio::spawn(async move {
            loop {
                let next = tokio::select! {
                    next = reader.next_event() => next,
                    () = tx.closed() => return,
                };
                let Some((event, data)) = next else { return };
                if event == "message" {
                    let msg = serde_json::from_str(&data).unwrap();
                    if tx.send(msg).await.is_err() {
                        return;
                    }
                }
            }
        });
        Self { http, endpoint, rx }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("legacy POST failed: {0}")]
pub struct PostError(String);

impl Transport<RoleClient> for LegacySseClient {
    type Error = PostError;

    fn send(
        &mut self,
        item: ClientJsonRpcMessage,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send + 'static {
        let http = self.http.clone();
        let endpoint = self.endpoint.clone();
        async move {
            let resp = http
                .post(&endpoint)
                .json(&item)
                .send()
                .await
                .map_err(|e| PostError(e.to_string()))?;
            if resp.status() != 202 {
                return Err(PostError(format!("status {}", resp.status())));
            }
            Ok(())
        }
    }

    async fn receive(&mut self) -> Option<ServerJsonRpcMessage> {
        self.rx.recv().await
    }

    async fn close(&mut self) -> Result<(), Self::Error> {
        self.rx.close();
        Ok(())
    }
}

/// Sends one JSON-RPC POST and returns the status, headers and the JSON messages of the answer
/// (a JSON body or an event stream).
pub async fn post(
    http: &reqwest::Client,
    url: &str,
    headers: &[(&str, &str)],
    body: Value,
) -> (u16, HeaderMap, Vec<Value>) {
    let mut req = http
        .post(url)
        .header("accept", "application/json, text/event-stream")
        .json(&body);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let hdrs = resp.headers().clone();
    let ctype = hdrs
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let msgs = if ctype.starts_with("text/event-stream") {
        let mut reader = SseReader::new(resp);
        let mut out = Vec::new();
        while let Some((_, data)) = reader.next_event().await {
            if let Ok(v) = serde_json::from_str::<Value>(&data) {
                let done = v.get("result").is_some() || v.get("error").is_some();
                out.push(v);
                if done {
                    break;
                }
            }
        }
        out
    } else if ctype.starts_with("application/json") {
        vec![resp.json().await.unwrap()]
    } else {
        vec![Value::String(resp.text().await.unwrap())]
    };
    (status, hdrs, msgs)
}

/// Runs initialize + initialized over Streamable HTTP; returns the session id and the result.
pub async fn handshake(http: &reqwest::Client, url: &str, version: &str) -> (String, Value) {
    let (status, hdrs, msgs) = post(http, url, &[], initialize(version)).await;
    assert_eq!(status, 200, "initialize {version}");
    let session = hdrs["mcp-session-id"].to_str().unwrap().to_string();
    let result = msgs.last().unwrap()["result"].clone();
    let negotiated = result["protocolVersion"].as_str().unwrap().to_string();
    let (status, _, _) = post(
        http,
        url,
        &[
            ("mcp-session-id", &session),
            ("mcp-protocol-version", &negotiated),
        ],
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
    )
    .await;
    assert_eq!(status, 202);
    (session, result)
}

pub fn initialize(version: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": version, "capabilities": {},
        "clientInfo": {"name": "test", "version": "1"}}})
}
