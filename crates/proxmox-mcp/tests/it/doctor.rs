//! `proxmox-mcp doctor` against the simulator over HTTPS on 127.0.0.1:0: a good setup (through a
//! config file), then broken ones: wrong token, missing or partial privileges, untrusted
//! certificates, a node down, nothing listening, a bad configuration; and the binary's exit code.

use std::collections::HashMap;
use std::process::Command;

use crate::support::process::BIN;
use proxmox_mcp::Access;
use proxmox_mcp::{DoctorArgs, Level, Report, diagnose};
use pve_sim::route::Role;
use pve_sim::server::{SimConfig, SimServer};

const SECRET: &str = "0b7c1c7e-5c4b-4c55-9d7e-doctor-test";

/// A simulator with one token per role: `mcp@pve!<name>` = [`SECRET`].
async fn sim() -> SimServer {
    let s = pve_sim::server::spawn(
        SimConfig {
            time_scale: 0.0,
            ..SimConfig::default()
        },
        pve_sim::seed::demo(),
    )
    .await
    .unwrap();
    s.with_sim(|sim| {
        for (name, role) in [
            ("admin", Role::Admin),
            ("auditor", Role::Auditor),
            ("vm100", Role::Vms(vec![100])),
            ("nothing", Role::None),
        ] {
            sim.auth.add_token(&format!("mcp@pve!{name}"), SECRET, role);
        }
    });
    s
}

