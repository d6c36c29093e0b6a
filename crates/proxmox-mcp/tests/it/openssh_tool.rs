//! `execute_container_command` through the server's REST door against a real OpenSSH server,
//! set up by `e2e/ssh/run.sh` (which names its directory in `PVE_SSH_E2E` and runs these
//! `#[ignore]`d tests one at a time): the cluster's API is the simulator, every node's SSH
//! address is that sshd, whose PATH holds a stand-in `pct` recording its argv and any SIGHUP.
//! Proves, through the whole server (config file, `[cluster.ssh]`, the call flow): host-key
//! pinning (a wrong pin refuses, nothing runs), key authentication (a passphrase from a file; an
//! unknown key refused), hostile arguments arriving intact as argv, exit codes and stderr,
//! output caps, timeouts and cancellation hanging the command up.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use proxmox_mcp::{App, Caller, NoProgress, Overrides, RestConfig, Settings};
use pve_sim::server::SimServer;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use crate::support::mcp::eventually;
use crate::support::process::{sim, sim_env};

const CT: &str = "execute_container_command";

/// The sshd `e2e/ssh/run.sh` started.
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
            .unwrap()
            .trim()
            .to_owned()
    };
    Sshd {
        port: read("port").parse().unwrap(),
        user: read("user"),
        dir,
    }
}

impl Sshd {
    fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.join(name))
            .unwrap()
            .trim()
            .to_owned()
    }

    /// The argv of each call the stand-in pct recorded for `vmid` (with whether it got SIGHUP).
    fn calls(&self, vmid: u32) -> Vec<(Vec<String>, bool)> {
        let log = self.dir.join("log");
        let mut out = Vec::new();
        for entry in std::fs::read_dir(&log).unwrap() {
            let name = entry.unwrap().file_name().to_string_lossy().into_owned();
            let Some(pid) = name
                .strip_prefix(&format!("{vmid}."))
                .and_then(|r| r.strip_suffix(".argv"))
            else {
                continue;
            };
            let raw = std::fs::read_to_string(log.join(&name)).unwrap();
            let mut argv: Vec<String> = raw.split('\0').map(str::to_owned).collect();
            argv.pop();
            let hup = log.join(format!("{vmid}.{pid}.hup")).exists();
            out.push((argv, hup));
        }
        out
    }

    /// Whether a call for `vmid` has started its command (its SIGHUP trap is set by then).
    fn started(&self, vmid: u32) -> bool {
        std::fs::read_dir(self.dir.join("log")).unwrap().any(|e| {
            let name = e.unwrap().file_name().to_string_lossy().into_owned();
            name.starts_with(&format!("{vmid}.")) && name.ends_with(".start")
        })
    }

    /// Forgets what the stand-in recorded.
    fn clear(&self) {
        for entry in std::fs::read_dir(self.dir.join("log")).unwrap() {
            let _ = std::fs::remove_file(entry.unwrap().path());
        }
    }
}

