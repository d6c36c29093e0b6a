//! Server configuration: a TOML file, `PROXMOX_*` environment variables and command-line flags,
//! merged with the precedence flags > environment > file > defaults.
//!
//! The cluster part is handed to pve-client's own parser (`ClientConfig::from_env_map`): file
//! values are laid under the environment under the same `PROXMOX_*` names, so both sources mean
//! exactly the same thing. Unknown keys in the file are errors naming the key.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

mod clusters;
mod import;
mod security;
mod ssh;

use crate::auth::keys::KeyEntry;
pub(crate) use clusters::NamedCluster;
pub use security::TlsFiles;
pub(crate) use security::{
    AuthSection, Limits, LimitsSection, MAX_BODY_BYTES, SecurityFlags, SecuritySettings,
    TlsSection, ToolsSection,
};

/// Default MCP listen address.
pub(crate) const DEFAULT_MCP_LISTEN: &str = "127.0.0.1:8812";

/// Default REST listen address (mcpo's port).
pub(crate) const DEFAULT_REST_LISTEN: &str = "127.0.0.1:8811";

/// Environment variable naming the config file when `--config` is absent.
pub(crate) const CONFIG_ENV: &str = "PROXMOX_MCP_CONFIG";

/// The configuration file, as written (every key optional).
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    #[serde(default)]
    pub cluster: ClusterSection,
    /// `[[clusters]]`: several clusters, each named (instead of `[cluster]`).
    #[serde(default)]
    pub(crate) clusters: Vec<ClusterSection>,
    #[serde(default)]
    pub server: ServerSection,
    #[serde(default)]
    pub rest: RestSection,
    /// `[guard]`: protected guests, exec policy, audit log (see `guard::GuardConfig`).
    #[serde(default)]
    pub(crate) guard: crate::guard::GuardConfig,
    /// `[audit]`: the audit key (see `audit::AuditSection`).
    #[serde(default)]
    pub audit: crate::audit::AuditSection,
    #[serde(default)]
    pub(crate) auth: AuthSection,
    #[serde(default)]
    pub(crate) keys: Vec<KeyEntry>,
    #[serde(default)]
    pub(crate) tools: ToolsSection,
    #[serde(default)]
    pub(crate) limits: LimitsSection,
    #[serde(default)]
    pub(crate) tls: TlsSection,
    /// What reading the file has to say (fields of an imported JSON file that were ignored).
    #[serde(skip)]
    pub(crate) notes: Vec<String>,
}

/// `[cluster]` (or one `[[clusters]]` entry): where the Proxmox VE API is and how to log in.
#[derive(Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ClusterSection {
    /// The cluster's name in tool calls (`cluster`), audit lines and metrics; required in
    /// `[[clusters]]`, `default` for `[cluster]`.
    pub(crate) name: Option<String>,
    /// Host name or IP (may carry `https://` and `:port`).
    pub host: Option<String>,
    pub(crate) port: Option<u16>,
    /// `USER@REALM`.
    pub(crate) user: Option<String>,
    pub(crate) token_name: Option<String>,
    pub token_value: Option<String>,
    /// File holding the token secret (instead of `token_value`).
    pub(crate) token_value_file: Option<PathBuf>,
    pub(crate) password: Option<String>,
    /// File holding the password (instead of `password`).
    pub(crate) password_file: Option<PathBuf>,
    /// `false` accepts any certificate (insecure, logged as a warning).
    pub(crate) verify_ssl: Option<bool>,
    /// SHA-256 fingerprint of the cluster certificate (`AA:BB:...`).
    pub(crate) fingerprint: Option<String>,
    /// PEM file of CA certificates to trust.
    pub(crate) ca_file: Option<PathBuf>,
    /// Request timeout in seconds.
    pub(crate) timeout: Option<u64>,
    /// `[cluster.ssh]`: SSH to the nodes (for the commands the API cannot run).
    pub(crate) ssh: Option<ssh::SshSection>,
}

