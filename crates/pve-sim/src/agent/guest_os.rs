//! What the simulated guest OS answers: a small, deterministic set of commands for the guest
//! agent's `exec` (`hostname`, `uname -a`, `cat /etc/os-release`, `uptime`, `df -h`,
//! `ip -br addr`, `echo`, `seq`, `sleep N`, `systemctl is-active X`, `true`, `false`, `whoami`),
//! run directly or through `sh -c`/`bash -c` (see [`super::shell`]), and the facts the agent's
//! info commands report (host name, OS release, addresses). Anything else exits 127 with
//! `<cmd>: command not found`. Every guest runs Debian 13 here.

use serde_json::{Value, json};

use crate::guest::prop;
use crate::state::{Guest, GuestKind, SimTime};

/// What a command did: exit code, output, and how long it ran (simulated seconds, before the
/// time scale).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Outcome {
    pub exitcode: i64,
    pub out: String,
    pub err: String,
    pub duration: f64,
    /// The part of `duration` spent waiting (`sleep`): what a runner in wall-clock time waits.
    pub waited: f64,
}

/// The guest kernel release (`uname -r`).
pub(crate) const KERNEL_RELEASE: &str = "6.12.48+deb13-amd64";
/// The guest kernel version string (`uname -v`).
pub(crate) const KERNEL_VERSION: &str = "#1 SMP PREEMPT_DYNAMIC Debian 6.12.48-1 (2025-09-20)";
/// The guest's `/etc/os-release`.
pub(crate) const OS_RELEASE: &str = "PRETTY_NAME=\"Debian GNU/Linux 13 (trixie)\"
NAME=\"Debian GNU/Linux\"
VERSION_ID=\"13\"
VERSION=\"13 (trixie)\"
VERSION_CODENAME=trixie
DEBIAN_VERSION_FULL=13.1
ID=debian
HOME_URL=\"https://www.debian.org/\"
SUPPORT_URL=\"https://www.debian.org/support\"
BUG_REPORT_URL=\"https://bugs.debian.org/\"
";

/// Services `systemctl is-active` reports as active.
const ACTIVE_UNITS: &[&str] = &[
    "ssh",
    "sshd",
    "cron",
    "systemd-journald",
    "systemd-networkd",
    "systemd-timesyncd",
    "qemu-guest-agent",
    "dbus",
];

pub(super) const BASE_DURATION: f64 = 0.05;

/// The guest's host name (its `name`, or `hostname` for a container).
pub(crate) fn hostname(g: &Guest) -> String {
    g.name()
}

/// The guest's network interfaces: (name, MAC in lower case, IPv4 with prefix).
pub(crate) fn interfaces(g: &Guest) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for (k, v) in &g.config {
        let Some(n) = k.strip_prefix("net").and_then(|n| n.parse::<u32>().ok()) else {
            continue;
        };
        let Some(spec) = v.as_str() else { continue };
        let mac = match g.kind {
            GuestKind::Qemu => spec
                .split(',')
                .next()
                .and_then(|first| first.split_once('=').map(|(_, m)| m))
                .filter(|m| m.contains(':'))
                .or_else(|| prop(spec, "macaddr")),
            GuestKind::Lxc => prop(spec, "hwaddr"),
        }
        .unwrap_or("BC:24:11:00:00:00")
        .to_ascii_lowercase();
        let ip = g
            .config
            .get(&format!("ipconfig{n}"))
            .and_then(Value::as_str)
            .and_then(|c| prop(c, "ip"))
            .or_else(|| prop(spec, "ip"))
            .filter(|ip| ip.contains('/'))
            .map(str::to_string)
            .unwrap_or_else(|| {
                let v = g.vmid;
                format!("10.10.{}.{}/24", (v / 250) % 250, v % 250 + 2 + n)
            });
        let name = match g.kind {
            GuestKind::Qemu => format!("ens{}", 18 + n),
            GuestKind::Lxc => prop(spec, "name").unwrap_or("eth0").to_string(),
        };
        out.push((name, mac, ip));
    }
    out
}

/// The IPv6 link-local address for a MAC (EUI-64).
pub(crate) fn link_local(mac: &str) -> String {
    let b: Vec<u8> = mac
        .split(':')
        .filter_map(|h| u8::from_str_radix(h, 16).ok())
        .collect();
    if b.len() != 6 {
        return "fe80::1".into();
    }
    format!(
        "fe80::{:x}:{:x}:{:x}:{:x}",
        (u16::from(b[0] ^ 0x02) << 8) | u16::from(b[1]),
        (u16::from(b[2]) << 8) | 0xff,
        0xfe00 | u16::from(b[3]),
        (u16::from(b[4]) << 8) | u16::from(b[5])
    )
}

