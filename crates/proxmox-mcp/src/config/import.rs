//! Reads the JSON configuration of the Python servers ProxmoxMCP and ProxmoxMCP-Plus given to
//! `--config`, so users can move over without rewriting it:
//!
//! | JSON | here |
//! |---|---|
//! | `proxmox.host`, `proxmox.port`, `proxmox.verify_ssl` | `[cluster] host`, `port`, `verify_ssl` |
//! | `auth.user`, `auth.token_name`, `auth.token_value` (`auth.password`) | `[cluster]` the same names |
//! | `logging.level` (`DEBUG`, `INFO`, `WARNING`, `ERROR`, `CRITICAL`) | `[server] log_level` |
//!
//! `proxmox.service` must be `PVE` (the only service spoken here). Every other field (such as
//! `logging.format`, `logging.file`, ProxmoxMCP-Plus's `mcp` section) has no equivalent: it is
//! listed in a note logged at start, never an error. A field mapped above with a value of the
//! wrong type is an error naming the field. Notes name fields, never values.

use std::path::Path;

use serde_json::Value;

use super::{ConfigError, FileConfig};

/// Whether `text` read from `path` is JSON: a `.json` file, or text starting with `{` (TOML
/// cannot).
pub(super) fn is_json(path: &Path, text: &str) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
        || text.trim_start().starts_with('{')
}

/// The configuration a ProxmoxMCP JSON file describes; `notes` says which fields were ignored.
pub(super) fn parse(text: &str, path: &Path) -> Result<FileConfig, ConfigError> {
    let bad = |message: String| ConfigError::Parse {
        path: path.to_path_buf(),
        message,
    };
    let root: Value =
        serde_json::from_str(text).map_err(|e| bad(format!("not valid JSON: {e}")))?;
    let Value::Object(root) = root else {
        return Err(bad("a ProxmoxMCP configuration is a JSON object".into()));
    };
    let mut file = FileConfig::default();
    let mut ignored = Vec::new();
    for (section, value) in &root {
        let known = matches!(section.as_str(), "proxmox" | "auth" | "logging");
        let fields = match value {
            Value::Object(m) if known => m,
            _ if known => return Err(bad(format!("{section} must be an object"))),
            _ => {
                ignored.push(section.clone());
                continue;
            }
        };
        for (name, v) in fields {
            let key = format!("{section}.{name}");
            let c = &mut file.cluster;
            match key.as_str() {
                "proxmox.host" => c.host = Some(string(&key, v).map_err(bad)?),
                "proxmox.port" => c.port = Some(port(&key, v).map_err(bad)?),
                "proxmox.verify_ssl" => c.verify_ssl = Some(boolean(&key, v).map_err(bad)?),
                "proxmox.service" => {
                    let s = string(&key, v).map_err(bad)?;
                    if !s.eq_ignore_ascii_case("pve") {
                        return Err(bad(format!(
                            "{key} {s:?}: proxmox-mcp speaks to Proxmox VE only (PVE)"
                        )));
                    }
                }
                "auth.user" => c.user = Some(string(&key, v).map_err(bad)?),
                "auth.token_name" => c.token_name = Some(string(&key, v).map_err(bad)?),
                "auth.token_value" => c.token_value = Some(string(&key, v).map_err(bad)?),
                "auth.password" => c.password = Some(string(&key, v).map_err(bad)?),
                "logging.level" => {
                    file.server.log_level = Some(level(&key, v).map_err(bad)?.to_string());
                }
                _ => ignored.push(key),
            }
        }
    }
    ignored.sort();
    file.notes.push(format!(
        "{}: read as a ProxmoxMCP JSON configuration{}",
        path.display(),
        if ignored.is_empty() {
            String::new()
        } else {
            format!("; ignored (no equivalent here): {}", ignored.join(", "))
        }
    ));
    Ok(file)
}

fn string(key: &str, v: &Value) -> Result<String, String> {
    match v {
        Value::String(s) if !s.trim().is_empty() => Ok(s.trim().to_string()),
        Value::String(_) => Err(format!("{key} is empty")),
        _ => Err(format!("{key} must be a string")),
    }
}

fn port(key: &str, v: &Value) -> Result<u16, String> {
    let n = match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    };
    n.and_then(|n| u16::try_from(n).ok())
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("{key} must be a port number (1 to 65535)"))
}

fn boolean(key: &str, v: &Value) -> Result<bool, String> {
    match v {
        Value::Bool(b) => Ok(*b),
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" => Ok(true),
            "false" | "0" | "no" => Ok(false),
            _ => Err(format!("{key} must be true or false")),
        },
        _ => Err(format!("{key} must be true or false")),
    }
}

/// Python's logging level names as a log filter.
fn level(key: &str, v: &Value) -> Result<&'static str, String> {
    let s = match v {
        Value::String(s) => s.trim().to_ascii_uppercase(),
        _ => String::new(),
    };
    match s.as_str() {
        "DEBUG" => Ok("debug"),
        "INFO" => Ok("info"),
        "WARNING" | "WARN" => Ok("warn"),
        "ERROR" | "CRITICAL" | "FATAL" => Ok("error"),
        _ => Err(format!(
            "{key} must be DEBUG, INFO, WARNING, ERROR or CRITICAL"
        )),
    }
}
