//! The four ways the soak's clients call a tool: a Streamable HTTP session, a legacy SSE
//! session, the REST door, and stateless 2026-07-28 requests. Each call ends as `Ok`, a tool
//! error (the server answered that the call failed) or a failure (no answer: transport error,
//! timeout, HTTP error of the door itself).

use proxmox_mcp_bench::Res;
use proxmox_mcp_bench::mcp::{ANSWER_TIMEOUT, Session, stateless_request};
use proxmox_mcp_bench::sse::Legacy;
use reqwest::header::CONTENT_TYPE;
use serde_json::{Value, json};

/// How a call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    ToolError,
    Failed,
}

/// Names of the doors, in [`crate::load::Stats`]'s order.
pub const DOORS: [&str; 4] = ["streamable-http", "sse", "rest", "stateless"];

/// One client's connection to the server.
pub enum Door {
    Streamable(Session),
    Legacy(Legacy),
    Rest {
        client: reqwest::Client,
        url: String,
    },
    Stateless {
        client: reqwest::Client,
        url: String,
        next_id: u64,
    },
}

impl Door {
    /// Index in [`DOORS`].
    pub fn index(&self) -> usize {
        match self {
            Door::Streamable(_) => 0,
            Door::Legacy(_) => 1,
            Door::Rest { .. } => 2,
            Door::Stateless { .. } => 3,
        }
    }

    /// Calls `tool` with `args`.
    pub async fn call(&mut self, tool: &str, args: Value) -> Outcome {
        let result = match self {
            Door::Streamable(s) => s.call_tool(tool, args).await,
            Door::Legacy(l) => {
                l.request("tools/call", json!({"name": tool, "arguments": args}))
                    .await
            }
            Door::Rest { client, url } => return rest_call(client, url, tool, &args).await,
            Door::Stateless {
                client,
                url,
                next_id,
            } => {
                *next_id += 1;
                let params = json!({"name": tool, "arguments": args});
                stateless_request(client, url, *next_id, "tools/call", params).await
            }
        };
        match result {
            Ok(r) if r["isError"] == json!(true) => Outcome::ToolError,
            Ok(_) => Outcome::Ok,
            Err(_) => Outcome::Failed,
        }
    }

    /// A stateless `server/discover` (the first request of a 2026-07-28 client); `None` on
    /// other doors.
    pub async fn discover(&mut self) -> Option<Outcome> {
        let Door::Stateless {
            client,
            url,
            next_id,
        } = self
        else {
            return None;
        };
        *next_id += 1;
        Some(
            match stateless_request(client, url, *next_id, "server/discover", json!({})).await {
                Ok(r) if r["supportedVersions"].is_array() => Outcome::Ok,
                Ok(_) => Outcome::ToolError,
                Err(_) => Outcome::Failed,
            },
        )
    }
}

/// `POST /<tool>` with the arguments as JSON: 2xx is `Ok`, another status the server chose
/// is a tool error, no answer a failure.
async fn rest_call(client: &reqwest::Client, base: &str, tool: &str, args: &Value) -> Outcome {
    let sent = client
        .post(format!("{base}/{tool}"))
        .header(CONTENT_TYPE, "application/json")
        .timeout(ANSWER_TIMEOUT)
        .body(args.to_string())
        .send()
        .await;
    match sent {
        Ok(resp) => {
            let ok = resp.status().is_success();
            match resp.bytes().await {
                Ok(_) if ok => Outcome::Ok,
                Ok(_) => Outcome::ToolError,
                Err(_) => Outcome::Failed,
            }
        }
        Err(_) => Outcome::Failed,
    }
}

/// `POST /<tool>` on the REST door, answered with the tool's output.
pub async fn rest_json(client: &reqwest::Client, base: &str, tool: &str) -> Res<Value> {
    let resp = client
        .post(format!("{base}/{tool}"))
        .header(CONTENT_TYPE, "application/json")
        .timeout(ANSWER_TIMEOUT)
        .body("{}")
        .send()
        .await?;
    if !resp.status().is_success() {
        return Err(format!("POST /{tool} answered {}", resp.status()).into());
    }
    Ok(resp.json().await?)
}
