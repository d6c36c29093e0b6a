//! Packaging files, checked without Docker or systemd: `docker-compose.yml` against the Compose
//! Specification's JSON schema (and broken copies of it against the same schema, so the check
//! can fail), the Dockerfile's shape, the systemd unit's keys (plus `systemd-analyze verify`
//! where the machine has it), the example configuration and the install script.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use proxmox_mcp::FileConfig;
use serde_json::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(root().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// The schema violations of a Compose file given as YAML text (empty: valid).
fn compose_errors(yaml: &str) -> Vec<String> {
    let schema: Value =
        serde_json::from_str(&read("tests/fixtures/compose-spec/compose-spec.json")).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let doc: Value = match serde_norway::from_str(yaml) {
        Ok(v) => v,
        Err(e) => return vec![format!("not YAML: {e}")],
    };
    validator
        .iter_errors(&doc)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect()
}

/// The file with the commented examples between `# --- n8n network` and `# --- end` markers
/// uncommented, as a user would.
fn with_n8n_network(yaml: &str) -> String {
    let mut inside = false;
    let mut out = String::new();
    for line in yaml.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("# --- n8n network") {
            inside = true;
        } else if trimmed.starts_with("# --- end") {
            inside = false;
        } else if inside {
            let indent = &line[..line.len() - trimmed.len()];
            let body = trimmed.strip_prefix("# ").unwrap_or(trimmed);
            out.push_str(indent);
            out.push_str(body);
            out.push('\n');
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

#[test]
fn compose_file_validates_against_the_compose_schema() {
    let yaml = read("docker-compose.yml");
    let errors = compose_errors(&yaml);
    assert!(errors.is_empty(), "docker-compose.yml: {errors:#?}");
    let joined = with_n8n_network(&yaml);
    assert_ne!(joined, yaml, "the n8n network example is missing");
    let errors = compose_errors(&joined);
    assert!(
        errors.is_empty(),
        "docker-compose.yml with the n8n network example: {errors:#?}\n{joined}"
    );
    let doc: Value = serde_norway::from_str(&joined).unwrap();
    let nets = &doc["services"]["proxmox-mcp"]["networks"];
    assert!(nets.as_array().unwrap().contains(&"n8n".into()), "{nets}");
    assert_eq!(doc["networks"]["n8n"]["external"], true);
}

#[test]
fn broken_compose_files_fail_the_schema() {
    let yaml = read("docker-compose.yml");
    let broken = [
        // A misspelt service key.
        ("restart:", "restrat:"),
        // A healthcheck interval that is not a duration string.
        ("interval: 30s", "interval: [30]"),
        // A port given as a mapping the spec does not know.
        ("- \"8811:8811\"", "- {host: 8811}"),
        // A secret with an unknown source key.
        (
            "file: ./secrets/pve_token_value",
            "path: ./secrets/pve_token_value",
        ),
    ];
    for (from, to) in broken {
        assert!(yaml.contains(from), "{from:?} not in docker-compose.yml");
        let bad = yaml.replacen(from, to, 1);
        let errors = compose_errors(&bad);
        assert!(!errors.is_empty(), "{from:?} -> {to:?} was accepted");
    }
    assert!(!compose_errors("services: [1, 2]\n").is_empty());
    assert!(!compose_errors("services:\n  a: {image: x\n").is_empty());
}

#[test]
fn compose_service_publishes_both_doors() {
    let doc: Value = serde_norway::from_str(&read("docker-compose.yml")).unwrap();
    let svc = &doc["services"]["proxmox-mcp"];
    let ports: Vec<&str> = svc["ports"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(ports, ["8811:8811", "8812:8812"]);
    let env = &svc["environment"];
    assert_eq!(env["PROXMOX_MCP_LISTEN"], "0.0.0.0:8812");
    assert_eq!(env["PROXMOX_MCP_REST_LISTEN"], "0.0.0.0:8811");
    let config = env["PROXMOX_MCP_CONFIG"].as_str().unwrap();
    let volumes = svc["volumes"].as_array().unwrap();
    assert!(
        volumes
            .iter()
            .any(|v| v["target"] == config && v["read_only"] == true),
        "the config file {config} is not mounted read-only: {volumes:?}"
    );
    // Secrets come from files: every secret the service uses is declared with a source, and
    // the token secret reaches the server through a *_FILE variable.
    for s in svc["secrets"].as_array().unwrap() {
        let name = s.as_str().unwrap();
        assert!(doc["secrets"][name]["file"].is_string(), "{name}");
    }
    assert_eq!(
        env["PROXMOX_TOKEN_VALUE_FILE"],
        "/run/secrets/pve_token_value"
    );
    let test: Vec<&str> = svc["healthcheck"]["test"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(test[0], "CMD");
    assert!(test.iter().any(|a| a.starts_with("http://127.0.0.1:8812/")));
    // The Dockerfile's HEALTHCHECK probes the same thing.
    let dockerfile = read("Dockerfile");
    let probe = test[1..]
        .iter()
        .map(|a| format!("{a:?}"))
        .collect::<Vec<_>>()
        .join(", ");
    assert!(
        dockerfile.contains(&format!("CMD [{probe}]")),
        "Dockerfile HEALTHCHECK differs from the compose one ({probe})"
    );
}

#[test]
fn dockerfile_is_multi_stage_and_runs_unprivileged() {
    let text = read("Dockerfile");
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with('#'))
        .collect();
    let froms: Vec<&&str> = lines.iter().filter(|l| l.starts_with("FROM ")).collect();
    assert_eq!(froms.len(), 2, "{froms:?}");
    assert!(froms[0].contains("rust:") && froms[0].ends_with("AS build"));
    assert!(froms[1].contains("-slim") || froms[1].contains("distroless"));
    assert!(text.contains("cargo build --profile dist --locked -p proxmox-mcp"));
    assert!(text.contains("COPY --from=build"));
    let user = lines
        .iter()
        .rev()
        .find_map(|l| l.strip_prefix("USER "))
        .expect("a USER line");
    assert!(
        !user.starts_with('0') && !user.starts_with("root"),
        "{user}"
    );
    assert!(lines.contains(&"EXPOSE 8811 8812"));
    assert!(lines.iter().any(|l| l.starts_with("HEALTHCHECK ")));
    assert!(text.contains("PROXMOX_MCP_LISTEN=0.0.0.0:8812"));
    assert!(text.contains("PROXMOX_MCP_REST_LISTEN=0.0.0.0:8811"));
    assert!(lines.contains(&"CMD [\"serve\"]"));
    // The build context keeps what Cargo needs.
    let ignore = read(".dockerignore");
    for needed in [
        "crates",
        "bench",
        "Cargo.toml",
        "Cargo.lock",
        "*.rs",
        "*.toml",
    ] {
        assert!(
            !ignore.lines().any(|l| l.trim() == needed),
            ".dockerignore drops {needed}"
        );
    }
}

/// An INI file as section -> key -> values (a key may repeat, as in systemd units).
fn parse_ini(text: &str) -> BTreeMap<String, BTreeMap<String, Vec<String>>> {
    let mut out: BTreeMap<String, BTreeMap<String, Vec<String>>> = BTreeMap::new();
    let mut section = None;
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = Some(name.to_string());
            out.entry(name.to_string()).or_default();
            continue;
        }
        let (k, v) = line
            .split_once('=')
            .unwrap_or_else(|| panic!("line {}: not KEY=VALUE: {line}", n + 1));
        let s = section
            .clone()
            .unwrap_or_else(|| panic!("line {}: outside a section", n + 1));
        out.entry(s)
            .or_default()
            .entry(k.trim().to_string())
            .or_default()
            .push(v.trim().to_string());
    }
    out
}

const UNIT: &str = "packaging/systemd/proxmox-mcp.service";

#[test]
fn systemd_unit_is_hardened() {
    let ini = parse_ini(&read(UNIT));
    assert_eq!(
        ini.keys().map(String::as_str).collect::<Vec<_>>(),
        ["Install", "Service", "Unit"]
    );
    let svc = &ini["Service"];
    let one = |k: &str| -> &str {
        let v = svc.get(k).unwrap_or_else(|| panic!("[Service] has no {k}"));
        v.last().unwrap()
    };
    assert_eq!(
        one("ExecStart"),
        "/usr/local/bin/proxmox-mcp serve --config /etc/proxmox-mcp/config.toml"
    );
    for (k, v) in [
        ("DynamicUser", "yes"),
        ("ProtectSystem", "strict"),
        ("ProtectHome", "yes"),
        ("NoNewPrivileges", "yes"),
        ("PrivateTmp", "yes"),
        ("PrivateDevices", "yes"),
        ("CapabilityBoundingSet", ""),
        ("RestrictAddressFamilies", "AF_INET AF_INET6 AF_UNIX"),
        ("MemoryDenyWriteExecute", "yes"),
        ("KillSignal", "SIGTERM"),
    ] {
        assert_eq!(one(k), v, "{k}");
    }
    assert_eq!(svc["SystemCallFilter"][0], "@system-service");
    // The token secret is a credential handed over as a file, never an environment value.
    assert!(one("LoadCredential").starts_with("pve_token_value:/etc/proxmox-mcp/"));
    assert_eq!(
        one("Environment"),
        "PROXMOX_TOKEN_VALUE_FILE=%d/pve_token_value"
    );
    assert!(one("EnvironmentFile").starts_with('-'));
    assert_eq!(ini["Install"]["WantedBy"], ["multi-user.target"]);
}

/// `systemd-analyze verify` on the unit (with ExecStart pointing at the built binary), where
/// the machine has systemd-analyze: it must say nothing about the unit. A misspelt key must make
/// it talk, so the check can fail.
#[test]
fn systemd_analyze_verify_accepts_the_unit() {
    if Command::new("systemd-analyze")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("systemd-analyze not found: skipped");
        return;
    }
    let dir = std::env::temp_dir().join(format!("pmcp-unit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let unit = read(UNIT).replace(
        "/usr/local/bin/proxmox-mcp",
        env!("CARGO_BIN_EXE_proxmox-mcp"),
    );
    let complaints = |text: &str| -> String {
        let path = dir.join("proxmox-mcp.service");
        std::fs::write(&path, text).unwrap();
        let out = Command::new("systemd-analyze")
            .arg("verify")
            .arg(&path)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stderr)
            .lines()
            .filter(|l| l.contains("proxmox-mcp.service"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let said = complaints(&unit);
    assert!(said.is_empty(), "systemd-analyze verify: {said}");
    // The hardening, as systemd scores it (0 = locked down, 10 = fully exposed), where this
    // systemd can score a unit file offline (252 and newer).
    let scored = Command::new("systemd-analyze")
        .args(["security", "--offline=true", "--no-pager"])
        .arg(dir.join("proxmox-mcp.service"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&scored.stdout);
    if let Some(rest) = text
        .split("Overall exposure level for proxmox-mcp.service: ")
        .nth(1)
    {
        let score: f64 = rest.split_whitespace().next().unwrap().parse().unwrap();
        assert!(score <= 2.0, "exposure {score}:\n{text}");
    } else {
        eprintln!("systemd-analyze security --offline unavailable: score not checked");
    }
    let said = complaints(&unit.replace("ProtectSystem=", "ProtectSystm="));
    assert!(said.contains("ProtectSystm"), "{said:?}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn example_config_parses_and_uses_the_usual_ports() {
    let path = "packaging/config/proxmox-mcp.example.toml";
    let cfg = FileConfig::parse(&read(path), Path::new(path)).unwrap();
    assert_eq!(cfg.server.mcp_listen.as_deref(), Some("127.0.0.1:8812"));
    assert_eq!(cfg.rest.listen.as_deref(), Some("127.0.0.1:8811"));
    assert!(cfg.cluster.host.is_some() && cfg.cluster.token_value.is_none());
}

#[test]
fn install_script_is_valid_sh_and_installs_files_that_exist() {
    let script = "scripts/install-systemd.sh";
    let status = Command::new("sh")
        .arg("-n")
        .arg(root().join(script))
        .status()
        .unwrap();
    assert!(status.success(), "sh -n {script}");
    let text = read(script);
    let sources: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("install ") && !l.starts_with("install -d"))
        .filter(|l| !l.contains("/dev/null"))
        .filter_map(|l| l.split_whitespace().rev().nth(1))
        .filter(|src| !src.starts_with('"'))
        .collect();
    assert!(
        sources.contains(&"packaging/systemd/proxmox-mcp.service"),
        "{sources:?}"
    );
    for src in sources {
        assert!(
            root().join(src).is_file(),
            "{script} installs missing {src}"
        );
    }
}

/// The compose healthcheck's command, with the MCP port replaced by `port`.
fn healthcheck_argv(port: u16) -> Vec<String> {
    let doc: Value = serde_norway::from_str(&read("docker-compose.yml")).unwrap();
    doc["services"]["proxmox-mcp"]["healthcheck"]["test"]
        .as_array()
        .unwrap()
        .iter()
        .skip(1)
        .map(|a| a.as_str().unwrap().replace(":8812/", &format!(":{port}/")))
        .collect()
}

/// The health probe, run for real where curl exists: it succeeds against a running server (and
/// does not hang on a stream), and fails when nothing listens.
#[test]
fn healthcheck_probe_passes_on_a_running_server_and_fails_on_a_closed_port() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    if Command::new("curl").arg("--version").output().is_err() {
        eprintln!("curl not found: skipped");
        return;
    }
    let mut child = Command::new(env!("CARGO_BIN_EXE_proxmox-mcp"))
        .args([
            "serve",
            "--demo",
            "--mcp-listen",
            "127.0.0.1:0",
            "--rest-listen",
            "off",
        ])
        .env_remove("PROXMOX_HOST")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = BufReader::new(child.stderr.take().unwrap());
    let mut port = None;
    for line in stderr.lines().map_while(Result::ok) {
        if let Some(rest) = line.split("MCP listening on http://127.0.0.1:").nth(1) {
            port = rest.split('/').next().and_then(|p| p.parse::<u16>().ok());
            break;
        }
    }
    let port = port.expect("the server printed its port");
    let argv = healthcheck_argv(port);
    let alive = Command::new(&argv[0]).args(&argv[1..]).output().unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        alive.status.success(),
        "{argv:?}: {:?} {}",
        alive.status,
        String::from_utf8_lossy(&alive.stderr)
    );
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let argv = healthcheck_argv(port);
    let dead = Command::new(&argv[0]).args(&argv[1..]).output().unwrap();
    assert!(
        !dead.status.success(),
        "{argv:?} succeeded on a closed port"
    );
}
