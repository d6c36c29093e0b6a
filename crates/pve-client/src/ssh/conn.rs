//! One SSH connection to a node: TCP, key exchange with the node's host key checked against the
//! trust settings before anything else is sent, then public-key authentication. Also the probe
//! that reads a node's host key without authenticating (for `doctor`).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use russh::client::{self, Handle};
use russh::keys::{Algorithm, HashAlg, PrivateKey, PrivateKeyWithHashAlg, PublicKey};
use russh::{Preferred, keys::PublicKeyOrCertificate};

use super::trust::{Peer, Trust, same_kind};
use crate::error::{Error, ErrorKind, human_duration};

/// An authenticated connection; channels are opened on [`Connection::handle`].
pub(crate) struct Connection {
    pub handle: Handle<Checker>,
}

/// What one connection attempt needs.
pub(crate) struct Dial<'a> {
    pub node: &'a str,
    pub host: &'a str,
    pub port: u16,
    pub user: &'a str,
    pub key: &'a Arc<PrivateKey>,
    pub trust: &'a Arc<Trust>,
    pub timeout: Duration,
}

impl Dial<'_> {
    fn peer(&self) -> Peer<'_> {
        Peer {
            node: self.node,
            host: self.host,
            port: self.port,
        }
    }

    fn at(&self) -> String {
        format!("node {} ({}:{})", self.node, self.host, self.port)
    }

    /// Connects, checks the host key, authenticates; bounded by `timeout` as a whole.
    pub async fn connect(&self) -> Result<Connection, Error> {
        let checker = Checker {
            node: self.node.to_owned(),
            host: self.host.to_owned(),
            port: self.port,
            trust: Some(self.trust.clone()),
            seen: Arc::default(),
        };
        let config = client_config(&self.trust.known_algorithms(&self.peer()));
        let attempt = async {
            let mut handle = client::connect(config, (self.host, self.port), checker)
                .await
                .map_err(|e| self.error(e))?;
            let hash = if matches!(self.key.algorithm(), Algorithm::Rsa { .. }) {
                // No server-sig-algs: assume a current OpenSSH (rsa-sha2-512), never SHA-1.
                handle
                    .best_supported_rsa_hash()
                    .await
                    .map_err(|e| self.error(e.into()))?
                    .unwrap_or(Some(HashAlg::Sha512))
            } else {
                None
            };
            let auth = handle
                .authenticate_publickey(
                    self.user,
                    PrivateKeyWithHashAlg::new(self.key.clone(), hash),
                )
                .await
                .map_err(|e| self.error(e.into()))?;
            if !auth.success() {
                return Err(Error::new(
                    ErrorKind::Auth,
                    format!(
                        "{} refused SSH key authentication as {}: is the public key of the \
                         configured key file in that user's ~/.ssh/authorized_keys?",
                        self.at(),
                        self.user
                    ),
                ));
            }
            Ok(Connection { handle })
        };
        match tokio::time::timeout(self.timeout, attempt).await {
            Ok(result) => result,
            Err(_) => Err(Error::new(
                ErrorKind::Timeout,
                format!(
                    "SSH to {} did not connect and authenticate within {}",
                    self.at(),
                    human_duration(self.timeout)
                ),
            )),
        }
    }

    /// Reads the host key the node presents, without authenticating and without trusting it.
    pub async fn probe(&self) -> Result<PublicKey, Error> {
        let seen: Arc<Mutex<Option<PublicKey>>> = Arc::default();
        let checker = Checker {
            node: self.node.to_owned(),
            host: self.host.to_owned(),
            port: self.port,
            trust: None,
            seen: seen.clone(),
        };
        let config = client_config(&self.trust.known_algorithms(&self.peer()));
        let attempt = client::connect(config, (self.host, self.port), checker);
        let outcome = tokio::time::timeout(self.timeout, attempt).await;
        let key = seen.lock().ok().and_then(|mut k| k.take());
        match (key, outcome) {
            (Some(key), _) => Ok(key),
            (None, Err(_)) => Err(Error::new(
                ErrorKind::Timeout,
                format!(
                    "{} did not present an SSH host key within {}",
                    self.at(),
                    human_duration(self.timeout)
                ),
            )),
            (None, Ok(Err(e))) => Err(self.error(e)),
            (None, Ok(Ok(_))) => Err(Error::protocol(format!(
                "{} completed an SSH key exchange without presenting a host key",
                self.at()
            ))),
        }
    }

    /// A failed connection attempt, worded with the node and address.
    fn error(&self, e: HandlerError) -> Error {
        match e {
            HandlerError::HostKey(e) => e,
            HandlerError::Ssh(e) => ssh_error(&self.at(), e),
        }
    }
}

