//! pve-client's configuration from `PROXMOX_*` and `PROXMOX_SSH_*` variables: host, ports,
//! timeouts, certificate fingerprints, SSH host-key pins (`pve1=SHA256:…`) and node addresses
//! (`pve2=[fd00::2]:2222`). Literal inputs are `NAME=VALUE` lines; generated ones assemble values
//! from node names, fingerprints, addresses, numbers and separators. Variables that name a
//! secret file (`*_FILE`) are left out: reading files is not the parser. Properties: no panic;
//! an SSH configuration written back as variables reads back the same; every fingerprint that
//! parses prints as text that parses to the same fingerprint.

#![no_main]

use std::collections::HashMap;
use std::time::Duration;

use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;
use proxmox_mcp_fuzz::{Input, input};
use pve_client::ClientConfig;
use pve_client::config::{format_fingerprint, parse_fingerprint};
use pve_client::ssh::{HostKeyFingerprint, SshConfig};

const VARS: &[&str] = &[
    "PROXMOX_SSH_KEY_FILE",
    "PROXMOX_SSH_KEY_PASSPHRASE",
    "PROXMOX_SSH_USER",
    "PROXMOX_SSH_PORT",
    "PROXMOX_SSH_KNOWN_HOSTS",
    "PROXMOX_SSH_FINGERPRINTS",
    "PROXMOX_SSH_ADDRESSES",
    "PROXMOX_SSH_CONNECT_TIMEOUT",
    "PROXMOX_SSH_MAX_CHANNELS",
    "PROXMOX_HOST",
    "PROXMOX_PORT",
    "PROXMOX_USER",
    "PROXMOX_TOKEN_NAME",
    "PROXMOX_TOKEN_VALUE",
    "PROXMOX_PASSWORD",
    "PROXMOX_VERIFY_SSL",
    "PROXMOX_FINGERPRINT",
    "PROXMOX_CA_FILE",
    "PROXMOX_TIMEOUT",
    "PROXMOX_CONNECT_TIMEOUT",
];
const NODES: &[&str] = &["pve1", "pve-2", "n", "PVE1", "node.lan", "pve1!x"];
const FINGERPRINTS: &[&str] = &[
    "SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s",
    "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
    "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuF",
    "sha256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s",
    "MD5:16:27:ac:a5:76:28:2d:36:63:1b:56:4d:eb:df:a6:48",
    "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89",
    "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789",
];
const ADDRESSES: &[&str] = &[
    "10.0.0.11",
    "[fd00::2]:2222",
    "pve1.lan:2222",
    "fd00::1",
    "[fd00::1]",
    "host:0",
    ":22",
    "[a:b]",
    "https://pve1:8006/",
    "http://[::1]:8006",
    "pve1%eth0",
];
const SEPARATORS: &[&str] = &[",", ";", " ", "\t", "\n", "=", "==", ", "];

/// A piece of a generated value.
#[derive(Debug, Arbitrary)]
enum Piece {
    Node(u8),
    Fingerprint(u8),
    Address(u8),
    Separator(u8),
    Number(u64),
    Seconds(f32),
    /// `1e{n}`: figures far beyond any sane setting.
    Power(i16),
    Text(String),
}

fn pick<'a>(list: &[&'a str], i: u8) -> &'a str {
    list[usize::from(i) % list.len()]
}

impl Piece {
    fn text(&self) -> String {
        match self {
            Piece::Node(i) => pick(NODES, *i).to_owned(),
            Piece::Fingerprint(i) => pick(FINGERPRINTS, *i).to_owned(),
            Piece::Address(i) => pick(ADDRESSES, *i).to_owned(),
            Piece::Separator(i) => pick(SEPARATORS, *i).to_owned(),
            Piece::Number(n) => n.to_string(),
            Piece::Seconds(s) => s.to_string(),
            Piece::Power(n) => format!("1e{n}"),
            Piece::Text(s) => s.clone(),
        }
    }
}

