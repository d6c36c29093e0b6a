//! Unit tests for reading the configuration from an environment map.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use super::*;
use crate::error::ErrorKind;

const FP: &str = "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89";

fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn ok(pairs: &[(&str, &str)]) -> ClientConfig {
    ClientConfig::from_env_map(&env(pairs)).unwrap()
}

fn err(pairs: &[(&str, &str)]) -> String {
    let e = ClientConfig::from_env_map(&env(pairs)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Config);
    e.to_string()
}

const TOKEN: [(&str, &str); 3] = [
    ("PROXMOX_USER", "root@pam"),
    ("PROXMOX_TOKEN_NAME", "mcp"),
    (
        "PROXMOX_TOKEN_VALUE",
        "11111111-2222-3333-4444-555555555555",
    ),
];

fn with_token(extra: &[(&'static str, &'static str)]) -> Vec<(&'static str, &'static str)> {
    let mut v = TOKEN.to_vec();
    v.extend_from_slice(extra);
    v
}

#[test]
fn token_config_with_defaults() {
    let c = ok(&with_token(&[("PROXMOX_HOST", "pve.example.com")]));
    assert_eq!(c.host, "pve.example.com");
    assert_eq!(c.port, 8006);
    assert_eq!(c.user, "root@pam");
    assert_eq!(
        c.credentials,
        Credentials::Token {
            name: "mcp".into(),
            value: Secret::new("11111111-2222-3333-4444-555555555555")
        }
    );
    assert_eq!(c.tls, TlsMode::System);
    assert_eq!(c.base_url(), "https://pve.example.com:8006/api2/json");
    // Secrets never show in Debug.
    assert!(!format!("{c:?}").contains("5555"));
}

#[test]
fn host_forms() {
    let check = |host: &str, port: Option<&str>, url: &str| {
        let mut pairs = with_token(&[]);
        pairs.push(("PROXMOX_HOST", host));
        if let Some(p) = port {
            pairs.push(("PROXMOX_PORT", p));
        }
        assert_eq!(ok(&pairs).base_url(), url, "{host} {port:?}");
    };
    check("10.0.0.5", None, "https://10.0.0.5:8006/api2/json");
    check("10.0.0.5:8443", None, "https://10.0.0.5:8443/api2/json");
    check("10.0.0.5", Some("443"), "https://10.0.0.5:443/api2/json");
    check("https://pve:8006/", None, "https://pve:8006/api2/json");
    check(
        "http://127.0.0.1:9000",
        None,
        "http://127.0.0.1:9000/api2/json",
    );
    check("[::1]:8007", None, "https://[::1]:8007/api2/json");
    check("fe80::1", None, "https://[fe80::1]:8006/api2/json");
}

#[test]
fn token_name_forms() {
    let c = ok(&[
        ("PROXMOX_HOST", "h"),
        ("PROXMOX_USER", "ci@pve"),
        ("PROXMOX_TOKEN_NAME", "ci@pve!bot"),
        ("PROXMOX_TOKEN_VALUE", "s"),
    ]);
    assert!(matches!(c.credentials, Credentials::Token { ref name, .. } if name == "bot"));
    let c = ok(&[
        ("PROXMOX_HOST", "h"),
        ("PROXMOX_USER", "ci@pve!bot"),
        ("PROXMOX_TOKEN_VALUE", "s"),
    ]);
    assert_eq!(c.user, "ci@pve");
    assert!(matches!(c.credentials, Credentials::Token { ref name, .. } if name == "bot"));
}

