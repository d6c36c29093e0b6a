//! The `proxmox-mcp` binary: parses the command line and runs the library (kept thin).
//! `serve` (MCP over HTTP, and the REST door), `stdio` (MCP over stdin/stdout), `sim` (the
//! simulator alone) and `keys new` (a new API key).

use std::collections::HashMap;
use std::sync::Arc;

use anyhow::Context;
use clap::Parser;
use proxmox_mcp::{
    App, Cli, Command, KeysCommand, LogFormat, NewKey, ServeArgs, Settings, StdioArgs, init_tracing,
};
use tokio_util::sync::CancellationToken;

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    // One thread by default: a call costs the gateway a fraction of a millisecond against the
    // cluster's own tens, and handing work between threads costs more CPU than it saves
    // (docs/PERFORMANCE.md). `--threads N` spreads the work over N threads.
    let mut builder = if cli.threads <= 1 {
        tokio::runtime::Builder::new_current_thread()
    } else {
        let mut b = tokio::runtime::Builder::new_multi_thread();
        b.worker_threads(usize::from(cli.threads));
        b
    };
    let runtime = builder
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(run(cli))
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    // `serve` and `stdio` set logging up once their configuration is read (it may choose the
    // format and level); the others at once.
    let log_format = cli.log_format;
    if !matches!(cli.command, Command::Serve(_) | Command::Stdio(_)) {
        init_tracing(log_format.unwrap_or(LogFormat::Text), None);
    }
    match cli.command {
        Command::Serve(args) => serve(args, log_format).await,
        Command::Stdio(args) => stdio(args, log_format).await,
        Command::Sim(args) => Ok(pve_sim::cli::run(args).await?),
        Command::Doctor(args) => Ok(proxmox_mcp::run_doctor(args).await?),
        Command::Audit(cmd) => Ok(proxmox_mcp::run_audit(&cmd)?),
        Command::Keys(KeysCommand::New { name, scope }) => {
            print!("{}", NewKey::generate(&name, scope)?.report());
            Ok(())
        }
    }
}

async fn serve(args: ServeArgs, log_format: Option<LogFormat>) -> anyhow::Result<()> {
    let env = process_env();
    let settings = Settings::resolve(&args.overrides(), &env)?;
    start_logging(&settings, log_format);
    match proxmox_mcp::raise_open_files_limit() {
        Some((before, after)) if after > before => {
            tracing::info!(
                before,
                after,
                "raised the open-files limit to the hard limit"
            );
        }
        Some((_, limit)) => tracing::info!(limit, "open-files limit"),
        None => {}
    }
    // Before anything starts: no door without a key on an address others can reach.
    settings.check_exposure()?;
    let tls = settings
        .security
        .tls
        .as_ref()
        .map(proxmox_mcp::tls_server_config)
        .transpose()?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    let signal = shutdown_on_signal();
    let app = Arc::new(App::from_settings(&settings).await?);
    let shutdown = app.ops().shutdown_after(&signal);
    tokio::spawn(proxmox_mcp::reload_keys(
        app.clone(),
        args.overrides(),
        env.clone(),
        proxmox_mcp::KEY_WATCH_INTERVAL,
        shutdown.clone(),
    ));
    if let Some(demo) = app.demo() {
        eprintln!("{}", demo.banner());
    }
    let listener = proxmox_mcp::bind(settings.mcp_listen).await?;
    let local = listener.local_addr()?;
    warn_if_exposed(&settings, local);
    eprintln!(
        "proxmox-mcp {}: MCP listening on {scheme}://{local}/proxmox/mcp (Streamable HTTP and legacy SSE; alias /mcp), {} tools",
        env!("CARGO_PKG_VERSION"),
        app.registry().len()
    );
    let rest_listener = bind_rest(&settings).await?;
    // One gate and one connection budget for both doors, sized after the open-files limit was
    // raised.
    let (mcp_cfg, rest_cfg) = proxmox_mcp::door_configs(&settings, app.gate().clone(), tls.clone());
    tracing::info!(
        max_connections = mcp_cfg.conns.limits().max_connections,
        per_client = mcp_cfg.conns.limits().max_per_client,
        "connection limits"
    );
    if let Some(l) = &rest_listener {
        let local = l.local_addr()?;
        warn_if_exposed(&settings, local);
        eprintln!(
            "proxmox-mcp {}: REST listening on {scheme}://{local} (POST /<tool>; OpenAPI at /openapi.json, docs at /docs)",
            env!("CARGO_PKG_VERSION")
        );
    }
    let mcp = proxmox_mcp::serve_mcp(app.clone(), listener, mcp_cfg, tls, shutdown.clone());
    let rest = async {
        match rest_listener {
            Some(l) => proxmox_mcp::serve_rest(app.clone(), l, rest_cfg, shutdown.clone()).await,
            None => Ok(()),
        }
    };
    // Bounded: a door that does not drain in time (a client that never lets go) is abandoned.
    let limit = app.ops().drain_grace + std::time::Duration::from_secs(5);
    let deadline = async {
        shutdown.cancelled().await;
        tokio::time::sleep(limit).await;
    };
    tokio::select! {
        r = async { tokio::try_join!(mcp, rest) } => { r?; }
        () = deadline => tracing::warn!("connections still open after the drain: closing them"),
    }
    tracing::info!("stopped");
    Ok(())
}

