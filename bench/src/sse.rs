//! A legacy HTTP+SSE MCP client for the benchmarks (plain reqwest): the event stream, its
//! `endpoint` event, and JSON-RPC messages POSTed to that endpoint with their answers read from
//! the stream.

use reqwest::header::{ACCEPT, CONTENT_TYPE};
use serde_json::{Value, json};

use crate::Res;
use crate::mcp::{ANSWER_TIMEOUT, INITIALIZED, clip, initialize_request};

/// One server-sent event.
#[derive(Debug)]
pub struct Event {
    pub event: String,
    pub data: String,
}

/// Reads the events of an open `text/event-stream` response (comments skipped).
#[derive(Debug)]
pub struct SseReader {
    resp: reqwest::Response,
    buf: Vec<u8>,
}

impl SseReader {
    /// Opens a legacy SSE session (GET, no session id) and returns the reader and the absolute
    /// URL of its message endpoint.
    pub async fn open(client: &reqwest::Client, url: &str) -> Res<(Self, String)> {
        let resp = client
            .get(url)
            .header(ACCEPT, "text/event-stream")
            .send()
            .await?;
        if !resp.status().is_success() {
            return Err(format!("SSE GET answered {}", resp.status()).into());
        }
        let mut reader = Self {
            resp,
            buf: Vec::new(),
        };
        let ev = reader.next_event().await?;
        if ev.event != "endpoint" {
            return Err(format!("first event is {:?}, not endpoint", ev.event).into());
        }
        let origin = url
            .find("/proxmox/mcp")
            .map(|i| &url[..i])
            .ok_or("URL without /proxmox/mcp")?;
        Ok((reader, format!("{origin}{}", ev.data)))
    }

    pub async fn next_event(&mut self) -> Res<Event> {
        loop {
            if let Some(end) = self.buf.windows(2).position(|w| w == b"\n\n") {
                let block: Vec<u8> = self.buf.drain(..end + 2).collect();
                let text = std::str::from_utf8(&block)?;
                let mut event = String::from("message");
                let mut data: Vec<&str> = Vec::new();
                for line in text.lines() {
                    if let Some(v) = line.strip_prefix("event:") {
                        event = v.trim().to_string();
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data.push(v.strip_prefix(' ').unwrap_or(v));
                    }
                }
                if data.is_empty() {
                    continue; // a comment (keep-alive) or an empty block
                }
                return Ok(Event {
                    event,
                    data: data.join("\n"),
                });
            }
            let chunk = tokio::time::timeout(ANSWER_TIMEOUT, self.resp.chunk())
                .await
                .map_err(|_| format!("no event within {} s", ANSWER_TIMEOUT.as_secs()))??
                .ok_or("the event stream ended")?;
            self.buf.extend_from_slice(&chunk);
        }
    }

    /// Reads `message` events until the JSON-RPC response with `id`; returns its raw JSON.
    pub async fn response(&mut self, id: u64) -> Res<String> {
        loop {
            let ev = self.next_event().await?;
            if ev.event != "message" {
                continue;
            }
            // Cheap test first; the caller parses it after the timed window.
            if ev.data.contains(&format!("\"id\":{id}")) {
                return Ok(ev.data);
            }
        }
    }
}

/// A legacy SSE session (initialized): POSTs go to its endpoint, answers come on the stream.
#[derive(Debug)]
pub struct Legacy {
    client: reqwest::Client,
    reader: SseReader,
    endpoint: String,
    next_id: u64,
}

impl Legacy {
    /// Opens the stream, reads the endpoint event, initializes.
    pub async fn connect(client: reqwest::Client, url: &str) -> Res<Self> {
        let (reader, endpoint) = SseReader::open(&client, url).await?;
        Self::initialize(client, reader, endpoint).await
    }

    /// Initializes an opened session.
    pub async fn initialize(
        client: reqwest::Client,
        reader: SseReader,
        endpoint: String,
    ) -> Res<Self> {
        let mut s = Self {
            client,
            reader,
            endpoint,
            next_id: 1,
        };
        s.post(initialize_request(1)).await?;
        let answer = s.reader.response(1).await?;
        let v: Value = serde_json::from_str(&answer)?;
        if v["result"]["serverInfo"].is_null() {
            return Err(format!("initialize failed: {}", clip(&answer)).into());
        }
        s.post(INITIALIZED.to_string()).await?;
        s.next_id = 2;
        Ok(s)
    }

    /// A fresh JSON-RPC id.
    pub fn next_id(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    /// POSTs one message to the session's endpoint (answered 202; the answer comes on the
    /// stream).
    pub async fn post(&self, body: String) -> Res<()> {
        let resp = self
            .client
            .post(&self.endpoint)
            .header(CONTENT_TYPE, "application/json")
            .timeout(ANSWER_TIMEOUT)
            .body(body)
            .send()
            .await?;
        if resp.status() != reqwest::StatusCode::ACCEPTED {
            return Err(format!("legacy POST answered {}", resp.status()).into());
        }
        resp.bytes().await?;
        Ok(())
    }

    /// Sends the request `make(id)` for a fresh id; returns the id and the answer's raw JSON.
    pub async fn call_raw(&mut self, make: impl FnOnce(u64) -> String) -> Res<(u64, String)> {
        let id = self.next_id();
        self.post(make(id)).await?;
        Ok((id, self.reader.response(id).await?))
    }

    /// Sends `method` with `params` and returns the JSON-RPC `result`; a JSON-RPC error fails.
    pub async fn request(&mut self, method: &str, params: Value) -> Res<Value> {
        let (_, raw) = self
            .call_raw(|id| {
                json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}).to_string()
            })
            .await?;
        let mut answer: Value = serde_json::from_str(&raw)?;
        match answer.get_mut("result") {
            Some(result) => Ok(result.take()),
            None => Err(format!("{method} failed: {}", clip(&raw)).into()),
        }
    }
}
