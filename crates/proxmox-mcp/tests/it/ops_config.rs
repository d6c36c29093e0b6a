//! Configuration: precedence (flags > environment > file > defaults) setting by setting, the
//! import of ProxmoxMCP / ProxmoxMCP-Plus JSON files, and a guide that names every variable and
//! flag. Error messages are in `ops_config_errors`.

use crate::support::process::{CLUSTER, TempFile, env, temp_file};
use proxmox_mcp::LogFormat;
use proxmox_mcp::{ClusterChoice, Overrides, Settings};
use pve_client::{Credentials, TlsMode};

/// Resolves `flags` over `file_text` (a TOML file, when not empty) and `vars`.
fn resolve(
    flags: Overrides,
    file_text: &str,
    vars: &[(&str, &str)],
) -> (Result<Settings, String>, Option<TempFile>) {
    let file = (!file_text.is_empty()).then(|| temp_file("c.toml", file_text));
    let flags = Overrides {
        config: file.as_ref().map(|f| f.path.clone()),
        ..flags
    };
    (
        Settings::resolve(&flags, &env(vars)).map_err(|e| e.to_string()),
        file,
    )
}

fn host(s: &Settings) -> String {
    match s.cluster() {
        ClusterChoice::Remote(c) => c.host.clone(),
        ClusterChoice::Demo => "demo".into(),
    }
}

#[test]
fn precedence_is_flags_then_env_then_file_then_defaults_for_each_setting() {
    // (what, flag, env var and value, file text, reads the setting)
    type Read = fn(&Settings) -> String;
    struct Case {
        what: &'static str,
        flag: fn(&mut Overrides),
        var: (&'static str, &'static str),
        file: &'static str,
        read: Read,
        want: [&'static str; 4], // defaults, file, env, flag
    }
    let cases = [
        Case {
            what: "MCP listen address",
            flag: |o| o.mcp_listen = Some("127.0.0.1:3".into()),
            var: ("PROXMOX_MCP_LISTEN", "127.0.0.1:2"),
            file: "[server]\nmcp_listen = \"127.0.0.1:1\"\n",
            read: |s| s.mcp_listen.to_string(),
            want: [
                "127.0.0.1:8812",
                "127.0.0.1:1",
                "127.0.0.1:2",
                "127.0.0.1:3",
            ],
        },
        Case {
            what: "REST listen address",
            flag: |o| o.rest_listen = Some("off".into()),
            var: ("PROXMOX_MCP_REST_LISTEN", "127.0.0.1:2"),
            file: "[rest]\nlisten = \"127.0.0.1:1\"\n",
            read: |s| format!("{:?}", s.rest_listen),
            want: [
                "Some(127.0.0.1:8811)",
                "Some(127.0.0.1:1)",
                "Some(127.0.0.1:2)",
                "None",
            ],
        },
        Case {
            what: "metrics_auth",
            flag: |o| o.metrics_auth = true,
            var: ("PROXMOX_MCP_METRICS_AUTH", "false"),
            file: "[server]\nmetrics_auth = true\n",
            read: |s| s.metrics_auth.to_string(),
            want: ["false", "true", "false", "true"],
        },
        Case {
            what: "read-only",
            flag: |o| o.security.read_only = true,
            var: ("PROXMOX_MCP_READ_ONLY", "false"),
            file: "[tools]\nread_only = true\n",
            read: |s| s.security.filter.read_only.to_string(),
            want: ["false", "true", "false", "true"],
        },
        Case {
            what: "allowed hosts",
            flag: |o| o.allowed_hosts = vec!["flag.lan".into()],
            var: ("PROXMOX_MCP_ALLOWED_HOSTS", "env.lan"),
            file: "[server]\nallowed_hosts = [\"file.lan\"]\n",
            read: |s| s.allowed_hosts.join(","),
            want: ["", "file.lan", "env.lan", "flag.lan"],
        },
        Case {
            what: "audit log",
            flag: |o| o.audit_log = Some("/flag.log".into()),
            var: ("PROXMOX_MCP_AUDIT_LOG", "/env.log"),
            file: "[guard]\naudit_log = \"/file.log\"\n",
            read: |s| format!("{:?}", s.guard.audit_log),
            want: [
                "None",
                "Some(\"/file.log\")",
                "Some(\"/env.log\")",
                "Some(\"/flag.log\")",
            ],
        },
        Case {
            what: "cluster host (no flag: --demo replaces the cluster)",
            flag: |o| o.demo = true,
            var: ("PROXMOX_HOST", "env-host"),
            file: "",
            read: host,
            want: ["file-host", "file-host", "env-host", "demo"],
        },
    ];
    // metrics_auth needs a key to check: every level has one.
    let key = ("PROXMOX_MCP_API_KEY", "k-0123456789abcdef");
    for c in &cases {
        let with_file = format!("{CLUSTER}{}", c.file);
        let mut flags = Overrides::default();
        (c.flag)(&mut flags);
        type Level<'a> = (&'a str, Overrides, &'a str, Vec<(&'a str, &'a str)>);
        let levels: [Level; 4] = [
            ("defaults", Overrides::default(), CLUSTER, vec![key]),
            ("file", Overrides::default(), &with_file, vec![key]),
            ("env", Overrides::default(), &with_file, vec![key, c.var]),
            ("flag", flags, &with_file, vec![key, c.var]),
        ];
        for ((level, o, text, vars), want) in levels.into_iter().zip(c.want) {
            let (s, _file) = resolve(o, text, &vars);
            let s = s.unwrap_or_else(|e| panic!("{}: {level}: {e}", c.what));
            assert_eq!((c.read)(&s), want, "{}: {level}", c.what);
        }
    }
    // Log format and level come from the file (flag and variable are read by the command line).
    let (s, _f) = resolve(
        Overrides::default(),
        &format!(
            "{CLUSTER}[server]\nlog_format = \"json\"\nlog_level = \"proxmox_mcp=debug,warn\"\n"
        ),
        &[],
    );
    let s = s.unwrap();
    assert_eq!(s.log_format, Some(LogFormat::Json));
    assert_eq!(s.log_level.as_deref(), Some("proxmox_mcp=debug,warn"));
}

/// A ProxmoxMCP-Plus configuration, as its README shows it.
const PLUS_JSON: &str = r#"{
    "proxmox": {"host": "pve.lan", "port": 8006, "verify_ssl": false, "service": "PVE"},
    "auth": {"user": "mcp@pve", "token_name": "mcp", "token_value": "json-secret-7f3e"},
    "logging": {"level": "DEBUG", "format": "%(asctime)s - %(message)s", "file": "proxmox_mcp.log"},
    "mcp": {"host": "0.0.0.0", "port": 8000, "transport": "STREAMABLE"}
}"#;

