//! SSH settings: who logs in to the nodes, with which key, how their host keys are trusted
//! (a `known_hosts` file or pinned `SHA256:` fingerprints per node; never trust on first use),
//! where the nodes are (per-node overrides, else `/cluster/status`), and the limits.
//!
//! Read from `PROXMOX_SSH_*` variables given as a map, like [`crate::ClientConfig::from_env_map`].

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use russh::keys::HashAlg;
use russh::keys::ssh_key::Fingerprint;

use crate::config::{Secret, parse_secs, secret};
use crate::error::Error;

/// How the client reaches the nodes over SSH. Build with [`SshConfig::new`] or from the
/// environment with [`SshConfig::from_env_map`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SshConfig {
    /// Login user on the nodes (default `root`).
    pub user: String,
    /// SSH port of every node (default 22); an address override may name its own.
    pub port: u16,
    /// Private key in OpenSSH (or PEM) format: ed25519, ECDSA or RSA.
    pub key_file: PathBuf,
    /// Passphrase of an encrypted key.
    pub key_passphrase: Option<Secret>,
    /// An OpenSSH `known_hosts` file (plain or hashed names, `[host]:port` for other ports,
    /// `@revoked` lines honoured) checked for nodes without pins, under the node name and the
    /// address dialled.
    pub known_hosts: Option<PathBuf>,
    /// Pinned host-key fingerprints per node name; a pinned node accepts only these.
    pub pins: BTreeMap<String, Vec<HostKeyFingerprint>>,
    /// Per-node address overrides (`host`, `host:port`, `[v6]:port`); other nodes are reached
    /// at their `/cluster/status` address.
    pub addresses: BTreeMap<String, NodeAddress>,
    /// TCP connect, key exchange and authentication together (default 10 s).
    pub connect_timeout: Duration,
    /// Commands running at once on one node at most (default 4); more wait their turn.
    pub max_channels_per_node: usize,
}

impl SshConfig {
    /// Defaults (user `root`, port 22, no trust yet) with this private key.
    pub fn new(key_file: impl Into<PathBuf>) -> Self {
        Self {
            user: "root".to_owned(),
            port: 22,
            key_file: key_file.into(),
            key_passphrase: None,
            known_hosts: None,
            pins: BTreeMap::new(),
            addresses: BTreeMap::new(),
            connect_timeout: Duration::from_secs(10),
            max_channels_per_node: 4,
        }
    }

    /// Pins `fingerprint` for `node` (several pins per node are allowed: key rotation).
    pub fn pin(mut self, node: impl Into<String>, fingerprint: HostKeyFingerprint) -> Self {
        self.pins.entry(node.into()).or_default().push(fingerprint);
        self
    }

    /// Reaches `node` at `address` instead of its `/cluster/status` address.
    pub fn address(mut self, node: impl Into<String>, address: NodeAddress) -> Self {
        self.addresses.insert(node.into(), address);
        self
    }

    /// Whether any host key can be trusted at all (pins or a known_hosts file). Without either
    /// every connection is refused, naming the fingerprint the node presented.
    pub fn has_trust(&self) -> bool {
        self.known_hosts.is_some() || !self.pins.is_empty()
    }

