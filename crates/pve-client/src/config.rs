//! Client configuration: where the cluster is, who we are, how TLS is checked, how long we wait.
//!
//! Reads the environment names the Python PVE MCP servers use (`PROXMOX_HOST`, `PROXMOX_USER`,
//! `PROXMOX_TOKEN_NAME`, ...) from a map, so it is testable without touching the process env.
//! Secrets never appear in `Debug` output.

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use crate::error::Error;

/// A secret string (token value, password). `Debug` prints `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }
    /// The secret itself. Never log it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// How the client authenticates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credentials {
    /// API token: `Authorization: PVEAPIToken=USER@REALM!NAME=VALUE`. `name` is the token id
    /// alone (`mcp`), without the user.
    Token { name: String, value: Secret },
    /// Password: ticket login on `POST /access/ticket`, CSRF token on writes, renewed.
    Password(Secret),
}

/// How the server certificate is checked.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum TlsMode {
    /// The system trust store (the OS CA bundle, `SSL_CERT_FILE`), with hostname check.
    #[default]
    System,
    /// Only the CA certificates in this PEM file (e.g. `/etc/pve/pve-root-ca.pem`), with hostname check.
    CaFile(PathBuf),
    /// Accept exactly the certificate with this SHA-256 fingerprint, whatever its name or dates.
    Fingerprint([u8; 32]),
    /// Accept any certificate. Only when asked; logs a warning once.
    Insecure,
}

/// URL scheme. PVE speaks HTTPS only; plain HTTP exists for loopback tests and benchmarks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Scheme {
    #[default]
    Https,
    Http,
}

/// Everything the client needs. Build with [`ClientConfig::new`] and the `with_*` setters, or
/// from the environment with [`ClientConfig::from_env_map`].
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Host name or IP (IPv6 without brackets is fine).
    pub host: String,
    /// API port; 8006 by default.
    pub port: u16,
    /// `https` (default) or `http` (loopback simulator only).
    pub scheme: Scheme,
    /// `USER@REALM`, e.g. `root@pam`.
    pub user: String,
    /// Token or password.
    pub credentials: Credentials,
    /// Certificate check.
    pub tls: TlsMode,
    /// TCP + TLS connect timeout (default 10 s).
    pub connect_timeout: Duration,
    /// Whole-request timeout unless a call overrides it (default 60 s).
    pub request_timeout: Duration,
    /// Retries of idempotent GETs on connection errors, 502, 503, 595, 596 (default 2).
    pub max_retries: u32,
    /// First backoff delay; doubles per retry, with jitter (default 200 ms).
    pub retry_backoff: Duration,
    /// Concurrent requests in flight to this cluster at most (default 8).
    pub max_concurrent: usize,
    /// Renew the ticket once it is this old (default 1 h; PVE tickets live 2 h).
    pub ticket_renew_after: Duration,
    /// How long the VMID → node map from `/cluster/resources` is trusted (default 10 s).
    pub guest_cache_ttl: Duration,
}

impl ClientConfig {
    /// A configuration with defaults for everything but the target and the identity.
    pub fn new(host: impl Into<String>, user: impl Into<String>, credentials: Credentials) -> Self {
        Self {
            host: host.into(),
            port: 8006,
            scheme: Scheme::Https,
            user: user.into(),
            credentials,
            tls: TlsMode::System,
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(60),
            max_retries: 2,
            retry_backoff: Duration::from_millis(200),
            max_concurrent: 8,
            ticket_renew_after: Duration::from_secs(3600),
            guest_cache_ttl: Duration::from_secs(10),
        }
    }

