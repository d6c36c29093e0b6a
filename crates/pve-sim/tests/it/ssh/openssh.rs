//! The system's OpenSSH client (`ssh`, BatchMode, host keys pinned in a known_hosts file written
//! from what the simulator announces) against the simulated nodes: a real client interoperates
//! (key exchange, host key, public-key login, exec, both streams, exit status), and refuses a
//! node whose key does not match, with nothing run.

use std::net::SocketAddr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use russh::keys::PrivateKey;
use russh::keys::ssh_key::LineEnding;

use crate::support::ssh::{client_key, start_ssh, stranger_key};

/// The OpenSSH client: `$SSH`, else `/usr/bin/ssh`.
fn ssh_binary() -> PathBuf {
    let path = std::env::var_os("SSH").map_or_else(|| PathBuf::from("/usr/bin/ssh"), PathBuf::from);
    assert!(
        path.exists(),
        "the OpenSSH client is needed at {} (Debian: apt-get install openssh-client; or set SSH)",
        path.display()
    );
    path
}

/// A scratch directory with a private key file and a known_hosts file.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("pve-sim-openssh-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, text).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        path
    }

    fn key(&self, name: &str, key: &PrivateKey) -> PathBuf {
        self.write(name, &key.to_openssh(LineEnding::LF).unwrap())
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// What `ssh` did.
#[derive(Debug)]
struct Ran {
    status: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Runs `ssh … root@127.0.0.1 -p PORT -- remote` with nothing but these files.
async fn ssh(home: &Path, addr: SocketAddr, known_hosts: &Path, key: &Path, remote: &str) -> Ran {
    let mut cmd = Command::new(ssh_binary());
    cmd.env_clear()
        .env("HOME", home)
        .env("PATH", "/usr/bin:/bin")
        .args([
            "-F",
            "/dev/null",
            "-o",
            "BatchMode=yes",
            "-o",
            "StrictHostKeyChecking=yes",
        ])
        .arg("-o")
        .arg(format!("UserKnownHostsFile={}", known_hosts.display()))
        .args([
            "-o",
            "GlobalKnownHostsFile=/dev/null",
            "-o",
            "IdentitiesOnly=yes",
        ])
        .args([
            "-o",
            "IdentityAgent=none",
            "-o",
            "ConnectTimeout=10",
            "-o",
            "LogLevel=ERROR",
        ])
        .arg("-i")
        .arg(key)
        .args([
            "-p",
            &addr.port().to_string(),
            "-l",
            "root",
            &addr.ip().to_string(),
        ])
        .args(["--", remote])
        .stdin(Stdio::null());
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .unwrap()
        .expect("runs ssh");
    Ran {
        status: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[tokio::test]
async fn openssh_runs_commands_with_the_host_key_pinned() {
    let sim = start_ssh().await;
    let dir = Scratch::new("ok");
    let known_hosts = dir.write("known_hosts", &sim.ssh.known_hosts());
    let key = dir.key("id_ed25519", &client_key());
    let pve01 = sim.addr("pve01");
    let cases = [
        ("pct exec 200 -- hostname", Some(0), "dns-01\n", ""),
        (
            "pct exec 200 -- sh -c 'echo out; echo err >&2; exit 3'",
            Some(3),
            "out\n",
            "err\n",
        ),
        (
            "pct exec 205 -- hostname",
            Some(255),
            "",
            "container '205' not running!\n",
        ),
        (
            "pct exec 200 -- hostname; id",
            Some(127),
            "",
            "bash: pve-sim: ",
        ),
    ];
    for (remote, status, stdout, stderr) in cases {
        let r = ssh(&dir.0, pve01, &known_hosts, &key, remote).await;
        assert_eq!(
            (r.status, r.stdout.as_str()),
            (status, stdout),
            "{remote:?}: {r:?}"
        );
        assert!(r.stderr.starts_with(stderr), "{remote:?}: {r:?}");
    }
    let r = ssh(&dir.0, sim.addr("pve03"), &known_hosts, &key, "pveversion").await;
    assert_eq!(r.status, Some(0), "{r:?}");
    assert_eq!(
        r.stdout,
        "pve-manager/9.1.2/b9b5ba39e94f2e7c (running kernel: 6.14.8-2-pve)\n"
    );
    let rec = sim.ended("pct exec 200 -- hostname").await;
    assert_eq!((rec.user.as_str(), rec.prologue), ("root", false));
}

#[tokio::test]
async fn openssh_refuses_a_wrong_host_key_and_a_stranger_is_refused() {
    let sim = start_ssh().await;
    let dir = Scratch::new("refused");
    let pve01 = sim.addr("pve01");
    // pve01's address with pve02's key: what a client sees when the key changed.
    let pve02 = sim.ssh.node("pve02").unwrap();
    let wrong = format!("[{}]:{} {}\n", pve01.ip(), pve01.port(), pve02.public_key);
    let wrong = dir.write("wrong_known_hosts", &wrong);
    let key = dir.key("id_ed25519", &client_key());
    let r = ssh(&dir.0, pve01, &wrong, &key, "pct exec 200 -- hostname").await;
    assert_eq!(r.status, Some(255), "{r:?}");
    assert!(r.stderr.contains("Host key verification failed"), "{r:?}");
    let empty = dir.write("empty_known_hosts", "");
    let r = ssh(&dir.0, pve01, &empty, &key, "pct exec 200 -- hostname").await;
    assert_eq!(r.status, Some(255), "{r:?}");
    assert!(r.stderr.contains("Host key verification failed"), "{r:?}");
    // The right host key, a key the node does not know.
    let known_hosts = dir.write("known_hosts", &sim.ssh.known_hosts());
    let stranger = dir.key("id_stranger", &stranger_key());
    let r = ssh(
        &dir.0,
        pve01,
        &known_hosts,
        &stranger,
        "pct exec 200 -- hostname",
    )
    .await;
    assert_eq!(r.status, Some(255), "{r:?}");
    assert!(r.stderr.contains("Permission denied (publickey)"), "{r:?}");
    assert!(sim.ssh.records().is_empty(), "{:#?}", sim.ssh.records());
}
