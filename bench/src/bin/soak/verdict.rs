//! The soak's targets and its summary: memory (anonymous RSS) and descriptors flat after the
//! warm-up, no mutation lost or duplicated, no panic in the server's log, the server alive at
//! the end, every key reload keeping the key served.
//!
//! "Flat" compares the median of the last third of the samples after the warm-up (the first
//! fifth of the run) with the median of the first third: the growth must stay within a
//! tolerance (anonymous RSS: 10 % or 2 MB, whichever is larger; descriptors: 20 % or 16). It
//! needs at least 6 samples after the warm-up; a shorter run reports the figures unjudged.

use std::fmt::Write as _;
use std::sync::atomic::Ordering;
use std::time::Duration;

use crate::doors::DOORS;
use crate::faults::{KINDS, PveLog};
use crate::load::Stats;
use crate::reconcile::Reconciled;
use crate::reload::Reloads;
use crate::sample::Sample;

/// Samples needed after the warm-up to judge flatness.
const MIN_SAMPLES: usize = 6;

/// A flatness check: the medians compared, and whether it passed (`None`: too few samples).
#[derive(Debug, Clone)]
pub struct Flat {
    pub early: f64,
    pub late: f64,
    pub allowed: f64,
    pub pass: Option<bool>,
}

/// Every target's result.
#[derive(Debug)]
pub struct Verdict {
    pub memory: Flat,
    pub fds: Flat,
    pub panics: Vec<String>,
    pub alive: bool,
    pub mutations_clean: bool,
    pub reloads_held: bool,
}

impl Verdict {
    pub fn pass(&self) -> bool {
        self.memory.pass != Some(false)
            && self.fds.pass != Some(false)
            && self.panics.is_empty()
            && self.alive
            && self.mutations_clean
            && self.reloads_held
    }
}

/// Judges the run.
pub fn judge(
    samples: &[Sample],
    rec: &Reconciled,
    server_log: &str,
    alive: bool,
    duration: Duration,
    reloads: &Reloads,
) -> Verdict {
    let warm = duration.as_secs_f64() / 5.0;
    let after: Vec<&Sample> = samples.iter().filter(|s| s.at_s >= warm).collect();
    Verdict {
        memory: flat(&after, |s| s.anon_mb, 0.10, 2.0),
        fds: flat(&after, |s| s.fds as f64, 0.20, 16.0),
        panics: server_log
            .lines()
            .filter(|l| l.contains("panicked"))
            .map(str::to_string)
            .collect(),
        alive,
        mutations_clean: rec.clean(),
        reloads_held: reloads.pass(),
    }
}

fn flat(after: &[&Sample], f: fn(&Sample) -> f64, share: f64, floor: f64) -> Flat {
    let third = after.len() / 3;
    let median = |part: &[&Sample]| -> f64 {
        let mut v: Vec<f64> = part.iter().map(|s| f(s)).collect();
        v.sort_by(f64::total_cmp);
        v.get(v.len() / 2).copied().unwrap_or(0.0)
    };
    let early = median(&after[..third]);
    let late = median(&after[after.len() - third..]);
    let allowed = (early * share).max(floor);
    Flat {
        early,
        late,
        allowed,
        pass: (after.len() >= MIN_SAMPLES).then_some(late - early <= allowed),
    }
}

/// What goes into the summary.
pub struct Report<'a> {
    pub duration: Duration,
    pub samples: &'a [Sample],
    pub stats: &'a Stats,
    pub pve: &'a PveLog,
    pub rec: &'a Reconciled,
    pub reloads: &'a Reloads,
    pub verdict: &'a Verdict,
    /// Why the plot was not drawn, if it was not.
    pub plotted: Option<String>,
}

fn mark(pass: Option<bool>) -> &'static str {
    match pass {
        Some(true) => "PASS",
        Some(false) => "MISS",
        None => "not judged (run too short)",
    }
}

