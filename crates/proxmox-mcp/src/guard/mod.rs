//! The guard's data: what keeps an agent's mutating calls safe. Its `[guard]` configuration
//! section (protected guests, guest-exec policy, audit log path) and the compiled [`Guard`]
//! every call's `ToolCtx` carries.
//!
//! [`Protection`], the request hook that refuses any write that would change, stop or pause a
//! protected guest, is in `protect.rs`; the exec policy in `exec.rs` (with `shell.rs`, which
//! reads a command line as a shell would); the `proxmox_api` path policy in `api.rs`. The call flow that applies them (confirmation, dry
//! run, protection, audit) is the registry's (`registry/flow.rs`); the audit log is
//! `crate::audit`.

pub(crate) mod api;
pub(crate) mod exec;
mod protect;
mod shell;
mod target;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;
use serde_json::Value;

use crate::audit::{AuditKey, AuditLog, AuditSinks};
pub use api::ApiConfig;
pub(crate) use api::{ApiPolicy, RuleMethod};
pub use exec::ExecConfig;
pub(crate) use exec::ExecPolicy;
pub(crate) use protect::Protection;

/// A `[guard]` section that cannot be used, worded for the operator.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct GuardError(pub String);

/// Environment variable naming the audit log file (`--audit-log` wins, the file loses).
pub(crate) const AUDIT_LOG_ENV: &str = "PROXMOX_MCP_AUDIT_LOG";
/// Environment variable naming the audit key file (wins over `[audit] key_file`).
pub(crate) const AUDIT_KEY_FILE_ENV: &str = "PROXMOX_MCP_AUDIT_KEY_FILE";
/// Environment variable sending audit lines to stdout too (wins over `[audit] stdout`).
pub(crate) const AUDIT_STDOUT_ENV: &str = "PROXMOX_MCP_AUDIT_STDOUT";
/// Environment variable naming the replica in audit lines (wins over `[audit] replica`).
pub(crate) const REPLICA_ENV: &str = "PROXMOX_MCP_REPLICA";

/// The `[guard]` section of the configuration file.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct GuardConfig {
    /// VMIDs no tool may change (reading is fine), on top of guests with PVE's `protection`
    /// flag.
    #[serde(default)]
    pub protected_vmids: Vec<u32>,
    /// Guest tags (PVE tags) that make a guest protected, compared without case.
    #[serde(default)]
    pub protected_tags: Vec<String>,
    /// JSON-lines audit log of every mutating and every refused call (`--audit-log`,
    /// `PROXMOX_MCP_AUDIT_LOG`).
    #[serde(default)]
    pub audit_log: Option<PathBuf>,
    /// `[guard.exec]`: the policy of commands in guests (`execute_vm_command`,
    /// `execute_container_command`).
    #[serde(default)]
    pub exec: ExecConfig,
    /// `[guard.api]`: the paths `proxmox_api` may call.
    #[serde(default)]
    pub api: ApiConfig,
    /// `[guard.node_commands]`: the commands `execute_node_command` may run on a node.
    #[serde(default)]
    pub node_commands: NodeCommandsConfig,
    /// Ask the human through the MCP client (elicitation) to confirm a destructive call that
    /// comes without `confirm: true`, when the client can ask (default: on). `false` keeps the
    /// plain refusal for every client.
    #[serde(default)]
    pub elicit: Option<bool>,
    /// The audit key file (`[audit] key_file`, `PROXMOX_MCP_AUDIT_KEY_FILE`): every audit line
    /// then carries its HMAC.
    #[serde(skip)]
    pub audit_key_file: Option<PathBuf>,
    /// Audit lines to stdout too (`[audit] stdout`, `PROXMOX_MCP_AUDIT_STDOUT`).
    #[serde(skip)]
    pub audit_stdout: bool,
    /// The replica name audit lines carry (`[audit] replica`, `PROXMOX_MCP_REPLICA`, or
    /// `HOSTNAME` with stdout).
    #[serde(skip)]
    pub audit_replica: Option<String>,
}

impl GuardConfig {
    /// This section with the audit log path of the command line or the environment applied
    /// (flag > environment > file), checked (patterns compile, bounds hold).
    pub fn resolved(
        mut self,
        flag_audit_log: Option<&Path>,
        env: &HashMap<String, String>,
    ) -> Result<Self, GuardError> {
        let env_path = env
            .get(AUDIT_LOG_ENV)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
            .map(PathBuf::from);
        if let Some(p) = flag_audit_log.map(Path::to_path_buf).or(env_path) {
            self.audit_log = Some(p);
        }
        if let Some(k) = env
            .get(AUDIT_KEY_FILE_ENV)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
        {
            self.audit_key_file = Some(PathBuf::from(k));
        }
        let var = |name: &str| {
            env.get(name)
                .map(|v| v.trim())
                .filter(|v| !v.is_empty())
                .map(str::to_string)
        };
        if let Some(v) = var(AUDIT_STDOUT_ENV) {
            self.audit_stdout = match v.to_ascii_lowercase().as_str() {
                "1" | "true" | "yes" | "on" => true,
                "0" | "false" | "no" | "off" => false,
                _ => {
                    return Err(GuardError(format!(
                        "{AUDIT_STDOUT_ENV}={v:?}: use true or false"
                    )));
                }
            };
        }
        if let Some(name) = var(REPLICA_ENV) {
            self.audit_replica = Some(name);
        }
        if self.audit_stdout && self.audit_replica.is_none() {
            self.audit_replica = var("HOSTNAME");
            if self.audit_replica.is_none() {
                return Err(GuardError(
                    "audit lines go to stdout but no replica name is known: set [audit] \
                     replica or PROXMOX_MCP_REPLICA (HOSTNAME is not set)"
                        .into(),
                ));
            }
        }
        if let Some(name) = &self.audit_replica {
            crate::audit::check_replica(name).map_err(GuardError)?;
        }
        if self.audit_key_file.is_some() && self.audit_sinks().is_empty() {
            return Err(GuardError(
                "[audit] key_file is set but no audit log is: set guard.audit_log (or \
                 --audit-log, PROXMOX_MCP_AUDIT_LOG) or [audit] stdout too"
                    .into(),
            ));
        }
        let exec = ExecPolicy::new(&self.exec)?;
        ExecPolicy::allow_only(&self.node_commands.allow, &exec)?;
        ApiPolicy::new(&self.api)?;
        Ok(self)
    }

