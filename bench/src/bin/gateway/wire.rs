//! The gateway benchmark's clients, one per way of asking for the VM list: straight to the
//! simulator, MCP over Streamable HTTP, MCP over legacy SSE, and the REST door. Each `call`
//! returns the answer's bytes as soon as they have arrived (the caller times it), and checking the
//! answer happens afterwards, outside the timed window.

use std::sync::OnceLock;

pub use proxmox_mcp_bench::mcp::{
    ANSWER_TIMEOUT, Session, clip, find_response, initialize_request, post_mcp,
};
pub use proxmox_mcp_bench::sse::{Legacy, SseReader};
use reqwest::header::CONTENT_TYPE;
use serde_json::{Value, json};

use crate::Res;

/// The API key the server under test requires (`--api-key`), sent as `Authorization: Bearer`
/// by every client of [`http_client`] (requests to the simulator set their own header).
static API_KEY: OnceLock<String> = OnceLock::new();

/// Makes every later [`http_client`] present `key`.
pub fn set_api_key(key: &str) {
    let _ = API_KEY.set(key.to_string());
}

/// An HTTP/1.1 keep-alive client without proxies; `cert_pem` is trusted when given.
pub fn http_client(cert_pem: Option<&str>) -> Res<reqwest::Client> {
    let mut b = reqwest::Client::builder()
        .http1_only()
        .tcp_nodelay(true)
        .no_proxy()
        .pool_max_idle_per_host(usize::MAX);
    if let Some(key) = API_KEY.get() {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(
            reqwest::header::AUTHORIZATION,
            format!("Bearer {key}").parse()?,
        );
        b = b.default_headers(headers);
    }
    if let Some(pem) = cert_pem {
        b = b.tls_certs_only([reqwest::Certificate::from_pem(pem.as_bytes())?]);
    }
    Ok(b.build()?)
}

pub fn get_vms_request(id: u64) -> String {
    json!({
        "jsonrpc": "2.0",
        "id": id,
        "method": "tools/call",
        "params": {"name": "get_vms", "arguments": {}}
    })
    .to_string()
}

/// Fails unless `response` is a successful `get_vms` result listing VMs.
pub fn check_get_vms(response: &Value) -> Res<()> {
    let result = &response["result"];
    if result["isError"] == json!(true) || response.get("error").is_some() {
        return Err(format!("get_vms failed: {}", clip(&response.to_string())).into());
    }
    check_vm_list(&result["structuredContent"])
}

/// Fails unless `output` is `get_vms`'s output with at least one VM.
pub fn check_vm_list(output: &Value) -> Res<()> {
    match output["vms"].as_array() {
        Some(vms) if !vms.is_empty() => Ok(()),
        _ => Err(format!("not a VM list: {}", clip(&output.to_string())).into()),
    }
}

/// `GET /api2/json/cluster/resources?type=vm` straight to the simulator, with the token.
#[derive(Debug)]
pub struct Direct {
    client: reqwest::Client,
    url: String,
    auth: String,
}

impl Direct {
    pub fn new(client: reqwest::Client, url: String, auth: String) -> Self {
        Self { client, url, auth }
    }

    pub async fn call(&self) -> Res<bytes::Bytes> {
        let resp = self
            .client
            .get(&self.url)
            .header("Authorization", &self.auth)
            .timeout(ANSWER_TIMEOUT)
            .send()
            .await?;
        if !resp.status().is_success() {
            return Err(format!("direct request: {}", resp.status()).into());
        }
        Ok(resp.bytes().await?)
    }
}

/// A Streamable HTTP session (initialized).
#[derive(Debug)]
pub struct Streamable {
    session: Session,
}

impl Streamable {
    pub async fn connect(client: reqwest::Client, url: String) -> Res<Self> {
        Ok(Self {
            session: Session::connect(client, url).await?,
        })
    }

    /// Sends `tools/call get_vms`; returns the request id and the answer body.
    pub async fn call(&mut self) -> Res<(u64, bytes::Bytes)> {
        let id = self.session.next_id();
        Ok((id, self.session.post_raw(get_vms_request(id)).await?))
    }
}

/// `POST /get_vms` with `{}` on the REST door.
#[derive(Debug)]
pub struct Rest {
    client: reqwest::Client,
    url: String,
}

impl Rest {
    pub fn new(client: reqwest::Client, url: String) -> Self {
        Self { client, url }
    }

    pub async fn call(&self) -> Res<bytes::Bytes> {
        let resp = self
            .client
            .post(&self.url)
            .header(CONTENT_TYPE, "application/json")
            .timeout(ANSWER_TIMEOUT)
            .body("{}")
            .send()
            .await?;
        if !resp.status().is_success() {
            return Err(format!("REST POST answered {}", resp.status()).into());
        }
        Ok(resp.bytes().await?)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_tool_error_is_not_a_vm_list() {
        let ok = json!({"id": 1, "result": {"structuredContent": {"vms": [{"vmid": 100}]}}});
        assert!(check_get_vms(&ok).is_ok());
        let err = json!({"id": 1, "result": {"isError": true, "structuredContent": {"vms": [1]}}});
        assert!(check_get_vms(&err).is_err());
        let empty = json!({"id": 1, "result": {"structuredContent": {"vms": []}}});
        assert!(check_get_vms(&empty).is_err());
    }
}
