//! Benchmark: the PVE client's own overhead per call. Sends the same `GET /version` to the
//! simulator through `pve_client::PveClient::version()` and through a bare reqwest request
//! (same keep-alive connection reuse, same token header), interleaved, and prints the medians
//! and their difference in microseconds. Target: under 50 µs.
//!
//! `cargo run --release -p proxmox-mcp-bench --bin client_overhead [-- N]` (default N=2000)

use std::time::{Duration, Instant};

use pve_client::{ClientConfig, Credentials, PveClient, Scheme, Secret, TlsMode};
use pve_sim::{SimConfig, SimServer};

const USER: &str = "root@pam";
const TOKEN_NAME: &str = "bench";
const SECRET: &str = "00000000-0000-0000-0000-000000000000";
const WARMUP: usize = 200;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n: usize = std::env::args()
        .nth(1)
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(2000);
    let _ = rustls::crypto::ring::default_provider().install_default();
    println!(
        "GET /version, {n} calls each after {WARMUP} warm-up, interleaved, one keep-alive connection each"
    );
    for tls in [false, true] {
        let server = pve_sim::spawn(
            SimConfig {
                tls,
                api_tokens: vec![format!("{USER}!{TOKEN_NAME}={SECRET}")],
                ..SimConfig::default()
            },
            pve_sim::seed::minimal(),
        )
        .await?;
        let (client_us, bare_us) = run(&server, tls, n).await?;
        let label = if tls {
            "https (pinned fingerprint)"
        } else {
            "http"
        };
        println!(
            "{label}: median client {client_us:.1} µs, bare reqwest {bare_us:.1} µs, overhead {:.1} µs",
            client_us - bare_us
        );
        server.shutdown().await;
    }
    Ok(())
}

async fn run(
    server: &SimServer,
    tls: bool,
    n: usize,
) -> Result<(f64, f64), Box<dyn std::error::Error>> {
    let addr = server.addr();
    let credentials = Credentials::Token {
        name: TOKEN_NAME.into(),
        value: Secret::new(SECRET),
    };
    let mut cfg =
        ClientConfig::new(addr.ip().to_string(), USER, credentials).with_port(addr.port());
    if tls {
        let fp = pve_client::config::parse_fingerprint(server.fingerprint())?;
        cfg = cfg.with_tls(TlsMode::Fingerprint(fp));
    } else {
        cfg = cfg.with_scheme(Scheme::Http);
    }
    let client = PveClient::new(cfg)?;

    let mut bare_builder = reqwest::Client::builder().http1_only().tcp_nodelay(true);
    if tls {
        let cert = reqwest::Certificate::from_pem(server.cert_pem().as_bytes())?;
        bare_builder = bare_builder.tls_certs_only([cert]);
    }
    let bare = bare_builder.build()?;
    let url = format!("{}/version", server.base_url());
    let auth = format!("PVEAPIToken={USER}!{TOKEN_NAME}={SECRET}");

    let mut with_client = Vec::with_capacity(n);
    let mut with_bare = Vec::with_capacity(n);
    for i in 0..WARMUP + n {
        let t = Instant::now();
        let v = client.version().await?;
        let d_client = t.elapsed();
        std::hint::black_box(v);

        let t = Instant::now();
        let resp = bare.get(&url).header("Authorization", &auth).send().await?;
        if !resp.status().is_success() {
            return Err(format!("bare request: {}", resp.status()).into());
        }
        let body = resp.bytes().await?;
        let d_bare = t.elapsed();
        std::hint::black_box(body);

        if i >= WARMUP {
            with_client.push(d_client);
            with_bare.push(d_bare);
        }
    }
    Ok((median_us(&mut with_client), median_us(&mut with_bare)))
}

fn median_us(samples: &mut [Duration]) -> f64 {
    samples.sort_unstable();
    samples
        .get(samples.len() / 2)
        .map_or(0.0, |d| d.as_secs_f64() * 1e6)
}
