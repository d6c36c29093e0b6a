//! Connections that send nothing, or half a request, cannot wear the doors down: silent and
//! half-sent connections are closed after the header-read and keep-alive timeouts; at the
//! connection caps the idlest connection makes room for a new one (busy ones never do); and the
//! real binary, held to 1,024 open files, keeps answering `/healthz` and authenticated calls on
//! both doors while 2,000 idle and half-open connections are held against it.

use std::io::{BufRead, BufReader};
use std::net::{IpAddr, SocketAddr};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use proxmox_mcp::McpHttpConfig;
use proxmox_mcp::RestConfig;
use proxmox_mcp::{ConnLimits, Connections};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

use crate::support::demo::Demo;
use crate::support::door::{Door, init};
use crate::support::process::BIN;
use crate::support::rest::Rest;

fn conns(header: u64, keep_alive: u64, max: usize, per_client: usize) -> Arc<Connections> {
    Arc::new(Connections::new(ConnLimits {
        header_read_timeout: Duration::from_secs(header),
        keep_alive_timeout: Duration::from_secs(keep_alive),
        max_connections: max,
        max_per_client: per_client,
    }))
}

/// A connection to `addr` from the loopback address `from`.
async fn connect_from(from: IpAddr, addr: SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(SocketAddr::new(from, 0)).unwrap();
    tokio::time::timeout(Duration::from_secs(20), socket.connect(addr))
        .await
        .expect("connect in time")
        .unwrap()
}

