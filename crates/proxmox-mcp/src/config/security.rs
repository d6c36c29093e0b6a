//! The security part of the configuration: API keys (`[[keys]]`, `PROXMOX_MCP_API_KEY`), the
//! key header, `allow_unauthenticated`, the server-wide tool filters (`[tools]`), limits
//! (`[limits]`) and TLS for our own doors (`[tls]`). Same precedence as the rest: flags >
//! environment > file > defaults. Every secret has a `_FILE` variant; secrets never appear in
//! an error message.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use super::{ConfigError, FileConfig, split_list};
use crate::auth::API_KEY_ENV;
use crate::auth::keys::{KeyEntry, KeySpec, check_distinct};
use crate::registry::{Scope, ToolFilter};

/// Default cap on open MCP sessions (both transports together).
pub(super) const DEFAULT_MAX_SESSIONS: usize = 256;
/// Default cap on open MCP sessions per API key (both transports together).
pub(super) const DEFAULT_MAX_SESSIONS_PER_KEY: usize = 64;
/// Default time a client has to send a complete request head.
pub(super) const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Default time a kept-alive connection may wait for its next request.
pub(super) const DEFAULT_KEEP_ALIVE_TIMEOUT: Duration = Duration::from_secs(60);
/// Default cap on open connections from one client address (both doors together).
pub(super) const DEFAULT_MAX_CONNECTIONS_PER_CLIENT: usize = 256;
/// Default idle time after which an MCP session is closed.
pub(super) const DEFAULT_SESSION_IDLE_TIMEOUT: Duration = Duration::from_secs(30 * 60);
/// Largest request body a door reads (1 MB).
pub(crate) const MAX_BODY_BYTES: usize = 1024 * 1024;

/// `[auth]`: how keys are presented and whether a server without keys may be exposed.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub(crate) struct AuthSection {
    /// A header carrying the key as its whole value, besides `Authorization: Bearer` (`X-API-Key`).
    pub(crate) api_key_header: Option<String>,
    /// Listen on a non-loopback address without any key (a warning is logged at start).
    pub(crate) allow_unauthenticated: Option<bool>,
    /// A file of `[[keys]]` entries only, read besides the configuration's own (a Kubernetes
    /// Secret mounted as a file); `PROXMOX_MCP_KEYS_FILE` wins over it.
    pub(crate) keys_file: Option<PathBuf>,
}

/// Variable naming a file of `[[keys]]` entries (see [`AuthSection::keys_file`]).
const KEYS_FILE_ENV: &str = "PROXMOX_MCP_KEYS_FILE";

/// What a keys file may hold: `[[keys]]` entries and nothing else.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeysFile {
    #[serde(default)]
    keys: Vec<KeyEntry>,
}

/// The keys file that `env` or `file` names, if any.
fn keys_file_path(env: &HashMap<String, String>, auth: &AuthSection) -> Option<PathBuf> {
    env.get(KEYS_FILE_ENV)
        .map(|v| v.trim())
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| auth.keys_file.clone())
}

/// The `[[keys]]` entries of the keys file at `path`; errors name the file, never a digest.
fn read_keys_file(path: &Path) -> Result<Vec<KeyEntry>, ConfigError> {
    let shown = path.display();
    let text = std::fs::read_to_string(path)
        .map_err(|e| ConfigError::Invalid(format!("keys file {shown}: cannot read it: {e}")))?;
    let parsed: KeysFile = toml::from_str(&text)
        .map_err(|e| ConfigError::Invalid(format!("keys file {shown}: {}", e.message())))?;
    Ok(parsed.keys)
}

/// `[tools]`: server-wide filters (see `registry::filter` for the order they apply in).
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub(crate) struct ToolsSection {
    pub(crate) read_only: Option<bool>,
    pub(crate) toolsets: Option<Vec<String>>,
    pub(crate) tools: Option<Vec<String>>,
    pub(crate) exclude_tools: Option<Vec<String>>,
    /// MCP sessions turn toolsets on and off (`registry::filter`).
    pub(crate) dynamic_toolsets: Option<bool>,
}