    /// Sets the port.
    pub fn with_port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }
    /// Sets the TLS mode.
    pub fn with_tls(mut self, tls: TlsMode) -> Self {
        self.tls = tls;
        self
    }
    /// Sets the scheme.
    pub fn with_scheme(mut self, scheme: Scheme) -> Self {
        self.scheme = scheme;
        self
    }

    /// Reads the configuration from environment variables given as a map:
    ///
    /// | variable | meaning |
    /// |---|---|
    /// | `PROXMOX_HOST` | host or IP; may carry `:port` and an `https://` (or `http://`) prefix |
    /// | `PROXMOX_PORT` | port (8006) |
    /// | `PROXMOX_USER` | `USER@REALM` (a `USER@REALM!TOKEN` form also sets the token name) |
    /// | `PROXMOX_TOKEN_NAME`, `PROXMOX_TOKEN_VALUE` | API token id and secret |
    /// | `PROXMOX_PASSWORD` | password (ticket login) when no token is given |
    /// | `PROXMOX_VERIFY_SSL` | `false`/`0`/`no` accepts any certificate (insecure) |
    /// | `PROXMOX_CA_FILE` | PEM file of CA certificates to trust instead of the system store |
    /// | `PROXMOX_FINGERPRINT` | SHA-256 of the server certificate, `AA:BB:...` as PVE shows it |
    /// | `PROXMOX_TIMEOUT`, `PROXMOX_CONNECT_TIMEOUT` | seconds |
    ///
    /// `PROXMOX_TOKEN_VALUE_FILE` and `PROXMOX_PASSWORD_FILE` read a secret from a file (trailing
    /// newline removed); setting both a variable and its `_FILE` form is an error. A pinned
    /// fingerprint wins over a CA file, which wins over `PROXMOX_VERIFY_SSL=false`.
    pub fn from_env_map(env: &HashMap<String, String>) -> Result<Self, Error> {
        let get = |k: &str| {
            env.get(k)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let raw_host =
            get("PROXMOX_HOST").ok_or_else(|| Error::config("PROXMOX_HOST is not set"))?;
        let (scheme, host, host_port) = split_host(&raw_host)?;
        let port = match get("PROXMOX_PORT") {
            Some(p) => p
                .parse::<u16>()
                .map_err(|_| Error::config(format!("PROXMOX_PORT is not a port number: {p:?}")))?,
            None => host_port.unwrap_or(8006),
        };

        let mut user =
            get("PROXMOX_USER").ok_or_else(|| Error::config("PROXMOX_USER is not set"))?;
        let mut token_name = get("PROXMOX_TOKEN_NAME");
        if let Some((u, t)) = user
            .split_once('!')
            .map(|(u, t)| (u.to_owned(), t.to_owned()))
        {
            user = u;
            token_name.get_or_insert(t);
        }
        if let Some(t) = token_name.take() {
            // Accept `root@pam!mcp` as the token name too.
            token_name = Some(t.rsplit_once('!').map_or(t.clone(), |(_, n)| n.to_owned()));
        }
        if !user.contains('@') {
            return Err(Error::config(format!(
                "PROXMOX_USER must be USER@REALM (e.g. root@pam), got {user:?}"
            )));
        }
        let token_value = secret(env, "PROXMOX_TOKEN_VALUE")?;
        let password = secret(env, "PROXMOX_PASSWORD")?;
        let credentials = match (token_name, token_value, password) {
            (Some(name), Some(value), _) => Credentials::Token { name, value },
            (Some(_), None, _) => {
                return Err(Error::config(
                    "PROXMOX_TOKEN_NAME is set but PROXMOX_TOKEN_VALUE (or PROXMOX_TOKEN_VALUE_FILE) is not",
                ));
            }
            (None, Some(_), _) => {
                return Err(Error::config(
                    "PROXMOX_TOKEN_VALUE is set but PROXMOX_TOKEN_NAME is not",
                ));
            }
            (None, None, Some(pw)) => Credentials::Password(pw),
            (None, None, None) => {
                return Err(Error::config(
                    "no credentials: set PROXMOX_TOKEN_NAME and PROXMOX_TOKEN_VALUE, or PROXMOX_PASSWORD",
                ));
            }
        };

        let tls = if let Some(fp) = get("PROXMOX_FINGERPRINT") {
            TlsMode::Fingerprint(parse_fingerprint(&fp)?)
        } else if let Some(ca) = get("PROXMOX_CA_FILE") {
            TlsMode::CaFile(PathBuf::from(ca))
        } else if let Some(v) = get("PROXMOX_VERIFY_SSL") {
            if parse_bool(&v).ok_or_else(|| {
                Error::config(format!(
                    "PROXMOX_VERIFY_SSL must be true or false, got {v:?}"
                ))
            })? {
                TlsMode::System
            } else {
                TlsMode::Insecure
            }
        } else {
            TlsMode::System
        };

        let mut cfg = ClientConfig::new(host, user, credentials)
            .with_port(port)
            .with_scheme(scheme)
            .with_tls(tls);
        if let Some(t) = get("PROXMOX_TIMEOUT") {
            cfg.request_timeout = parse_secs("PROXMOX_TIMEOUT", &t)?;
        }
        if let Some(t) = get("PROXMOX_CONNECT_TIMEOUT") {
            cfg.connect_timeout = parse_secs("PROXMOX_CONNECT_TIMEOUT", &t)?;
        }
        Ok(cfg)
    }

    /// [`ClientConfig::from_env_map`] over the process environment.
    pub fn from_env() -> Result<Self, Error> {
        let env: HashMap<String, String> = std::env::vars()
            .filter(|(k, _)| k.starts_with("PROXMOX_"))
            .collect();
        Self::from_env_map(&env)
    }

    /// `https://host:port/api2/json` (IPv6 hosts bracketed).
    pub fn base_url(&self) -> String {
        let scheme = match self.scheme {
            Scheme::Https => "https",
            Scheme::Http => "http",
        };
        let host = if self.host.contains(':') && !self.host.starts_with('[') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        format!("{scheme}://{host}:{}/api2/json", self.port)
    }
}

