//! The command line: `proxmox-mcp serve | stdio | sim | keys`, and logging setup (stderr only).
//!
//! Subcommand and flag names are a contract (scripts and docs use them).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::config::{LogFormat, Overrides, SecurityFlags};
use crate::registry::Scope;

/// MCP server for Proxmox VE, with an embedded Proxmox VE simulator for demos.
#[derive(Debug, Parser)]
#[command(name = "proxmox-mcp", version, about, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Log format on stderr: text (default) or json [env: PROXMOX_MCP_LOG_FORMAT; config: [server] log_format].
    #[arg(
        long,
        global = true,
        value_enum,
        env = "PROXMOX_MCP_LOG_FORMAT",
        hide_env = true
    )]
    pub log_format: Option<LogFormat>,
    /// Threads that run requests: 1 (default) runs everything on one thread, which costs the
    /// least CPU and memory per call; raise it (up to the number of cores) when many clients
    /// call at once against a large cluster [env: PROXMOX_MCP_THREADS].
    #[arg(
        long,
        global = true,
        default_value_t = 1,
        value_parser = clap::value_parser!(u16).range(1..=1024),
        env = "PROXMOX_MCP_THREADS",
        hide_env = true
    )]
    pub threads: u16,
}

/// What to run.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve MCP over HTTP (Streamable HTTP and legacy SSE on /proxmox/mcp and /mcp) and the REST door.
    Serve(ServeArgs),
    /// Serve MCP over stdin/stdout (for Claude Desktop and other local clients).
    Stdio(StdioArgs),
    /// Run the Proxmox VE simulator alone (a demo cluster over HTTPS).
    Sim(pve_sim::cli::SimArgs),
    /// Check the configuration, the cluster, its certificate, the identity's privileges per tool, nodes and guest agents.
    Doctor(crate::doctor::DoctorArgs),
    /// Audit log tools (`audit verify FILE`).
    #[command(subcommand)]
    Audit(crate::audit::AuditCommand),
    /// Manage API keys of the HTTP doors.
    #[command(subcommand)]
    Keys(KeysCommand),
}

/// `keys` subcommands.
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Make a new API key: prints the key once and the [[keys]] entry to add to the config.
    New {
        /// Name of the key (shown in logs and the audit log): letters, digits, `_`, `.`, `-`.
        #[arg(long)]
        name: String,
        /// What the key may call: read, operate (adds non-destructive changes) or admin (all).
        #[arg(long, value_parser = parse_scope)]
        scope: Scope,
    },
}

fn parse_scope(s: &str) -> Result<Scope, String> {
    s.parse()
        .map_err(|e: crate::registry::scope::UnknownScope| e.to_string())
}

/// Server-wide tool filters, applied in this order: toolsets, plus tools, minus non-read tools
/// with --read-only, minus --exclude-tools.
#[derive(Debug, Clone, Default, Args)]
pub(crate) struct FilterArgs {
    /// Offer only tools that read; proxmox_api only for GET (env PROXMOX_MCP_READ_ONLY).
    #[arg(long)]
    pub(crate) read_only: bool,
    /// Toolsets to offer, comma-separated (`all`, `default`, `core`, ...; env PROXMOX_MCP_TOOLSETS).
    #[arg(long, value_name = "A,B", value_delimiter = ',')]
    pub(crate) toolsets: Option<Vec<String>>,
    /// Tools added to the toolsets, comma-separated (env PROXMOX_MCP_TOOLS).
    #[arg(long, value_name = "X,Y", value_delimiter = ',')]
    pub(crate) tools: Option<Vec<String>>,
    /// Tools removed, comma-separated; wins over everything (env PROXMOX_MCP_EXCLUDE_TOOLS).
    #[arg(long, value_name = "X,Y", value_delimiter = ',')]
    pub(crate) exclude_tools: Option<Vec<String>>,
    /// MCP sessions start with the default toolsets (among --toolsets) and turn others on with
    /// enable_toolset (env PROXMOX_MCP_DYNAMIC_TOOLSETS).
    #[arg(long)]
    pub(crate) dynamic_toolsets: bool,
}

