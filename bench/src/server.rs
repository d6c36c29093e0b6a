//! The server under test as a child process: the real `proxmox-mcp` binary run as `serve` with
//! both doors on `127.0.0.1:0`; the addresses it bound are read from its start banner on stderr,
//! and everything it writes there goes to a log file. Also where the workspace and its binaries
//! are, and the `cargo build` that makes them.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crate::Res;
use crate::child::{ChildGuard, log_file};

/// Longest wait for the start banner (a debug build in demo mode generates a certificate).
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// A running `proxmox-mcp serve`.
#[derive(Debug)]
pub struct ServerProc {
    pub guard: ChildGuard,
    /// `http://127.0.0.1:PORT/proxmox/mcp`.
    pub mcp_url: String,
    /// `http://127.0.0.1:PORT` of the REST door.
    pub rest_url: String,
}

impl ServerProc {
    /// Runs `bin serve --mcp-listen 127.0.0.1:0 --rest-listen 127.0.0.1:0 ARGS` with a clean
    /// environment plus `env`, and waits until its banner names both doors.
    pub fn start(bin: &Path, args: &[&str], env: &[(String, String)], log: &Path) -> Res<Self> {
        let mut child = Command::new(bin)
            .args(["serve", "--mcp-listen", "127.0.0.1:0"])
            .args(["--rest-listen", "127.0.0.1:0"])
            .args(args)
            .env_clear()
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()?;
        let stderr = child.stderr.take().ok_or("no stderr pipe")?;
        let guard = ChildGuard::new(child);
        let mut file = log_file(log)?;
        let (tx, rx) = mpsc::channel();
        // Copies stderr to the log for the server's whole life; reports the doors' URLs.
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                let _ = writeln!(file, "{line}");
                for (door, marker) in [("mcp", "MCP listening on "), ("rest", "REST listening on ")]
                {
                    if let Some(url) = after(&line, marker) {
                        let _ = tx.send((door, url));
                    }
                }
            }
        });
        let (mut mcp_url, mut rest_url) = (None, None);
        while mcp_url.is_none() || rest_url.is_none() {
            match rx.recv_timeout(START_TIMEOUT) {
                Ok(("mcp", url)) => mcp_url = Some(url),
                Ok((_, url)) => rest_url = Some(url),
                Err(_) => {
                    return Err(format!(
                        "{} did not print where it listens (see {})",
                        bin.display(),
                        log.display()
                    )
                    .into());
                }
            }
        }
        Ok(Self {
            guard,
            mcp_url: mcp_url.unwrap_or_default(),
            rest_url: rest_url.unwrap_or_default(),
        })
    }
}

/// The word after `marker` in `line`.
fn after(line: &str, marker: &str) -> Option<String> {
    let rest = &line[line.find(marker)? + marker.len()..];
    rest.split_whitespace().next().map(str::to_string)
}

/// Which server binary to run (command-line flags shared by the benchmarks that run one).
#[derive(Debug, Clone, clap::Args)]
pub struct BinArgs {
    /// The proxmox-mcp binary to run (default: build it with cargo and run that).
    #[arg(long = "bin", value_name = "PATH")]
    pub path: Option<PathBuf>,
    /// Run the binary already in the target directory without building it.
    #[arg(long)]
    pub no_build: bool,
}

impl BinArgs {
    /// The binary: `--bin`, else `target/<debug|release>/proxmox-mcp`, built first unless
    /// `--no-build`.
    pub fn resolve(&self, release: bool) -> Res<PathBuf> {
        if let Some(p) = &self.path {
            return exists(p.clone());
        }
        if !self.no_build {
            let mut args = vec!["-p", "proxmox-mcp", "--bin", "proxmox-mcp"];
            if release {
                args.insert(0, "--release");
            }
            cargo_build(&args)?;
        }
        let profile = if release { "release" } else { "debug" };
        exists(target_dir()?.join(profile).join("proxmox-mcp"))
    }
}

fn exists(bin: PathBuf) -> Res<PathBuf> {
    if bin.exists() {
        Ok(bin)
    } else {
        Err(format!("{} not found: cargo build -p proxmox-mcp", bin.display()).into())
    }
}

/// The workspace root (the parent of this crate).
pub fn workspace_root() -> Res<PathBuf> {
    Ok(Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .ok_or("no workspace root")?
        .to_path_buf())
}

/// Cargo's target directory: `$CARGO_TARGET_DIR`, else `target/` in the workspace.
pub fn target_dir() -> Res<PathBuf> {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => Ok(PathBuf::from(dir)),
        None => Ok(workspace_root()?.join("target")),
    }
}

/// `cargo build ARGS` in the workspace (the `cargo` that runs this benchmark, else `cargo`).
pub fn cargo_build(args: &[&str]) -> Res<()> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    println!("building: cargo build {}", args.join(" "));
    let status = Command::new(cargo)
        .arg("build")
        .args(args)
        .current_dir(workspace_root()?)
        .status()?;
    if !status.success() {
        return Err(format!("cargo build failed: {status}").into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_doors_from_the_banner() {
        let line = "proxmox-mcp 0.1.0: MCP listening on http://127.0.0.1:40871/proxmox/mcp \
                    (Streamable HTTP and legacy SSE; alias /mcp), 21 tools";
        assert_eq!(
            after(line, "MCP listening on ").as_deref(),
            Some("http://127.0.0.1:40871/proxmox/mcp")
        );
        assert_eq!(after(line, "REST listening on "), None);
    }
}