    /// Where audit lines go.
    pub(crate) fn audit_sinks(&self) -> AuditSinks {
        AuditSinks {
            file: self.audit_log.clone(),
            stdout: self.audit_stdout,
            replica: self.audit_replica.clone(),
        }
    }
}

/// `[guard.node_commands]`: the node commands `execute_node_command` may run. An allow list
/// only (globs or `re:` patterns, as `guard.exec.allow`); empty, nothing runs.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct NodeCommandsConfig {
    /// Command lines that may run (`pveversion -v`, `zpool status`, `journalctl -u * -n *`).
    #[serde(default)]
    pub allow: Vec<String>,
}

/// The compiled guard: cheap to share (`Arc`) between all calls.
#[derive(Debug, Default)]
pub struct Guard {
    protected_vmids: HashSet<u32>,
    protected_tags: HashSet<String>,
    /// The policy of commands in guests.
    pub(crate) exec: ExecPolicy,
    /// The `proxmox_api` policy.
    pub(crate) api: ApiPolicy,
    /// The node commands `execute_node_command` may run.
    pub(crate) node_commands: ExecPolicy,
    audit: Option<Arc<AuditLog>>,
    /// `[guard] elicit = false`.
    no_elicit: bool,
}

impl Guard {
    /// Compiles `cfg` and opens the audit log (appending, continuing its hash chain).
    pub fn new(cfg: &GuardConfig) -> Result<Self, GuardError> {
        let key = cfg
            .audit_key_file
            .as_deref()
            .map(AuditKey::load)
            .transpose()
            .map_err(|e| GuardError(e.to_string()))?;
        let sinks = cfg.audit_sinks();
        let audit = if sinks.is_empty() {
            None
        } else {
            Some(Arc::new(AuditLog::open_sinks(&sinks, key).map_err(
                |e| {
                    let path = sinks.file.as_deref().unwrap_or(Path::new("stdout"));
                    GuardError(format!("cannot open audit log {}: {e}", path.display()))
                },
            )?))
        };
        let exec = ExecPolicy::new(&cfg.exec)?;
        Ok(Guard {
            protected_vmids: cfg.protected_vmids.iter().copied().collect(),
            protected_tags: cfg
                .protected_tags
                .iter()
                .map(|t| t.trim().to_ascii_lowercase())
                .filter(|t| !t.is_empty())
                .collect(),
            node_commands: ExecPolicy::allow_only(&cfg.node_commands.allow, &exec)?,
            exec,
            api: ApiPolicy::new(&cfg.api)?,
            audit,
            no_elicit: cfg.elicit == Some(false),
        })
    }

    /// Whether a destructive call may be confirmed by asking the human through the client.
    pub(crate) fn elicits(&self) -> bool {
        !self.no_elicit
    }

    /// The audit log, when one is configured.
    pub(crate) fn audit(&self) -> Option<&Arc<AuditLog>> {
        self.audit.as_ref()
    }

    /// Why guest `vmid` is protected by the configuration alone, if it is.
    pub(super) fn configured_reason(&self, vmid: u32) -> Option<String> {
        self.protected_vmids.contains(&vmid).then(|| {
            "its VMID is listed in guard.protected_vmids of the server's configuration".into()
        })
    }

    /// Why a guest with this PVE config is protected, if it is.
    pub(super) fn config_reason(&self, config: &Value) -> Option<String> {
        let flag = match config.get("protection") {
            Some(Value::Bool(b)) => *b,
            Some(Value::Number(n)) => n.as_u64() == Some(1),
            Some(Value::String(s)) => matches!(s.trim(), "1" | "true"),
            _ => false,
        };
        if flag {
            return Some(
                "it has Proxmox VE's protection flag set (an operator can clear it under the \
                 guest's Options in Proxmox VE)"
                    .into(),
            );
        }
        let tags = config.get("tags").and_then(Value::as_str).unwrap_or("");
        tags.split([';', ',', ' '])
            .map(|t| t.trim().to_ascii_lowercase())
            .find(|t| self.protected_tags.contains(t))
            .map(|t| format!("it carries the tag `{t}`, listed in guard.protected_tags of the server's configuration"))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    #[test]
    fn reasons() {
        let g = Guard::new(&GuardConfig {
            protected_vmids: vec![7],
            protected_tags: vec!["Prod".into()],
            ..GuardConfig::default()
        })
        .unwrap();
        assert!(g.configured_reason(7).is_some() && g.configured_reason(8).is_none());
        assert!(
            g.config_reason(&json!({"protection": 1}))
                .unwrap()
                .contains("protection flag")
        );
        assert!(
            g.config_reason(&json!({"tags": "web;prod"}))
                .unwrap()
                .contains("`prod`")
        );
        assert!(
            g.config_reason(&json!({"tags": "web", "protection": 0}))
                .is_none()
        );
    }
}