/// The server: the simulator's API, `[cluster.ssh]` reaching every node at the sshd with `key`
/// (and `extra` lines), the REST door on 127.0.0.1:0.
struct Server {
    _sim: SimServer,
    app: Arc<App>,
    base: String,
    http: reqwest::Client,
    shutdown: CancellationToken,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

async fn server(d: &Sshd, key: &str, pin: &str, extra: &str) -> Server {
    crate::support::mcp::init_tls();
    let s = sim().await;
    let env: HashMap<String, String> = sim_env(&s).into_iter().collect();
    let nodes = ["pve01", "pve02", "pve03"];
    let list = |value: &str| {
        nodes
            .iter()
            .map(|n| format!("{n} = \"{value}\""))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let config = d.dir.join(format!("server-{}.toml", std::process::id()));
    std::fs::write(
        &config,
        format!(
            "[tools]\ntoolsets = [\"default\", \"ssh\"]\n\n[guard.exec]\nmax_output_bytes = 4096\n\n\
             [cluster.ssh]\nuser = \"{}\"\n\
             key_file = \"{}\"\naddresses = {{ {} }}\nfingerprints = {{ {} }}\n{extra}",
            d.user,
            d.dir.join(key).display(),
            list(&format!("127.0.0.1:{}", d.port)),
            list(pin),
        ),
    )
    .unwrap();
    let settings = Settings::resolve(
        &Overrides {
            config: Some(config.clone()),
            ..Overrides::default()
        },
        &env,
    )
    .unwrap();
    let app = Arc::new(App::from_settings(&settings).await.unwrap());
    std::fs::remove_file(&config).unwrap();
    let listener = proxmox_mcp::bind("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let shutdown = CancellationToken::new();
    tokio::spawn(proxmox_mcp::serve_rest(
        app.clone(),
        listener,
        RestConfig::default(),
        shutdown.clone(),
    ));
    d.clear();
    Server {
        _sim: s,
        app,
        base,
        http: reqwest::Client::new(),
        shutdown,
    }
}

impl Server {
    /// POSTs a confirmed call to the REST door: (status, body).
    async fn post(&self, mut args: Value) -> (u16, Value) {
        args["confirm"] = json!(true);
        let r = self
            .http
            .post(format!("{}/{CT}", self.base))
            .json(&args)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap())
    }
}

fn good_pin(d: &Sshd) -> String {
    d.read("host_ed25519.fingerprint")
}

#[tokio::test]
#[ignore = "needs e2e/ssh/run.sh"]
async fn openssh_tool_a_wrong_pin_refuses_and_runs_nothing() {
    let d = sshd();
    let wrong = "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU";
    let s = server(&d, "id_ed25519", wrong, "").await;
    let (status, body) = s.post(json!({"vmid": 200, "command": "hostname"})).await;
    assert!(status >= 400, "{body}");
    let message = body["detail"]["message"].as_str().unwrap();
    assert!(
        message.contains("not trusted") && message.contains(&good_pin(&d)),
        "names the fingerprint seen: {message}"
    );
    assert!(d.calls(200).is_empty(), "nothing ran");
    let s = server(&d, "id_ed25519", &good_pin(&d), "").await;
    let (status, body) = s.post(json!({"vmid": 200, "command": "true"})).await;
    assert_eq!((status, &body["exit_code"]), (200, &json!(0)), "{body}");
}

#[tokio::test]
#[ignore = "needs e2e/ssh/run.sh"]
async fn openssh_tool_key_authentication() {
    let d = sshd();
    let pass = d.dir.join("passphrase");
    let s = server(
        &d,
        "id_ed25519_pass",
        &good_pin(&d),
        &format!("key_passphrase_file = \"{}\"\n", pass.display()),
    )
    .await;
    let (status, body) = s.post(json!({"vmid": 200, "command": "true"})).await;
    assert_eq!((status, &body["exit_code"]), (200, &json!(0)), "{body}");
    let s = server(&d, "id_stranger", &good_pin(&d), "").await;
    let (status, body) = s.post(json!({"vmid": 200, "command": "true"})).await;
    assert!(status >= 400, "{body}");
    assert!(
        body["detail"]["message"]
            .as_str()
            .unwrap()
            .contains("refused SSH key authentication"),
        "{body}"
    );
    assert!(d.calls(200).is_empty());
}

#[tokio::test]
#[ignore = "needs e2e/ssh/run.sh"]
async fn openssh_tool_hostile_arguments_arrive_as_argv() {
    let d = sshd();
    let s = server(&d, "id_ed25519", &good_pin(&d), "").await;
    let hostile = [
        "a b",
        "; rm -rf /",
        "$(id)",
        "`id`",
        "it's",
        "\"q\"",
        "\\",
        "line1\nline2",
        "*",
        "~",
        "$HOME",
        "&& reboot",
        "| cat",
        "> /tmp/x",
        "",
        "-n",
    ];
    let args: Vec<&str> = std::iter::once("%s|").chain(hostile).collect();
    let (status, body) = s
        .post(json!({"vmid": 200, "command": "printf", "args": args}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["stdout"], format!("{}|", hostile.join("|")));
    let calls = d.calls(200);
    assert_eq!(calls.len(), 1, "{calls:?}");
    let mut want: Vec<String> = ["exec", "200", "--", "printf", "%s|"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    want.extend(hostile.iter().map(|s| s.to_string()));
    assert_eq!(
        calls[0].0, want,
        "pct's argv as the node's login shell passed it on"
    );
    assert_eq!(
        body["command_line"].as_str().unwrap().lines().count(),
        2,
        "{body}"
    );
}

#[tokio::test]
#[ignore = "needs e2e/ssh/run.sh"]
async fn openssh_tool_exit_codes_stderr_and_caps() {
    let d = sshd();
    let s = server(&d, "id_ed25519", &good_pin(&d), "").await;
    let (status, body) = s
        .post(json!({"vmid": 200, "command": "echo out; echo err >&2; exit 7"}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (&body["exit_code"], &body["stdout"], &body["stderr"]),
        (&json!(7), &json!("out\n"), &json!("err\n"))
    );
    let (_, body) = s
        .post(json!({"vmid": 200, "command": "seq", "args": ["1", "100000"]}))
        .await;
    assert_eq!(body["exit_code"], 0, "{body}");
    assert_eq!(body["stdout"].as_str().unwrap().len(), 4096);
    assert_eq!(body["stdout_truncated"], true);
    assert!(body.get("stderr_truncated").is_none(), "{body}");
}

#[tokio::test]
#[ignore = "needs e2e/ssh/run.sh"]
async fn openssh_tool_timeout_and_cancellation_hang_up() {
    let d = sshd();
    let s = server(&d, "id_ed25519", &good_pin(&d), "").await;
    let (status, body) = s
        .post(json!({"vmid": 200, "command": "sleep", "args": ["30"], "timeout_seconds": 1}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["timed_out"], true, "{body}");
    eventually("the timed-out command gets SIGHUP", async || {
        d.calls(200).first().is_some_and(|c| c.1)
    })
    .await;
    d.clear();
    let cancel = CancellationToken::new();
    let ctx = s
        .app
        .ctx(Caller::new("test"), Arc::new(NoProgress), cancel.clone());
    let app = s.app.clone();
    let call = tokio::spawn(async move {
        app.registry()
            .call(
                CT,
                Some(json!({"vmid": 200, "command": "sleep", "args": ["30"], "confirm": true})),
                ctx,
            )
            .await
    });
    eventually("the command starts", async || d.started(200)).await;
    cancel.cancel();
    let r = tokio::time::timeout(Duration::from_secs(5), call)
        .await
        .unwrap()
        .unwrap();
    assert!(r.is_err(), "{r:?}");
    eventually("the cancelled command gets SIGHUP", async || {
        d.calls(200).first().is_some_and(|c| c.1)
    })
    .await;
}