fn generated(u: &mut Unstructured<'_>) -> HashMap<String, String> {
    let mut env = HashMap::new();
    let vars: Vec<(u8, Vec<Piece>)> = Vec::arbitrary(u).unwrap_or_default();
    for (var, pieces) in vars {
        let value: String = pieces.iter().map(Piece::text).collect();
        env.insert(pick(VARS, var).to_owned(), value);
    }
    env
}

fn literal(text: &[u8]) -> HashMap<String, String> {
    String::from_utf8_lossy(text)
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

fuzz_target!(|data: &[u8]| {
    let mut env = match input(data) {
        Input::Literal(text) => literal(text),
        Input::Generated(mut u) => generated(&mut u),
    };
    // `*_FILE` secrets are read from disk; the paths of keys and CA files are not.
    env.retain(|k, _| {
        !k.ends_with("_FILE") || k == "PROXMOX_SSH_KEY_FILE" || k == "PROXMOX_CA_FILE"
    });
    for value in env.values() {
        check_fingerprints(value);
    }
    if let Ok(cfg) = ClientConfig::from_env_map(&env) {
        assert!(!cfg.host.is_empty());
        assert!(cfg.base_url().ends_with("/api2/json"));
    }
    if let Ok(Some(cfg)) = SshConfig::from_env_map(&env) {
        let again = match SshConfig::from_env_map(&written(&cfg)) {
            Ok(Some(again)) => again,
            other => panic!(
                "{cfg:?} written back reads as {other:?}\n{:?}",
                written(&cfg)
            ),
        };
        let close = |a: Duration, b: Duration| a.abs_diff(b) <= Duration::from_micros(1);
        assert!(
            close(cfg.connect_timeout, again.connect_timeout),
            "{cfg:?} vs {again:?}"
        );
        let same_timeout = SshConfig {
            connect_timeout: cfg.connect_timeout,
            ..again
        };
        assert_eq!(
            cfg, same_timeout,
            "an SSH configuration written back reads the same"
        );
    }
});

/// The variables that state `cfg`.
fn written(cfg: &SshConfig) -> HashMap<String, String> {
    let mut env = HashMap::new();
    let mut set = |k: &str, v: String| {
        env.insert(k.to_owned(), v);
    };
    set("PROXMOX_SSH_KEY_FILE", cfg.key_file.display().to_string());
    if let Some(p) = &cfg.key_passphrase {
        set("PROXMOX_SSH_KEY_PASSPHRASE", p.expose().to_owned());
    }
    set("PROXMOX_SSH_USER", cfg.user.clone());
    set("PROXMOX_SSH_PORT", cfg.port.to_string());
    if let Some(k) = &cfg.known_hosts {
        set("PROXMOX_SSH_KNOWN_HOSTS", k.display().to_string());
    }
    let pins: Vec<String> = cfg
        .pins
        .iter()
        .flat_map(|(node, fps)| fps.iter().map(move |fp| format!("{node}={fp}")))
        .collect();
    set("PROXMOX_SSH_FINGERPRINTS", pins.join(","));
    let addrs: Vec<String> = cfg
        .addresses
        .iter()
        .map(|(n, a)| format!("{n}={a}"))
        .collect();
    set("PROXMOX_SSH_ADDRESSES", addrs.join(","));
    set(
        "PROXMOX_SSH_CONNECT_TIMEOUT",
        cfg.connect_timeout.as_secs_f64().to_string(),
    );
    set(
        "PROXMOX_SSH_MAX_CHANNELS",
        cfg.max_channels_per_node.to_string(),
    );
    env
}

/// Every fingerprint in `value` prints as text that parses back to it.
fn check_fingerprints(value: &str) {
    for piece in value.split([',', ';', ' ', '\t', '\n', '=']).chain([value]) {
        if let Ok(fp) = piece.parse::<HostKeyFingerprint>() {
            let text = fp.to_string();
            assert!(text.starts_with("SHA256:") && text.len() == 50, "{text}");
            assert_eq!(
                text.parse::<HostKeyFingerprint>().ok(),
                Some(fp),
                "{piece:?}"
            );
        }
        if let Ok(bytes) = parse_fingerprint(piece) {
            let text = format_fingerprint(&bytes);
            assert_eq!(parse_fingerprint(&text).ok(), Some(bytes), "{piece:?}");
        }
    }
}
