//! TLS for the PVE client: a `rustls::ClientConfig` on the ring provider for each [`TlsMode`].
//!
//! - System: the OS trust store (`rustls-native-certs`), hostname checked.
//! - CA file: only the given CAs, hostname checked.
//! - Fingerprint: exactly the pinned certificate (SHA-256 of its DER), whatever its name or dates;
//!   handshake signatures are still verified, so a stolen certificate without its key is useless.
//! - Insecure: anything, with a warning logged once per process.

use std::sync::{Arc, Once};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};
use sha2::{Digest, Sha256};

use crate::config::{TlsMode, format_fingerprint};
use crate::error::Error;

static INSECURE_WARNING: Once = Once::new();

/// Builds the rustls configuration for a TLS mode (HTTP/1.1 only, as PVE speaks).
pub fn rustls_config(mode: &TlsMode) -> Result<rustls::ClientConfig, Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::config(format!("TLS setup failed: {e}")))?;
    let mut config = match mode {
        TlsMode::System => builder
            .with_root_certificates(system_roots()?)
            .with_no_client_auth(),
        TlsMode::CaFile(path) => builder
            .with_root_certificates(ca_file_roots(path)?)
            .with_no_client_auth(),
        TlsMode::Fingerprint(fp) => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(PinnedCert::new(*fp, &provider)))
            .with_no_client_auth(),
        TlsMode::Insecure => {
            INSECURE_WARNING.call_once(|| {
                tracing::warn!(
                    "TLS certificate verification is OFF (PROXMOX_VERIFY_SSL=false): anyone on the \
                     path can impersonate the PVE API. Prefer PROXMOX_FINGERPRINT or PROXMOX_CA_FILE."
                );
            });
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(AnyCert::new(&provider)))
                .with_no_client_auth()
        }
    };
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// A configuration that accepts any certificate, for reading what a server presents (its
/// fingerprint) and never for sending requests: handshake signatures are still checked, the
/// certificate is not. Logs nothing (unlike [`TlsMode::Insecure`]).
pub fn inspection_config() -> Result<rustls::ClientConfig, Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(
        rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| Error::config(format!("TLS setup failed: {e}")))?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AnyCert::new(&provider)))
            .with_no_client_auth(),
    )
}

/// A readable message for a rustls error (our fingerprint mismatch included, which rustls
/// itself would print with `Debug`).
pub fn describe_rustls_error(e: &rustls::Error) -> String {
    if let rustls::Error::InvalidCertificate(CertificateError::Other(other)) = e {
        if let Some(m) = other.0.downcast_ref::<FingerprintMismatch>() {
            return m.to_string();
        }
        return format!("invalid peer certificate: {}", other.0);
    }
    e.to_string()
}

/// SHA-256 of a DER certificate.
pub fn cert_fingerprint(der: &[u8]) -> [u8; 32] {
    Sha256::digest(der).into()
}

fn system_roots() -> Result<RootCertStore, Error> {
    let found = rustls_native_certs::load_native_certs();
    for e in &found.errors {
        tracing::debug!(error = %e, "skipping part of the system trust store");
    }
    let mut roots = RootCertStore::empty();
    let (added, _ignored) = roots.add_parsable_certificates(found.certs);
    if added == 0 {
        return Err(Error::config(
            "no usable CA certificates in the system trust store; set PROXMOX_CA_FILE or PROXMOX_FINGERPRINT",
        ));
    }
    Ok(roots)
}

fn ca_file_roots(path: &std::path::Path) -> Result<RootCertStore, Error> {
    let shown = path.display();
    let pem = std::fs::read(path)
        .map_err(|e| Error::config(format!("cannot read CA file {shown}: {e}")))?;
    let mut roots = RootCertStore::empty();
    let mut count = 0usize;
    for cert in rustls_pemfile::certs(&mut pem.as_slice()) {
        let cert =
            cert.map_err(|e| Error::config(format!("CA file {shown} is not valid PEM: {e}")))?;
        roots.add(cert).map_err(|e| {
            Error::config(format!(
                "CA file {shown} holds an unusable certificate: {e}"
            ))
        })?;
        count += 1;
    }
    if count == 0 {
        return Err(Error::config(format!(
            "CA file {shown} holds no certificate"
        )));
    }
    Ok(roots)
}

/// The error carried inside rustls when the pinned fingerprint does not match.
#[derive(Debug, thiserror::Error)]
#[error("certificate fingerprint mismatch: expected {expected}, server presented {got}")]
pub struct FingerprintMismatch {
    /// The pinned fingerprint, `AA:BB:...`.
    pub expected: String,
    /// The presented certificate's fingerprint.
    pub got: String,
}

/// Accepts exactly one certificate, by SHA-256 of its DER.
#[derive(Debug)]
struct PinnedCert {
    fingerprint: [u8; 32],
    algs: WebPkiSupportedAlgorithms,
}

impl PinnedCert {
    fn new(fingerprint: [u8; 32], provider: &CryptoProvider) -> Self {
        Self {
            fingerprint,
            algs: provider.signature_verification_algorithms,
        }
    }
}

impl ServerCertVerifier for PinnedCert {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let got = cert_fingerprint(end_entity.as_ref());
        // Not secret material: a plain comparison is fine.
        if got == self.fingerprint {
            Ok(ServerCertVerified::assertion())
        } else {
            let mismatch = FingerprintMismatch {
                expected: format_fingerprint(&self.fingerprint),
                got: format_fingerprint(&got),
            };
            Err(rustls::Error::InvalidCertificate(CertificateError::Other(
                rustls::OtherError(Arc::new(mismatch)),
            )))
        }
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

/// Accepts any certificate (insecure mode); still checks handshake signatures.
#[derive(Debug)]
struct AnyCert {
    algs: WebPkiSupportedAlgorithms,
}

impl AnyCert {
    fn new(provider: &CryptoProvider) -> Self {
        Self {
            algs: provider.signature_verification_algorithms,
        }
    }
}

impl ServerCertVerifier for AnyCert {
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn pinned_verifier_accepts_only_its_certificate() {
        let provider = rustls::crypto::ring::default_provider();
        let der = CertificateDer::from(vec![1u8, 2, 3, 4]);
        let other = CertificateDer::from(vec![9u8, 9, 9]);
        let v = PinnedCert::new(cert_fingerprint(der.as_ref()), &provider);
        let name = ServerName::try_from("anything.invalid").unwrap();
        assert!(
            v.verify_server_cert(&der, &[], &name, &[], UnixTime::now())
                .is_ok()
        );
        let e = v
            .verify_server_cert(&other, &[], &name, &[], UnixTime::now())
            .unwrap_err();
        let e = describe_rustls_error(&e);
        assert!(e.contains("fingerprint mismatch"), "{e}");
        assert!(
            e.contains(&format_fingerprint(&cert_fingerprint(&[1, 2, 3, 4]))),
            "{e}"
        );
    }

    #[test]
    fn ca_file_errors_are_config_errors() {
        let e = rustls_config(&TlsMode::CaFile("/nonexistent/ca.pem".into())).unwrap_err();
        assert!(e.to_string().contains("cannot read CA file"), "{e}");
        let dir = std::env::temp_dir().join(format!("pve-client-tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let empty = dir.join("empty.pem");
        std::fs::write(&empty, "not a pem\n").unwrap();
        let e = rustls_config(&TlsMode::CaFile(empty)).unwrap_err();
        assert!(e.to_string().contains("holds no certificate"), "{e}");
        std::fs::remove_dir_all(&dir).ok();
    }
}
