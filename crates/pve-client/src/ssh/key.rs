//! A client key made in memory, never written to disk: for a simulator started with that key
//! authorized (the demo, benchmarks).

use russh::keys::PrivateKey;
use russh::keys::ssh_key::private::Ed25519Keypair;

use crate::error::Error;

/// A private key to log in with (see [`super::SshClient::with_key`]).
#[derive(Clone)]
pub struct ClientKey(pub(crate) PrivateKey);

impl std::fmt::Debug for ClientKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ClientKey(ed25519, in memory)")
    }
}

impl ClientKey {
    /// A new random ed25519 key.
    pub fn generate() -> Self {
        Self(PrivateKey::from(Ed25519Keypair::from_seed(
            &rand::random::<[u8; 32]>(),
        )))
    }

    /// Its public half in OpenSSH's one-line format (`ssh-ed25519 AAAA...`), for an
    /// authorized_keys line.
    pub fn public_openssh(&self) -> Result<String, Error> {
        self.0
            .public_key()
            .to_openssh()
            .map_err(|e| Error::config(format!("cannot encode the SSH public key: {e}")))
    }
}
