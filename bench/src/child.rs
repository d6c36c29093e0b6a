//! Child processes of the benchmarks: a guard that kills and reaps a child on every path, free
//! loopback ports, waiting for a port to accept connections, and append-only log files.

use std::path::Path;
use std::process::Child;
use std::time::{Duration, Instant};

use crate::Res;

/// A child process killed (SIGKILL) and reaped when dropped, so no error path leaves one behind.
#[derive(Debug)]
pub struct ChildGuard {
    child: Child,
}

impl ChildGuard {
    pub fn new(child: Child) -> Self {
        Self { child }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether the process has exited.
    pub fn exited(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(Some(_)))
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A free loopback port (bound, read, released: a small race, acceptable in a benchmark).
pub fn free_port() -> Res<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// Probes `addr` every 100 µs until it accepts a connection: `false` once `within` has passed
/// or `gave_up()` says the process behind it is gone.
pub fn wait_listening(
    addr: std::net::SocketAddr,
    within: Duration,
    mut gave_up: impl FnMut() -> bool,
) -> bool {
    let started = Instant::now();
    while std::net::TcpStream::connect(addr).is_err() {
        if started.elapsed() > within || gave_up() {
            return false;
        }
        std::thread::sleep(Duration::from_micros(100));
    }
    true
}

/// `path` opened for appending (created if missing).
pub fn log_file(path: &Path) -> Res<std::fs::File> {
    Ok(std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?)
}