impl FilterArgs {
    fn flags(&self) -> SecurityFlags {
        SecurityFlags {
            read_only: self.read_only,
            toolsets: self.toolsets.clone(),
            tools: self.tools.clone(),
            exclude_tools: self.exclude_tools.clone(),
            dynamic_toolsets: self.dynamic_toolsets,
            ..SecurityFlags::default()
        }
    }
}

/// Flags of `serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Start the embedded Proxmox VE simulator and manage it (no real cluster needed).
    #[arg(long)]
    pub(crate) demo: bool,
    /// Configuration file: TOML, or ProxmoxMCP's JSON (default: $PROXMOX_MCP_CONFIG).
    #[arg(long, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
    /// MCP listen address (default 127.0.0.1:8812, or $PROXMOX_MCP_LISTEN).
    #[arg(long, value_name = "ADDR:PORT")]
    pub(crate) mcp_listen: Option<String>,
    /// REST listen address (mcpo-compatible `POST /<tool>`, `/openapi.json`, `/docs`), or `off`
    /// (default 127.0.0.1:8811, or $PROXMOX_MCP_REST_LISTEN).
    #[arg(long, value_name = "ADDR:PORT|off")]
    pub(crate) rest_listen: Option<String>,
    /// Browser origin allowed to call the REST door (CORS); repeat for several, `*` for any.
    #[arg(long = "cors-origin", value_name = "ORIGIN")]
    pub(crate) cors_origins: Vec<String>,
    /// Append a hash-chained JSON line per mutating or refused call to FILE (or $PROXMOX_MCP_AUDIT_LOG).
    #[arg(long, value_name = "FILE")]
    pub(crate) audit_log: Option<PathBuf>,
    /// `Host` value accepted by both doors besides loopback names (repeat; `*` for any; env
    /// PROXMOX_MCP_ALLOWED_HOSTS).
    #[arg(long = "allowed-host", value_name = "HOST[:PORT]")]
    pub(crate) allowed_hosts: Vec<String>,
    /// Browser `Origin` accepted by both doors (repeat; env PROXMOX_MCP_ALLOWED_ORIGINS).
    #[arg(long = "allowed-origin", value_name = "ORIGIN")]
    pub(crate) allowed_origins: Vec<String>,
    /// Listen on a non-loopback address even though no API key is configured.
    #[arg(long)]
    pub(crate) allow_unauthenticated: bool,
    /// Ask for an API key (any scope) on /metrics (env PROXMOX_MCP_METRICS_AUTH).
    #[arg(long)]
    pub(crate) metrics_auth: bool,
    /// Header carrying the API key besides `Authorization: Bearer` (e.g. X-API-Key).
    #[arg(long, value_name = "NAME")]
    pub(crate) api_key_header: Option<String>,
    /// Streamable HTTP without sessions for every protocol revision, for replicas behind a
    /// load balancer (env PROXMOX_MCP_STATELESS; config: [server] stateless).
    #[arg(long)]
    pub(crate) stateless: bool,
    /// Serve both doors over HTTPS with this PEM certificate chain (with --tls-key).
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub(crate) tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub(crate) tls_key: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) filters: FilterArgs,
    /// With --demo: the simulated cluster's shape.
    #[command(flatten)]
    pub(crate) demo_shape: pve_sim::cli::ClusterArgs,
}

/// Flags of `stdio`.
#[derive(Debug, Args)]
pub struct StdioArgs {
    /// Start the embedded Proxmox VE simulator and manage it (no real cluster needed).
    #[arg(long)]
    pub(crate) demo: bool,
    /// Configuration file: TOML, or ProxmoxMCP's JSON (default: $PROXMOX_MCP_CONFIG).
    #[arg(long, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
    /// Append a hash-chained JSON line per mutating or refused call to FILE (or $PROXMOX_MCP_AUDIT_LOG).
    #[arg(long, value_name = "FILE")]
    pub(crate) audit_log: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) filters: FilterArgs,
    /// With --demo: the simulated cluster's shape.
    #[command(flatten)]
    pub(crate) demo_shape: pve_sim::cli::ClusterArgs,
}

