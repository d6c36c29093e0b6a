//! Token benchmark: what the server costs an agent's context. Starts the real `proxmox-mcp`
//! binary (`serve` on `127.0.0.1:0`) over the embedded demo cluster and over a 2,000-guest
//! simulated cluster (a `pve_sim` simulator in this process, reached over pinned HTTPS), and
//! prints, with the `o200k_base` and `cl100k_base` encodings: the model-visible tool list of the
//! default toolsets, of `--toolsets all` and of each toolset (per tool and in total), the
//! parameters many tools repeat, and the answers of the four list tools and `get_cluster_overview`
//! on both clusters (text
//! content and `structuredContent` apart); then the budgets with PASS or MISS.
//!
//! Everything but those five tools' names comes from the server (`tools/list`, and the REST
//! door's OpenAPI tags for the toolsets), so the benchmark follows the tool surface as it changes.
//!
//! `cargo run --release -p proxmox-mcp-bench --bin tokens [-- OPTIONS]`; see `bench/README.md`.

mod answers;
mod count;
mod report;
mod surface;

use std::path::PathBuf;

use clap::Parser;
use proxmox_mcp_bench::cluster::{self, Shape};
use proxmox_mcp_bench::mcp::Session;
use proxmox_mcp_bench::server::{BinArgs, ServerProc, target_dir};
use serde_json::Value;

pub use proxmox_mcp_bench::Res;

use count::Counter;
use report::{Config, Report};

/// Token benchmark of proxmox-mcp (see bench/README.md).
#[derive(Debug, Parser)]
#[command(name = "tokens")]
struct Opts {
    #[command(flatten)]
    bin: BinArgs,
    /// One more `--toolsets` value to measure besides the default and `all`.
    #[arg(long, value_name = "A,B")]
    toolsets: Option<String>,
    /// Also measure what a new MCP session of `serve --demo --dynamic-toolsets` starts with.
    #[arg(long)]
    dynamic_toolsets: bool,
    #[command(flatten)]
    shape: Shape,
}

#[tokio::main]
async fn main() -> Res<()> {
    let opts = Opts::parse();
    let _ = rustls::crypto::ring::default_provider().install_default();
    // Token figures do not depend on the optimisation level: a debug build is enough.
    let bin = opts.bin.resolve(false)?;
    let target = target_dir()?;
    let workdir = target.join("bench-tokens");
    std::fs::create_dir_all(&workdir)?;
    println!("binary: {}", bin.display());
    println!("logs: {}", workdir.display());
    let counter = Counter::new()?;
    let client = reqwest::Client::builder().http1_only().no_proxy().build()?;
    let bench = Bench {
        bin,
        workdir,
        counter,
        client,
    };
    let mut report = Report::default();

    // The demo cluster: the default surface and its answers, then `all` and its OpenAPI tags.
    let mut default = bench.demo(None).await?;
    report.demo_answers = answers::measure(&mut default.session, &bench.counter).await?;
    report.instructions = default
        .session
        .init
        .get("instructions")
        .and_then(Value::as_str)
        .map(|s| bench.counter.cost(s));
    report
        .configs
        .push(default.config("default", &bench.counter)?);
    let all = bench.demo(Some("all")).await?;
    let openapi: Value = bench
        .client
        .get(format!("{}/openapi.json", all.proc.rest_url))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let all_config = all.config("--toolsets all", &bench.counter)?;
    let names: Vec<&str> = all_config.surface.names().collect();
    report.toolsets = surface::toolsets(&openapi, &names);
    report.configs.push(all_config);
    drop((default, all));
    if let Some(extra) = &opts.toolsets {
        let s = bench.demo(Some(extra)).await?;
        report
            .configs
            .push(s.config(&format!("--toolsets {extra}"), &bench.counter)?);
    }
    if opts.dynamic_toolsets {
        let s = bench
            .start("demo-dynamic", &["--demo", "--dynamic-toolsets"], &[])
            .await?;
        report
            .configs
            .push(s.config("--dynamic-toolsets (a new session)", &bench.counter)?);
    }
    let sets: Vec<String> = report.toolsets.keys().cloned().collect();
    for set in sets {
        let s = bench.demo(Some(&set)).await?;
        report
            .alone
            .insert(set, surface::measure(&bench.counter, &s.tools)?);
    }

    // The large cluster: the default surface (it names one cluster too) and the answers.
    println!("building the simulated cluster: {}", opts.shape);
    let sim = cluster::start_sim(opts.shape).await?;
    let mut large = bench
        .start("large", &[], &cluster::server_env(&sim))
        .await?;
    report.large_answers = answers::measure(&mut large.session, &bench.counter).await?;
    report.configs.push(large.config(
        &format!("default, over the {}-guest cluster", opts.shape.guests()),
        &bench.counter,
    )?);
    report.shape = opts.shape;
    drop(large);
    sim.shutdown().await;

    report.print();
    Ok(())
}

/// What every run shares: the binary, where logs go, the tokenizer, an HTTP client.
struct Bench {
    bin: PathBuf,
    workdir: PathBuf,
    counter: Counter,
    client: reqwest::Client,
}

/// A started server (stopped when dropped), its session and the tools it listed.
struct Served {
    proc: ServerProc,
    session: Session,
    tools: Vec<Value>,
}

impl Bench {
    /// `serve --demo [--toolsets SETS]`, initialized, its tools listed.
    async fn demo(&self, toolsets: Option<&str>) -> Res<Served> {
        let mut args = vec!["--demo"];
        if let Some(t) = toolsets {
            args.extend(["--toolsets", t]);
        }
        let label = format!("demo-{}", toolsets.unwrap_or("default").replace(',', "+"));
        self.start(&label, &args, &[]).await
    }

    async fn start(&self, label: &str, args: &[&str], env: &[(String, String)]) -> Res<Served> {
        let log = self.workdir.join(format!("server-{label}.log"));
        let _ = std::fs::remove_file(&log);
        let proc = ServerProc::start(&self.bin, args, env, &log)?;
        let mut session = Session::connect(self.client.clone(), proc.mcp_url.clone()).await?;
        let tools = session.list_tools().await?;
        Ok(Served {
            proc,
            session,
            tools,
        })
    }
}

impl Served {
    fn config(&self, label: &str, counter: &Counter) -> Res<Config> {
        Ok(Config {
            label: label.to_string(),
            surface: surface::measure(counter, &self.tools)?,
            shared: surface::shared_params(counter, &self.tools)?,
        })
    }
}
