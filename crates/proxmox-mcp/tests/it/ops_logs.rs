//! Logs of the real binary: one line per tool call (tool, transport, key name, ms, outcome),
//! JSON with `--log-format json`, text by default; never a secret, even at debug level; the
//! import of a ProxmoxMCP JSON file says at start what it ignored.

use serde_json::{Value, json};
use sha2::Digest;

use crate::support::process::{Bin, SIM_TOKEN, sim, sim_env};

const OPERATE_KEY: &str = "pmk-operate-0b6e2d41c9f7a3";
const ADMIN_KEY: &str = "pmk-admin-88d1f0e2a4b6c3";

#[tokio::test]
async fn json_logs_have_a_line_per_call_and_no_secret_at_debug_level() {
    crate::support::mcp::init_tls();
    let sim = sim().await;
    let dir = std::env::temp_dir().join(format!("pmcp-ops-logs-{}", rand::random::<u64>()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("c.toml");
    let digest = hex::encode(sha2::Sha256::digest(OPERATE_KEY.as_bytes()));
    std::fs::write(
        &config,
        format!("[[keys]]\nname = \"n8n\"\nscope = \"operate\"\nsha256 = \"{digest}\"\n"),
    )
    .unwrap();
    // The PVE token secret from a file, the admin key from the environment.
    let token_file = dir.join("token");
    std::fs::write(&token_file, format!("{}\n", SIM_TOKEN.2)).unwrap();
    let mut env: Vec<(String, String)> = sim_env(&sim)
        .into_iter()
        .filter(|(k, _)| k != "PROXMOX_TOKEN_VALUE")
        .collect();
    env.extend([
        (
            "PROXMOX_TOKEN_VALUE_FILE".into(),
            token_file.display().to_string(),
        ),
        ("PROXMOX_MCP_API_KEY".into(), ADMIN_KEY.into()),
        ("RUST_LOG".into(), "debug".into()),
    ]);
    let mut bin = Bin::start(
        &[
            "serve",
            "--log-format",
            "json",
            "--config",
            config.to_str().unwrap(),
            "--mcp-listen",
            "127.0.0.1:0",
            "--rest-listen",
            "127.0.0.1:0",
        ],
        &env,
    );
    let rest = bin.port("REST");
    let http = reqwest::Client::new();
    let call = |tool: &str, key: &str, args: Value| {
        http.post(format!("http://127.0.0.1:{rest}/{tool}"))
            .bearer_auth(key)
            .json(&args)
            .send()
    };
    assert_eq!(
        call("get_vms", OPERATE_KEY, json!({}))
            .await
            .unwrap()
            .status(),
        200
    );
    let failed = call("get_node_status", ADMIN_KEY, json!({"node": "nowhere"}))
        .await
        .unwrap();
    assert!(!failed.status().is_success());
    assert_eq!(
        call("get_vms", "wrong-key", json!({}))
            .await
            .unwrap()
            .status(),
        401
    );
    bin.terminate();
    assert_eq!(bin.wait_exit().code(), Some(0), "{}", bin.seen.join("\n"));
    std::fs::remove_dir_all(&dir).unwrap();

    let log = bin.seen.join("\n");
    for secret in [SIM_TOKEN.2, OPERATE_KEY, ADMIN_KEY] {
        assert!(!log.contains(secret), "a secret reached the log:\n{log}");
    }
    // Every tracing line is JSON (the start banner lines are plain eprintln).
    let events: Vec<Value> = bin
        .seen
        .iter()
        .filter(|l| !l.contains(" listening on "))
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert!(events.iter().any(|e| e["level"] == "DEBUG"), "{log}");
    let calls: Vec<&Value> = events
        .iter()
        .map(|e| &e["fields"])
        .filter(|f| f["tool"].is_string() && f["outcome"].is_string())
        .collect();
    assert_eq!(calls.len(), 2, "one line per call: {calls:#?}");
    let ok = calls[0];
    assert_eq!(
        (&ok["tool"], &ok["transport"], &ok["key"], &ok["outcome"]),
        (
            &json!("get_vms"),
            &json!("rest"),
            &json!("n8n"),
            &json!("ok")
        ),
        "{ok}"
    );
    assert!(ok["ms"].is_u64(), "{ok}");
    let bad = calls[1];
    assert_eq!(
        (&bad["tool"], &bad["key"], &bad["outcome"]),
        (&json!("get_node_status"), &json!("default"), &json!("pve")),
        "{bad}"
    );
    assert!(
        bad["error"].as_str().is_some_and(|e| e.contains("nowhere")),
        "{bad}"
    );
}

#[tokio::test]
async fn text_logs_by_default_and_a_json_import_says_what_it_ignored() {
    crate::support::mcp::init_tls();
    let sim = sim().await;
    let dir = std::env::temp_dir().join(format!("pmcp-ops-logs-{}", rand::random::<u64>()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("config.json");
    let (user, name, value) = SIM_TOKEN;
    let port = sim.addr().port();
    std::fs::write(
        &config,
        format!(
            r#"{{"proxmox": {{"host": "127.0.0.1", "port": {port}, "verify_ssl": true, "service": "PVE"}},
               "auth": {{"user": "{user}", "token_name": "{name}", "token_value": "{value}"}},
               "logging": {{"level": "DEBUG", "format": "%(message)s"}},
               "mcp": {{"host": "0.0.0.0", "port": 8000}}}}"#
        ),
    )
    .unwrap();
    // The JSON file has no fingerprint: the environment adds it (and wins over verify_ssl).
    let env = vec![(
        "PROXMOX_FINGERPRINT".to_string(),
        sim.fingerprint().to_string(),
    )];
    let mut bin = Bin::start(
        &[
            "serve",
            "--config",
            config.to_str().unwrap(),
            "--mcp-listen",
            "127.0.0.1:0",
            "--rest-listen",
            "127.0.0.1:0",
        ],
        &env,
    );
    let rest = bin.port("REST");
    let resp = reqwest::Client::new()
        .post(format!("http://127.0.0.1:{rest}/get_vms"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    bin.terminate();
    assert_eq!(bin.wait_exit().code(), Some(0), "{}", bin.seen.join("\n"));
    std::fs::remove_dir_all(&dir).unwrap();
    let log = bin.seen.join("\n");
    assert!(
        log.contains("read as a ProxmoxMCP JSON configuration; ignored (no equivalent here): logging.format, mcp"),
        "{log}"
    );
    assert!(!log.contains(value), "the token reached the log:\n{log}");
    // Text lines; the file's DEBUG level applies (RUST_LOG is unset).
    assert!(!log.lines().any(|l| l.starts_with('{')), "{log}");
    let call = log
        .lines()
        .find(|l| l.contains("tool call ok"))
        .unwrap_or_else(|| panic!("{log}"));
    for field in [
        "tool=\"get_vms\"",
        "transport=\"rest\"",
        "key=\"-\"",
        "outcome=\"ok\"",
        "ms=",
    ] {
        assert!(call.contains(field), "{field} missing: {call}");
    }
    assert!(log.contains(" DEBUG "), "{log}");
}