impl ServeArgs {
    /// The flags that override configuration.
    pub fn overrides(&self) -> Overrides {
        Overrides {
            config: self.config.clone(),
            mcp_listen: self.mcp_listen.clone(),
            demo: self.demo,
            rest_listen: self.rest_listen.clone(),
            cors_origins: self.cors_origins.clone(),
            audit_log: self.audit_log.clone(),
            allowed_hosts: self.allowed_hosts.clone(),
            allowed_origins: self.allowed_origins.clone(),
            metrics_auth: self.metrics_auth,
            stateless: self.stateless,
            demo_shape: self.demo_shape.clone(),
            security: SecurityFlags {
                allow_unauthenticated: self.allow_unauthenticated,
                api_key_header: self.api_key_header.clone(),
                tls_cert: self.tls_cert.clone(),
                tls_key: self.tls_key.clone(),
                ..self.filters.flags()
            },
        }
    }
}

impl StdioArgs {
    /// The flags that override configuration.
    pub fn overrides(&self) -> Overrides {
        Overrides {
            config: self.config.clone(),
            mcp_listen: None,
            demo: self.demo,
            audit_log: self.audit_log.clone(),
            security: self.filters.flags(),
            demo_shape: self.demo_shape.clone(),
            ..Overrides::default()
        }
    }
}

/// Sends `tracing` output to stderr (never stdout: in stdio mode stdout is the protocol).
/// The filter comes from `RUST_LOG`, else `level` (the config's `log_level`), else `info`.
pub fn init_tracing(format: LogFormat, level: Option<&str>) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(level.unwrap_or("info")))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.with_ansi(false).try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn subcommands_and_flags_parse() {
        let cli = Cli::try_parse_from([
            "proxmox-mcp",
            "serve",
            "--demo",
            "--mcp-listen",
            "127.0.0.1:0",
            "--rest-listen",
            "127.0.0.1:0",
        ])
        .unwrap();
        match cli.command {
            Command::Serve(a) => {
                assert!(a.demo);
                assert_eq!(a.mcp_listen.as_deref(), Some("127.0.0.1:0"));
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            Cli::try_parse_from(["proxmox-mcp", "stdio", "--demo"])
                .unwrap()
                .command,
            Command::Stdio(StdioArgs { demo: true, .. })
        ));
        assert!(matches!(
            Cli::try_parse_from(["proxmox-mcp", "sim"]).unwrap().command,
            Command::Sim(_)
        ));
        assert!(Cli::try_parse_from(["proxmox-mcp", "serve", "--bogus"]).is_err());
        let cli = Cli::try_parse_from([
            "proxmox-mcp",
            "serve",
            "--read-only",
            "--toolsets",
            "core,all",
            "--tools",
            "get_vms",
            "--tools",
            "get_task",
            "--exclude-tools",
            "delete_vm",
        ])
        .unwrap();
        let Command::Serve(a) = cli.command else {
            panic!("serve")
        };
        let o = a.overrides().security;
        assert!(o.read_only);
        assert_eq!(o.toolsets.unwrap(), ["core", "all"]);
        assert_eq!(o.tools.unwrap(), ["get_vms", "get_task"]);
        assert_eq!(o.exclude_tools.unwrap(), ["delete_vm"]);
        assert!(Cli::try_parse_from(["proxmox-mcp", "serve", "--tls-cert", "c.pem"]).is_err());
        let cli = Cli::try_parse_from([
            "proxmox-mcp",
            "keys",
            "new",
            "--name",
            "n8n",
            "--scope",
            "operate",
        ])
        .unwrap();
        assert!(matches!(
            cli.command,
            Command::Keys(KeysCommand::New {
                scope: Scope::Operate,
                ..
            })
        ));
        assert!(
            Cli::try_parse_from([
                "proxmox-mcp",
                "keys",
                "new",
                "--name",
                "n",
                "--scope",
                "root"
            ])
            .is_err()
        );
    }
}
