//! `[cluster.ssh]` (or `[clusters.ssh]` of one `[[clusters]]` entry): how the server reaches the
//! cluster's nodes over SSH, for the tools the API cannot serve (`execute_container_command`,
//! `execute_node_command`). The section is laid out as pve-client's `PROXMOX_SSH_*` variables
//! and read by its own parser (`SshConfig::from_env_map`), so file and environment mean the same.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use serde::Deserialize;

use super::ConfigError;

/// The SSH keys of the file, with the variable each one stands for.
const SSH_VARS: &[(&str, &str)] = &[
    ("PROXMOX_SSH_KEY_PASSPHRASE_FILE", "key_passphrase_file"),
    ("PROXMOX_SSH_KEY_PASSPHRASE", "key_passphrase"),
    ("PROXMOX_SSH_KEY_FILE", "key_file"),
    ("PROXMOX_SSH_USER", "user"),
    ("PROXMOX_SSH_PORT", "port"),
    ("PROXMOX_SSH_KNOWN_HOSTS", "known_hosts"),
    ("PROXMOX_SSH_FINGERPRINTS", "fingerprints"),
    ("PROXMOX_SSH_ADDRESSES", "addresses"),
    ("PROXMOX_SSH_CONNECT_TIMEOUT", "connect_timeout"),
    ("PROXMOX_SSH_MAX_CHANNELS", "max_channels"),
];

/// `[cluster.ssh]`: every key optional but `key_file`.
#[derive(Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub(crate) struct SshSection {
    /// Login user on the nodes (default `root`).
    pub(crate) user: Option<String>,
    /// SSH port of the nodes (default 22).
    pub(crate) port: Option<u16>,
    /// Private key (ed25519, ECDSA or RSA) in OpenSSH format.
    pub(crate) key_file: Option<PathBuf>,
    /// File holding the key's passphrase.
    pub(crate) key_passphrase_file: Option<PathBuf>,
    /// The key's passphrase (prefer `key_passphrase_file`).
    pub(crate) key_passphrase: Option<String>,
    /// An OpenSSH known_hosts file, for nodes without pinned fingerprints.
    pub(crate) known_hosts: Option<PathBuf>,
    /// Pinned host-key fingerprints per node: `pve1 = "SHA256:..."` or a list (key rotation).
    #[serde(default)]
    pub(crate) fingerprints: BTreeMap<String, Pins>,
    /// Per-node addresses (`host`, `host:port`, `[v6]:port`) instead of `/cluster/status`.
    #[serde(default)]
    pub(crate) addresses: BTreeMap<String, String>,
    /// Seconds for TCP connect, key exchange and authentication (default 10).
    pub(crate) connect_timeout: Option<f64>,
    /// Commands running at once on one node at most (default 4).
    pub(crate) max_channels: Option<u32>,
}

/// One pinned fingerprint or several.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(untagged)]
pub(crate) enum Pins {
    One(String),
    Many(Vec<String>),
}

impl std::fmt::Debug for SshSection {
    /// The passphrase shows as `<redacted>`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SshSection")
            .field("user", &self.user)
            .field("port", &self.port)
            .field("key_file", &self.key_file)
            .field("key_passphrase_file", &self.key_passphrase_file)
            .field(
                "key_passphrase",
                &self.key_passphrase.as_ref().map(|_| "<redacted>"),
            )
            .field("known_hosts", &self.known_hosts)
            .field("fingerprints", &self.fingerprints)
            .field("addresses", &self.addresses)
            .field("connect_timeout", &self.connect_timeout)
            .field("max_channels", &self.max_channels)
            .finish()
    }
}

impl SshSection {
    /// This section as `PROXMOX_SSH_*` variables.
    pub(super) fn as_env(&self) -> HashMap<String, String> {
        let mut m = HashMap::new();
        let mut put = |k: &str, v: Option<String>| {
            if let Some(v) = v {
                m.insert(k.to_string(), v);
            }
        };
        let path = |p: &Option<PathBuf>| p.as_ref().map(|p| p.display().to_string());
        put("PROXMOX_SSH_USER", self.user.clone());
        put("PROXMOX_SSH_PORT", self.port.map(|p| p.to_string()));
        put("PROXMOX_SSH_KEY_FILE", path(&self.key_file));
        put(
            "PROXMOX_SSH_KEY_PASSPHRASE_FILE",
            path(&self.key_passphrase_file),
        );
        put("PROXMOX_SSH_KEY_PASSPHRASE", self.key_passphrase.clone());
        put("PROXMOX_SSH_KNOWN_HOSTS", path(&self.known_hosts));
        let pins: Vec<String> = self
            .fingerprints
            .iter()
            .flat_map(|(node, pins)| {
                let list = match pins {
                    Pins::One(p) => vec![p.clone()],
                    Pins::Many(l) => l.clone(),
                };
                list.into_iter().map(move |p| format!("{node}={p}"))
            })
            .collect();
        put(
            "PROXMOX_SSH_FINGERPRINTS",
            (!pins.is_empty()).then(|| pins.join(",")),
        );
        let addresses: Vec<String> = self
            .addresses
            .iter()
            .map(|(node, a)| format!("{node}={a}"))
            .collect();
        put(
            "PROXMOX_SSH_ADDRESSES",
            (!addresses.is_empty()).then(|| addresses.join(",")),
        );
        put(
            "PROXMOX_SSH_CONNECT_TIMEOUT",
            self.connect_timeout.map(|t| t.to_string()),
        );
        put(
            "PROXMOX_SSH_MAX_CHANNELS",
            self.max_channels.map(|n| n.to_string()),
        );
        m
    }
}

