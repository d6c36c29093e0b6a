//! The command line: `proxmox-mcp serve | stdio | sim`, and logging setup (stderr only).
//!
//! Subcommand and flag names are a contract (scripts and docs use them).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::config::Overrides;

/// MCP server for Proxmox VE, with an embedded Proxmox VE simulator for demos.
#[derive(Debug, Parser)]
#[command(name = "proxmox-mcp", version, about, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Log format on stderr.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text, env = "PROXMOX_MCP_LOG_FORMAT")]
    pub log_format: LogFormat,
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
}

/// Flags of `serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Start the embedded Proxmox VE simulator and manage it (no real cluster needed).
    #[arg(long)]
    pub demo: bool,
    /// TOML configuration file (default: $PROXMOX_MCP_CONFIG).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// MCP listen address (default 127.0.0.1:8812, or $PROXMOX_MCP_LISTEN).
    #[arg(long, value_name = "ADDR:PORT")]
    pub mcp_listen: Option<String>,
    /// REST listen address (mcpo-compatible `POST /<tool>`, `/openapi.json`, `/docs`), or `off`
    /// (default 127.0.0.1:8811, or $PROXMOX_MCP_REST_LISTEN).
    #[arg(long, value_name = "ADDR:PORT|off")]
    pub rest_listen: Option<String>,
    /// Browser origin allowed to call the REST door (CORS); repeat for several, `*` for any.
    #[arg(long = "cors-origin", value_name = "ORIGIN")]
    pub cors_origins: Vec<String>,
    /// Append a hash-chained JSON line per mutating or refused call to FILE (or $PROXMOX_MCP_AUDIT_LOG).
    #[arg(long, value_name = "FILE")]
    pub audit_log: Option<PathBuf>,
}

/// Flags of `stdio`.
#[derive(Debug, Args)]
pub struct StdioArgs {
    /// Start the embedded Proxmox VE simulator and manage it (no real cluster needed).
    #[arg(long)]
    pub demo: bool,
    /// TOML configuration file (default: $PROXMOX_MCP_CONFIG).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Append a hash-chained JSON line per mutating or refused call to FILE (or $PROXMOX_MCP_AUDIT_LOG).
    #[arg(long, value_name = "FILE")]
    pub audit_log: Option<PathBuf>,
}

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
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
            ..Overrides::default()
        }
    }
}

/// Sends `tracing` output to stderr (never stdout: in stdio mode stdout is the protocol).
/// The level comes from `RUST_LOG` (default `info`).
pub fn init_tracing(format: LogFormat) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
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
    }
}