/// The environment reaching `s` with token `name`, the certificate pinned.
fn env(s: &SimServer, token: &str) -> HashMap<String, String> {
    [
        ("PROXMOX_HOST", "127.0.0.1".to_string()),
        ("PROXMOX_PORT", s.addr().port().to_string()),
        ("PROXMOX_USER", "mcp@pve".to_string()),
        ("PROXMOX_TOKEN_NAME", token.to_string()),
        ("PROXMOX_TOKEN_VALUE", SECRET.to_string()),
        ("PROXMOX_FINGERPRINT", s.fingerprint().to_string()),
        ("PROXMOX_TIMEOUT", "5".to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

async fn run(env: &HashMap<String, String>) -> Report {
    let args = DoctorArgs {
        demo: false,
        config: None,
        cluster: None,
    };
    diagnose(&args, env).await
}

fn texts(report: &Report, level: Level) -> Vec<String> {
    report.at(level).iter().map(|f| f.text.clone()).collect()
}

/// The tools named at the start of `level` findings (`start_vm (write) ...`).
fn tools_at(report: &Report, level: Level) -> Vec<String> {
    let names: Vec<&str> = proxmox_mcp::builtin_tools()
        .unwrap()
        .tools()
        .map(|t| t.name)
        .collect();
    let mut out: Vec<String> = texts(report, level)
        .iter()
        .filter_map(|t| t.split(' ').next())
        .filter(|n| names.contains(n))
        .map(str::to_string)
        .collect();
    out.sort();
    out
}

fn set_mode(path: &std::path::Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[tokio::test]
async fn good_setup_from_a_config_file_passes() {
    let s = sim().await;
    let dir = std::env::temp_dir().join(format!("pmcp-doctor-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("config.toml");
    std::fs::write(
        &path,
        format!(
            "[cluster]\nhost = \"127.0.0.1\"\nport = {}\nuser = \"mcp@pve\"\ntoken_name = \"admin\"\n\
             token_value = \"{SECRET}\"\nfingerprint = \"{}\"\n",
            s.addr().port(),
            s.fingerprint()
        ),
    )
    .unwrap();
    let args = DoctorArgs {
        demo: false,
        config: Some(path.clone()),
        cluster: None,
    };
    // The file holds the token secret: world-readable is a warning, 0600 is fine.
    set_mode(&path, 0o644);
    let report = diagnose(&args, &HashMap::new()).await;
    let warns = texts(&report, Level::Warn);
    assert_eq!(warns.len(), 1, "{}", report.render());
    assert!(
        warns[0].contains("every local user can read it"),
        "{}",
        warns[0]
    );
    set_mode(&path, 0o600);
    let report = diagnose(&args, &HashMap::new()).await;
    let text = report.render();
    assert_eq!(report.problems(), 0, "{text}");
    assert!(report.at(Level::Warn).is_empty(), "{text}");
    assert!(text.contains(&format!("config file {} parsed", path.display())));
    assert!(
        text.contains(&format!(
            "certificate SHA-256 {}: trusted (matches the pinned fingerprint)",
            s.fingerprint()
        )),
        "{text}"
    );
    assert!(text.contains("logged in as mcp@pve!admin"), "{text}");
    assert!(
        text.contains(&format!(
            "{} tools have every privilege they need",
            proxmox_mcp::builtin_tools().unwrap().len()
        )),
        "{text}"
    );
    for node in ["pve01", "pve02", "pve03"] {
        assert!(text.contains(&format!("[ ok ] {node} online")), "{text}");
    }
    // The demo seed: VM 106 runs without a working agent, the other running VMs answer.
    assert!(
        text.contains("guest agent answers in 8 of 9 running VMs"),
        "{text}"
    );
    assert!(
        text.contains("106 (monitoring-01): agent not running in the guest"),
        "{text}"
    );
    assert!(
        text.ends_with("Summary: 0 problems, 0 warnings.\n"),
        "{text}"
    );
    // The doctor only reads: GETs and agent pings.
    for r in s.requests() {
        assert!(
            r.method == "GET" || r.path.ends_with("/agent/ping"),
            "{} {}",
            r.method,
            r.path
        );
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test]
async fn wrong_token_is_one_problem_that_says_what_to_check() {
    let s = sim().await;
    let mut e = env(&s, "admin");
    e.insert("PROXMOX_TOKEN_VALUE".into(), "wrong".into());
    let report = run(&e).await;
    let fails = report.at(Level::Fail);
    assert_eq!(fails.len(), 1, "{}", report.render());
    assert!(fails[0].text.contains("Proxmox VE refused mcp@pve!admin"));
    assert!(
        fails[0].text.contains("invalid token value"),
        "{}",
        fails[0].text
    );
    assert!(
        fails[0]
            .hint
            .as_deref()
            .unwrap()
            .contains("PROXMOX_TOKEN_NAME")
    );
    // It stops there: no privilege or node findings on a failed login.
    assert!(!report.render().contains("Nodes"));
    let mut e = env(&s, "nosuchtoken");
    e.insert("PROXMOX_TOKEN_NAME".into(), "nosuchtoken".into());
    let report = run(&e).await;
    assert!(
        texts(&report, Level::Fail)[0].contains("no such token 'nosuchtoken'"),
        "{}",
        report.render()
    );
}

#[tokio::test]
async fn missing_privileges_name_the_tools_that_will_fail() {
    let s = sim().await;
    let report = run(&env(&s, "auditor")).await;
    let writers: Vec<String> = {
        let mut v: Vec<String> = proxmox_mcp::builtin_tools()
            .unwrap()
            .tools()
            // PVE's migration preflight needs VM.Migrate, a node's journal Sys.Syslog, its
            // pending updates Sys.Modify, which an auditor lacks; the endpoints proxmox_api
            // calls check their own privileges (it needs only a login).
            .filter(|t| {
                (t.access != Access::Read
                    || ["check_migration", "get_node_logs", "list_updates"].contains(&t.name))
                    && t.name != "proxmox_api"
            })
            // Commands over SSH need only reads of the API (the SSH key is their gate).
            .filter(|t| !["execute_container_command", "execute_node_command"].contains(&t.name))
            .map(|t| t.name.to_string())
            .collect();
        v.sort();
        v
    };
    assert_eq!(
        tools_at(&report, Level::Fail),
        writers,
        "{}",
        report.render()
    );
    assert_eq!(report.problems(), writers.len());
    let text = report.render();
    assert!(
        text.contains("delete_vm (destructive) will fail with 403: missing VM.Allocate"),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "{} tools have every privilege they need: get_nodes, get_node_status, get_vms",
            proxmox_mcp::builtin_tools().unwrap().len() - writers.len()
        )),
        "{text}"
    );

    // VM-scoped token: lifecycle tools work on VM 100 only; creating needs what it lacks.
    let report = run(&env(&s, "vm100")).await;
    let text = report.render();
    assert!(
        text.contains("start_vm (write): VM.PowerMgmt only on /vms/100"),
        "{text}"
    );
    assert!(
        tools_at(&report, Level::Fail).contains(&"create_vm".to_string()),
        "{text}"
    );
    assert!(tools_at(&report, Level::Warn).contains(&"delete_vm".to_string()));

    // A token with privilege separation and no ACL at all.
    let report = run(&env(&s, "nothing")).await;
    let fails = texts(&report, Level::Fail);
    assert!(
        fails.iter().any(|t| t.contains("no privilege at all")),
        "{}",
        report.render()
    );
}

#[tokio::test]
async fn untrusted_certificates_show_the_fingerprint_to_pin() {
    let s = sim().await;
    let other = sim().await;
    // Trusting some other CA: the simulator's self-signed certificate is refused.
    let dir = std::env::temp_dir().join(format!("pmcp-doctor-ca-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ca = dir.join("other-ca.pem");
    std::fs::write(&ca, other.cert_pem()).unwrap();
    let mut e = env(&s, "admin");
    e.remove("PROXMOX_FINGERPRINT");
    e.insert("PROXMOX_CA_FILE".into(), ca.display().to_string());
    let report = run(&e).await;
    let fails = report.at(Level::Fail);
    assert_eq!(fails.len(), 1, "{}", report.render());
    let want = format!("certificate SHA-256 {} is not trusted", s.fingerprint());
    assert!(fails[0].text.contains(&want), "{}", fails[0].text);
    let hint = fails[0].hint.as_deref().unwrap();
    assert!(
        hint.contains(&format!("PROXMOX_FINGERPRINT={}", s.fingerprint())),
        "{hint}"
    );
    // A pinned fingerprint that does not match.
    let mut e = env(&s, "admin");
    e.insert(
        "PROXMOX_FINGERPRINT".into(),
        other.fingerprint().to_string(),
    );
    let report = run(&e).await;
    let fails = texts(&report, Level::Fail);
    assert_eq!(fails.len(), 1, "{}", report.render());
    assert!(fails[0].contains("fingerprint mismatch"), "{}", fails[0]);
    // Verification off: it works, with a warning carrying the fingerprint to pin.
    let mut e = env(&s, "admin");
    e.remove("PROXMOX_FINGERPRINT");
    e.insert("PROXMOX_VERIFY_SSL".into(), "false".into());
    let report = run(&e).await;
    assert_eq!(report.problems(), 0, "{}", report.render());
    let warns = report.at(Level::Warn);
    assert_eq!(warns.len(), 1, "{}", report.render());
    assert!(warns[0].text.contains("NOT verified"));
    assert!(
        warns[0]
            .hint
            .as_deref()
            .unwrap()
            .contains(&format!("PROXMOX_FINGERPRINT={}", s.fingerprint()))
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test]
async fn a_node_down_is_a_problem() {
    let s = sim().await;
    s.with_sim(|sim| sim.cluster.nodes.get_mut("pve02").unwrap().online = false);
    let report = run(&env(&s, "admin")).await;
    let fails = texts(&report, Level::Fail);
    assert_eq!(fails.len(), 1, "{}", report.render());
    assert!(fails[0].starts_with("pve02 is offline"), "{}", fails[0]);
    let text = report.render();
    assert!(text.contains("[ ok ] pve01 online"), "{text}");
    assert!(text.contains("is quorate, 3 nodes"), "{text}");
    // Two of three down: no quorum either.
    s.with_sim(|sim| sim.cluster.nodes.get_mut("pve03").unwrap().online = false);
    let report = run(&env(&s, "admin")).await;
    let fails = texts(&report, Level::Fail);
    assert_eq!(fails.len(), 3, "{}", report.render());
    assert!(fails[0].contains("has no quorum, 3 nodes"), "{}", fails[0]);
}

#[tokio::test]
async fn nothing_listening_stops_at_the_connection() {
    let s = sim().await;
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let mut e = env(&s, "admin");
    e.insert("PROXMOX_PORT".into(), port.to_string());
    let report = run(&e).await;
    let fails = report.at(Level::Fail);
    assert_eq!(fails.len(), 1, "{}", report.render());
    assert!(
        fails[0]
            .text
            .starts_with(&format!("cannot connect to 127.0.0.1:{port}")),
        "{}",
        fails[0].text
    );
    assert!(fails[0].hint.as_deref().unwrap().contains("PROXMOX_HOST"));
}

#[tokio::test]
async fn bad_configuration_is_reported_not_raised() {
    let report = run(&HashMap::new()).await;
    let fails = texts(&report, Level::Fail);
    assert_eq!(fails.len(), 1);
    assert!(fails[0].contains("PROXMOX_HOST"), "{}", fails[0]);
    let mut e = HashMap::new();
    e.insert("PROXMOX_HOST".to_string(), "127.0.0.1".to_string());
    e.insert("PROXMOX_USER".to_string(), "root".to_string());
    let report = run(&e).await;
    assert!(
        texts(&report, Level::Fail)[0].contains("USER@REALM"),
        "{}",
        report.render()
    );
}

#[test]
fn the_binary_exits_zero_on_a_healthy_demo_and_non_zero_on_problems() {
    let out = Command::new(BIN)
        .args(["doctor", "--demo"])
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("demo mode: checking the embedded simulator"));
    assert!(stdout.contains("Summary: 0 problems"), "{stdout}");
    let out = Command::new(BIN)
        .arg("doctor")
        .env_remove("PROXMOX_HOST")
        .env_remove("PROXMOX_MCP_CONFIG")
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("[FAIL] configuration: no Proxmox VE cluster configured"),
        "{stdout}"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("doctor found 1 problem"));
}