async fn stdio(args: StdioArgs, log_format: Option<LogFormat>) -> anyhow::Result<()> {
    let settings = Settings::resolve(&args.overrides(), &process_env())?;
    if settings.guard.audit_stdout {
        anyhow::bail!(
            "[audit] stdout is for `serve`: with `stdio`, stdout carries the MCP messages (write \
             the audit log to a file instead)"
        );
    }
    start_logging(&settings, log_format);
    let shutdown = shutdown_on_signal();
    let app = Arc::new(App::from_settings(&settings).await?);
    if let Some(demo) = app.demo() {
        eprintln!("{}", demo.banner());
    }
    proxmox_mcp::serve_stdio(app.host().clone(), shutdown).await?;
    Ok(())
}

/// Sets logging up: `--log-format`/`PROXMOX_MCP_LOG_FORMAT` > `[server] log_format` > text;
/// `RUST_LOG` > `[server] log_level` > info. Then logs what reading the configuration noted.
fn start_logging(settings: &Settings, flag: Option<LogFormat>) {
    let format = flag.or(settings.log_format).unwrap_or(LogFormat::Text);
    init_tracing(format, settings.log_level.as_deref());
    for note in &settings.notes {
        tracing::warn!("{note}");
    }
}

/// Warns when a door listens beyond loopback with no key (allowed by `--allow-unauthenticated`).
fn warn_if_exposed(settings: &Settings, local: std::net::SocketAddr) {
    if !local.ip().is_loopback() && settings.security.keys.is_empty() {
        tracing::warn!(%local, "listening on a non-loopback address WITHOUT AUTHENTICATION (--allow-unauthenticated): anyone who reaches it can run every tool offered");
    }
}

/// The REST listener `settings` asks for; a busy *default* port only turns the door off (with a
/// warning), a busy configured address is an error.
async fn bind_rest(settings: &Settings) -> anyhow::Result<Option<tokio::net::TcpListener>> {
    let Some(addr) = settings.rest_listen else {
        return Ok(None);
    };
    match proxmox_mcp::bind(addr).await {
        Ok(l) => Ok(Some(l)),
        Err(e) if settings.rest_listen_is_default => {
            tracing::warn!(error = %e, "REST door off: its default address is busy (use --rest-listen ADDR:PORT, or off)");
            Ok(None)
        }
        Err(e) => Err(e.into()),
    }
}

fn process_env() -> HashMap<String, String> {
    std::env::vars().collect()
}

/// The root cancellation token, cancelled on Ctrl-C or SIGTERM. The handlers are installed
/// before this returns (not when the spawned task first runs, which on the one-thread runtime
/// is only at the next await): a SIGTERM right after the listen line still drains.
fn shutdown_on_signal() -> CancellationToken {
    let token = CancellationToken::new();
    let t = token.clone();
    let signals = Signals::install();
    tokio::spawn(async move {
        signals.wait().await;
        tracing::info!("shutting down");
        t.cancel();
    });
    token
}

/// SIGINT and SIGTERM, registered with the runtime.
#[cfg(unix)]
struct Signals(Option<(tokio::signal::unix::Signal, tokio::signal::unix::Signal)>);

#[cfg(unix)]
impl Signals {
    fn install() -> Self {
        use tokio::signal::unix::{SignalKind, signal};
        match (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
        ) {
            (Ok(int), Ok(term)) => Self(Some((int, term))),
            (Err(e), _) | (_, Err(e)) => {
                tracing::warn!(error = %e, "cannot install the signal handlers; falling back to Ctrl-C only");
                Self(None)
            }
        }
    }

    async fn wait(self) {
        match self.0 {
            Some((mut int, mut term)) => {
                tokio::select! {
                    _ = int.recv() => {}
                    _ = term.recv() => {}
                }
            }
            None => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
}

#[cfg(not(unix))]
struct Signals;

#[cfg(not(unix))]
impl Signals {
    fn install() -> Self {
        Self
    }

    async fn wait(self) {
        let _ = tokio::signal::ctrl_c().await;
    }
}