/// Whether the guest reports itself as Windows (QGA `get-osinfo`).
pub(crate) fn is_windows(g: &Guest) -> bool {
    g.config
        .get("ostype")
        .and_then(Value::as_str)
        .is_some_and(|o| o.starts_with('w'))
}

/// QGA's `get-osinfo` answer.
pub(crate) fn osinfo(g: &Guest) -> Value {
    if is_windows(g) {
        return json!({
            "id": "mswindows", "kernel-release": "26100", "kernel-version": "10.0",
            "machine": "x86_64", "name": "Microsoft Windows",
            "pretty-name": "Windows Server 2025 Standard", "variant": "server",
            "variant-id": "server", "version": "Microsoft Windows Server 2025", "version-id": "2025"
        });
    }
    json!({
        "id": "debian", "kernel-release": KERNEL_RELEASE, "kernel-version": KERNEL_VERSION,
        "machine": "x86_64", "name": "Debian GNU/Linux",
        "pretty-name": "Debian GNU/Linux 13 (trixie)", "version": "13 (trixie)", "version-id": "13"
    })
}

/// Runs `argv` in the guest at `now`, with `input` on stdin.
pub(crate) fn run(g: &Guest, argv: &[String], input: Option<&str>, now: SimTime) -> Outcome {
    let Some(prog) = argv.first() else {
        return fail(127, ": command not found\n".into());
    };
    let base = prog.rsplit('/').next().unwrap_or(prog);
    if matches!(base, "sh" | "bash" | "dash") && argv.get(1).map(String::as_str) == Some("-c") {
        let script = argv.get(2).map(String::as_str).unwrap_or("");
        return super::shell::run(g, base, script, input, now);
    }
    simple(g, argv, input, now, &format!("{prog}: "))
}

pub(super) fn fail(code: i64, err: String) -> Outcome {
    Outcome {
        exitcode: code,
        out: String::new(),
        err,
        duration: BASE_DURATION,
        waited: 0.0,
    }
}

pub(super) fn ok(out: String) -> Outcome {
    Outcome {
        exitcode: 0,
        out,
        err: String::new(),
        duration: BASE_DURATION,
        waited: 0.0,
    }
}

/// One command; `not_found` prefixes the "command not found" line as the caller's shell does.
pub(super) fn simple(
    g: &Guest,
    argv: &[String],
    input: Option<&str>,
    now: SimTime,
    not_found: &str,
) -> Outcome {
    let prog = argv[0].rsplit('/').next().unwrap_or(&argv[0]);
    let args: Vec<&str> = argv[1..].iter().map(String::as_str).collect();
    match (prog, args.as_slice()) {
        ("hostname", []) | ("uname", ["-n"]) => ok(format!("{}\n", hostname(g))),
        ("uname", []) | ("uname", ["-s"]) => ok("Linux\n".into()),
        ("uname", ["-r"]) => ok(format!("{KERNEL_RELEASE}\n")),
        ("uname", ["-a"]) => ok(format!(
            "Linux {} {KERNEL_RELEASE} {KERNEL_VERSION} x86_64 GNU/Linux\n",
            hostname(g)
        )),
        ("cat", []) => ok(input.unwrap_or("").to_string()),
        ("cat", files) => cat(g, files),
        ("uptime", []) => ok(uptime(g, now)),
        ("uptime", ["-p"]) => ok(format!("up {}\n", pretty_uptime(g.uptime(now)))),
        ("df", ["-h"]) => ok(df(g)),
        ("ip", ["-br", a] | ["-brief", a]) if a.starts_with('a') => ok(ip_br(g)),
        ("echo", ["-n", rest @ ..]) => ok(rest.join(" ")),
        ("echo", rest) => ok(format!("{}\n", rest.join(" "))),
        ("sleep", [n]) => match n.trim_end_matches('s').parse::<f64>() {
            Ok(secs) if secs >= 0.0 => Outcome {
                duration: BASE_DURATION + secs,
                waited: secs,
                ..ok(String::new())
            },
            _ => fail(
                1,
                format!(
                    "sleep: invalid time interval '{n}'\nTry 'sleep --help' for more information.\n"
                ),
            ),
        },
        ("systemctl", ["is-active", units @ ..]) if !units.is_empty() => {
            let mut out = String::new();
            let mut code = 0;
            for u in units {
                let name = u.strip_suffix(".service").unwrap_or(u);
                if ACTIVE_UNITS.contains(&name) {
                    out.push_str("active\n");
                } else {
                    out.push_str("inactive\n");
                    code = 3;
                }
            }
            Outcome {
                exitcode: code,
                ..ok(out)
            }
        }
        ("seq", [last]) => seq("1", last),
        ("seq", [first, last]) => seq(first, last),
        ("true", _) => ok(String::new()),
        ("false", _) => fail(1, String::new()),
        ("whoami", []) => ok("root\n".into()),
        _ => fail(127, format!("{not_found}command not found\n")),
    }
}