    /// Reads the SSH settings from environment variables given as a map; `Ok(None)` when no
    /// `PROXMOX_SSH_*` variable is set (SSH not configured).
    ///
    /// | variable | meaning |
    /// |---|---|
    /// | `PROXMOX_SSH_KEY_FILE` | private key (ed25519, ECDSA or RSA); required once SSH is configured |
    /// | `PROXMOX_SSH_KEY_PASSPHRASE` | its passphrase (or `PROXMOX_SSH_KEY_PASSPHRASE_FILE`) |
    /// | `PROXMOX_SSH_USER` | login user (`root`) |
    /// | `PROXMOX_SSH_PORT` | port (22) |
    /// | `PROXMOX_SSH_KNOWN_HOSTS` | an OpenSSH known_hosts file |
    /// | `PROXMOX_SSH_FINGERPRINTS` | pins: `pve1=SHA256:…,pve2=SHA256:…` (a node may appear twice) |
    /// | `PROXMOX_SSH_ADDRESSES` | overrides: `pve1=10.0.0.11,pve2=[fd00::2]:2222` |
    /// | `PROXMOX_SSH_CONNECT_TIMEOUT` | seconds (10) |
    /// | `PROXMOX_SSH_MAX_CHANNELS` | concurrent commands per node (4) |
    ///
    /// Lists are separated by commas, semicolons or white space.
    pub fn from_env_map(env: &HashMap<String, String>) -> Result<Option<Self>, Error> {
        let get = |k: &str| {
            env.get(k)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let configured = env
            .iter()
            .any(|(k, v)| k.starts_with("PROXMOX_SSH_") && !v.trim().is_empty());
        if !configured {
            return Ok(None);
        }
        let key_file = get("PROXMOX_SSH_KEY_FILE").ok_or_else(|| {
            Error::config(
                "PROXMOX_SSH_KEY_FILE is not set: SSH to the nodes needs a private key \
                 (ed25519, ECDSA or RSA)",
            )
        })?;
        let mut cfg = SshConfig::new(key_file);
        cfg.key_passphrase = secret(env, "PROXMOX_SSH_KEY_PASSPHRASE")?;
        if let Some(user) = get("PROXMOX_SSH_USER") {
            if user.contains(['@', ' ', '\t', '\n']) {
                return Err(Error::config(format!(
                    "PROXMOX_SSH_USER must be a login name on the nodes (e.g. root), got {user:?}"
                )));
            }
            cfg.user = user;
        }
        if let Some(p) = get("PROXMOX_SSH_PORT") {
            cfg.port = parse_port("PROXMOX_SSH_PORT", &p)?;
        }
        cfg.known_hosts = get("PROXMOX_SSH_KNOWN_HOSTS").map(PathBuf::from);
        if let Some(list) = get("PROXMOX_SSH_FINGERPRINTS") {
            for (node, fp) in pairs("PROXMOX_SSH_FINGERPRINTS", &list)? {
                let fp = fp.parse::<HostKeyFingerprint>().map_err(|e| {
                    Error::config(format!(
                        "PROXMOX_SSH_FINGERPRINTS: node {node}: {}",
                        e.message()
                    ))
                })?;
                cfg = cfg.pin(node, fp);
            }
        }
        if let Some(list) = get("PROXMOX_SSH_ADDRESSES") {
            for (node, addr) in pairs("PROXMOX_SSH_ADDRESSES", &list)? {
                let addr = addr.parse::<NodeAddress>().map_err(|e| {
                    Error::config(format!(
                        "PROXMOX_SSH_ADDRESSES: node {node}: {}",
                        e.message()
                    ))
                })?;
                cfg.addresses.insert(node, addr);
            }
        }
        if let Some(t) = get("PROXMOX_SSH_CONNECT_TIMEOUT") {
            cfg.connect_timeout = parse_secs("PROXMOX_SSH_CONNECT_TIMEOUT", &t)?;
        }
        if let Some(n) = get("PROXMOX_SSH_MAX_CHANNELS") {
            cfg.max_channels_per_node = n
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=64).contains(n))
                .ok_or_else(|| {
                    Error::config(format!(
                        "PROXMOX_SSH_MAX_CHANNELS must be a number from 1 to 64, got {n:?}"
                    ))
                })?;
        }
        Ok(Some(cfg))
    }

    /// [`SshConfig::from_env_map`] over the process environment.
    pub fn from_env() -> Result<Option<Self>, Error> {
        let env: HashMap<String, String> = std::env::vars()
            .filter(|(k, _)| k.starts_with("PROXMOX_SSH_"))
            .collect();
        Self::from_env_map(&env)
    }
}

/// A host key's SHA-256 fingerprint, written as OpenSSH prints it: `SHA256:` and unpadded
/// base64 (`ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub`).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct HostKeyFingerprint([u8; 32]);