/// Reads `NAME` or `NAME_FILE` (not both).
pub(crate) fn secret(env: &HashMap<String, String>, name: &str) -> Result<Option<Secret>, Error> {
    // White space alone is unset, as for every other variable (not an empty secret).
    let direct = env.get(name).filter(|v| !v.trim().is_empty());
    let file_var = format!("{name}_FILE");
    let file = env
        .get(&file_var)
        .map(|v| v.trim())
        .filter(|v| !v.is_empty());
    match (direct, file) {
        (Some(_), Some(_)) => Err(Error::config(format!(
            "both {name} and {file_var} are set; set only one"
        ))),
        (Some(v), None) => Ok(Some(Secret::new(v.trim().to_owned()))),
        (None, Some(path)) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| Error::config(format!("cannot read {file_var} ({path}): {e}")))?;
            let value = text.trim_end_matches(['\n', '\r']).to_owned();
            if value.is_empty() {
                return Err(Error::config(format!("{file_var} ({path}) is empty")));
            }
            Ok(Some(Secret::new(value)))
        }
        (None, None) => Ok(None),
    }
}

/// Splits `https://host:8006/`, `host:8006`, `[::1]:8006`, `::1`, `host` into scheme, host, port.
fn split_host(raw: &str) -> Result<(Scheme, String, Option<u16>), Error> {
    let (scheme, rest) = if let Some(r) = raw.strip_prefix("https://") {
        (Scheme::Https, r)
    } else if let Some(r) = raw.strip_prefix("http://") {
        (Scheme::Http, r)
    } else {
        (Scheme::Https, raw)
    };
    let rest = rest.split('/').next().unwrap_or_default();
    let bad = || {
        Error::config(format!(
            "PROXMOX_HOST is not a host name or address: {raw:?}"
        ))
    };
    let parse_port = |p: &str| p.parse::<u16>().map_err(|_| bad());
    let (host, port) = if let Some(v6) = rest.strip_prefix('[') {
        let (h, after) = v6.split_once(']').ok_or_else(bad)?;
        let port = match after.strip_prefix(':') {
            Some(p) => Some(parse_port(p)?),
            None if after.is_empty() => None,
            None => return Err(bad()),
        };
        (h.to_owned(), port)
    } else if rest.matches(':').count() == 1 {
        let (h, p) = rest.split_once(':').ok_or_else(bad)?;
        (h.to_owned(), Some(parse_port(p)?))
    } else {
        (rest.to_owned(), None)
    };
    if host.is_empty() {
        return Err(bad());
    }
    Ok((scheme, host, port))
}

/// Parses a SHA-256 fingerprint: `AA:BB:...` (32 colon-separated bytes, as PVE shows it) or 64 hex digits.
pub fn parse_fingerprint(s: &str) -> Result<[u8; 32], Error> {
    let hex_digits: String = s.trim().chars().filter(|c| *c != ':').collect();
    let mut out = [0u8; 32];
    let colons_ok = !s.contains(':') || s.trim().split(':').all(|p| p.len() == 2);
    if !colons_ok || hex::decode_to_slice(&hex_digits, &mut out).is_err() {
        return Err(Error::config(format!(
            "PROXMOX_FINGERPRINT must be a SHA-256 fingerprint (32 bytes, AA:BB:...:FF), got {s:?}"
        )));
    }
    Ok(out)
}

/// Formats a SHA-256 fingerprint the way PVE shows it: upper-case hex bytes joined by colons.
pub fn format_fingerprint(fp: &[u8]) -> String {
    fp.iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

fn parse_bool(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Some(true),
        "0" | "false" | "no" | "off" => Some(false),
        _ => None,
    }
}

pub(crate) fn parse_secs(name: &str, s: &str) -> Result<Duration, Error> {
    s.parse::<f64>()
        .ok()
        .filter(|v| *v > 0.0)
        .and_then(|v| Duration::try_from_secs_f64(v).ok())
        .filter(|d| !d.is_zero())
        .ok_or_else(|| {
            Error::config(format!(
                "{name} must be a positive number of seconds, got {s:?}"
            ))
        })
}

#[cfg(test)]
mod tests;