impl std::fmt::Debug for ClusterSection {
    /// Secrets show as `<redacted>`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let redact = |v: &Option<String>| v.as_ref().map(|_| "<redacted>");
        f.debug_struct("ClusterSection")
            .field("name", &self.name)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("user", &self.user)
            .field("token_name", &self.token_name)
            .field("token_value", &redact(&self.token_value))
            .field("token_value_file", &self.token_value_file)
            .field("password", &redact(&self.password))
            .field("password_file", &self.password_file)
            .field("verify_ssl", &self.verify_ssl)
            .field("fingerprint", &self.fingerprint)
            .field("ca_file", &self.ca_file)
            .field("timeout", &self.timeout)
            .field("ssh", &self.ssh)
            .finish()
    }
}

/// `[server]`: how the front doors listen.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ServerSection {
    /// MCP listen address (`127.0.0.1:8812`).
    pub mcp_listen: Option<String>,
    /// `Host` header values accepted besides loopback names (for n8n in Docker, a reverse proxy).
    pub(crate) allowed_hosts: Option<Vec<String>>,
    /// Browser `Origin` values accepted by both doors (`https://n8n.lan`, `http://host:*`).
    pub(crate) allowed_origins: Option<Vec<String>>,
    /// `/metrics` asks for an API key (any scope); public by default.
    pub(crate) metrics_auth: Option<bool>,
    /// `text` (default) or `json` log lines on stderr.
    pub(crate) log_format: Option<LogFormat>,
    /// Log filter (`info`, `debug`, `proxmox_mcp=debug,info`...); `RUST_LOG` wins.
    pub(crate) log_level: Option<String>,
    /// Serve Streamable HTTP without sessions for every protocol revision (replicas behind a
    /// balancer); legacy SSE keeps its sessions.
    pub(crate) stateless: Option<bool>,
    /// Seconds between SIGTERM and the drain during which `/readyz` answers 503 and the doors
    /// still serve, so that a balancer stops sending work first.
    pub(crate) drain_delay_secs: Option<u64>,
}

/// `[rest]`: the REST door (mcpo-compatible, port 8811).
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RestSection {
    /// REST listen address (`127.0.0.1:8811`), or `off` to serve no REST door.
    pub listen: Option<String>,
    /// Browser origins allowed by CORS (`https://openwebui.lan`, `*` for any); CORS is off
    /// when empty.
    pub(crate) cors_origins: Option<Vec<String>>,
}

/// A configuration problem, worded for the operator.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("{0}")]
    Invalid(String),
    #[error(
        "no Proxmox VE cluster configured: set PROXMOX_HOST, PROXMOX_USER and PROXMOX_TOKEN_NAME/PROXMOX_TOKEN_VALUE \
         (or a [cluster] section in --config FILE), or pass --demo to use the built-in simulator"
    )]
    NoCluster,
    #[error(transparent)]
    Guard(#[from] crate::guard::GuardError),
    #[error(
        "cluster configuration: {0} (a PROXMOX_NAME variable is `name` in the [cluster] section \
         of the config file)"
    )]
    Cluster(String),
}

/// Longest `[server] drain_delay_secs`.
const MAX_DRAIN_DELAY_SECS: u64 = 300;

/// Command-line values that override everything else (all optional).
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub config: Option<PathBuf>,
    pub mcp_listen: Option<String>,
    pub demo: bool,
    /// REST listen address, or `off`.
    pub rest_listen: Option<String>,
    /// CORS origins of the REST door (replace the configured list when not empty).
    pub cors_origins: Vec<String>,
    /// `--audit-log FILE`.
    pub audit_log: Option<PathBuf>,
    /// `Host` values accepted besides loopback names (replace the configured list when not empty).
    pub allowed_hosts: Vec<String>,
    /// Browser origins accepted (replace the configured list when not empty).
    pub allowed_origins: Vec<String>,
    /// Keys, filters, limits, TLS.
    pub security: SecurityFlags,
    /// `--metrics-auth`.
    pub metrics_auth: bool,
    /// `--stateless`.
    pub stateless: bool,
    /// The cluster `--demo` simulates (`--nodes`, `--vms`, `--containers`, `--seed`).
    pub demo_shape: pve_sim::cli::ClusterArgs,
}

