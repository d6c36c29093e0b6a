//! The floor of the gateway benchmark: the least a gateway built on the project's stack (tokio on
//! one thread, axum, reqwest with rustls) does per call. `POST /get_vms` sends
//! `GET /cluster/resources?type=vm` to the simulator over one keep-alive HTTPS connection and
//! returns its body as received: no MCP, no key check, no decoding or encoding, no log line.
//!
//! Started by the `gateway` benchmark, which measures it like a door of the server:
//! `relay ADDR:PORT UPSTREAM_URL AUTHORIZATION [CERT_PEM_FILE]`.

use std::net::SocketAddr;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;

type Res<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

#[derive(Clone)]
struct Upstream {
    client: reqwest::Client,
    url: String,
    authorization: String,
}

async fn get_vms(State(up): State<Upstream>) -> Result<Bytes, (StatusCode, String)> {
    let bad_gateway = |e: reqwest::Error| (StatusCode::BAD_GATEWAY, e.to_string());
    let resp = up
        .client
        .get(&up.url)
        .header(reqwest::header::AUTHORIZATION, &up.authorization)
        .send()
        .await
        .map_err(bad_gateway)?;
    if !resp.status().is_success() {
        return Err((
            StatusCode::BAD_GATEWAY,
            format!("upstream answered {}", resp.status()),
        ));
    }
    resp.bytes().await.map_err(bad_gateway)
}

fn main() -> Res<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [listen, url, authorization, rest @ ..] = args.as_slice() else {
        return Err("usage: relay ADDR:PORT UPSTREAM_URL AUTHORIZATION [CERT_PEM_FILE]".into());
    };
    let listen: SocketAddr = listen.parse()?;
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut builder = reqwest::Client::builder()
        .http1_only()
        .tcp_nodelay(true)
        .no_proxy();
    if let Some(pem_file) = rest.first() {
        let pem = std::fs::read(pem_file)?;
        builder = builder.tls_certs_only([reqwest::Certificate::from_pem(&pem)?]);
    }
    let upstream = Upstream {
        client: builder.build()?,
        url: url.clone(),
        authorization: authorization.clone(),
    };
    let app = Router::new()
        .route("/get_vms", post(get_vms))
        .with_state(upstream);
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(async move {
            let listener = tokio::net::TcpListener::bind(listen).await?;
            axum::serve(listener, app).await?;
            Ok(())
        })
}
