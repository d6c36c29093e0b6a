//! Benchmark: a container command over SSH against the simulator's SSH servers, as
//! `execute_container_command` runs it (pve-client's `pct_exec`: the quoted line inside the
//! hang-up prologue, host key pinned, ed25519 login): `pct exec 200 -- hostname` on node pve01,
//! N calls reusing the node's one connection (a channel per call), then N calls each on a new
//! connection (TCP, key exchange, host-key check, authentication, then the channel). Prints the
//! median and percentiles of each, and the difference: what keeping the connection saves.
//!
//! `cargo run --release -p proxmox-mcp-bench --bin ssh_exec [-- N]` (default N=100)

use std::time::{Duration, Instant};

use proxmox_mcp_bench::{Res, summarize};
use pve_client::ssh::{ClientKey, NodeAddress, RunOptions, SshClient, SshConfig};
use pve_sim::ssh::SshServer;

const WARMUP: usize = 10;
const NODE: &str = "pve01";
const VMID: u32 = 200;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Res<()> {
    let n: usize = std::env::args()
        .nth(1)
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(100);
    let sim = pve_sim::spawn(pve_sim::SimConfig::default(), pve_sim::seed::demo()).await?;
    let key = ClientKey::generate();
    let ssh = pve_sim::ssh::spawn(
        &sim,
        pve_sim::ssh::SshConfig::new("127.0.0.1:0".parse()?, [key.public_openssh()?]),
    )
    .await?;
    let config = client_config(&ssh)?;
    let opts = RunOptions::with_timeout(Duration::from_secs(20));
    println!(
        "pct exec {VMID} -- hostname on {NODE} (pve-sim SSH, 127.0.0.1), {n} calls each after {WARMUP} warm-up"
    );

    let reused = SshClient::with_key(config.clone(), &key, None)?;
    let mut kept = Vec::with_capacity(n);
    for i in 0..WARMUP + n {
        let t = Instant::now();
        let out = reused.pct_exec(NODE, VMID, &["hostname"], &opts).await?;
        let d = t.elapsed();
        check(&out)?;
        if i >= WARMUP {
            kept.push(d);
        }
    }
    let mut fresh = Vec::with_capacity(n);
    for i in 0..WARMUP + n {
        let client = SshClient::with_key(config.clone(), &key, None)?;
        let t = Instant::now();
        let out = client.pct_exec(NODE, VMID, &["hostname"], &opts).await?;
        let d = t.elapsed();
        check(&out)?;
        client.disconnect_all().await;
        if i >= WARMUP {
            fresh.push(d);
        }
    }
    let kept = summarize(&kept);
    let fresh = summarize(&fresh);
    println!("connection reused:        {kept}");
    println!("new connection per call:  {fresh}");
    println!(
        "median saved by reusing the connection: {:.2} ms",
        fresh.median_ms - kept.median_ms
    );
    ssh.shutdown().await;
    sim.shutdown().await;
    Ok(())
}

/// Every node at its simulated SSH server, its announced host key pinned.
fn client_config(ssh: &SshServer) -> Res<SshConfig> {
    let mut config = SshConfig::new("(bench key, in memory)");
    for n in ssh.nodes() {
        config = config
            .address(
                n.node.clone(),
                NodeAddress::with_port(n.addr.ip().to_string(), n.addr.port()),
            )
            .pin(n.node.clone(), n.fingerprint.parse()?);
    }
    Ok(config)
}

fn check(out: &pve_client::ssh::RunOutput) -> Res<()> {
    if out.success() && !out.stdout.is_empty() {
        Ok(())
    } else {
        Err(format!("unexpected answer: {out:?}").into())
    }
}