/// How the server reaches one cluster.
#[derive(Debug, Clone)]
pub enum ClusterChoice {
    /// The embedded simulator, started by the server.
    Demo,
    /// A real cluster (or any PVE API) described by this client configuration.
    Remote(Box<pve_client::ClientConfig>),
}

/// The merged, validated configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Every configured cluster, in order (never empty; the first is the default).
    pub clusters: Vec<NamedCluster>,
    pub mcp_listen: SocketAddr,
    pub allowed_hosts: Vec<String>,
    /// REST listen address; `None`: no REST door (`off`).
    pub rest_listen: Option<SocketAddr>,
    /// Whether `rest_listen` is the default rather than asked for (a busy default port is a
    /// warning, a busy configured one an error).
    pub rest_listen_is_default: bool,
    /// CORS origins of the REST door; empty: CORS off.
    pub(crate) cors_origins: Vec<String>,
    /// Protected guests, exec policy, audit log.
    pub guard: crate::guard::GuardConfig,
    /// Browser origins both doors accept; empty: no Origin check.
    pub(crate) allowed_origins: Vec<String>,
    /// Keys, filters, limits, TLS.
    pub security: SecuritySettings,
    /// `/metrics` asks for an API key.
    pub metrics_auth: bool,
    /// Streamable HTTP without sessions, whatever the client's protocol revision.
    pub stateless: bool,
    /// Time between SIGTERM and the drain, `/readyz` answering 503 (`Ops::drain_delay`).
    pub drain_delay: std::time::Duration,
    /// Log format from the file (`--log-format` and `PROXMOX_MCP_LOG_FORMAT` win).
    pub log_format: Option<LogFormat>,
    /// Log filter from the file (`RUST_LOG` wins).
    pub log_level: Option<String>,
    /// Lines to log once logging is set up (what an imported file's reading had to say).
    pub notes: Vec<String>,
    /// The cluster the embedded simulator serves in demo mode (the demo cluster by default).
    pub demo_shape: pve_sim::cli::ClusterArgs,
}

impl FileConfig {
    /// Parses TOML text; `path` is only used in messages.
    pub fn parse(text: &str, path: &Path) -> Result<Self, ConfigError> {
        toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: path.to_path_buf(),
            message: e.to_string().trim().replace('\n', " "),
        })
    }

    /// Reads and parses a file.
    pub(crate) fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        if import::is_json(path, &text) {
            return import::parse(&text, path);
        }
        Self::parse(&text, path)
    }
}