#[test]
fn proxmoxmcp_json_configurations_are_imported_and_say_what_they_ignore() {
    let f = temp_file("config.json", PLUS_JSON);
    let flags = Overrides {
        config: Some(f.path.clone()),
        ..Overrides::default()
    };
    let s = Settings::resolve(&flags, &env(&[])).unwrap();
    let ClusterChoice::Remote(c) = s.cluster() else {
        panic!("demo")
    };
    assert_eq!(
        (c.host.as_str(), c.port, c.user.as_str()),
        ("pve.lan", 8006, "mcp@pve")
    );
    match &c.credentials {
        Credentials::Token { name, value } => {
            assert_eq!(name, "mcp");
            assert_eq!(value.expose(), "json-secret-7f3e");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(c.tls, TlsMode::Insecure);
    assert_eq!(s.log_level.as_deref(), Some("debug"));
    let notes = s.notes.join("\n");
    assert!(
        notes.contains("read as a ProxmoxMCP JSON configuration")
            && notes.contains("ignored (no equivalent here): logging.file, logging.format, mcp"),
        "{notes}"
    );
    assert!(!notes.contains("json-secret"), "{notes}");
    // The environment still wins over the file, and flags over both.
    let s = Settings::resolve(
        &flags,
        &env(&[("PROXMOX_HOST", "env-host"), ("PROXMOX_VERIFY_SSL", "true")]),
    )
    .unwrap();
    let ClusterChoice::Remote(c) = s.cluster() else {
        panic!("demo")
    };
    assert_eq!((c.host.as_str(), &c.tls), ("env-host", &TlsMode::System));
    // The plain ProxmoxMCP shape (no `mcp`, a string port, a `.conf` name): JSON by its first
    // character; nothing ignored but the logging extras.
    let f = temp_file(
        "proxmox.conf",
        r#" {"proxmox": {"host": "10.0.0.5", "port": "8007"}, "auth": {"user": "root@pam", "token_name": "t", "token_value": "v"}, "logging": {"level": "warning"}}"#,
    );
    let s = Settings::resolve(
        &Overrides {
            config: Some(f.path.clone()),
            ..Overrides::default()
        },
        &env(&[]),
    )
    .unwrap();
    let ClusterChoice::Remote(c) = s.cluster() else {
        panic!("demo")
    };
    assert_eq!((c.host.as_str(), c.port), ("10.0.0.5", 8007));
    assert_eq!(s.log_level.as_deref(), Some("warn"));
    assert!(!s.notes.join("").contains("ignored"), "{:?}", s.notes);
}

#[test]
fn the_configuration_guide_names_every_variable_and_flag() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let doc = std::fs::read_to_string(root.join("docs/configuration.md")).unwrap();
    let mut missing = Vec::new();
    // Every PROXMOX_* variable the server or the client reads.
    let re = regex::Regex::new(r"PROXMOX_[A-Z_]*[A-Z]").unwrap();
    let mut files = vec![root.join("crates/pve-client/src/config.rs")];
    rust_files(&root.join("crates/proxmox-mcp/src"), &mut files);
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for m in re.find_iter(&text) {
            let name = m.as_str();
            let placeholder = name == "PROXMOX_NAME";
            if !placeholder && !doc.contains(name) && !missing.contains(&name.to_string()) {
                missing.push(name.to_string());
            }
        }
    }
    // Every flag of `serve` and `stdio`.
    let flag = regex::Regex::new(r"--[a-z][a-z-]+").unwrap();
    for cmd in ["serve", "stdio"] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_proxmox-mcp"))
            .args([cmd, "--help"])
            .output()
            .unwrap();
        let help = String::from_utf8(out.stdout).unwrap();
        for m in flag.find_iter(&help) {
            let name = m.as_str();
            if !["--help", "--version"].contains(&name)
                && !doc.contains(name)
                && !missing.contains(&name.to_string())
            {
                missing.push(name.to_string());
            }
        }
    }
    assert!(
        missing.is_empty(),
        "docs/configuration.md does not mention {missing:?}"
    );
}

/// Every `.rs` file below `dir`.
fn rust_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}
