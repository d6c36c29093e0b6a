//! What `/proc` says about a process (Linux only): resident memory (total, anonymous, PSS),
//! threads and open file descriptors.

use crate::Res;

/// Resident memory of `pid` in bytes (`VmRSS` of `/proc/<pid>/status`).
pub fn rss_bytes(pid: u32) -> Res<u64> {
    status_kib(pid, "VmRSS:").map(|k| k * 1024)
}

/// What a process's memory costs, in bytes.
#[derive(Debug, Clone, Copy, Default)]
pub struct Memory {
    /// Everything resident (`VmRSS`): its own pages and the file-backed ones (code, read-only
    /// data) that the kernel shares with other processes and may drop under pressure.
    pub rss: u64,
    /// The anonymous part (`RssAnon`: heap, stacks): private to the process, what each more
    /// process really adds.
    pub anon: u64,
    /// Its proportional share (`Pss` of `/proc/<pid>/smaps_rollup`): each resident page divided
    /// by the number of processes mapping it (the simulator runs the same binary).
    pub pss: u64,
}

impl Memory {
    pub fn read(pid: u32) -> Res<Self> {
        Ok(Self {
            rss: rss_bytes(pid)?,
            anon: status_kib(pid, "RssAnon:")? * 1024,
            pss: kib_field(&format!("/proc/{pid}/smaps_rollup"), "Pss:")? * 1024,
        })
    }

    /// The median of each figure over `samples` (each taken on its own).
    pub fn median(samples: &[Memory]) -> Memory {
        let med = |f: fn(&Memory) -> u64| {
            let mut v: Vec<u64> = samples.iter().map(f).collect();
            v.sort_unstable();
            v.get(v.len() / 2).copied().unwrap_or(0)
        };
        Memory {
            rss: med(|m| m.rss),
            anon: med(|m| m.anon),
            pss: med(|m| m.pss),
        }
    }
}

impl std::fmt::Display for Memory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:.2} MB anonymous, {:.2} MB PSS, {:.2} MB RSS",
            self.anon as f64 / 1e6,
            self.pss as f64 / 1e6,
            self.rss as f64 / 1e6
        )
    }
}

/// Number of threads of `pid`.
pub fn threads(pid: u32) -> Res<u64> {
    status_kib(pid, "Threads:")
}

fn status_kib(pid: u32, key: &str) -> Res<u64> {
    kib_field(&format!("/proc/{pid}/status"), key)
}

/// The number after `key` in the `/proc` file `path` (a `key: N kB` line).
fn kib_field(path: &str, key: &str) -> Res<u64> {
    let status = std::fs::read_to_string(path)?;
    let line = status
        .lines()
        .find(|l| l.starts_with(key))
        .ok_or_else(|| format!("no {key} in {path}"))?;
    let value = line[key.len()..]
        .split_whitespace()
        .next()
        .ok_or("empty status line")?;
    Ok(value.parse()?)
}

/// Number of open file descriptors of `pid` (entries of `/proc/<pid>/fd`).
pub fn open_fds(pid: u32) -> Res<u64> {
    Ok(std::fs::read_dir(format!("/proc/{pid}/fd"))?.count() as u64)
}