/// `[limits]`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub(crate) struct LimitsSection {
    /// Calls per minute per key (tool calls; unlimited when absent).
    pub(crate) rate_limit_per_minute: Option<u32>,
    /// Open MCP sessions at most.
    pub(crate) max_sessions: Option<usize>,
    /// Seconds without traffic after which an MCP session is closed.
    pub(crate) session_idle_timeout_secs: Option<u64>,
    /// Open MCP sessions at most per API key.
    pub(crate) max_sessions_per_key: Option<usize>,
    /// Seconds a client has to send a complete request head.
    pub(crate) header_read_timeout_secs: Option<u64>,
    /// Seconds a kept-alive connection may wait for its next request.
    pub(crate) keep_alive_timeout_secs: Option<u64>,
    /// Open connections at most, both doors together (lowered to fit the open-files limit).
    pub(crate) max_connections: Option<usize>,
    /// Open connections at most from one client address, both doors together.
    pub(crate) max_connections_per_client: Option<usize>,
}

/// `[tls]`: serve both doors over HTTPS with this certificate chain and key (PEM files).
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub(crate) struct TlsSection {
    pub(crate) cert: Option<PathBuf>,
    pub(crate) key: Option<PathBuf>,
}

/// The command-line flags of this part (all optional).
#[derive(Debug, Clone, Default)]
pub struct SecurityFlags {
    pub read_only: bool,
    pub(crate) toolsets: Option<Vec<String>>,
    pub(crate) tools: Option<Vec<String>>,
    pub(crate) exclude_tools: Option<Vec<String>>,
    pub(crate) dynamic_toolsets: bool,
    pub(crate) allow_unauthenticated: bool,
    pub(crate) api_key_header: Option<String>,
    pub(crate) tls_cert: Option<PathBuf>,
    pub(crate) tls_key: Option<PathBuf>,
}

/// Limits of the doors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Limits {
    pub(crate) rate_limit_per_minute: Option<u32>,
    pub(crate) max_sessions: usize,
    pub(crate) max_sessions_per_key: usize,
    pub(crate) session_idle_timeout: Duration,
    /// Connections: timeouts and caps (`serve::ConnLimits`).
    pub(crate) header_read_timeout: Duration,
    pub(crate) keep_alive_timeout: Duration,
    /// `None`: as many as the open-files limit allows, less a reserve.
    pub(crate) max_connections: Option<usize>,
    pub(crate) max_connections_per_client: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            rate_limit_per_minute: None,
            max_sessions: DEFAULT_MAX_SESSIONS,
            max_sessions_per_key: DEFAULT_MAX_SESSIONS_PER_KEY,
            session_idle_timeout: DEFAULT_SESSION_IDLE_TIMEOUT,
            header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
            keep_alive_timeout: DEFAULT_KEEP_ALIVE_TIMEOUT,
            max_connections: None,
            max_connections_per_client: DEFAULT_MAX_CONNECTIONS_PER_CLIENT,
        }
    }
}

/// Certificate chain and private key files (PEM) for HTTPS on our doors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// The merged security settings.
#[derive(Debug, Clone, Default)]
pub struct SecuritySettings {
    /// Every key (config entries, the keys file's, then `PROXMOX_MCP_API_KEY` as `default`);
    /// empty: no auth.
    pub keys: Vec<KeySpec>,
    /// The file of `[[keys]]` entries read besides the configuration, if one is named.
    pub(crate) keys_file: Option<PathBuf>,
    pub(crate) api_key_header: Option<String>,
    pub(crate) allow_unauthenticated: bool,
    pub filter: ToolFilter,
    pub(crate) limits: Limits,
    pub tls: Option<TlsFiles>,
    /// Warnings to log once logging is set up (a short key).
    pub(crate) notes: Vec<String>,
}