/// The summary in Markdown.
pub fn summary(r: &Report<'_>) -> String {
    let mut o = String::new();
    let v = r.verdict;
    let _ = writeln!(
        o,
        "# Soak summary\n\n{:.1} minutes, {} samples; result: **{}**\n",
        r.duration.as_secs_f64() / 60.0,
        r.samples.len(),
        if v.pass() { "PASS" } else { "MISS" }
    );
    let _ = writeln!(o, "| target | figure | result |\n|---|---|---|");
    let flat_row = |o: &mut String, name: &str, f: &Flat, unit: &str| {
        let _ = writeln!(
            o,
            "| {name} flat after warm-up | median {:.1} {unit} early, {:.1} {unit} late \
             (growth allowed {:.1}) | {} |",
            f.early,
            f.late,
            f.allowed,
            mark(f.pass)
        );
    };
    flat_row(&mut o, "anonymous RSS", &v.memory, "MB");
    flat_row(&mut o, "open descriptors", &v.fds, "");
    let rec = r.rec;
    let _ = writeln!(
        o,
        "| mutations lost / duplicated / unaudited / unexpected | {} / {} / {} / {} | {} |",
        rec.lost.len(),
        rec.duplicated.len(),
        rec.unaudited.len(),
        rec.unexpected.len(),
        mark(Some(v.mutations_clean))
    );
    let _ = writeln!(
        o,
        "| panics in the server's log | {} | {} |",
        v.panics.len(),
        mark(Some(v.panics.is_empty()))
    );
    let _ = writeln!(
        o,
        "| API keys reloaded (SIGHUP), the key still served and a stranger refused | {} of {} \
         reloads held{} | {} |",
        r.reloads.held,
        r.reloads.sent,
        if r.reloads.failures.is_empty() {
            String::new()
        } else {
            format!(": {}", r.reloads.failures.join("; "))
        },
        mark(Some(v.reloads_held))
    );
    let _ = writeln!(
        o,
        "| server alive at the end | {} | {} |\n",
        v.alive,
        mark(Some(v.alive))
    );

    let _ = writeln!(
        o,
        "## Load\n\n| door | ok | tool error | failed |\n|---|---|---|---|"
    );
    for (i, door) in DOORS.iter().enumerate() {
        let c = &r.stats.calls[i];
        let _ = writeln!(
            o,
            "| {door} | {} | {} | {} |",
            c[0].load(Ordering::Relaxed),
            c[1].load(Ordering::Relaxed),
            c[2].load(Ordering::Relaxed)
        );
    }
    let _ = writeln!(
        o,
        "\nLatency of every answered call, as the clients saw it (faults included): {}.",
        r.stats.overall()
    );
    let s = |i: usize| r.stats.sessions[i].load(Ordering::Relaxed);
    let _ = writeln!(
        o,
        "\nSessions and runs of calls: {} opened; {} ended cleanly, {} abandoned, {} dropped \
         mid-stream.\n",
        s(0),
        s(1),
        s(2),
        s(3)
    );
    let armed: Vec<String> = KINDS
        .iter()
        .zip(r.pve.armed)
        .map(|(k, n)| format!("{n} {k}"))
        .collect();
    let _ = writeln!(
        o,
        "Proxmox VE: {} requests; faults armed: {}; {} requests answered by a fault or \
         dropped.\n",
        r.pve.requests,
        armed.join(", "),
        r.pve.faulted
    );
    let _ = writeln!(
        o,
        "Mutations: {} sent by the clients ({} succeeded for them); {} audit lines of them \
         ({} ok); {} received by Proxmox VE; {} sends answered by a fault before reaching it; \
         {} logins.\n",
        rec.sent,
        rec.client_ok,
        rec.audited,
        rec.audited_ok,
        rec.received,
        rec.faulted_sends,
        rec.logins
    );
    for (name, list) in [
        ("lost", &rec.lost),
        ("duplicated", &rec.duplicated),
        ("unaudited", &rec.unaudited),
        ("unexpected", &rec.unexpected),
        ("ok for the client, no ok line", &rec.client_ok_unaudited),
        ("panics", &v.panics),
    ] {
        if !list.is_empty() {
            let shown: Vec<&str> = list.iter().take(10).map(String::as_str).collect();
            let _ = writeln!(o, "- {name}: {}", shown.join("; "));
        }
    }
    if let Some(last) = r.samples.last() {
        let peak = |f: fn(&Sample) -> f64| r.samples.iter().map(f).fold(0.0, f64::max);
        let _ = writeln!(
            o,
            "\nServer at the end (idle): {:.1} MB anonymous, {:.1} MB RSS, {:.1} MB PSS, {} \
             descriptors, {} + {} sessions open (Streamable HTTP + SSE). Peaks: {:.1} MB \
             anonymous, {:.0} descriptors, {:.0} calls in flight; worst interval p99 {:.0} ms.",
            last.anon_mb,
            last.rss_mb,
            last.pss_mb,
            last.fds,
            last.sessions_streamable,
            last.sessions_sse,
            peak(|s| s.anon_mb),
            peak(|s| s.fds as f64),
            peak(|s| s.in_flight as f64),
            peak(|s| s.p99_ms)
        );
    }
    if let Some(why) = &r.plotted {
        let _ = writeln!(o, "\nNo plot: {why}");
    }
    o
}
