//! The SSH client against a real OpenSSH server, set up by `e2e/ssh/run.sh` (which names its
//! directory in `PVE_SSH_E2E` and runs these `#[ignore]`d tests one at a time): host-key pinning
//! and known_hosts, key authentication with each key type, argv quoting through the node's real
//! login shell into a stand-in `pct`, exit codes and signals, stderr, output caps, timeouts,
//! cancellation and dropped calls (the stand-in records the SIGHUP), one connection with a
//! channel cap, reconnection.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use pve_client::ErrorKind;
use pve_client::ssh::{
    HostKeyFingerprint, NodeAddress, RunOptions, RunOutput, SshClient, SshConfig, command_line,
};
use tokio_util::sync::CancellationToken;

/// The sshd that `e2e/ssh/run.sh` started.
struct Sshd {
    dir: PathBuf,
    port: u16,
    user: String,
}

fn sshd() -> Sshd {
    let dir =
        PathBuf::from(std::env::var("PVE_SSH_E2E").unwrap_or_else(|_| {
            panic!("PVE_SSH_E2E is not set: run these tests with e2e/ssh/run.sh")
        }));
    let read = |name: &str| {
        std::fs::read_to_string(dir.join(name))
            .unwrap_or_else(|e| panic!("{name}: {e}"))
            .trim()
            .to_owned()
    };
    Sshd {
        port: read("port").parse().unwrap(),
        user: read("user"),
        dir,
    }
}

/// One call of the stand-in pct, as it recorded it.
#[derive(Debug, Clone)]
struct Call {
    argv: Vec<String>,
    session: u32,
    hup: bool,
    start: Option<u128>,
    end: Option<u128>,
}

impl Sshd {
    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    fn fingerprint(&self, host_key: &str) -> HostKeyFingerprint {
        std::fs::read_to_string(self.path(&format!("{host_key}.fingerprint")))
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    }

    /// Node `pve1` at this sshd, logging in with `key`, its ed25519 host key pinned.
    fn config(&self, key: &str) -> SshConfig {
        let mut c = SshConfig::new(self.path(key))
            .address("pve1", NodeAddress::with_port("127.0.0.1", self.port))
            .pin("pve1", self.fingerprint("host_ed25519"));
        c.user = self.user.clone();
        c.connect_timeout = Duration::from_secs(10);
        c
    }

    fn client(&self, config: SshConfig) -> SshClient {
        SshClient::new(config, None).unwrap()
    }

    /// The calls the stand-in pct recorded for `vmid`.
    fn calls(&self, vmid: &str) -> Vec<Call> {
        let log = self.path("log");
        let mut pids: BTreeSet<String> = BTreeSet::new();
        for e in std::fs::read_dir(&log).unwrap() {
            let name = e.unwrap().file_name().to_string_lossy().into_owned();
            if let Some(rest) = name.strip_prefix(&format!("{vmid}."))
                && let Some(pid) = rest.strip_suffix(".argv")
            {
                pids.insert(pid.to_owned());
            }
        }
        let read =
            |pid: &str, ext: &str| std::fs::read(log.join(format!("{vmid}.{pid}.{ext}"))).ok();
        let num =
            |b: Option<Vec<u8>>| b.and_then(|b| String::from_utf8(b).ok()?.trim().parse().ok());
        pids.iter()
            .map(|pid| {
                let raw = read(pid, "argv").unwrap();
                let mut argv: Vec<String> = raw
                    .split(|b| *b == 0)
                    .map(|w| String::from_utf8(w.to_vec()).unwrap())
                    .collect();
                assert_eq!(argv.pop().as_deref(), Some(""), "argv ends with NUL");
                Call {
                    argv,
                    session: num(read(pid, "session")).unwrap_or(0) as u32,
                    hup: read(pid, "hup").is_some(),
                    start: num(read(pid, "start")),
                    end: num(read(pid, "end")),
                }
            })
            .collect()
    }