impl SecuritySettings {
    /// Refuses to expose a door without keys: with no key, every listen address must be
    /// loopback unless `allow_unauthenticated` is set (then the caller logs a warning).
    pub(crate) fn check_exposure(&self, addrs: &[SocketAddr]) -> Result<(), ConfigError> {
        if !self.keys.is_empty() || self.allow_unauthenticated {
            return Ok(());
        }
        match addrs.iter().find(|a| !a.ip().is_loopback()) {
            None => Ok(()),
            Some(a) => Err(ConfigError::Invalid(format!(
                "refusing to listen on {a} without an API key: anyone who reaches it could run \
                 every tool. Create a key (`proxmox-mcp keys new --name NAME --scope admin`, then \
                 add the [[keys]] entry to the config, or set PROXMOX_MCP_API_KEY), or listen on \
                 127.0.0.1, or pass --allow-unauthenticated if something else guards this address"
            ))),
        }
    }
}

/// Merges this part from flags, environment and file.
pub(super) fn resolve(
    flags: &SecurityFlags,
    env: &HashMap<String, String>,
    file: &FileConfig,
) -> Result<SecuritySettings, ConfigError> {
    let get = |k: &str| env.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
    let list = |flag: &Option<Vec<String>>, var: &str, file: &Option<Vec<String>>| {
        flag.clone()
            .map(|v| v.iter().flat_map(|s| split_list(s)).collect())
            .or_else(|| get(var).map(split_list))
            .or_else(|| file.clone())
    };

    let mut entries = file.keys.clone();
    let keys_file = keys_file_path(env, &file.auth);
    if let Some(path) = &keys_file {
        entries.extend(read_keys_file(path)?);
    }
    let mut keys = Vec::new();
    for e in &entries {
        keys.push(KeySpec::from_entry(e).map_err(ConfigError::Invalid)?);
    }
    let mut notes = Vec::new();
    if let Some(key) = secret(env, API_KEY_ENV)? {
        notes.extend(check_key_length(&key)?);
        keys.push(KeySpec::from_plain("default", Scope::Admin, &key));
    }
    check_distinct(&keys).map_err(ConfigError::Invalid)?;

    let api_key_header = flags
        .api_key_header
        .clone()
        .or_else(|| get("PROXMOX_MCP_API_KEY_HEADER").map(str::to_string))
        .or_else(|| file.auth.api_key_header.clone());
    if let Some(h) = &api_key_header {
        let bad = axum::http::HeaderName::try_from(h.trim()).is_err()
            || h.trim().eq_ignore_ascii_case("authorization");
        if bad {
            return Err(ConfigError::Invalid(format!(
                "api_key_header {h:?} is not a usable header name (e.g. X-API-Key)"
            )));
        }
    }
    let allow_unauthenticated = flags.allow_unauthenticated
        || bool_var(env, "PROXMOX_MCP_ALLOW_UNAUTHENTICATED")?
            .or(file.auth.allow_unauthenticated)
            .unwrap_or(false);

    let t = &file.tools;
    let filter = ToolFilter {
        read_only: flags.read_only
            || bool_var(env, "PROXMOX_MCP_READ_ONLY")?
                .or(t.read_only)
                .unwrap_or(false),
        toolsets: list(&flags.toolsets, "PROXMOX_MCP_TOOLSETS", &t.toolsets),
        tools: list(&flags.tools, "PROXMOX_MCP_TOOLS", &t.tools).unwrap_or_default(),
        exclude_tools: list(
            &flags.exclude_tools,
            "PROXMOX_MCP_EXCLUDE_TOOLS",
            &t.exclude_tools,
        )
        .unwrap_or_default(),
        dynamic: flags.dynamic_toolsets
            || bool_var(env, "PROXMOX_MCP_DYNAMIC_TOOLSETS")?
                .or(t.dynamic_toolsets)
                .unwrap_or(false),
    };

    let l = &file.limits;
    let rate = num_var(env, "PROXMOX_MCP_RATE_LIMIT")?.or(l.rate_limit_per_minute.map(u64::from));
    let max_sessions =
        num_var(env, "PROXMOX_MCP_MAX_SESSIONS")?.or(l.max_sessions.map(|n| n as u64));
    let idle = num_var(env, "PROXMOX_MCP_SESSION_IDLE_TIMEOUT")?.or(l.session_idle_timeout_secs);
    let count =
        |var: &str, file: Option<usize>, name: &str| -> Result<Option<usize>, ConfigError> {
            match num_var(env, var)?.or(file.map(|n| n as u64)) {
                None => Ok(None),
                Some(0) => Err(ConfigError::Invalid(format!("{name} must be at least 1"))),
                Some(n) => Ok(Some(usize::try_from(n).unwrap_or(usize::MAX))),
            }
        };
    let secs =
        |var: &str, file: Option<u64>, name: &str| -> Result<Option<Duration>, ConfigError> {
            match num_var(env, var)?.or(file) {
                None => Ok(None),
                Some(0) => Err(ConfigError::Invalid(format!(
                    "{name} must be at least 1 (seconds)"
                ))),
                Some(n) => Ok(Some(Duration::from_secs(n))),
            }
        };
    let per_key = count(
        "PROXMOX_MCP_MAX_SESSIONS_PER_KEY",
        l.max_sessions_per_key,
        "max_sessions_per_key",
    )?;
    let header_read_timeout = secs(
        "PROXMOX_MCP_HEADER_READ_TIMEOUT",
        l.header_read_timeout_secs,
        "header_read_timeout_secs",
    )?;
    let keep_alive_timeout = secs(
        "PROXMOX_MCP_KEEP_ALIVE_TIMEOUT",
        l.keep_alive_timeout_secs,
        "keep_alive_timeout_secs",
    )?;
    let max_connections = count(
        "PROXMOX_MCP_MAX_CONNECTIONS",
        l.max_connections,
        "max_connections",
    )?;
    let per_client = count(
        "PROXMOX_MCP_MAX_CONNECTIONS_PER_CLIENT",
        l.max_connections_per_client,
        "max_connections_per_client",
    )?;
    let limits = Limits {
        rate_limit_per_minute: match rate {
            None => None,
            Some(n @ 1..=1_000_000) => Some(n as u32),
            Some(n) => {
                return Err(ConfigError::Invalid(format!(
                    "rate_limit_per_minute {n}: use 1 to 1000000, or leave it out for no limit"
                )));
            }
        },
        max_sessions: match max_sessions {
            None => DEFAULT_MAX_SESSIONS,
            Some(0) => {
                return Err(ConfigError::Invalid(
                    "max_sessions must be at least 1".into(),
                ));
            }
            Some(n) => usize::try_from(n).unwrap_or(usize::MAX),
        },
        session_idle_timeout: match idle {
            None => DEFAULT_SESSION_IDLE_TIMEOUT,
            Some(0) => {
                return Err(ConfigError::Invalid(
                    "session_idle_timeout_secs must be at least 1".into(),
                ));
            }
            Some(n) => Duration::from_secs(n),
        },
        max_sessions_per_key: per_key.unwrap_or(DEFAULT_MAX_SESSIONS_PER_KEY),
        header_read_timeout: header_read_timeout.unwrap_or(DEFAULT_HEADER_READ_TIMEOUT),
        keep_alive_timeout: keep_alive_timeout.unwrap_or(DEFAULT_KEEP_ALIVE_TIMEOUT),
        max_connections,
        max_connections_per_client: per_client.unwrap_or(DEFAULT_MAX_CONNECTIONS_PER_CLIENT),
    };

    let cert = flags
        .tls_cert
        .clone()
        .or_else(|| get("PROXMOX_MCP_TLS_CERT").map(PathBuf::from))
        .or_else(|| file.tls.cert.clone());
    let key = flags
        .tls_key
        .clone()
        .or_else(|| get("PROXMOX_MCP_TLS_KEY").map(PathBuf::from))
        .or_else(|| file.tls.key.clone());
    let tls = match (cert, key) {
        (Some(cert), Some(key)) => Some(TlsFiles { cert, key }),
        (None, None) => None,
        _ => {
            return Err(ConfigError::Invalid(
                "TLS needs both a certificate and a key: --tls-cert FILE --tls-key FILE".into(),
            ));
        }
    };

    Ok(SecuritySettings {
        notes,
        keys,
        keys_file,
        api_key_header,
        allow_unauthenticated,
        filter,
        limits,
        tls,
    })
}