impl HostKeyFingerprint {
    /// The fingerprint of these 32 digest bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }
    /// The digest bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
    pub(crate) fn of(key: &russh::keys::PublicKey) -> Self {
        match key.fingerprint(HashAlg::Sha256).sha256() {
            Some(bytes) => Self(bytes),
            None => Self([0; 32]),
        }
    }
}

impl FromStr for HostKeyFingerprint {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        let s = s.trim();
        let bad = || {
            Error::config(format!(
                "{s:?} is not a SHA-256 host key fingerprint (expected SHA256: and 43 base64 \
                 characters, as `ssh-keygen -lf` prints it)"
            ))
        };
        let b64 = s.strip_prefix("SHA256:").ok_or_else(bad)?;
        let parsed = Fingerprint::from_str(&format!("SHA256:{}", b64.trim_end_matches('=')))
            .map_err(|_| bad())?;
        parsed.sha256().map(Self).ok_or_else(bad)
    }
}

impl fmt::Display for HostKeyFingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&Fingerprint::Sha256(self.0), f)
    }
}

impl fmt::Debug for HostKeyFingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Where to dial a node: a host name or IP and, optionally, a port of its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeAddress {
    /// Host name or IP (IPv6 without brackets).
    pub host: String,
    /// Port, when not the configured one.
    pub port: Option<u16>,
}

impl NodeAddress {
    /// `host` on the configured port.
    pub fn host(host: impl Into<String>) -> Self {
        Self {
            host: host.into(),
            port: None,
        }
    }
    /// `host` on `port`.
    pub fn with_port(host: impl Into<String>, port: u16) -> Self {
        Self {
            host: host.into(),
            port: Some(port),
        }
    }
}

impl FromStr for NodeAddress {
    type Err = Error;
    /// `10.0.0.1`, `pve1.lan:2222`, `fd00::1`, `[fd00::1]:2222`.
    fn from_str(s: &str) -> Result<Self, Error> {
        let s = s.trim();
        let bad = || {
            Error::config(format!(
                "{s:?} is not an address (host, host:port, or [IPv6]:port)"
            ))
        };
        let (host, port) = if let Some(v6) = s.strip_prefix('[') {
            let (h, after) = v6.split_once(']').ok_or_else(bad)?;
            let port = match after.strip_prefix(':') {
                Some(p) => Some(p.parse::<u16>().map_err(|_| bad())?),
                None if after.is_empty() => None,
                None => return Err(bad()),
            };
            (h, port)
        } else if s.matches(':').count() == 1 {
            let (h, p) = s.split_once(':').ok_or_else(bad)?;
            (h, Some(p.parse::<u16>().map_err(|_| bad())?))
        } else {
            (s, None)
        };
        let valid = !host.is_empty()
            && host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-._:%".contains(c));
        if !valid || port == Some(0) {
            return Err(bad());
        }
        Ok(Self {
            host: host.to_owned(),
            port,
        })
    }
}

/// Reads back as the same address: a host with a colon (IPv6) is written in brackets, so that
/// `[a:b]` does not print as `a:b`, host `a` on port `b`.
impl fmt::Display for NodeAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.host.contains(':'), self.port) {
            (true, Some(p)) => write!(f, "[{}]:{p}", self.host),
            (true, None) => write!(f, "[{}]", self.host),
            (false, Some(p)) => write!(f, "{}:{p}", self.host),
            (false, None) => f.write_str(&self.host),
        }
    }
}

/// `a=1,b=2 c=3;d=4` as pairs; every item must be `NODE=VALUE`.
fn pairs(var: &str, list: &str) -> Result<Vec<(String, String)>, Error> {
    list.split([',', ';', ' ', '\t', '\n'])
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(|item| {
            let (node, value) = item
                .split_once('=')
                .map(|(n, v)| (n.trim(), v.trim()))
                .filter(|(n, v)| !n.is_empty() && !v.is_empty())
                .ok_or_else(|| {
                    Error::config(format!(
                        "{var}: expected NODE=VALUE items separated by commas, got {item:?}"
                    ))
                })?;
            Ok((node.to_owned(), value.to_owned()))
        })
        .collect()
}

