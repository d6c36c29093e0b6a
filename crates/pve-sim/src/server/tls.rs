//! The simulator's TLS identity: a self-signed certificate generated at start (like a fresh
//! PVE node's), its SHA-256 fingerprint in PVE's notation, and the rustls server config (ring
//! provider only).

use std::sync::Arc;

use rcgen::{CertificateParams, DistinguishedName, DnType, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use sha2::{Digest, Sha256};

use crate::server::SimError;

/// A generated certificate and key.
#[derive(Clone)]
pub(super) struct TlsIdentity {
    pub cert_pem: String,
    pub cert_der: CertificateDer<'static>,
    key_der: Vec<u8>,
    /// SHA-256 of the certificate, colon-separated uppercase hex (`AB:CD:...`), as PVE shows it.
    pub fingerprint: String,
}

impl std::fmt::Debug for TlsIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsIdentity")
            .field("fingerprint", &self.fingerprint)
            .finish_non_exhaustive()
    }
}

impl TlsIdentity {
    /// A self-signed certificate for `localhost`, `127.0.0.1`, `::1` and any `extra_names`.
    pub(super) fn generate(extra_names: &[String]) -> Result<Self, SimError> {
        let mut names = vec![
            "localhost".to_string(),
            "127.0.0.1".to_string(),
            "::1".to_string(),
        ];
        names.extend(
            extra_names
                .iter()
                .filter(|n| !names.contains(n))
                .cloned()
                .collect::<Vec<_>>(),
        );
        let mut params = CertificateParams::new(names).map_err(|e| SimError::Tls(e.to_string()))?;
        let mut dn = DistinguishedName::new();
        dn.push(DnType::OrganizationName, "PVE Cluster Node");
        dn.push(DnType::OrganizationalUnitName, "PVE Simulator");
        dn.push(DnType::CommonName, "pve-sim.localdomain");
        params.distinguished_name = dn;
        let key = KeyPair::generate().map_err(|e| SimError::Tls(e.to_string()))?;
        let cert = params
            .self_signed(&key)
            .map_err(|e| SimError::Tls(e.to_string()))?;
        let cert_der = cert.der().clone();
        Ok(Self {
            cert_pem: cert.pem(),
            fingerprint: fingerprint(&cert_der),
            cert_der,
            key_der: key.serialize_der(),
        })
    }

    /// The rustls server configuration (ring provider, TLS 1.2 and 1.3, HTTP/1.1 via ALPN).
    pub(super) fn server_config(&self) -> Result<Arc<rustls::ServerConfig>, SimError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key_der.clone()));
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| SimError::Tls(e.to_string()))?
            .with_no_client_auth()
            .with_single_cert(vec![self.cert_der.clone()], key)
            .map_err(|e| SimError::Tls(e.to_string()))?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }
}

/// SHA-256 of DER bytes as colon-separated uppercase hex.
pub(super) fn fingerprint(der: &[u8]) -> String {
    let digest = Sha256::digest(der);
    digest
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn generates_cert_with_pve_style_fingerprint() {
        let id = TlsIdentity::generate(&[]).unwrap();
        assert!(id.cert_pem.starts_with("-----BEGIN CERTIFICATE-----"));
        assert_eq!(id.fingerprint.len(), 32 * 3 - 1);
        assert!(
            id.fingerprint
                .chars()
                .all(|c| c == ':' || c.is_ascii_digit() || c.is_ascii_uppercase())
        );
        assert_eq!(id.fingerprint, fingerprint(&id.cert_der));
        assert!(id.server_config().is_ok());
    }
}
