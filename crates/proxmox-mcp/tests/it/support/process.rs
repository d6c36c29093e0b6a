//! The `proxmox-mcp` binary run as a process (`Bin`, its stderr read line by line), the
//! simulator it is pointed at (`sim`, `sim_env`), configuration files and environments for it,
//! and the Prometheus text it serves (`parse_metrics`).

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use pve_sim::server::{SimConfig, SimServer};

/// The token the test simulator accepts.
pub const SIM_TOKEN: (&str, &str, &str) =
    ("root@pam", "ci", "5f0c1a2b-aaaa-bbbb-cccc-0123456789ab");

/// A simulator over HTTPS on 127.0.0.1:0 (tasks end at once) accepting [`SIM_TOKEN`].
pub async fn sim() -> SimServer {
    let (user, name, value) = SIM_TOKEN;
    let cfg = SimConfig {
        api_tokens: vec![format!("{user}!{name}={value}")],
        time_scale: 0.0,
        ..SimConfig::default()
    };
    pve_sim::server::spawn(cfg, pve_sim::seed::demo())
        .await
        .unwrap()
}

/// The `PROXMOX_*` variables that reach `sim` with the token.
pub fn sim_env(sim: &SimServer) -> Vec<(String, String)> {
    let (user, name, value) = SIM_TOKEN;
    vec![
        ("PROXMOX_HOST".into(), "127.0.0.1".into()),
        ("PROXMOX_PORT".into(), sim.addr().port().to_string()),
        ("PROXMOX_USER".into(), user.into()),
        ("PROXMOX_TOKEN_NAME".into(), name.into()),
        ("PROXMOX_TOKEN_VALUE".into(), value.into()),
        ("PROXMOX_FINGERPRINT".into(), sim.fingerprint().into()),
    ]
}

/// The server binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_proxmox-mcp");

/// The binary running, its stderr read line by line.
pub struct Bin {
    child: Child,
    lines: mpsc::Receiver<String>,
    /// Every stderr line read so far.
    pub seen: Vec<String>,
}

impl Drop for Bin {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Bin {
    /// Starts the binary with `args` and only `env` among `PROXMOX_*` variables.
    pub fn start(args: &[&str], env: &[(String, String)]) -> Bin {
        let mut cmd = Command::new(BIN);
        cmd.args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (k, _) in std::env::vars() {
            if k.starts_with("PROXMOX_") || k == "RUST_LOG" {
                cmd.env_remove(k);
            }
        }
        cmd.envs(env.iter().map(|(k, v)| (k, v)));
        let mut child = cmd.spawn().unwrap();
        let stderr = child.stderr.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Bin {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// Reads stderr until a line contains `needle` (panics after 60 s or at EOF).
    pub fn wait_for(&mut self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            match self.lines.recv_timeout(Duration::from_millis(100)) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if line.contains(needle) {
                        return line;
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            }
        }
        panic!("no line with {needle:?} in:\n{}", self.seen.join("\n"));
    }

    /// The port of the `http://127.0.0.1:PORT` URL in the line announcing `door` (`MCP`, `REST`).
    pub fn port(&mut self, door: &str) -> u16 {
        let line = self.wait_for(&format!("{door} listening on http://127.0.0.1:"));
        let rest = line.split("http://127.0.0.1:").nth(1).unwrap();
        rest.split(|c: char| !c.is_ascii_digit())
            .next()
            .unwrap()
            .parse()
            .unwrap()
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends SIGTERM.
    pub fn terminate(&self) {
        let ok = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(ok.success());
    }

    /// Waits for the exit (at most 60 s), reading the rest of stderr.
    pub fn wait_exit(&mut self) -> ExitStatus {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                while let Ok(line) = self.lines.recv_timeout(Duration::from_millis(200)) {
                    self.seen.push(line);
                }
                return status;
            }
            while let Ok(line) = self.lines.try_recv() {
                self.seen.push(line);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("still running:\n{}", self.seen.join("\n"));
    }
}

/// A config file in a fresh temporary directory (removed on drop).
pub struct TempFile {
    dir: PathBuf,
    pub path: PathBuf,
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

pub fn temp_file(name: &str, text: &str) -> TempFile {
    let dir = std::env::temp_dir().join(format!(
        "pmcp-ops-config-{}-{}",
        std::process::id(),
        rand::random::<u64>()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    TempFile { dir, path }
}

pub fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

pub const CLUSTER: &str = "[cluster]\nhost = \"file-host\"\nuser = \"root@pam\"\ntoken_name = \"t\"\ntoken_value = \"file-secret\"\n";

/// The samples of a Prometheus text exposition: `name{labels}` → value. Panics on any line that
/// is not a comment, a blank or a well-formed sample, and on a sample whose family was not
/// declared with `# TYPE`.
pub fn parse_metrics(text: &str) -> HashMap<String, f64> {
    let mut types: HashMap<String, String> = HashMap::new();
    let mut samples = HashMap::new();
    for line in text.lines() {
        if line.is_empty() {
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap();
            assert!(["counter", "gauge", "histogram"].contains(&kind), "{line}");
            types.insert(name.to_string(), kind.to_string());
            continue;
        }
        if line.starts_with("# HELP ") {
            continue;
        }
        assert!(!line.starts_with('#'), "stray comment: {line}");
        let (series, value) = line.rsplit_once(' ').unwrap();
        let value: f64 = value
            .parse()
            .unwrap_or_else(|_| panic!("bad value: {line}"));
        let name = series.split('{').next().unwrap();
        assert!(
            name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
            "bad name: {line}"
        );
        if let Some(labels) = series.strip_prefix(name)
            && !labels.is_empty()
        {
            assert!(labels.starts_with('{') && labels.ends_with('}'), "{line}");
            for pair in labels[1..labels.len() - 1].split("\",") {
                let (k, v) = pair.split_once("=\"").unwrap();
                assert!(
                    k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
                    "{line}"
                );
                assert!(!v.trim_end_matches('"').contains('"'), "{line}");
            }
        }
        let family = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|s| {
                name.strip_suffix(s)
                    .filter(|base| types.get(*base).is_some_and(|k| k == "histogram"))
            })
            .unwrap_or(name);
        assert!(types.contains_key(family), "no # TYPE for {line}");
        samples.insert(series.to_string(), value);
    }
    samples
}
