//! TLS modes against the simulator's self-signed certificate: CA file, pinned fingerprint
//! (right and wrong), insecure, and the system store (which must refuse it).

use pve_client::{ErrorKind, PveClient, TlsMode};

use crate::support::{Opts, env, spawn_sim};

fn temp_file(name: &str, text: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("pve-client-it-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[tokio::test]
async fn ca_file_with_the_server_certificate_is_trusted() {
    let env = env().await;
    let ca = temp_file("sim-ca.pem", env.sim.cert_pem());
    let client = env.client_with(|c| c.tls = TlsMode::CaFile(ca));
    assert!(!client.version().await.unwrap().version.is_empty());
    env.finish();
}

#[tokio::test]
async fn ca_file_of_another_server_is_refused() {
    let env = env().await;
    let other = spawn_sim(&Opts::default()).await;
    let ca = temp_file("other-ca.pem", other.cert_pem());
    let client = env.client_with(|c| c.tls = TlsMode::CaFile(ca));
    let e = client.version().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Tls, "{e}");
    assert!(e.to_string().contains("TLS with 127.0.0.1:"), "{e}");
    assert!(env.requests().is_empty(), "no request got through");
    env.finish();
}

#[tokio::test]
async fn pinned_fingerprint_right_and_wrong() {
    let env = env().await;
    // env() pins the right one.
    env.client.version().await.unwrap();
    let other = spawn_sim(&Opts::default()).await;
    let wrong = pve_client::config::parse_fingerprint(other.fingerprint()).unwrap();
    let client = env.client_with(|c| c.tls = TlsMode::Fingerprint(wrong));
    let e = client.version().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Tls);
    let text = e.to_string();
    assert!(text.contains("certificate fingerprint mismatch"), "{text}");
    assert!(
        text.contains(other.fingerprint()) && text.contains(env.sim.fingerprint()),
        "{text}"
    );
    assert_eq!(
        env.count("GET", "/version"),
        1,
        "the mismatching client got nothing through"
    );
    env.finish();
}

#[tokio::test]
async fn insecure_accepts_any_certificate() {
    let env = env().await;
    let client = env.client_with(|c| c.tls = TlsMode::Insecure);
    client.version().await.unwrap();
    env.finish();
}

#[tokio::test]
async fn system_store_refuses_a_self_signed_certificate() {
    let env = env().await;
    let mut cfg = env.client.config().clone();
    cfg.tls = TlsMode::System;
    match PveClient::new(cfg) {
        Ok(client) => {
            let e = client.version().await.unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Tls, "{e}");
        }
        // A machine without any CA bundle: the client says so at build time.
        Err(e) => assert!(e.to_string().contains("system trust store"), "{e}"),
    }
    env.finish();
}