/// Shortest plain-text key accepted (characters).
pub(super) const MIN_KEY_CHARS: usize = 16;
/// Keys shorter than this are accepted with a warning.
pub(super) const GOOD_KEY_CHARS: usize = 32;

/// Refuses a plain-text key under [`MIN_KEY_CHARS`]; a warning under [`GOOD_KEY_CHARS`]. The
/// messages name the variable, never the key.
fn check_key_length(key: &str) -> Result<Option<String>, ConfigError> {
    let n = key.chars().count();
    let make = "`proxmox-mcp keys new --name NAME --scope SCOPE` makes a 256-bit key";
    if n < MIN_KEY_CHARS {
        return Err(ConfigError::Invalid(format!(
            "{API_KEY_ENV} is {n} characters long: a key needs at least {MIN_KEY_CHARS} (a short \
             key can be guessed); {make}"
        )));
    }
    Ok((n < GOOD_KEY_CHARS).then(|| {
        format!(
            "{API_KEY_ENV} is shorter than {GOOD_KEY_CHARS} characters ({n}): use a longer \
             random key; {make}"
        )
    }))
}

/// `NAME` or the contents of the file `NAME_FILE` (trailing newline removed); both set is an
/// error. Messages name the variable and the file, never the value.
pub(crate) fn secret(
    env: &HashMap<String, String>,
    name: &str,
) -> Result<Option<String>, ConfigError> {
    let file_var = format!("{name}_FILE");
    let direct = env.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
    let file = env
        .get(&file_var)
        .map(|v| v.trim())
        .filter(|v| !v.is_empty());
    match (direct, file) {
        (Some(_), Some(_)) => Err(ConfigError::Invalid(format!(
            "set {name} or {file_var}, not both"
        ))),
        (Some(v), None) => Ok(Some(v.to_string())),
        (None, Some(path)) => {
            let text = std::fs::read_to_string(path).map_err(|e| {
                ConfigError::Invalid(format!("{file_var}: cannot read {path}: {e}"))
            })?;
            let v = text.trim().to_string();
            if v.is_empty() {
                Err(ConfigError::Invalid(format!("{file_var}: {path} is empty")))
            } else {
                Ok(Some(v))
            }
        }
        (None, None) => Ok(None),
    }
}

