//! `proxmox-mcp doctor`: checks a deployment and prints a readable report: the configuration,
//! whether the cluster answers, its certificate's SHA-256 fingerprint and whether it is trusted,
//! the identity and which tools its privileges let it call, the nodes, and which running VMs
//! have a working guest agent. Exits non-zero when it finds a problem.
//!
//! Same `--config` and `--demo` options as `serve`; every configured cluster is checked, or the
//! one `--cluster NAME` names. It only reads: the calls it makes are GETs
//! and guest-agent pings, never a change.

mod cluster;
pub(crate) mod privileges;
pub(crate) mod probe;
mod ssh;

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::PathBuf;

use clap::Args;

use crate::config::{CONFIG_ENV, ClusterChoice, NamedCluster, Overrides, Settings};
use crate::demo::DemoCluster;

/// Flags of `doctor`.
#[derive(Debug, Clone, Args)]
pub struct DoctorArgs {
    /// Check the embedded Proxmox VE simulator instead of a real cluster.
    #[arg(long)]
    pub demo: bool,
    /// TOML configuration file (default: $PROXMOX_MCP_CONFIG).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Check only the configured cluster of this name (default: every configured cluster).
    #[arg(long, value_name = "NAME")]
    pub cluster: Option<String>,
}

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// A fact worth showing.
    Info,
    /// As it should be.
    Ok,
    /// Works, but something is weak or limited.
    Warn,
    /// Something will fail: the doctor exits non-zero.
    Fail,
}

impl Level {
    fn tag(self) -> &'static str {
        match self {
            Level::Info => "[info]",
            Level::Ok => "[ ok ]",
            Level::Warn => "[warn]",
            Level::Fail => "[FAIL]",
        }
    }
}

/// One finding, with an optional hint saying what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub(crate) level: Level,
    pub text: String,
    pub hint: Option<String>,
}

/// A titled group of findings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    pub title: String,
    pub(crate) findings: Vec<Finding>,
}

/// The whole report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    pub sections: Vec<Section>,
}

impl Report {
    /// Starts a new section; findings go to the last one.
    fn section(&mut self, title: impl Into<String>) {
        self.sections.push(Section {
            title: title.into(),
            findings: Vec::new(),
        });
    }

    fn add(&mut self, level: Level, text: impl Into<String>, hint: Option<String>) {
        if self.sections.is_empty() {
            self.section("");
        }
        if let Some(s) = self.sections.last_mut() {
            s.findings.push(Finding {
                level,
                text: text.into(),
                hint,
            });
        }
    }

    fn info(&mut self, text: impl Into<String>) {
        self.add(Level::Info, text, None);
    }
    fn ok(&mut self, text: impl Into<String>) {
        self.add(Level::Ok, text, None);
    }
    fn warn(&mut self, text: impl Into<String>, hint: impl Into<Option<String>>) {
        self.add(Level::Warn, text, hint.into());
    }
    fn fail(&mut self, text: impl Into<String>, hint: impl Into<Option<String>>) {
        self.add(Level::Fail, text, hint.into());
    }

    /// Every finding, in order.
    pub(crate) fn findings(&self) -> impl Iterator<Item = &Finding> {
        self.sections.iter().flat_map(|s| s.findings.iter())
    }

    /// The findings at `level`.
    pub fn at(&self, level: Level) -> Vec<&Finding> {
        self.findings().filter(|f| f.level == level).collect()
    }

    /// Number of problems (findings at [`Level::Fail`]).
    pub fn problems(&self) -> usize {
        self.at(Level::Fail).len()
    }

