//! The `proxmox-mcp` binary: parses the command line and runs the library (kept thin).
//! `serve` (MCP over HTTP, and the REST door), `stdio` (MCP over stdin/stdout) and `sim` (the simulator alone).

use std::collections::HashMap;
use std::sync::Arc;

use anyhow::Context;
use clap::Parser;
use proxmox_mcp::app::{self, App};
use proxmox_mcp::cli::{Cli, Command, ServeArgs, StdioArgs, init_tracing};
use proxmox_mcp::config::Settings;
use proxmox_mcp::rest;
use tokio_util::sync::CancellationToken;

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    init_tracing(cli.log_format);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(run(cli))
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(args) => serve(args).await,
        Command::Stdio(args) => stdio(args).await,
        Command::Sim(args) => Ok(pve_sim::cli::run(args).await?),
        Command::Doctor(args) => Ok(proxmox_mcp::doctor::main(args).await?),
        Command::Audit(cmd) => Ok(proxmox_mcp::audit::run_cli(&cmd)?),
    }
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let env = process_env();
    let settings = Settings::resolve(&args.overrides(), &env)?;
    let shutdown = shutdown_on_signal();
    let app = Arc::new(App::from_settings(&settings).await?);
    if let Some(demo) = app.demo() {
        eprintln!("{}", demo.banner());
    }
    let listener = app::bind(settings.mcp_listen).await?;
    let local = listener.local_addr()?;
    if !local.ip().is_loopback() {
        tracing::warn!(%local, "listening on a non-loopback address without authentication");
    }
    eprintln!(
        "proxmox-mcp {}: MCP listening on http://{local}/proxmox/mcp (Streamable HTTP and legacy SSE; alias /mcp), {} tools",
        env!("CARGO_PKG_VERSION"),
        app.registry().len()
    );
    let rest_listener = bind_rest(&settings).await?;
    let rest_cfg = rest::config_from(&settings, &env);
    if let Some(l) = &rest_listener {
        let local = l.local_addr()?;
        if !local.ip().is_loopback() && !rest_cfg.auth.enabled() {
            tracing::warn!(%local, "REST door on a non-loopback address without an API key (set PROXMOX_MCP_API_KEY)");
        }
        eprintln!(
            "proxmox-mcp {}: REST listening on http://{local} (POST /<tool>; OpenAPI at /openapi.json, docs at /docs)",
            env!("CARGO_PKG_VERSION")
        );
    }
    let mcp = app::serve(
        app.clone(),
        listener,
        app::mcp_http_config(&settings),
        shutdown.clone(),
    );
    let rest = async {
        match rest_listener {
            Some(l) => rest::serve(app.clone(), l, rest_cfg, shutdown.clone()).await,
            None => Ok(()),
        }
    };
    tokio::try_join!(mcp, rest)?;
    tracing::info!("stopped");
    Ok(())
}

async fn stdio(args: StdioArgs) -> anyhow::Result<()> {
    let settings = Settings::resolve(&args.overrides(), &process_env())?;
    let shutdown = shutdown_on_signal();
    let app = Arc::new(App::from_settings(&settings).await?);
    if let Some(demo) = app.demo() {
        eprintln!("{}", demo.banner());
    }
    proxmox_mcp::mcp::serve_stdio(app, shutdown).await?;
    Ok(())
}

/// The REST listener `settings` asks for; a busy *default* port only turns the door off (with a
/// warning), a busy configured address is an error.
async fn bind_rest(settings: &Settings) -> anyhow::Result<Option<tokio::net::TcpListener>> {
    let Some(addr) = settings.rest_listen else {
        return Ok(None);
    };
    match app::bind(addr).await {
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

/// The root cancellation token, cancelled on Ctrl-C or SIGTERM.
fn shutdown_on_signal() -> CancellationToken {
    let token = CancellationToken::new();
    let t = token.clone();
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!("shutting down");
        t.cancel();
    });
    token
}

#[cfg(unix)]
async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

#[cfg(not(unix))]
async fn wait_for_signal() {
    let _ = tokio::signal::ctrl_c().await;
}
