//! The Python side of `agent_latency`: the two virtual environments under `bench/py/` (the MCP
//! Python SDK client, and ProxmoxMCP-Plus), each installed from its pinned requirements file and
//! reinstalled when that file changes; ProxmoxMCP-Plus as a child process over Streamable HTTP;
//! and one run of the driver `bench/py/agent_latency.py`, whose JSON line it reads.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use proxmox_mcp_bench::Res;
use proxmox_mcp_bench::child::{ChildGuard, free_port, log_file, wait_listening};
use proxmox_mcp_bench::cluster::{SECRET, TOKEN_NAME, USER};
use serde::Deserialize;

/// `bench/py/`.
pub fn py_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("py")
}

/// The Python of the virtual environment `dir`, created with `python` and filled from
/// `requirements` (exact pins, `--no-deps`, then `pip check`) unless it already holds them.
pub fn ensure_venv(python: &str, dir: &Path, requirements: &Path) -> Res<PathBuf> {
    let venv_python = dir.join("bin").join("python");
    let stamp = dir.join(".installed-requirements.txt");
    let wanted = std::fs::read_to_string(requirements)?;
    if venv_python.exists() && std::fs::read_to_string(&stamp).ok().as_deref() == Some(&wanted) {
        return Ok(venv_python);
    }
    println!(
        "installing {} into {}",
        requirements.display(),
        dir.display()
    );
    if !venv_python.exists() {
        run(Command::new(python).args(["-m", "venv"]).arg(dir))?;
    }
    run(Command::new(&venv_python)
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
        ])
        .args(["--no-deps", "-r"])
        .arg(requirements))?;
    run(Command::new(&venv_python).args(["-m", "pip", "check", "--disable-pip-version-check"]))?;
    std::fs::write(&stamp, wanted)?;
    Ok(venv_python)
}

fn run(cmd: &mut Command) -> Res<()> {
    let status = cmd.status()?;
    if !status.success() {
        return Err(format!("{cmd:?} failed: {status}").into());
    }
    Ok(())
}

/// A running ProxmoxMCP-Plus (Streamable HTTP on a loopback port).
#[derive(Debug)]
pub struct Plus {
    pub guard: ChildGuard,
    pub url: String,
}

impl Plus {
    /// Starts `proxmox-mcp-plus` from the venv `venv` against the simulator at `sim_port`
    /// (the same token as our server; TLS verification off, which the simulator's self-signed
    /// certificate needs and which ProxmoxMCP-Plus allows only with `PROXMOX_DEV_MODE`), and
    /// waits until its port accepts connections.
    pub fn start(venv: &Path, sim_port: u16, workdir: &Path) -> Res<Self> {
        let port = free_port()?;
        let jobs = workdir.join("plus-jobs.sqlite3");
        let _ = std::fs::remove_file(&jobs);
        let log = workdir.join("plus.log");
        let _ = std::fs::remove_file(&log);
        let child = Command::new(venv.join("bin").join("proxmox-mcp-plus"))
            .current_dir(workdir)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("PROXMOX_HOST", "127.0.0.1")
            .env("PROXMOX_PORT", sim_port.to_string())
            .env("PROXMOX_USER", USER)
            .env("PROXMOX_TOKEN_NAME", TOKEN_NAME)
            .env("PROXMOX_TOKEN_VALUE", SECRET)
            .env("PROXMOX_VERIFY_SSL", "false")
            .env("PROXMOX_DEV_MODE", "true")
            .env("PROXMOX_JOBS_SQLITE_PATH", &jobs)
            .env("MCP_TRANSPORT", "STREAMABLE")
            .env("MCP_HOST", "127.0.0.1")
            .env("MCP_PORT", port.to_string())
            .env("MCP_ALLOW_UNAUTHENTICATED_HTTP", "true")
            .stdin(Stdio::null())
            .stdout(log_file(&log)?)
            .stderr(log_file(&log)?)
            .spawn()?;
        let mut guard = ChildGuard::new(child);
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
        if !wait_listening(addr, Duration::from_secs(60), || guard.exited()) {
            return Err(format!("ProxmoxMCP-Plus did not start (see {})", log.display()).into());
        }
        Ok(Self {
            guard,
            url: format!("http://127.0.0.1:{port}/mcp"),
        })
    }
}

/// What one driver run printed.
#[derive(Debug, Clone, Deserialize)]
pub struct DriverRun {
    pub server: String,
    pub protocol_version: String,
    pub tools: usize,
    pub output_schema_bytes: usize,
    pub text_bytes: usize,
    pub structured_bytes: usize,
    pub rows: Option<usize>,
    pub samples_ms: Vec<f64>,
    pub validate_median_ms: Option<f64>,
    /// The floor: an MCP `ping`, and a call of `get_cluster_status` (when the server has it).
    #[serde(default)]
    pub ping_median_ms: Option<f64>,
    #[serde(default)]
    pub trivial_median_ms: Option<f64>,
}

/// Runs the driver against `url` (blocking: call it off the async runtime).
pub fn drive(python: &Path, url: &str, calls: u32, warmup: u32) -> Res<DriverRun> {
    let out = Command::new(python)
        .arg(py_dir().join("agent_latency.py"))
        .args(["--url", url])
        .args(["--calls", &calls.to_string()])
        .args(["--warmup", &warmup.to_string()])
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()?;
    if !out.status.success() {
        return Err(format!("the driver failed against {url}: {}", out.status).into());
    }
    let text = String::from_utf8(out.stdout)?;
    let line = text
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .ok_or("the driver printed no JSON")?;
    Ok(serde_json::from_str(line)?)
}