    /// Waits (up to 10 s) until `vmid` has `n` calls satisfying `f`.
    async fn wait_for(&self, vmid: &str, n: usize, f: impl Fn(&Call) -> bool) -> Vec<Call> {
        for _ in 0..200 {
            let calls = self.calls(vmid);
            if calls.iter().filter(|c| f(c)).count() >= n {
                return calls;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("stand-in pct calls for {vmid}: {:?}", self.calls(vmid));
    }
}

fn opts(secs: f64) -> RunOptions {
    RunOptions::with_timeout(Duration::from_secs_f64(secs))
}

async fn pct(c: &SshClient, vmid: u32, argv: &[&str]) -> RunOutput {
    c.pct_exec("pve1", vmid, argv, &opts(20.0))
        .await
        .unwrap_or_else(|e| panic!("pct exec {vmid} {argv:?}: {e}"))
}

#[tokio::test]
#[ignore = "needs the OpenSSH server of e2e/ssh/run.sh"]
async fn openssh_key_authentication_with_each_key_type() {
    let d = sshd();
    for key in ["id_ed25519", "id_ecdsa", "id_rsa", "id_ed25519_pass"] {
        let mut cfg = d.config(key);
        if key == "id_ed25519_pass" {
            cfg.key_passphrase = Some(pve_client::Secret::new(
                std::fs::read_to_string(d.path("passphrase"))
                    .unwrap()
                    .trim(),
            ));
        }
        let out = pct(&d.client(cfg), 101, &["echo", key]).await;
        assert_eq!(
            (out.exit_code, out.stdout.as_str()),
            (Some(0), &*format!("{key}\n"))
        );
        assert!(out.success() && out.stderr.is_empty(), "{key}: {out:?}");
    }
    // The encrypted key without its passphrase, and a key sshd does not know.
    let e = SshClient::new(d.config("id_ed25519_pass"), None).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Config);
    assert!(e.message().contains("PROXMOX_SSH_KEY_PASSPHRASE"), "{e}");
    let e = d
        .client(d.config("id_stranger"))
        .pct_exec("pve1", 101, &["true"], &opts(20.0))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Auth, "{e}");
    assert!(
        e.message().contains("refused SSH key authentication"),
        "{e}"
    );
}

#[tokio::test]
#[ignore = "needs the OpenSSH server of e2e/ssh/run.sh"]
async fn openssh_wrong_or_missing_pin_refuses_naming_the_seen_fingerprint() {
    let d = sshd();
    let seen = d.fingerprint("host_ed25519").to_string();
    let wrong = d.fingerprint("host_rsa");
    let mut cfg = d.config("id_ed25519");
    cfg.pins.clear();
    let cases = [
        (
            "wrong pin",
            cfg.clone().pin("pve1", wrong),
            "does not match its pin",
        ),
        ("no trust", cfg.clone(), "no SSH host key is trusted"),
        (
            "pin of another node",
            cfg.clone().pin("pve2", d.fingerprint("host_ed25519")),
            "no SSH host key is trusted",
        ),
    ];
    for (what, cfg, says) in cases {
        let e = d
            .client(cfg)
            .pct_exec("pve1", 120, &["touch", "/tmp/should-not-run"], &opts(20.0))
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::HostKey, "{what}: {e}");
        assert!(e.message().contains(says), "{what}: {e}");
        assert!(
            e.message().contains(&format!("ssh-ed25519 {seen}")),
            "{what}: {e}"
        );
    }
    assert!(
        d.calls("120").is_empty(),
        "nothing ran: {:?}",
        d.calls("120")
    );
}

#[tokio::test]
#[ignore = "needs the OpenSSH server of e2e/ssh/run.sh"]
async fn openssh_known_hosts_plain_hashed_rsa_only_and_changed() {
    let d = sshd();
    let with_file = |path: &Path| {
        let mut cfg = d.config("id_ed25519");
        cfg.pins.clear();
        cfg.known_hosts = Some(path.to_owned());
        cfg
    };
    for file in ["known_hosts", "known_hosts_hashed", "known_hosts_rsa"] {
        let out = pct(&d.client(with_file(&d.path(file))), 121, &["echo", file]).await;
        assert_eq!(out.stdout, format!("{file}\n"));
    }
    // A node reinstalled with a new key: known_hosts holds another ed25519 key for it.
    let other = std::fs::read_to_string(d.path("id_ed25519.pub")).unwrap();
    let changed = d.path("known_hosts_changed");
    let line = format!("[127.0.0.1]:{} {}", d.port, other.trim());
    std::fs::write(&changed, line).unwrap();
    let e = d
        .client(with_file(&changed))
        .pct_exec("pve1", 122, &["true"], &opts(20.0))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::HostKey, "{e}");
    assert!(e.message().contains("CHANGED"), "{e}");
    assert!(
        e.message()
            .contains(&d.fingerprint("host_ed25519").to_string()),
        "{e}"
    );
    assert!(d.calls("122").is_empty());
}