impl Settings {
    /// Merges flags, the environment (`env`, usually the process's) and the file.
    pub fn resolve(flags: &Overrides, env: &HashMap<String, String>) -> Result<Self, ConfigError> {
        let env_get = |k: &str| env.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
        let path = flags
            .config
            .clone()
            .or_else(|| env_get(CONFIG_ENV).map(PathBuf::from));
        let file = match &path {
            Some(p) => FileConfig::load(p)?,
            None => FileConfig::default(),
        };

        let listen_text = flags
            .mcp_listen
            .clone()
            .or_else(|| env_get("PROXMOX_MCP_LISTEN").map(str::to_string))
            .or_else(|| file.server.mcp_listen.clone())
            .unwrap_or_else(|| DEFAULT_MCP_LISTEN.to_string());
        let mcp_listen = parse_listen(&listen_text)?;

        let pick_list = |flag: &[String], var: &str, file: &Option<Vec<String>>| {
            if !flag.is_empty() {
                flag.iter().flat_map(|s| split_list(s)).collect()
            } else if let Some(v) = env_get(var) {
                split_list(v)
            } else {
                file.clone().unwrap_or_default()
            }
        };
        let allowed_hosts = pick_list(
            &flags.allowed_hosts,
            "PROXMOX_MCP_ALLOWED_HOSTS",
            &file.server.allowed_hosts,
        );
        let allowed_origins = pick_list(
            &flags.allowed_origins,
            "PROXMOX_MCP_ALLOWED_ORIGINS",
            &file.server.allowed_origins,
        );
        let security = security::resolve(&flags.security, env, &file)?;
        let metrics_auth = flags.metrics_auth
            || security::bool_var(env, "PROXMOX_MCP_METRICS_AUTH")?
                .or(file.server.metrics_auth)
                .unwrap_or(false);
        if metrics_auth && security.keys.is_empty() {
            return Err(ConfigError::Invalid(
                "metrics_auth needs an API key to check: add a [[keys]] entry or set PROXMOX_MCP_API_KEY"
                    .into(),
            ));
        }
        let stateless = flags.stateless
            || security::bool_var(env, "PROXMOX_MCP_STATELESS")?
                .or(file.server.stateless)
                .unwrap_or(false);
        let drain_delay = security::num_var(env, "PROXMOX_MCP_DRAIN_DELAY_SECS")?
            .or(file.server.drain_delay_secs)
            .unwrap_or(0);
        if drain_delay > MAX_DRAIN_DELAY_SECS {
            return Err(ConfigError::Invalid(format!(
                "drain_delay_secs is {drain_delay}: at most {MAX_DRAIN_DELAY_SECS} (the time a \
                 balancer takes to notice /readyz, a few seconds)"
            )));
        }
        if let Some(level) = &file.server.log_level {
            check_log_filter(level).map_err(|e| {
                ConfigError::Invalid(format!("log_level {level:?} is not a log filter: {e}"))
            })?;
        }

        let rest_text = flags
            .rest_listen
            .clone()
            .or_else(|| env_get("PROXMOX_MCP_REST_LISTEN").map(str::to_string))
            .or_else(|| file.rest.listen.clone());
        let rest_listen_is_default = rest_text.is_none();
        let rest_listen = match rest_text.as_deref().map(str::trim) {
            Some("off") => None,
            Some(text) => Some(parse_listen(text)?),
            None => Some(parse_listen(DEFAULT_REST_LISTEN)?),
        };
        let cors_origins = if !flags.cors_origins.is_empty() {
            flags.cors_origins.clone()
        } else if let Some(v) = env_get("PROXMOX_MCP_CORS_ORIGINS") {
            split_list(v)
        } else {
            file.rest.cors_origins.clone().unwrap_or_default()
        };

        let clusters = clusters::resolve(flags.demo, &file, env)?;
        let mut notes: Vec<String> = file.notes.iter().chain(&security.notes).cloned().collect();
        if flags.demo_shape.is_built() && !flags.demo {
            notes.push(
                "--nodes, --vms, --containers and --seed shape the --demo cluster; without --demo \
                 they are ignored"
                    .into(),
            );
        }

        Ok(Settings {
            clusters,
            mcp_listen,
            allowed_hosts,
            rest_listen,
            rest_listen_is_default,
            cors_origins,
            guard: crate::guard::GuardConfig {
                audit_key_file: file.audit.key_file.clone(),
                audit_stdout: file.audit.stdout.unwrap_or(false),
                audit_replica: file.audit.replica.clone(),
                ..file.guard.clone()
            }
            .resolved(flags.audit_log.as_deref(), env)?,
            allowed_origins,
            security,
            metrics_auth,
            stateless,
            drain_delay: std::time::Duration::from_secs(drain_delay),
            log_format: file.server.log_format,
            log_level: file.server.log_level.clone(),
            notes,
            demo_shape: flags.demo_shape.clone(),
        })
    }

    /// The default cluster's client settings (the first configured).
    pub fn cluster(&self) -> &ClusterChoice {
        // `clusters::resolve` never returns an empty list.
        &self.clusters[0].choice
    }