/// Whether the server closed `tcp` (end of stream or reset) within `within`; what it sent
/// before is ignored.
async fn closed_within(tcp: &mut TcpStream, within: Duration) -> bool {
    let mut buf = [0u8; 4096];
    let read_all = async {
        loop {
            match tcp.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    };
    tokio::time::timeout(within, read_all).await.is_ok()
}

/// Whether `tcp` is still open: nothing to read and no end of stream right now.
async fn still_open(tcp: &mut TcpStream) -> bool {
    !closed_within(tcp, Duration::from_millis(200)).await
}

fn addr(base: &str) -> SocketAddr {
    base.trim_start_matches("http://").parse().unwrap()
}

const HALF: &str = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n";
const FULL: &str = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";

#[tokio::test]
async fn silent_and_half_sent_connections_are_closed_after_their_timeouts() {
    let r = Rest::with(RestConfig {
        conns: conns(1, 2, 1000, 1000),
        ..RestConfig::default()
    })
    .await;
    let at = addr(&r.base);
    let lo: IpAddr = [127, 0, 0, 1].into();
    let mut silent = connect_from(lo, at).await;
    let mut half = connect_from(lo, at).await;
    half.write_all(HALF.as_bytes()).await.unwrap();
    let mut kept = connect_from(lo, at).await;
    kept.write_all(FULL.as_bytes()).await.unwrap();
    // A client that keeps asking is served for as long as it asks.
    let mut busy = connect_from(lo, at).await;
    let mut buf = [0u8; 4096];
    for _ in 0..6 {
        busy.write_all(FULL.as_bytes()).await.unwrap();
        let n = busy.read(&mut buf).await.unwrap();
        assert!(
            String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"),
            "an answer on the kept-alive connection"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    // The others were closed (generous bounds: a hang guard, not a speed check).
    let bound = Duration::from_secs(30);
    assert!(closed_within(&mut silent, bound).await, "silent connection");
    assert!(closed_within(&mut half, bound).await, "half-sent request");
    assert!(closed_within(&mut kept, bound).await, "idle kept-alive");
    assert!(
        closed_within(&mut busy, bound).await,
        "kept-alive, then idle"
    );
}

#[tokio::test]
async fn at_the_caps_idle_connections_make_room_and_busy_ones_stay() {
    // The MCP door, with an event stream that must survive.
    let cfg = McpHttpConfig {
        conns: conns(300, 300, 24, 8),
        ..McpHttpConfig::default()
    };
    let d = Door::start(Demo::start().await, cfg).await;
    let at = addr(&d.base);
    let mut legacy = d.legacy("any").await;
    // 60 silent connections from 12 addresses, 5 each: far over the server's cap of 24.
    let mut held = Vec::new();
    for i in 0..60u8 {
        let from: IpAddr = [127, 0, 1, 1 + i % 12].into();
        held.push(connect_from(from, at).await);
    }
    // The first ones were closed to make room; the last ones are open.
    assert!(closed_within(&mut held[0], Duration::from_secs(30)).await);
    assert!(still_open(held.last_mut().unwrap()).await);
    // A new client is served, and the event stream (busy) goes on.
    let (s, _, text) = d.post("/mcp", None, None, &init(1)).await;
    assert_eq!(s, 200, "{text}");
    let v = legacy.request("ping", json!({})).await;
    assert_eq!(v["result"], json!({}), "{v}");
    // One address over its own cap of 8: its idlest go first, so it too is served.
    let from: IpAddr = [127, 0, 2, 1].into();
    let mut own = Vec::new();
    for _ in 0..12 {
        own.push(connect_from(from, at).await);
    }
    assert!(closed_within(&mut own[0], Duration::from_secs(30)).await);
    let mut tcp = connect_from(from, at).await;
    tcp.write_all(FULL.as_bytes()).await.unwrap();
    let mut buf = [0u8; 1024];
    let n = tokio::time::timeout(Duration::from_secs(30), tcp.read(&mut buf))
        .await
        .unwrap()
        .unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
}

/// The binary under `prlimit --nofile=SOFT:HARD`, both doors on free ports; killed on drop.
struct Limited {
    child: Child,
    mcp: SocketAddr,
    rest: SocketAddr,
}

impl Drop for Limited {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const KEY: &str = "pmcp-harden-conns-0123456789abcdef";

impl Limited {
    fn start(nofile: &str, env: &[(&str, &str)]) -> Limited {
        let mut cmd = Command::new("prlimit");
        cmd.arg(format!("--nofile={nofile}"))
            .arg(BIN)
            .args(["serve", "--demo", "--mcp-listen", "127.0.0.1:0"])
            .args(["--rest-listen", "127.0.0.1:0"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (k, _) in std::env::vars() {
            if k.starts_with("PROXMOX_") {
                cmd.env_remove(k);
            }
        }
        cmd.env("RUST_LOG", "info")
            .env("PROXMOX_MCP_API_KEY", KEY)
            .envs(env.iter().copied());
        let mut child = cmd.spawn().expect("prlimit (util-linux) runs the server");
        // Its log is read to the end in a thread, so that it never blocks on a full pipe.
        let stderr = BufReader::new(child.stderr.take().unwrap());
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in stderr.lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let (mut mcp, mut rest) = (None, None);
        let mut seen = Vec::new();
        while mcp.is_none() || rest.is_none() {
            let Ok(line) = rx.recv_timeout(Duration::from_secs(60)) else {
                panic!("the server did not start: {seen:#?}");
            };
            let port = || {
                let after = line.split("http://127.0.0.1:").nth(1)?;
                let digits: String = after.chars().take_while(char::is_ascii_digit).collect();
                digits.parse::<u16>().ok()
            };
            if line.contains("MCP listening") {
                mcp = port();
            }
            if line.contains("REST listening") {
                rest = port();
            }
            seen.push(line);
        }
        Limited {
            child,
            mcp: SocketAddr::from(([127, 0, 0, 1], mcp.unwrap_or_default())),
            rest: SocketAddr::from(([127, 0, 0, 1], rest.unwrap_or_default())),
        }
    }

    /// The soft and hard open-files limits of the running server.
    fn limits(&self) -> (u64, u64) {
        let text = std::fs::read_to_string(format!("/proc/{}/limits", self.child.id())).unwrap();
        let line = text
            .lines()
            .find(|l| l.starts_with("Max open files"))
            .unwrap();
        let nums: Vec<u64> = line
            .split_whitespace()
            .filter_map(|w| w.parse().ok())
            .collect();
        (nums[0], nums[1])
    }
}

/// A client that opens a fresh connection for every request (no pool to be closed under it).
fn fresh_client() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_keeps_answering_while_idle_and_half_open_connections_pile_up() {
    // This test holds 2,000 sockets itself.
    let ours = rlimit::increase_nofile_limit(u64::MAX).unwrap();
    assert!(
        ours >= 4096,
        "the test needs an open-files limit of 4096 (hard limit {ours})"
    );
    // Long timeouts: the caps, not the timeouts, must keep the server answering.
    let server = Limited::start("1024:1024", &[("PROXMOX_MCP_HEADER_READ_TIMEOUT", "600")]);
    assert_eq!(server.limits(), (1024, 1024));
    let mut held = Vec::with_capacity(2000);
    for batch in 0..20u8 {
        let mut tasks = Vec::new();
        for i in 0..100u16 {
            let to = if i % 2 == 0 { server.mcp } else { server.rest };
            let from: IpAddr = [127, 0, 3, 1 + batch].into();
            tasks.push(tokio::spawn(async move {
                let mut tcp = connect_from(from, to).await;
                if i % 4 < 2 {
                    tcp.write_all(HALF.as_bytes()).await.unwrap();
                }
                tcp
            }));
        }
        for t in tasks {
            held.push(t.await.unwrap());
        }
    }
    assert_eq!(held.len(), 2000);
    // While they are held: /healthz on both doors, and authenticated calls on both.
    let http = fresh_client();
    for door in [server.mcp, server.rest] {
        let resp = http
            .get(format!("http://{door}/healthz"))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "/healthz on {door}");
    }
    let resp = http
        .post(format!("http://{}/get_vms", server.rest))
        .bearer_auth(KEY)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let v: Value = resp.json().await.unwrap();
    assert!(v["vms"].is_array(), "{v}");
    let mcp = format!("http://{}/proxmox/mcp", server.mcp);
    let resp = http
        .post(&mcp)
        .bearer_auth(KEY)
        .header("accept", "application/json, text/event-stream")
        .json(&init(1))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let sid = resp.headers()["mcp-session-id"]
        .to_str()
        .unwrap()
        .to_string();
    let call = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
        "params": {"name": "get_nodes", "arguments": {}}});
    let resp = http
        .post(&mcp)
        .bearer_auth(KEY)
        .header("accept", "application/json, text/event-stream")
        .header("mcp-session-id", &sid)
        .header("mcp-protocol-version", "2025-06-18")
        .json(&call)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let text = resp.text().await.unwrap();
    assert!(text.contains("\"online\""), "{text}");
    drop(held);

    // A soft limit below the hard one is raised at start.
    let server = Limited::start("1024:4096", &[]);
    assert_eq!(server.limits(), (4096, 4096));
}
