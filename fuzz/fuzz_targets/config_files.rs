//! The configuration file as the server reads it at start: TOML, or the ProxmoxMCP JSON file it
//! imports (chosen as the server chooses, by extension and content), merged with flags and an
//! environment into settings by `Settings::resolve`. Literal inputs are a file's text (a first
//! line of `{` makes it JSON); generated ones build a file from the keys the sections take.
//! Properties: no panic; a file that does not parse is an error naming the file; TOML text that
//! `FileConfig::parse` refuses is refused by `resolve` too.

#![no_main]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;
use proxmox_mcp::{FileConfig, Overrides, Settings};
use proxmox_mcp_fuzz::{Input, input};

fn dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir =
            std::env::temp_dir().join(format!("proxmox-mcp-fuzz-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a temporary directory");
        dir
    })
}

const SECTIONS: &[&str] = &[
    "[server]",
    "[cluster]",
    "[[clusters]]",
    "[security]",
    "[security.limits]",
    "[guard]",
    "[guard.exec]",
    "[audit]",
    "[rest]",
    "[tls]",
    "[keys]",
    "[[keys]]",
    "[mcpServers.proxmox]",
];
const KEYS: &[&str] = &[
    "host",
    "port",
    "user",
    "token_name",
    "token_value",
    "token_value_file",
    "verify_ssl",
    "name",
    "listen",
    "rest_listen",
    "read_only",
    "toolsets",
    "tools",
    "exclude_tools",
    "protected_vmids",
    "max_sessions",
    "rate_per_minute",
    "scope",
    "digest",
    "log_level",
    "default",
    "file",
    "key_file",
    "timeout",
    "fingerprint",
    "allow",
    "deny",
    "command",
    "env",
    "PROXMOX_HOST",
    "PROXMOX_PORT",
    "PROXMOX_USER",
    "PROXMOX_TOKEN_VALUE",
];
const VALUES: &[&str] = &[
    "\"pve1\"",
    "8006",
    "0",
    "-1",
    "99999999999999999999",
    "true",
    "\"true\"",
    "[]",
    "[\"core\"]",
    "\"127.0.0.1:8812\"",
    "\"off\"",
    "{}",
    "\"\"",
    "1.5",
    "\"root@pam\"",
    "\"/nonexistent\"",
    "[100, 101]",
    "\"read\"",
    "\"admin\"",
    "nan",
    "inf",
];

fuzz_target!(|data: &[u8]| {
    let text = match input(data) {
        Input::Literal(bytes) => String::from_utf8_lossy(bytes).into_owned(),
        Input::Generated(mut u) => match generated(&mut u) {
            Ok(text) => text,
            Err(_) => return,
        },
    };
    let json = text.trim_start().starts_with('{');
    let path = dir().join(if json { "config.json" } else { "config.toml" });
    std::fs::write(&path, &text).expect("write the file");
    let flags = Overrides {
        config: Some(path.clone()),
        ..Overrides::default()
    };
    let resolved = Settings::resolve(&flags, &HashMap::new());
    if let Err(e) = &resolved {
        let message = e.to_string();
        assert!(!message.is_empty());
    }
    if !json && FileConfig::parse(&text, &path).is_err() {
        let e = resolved.expect_err("a file FileConfig::parse refuses is refused at start");
        assert!(e.to_string().contains("config.toml"), "{e}");
    }
});

fn generated(u: &mut Unstructured<'_>) -> arbitrary::Result<String> {
    let mut text = String::new();
    for _ in 0..u.int_in_range(0..=6)? {
        text.push_str(u.choose(SECTIONS)?);
        text.push('\n');
        for _ in 0..u.int_in_range(0..=5)? {
            let key = *u.choose(KEYS)?;
            let value = if u.ratio(1, 6)? {
                format!("{:?}", String::arbitrary(u)?)
            } else {
                (*u.choose(VALUES)?).to_string()
            };
            text.push_str(&format!("{key} = {value}\n"));
        }
    }
    Ok(text)
}