fn cat(g: &Guest, files: &[&str]) -> Outcome {
    let mut out = String::new();
    let mut err = String::new();
    for f in files {
        match read_file(g, f) {
            Some(text) => out.push_str(&text),
            None => err.push_str(&format!("cat: {f}: No such file or directory\n")),
        }
    }
    Outcome {
        exitcode: i64::from(!err.is_empty()),
        out,
        err,
        duration: BASE_DURATION,
        waited: 0.0,
    }
}

/// The few files the guest has (`/etc/os-release`, `/etc/hostname`, `/etc/debian_version`).
pub(crate) fn read_file(g: &Guest, path: &str) -> Option<String> {
    match path {
        "/etc/os-release" | "/usr/lib/os-release" => Some(OS_RELEASE.to_string()),
        "/etc/hostname" => Some(format!("{}\n", hostname(g))),
        "/etc/debian_version" => Some("13.1\n".into()),
        _ => None,
    }
}

/// `seq FIRST LAST`: the integers from FIRST to LAST, one a line (at most a million lines).
fn seq(first: &str, last: &str) -> Outcome {
    let (Ok(a), Ok(b)) = (first.parse::<i64>(), last.parse::<i64>()) else {
        let bad = if first.parse::<i64>().is_err() {
            first
        } else {
            last
        };
        return fail(
            1,
            format!(
                "seq: invalid floating point argument: '{bad}'\nTry 'seq --help' for more information.\n"
            ),
        );
    };
    let b = b.min(a.saturating_add(999_999));
    let mut out = String::new();
    for i in a..=b {
        out.push_str(&i.to_string());
        out.push('\n');
    }
    ok(out)
}