    /// The report as text for a terminal or a log.
    pub fn render(&self) -> String {
        let mut out = format!("proxmox-mcp doctor {}\n", env!("CARGO_PKG_VERSION"));
        for s in &self.sections {
            let _ = writeln!(out, "\n{}", s.title);
            for f in &s.findings {
                let _ = writeln!(out, "  {} {}", f.level.tag(), f.text);
                if let Some(h) = &f.hint {
                    let _ = writeln!(out, "         -> {h}");
                }
            }
        }
        let warnings = self.at(Level::Warn).len();
        let _ = writeln!(
            out,
            "\nSummary: {} problem{}, {} warning{}.",
            self.problems(),
            plural(self.problems()),
            warnings,
            plural(warnings)
        );
        out
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// The doctor found problems (the report was printed already).
#[derive(Debug, thiserror::Error)]
#[error("doctor found {0} problem(s); see the report above")]
pub struct DoctorFailed(pub usize);

/// The `doctor` subcommand: diagnoses with the process environment, prints the report on
/// stdout, and fails when the report holds a problem.
pub async fn main(args: DoctorArgs) -> Result<(), DoctorFailed> {
    let env: HashMap<String, String> = std::env::vars().collect();
    let report = diagnose(&args, &env).await;
    print!("{}", report.render());
    match report.problems() {
        0 => Ok(()),
        n => Err(DoctorFailed(n)),
    }
}

/// Runs every check for these flags and environment.
pub async fn diagnose(args: &DoctorArgs, env: &HashMap<String, String>) -> Report {
    let mut report = Report::default();
    report.section("Configuration");
    let overrides = Overrides {
        config: args.config.clone(),
        demo: args.demo,
        ..Overrides::default()
    };
    let source = overrides.config.clone().or_else(|| {
        env.get(CONFIG_ENV)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    });
    let settings = match Settings::resolve(&overrides, env) {
        Ok(s) => s,
        Err(e) => {
            report.fail(
                format!("configuration: {e}"),
                "fix the setting named above (docs/install.md lists them)".to_string(),
            );
            return report;
        }
    };
    match &source {
        Some(p) => {
            report.ok(format!("config file {} parsed", p.display()));
            secret_file_mode(&mut report, p);
        }
        None => report.info("no config file: environment variables and defaults"),
    }
    describe_doors(&mut report, &settings);
    describe_exec(&mut report, &settings);
    let chosen: Vec<&NamedCluster> = match &args.cluster {
        None => settings.clusters.iter().collect(),
        Some(name) => settings
            .clusters
            .iter()
            .filter(|c| c.name == name.trim())
            .collect(),
    };
    if chosen.is_empty() {
        let names: Vec<&str> = settings.clusters.iter().map(|c| c.name.as_str()).collect();
        report.fail(
            format!(
                "no cluster named {:?} is configured",
                args.cluster.as_deref().unwrap_or("")
            ),
            format!("configured clusters: {}", names.join(", ")),
        );
        return report;
    }
    if settings.clusters.len() > 1 {
        let names: Vec<&str> = settings.clusters.iter().map(|c| c.name.as_str()).collect();
        report.info(format!(
            "{} clusters configured: {} (the first is the default)",
            names.len(),
            names.join(", ")
        ));
    }
    let titled = settings.clusters.len() > 1;
    for c in chosen {
        let name = titled.then_some(c.name.as_str());
        check_one(&mut report, name, c).await;
    }
    report
}

/// Checks one cluster and SSH to its nodes (starting the simulator for the demo one).
async fn check_one(report: &mut Report, name: Option<&str>, cluster: &NamedCluster) {
    let mut demo = None;
    let cfg = match &cluster.choice {
        ClusterChoice::Remote(cfg) => (**cfg).clone(),
        ClusterChoice::Demo => {
            let d = match DemoCluster::start(&pve_sim::cli::ClusterArgs::default()).await {
                Ok(d) => demo.insert(d),
                Err(e) => {
                    report.fail(e.to_string(), None);
                    return;
                }
            };
            report.info(format!(
                "demo mode: checking the embedded simulator at {}",
                d.server().base_url()
            ));
            match d.client_config() {
                Ok(c) => c,
                Err(e) => {
                    report.fail(e.to_string(), None);
                    return;
                }
            }
        }
    };
    cluster::check(report, name, cfg.clone()).await;
    let of = name.map(|n| format!(" ({n})")).unwrap_or_default();
    let api = match pve_client::PveClient::new(cfg) {
        Ok(c) => c,
        Err(e) => {
            report.fail(format!("SSH to the nodes{of}: {e}"), None);
            return;
        }
    };
    let ssh = match (&demo, &cluster.ssh) {
        (Some(d), _) => d.ssh_client(api.clone()).map_err(|e| e.to_string()),
        (None, Some(s)) => {
            pve_client::ssh::SshClient::new(s.clone(), Some(api.clone())).map_err(|e| e.to_string())
        }
        (None, None) => {
            ssh::check(report, &of, &api, None).await;
            return;
        }
    };
    match ssh {
        Ok(ssh) => ssh::check(report, &of, &api, Some(&ssh)).await,
        Err(e) => {
            report.section(format!("SSH to the nodes{of}"));
            report.fail(e, "fix [cluster.ssh] (docs/configuration.md)".to_string());
        }
    }
}

/// A config file holding a secret must not be readable by every local user.
fn secret_file_mode(report: &mut Report, path: &std::path::Path) {
    let Ok(file) = crate::config::FileConfig::load(path) else {
        return;
    };
    let holds_secret = std::iter::once(&file.cluster)
        .chain(&file.clusters)
        .any(|c| c.token_value.is_some() || c.password.is_some());
    if !holds_secret {
        return;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(path)
            && meta.permissions().mode() & 0o004 != 0
        {
            report.warn(
                format!(
                    "{} holds a secret and every local user can read it",
                    path.display()
                ),
                "chmod 600 it, or move the secret to a file named by \
                 PROXMOX_TOKEN_VALUE_FILE (a Compose secret, a systemd credential)"
                    .to_string(),
            );
        }
    }
}

/// The guest exec policy, with a warning when a deny list alone guards an offered tool.
fn describe_exec(report: &mut Report, settings: &Settings) {
    let (Ok(registry), Ok(policy)) = (
        crate::tools::registry()
            .map_err(|e| e.to_string())
            .and_then(|r| {
                settings
                    .security
                    .filter
                    .apply(&r)
                    .map_err(|e| e.to_string())
            }),
        crate::guard::ExecPolicy::new(&settings.guard.exec),
    ) else {
        return;
    };
    if let Some((warning, hint)) = crate::tools::deny_only_warning(&registry, &policy) {
        report.warn(warning, hint);
    }
}

/// The listen addresses, with a warning for doors open beyond this machine.
fn describe_doors(report: &mut Report, settings: &Settings) {
    let mcp = settings.mcp_listen;
    report.ok(format!(
        "MCP door on http://{mcp}/proxmox/mcp (Streamable HTTP and legacy SSE)"
    ));
    match settings.rest_listen {
        Some(rest) => report.ok(format!("REST door on http://{rest}")),
        None => report.info("REST door off"),
    }
    let open: Vec<String> = std::iter::once(mcp)
        .chain(settings.rest_listen)
        .filter(|a| !a.ip().is_loopback())
        .map(|a| a.to_string())
        .collect();
    if !open.is_empty() {
        report.info(format!(
            "{} reachable from other machines: protect the doors with API keys \
             (proxmox-mcp keys new) and a firewall rule",
            open.join(" and ")
        ));
    }
}