#[test]
fn password_and_file_secrets() {
    let c = ok(&[
        ("PROXMOX_HOST", "h"),
        ("PROXMOX_USER", "root@pam"),
        ("PROXMOX_PASSWORD", "pw"),
    ]);
    assert_eq!(c.credentials, Credentials::Password(Secret::new("pw")));

    let dir = std::env::temp_dir().join(format!("pve-client-cfg-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("token");
    std::fs::write(&file, "from-file\n").unwrap();
    let path = file.to_str().unwrap();
    let c = ok(&[
        ("PROXMOX_HOST", "h"),
        ("PROXMOX_USER", "root@pam"),
        ("PROXMOX_TOKEN_NAME", "t"),
        ("PROXMOX_TOKEN_VALUE_FILE", path),
    ]);
    assert!(
        matches!(c.credentials, Credentials::Token { ref value, .. } if value.expose() == "from-file")
    );
    let c = ok(&[
        ("PROXMOX_HOST", "h"),
        ("PROXMOX_USER", "root@pam"),
        ("PROXMOX_PASSWORD_FILE", path),
    ]);
    assert_eq!(
        c.credentials,
        Credentials::Password(Secret::new("from-file"))
    );
    let e = err(&[
        ("PROXMOX_HOST", "h"),
        ("PROXMOX_USER", "root@pam"),
        ("PROXMOX_PASSWORD", "x"),
        ("PROXMOX_PASSWORD_FILE", path),
    ]);
    assert!(
        e.contains("both PROXMOX_PASSWORD and PROXMOX_PASSWORD_FILE"),
        "{e}"
    );
    let e = err(&[
        ("PROXMOX_HOST", "h"),
        ("PROXMOX_USER", "root@pam"),
        ("PROXMOX_PASSWORD_FILE", "/nonexistent/pw"),
    ]);
    assert!(e.contains("cannot read PROXMOX_PASSWORD_FILE"), "{e}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn tls_modes_and_precedence() {
    let tls = |extra: &[(&'static str, &'static str)]| {
        let mut p = with_token(&[("PROXMOX_HOST", "h")]);
        p.extend_from_slice(extra);
        ok(&p).tls
    };
    assert_eq!(tls(&[("PROXMOX_VERIFY_SSL", "false")]), TlsMode::Insecure);
    assert_eq!(tls(&[("PROXMOX_VERIFY_SSL", "0")]), TlsMode::Insecure);
    assert_eq!(tls(&[("PROXMOX_VERIFY_SSL", "true")]), TlsMode::System);
    assert_eq!(
        tls(&[
            ("PROXMOX_CA_FILE", "/etc/pve/pve-root-ca.pem"),
            ("PROXMOX_VERIFY_SSL", "false")
        ]),
        TlsMode::CaFile(PathBuf::from("/etc/pve/pve-root-ca.pem"))
    );
    let TlsMode::Fingerprint(fp) = tls(&[("PROXMOX_FINGERPRINT", FP), ("PROXMOX_CA_FILE", "/x")])
    else {
        panic!("fingerprint expected")
    };
    assert_eq!(format_fingerprint(&fp), FP);
    assert_eq!(
        parse_fingerprint(&FP.replace(':', "").to_lowercase()).unwrap(),
        fp
    );
}

#[test]
fn errors_name_the_variable() {
    let check = |pairs: &[(&str, &str)], needle: &str| {
        let e = err(pairs);
        assert!(e.contains(needle), "{e:?} should mention {needle}");
    };
    check(&TOKEN, "PROXMOX_HOST is not set");
    check(&[("PROXMOX_HOST", "h")], "PROXMOX_USER is not set");
    check(
        &[("PROXMOX_HOST", "h"), ("PROXMOX_USER", "root")],
        "USER@REALM",
    );
    check(
        &[("PROXMOX_HOST", "h"), ("PROXMOX_USER", "root@pam")],
        "no credentials",
    );
    check(
        &[
            ("PROXMOX_HOST", "h"),
            ("PROXMOX_USER", "root@pam"),
            ("PROXMOX_TOKEN_NAME", "t"),
        ],
        "PROXMOX_TOKEN_VALUE",
    );
    check(
        &with_token(&[("PROXMOX_HOST", "h"), ("PROXMOX_PORT", "99999")]),
        "PROXMOX_PORT",
    );
    check(
        &with_token(&[("PROXMOX_HOST", "h"), ("PROXMOX_FINGERPRINT", "AB:CD")]),
        "PROXMOX_FINGERPRINT",
    );
    check(
        &with_token(&[("PROXMOX_HOST", "h"), ("PROXMOX_VERIFY_SSL", "maybe")]),
        "PROXMOX_VERIFY_SSL",
    );
    check(
        &with_token(&[("PROXMOX_HOST", "h"), ("PROXMOX_TIMEOUT", "-3")]),
        "PROXMOX_TIMEOUT",
    );
}

#[test]
fn timeouts() {
    let c = ok(&with_token(&[
        ("PROXMOX_HOST", "h"),
        ("PROXMOX_TIMEOUT", "300"),
        ("PROXMOX_CONNECT_TIMEOUT", "2.5"),
    ]));
    assert_eq!(c.request_timeout, Duration::from_secs(300));
    assert_eq!(c.connect_timeout, Duration::from_millis(2500));
}

#[test]
fn blank_secrets_are_unset() {
    // Found by fuzz/client_env: a passphrase of white space read as an empty passphrase, so
    // the configuration written back as variables read differently.
    let e = err(&[
        ("PROXMOX_HOST", "h"),
        ("PROXMOX_USER", "root@pam"),
        ("PROXMOX_PASSWORD", "  \t"),
    ]);
    assert!(e.contains("no credentials"), "{e}");
    let ssh = crate::ssh::SshConfig::from_env_map(&env(&[
        ("PROXMOX_SSH_KEY_FILE", "/k"),
        ("PROXMOX_SSH_KEY_PASSPHRASE", " "),
    ]))
    .unwrap()
    .unwrap();
    assert_eq!(ssh.key_passphrase, None);
}

#[test]
fn timeouts_a_duration_cannot_hold_are_refused() {
    // Found by fuzz/client_env: `1e30` seconds passed the check and panicked in
    // `Duration::from_secs_f64`; `1e-300` became a zero timeout.
    let e = err(&with_token(&[
        ("PROXMOX_HOST", "h"),
        ("PROXMOX_TIMEOUT", "1e30"),
    ]));
    assert!(e.contains("PROXMOX_TIMEOUT"), "{e}");
    let e = crate::ssh::SshConfig::from_env_map(&env(&[
        ("PROXMOX_SSH_KEY_FILE", "/k"),
        ("PROXMOX_SSH_CONNECT_TIMEOUT", "1e30"),
    ]))
    .unwrap_err();
    assert!(e.to_string().contains("PROXMOX_SSH_CONNECT_TIMEOUT"), "{e}");
    // And `1e-300` seconds is positive but no time at all.
    let e = err(&with_token(&[
        ("PROXMOX_HOST", "h"),
        ("PROXMOX_CONNECT_TIMEOUT", "1e-300"),
    ]));
    assert!(e.contains("PROXMOX_CONNECT_TIMEOUT"), "{e}");
    let c = ok(&with_token(&[
        ("PROXMOX_HOST", "h"),
        ("PROXMOX_TIMEOUT", "1e9"),
    ]));
    assert_eq!(c.request_timeout, Duration::from_secs(1_000_000_000));
}
