//! The gateway benchmark's child processes (the simulator and the server, both run from the
//! release `proxmox-mcp` binary) and what `/proc` says about them: resident memory and CPU time.
//! Linux only.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{ChildStdout, Command, Stdio};
use std::time::Duration;

pub use proxmox_mcp_bench::child::{ChildGuard, free_port, log_file, wait_listening};
pub use proxmox_mcp_bench::procfs::{Memory, rss_bytes, threads};

use crate::Res;

/// The simulator's admin token (user, token id, secret).
pub use proxmox_mcp_bench::cluster::{SECRET, TOKEN_NAME, USER};

/// A running simulator (`proxmox-mcp sim`, demo cluster, tasks instant).
#[derive(Debug)]
pub struct Sim {
    pub guard: ChildGuard,
    pub port: u16,
    /// `https` (default) or `http`.
    pub scheme: &'static str,
    /// SHA-256 fingerprint of its certificate (HTTPS only).
    pub fingerprint: Option<String>,
    /// Its certificate in PEM (HTTPS only), for the direct client.
    pub cert_pem: Option<String>,
    /// The file holding that certificate (HTTPS only), for the relay.
    pub cert_path: Option<PathBuf>,
    /// Kept open: the simulator may still write to stdout.
    _stdout: BufReader<ChildStdout>,
}

impl Sim {
    /// Starts the simulator and waits for its banner (printed once it listens).
    pub fn start(bin: &Path, tls: bool, workdir: &Path) -> Res<Self> {
        let port = free_port()?;
        let cert_path = workdir.join("sim-cert.pem");
        let mut cmd = Command::new(bin);
        cmd.args(["sim", "--listen", &format!("127.0.0.1:{port}")])
            .args(["--api-token", &format!("{USER}!{TOKEN_NAME}={SECRET}")])
            .args(["--time-scale", "0"]);
        if tls {
            cmd.arg("--cert-out").arg(&cert_path);
        } else {
            cmd.arg("--plain-http");
        }
        let mut child = cmd
            .env_clear()
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log_file(&workdir.join("sim.log"))?)
            .spawn()?;
        let stdout = child.stdout.take().ok_or("no stdout pipe")?;
        let guard = ChildGuard::new(child);
        let mut reader = BufReader::new(stdout);
        let mut fingerprint = None;
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line)? == 0 {
                return Err("the simulator exited before printing its banner (see sim.log)".into());
            }
            if let Some(fp) = line.trim().strip_prefix("certificate SHA-256 fingerprint:") {
                fingerprint = Some(fp.trim().to_string());
            }
            // The banner's last line.
            if line.starts_with("task time scale") {
                break;
            }
        }
        let cert_pem = if tls {
            Some(std::fs::read_to_string(&cert_path)?)
        } else {
            None
        };
        Ok(Self {
            guard,
            port,
            scheme: if tls { "https" } else { "http" },
            fingerprint: if tls { fingerprint } else { None },
            cert_pem,
            cert_path: tls.then_some(cert_path),
            _stdout: reader,
        })
    }

    /// The `PROXMOX_*` environment that points the server at this simulator.
    pub fn server_env(&self) -> Vec<(String, String)> {
        let mut env = vec![
            (
                "PROXMOX_HOST".to_string(),
                format!("{}://127.0.0.1:{}", self.scheme, self.port),
            ),
            ("PROXMOX_USER".to_string(), USER.to_string()),
            ("PROXMOX_TOKEN_NAME".to_string(), TOKEN_NAME.to_string()),
            ("PROXMOX_TOKEN_VALUE".to_string(), SECRET.to_string()),
        ];
        if let Some(fp) = &self.fingerprint {
            env.push(("PROXMOX_FINGERPRINT".to_string(), fp.clone()));
        }
        env
    }

    /// `GET /api2/json/cluster/resources?type=vm`: the request `get_vms` makes.
    pub fn resources_url(&self) -> String {
        format!(
            "{}://127.0.0.1:{}/api2/json/cluster/resources?type=vm",
            self.scheme, self.port
        )
    }
}

/// How to start the server: `proxmox-mcp serve` with a clean environment plus `env`.
#[derive(Debug, Clone)]
pub struct ServerCmd {
    pub bin: PathBuf,
    pub env: Vec<(String, String)>,
    pub log: PathBuf,
}

/// A started server and its ports.
#[derive(Debug)]
pub struct Server {
    pub guard: ChildGuard,
    pub mcp_port: u16,
    pub rest_port: u16,
}

impl Server {
    /// Spawns the server (MCP and REST on free loopback ports) without waiting for it.
    pub fn spawn(cmd: &ServerCmd) -> Res<Self> {
        let mcp_port = free_port()?;
        let rest_port = free_port()?;
        let child = Command::new(&cmd.bin)
            .args(["serve", "--mcp-listen", &format!("127.0.0.1:{mcp_port}")])
            .args(["--rest-listen", &format!("127.0.0.1:{rest_port}")])
            .env_clear()
            .envs(cmd.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log_file(&cmd.log)?)
            .spawn()?;
        Ok(Self {
            guard: ChildGuard::new(child),
            mcp_port,
            rest_port,
        })
    }

