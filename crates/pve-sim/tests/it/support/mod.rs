//! Test support: start a simulator, call it with a token, a ticket or nothing.

pub mod schema;
pub mod ssh;
pub mod values;

use std::sync::Once;

use pve_sim::{SimConfig, SimServer};
use serde_json::Value;

/// The admin token every test server accepts.
pub const TOKEN: &str = "root@pam!test=11111111-2222-3333-4444-555555555555";

/// How a request authenticates.
#[derive(Debug, Clone)]
pub enum Auth {
    None,
    Token(String),
    Ticket {
        ticket: String,
        csrf: Option<String>,
    },
}

impl Auth {
    pub fn token() -> Self {
        Auth::Token(TOKEN.to_string())
    }
}

/// An answer: status, headers and the JSON body (`Null` if not JSON).
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Resp {
    pub fn data(&self) -> &Value {
        &self.body["data"]
    }

    pub fn message(&self) -> &str {
        self.body["message"].as_str().unwrap_or("")
    }

    pub fn error(&self, param: &str) -> &str {
        self.body["errors"][param].as_str().unwrap_or("")
    }
}

/// A running simulator plus a keep-alive client.
pub struct TestSim {
    pub server: SimServer,
    pub client: reqwest::Client,
}

pub fn install_provider() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// Plain HTTP, demo cluster, tasks at normal speed (tests advance the clock).
pub async fn start() -> TestSim {
    start_with(false, pve_sim::seed::demo()).await
}

pub async fn start_with(tls: bool, cluster: pve_sim::state::Cluster) -> TestSim {
    install_provider();
    let config = SimConfig {
        tls,
        api_tokens: vec![TOKEN.to_string()],
        ..SimConfig::default()
    };
    let server = pve_sim::spawn(config, cluster).await.unwrap();
    let client = reqwest::Client::builder()
        .tls_danger_accept_invalid_certs(true)
        .build()
        .unwrap();
    TestSim { server, client }
}

impl TestSim {
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        auth: &Auth,
        params: &[(&str, &str)],
    ) -> Resp {
        let url = format!("{}{}", self.server.base_url(), path);
        let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self.client.request(m, url);
        req = if matches!(method, "GET" | "DELETE") {
            req.query(params)
        } else {
            req.form(params)
        };
        req = with_auth(req, auth);
        into_resp(req.send().await.unwrap()).await
    }

    pub async fn get(&self, path: &str, params: &[(&str, &str)]) -> Resp {
        self.call("GET", path, &Auth::token(), params).await
    }

    pub async fn post(&self, path: &str, params: &[(&str, &str)]) -> Resp {
        self.call("POST", path, &Auth::token(), params).await
    }

    /// POSTs a JSON body.
    pub async fn post_json(&self, path: &str, auth: &Auth, body: &Value) -> Resp {
        self.call_json("POST", path, auth, body).await
    }

    /// Sends a JSON body with any method.
    pub async fn call_json(&self, method: &str, path: &str, auth: &Auth, body: &Value) -> Resp {
        let url = format!("{}{}", self.server.base_url(), path);
        let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let req = with_auth(self.client.request(m, url).json(body), auth);
        into_resp(req.send().await.unwrap()).await
    }

    /// Sends a raw body (with its content type) and a raw query string.
    pub async fn call_raw(
        &self,
        method: &str,
        path_and_query: &str,
        auth: &Auth,
        content_type: &str,
        body: String,
    ) -> Resp {
        let url = format!("{}{}", self.server.base_url(), path_and_query);
        let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let req = self
            .client
            .request(m, url)
            .header("Content-Type", content_type)
            .body(body);
        into_resp(with_auth(req, auth).send().await.unwrap()).await
    }

    /// A ticket of root@pam with its CSRF token (root@pam itself, not a token of it).
    pub async fn root(&self) -> Auth {
        let (ticket, csrf) = self.login().await;
        Auth::Ticket {
            ticket,
            csrf: Some(csrf),
        }
    }

    /// Logs in as root@pam with the demo password; returns (ticket, csrf).
    pub async fn login(&self) -> (String, String) {
        let r = self
            .call(
                "POST",
                "/access/ticket",
                &Auth::None,
                &[("username", "root@pam"), ("password", "demo")],
            )
            .await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        (
            r.data()["ticket"].as_str().unwrap().to_string(),
            r.data()["CSRFPreventionToken"]
                .as_str()
                .unwrap()
                .to_string(),
        )
    }

    /// Calls an admin route (`/_sim/...`) with the admin token and a JSON body.
    pub async fn admin(&self, method: &str, path: &str, body: Option<&Value>) -> Resp {
        let url = format!("{}{}", self.server.origin(), path);
        let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = with_auth(self.client.request(m, url), &Auth::token());
        if let Some(b) = body {
            req = req.json(b);
        }
        into_resp(req.send().await.unwrap()).await
    }
}

pub fn with_auth(req: reqwest::RequestBuilder, auth: &Auth) -> reqwest::RequestBuilder {
    match auth {
        Auth::None => req,
        Auth::Token(t) => req.header("Authorization", format!("PVEAPIToken={t}")),
        Auth::Ticket { ticket, csrf } => {
            let cookie = format!(
                "PVEAuthCookie={}",
                percent_encoding::utf8_percent_encode(ticket, percent_encoding::NON_ALPHANUMERIC)
            );
            let req = req.header("Cookie", cookie);
            match csrf {
                Some(c) => req.header("CSRFPreventionToken", c),
                None => req,
            }
        }
    }
}

pub async fn into_resp(r: reqwest::Response) -> Resp {
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let bytes = r.bytes().await.unwrap();
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Resp {
        status,
        headers,
        body,
    }
}

/// Sends raw bytes over plain TCP and returns the whole answer (status line included).
pub async fn raw_http(addr: std::net::SocketAddr, request: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(request.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out).await;
    String::from_utf8_lossy(&out).into_owned()
}