fn parse_port(var: &str, s: &str) -> Result<u16, Error> {
    s.parse::<u16>()
        .ok()
        .filter(|p| *p != 0)
        .ok_or_else(|| Error::config(format!("{var} is not a port number: {s:?}")))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::ErrorKind;

    const FP1: &str = "SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s";
    const FP2: &str = "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU";

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn err(pairs: &[(&str, &str)]) -> String {
        let e = SshConfig::from_env_map(&env(pairs)).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Config);
        e.to_string()
    }

    #[test]
    fn absent_unless_a_variable_is_set() {
        assert_eq!(SshConfig::from_env_map(&env(&[])).unwrap(), None);
        assert_eq!(
            SshConfig::from_env_map(&env(&[("PROXMOX_HOST", "pve"), ("PROXMOX_SSH_USER", " ")]))
                .unwrap(),
            None
        );
    }

    #[test]
    fn defaults_with_just_a_key() {
        let c = SshConfig::from_env_map(&env(&[("PROXMOX_SSH_KEY_FILE", "/etc/pmcp/id_ed25519")]))
            .unwrap()
            .unwrap();
        assert_eq!(c, SshConfig::new("/etc/pmcp/id_ed25519"));
        assert_eq!((c.user.as_str(), c.port), ("root", 22));
        assert_eq!(c.connect_timeout, Duration::from_secs(10));
        assert_eq!(c.max_channels_per_node, 4);
        assert!(!c.has_trust());
    }

    #[test]
    fn every_variable() {
        let dir = std::env::temp_dir().join(format!("pve-client-ssh-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let pass = dir.join("pass");
        std::fs::write(&pass, "correct horse\n").unwrap();
        let c = SshConfig::from_env_map(&env(&[
            ("PROXMOX_SSH_KEY_FILE", "/keys/id_rsa"),
            ("PROXMOX_SSH_KEY_PASSPHRASE_FILE", pass.to_str().unwrap()),
            ("PROXMOX_SSH_USER", "pmcp"),
            ("PROXMOX_SSH_PORT", "2222"),
            ("PROXMOX_SSH_KNOWN_HOSTS", "/etc/pve/priv/known_hosts"),
            (
                "PROXMOX_SSH_FINGERPRINTS",
                &format!("pve1={FP1}, pve2={FP2};pve1={FP2}="),
            ),
            (
                "PROXMOX_SSH_ADDRESSES",
                "pve1=10.0.0.11 pve2=[fd00::2]:2200,pve3=pve3.lan:22",
            ),
            ("PROXMOX_SSH_CONNECT_TIMEOUT", "2.5"),
            ("PROXMOX_SSH_MAX_CHANNELS", "8"),
        ]))
        .unwrap()
        .unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(c.key_passphrase.as_ref().unwrap().expose(), "correct horse");
        assert_eq!((c.user.as_str(), c.port), ("pmcp", 2222));
        assert_eq!(
            c.known_hosts.as_deref(),
            Some(std::path::Path::new("/etc/pve/priv/known_hosts"))
        );
        let pins: Vec<(String, Vec<String>)> = c
            .pins
            .iter()
            .map(|(n, f)| (n.clone(), f.iter().map(ToString::to_string).collect()))
            .collect();
        assert_eq!(
            pins,
            [
                ("pve1".to_owned(), vec![FP1.to_owned(), FP2.to_owned()]),
                ("pve2".to_owned(), vec![FP2.to_owned()]),
            ]
        );
        assert_eq!(c.addresses["pve1"], NodeAddress::host("10.0.0.11"));
        assert_eq!(c.addresses["pve2"], NodeAddress::with_port("fd00::2", 2200));
        assert_eq!(c.addresses["pve2"].to_string(), "[fd00::2]:2200");
        assert_eq!(c.addresses["pve3"], NodeAddress::with_port("pve3.lan", 22));
        assert_eq!(c.connect_timeout, Duration::from_millis(2500));
        assert_eq!(c.max_channels_per_node, 8);
        assert!(c.has_trust());
        // The passphrase never shows in Debug output.
        assert!(!format!("{c:?}").contains("horse"));
    }

    #[test]
    fn bad_values_are_named() {
        let key = ("PROXMOX_SSH_KEY_FILE", "/k");
        let cases: &[(&[(&str, &str)], &str)] = &[
            (
                &[("PROXMOX_SSH_USER", "root")],
                "PROXMOX_SSH_KEY_FILE is not set",
            ),
            (
                &[key, ("PROXMOX_SSH_PORT", "0")],
                "PROXMOX_SSH_PORT is not a port",
            ),
            (
                &[key, ("PROXMOX_SSH_PORT", "ssh")],
                "PROXMOX_SSH_PORT is not a port",
            ),
            (
                &[key, ("PROXMOX_SSH_USER", "root@pam")],
                "PROXMOX_SSH_USER must be a login",
            ),
            (
                &[key, ("PROXMOX_SSH_FINGERPRINTS", "pve1")],
                "expected NODE=VALUE items",
            ),
            (
                &[key, ("PROXMOX_SSH_FINGERPRINTS", "pve1=AB:CD:EF")],
                "node pve1: \"AB:CD:EF\" is not a SHA-256 host key fingerprint",
            ),
            (
                &[key, ("PROXMOX_SSH_FINGERPRINTS", "pve1=SHA256:abc")],
                "is not a SHA-256 host key fingerprint",
            ),
            (
                &[key, ("PROXMOX_SSH_FINGERPRINTS", "pve1=MD5:ab:cd")],
                "is not a SHA-256 host key fingerprint",
            ),
            (
                &[key, ("PROXMOX_SSH_ADDRESSES", "pve1=10.0.0.1:99999")],
                "node pve1: \"10.0.0.1:99999\" is not an address",
            ),
            (
                &[key, ("PROXMOX_SSH_ADDRESSES", "pve1=host;rm")],
                "expected NODE=VALUE items",
            ),
            (
                &[key, ("PROXMOX_SSH_ADDRESSES", "pve1=a$b")],
                "is not an address",
            ),
            (
                &[key, ("PROXMOX_SSH_MAX_CHANNELS", "0")],
                "PROXMOX_SSH_MAX_CHANNELS must be a number from 1 to 64",
            ),
            (
                &[key, ("PROXMOX_SSH_CONNECT_TIMEOUT", "-1")],
                "PROXMOX_SSH_CONNECT_TIMEOUT must be a positive number",
            ),
            (
                &[
                    key,
                    ("PROXMOX_SSH_KEY_PASSPHRASE", "x"),
                    ("PROXMOX_SSH_KEY_PASSPHRASE_FILE", "/p"),
                ],
                "both PROXMOX_SSH_KEY_PASSPHRASE and PROXMOX_SSH_KEY_PASSPHRASE_FILE are set",
            ),
        ];
        for (pairs, want) in cases {
            let got = err(pairs);
            assert!(got.contains(want), "{pairs:?}: {got}");
        }
    }

    #[test]
    fn addresses_print_as_they_read() {
        // Found by fuzz/client_env: `[fd00:2]` printed as `fd00:2`, which reads as host `fd00`
        // on port 2.
        for text in [
            "[fd00:2]",
            "[fd00::2]",
            "fd00::2",
            "[fd00::2]:2222",
            "pve1",
            "pve1:2222",
        ] {
            let a: NodeAddress = text.parse().unwrap();
            assert_eq!(a.to_string().parse::<NodeAddress>().unwrap(), a, "{text}");
        }
        assert_eq!(NodeAddress::host("fd00::2").to_string(), "[fd00::2]");
    }

    #[test]
    fn fingerprints_round_trip() {
        let fp: HostKeyFingerprint = FP2.parse().unwrap();
        assert_eq!(fp.to_string(), FP2);
        assert_eq!(format!("{fp:?}"), FP2);
        // Padded base64 (as some tools print it) is the same fingerprint.
        assert_eq!(format!("{FP2}=").parse::<HostKeyFingerprint>().unwrap(), fp);
        assert_eq!(HostKeyFingerprint::from_bytes(*fp.as_bytes()), fp);
        assert!(
            "sha256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU"
                .parse::<HostKeyFingerprint>()
                .is_err()
        );
    }
}