/// The SSH settings of one cluster from its variables (file keys laid under the environment's
/// `PROXMOX_SSH_*`); `None` when none is set. `at` names the section in errors; `file_keys`
/// words them with the file's keys rather than the variables.
pub(super) fn resolve(
    vars: &HashMap<String, String>,
    at: &str,
    file_keys: bool,
) -> Result<Option<pve_client::ssh::SshConfig>, ConfigError> {
    pve_client::ssh::SshConfig::from_env_map(vars).map_err(|e| {
        let mut message = e.message().to_string();
        if file_keys {
            for (var, key) in SSH_VARS {
                message = message.replace(var, key);
            }
        }
        ConfigError::Invalid(format!("{at}: {message}"))
    })
}

/// The SSH variables of `env` laid over those of `file`: a passphrase given in the
/// environment (directly or as `_FILE`) replaces the file's.
pub(super) fn merged(
    file: Option<&SshSection>,
    env: &HashMap<String, String>,
) -> HashMap<String, String> {
    let set = |k: &str| env.get(k).is_some_and(|v| !v.trim().is_empty());
    let mut out = file.map(SshSection::as_env).unwrap_or_default();
    if set("PROXMOX_SSH_KEY_PASSPHRASE") || set("PROXMOX_SSH_KEY_PASSPHRASE_FILE") {
        out.remove("PROXMOX_SSH_KEY_PASSPHRASE");
        out.remove("PROXMOX_SSH_KEY_PASSPHRASE_FILE");
    }
    for (k, v) in env {
        if k.starts_with("PROXMOX_SSH_") && !v.trim().is_empty() {
            out.insert(k.clone(), v.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const FP: &str = "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU";

    fn section(text: &str) -> SshSection {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn a_section_reads_as_the_variables() {
        let s = section(&format!(
            "key_file = \"/k\"\nuser = \"pmcp\"\nport = 2222\n\
             fingerprints = {{ pve1 = \"{FP}\", pve2 = [\"{FP}\", \"{FP}\"] }}\n\
             addresses = {{ pve1 = \"10.0.0.1\", pve2 = \"[fd00::2]:22\" }}\n\
             connect_timeout = 2.5\nmax_channels = 8\n"
        ));
        let cfg = resolve(&s.as_env(), "[cluster.ssh]", true)
            .unwrap()
            .unwrap();
        assert_eq!((cfg.user.as_str(), cfg.port), ("pmcp", 2222));
        assert_eq!(cfg.pins["pve2"].len(), 2);
        assert_eq!(cfg.addresses["pve1"].host, "10.0.0.1");
        assert_eq!(cfg.addresses["pve2"].port, Some(22));
        assert_eq!(cfg.max_channels_per_node, 8);
        assert_eq!(resolve(&HashMap::new(), "x", true).unwrap(), None);
    }

    #[test]
    fn errors_name_the_file_keys_and_the_environment_wins() {
        let e = resolve(
            &section("user = \"root\"\n").as_env(),
            "[cluster.ssh]",
            true,
        )
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("[cluster.ssh]: key_file is not set"), "{e}");
        let e = resolve(
            &section("key_file = \"/k\"\nfingerprints = { pve1 = \"MD5:x\" }\n").as_env(),
            "[cluster.ssh]",
            true,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("fingerprints: node pve1"), "{e}");
        let env: HashMap<String, String> = [
            ("PROXMOX_SSH_USER", "admin"),
            ("PROXMOX_SSH_KEY_PASSPHRASE_FILE", "/p"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let vars = merged(
            Some(&section(
                "key_file = \"/k\"\nuser = \"root\"\nkey_passphrase = \"x\"\n",
            )),
            &env,
        );
        assert_eq!(vars["PROXMOX_SSH_USER"], "admin");
        assert_eq!(vars["PROXMOX_SSH_KEY_FILE"], "/k");
        assert!(!vars.contains_key("PROXMOX_SSH_KEY_PASSPHRASE"));
        assert!(!format!("{:?}", section("key_passphrase = \"hunter2\"\n")).contains("hunter2"));
    }
}