#[tokio::test]
#[ignore = "needs the OpenSSH server of e2e/ssh/run.sh"]
async fn openssh_probe_reads_the_host_key_without_logging_in() {
    let d = sshd();
    let mut cfg = d.config("id_stranger"); // a key sshd would refuse: the probe never logs in
    cfg.pins.clear();
    let probe = d.client(cfg.clone()).probe_host_key("pve1").await.unwrap();
    assert_eq!(probe.fingerprint, d.fingerprint("host_ed25519"));
    assert_eq!(probe.algorithm, "ssh-ed25519");
    assert_eq!(probe.address, NodeAddress::with_port("127.0.0.1", d.port));
    let pub_line = std::fs::read_to_string(d.path("host_ed25519.pub")).unwrap();
    assert!(pub_line.starts_with(&probe.public_key), "{probe:?}");
    assert!(!probe.trusted);
    assert!(
        probe
            .refusal
            .as_deref()
            .unwrap()
            .contains("no SSH host key is trusted")
    );
    let pinned = cfg.pin("pve1", probe.fingerprint);
    let probe = d.client(pinned).probe_host_key("pve1").await.unwrap();
    assert!(probe.trusted && probe.refusal.is_none(), "{probe:?}");
}

/// Arguments a shell would read as syntax; each must reach the program as one argv word.
const HOSTILE: &[&str] = &[
    "a b",
    "; touch pwned-semicolon",
    "$(touch pwned-subst)",
    "`touch pwned-backquote`",
    "| touch pwned-pipe",
    "&& touch pwned-and",
    "> pwned-redirect",
    "${HOME}",
    "$HOME",
    "it's",
    "'",
    "\"quoted\"",
    "\\",
    "line1\nline2",
    "\n",
    "tab\there",
    "*",
    "~",
    "a=b",
    "-n",
    "--",
    "!!",
    "#comment",
    "{a,b}",
    "héllo ☃",
    "",
];

#[tokio::test]
#[ignore = "needs the OpenSSH server of e2e/ssh/run.sh"]
async fn openssh_hostile_arguments_arrive_intact_as_argv() {
    let d = sshd();
    let c = d.client(d.config("id_ed25519"));
    let mut argv = vec!["printf", "%s\\0"];
    argv.extend_from_slice(HOSTILE);
    let out = pct(&c, 123, &argv).await;
    assert!(out.success(), "{out:?}");
    let mut printed: Vec<&str> = out.stdout.split('\0').collect();
    assert_eq!(printed.pop(), Some(""));
    assert_eq!(printed, HOSTILE, "the command's own argv");
    let calls = d.calls("123");
    assert_eq!(calls.len(), 1, "{calls:?}");
    let mut want = vec!["exec", "123", "--"];
    want.extend_from_slice(&argv);
    assert_eq!(
        calls[0].argv, want,
        "pct's argv as the node's shell passed it"
    );
    assert_eq!(
        out.command_line,
        command_line(&pve_client::ssh::pct_exec_argv(123, &argv)).unwrap()
    );
    // No word ran as shell syntax: the files they would have made are absent.
    let home = d.path("home");
    for f in [
        "pwned-semicolon",
        "pwned-subst",
        "pwned-backquote",
        "pwned-pipe",
        "pwned-and",
        "pwned-redirect",
    ] {
        assert!(!home.join(f).exists(), "{f}");
        assert!(!Path::new("/").join(f).exists(), "{f}");
    }
    // A shell inside the container only when asked for: sh -c with the script as one word.
    let out = pct(
        &c,
        123,
        &["sh", "-c", "echo \"$0\" $1; echo two", "zero", "one"],
    )
    .await;
    assert_eq!(out.stdout, "zero one\ntwo\n");
}

