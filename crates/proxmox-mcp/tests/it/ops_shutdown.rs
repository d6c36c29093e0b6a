//! Graceful shutdown of the real binary: with a call in flight (made slow by the simulator's
//! latency fault) and an SSE stream open, SIGTERM stops new connections, the call completes,
//! the stream ends and the process exits 0. Also the binary runner `ops_logs` shares.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use pve_sim::faults::Fault;
use pve_sim::server::{SimConfig, SimServer};
use serde_json::json;

const BIN: &str = env!("CARGO_BIN_EXE_proxmox-mcp");

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

#[tokio::test]
async fn sigterm_lets_the_call_in_flight_finish_then_exits_0() {
    crate::transport_support::init_tls();
    let sim = sim().await;
    let mut bin = Bin::start(
        &[
            "serve",
            "--mcp-listen",
            "127.0.0.1:0",
            "--rest-listen",
            "127.0.0.1:0",
        ],
        &sim_env(&sim),
    );
    let mcp = bin.port("MCP");
    let rest = bin.port("REST");
    let http = reqwest::Client::new();
    // Warm up (node lookups), then make the next guest listing slow.
    let warm = http
        .post(format!("http://127.0.0.1:{rest}/get_vms"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(warm.status(), 200);
    sim.inject(Fault::latency(4000).path("^/cluster/resources"))
        .unwrap();
    let call = tokio::spawn({
        let http = http.clone();
        async move {
            let resp = http
                .post(format!("http://127.0.0.1:{rest}/get_vms"))
                .json(&json!({}))
                .send()
                .await?;
            let status = resp.status().as_u16();
            let body: serde_json::Value = resp.json().await?;
            Ok::<_, reqwest::Error>((status, body))
        }
    });
    // An SSE stream stays open meanwhile.
    let mut sse = http
        .get(format!("http://127.0.0.1:{mcp}/mcp"))
        .header("Accept", "text/event-stream")
        .send()
        .await
        .unwrap();
    assert_eq!(sse.status(), 200);
    // Wait until the server counts the call as running.
    loop {
        let text = http
            .get(format!("http://127.0.0.1:{mcp}/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if text
            .lines()
            .any(|l| l == "proxmox_mcp_tool_calls_in_flight 1")
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    bin.terminate();
    // New connections are refused while the call runs on.
    let fresh = reqwest::Client::new();
    let mut refused = false;
    while !call.is_finished() {
        if fresh
            .get(format!("http://127.0.0.1:{rest}/healthz"))
            .send()
            .await
            .is_err()
        {
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (status, body) = call
        .await
        .unwrap()
        .expect("the call in flight got its answer");
    assert_eq!(status, 200, "{body}");
    assert!(
        body["vms"].as_array().is_some_and(|v| !v.is_empty()),
        "{body}"
    );
    assert!(refused, "a new connection was accepted after SIGTERM");
    // The stream ends (the server closed it), and the process exits 0.
    while let Ok(Some(_)) = sse.chunk().await {}
    let status = bin.wait_exit();
    let log = bin.seen.join("\n");
    assert_eq!(status.code(), Some(0), "{log}");
    assert!(log.contains("waiting for calls in flight"), "{log}");
    assert!(log.contains("stopped"), "{log}");
}