fn clock(now: SimTime) -> String {
    let s = (now.max(0.0) as u64) % 86_400;
    format!("{:02}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60)
}

fn pretty_uptime(secs: u64) -> String {
    let (d, h, m) = (secs / 86_400, (secs / 3600) % 24, (secs / 60) % 60);
    let mut parts = Vec::new();
    let plural = |n: u64, w: &str| format!("{n} {w}{}", if n == 1 { "" } else { "s" });
    if d > 0 {
        parts.push(plural(d, "day"));
    }
    if h > 0 {
        parts.push(plural(h, "hour"));
    }
    if m > 0 || parts.is_empty() {
        parts.push(plural(m, "minute"));
    }
    parts.join(", ")
}

fn uptime(g: &Guest, now: SimTime) -> String {
    let load = g.base_cpu * g.cpus() as f64;
    uptime_line(now, g.uptime(now), [load, load * 0.9, load * 0.8])
}

/// `uptime`'s line: the time of day, the time up, no users, the load averages.
pub(crate) fn uptime_line(now: SimTime, up: u64, load: [f64; 3]) -> String {
    let (d, h, m) = (up / 86_400, (up / 3600) % 24, (up / 60) % 60);
    let mut text = String::new();
    if d > 0 {
        text.push_str(&format!("{d} day{}, ", if d == 1 { "" } else { "s" }));
    }
    if h > 0 || d > 0 {
        text.push_str(&format!("{h:2}:{m:02}"));
    } else {
        text.push_str(&format!("{m} min"));
    }
    format!(
        " {} up {text},  0 users,  load average: {:.2}, {:.2}, {:.2}\n",
        clock(now),
        load[0],
        load[1],
        load[2]
    )
}

/// `df -h` style sizes: one decimal below 10, whole units above.
pub(crate) fn human(bytes: u64) -> String {
    if bytes == 0 {
        return "0".into();
    }
    let units = ["K", "M", "G", "T"];
    let mut v = bytes as f64 / 1024.0;
    let mut i = 0;
    while v >= 1024.0 && i < units.len() - 1 {
        v /= 1024.0;
        i += 1;
    }
    if v < 10.0 {
        format!("{:.1}{}", (v * 10.0).ceil() / 10.0, units[i])
    } else {
        format!("{}{}", v.ceil() as u64, units[i])
    }
}

fn df(g: &Guest) -> String {
    let size = g.maxdisk().max(1 << 30);
    let used = (size as f64 * g.disk_fraction) as u64;
    let mem = g.maxmem();
    let pct = (used * 100).div_ceil(size);
    let row = |fs: &str, s: u64, u: u64, p: u64, mnt: &str| {
        format!(
            "{fs:<15} {:>5} {:>5} {:>5} {:>4}% {mnt}\n",
            human(s),
            human(u),
            human(s - u),
            p
        )
    };
    let root_dev = if g.kind == GuestKind::Qemu {
        "/dev/sda1"
    } else {
        "/dev/mapper/pve-vm"
    };
    let mut out = String::from("Filesystem      Size  Used Avail Use% Mounted on\n");
    out.push_str(&row("udev", mem / 2, 0, 0, "/dev"));
    out.push_str(&row("tmpfs", mem / 10, 1 << 20, 1, "/run"));
    out.push_str(&row(root_dev, size, used, pct, "/"));
    out.push_str(&row("tmpfs", mem / 2, 0, 0, "/dev/shm"));
    out
}

fn ip_br(g: &Guest) -> String {
    let mut out = format!("{:<16} {:<14} 127.0.0.1/8 ::1/128 \n", "lo", "UNKNOWN");
    for (name, mac, ip) in interfaces(g) {
        out.push_str(&format!(
            "{name:<16} {:<14} {ip} {}/64 \n",
            "UP",
            link_local(&mac)
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::testkit::{T0, cluster};

    fn argv(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_string()).collect()
    }

    #[test]
    fn commands_table() {
        let c = cluster();
        let g = &c.guests[&100];
        // (argv, exit code, stdout contains, stderr contains)
        let cases: &[(&[&str], i64, &str, &str)] = &[
            (&["hostname"], 0, "web01\n", ""),
            (&["uname", "-a"], 0, "Linux web01 6.12", ""),
            (
                &["/usr/bin/cat", "/etc/os-release"],
                0,
                "VERSION_CODENAME=trixie",
                "",
            ),
            (
                &["cat", "/nope"],
                1,
                "",
                "cat: /nope: No such file or directory",
            ),
            (&["uptime"], 0, " up  1:00,  0 users", ""),
            (&["df", "-h"], 0, "/dev/sda1", ""),
            (&["ip", "-br", "addr"], 0, "ens18", ""),
            (&["echo", "hi", "there"], 0, "hi there\n", ""),
            (&["seq", "3"], 0, "1\n2\n3\n", ""),
            (&["seq", "9", "10"], 0, "9\n10\n", ""),
            (
                &["seq", "x"],
                1,
                "",
                "seq: invalid floating point argument: 'x'",
            ),
            (&["systemctl", "is-active", "ssh"], 0, "active\n", ""),
            (&["systemctl", "is-active", "nginx"], 3, "inactive\n", ""),
            (&["sleep", "x"], 1, "", "invalid time interval"),
            (&["nmap"], 127, "", "nmap: command not found"),
            (&["uname -a"], 127, "", "uname -a: command not found"),
            (&["sh", "-c", "hostname && echo ok"], 0, "web01\nok\n", ""),
            (
                &["sh", "-c", "false || echo fallback; echo 'a  b'"],
                0,
                "fallback\na  b\n",
                "",
            ),
            (
                &["sh", "-c", "foo"],
                127,
                "",
                "sh: 1: foo: command not found",
            ),
            (&["bash", "-c", "false && echo no"], 1, "", ""),
            (
                &["/bin/bash", "-c", "bar"],
                127,
                "",
                "bash: line 1: bar: command not found",
            ),
        ];
        for (args, code, out, err) in cases {
            let r = run(g, &argv(args), None, T0);
            assert_eq!(r.exitcode, *code, "{args:?}: {r:?}");
            assert!(r.out.contains(out), "{args:?}: out {:?}", r.out);
            assert!(r.err.contains(err), "{args:?}: err {:?}", r.err);
            if err.is_empty() {
                assert!(r.err.is_empty(), "{args:?}: err {:?}", r.err);
            }
        }
    }

    #[test]
    fn sleep_takes_its_time_and_input_reaches_cat() {
        let c = cluster();
        let g = &c.guests[&100];
        assert!(run(g, &argv(&["sleep", "30"]), None, T0).duration >= 30.0);
        assert!(run(g, &argv(&["sh", "-c", "sleep 2; sleep 3"]), None, T0).duration >= 5.0);
        assert_eq!(run(g, &argv(&["cat"]), Some("data"), T0).out, "data");
    }

    #[test]
    fn facts() {
        let c = cluster();
        let g = &c.guests[&100];
        let ifs = interfaces(g);
        assert_eq!(ifs[0].0, "ens18");
        assert_eq!(ifs[0].1, "bc:24:11:00:00:01");
        assert_eq!(link_local("bc:24:11:00:00:01"), "fe80::be24:11ff:fe00:1");
        assert_eq!(osinfo(g)["id"], "debian");
        assert_eq!(human(32 << 30), "32G");
        assert_eq!(human(9_900_000_000), "9.3G");
        assert_eq!(pretty_uptime(90_061), "1 day, 1 hour, 1 minute");
    }
}
