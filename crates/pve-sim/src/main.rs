//! The `pve-sim` binary: serves the simulator on an address (`pve-sim --listen 127.0.0.1:8006`).
//! All logic lives in the library (`pve_sim::cli`).

use std::process::ExitCode;

use clap::Parser;

/// Proxmox VE API simulator: a stateful fake cluster served over HTTPS at /api2/json.
#[derive(Debug, Parser)]
#[command(name = "pve-sim", version)]
struct Cli {
    #[command(flatten)]
    args: pve_sim::cli::SimArgs,
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match pve_sim::cli::run(cli.args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pve-sim: {e}");
            ExitCode::FAILURE
        }
    }
}