pub(crate) fn bool_var(
    env: &HashMap<String, String>,
    name: &str,
) -> Result<Option<bool>, ConfigError> {
    let Some(v) = env.get(name).map(|v| v.trim()).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    match v.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(Some(true)),
        "0" | "false" | "no" | "off" => Ok(Some(false)),
        _ => Err(ConfigError::Invalid(format!(
            "{name}={v:?}: use true or false"
        ))),
    }
}

pub(crate) fn num_var(
    env: &HashMap<String, String>,
    name: &str,
) -> Result<Option<u64>, ConfigError> {
    let Some(v) = env.get(name).map(|v| v.trim()).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    v.parse()
        .map(Some)
        .map_err(|_| ConfigError::Invalid(format!("{name}={v:?}: use a whole number")))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::path::Path;

    use super::*;
    use crate::auth::keys::digest;
    use crate::config::{Overrides, Settings};

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn file(text: &str) -> FileConfig {
        FileConfig::parse(text, Path::new("c.toml")).unwrap()
    }

    fn resolve_with(
        flags: &SecurityFlags,
        env_: &[(&str, &str)],
        text: &str,
    ) -> Result<SecuritySettings, ConfigError> {
        resolve(flags, &env(env_), &file(text))
    }

    #[test]
    fn a_keys_file_adds_its_entries_and_holds_nothing_else() {
        let dir = std::env::temp_dir().join(format!("pmcp-keysfile-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let entry = |name: &str, key: &str| {
            let sha = hex::encode(digest(key));
            format!("[[keys]]\nname = \"{name}\"\nscope = \"read\"\nsha256 = \"{sha}\"\n")
        };
        let kf = dir.join("keys.toml");
        std::fs::write(&kf, entry("dashboard", "k5-0123456789abcdef")).unwrap();
        let kf_s = kf.display().to_string();
        let text = entry("n8n", "k4-0123456789abcdef");
        let flags = SecurityFlags::default();
        // Named by the environment: its entries come after the configuration's.
        let s = resolve_with(&flags, &[(KEYS_FILE_ENV, &kf_s)], &text).unwrap();
        let names: Vec<_> = s.keys.iter().map(|k| k.name.as_str()).collect();
        assert_eq!(names, ["n8n", "dashboard"]);
        assert_eq!(s.keys[1].digest, digest("k5-0123456789abcdef"));
        assert_eq!(s.keys_file.as_deref(), Some(kf.as_path()));
        // Named by `[auth] keys_file`.
        let by_file = format!("{text}[auth]\nkeys_file = \"{kf_s}\"\n");
        let s = resolve_with(&flags, &[], &by_file).unwrap();
        assert_eq!(s.keys.len(), 2);
        // A name in both is refused, as within one file.
        let e = resolve_with(
            &flags,
            &[(KEYS_FILE_ENV, &kf_s)],
            &entry("dashboard", "k6-0123456789abcdef"),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("dashboard"), "{e}");
        // Anything but [[keys]] in it, or no file there: an error naming the file.
        std::fs::write(&kf, "[server]\nstateless = true\n").unwrap();
        let e = resolve_with(&flags, &[(KEYS_FILE_ENV, &kf_s)], "")
            .unwrap_err()
            .to_string();
        assert!(e.contains("keys file") && e.contains("keys.toml"), "{e}");
        let missing = dir.join("absent.toml").display().to_string();
        let e = resolve_with(&flags, &[(KEYS_FILE_ENV, &missing)], "")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("absent.toml") && e.contains("cannot read"),
            "{e}"
        );
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn keys_come_from_the_file_and_the_environment() {
        let sha = hex::encode(digest("k1-0123456789abcdef"));
        let text = format!(
            "[[keys]]\nname = \"n8n\"\nscope = \"operate\"\nsha256 = \"{sha}\"\nrate_limit_per_minute = 30\n"
        );
        let s = resolve_with(
            &SecurityFlags::default(),
            &[(API_KEY_ENV, "k2-0123456789abcdef")],
            &text,
        )
        .unwrap();
        let names: Vec<_> = s.keys.iter().map(|k| (k.name.as_str(), k.scope)).collect();
        assert_eq!(names, [("n8n", Scope::Operate), ("default", Scope::Admin)]);
        assert_eq!(s.keys[0].rate_limit_per_minute, Some(30));
        assert_eq!(s.keys[1].digest, digest("k2-0123456789abcdef"));
        // _FILE variant, trailing newline removed; both forms at once refused.
        let dir = std::env::temp_dir().join(format!("pmcp-sec-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let kf = dir.join("key");
        std::fs::write(&kf, "k3-0123456789abcdef\n").unwrap();
        let kf = kf.display().to_string();
        let s = resolve_with(
            &SecurityFlags::default(),
            &[("PROXMOX_MCP_API_KEY_FILE", &kf)],
            "",
        )
        .unwrap();
        assert_eq!(s.keys[0].digest, digest("k3-0123456789abcdef"));
        let e = resolve_with(
            &SecurityFlags::default(),
            &[
                (API_KEY_ENV, "zz-secret"),
                ("PROXMOX_MCP_API_KEY_FILE", &kf),
            ],
            "",
        )
        .unwrap_err();
        assert!(
            e.to_string().contains("not both") && !e.to_string().contains("zz-secret"),
            "{e}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
        // The same key twice, an unknown scope, a bad digest.
        let e = resolve_with(
            &SecurityFlags::default(),
            &[(API_KEY_ENV, "k1-0123456789abcdef")],
            &text.replace("n8n", "default"),
        )
        .unwrap_err();
        assert!(e.to_string().contains("twice"), "{e}");
        assert!(
            FileConfig::parse(
                "[[keys]]\nname = \"a\"\nscope = \"root\"\nsha256 = \"00\"\n",
                Path::new("c.toml")
            )
            .is_err()
        );
        assert!(
            resolve_with(
                &SecurityFlags::default(),
                &[],
                "[[keys]]\nname = \"a\"\nscope = \"read\"\nsha256 = \"00\"\n"
            )
            .is_err()
        );
        // Cluster secrets in the file never show in its Debug form.
        let f = file(
            "[cluster]\nhost = \"h\"\ntoken_value = \"tv-secret\"\npassword = \"pw-secret\"\n",
        );
        let dbg = format!("{f:?}");
        assert!(
            !dbg.contains("tv-secret") && !dbg.contains("pw-secret") && dbg.contains("<redacted>"),
            "{dbg}"
        );
        // No keys at all: none.
        assert!(
            resolve_with(&SecurityFlags::default(), &[], "")
                .unwrap()
                .keys
                .is_empty()
        );
    }

    #[test]
    fn filters_header_limits_and_tls_follow_the_precedence() {
        let text = "[auth]\napi_key_header = \"X-From-File\"\n[tools]\nread_only = true\ntoolsets = [\"core\"]\nexclude_tools = [\"get_task\"]\n\
                    [limits]\nrate_limit_per_minute = 60\nmax_sessions = 5\n[tls]\ncert = \"c.pem\"\nkey = \"k.pem\"\n";
        let s = resolve_with(&SecurityFlags::default(), &[], text).unwrap();
        assert_eq!(s.api_key_header.as_deref(), Some("X-From-File"));
        assert!(s.filter.read_only);
        assert_eq!(
            s.filter.toolsets.as_deref(),
            Some(&["core".to_string()][..])
        );
        assert_eq!(s.filter.exclude_tools, ["get_task"]);
        assert_eq!(s.limits.rate_limit_per_minute, Some(60));
        assert_eq!(s.limits.max_sessions, 5);
        assert_eq!(s.limits.session_idle_timeout, DEFAULT_SESSION_IDLE_TIMEOUT);
        assert_eq!(s.tls.unwrap().cert, PathBuf::from("c.pem"));
        let s = resolve_with(
            &SecurityFlags::default(),
            &[
                ("PROXMOX_MCP_READ_ONLY", "false"),
                ("PROXMOX_MCP_EXCLUDE_TOOLS", "delete_vm, reset_vm"),
                ("PROXMOX_MCP_API_KEY_HEADER", "X-Env"),
                ("PROXMOX_MCP_RATE_LIMIT", "10"),
            ],
            text,
        )
        .unwrap();
        assert!(!s.filter.read_only);
        assert_eq!(s.filter.exclude_tools, ["delete_vm", "reset_vm"]);
        assert_eq!(s.api_key_header.as_deref(), Some("X-Env"));
        assert_eq!(s.limits.rate_limit_per_minute, Some(10));
        // Dynamic toolsets: off by default; the file, the environment, then the flag.
        assert!(!s.filter.dynamic);
        let on = format!("{text}\n");
        let on = on.replace("[tools]\n", "[tools]\ndynamic_toolsets = true\n");
        assert!(
            resolve_with(&SecurityFlags::default(), &[], &on)
                .unwrap()
                .filter
                .dynamic
        );
        let env = [("PROXMOX_MCP_DYNAMIC_TOOLSETS", "false")];
        assert!(
            !resolve_with(&SecurityFlags::default(), &env, &on)
                .unwrap()
                .filter
                .dynamic
        );
        let flag = SecurityFlags {
            dynamic_toolsets: true,
            ..SecurityFlags::default()
        };
        assert!(resolve_with(&flag, &env, &on).unwrap().filter.dynamic);
        let flags = SecurityFlags {
            read_only: true,
            exclude_tools: Some(vec!["stop_vm".into()]),
            api_key_header: Some("X-Flag".into()),
            ..SecurityFlags::default()
        };
        let s = resolve_with(
            &flags,
            &[
                ("PROXMOX_MCP_READ_ONLY", "false"),
                ("PROXMOX_MCP_API_KEY_HEADER", "X-Env"),
            ],
            text,
        )
        .unwrap();
        assert!(s.filter.read_only);
        assert_eq!(s.filter.exclude_tools, ["stop_vm"]);
        assert_eq!(s.api_key_header.as_deref(), Some("X-Flag"));
        // Bad values are errors naming them.
        type Case<'a> = (&'a [(&'a str, &'a str)], &'a str, &'a str);
        let cases: &[Case] = &[
            (
                &[("PROXMOX_MCP_READ_ONLY", "maybe")],
                "",
                "PROXMOX_MCP_READ_ONLY",
            ),
            (
                &[("PROXMOX_MCP_RATE_LIMIT", "lots")],
                "",
                "PROXMOX_MCP_RATE_LIMIT",
            ),
            (
                &[("PROXMOX_MCP_API_KEY_HEADER", "Authorization")],
                "",
                "api_key_header",
            ),
            (
                &[("PROXMOX_MCP_API_KEY_HEADER", "bad header")],
                "",
                "api_key_header",
            ),
            (&[], "[limits]\nmax_sessions = 0\n", "max_sessions"),
            (&[], "[tls]\ncert = \"c.pem\"\n", "--tls-key"),
        ];
        for (e, text, want) in cases {
            let err = resolve_with(&SecurityFlags::default(), e, text)
                .unwrap_err()
                .to_string();
            assert!(err.contains(want), "{e:?} {text}: {err}");
        }
    }

    #[test]
    fn no_key_means_loopback_only_unless_allowed() {
        let demo = |listen: &str, rest: &str| Overrides {
            demo: true,
            mcp_listen: Some(listen.into()),
            rest_listen: Some(rest.into()),
            ..Overrides::default()
        };
        let ok = |o: &Overrides, e: &[(&str, &str)]| {
            Settings::resolve(o, &env(e)).unwrap().check_exposure()
        };
        assert!(ok(&demo("127.0.0.1:0", "[::1]:0"), &[]).is_ok());
        let e = ok(&demo("0.0.0.0:0", "127.0.0.1:0"), &[])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("0.0.0.0:0") && e.contains("--allow-unauthenticated"),
            "{e}"
        );
        assert!(ok(&demo("127.0.0.1:0", "0.0.0.0:0"), &[]).is_err());
        assert!(ok(&demo("127.0.0.1:0", "off"), &[]).is_ok());
        assert!(
            ok(
                &demo("0.0.0.0:0", "0.0.0.0:0"),
                &[(API_KEY_ENV, "k-0123456789abcdef")]
            )
            .is_ok()
        );
        assert!(
            ok(
                &demo("0.0.0.0:0", "0.0.0.0:0"),
                &[("PROXMOX_MCP_ALLOW_UNAUTHENTICATED", "1")]
            )
            .is_ok()
        );
        let mut o = demo("0.0.0.0:0", "0.0.0.0:0");
        o.security.allow_unauthenticated = true;
        assert!(ok(&o, &[]).is_ok());
    }
}