    /// Refuses to expose a door without keys (see [`SecuritySettings::check_exposure`]).
    pub fn check_exposure(&self) -> Result<(), ConfigError> {
        let mut addrs = vec![self.mcp_listen];
        addrs.extend(self.rest_listen);
        self.security.check_exposure(&addrs)
    }
}

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

/// Checks a log filter (`info`, `proxmox_mcp=debug,warn`): the reason when it is not one.
pub(crate) fn check_log_filter(filter: &str) -> Result<(), String> {
    const LEVELS: [&str; 6] = ["trace", "debug", "info", "warn", "error", "off"];
    let bare = !filter.contains(['=', ',', '[']);
    if bare && !LEVELS.contains(&filter.trim().to_ascii_lowercase().as_str()) {
        return Err(format!(
            "use one of {}, or directives such as proxmox_mcp=debug",
            LEVELS.join(", ")
        ));
    }
    tracing_subscriber::EnvFilter::builder()
        .parse(filter)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// A comma-separated list, trimmed, without empty items.
pub(crate) fn split_list(v: &str) -> Vec<String> {
    v.split(',')
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .collect()
}

/// `ADDR:PORT` as a socket address, with a message naming the bad value.
pub(crate) fn parse_listen(text: &str) -> Result<SocketAddr, ConfigError> {
    text.trim().parse().map_err(|_| {
        ConfigError::Invalid(format!(
            "listen address {text:?} is not ADDR:PORT (e.g. 127.0.0.1:8812)"
        ))
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn unknown_keys_are_errors_naming_the_key() {
        let e = FileConfig::parse("[cluster]\nhots = \"x\"\n", Path::new("c.toml")).unwrap_err();
        let text = e.to_string();
        assert!(text.contains("hots") && text.contains("c.toml"), "{text}");
        let e = FileConfig::parse("[clutser]\n", Path::new("c.toml")).unwrap_err();
        assert!(e.to_string().contains("clutser"), "{e}");
    }

    #[test]
    fn precedence_is_flags_then_env_then_file_then_defaults() {
        let dir = std::env::temp_dir().join(format!("pmcp-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("c.toml");
        std::fs::write(
            &path,
            "[cluster]\nhost = \"file-host\"\nuser = \"root@pam\"\ntoken_name = \"t\"\ntoken_value = \"s\"\n\
             [server]\nmcp_listen = \"127.0.0.1:9000\"\nallowed_hosts = [\"n8n\"]\n",
        )
        .unwrap();
        let flags = Overrides {
            config: Some(path.clone()),
            ..Overrides::default()
        };
        let s = Settings::resolve(&flags, &env(&[])).unwrap();
        assert_eq!(s.mcp_listen.port(), 9000);
        assert_eq!(s.allowed_hosts, vec!["n8n".to_string()]);
        match s.cluster() {
            ClusterChoice::Remote(c) => assert_eq!(c.host, "file-host"),
            ClusterChoice::Demo => panic!("demo"),
        }
        let s = Settings::resolve(
            &flags,
            &env(&[
                ("PROXMOX_HOST", "env-host"),
                ("PROXMOX_MCP_LISTEN", "127.0.0.1:9001"),
            ]),
        )
        .unwrap();
        assert_eq!(s.mcp_listen.port(), 9001);
        match s.cluster() {
            ClusterChoice::Remote(c) => assert_eq!(c.host, "env-host"),
            ClusterChoice::Demo => panic!("demo"),
        }
        let flags = Overrides {
            mcp_listen: Some("127.0.0.1:9002".into()),
            ..flags
        };
        let s =
            Settings::resolve(&flags, &env(&[("PROXMOX_MCP_LISTEN", "127.0.0.1:9001")])).unwrap();
        assert_eq!(s.mcp_listen.port(), 9002);
        let s = Settings::resolve(&Overrides::default(), &env(&[])).map(|s| s.mcp_listen);
        assert!(matches!(s, Err(ConfigError::NoCluster)));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn demo_needs_no_cluster_and_listens_on_the_default() {
        let flags = Overrides {
            demo: true,
            ..Overrides::default()
        };
        let s = Settings::resolve(&flags, &env(&[])).unwrap();
        assert!(matches!(s.cluster(), ClusterChoice::Demo));
        assert_eq!(s.mcp_listen.to_string(), DEFAULT_MCP_LISTEN);
        assert_eq!(
            s.rest_listen.map(|a| a.to_string()).as_deref(),
            Some(DEFAULT_REST_LISTEN)
        );
        assert!(s.rest_listen_is_default && s.cors_origins.is_empty());
    }

    #[test]
    fn rest_door_can_move_or_be_switched_off() {
        let demo = |rest: Option<&str>| Overrides {
            demo: true,
            rest_listen: rest.map(str::to_string),
            ..Overrides::default()
        };
        let s = Settings::resolve(&demo(Some("off")), &env(&[])).unwrap();
        assert_eq!(s.rest_listen, None);
        let s =
            Settings::resolve(&demo(None), &env(&[("PROXMOX_MCP_REST_LISTEN", "off")])).unwrap();
        assert_eq!(s.rest_listen, None);
        let s = Settings::resolve(
            &demo(Some("127.0.0.1:0")),
            &env(&[("PROXMOX_MCP_CORS_ORIGINS", "http://a.lan, http://b.lan")]),
        )
        .unwrap();
        assert_eq!(s.rest_listen.unwrap().port(), 0);
        assert!(!s.rest_listen_is_default);
        assert_eq!(s.cors_origins, ["http://a.lan", "http://b.lan"]);
        assert!(Settings::resolve(&demo(Some("nowhere")), &env(&[])).is_err());
        let f = FileConfig::parse(
            "[rest]\nlisten = \"off\"\ncors_origins = [\"*\"]\n",
            Path::new("c.toml"),
        )
        .unwrap();
        assert_eq!(f.rest.listen.as_deref(), Some("off"));
        assert_eq!(f.rest.cors_origins.unwrap(), ["*"]);
    }

    #[test]
    fn missing_cluster_error_says_what_to_set() {
        let text = ConfigError::NoCluster.to_string();
        assert!(
            text.contains("PROXMOX_HOST") && text.contains("--demo"),
            "{text}"
        );
    }

    #[test]
    fn the_guard_section_parses_strictly_and_the_flag_wins() {
        use crate::guard::AUDIT_LOG_ENV;
        let text = "[guard]\nprotected_vmids = [102]\naudit_log = \"file.jsonl\"\n\
                    [guard.exec]\ndeny = [\"rm *\"]\nmax_timeout_seconds = 20\n";
        let f = FileConfig::parse(text, Path::new("c.toml")).unwrap();
        assert_eq!(f.guard.protected_vmids, [102]);
        assert_eq!(f.guard.exec.max_timeout_seconds, Some(20));
        let e = FileConfig::parse("[guard]\nprotected = [1]\n", Path::new("c.toml")).unwrap_err();
        assert!(e.to_string().contains("protected"), "{e}");
        let env: HashMap<String, String> =
            [(AUDIT_LOG_ENV.to_string(), "env.jsonl".to_string())].into();
        let g = f.guard.clone().resolved(None, &env).unwrap();
        assert_eq!(g.audit_log.as_deref(), Some(Path::new("env.jsonl")));
        let g = f
            .guard
            .clone()
            .resolved(Some(Path::new("flag.jsonl")), &env)
            .unwrap();
        assert_eq!(g.audit_log.as_deref(), Some(Path::new("flag.jsonl")));
        let g = f.guard.clone().resolved(None, &HashMap::new()).unwrap();
        assert_eq!(g.audit_log.as_deref(), Some(Path::new("file.jsonl")));
        let mut bad = f.guard.clone();
        bad.exec.allow = vec!["re:[".into()];
        assert!(bad.resolved(None, &HashMap::new()).is_err());
    }
}