#[tokio::test]
#[ignore = "needs the OpenSSH server of e2e/ssh/run.sh"]
async fn openssh_exit_codes_signals_and_stderr() {
    let d = sshd();
    let c = d.client(d.config("id_ed25519"));
    // VMID, argv, exit status, stdout, a part of stderr.
    type Case<'a> = (u32, &'a [&'a str], Option<u32>, &'a str, &'a str);
    let cases: &[Case] = &[
        (124, &["true"], Some(0), "", ""),
        (124, &["false"], Some(1), "", ""),
        (
            124,
            &["sh", "-c", "echo out; echo err >&2; exit 3"],
            Some(3),
            "out\n",
            "err\n",
        ),
        (124, &["no-such-command-here"], Some(127), "", "not found"),
        (
            999,
            &["true"],
            Some(255),
            "",
            "Configuration file 'nodes/pve/lxc/999.conf' does not exist",
        ),
        (
            998,
            &["true"],
            Some(255),
            "",
            "container '998' not running!",
        ),
    ];
    for (vmid, argv, code, out, err) in cases {
        let o = pct(&c, *vmid, argv).await;
        assert_eq!(o.exit_code, *code, "{argv:?}: {o:?}");
        assert_eq!(o.stdout, *out, "{argv:?}");
        assert!(o.stderr.contains(err), "{argv:?}: {o:?}");
        assert!(!o.timed_out && !o.cancelled && o.signal.is_none(), "{o:?}");
    }
    // A command killed by a signal exits 128+N, as in a shell, and the shell adds no words of its
    // own; a session shell killed by one is reported by sshd as that signal.
    let o = c
        .run("pve1", &["sh", "-c", "kill -KILL $$"], &opts(20.0))
        .await
        .unwrap();
    assert_eq!(
        (o.exit_code, o.signal.as_deref(), o.stderr.as_str()),
        (Some(137), None, ""),
        "{o:?}"
    );
    let o = c
        .run("pve1", &["sh", "-c", "kill -TERM $PPID"], &opts(20.0))
        .await
        .unwrap();
    assert_eq!(
        (o.exit_code, o.signal.as_deref()),
        (None, Some("TERM")),
        "{o:?}"
    );
    assert!(!o.success());
    // A missing program on the node: the shell's own words, on stderr.
    let o = c
        .run("pve1", &["no-such-program"], &opts(20.0))
        .await
        .unwrap();
    assert_eq!(o.exit_code, Some(127), "{o:?}");
    assert!(o.stderr.contains("not found"), "{o:?}");
    let o = c.run("pve1", &["uname", "-s"], &opts(20.0)).await.unwrap();
    assert_eq!((o.exit_code, o.stdout.as_str()), (Some(0), "Linux\n"));
    assert_eq!(o.command_line, "uname -s");
}

#[tokio::test]
#[ignore = "needs the OpenSSH server of e2e/ssh/run.sh"]
async fn openssh_output_is_capped_per_stream() {
    let d = sshd();
    let c = d.client(d.config("id_ed25519"));
    let script = "head -c 300000 /dev/zero | tr '\\0' a; head -c 200000 /dev/zero | tr '\\0' b >&2; echo done >&2; exit 4";
    let o = c
        .pct_exec(
            "pve1",
            125,
            &["sh", "-c", script],
            &opts(20.0).with_max_output(1000),
        )
        .await
        .unwrap();
    assert_eq!(o.stdout, "a".repeat(1000));
    assert_eq!(o.stderr, "b".repeat(1000));
    assert!(
        o.stdout_truncated && o.stderr_truncated,
        "{:?}",
        (o.stdout_truncated, o.stderr_truncated)
    );
    // The rest was read to the end: the command exited by itself with its status.
    assert_eq!(o.exit_code, Some(4));
    let o = c
        .pct_exec(
            "pve1",
            125,
            &["printf", "12345"],
            &opts(20.0).with_max_output(5),
        )
        .await
        .unwrap();
    assert_eq!((o.stdout.as_str(), o.stdout_truncated), ("12345", false));
}

#[tokio::test]
#[ignore = "needs the OpenSSH server of e2e/ssh/run.sh"]
async fn openssh_timeout_hangs_up_the_command() {
    let d = sshd();
    let c = d.client(d.config("id_ed25519"));
    let o = c
        .pct_exec(
            "pve1",
            126,
            &["sh", "-c", "echo started; exec sleep 60"],
            &opts(2.0),
        )
        .await
        .unwrap();
    assert!(
        o.timed_out && !o.cancelled && o.exit_code.is_none(),
        "{o:?}"
    );
    assert_eq!(o.stdout, "started\n", "output before the timeout is kept");
    let calls = d.wait_for("126", 1, |c| c.hup).await;
    assert!(calls[0].hup, "the remote command got SIGHUP: {calls:?}");
}

#[tokio::test]
#[ignore = "needs the OpenSSH server of e2e/ssh/run.sh"]
async fn openssh_cancellation_hangs_up_the_command() {
    let d = sshd();
    let c = d.client(d.config("id_ed25519"));
    let token = CancellationToken::new();
    let run = {
        let c = c.clone();
        let opts = opts(60.0).cancel_on(token.clone());
        tokio::spawn(async move { c.pct_exec("pve1", 127, &["sleep", "60"], &opts).await })
    };
    d.wait_for("127", 1, |c| c.start.is_some()).await;
    token.cancel();
    let o = run.await.unwrap().unwrap();
    assert!(
        o.cancelled && !o.timed_out && o.exit_code.is_none(),
        "{o:?}"
    );
    let calls = d.wait_for("127", 1, |c| c.hup).await;
    assert!(calls[0].hup, "{calls:?}");
    // A token cancelled before the call: nothing runs.
    let e = c
        .pct_exec("pve1", 128, &["true"], &opts(20.0).cancel_on(token))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Cancelled);
    assert!(d.calls("128").is_empty());
}

