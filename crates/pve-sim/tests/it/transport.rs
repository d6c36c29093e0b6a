//! Transport: HTTPS with the generated certificate (trusted through `cert_pem()`), the
//! fingerprint in PVE's notation, JSON bodies, the banner, graceful shutdown.

use base64::Engine as _;
use clap::Parser;
use pve_sim::cli::SimArgs;
use sha2::{Digest, Sha256};

use crate::support::{TOKEN, install_provider, start_with};

#[tokio::test]
async fn https_with_the_generated_certificate() {
    let sim = start_with(true, pve_sim::seed::minimal()).await;
    assert!(sim.server.base_url().starts_with("https://127.0.0.1:"));
    install_provider();
    let cert = reqwest::Certificate::from_pem(sim.server.cert_pem().as_bytes()).unwrap();
    let client = reqwest::Client::builder()
        .tls_certs_only([cert])
        .build()
        .unwrap();
    for _ in 0..3 {
        let r = client
            .get(format!("{}/version", sim.server.base_url()))
            .header("Authorization", format!("PVEAPIToken={TOKEN}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(body["data"]["release"], "9.1");
    }
    // The fingerprint is the SHA-256 of the certificate's DER, as PVE prints it.
    let pem = sim.server.cert_pem();
    let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap();
    let want: Vec<String> = Sha256::digest(&der)
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect();
    assert_eq!(sim.server.fingerprint(), want.join(":"));
}

#[tokio::test]
async fn shutdown_stops_serving() {
    let sim = start_with(false, pve_sim::seed::minimal()).await;
    let addr = sim.server.addr();
    assert_eq!(sim.get("/version", &[]).await.status, 200);
    drop(sim.client);
    sim.server.shutdown().await;
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}

#[test]
fn banner_says_what_is_in_effect() {
    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: SimArgs,
    }
    let cli = Cli::parse_from([
        "pve-sim",
        "--api-token",
        "root@pam!ci=abc",
        "--plain-http",
        "--time-scale",
        "0",
    ]);
    assert_eq!(cli.args.listen.to_string(), "127.0.0.1:8006");
    let config = cli.args.config();
    assert!(!config.tls);
    assert_eq!(config.time_scale, 0.0);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let mut args = cli.args.clone();
        args.listen = "127.0.0.1:0".parse().unwrap();
        let server = pve_sim::spawn(args.config(), pve_sim::seed::minimal())
            .await
            .unwrap();
        let banner = pve_sim::cli::banner(&args, &server);
        assert!(banner.contains(&server.base_url()), "{banner}");
        assert!(banner.contains(server.fingerprint()));
        assert!(banner.contains("password: demo"));
        assert!(banner.contains("demo default"));
        assert!(banner.contains("root@pam!ci=abc"));
        server.shutdown().await;
    });
}
