//! Reaching the cluster below the API: a TCP connection, then (for HTTPS) a TLS handshake that
//! accepts any certificate only to read it, so the doctor can show the SHA-256 fingerprint of
//! what the server presents. Whether that certificate is *trusted* is decided elsewhere, by the
//! ordinary client with the configured TLS mode; nothing here is used to send requests.

use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::ServerName;
use tokio::net::TcpStream;

/// What the probe found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Probe {
    /// The address connected to (`10.0.0.5:8006`).
    pub(crate) peer: String,
    /// SHA-256 of the server certificate (`AA:BB:...`), for HTTPS.
    pub(crate) fingerprint: Option<String>,
}

/// Why the probe failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ProbeError {
    #[error("cannot connect to {target}: {reason}")]
    Connect { target: String, reason: String },
    #[error("TLS handshake with {target} failed: {reason}")]
    Tls { target: String, reason: String },
}

/// Connects to `host:port` within `timeout`; with `tls`, completes a handshake and reads the
/// server certificate.
pub(crate) async fn probe(
    host: &str,
    port: u16,
    tls: bool,
    timeout: Duration,
) -> Result<Probe, ProbeError> {
    let target = if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    let connect_err = |reason: String| ProbeError::Connect {
        target: target.clone(),
        reason,
    };
    let tcp = tokio::time::timeout(timeout, TcpStream::connect((host, port)))
        .await
        .map_err(|_| connect_err(format!("no answer within {} s", timeout.as_secs())))?
        .map_err(|e| connect_err(e.to_string()))?;
    let peer = tcp
        .peer_addr()
        .map(|a| a.to_string())
        .unwrap_or_else(|_| target.clone());
    if !tls {
        return Ok(Probe {
            peer,
            fingerprint: None,
        });
    }
    let tls_err = |reason: String| ProbeError::Tls {
        target: target.clone(),
        reason,
    };
    let config = pve_client::tls::inspection_config().map_err(|e| tls_err(e.to_string()))?;
    let name = ServerName::try_from(host.to_string()).map_err(|e| tls_err(e.to_string()))?;
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let stream = tokio::time::timeout(timeout, connector.connect(name, tcp))
        .await
        .map_err(|_| tls_err(format!("no answer within {} s", timeout.as_secs())))?
        .map_err(|e| tls_err(e.to_string()))?;
    let (_, conn) = stream.get_ref();
    let fingerprint = conn
        .peer_certificates()
        .and_then(|certs| certs.first())
        .map(|der| pve_client::config::format_fingerprint(&pve_client::tls::cert_fingerprint(der)));
    Ok(Probe { peer, fingerprint })
}