#[tokio::test]
#[ignore = "needs the OpenSSH server of e2e/ssh/run.sh"]
async fn openssh_dropped_call_hangs_up_the_command() {
    let d = sshd();
    let c = d.client(d.config("id_ed25519"));
    let run = {
        let c = c.clone();
        tokio::spawn(async move { c.pct_exec("pve1", 129, &["sleep", "60"], &opts(60.0)).await })
    };
    d.wait_for("129", 1, |c| c.start.is_some()).await;
    run.abort(); // as the server does when a client goes away mid-call
    assert!(run.await.unwrap_err().is_cancelled());
    let calls = d.wait_for("129", 1, |c| c.hup).await;
    assert!(calls[0].hup, "{calls:?}");
}

#[tokio::test]
#[ignore = "needs the OpenSSH server of e2e/ssh/run.sh"]
async fn openssh_one_connection_per_node_with_a_channel_cap() {
    let d = sshd();
    let mut cfg = d.config("id_ed25519");
    cfg.max_channels_per_node = 2;
    let c = d.client(cfg);
    let runs: Vec<_> = (0..6)
        .map(|_| {
            let c = c.clone();
            tokio::spawn(async move {
                c.pct_exec("pve1", 130, &["sleep", "0.4"], &opts(30.0))
                    .await
            })
        })
        .collect();
    for r in runs {
        assert!(r.await.unwrap().unwrap().success());
    }
    let calls = d.calls("130");
    assert_eq!(calls.len(), 6, "{calls:?}");
    let sessions: BTreeSet<u32> = calls.iter().map(|c| c.session).collect();
    assert_eq!(
        sessions.len(),
        1,
        "one SSH connection carried every call: {calls:?}"
    );
    assert!(!sessions.contains(&0));
    // At most two commands ran at once on the node, and two did (the cap, not serialisation).
    let mut edges: Vec<(u128, i32)> = Vec::new();
    for call in &calls {
        edges.push((call.start.unwrap(), 1));
        edges.push((call.end.unwrap(), -1));
    }
    edges.sort();
    let (mut now, mut most) = (0, 0);
    for (_, step) in edges {
        now += step;
        most = most.max(now);
    }
    assert_eq!(most, 2, "{calls:?}");
}

#[tokio::test]
#[ignore = "needs the OpenSSH server of e2e/ssh/run.sh"]
async fn openssh_reconnects_after_the_connection_dies() {
    let d = sshd();
    let c = d.client(d.config("id_ed25519"));
    pct(&c, 131, &["true"]).await;
    let first = d.calls("131")[0].session;
    // Kill that connection's sshd process (a child of the sshd this test's script started).
    let listener: u32 = std::fs::read_to_string(d.path("sshd.listener"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(
        descends_from(first, listener),
        "{first} is not under sshd {listener}"
    );
    let status = std::process::Command::new("kill")
        .arg(first.to_string())
        .status()
        .unwrap();
    assert!(status.success());
    let mut second = first;
    for _ in 0..100 {
        if Path::new(&format!("/proc/{first}")).exists() {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        }
        let o = pct(&c, 132, &["echo", "again"]).await;
        assert_eq!(o.stdout, "again\n");
        second = d.calls("132")[0].session;
        break;
    }
    assert_ne!(second, first, "a new connection");
}

/// Whether process `pid` has `ancestor` above it.
fn descends_from(pid: u32, ancestor: u32) -> bool {
    let mut p = pid;
    while p > 1 {
        if p == ancestor {
            return true;
        }
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{p}/stat")) else {
            return false;
        };
        // pid (comm) state ppid ...: the comm may hold spaces, so split after its ')'.
        let after = stat.rsplit_once(')').map(|(_, a)| a).unwrap_or("");
        p = after
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(1);
    }
    false
}