    pub fn mcp_url(&self) -> String {
        format!("http://127.0.0.1:{}/proxmox/mcp", self.mcp_port)
    }

    pub fn rest_url(&self, tool: &str) -> String {
        format!("http://127.0.0.1:{}/{tool}", self.rest_port)
    }
}

/// The floor: `relay` (see `bench/src/bin/relay.rs`) forwarding `POST /get_vms` to `sim`.
#[derive(Debug)]
pub struct Relay {
    pub guard: ChildGuard,
    pub port: u16,
}

impl Relay {
    /// Spawns `bin` and waits until its port accepts connections.
    pub fn start(bin: &Path, sim: &Sim) -> Res<Self> {
        let port = free_port()?;
        let mut cmd = Command::new(bin);
        cmd.arg(format!("127.0.0.1:{port}"))
            .arg(sim.resources_url())
            .arg(format!("PVEAPIToken={USER}!{TOKEN_NAME}={SECRET}"));
        if let Some(cert) = &sim.cert_path {
            cmd.arg(cert);
        }
        let child = cmd
            .env_clear()
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()?;
        let mut guard = ChildGuard::new(child);
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
        if !wait_listening(addr, Duration::from_secs(10), || guard.exited()) {
            return Err(format!("{} did not start listening", bin.display()).into());
        }
        Ok(Self { guard, port })
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/get_vms", self.port)
    }
}

/// CPU time consumed by a process so far, two ways.
#[derive(Debug, Clone, Copy)]
pub struct CpuTime {
    /// utime + stime of `/proc/<pid>/stat`, in nanoseconds (clock-tick resolution, 10 ms).
    pub stat_ns: u64,
    /// The kernel part (stime) of `stat_ns`.
    pub stat_sys_ns: u64,
    /// Sum of the first field of `/proc/<pid>/task/*/schedstat` (nanoseconds on a CPU, exact,
    /// but only for threads still alive).
    pub sched_ns: Option<u64>,
}

impl CpuTime {
    pub fn read(pid: u32) -> Res<Self> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
        // Fields after the command name (which is in parentheses and may hold spaces).
        let rest = stat.rsplit_once(')').ok_or("malformed /proc/pid/stat")?.1;
        let fields: Vec<&str> = rest.split_whitespace().collect();
        // Field 14 (utime) and 15 (stime) of proc(5); `rest` starts at field 3.
        let utime: u64 = fields.get(11).ok_or("no utime")?.parse()?;
        let stime: u64 = fields.get(12).ok_or("no stime")?.parse()?;
        let ns = |ticks: u64| ticks * 1_000_000_000 / clock_ticks_per_second();
        Ok(Self {
            stat_ns: ns(utime + stime),
            stat_sys_ns: ns(stime),
            sched_ns: sched_ns(pid),
        })
    }

    /// CPU nanoseconds since `earlier`: schedstat when both readings have it, else stat.
    pub fn since(&self, earlier: &Self) -> u64 {
        match (self.sched_ns, earlier.sched_ns) {
            (Some(now), Some(then)) if now >= then => now - then,
            _ => self.stat_ns.saturating_sub(earlier.stat_ns),
        }
    }

    /// CPU nanoseconds since `earlier` by `/proc/<pid>/stat` alone (the cross-check): total and
    /// kernel part.
    pub fn stat_since(&self, earlier: &Self) -> (u64, u64) {
        (
            self.stat_ns.saturating_sub(earlier.stat_ns),
            self.stat_sys_ns.saturating_sub(earlier.stat_sys_ns),
        )
    }
}

fn sched_ns(pid: u32) -> Option<u64> {
    let mut total = 0u64;
    for entry in std::fs::read_dir(format!("/proc/{pid}/task")).ok()? {
        let path = entry.ok()?.path().join("schedstat");
        let text = std::fs::read_to_string(path).ok()?;
        total += text.split_whitespace().next()?.parse::<u64>().ok()?;
    }
    Some(total)
}

/// `getconf CLK_TCK` (100 on Linux unless told otherwise).
fn clock_ticks_per_second() -> u64 {
    static TCK: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *TCK.get_or_init(|| {
        Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|s| s.trim().parse().ok())
            .filter(|&t| t > 0)
            .unwrap_or(100)
    })
}

/// The soft limit on open files of this process (children inherit it).
pub fn open_files_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    let soft = line["Max open files".len()..].split_whitespace().next()?;
    if soft == "unlimited" {
        Some(u64::MAX)
    } else {
        soft.parse().ok()
    }
}
