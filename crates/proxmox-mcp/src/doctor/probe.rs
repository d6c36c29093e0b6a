//! Reaching the cluster below the API: a TCP connection, then (for HTTPS) a TLS handshake that
//! accepts any certificate only to read it, so the doctor can show the SHA-256 fingerprint of
//! what the server presents. Whether that certificate is *trusted* is decided elsewhere, by the
//! ordinary client with the configured TLS mode; nothing here is used to send requests.

use std::sync::Arc;
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use tokio::net::TcpStream;

/// What the probe found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probe {
    /// The address connected to (`10.0.0.5:8006`).
    pub peer: String,
    /// SHA-256 of the server certificate (`AA:BB:...`), for HTTPS.
    pub fingerprint: Option<String>,
}

/// Why the probe failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProbeError {
    #[error("cannot connect to {target}: {reason}")]
    Connect { target: String, reason: String },
    #[error("TLS handshake with {target} failed: {reason}")]
    Tls { target: String, reason: String },
}

/// Connects to `host:port` within `timeout`; with `tls`, completes a handshake and reads the
/// server certificate.
pub async fn probe(
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
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| tls_err(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(ReadOnly::new(&provider)))
        .with_no_client_auth();
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

/// Accepts any certificate so it can be read (handshake signatures are still checked). Used for
/// this one handshake only; no request is sent over it.
#[derive(Debug)]
struct ReadOnly {
    algs: WebPkiSupportedAlgorithms,
}

impl ReadOnly {
    fn new(provider: &CryptoProvider) -> Self {
        Self {
            algs: provider.signature_verification_algorithms,
        }
    }
}

impl ServerCertVerifier for ReadOnly {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algs)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algs)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algs.supported_schemes()
    }
}