/// A russh failure on the connection to `at`.
pub(crate) fn ssh_error(at: &str, e: russh::Error) -> Error {
    let (kind, what) = match &e {
        russh::Error::IO(io) => (
            ErrorKind::Unreachable,
            format!("cannot reach {at} over SSH: {io}"),
        ),
        russh::Error::Disconnect | russh::Error::HUP | russh::Error::SendError => (
            ErrorKind::Unreachable,
            format!("the SSH connection to {at} closed"),
        ),
        russh::Error::KeepaliveTimeout | russh::Error::ConnectionTimeout => (
            ErrorKind::Unreachable,
            format!("the SSH connection to {at} stopped answering"),
        ),
        russh::Error::NoCommonAlgo { kind, theirs, .. } => (
            ErrorKind::Protocol,
            format!(
                "{at} offers no SSH {kind:?} algorithm this client accepts (it offers {theirs:?})"
            ),
        ),
        other => (
            ErrorKind::Protocol,
            format!("SSH with {at} failed: {other}"),
        ),
    };
    Error::new(kind, what).with_source(e)
}

/// The client settings: keepalives so a dead node is noticed, host-key algorithms already on
/// file offered first.
fn client_config(known: &[Algorithm]) -> Arc<client::Config> {
    let defaults = Preferred::DEFAULT.key;
    let kind_known = |a: &Algorithm| known.iter().any(|k| same_kind(k, a));
    let mut keys: Vec<Algorithm> = defaults.iter().filter(|a| kind_known(a)).cloned().collect();
    keys.extend(defaults.iter().filter(|a| !kind_known(a)).cloned());
    Arc::new(client::Config {
        keepalive_interval: Some(Duration::from_secs(30)),
        keepalive_max: 3,
        nodelay: true,
        preferred: Preferred {
            key: keys.into(),
            ..Preferred::DEFAULT
        },
        ..client::Config::default()
    })
}

/// The russh handler: checks (or, for a probe, records) the host key.
pub(crate) struct Checker {
    node: String,
    host: String,
    port: u16,
    /// `None` for a probe: record the key and refuse it.
    trust: Option<Arc<Trust>>,
    seen: Arc<Mutex<Option<PublicKey>>>,
}

/// The handler's error: russh's own, or a host key we refused.
#[derive(Debug)]
pub(crate) enum HandlerError {
    Ssh(russh::Error),
    HostKey(Error),
}

impl From<russh::Error> for HandlerError {
    fn from(e: russh::Error) -> Self {
        HandlerError::Ssh(e)
    }
}

impl client::Handler for Checker {
    type Error = HandlerError;

    async fn check_server_key(
        &mut self,
        offered: &PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        let PublicKeyOrCertificate::PublicKey { key, .. } = offered else {
            return Err(HandlerError::HostKey(Error::new(
                ErrorKind::HostKey,
                format!(
                    "node {} ({}:{}) presented an SSH host certificate; only plain host keys \
                     are checked (pins or known_hosts)",
                    self.node, self.host, self.port
                ),
            )));
        };
        if let Ok(mut seen) = self.seen.lock() {
            *seen = Some(key.clone());
        }
        let Some(trust) = &self.trust else {
            return Ok(false);
        };
        let peer = Peer {
            node: &self.node,
            host: &self.host,
            port: self.port,
        };
        trust
            .check(&peer, key)
            .map(|()| true)
            .map_err(HandlerError::HostKey)
    }
}
