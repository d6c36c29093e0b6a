//! The `proxmox_api` policy (`[guard.api]`): which Proxmox VE paths the generic API tool may
//! call. A built-in deny list (console and shell endpoints, migration tunnels, guest exec, guest
//! file reads and API batches that would bypass the server's own checks, fetches of URLs the
//! caller names, password and TFA changes, API token creation, password logins, node shutdown
//! and reboot, cluster join) that the configuration
//! extends with `deny`, and drops only with `default_deny = false`; an `allow` list that, when
//! not empty, restricts every call to the paths it names; deny wins over allow. A refusal names
//! the rule.
//!
//! A rule is `[METHOD ]PATH`: `METHOD` is `GET`, `POST`, `PUT` or `DELETE` (any method when
//! absent); `PATH` is matched segment by segment against the call's path below `/api2/json`,
//! where `*` matches one segment and `**` any number of segments (none included).

use serde::Deserialize;

use super::GuardError;

/// Default most bytes of `data` a `proxmox_api` answer holds before it is cut.
pub(crate) const DEFAULT_MAX_ANSWER_BYTES: usize = 32 * 1024;

/// The built-in deny rules, with what each keeps out.
pub(crate) const DEFAULT_DENY: &[(&str, &str)] = &[
    ("**/termproxy", "console and shell endpoints"),
    ("**/vncshell", "console and shell endpoints"),
    ("**/spiceshell", "console and shell endpoints"),
    ("**/vncwebsocket", "console and shell endpoints"),
    ("**/vncproxy", "console and shell endpoints"),
    ("**/spiceproxy", "console and shell endpoints"),
    ("POST /access/vncticket", "console and shell endpoints"),
    ("PUT /nodes/*/qemu/*/sendkey", "console and shell endpoints"),
    (
        "POST /nodes/*/qemu/*/monitor",
        "console and shell endpoints",
    ),
    (
        "POST /nodes/*/*/*/mtunnel",
        "migration tunnels to other clusters",
    ),
    (
        "POST /nodes/*/*/*/remote_migrate",
        "migration tunnels to other clusters",
    ),
    (
        "POST /nodes/*/qemu/*/agent/exec",
        "guest exec outside execute_vm_command and its [guard.exec] policy",
    ),
    (
        "POST /nodes/*/qemu/*/agent/file-write",
        "guest exec outside execute_vm_command and its [guard.exec] policy",
    ),
    (
        "POST /nodes/*/execute",
        "batches of API calls that would bypass these checks",
    ),
    (
        "GET /nodes/*/qemu/*/agent/file-read",
        "files read out of guests and backups",
    ),
    (
        "GET /nodes/*/storage/*/file-restore/download",
        "files read out of guests and backups",
    ),
    (
        "GET /nodes/*/query-url-metadata",
        "the node fetching a URL or reaching a server the caller names",
    ),
    (
        "POST /nodes/*/storage/*/download-url",
        "the node fetching a URL or reaching a server the caller names",
    ),
    (
        "GET /nodes/*/scan/nfs",
        "the node fetching a URL or reaching a server the caller names",
    ),
    (
        "GET /nodes/*/scan/cifs",
        "the node fetching a URL or reaching a server the caller names",
    ),
    (
        "GET /nodes/*/scan/pbs",
        "the node fetching a URL or reaching a server the caller names",
    ),
    (
        "GET /nodes/*/scan/iscsi",
        "the node fetching a URL or reaching a server the caller names",
    ),
    ("PUT /access/password", "password changes"),
    (
        "POST /nodes/*/qemu/*/agent/set-user-password",
        "password changes",
    ),
    ("POST /access/tfa/**", "TFA changes"),
    ("PUT /access/tfa/**", "TFA changes"),
    ("DELETE /access/tfa/**", "TFA changes"),
    ("PUT /access/users/*/unlock-tfa", "TFA changes"),
    (
        "POST /access/users/*/token/*",
        "API token creation and changes",
    ),
    (
        "PUT /access/users/*/token/*",
        "API token creation and changes",
    ),
    ("POST /access/ticket", "logins with a password"),
    ("POST /nodes/*/status", "node shutdown and reboot"),
    ("POST /cluster/config/join", "cluster join"),
    ("POST /cluster/config/nodes/*", "cluster join"),
];

/// `[guard.api]` of the configuration file.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ApiConfig {
    /// Rules added to the built-in deny list.
    #[serde(default)]
    pub deny: Vec<String>,
    /// When not empty, only calls matching one of these rules are made (deny still wins).
    #[serde(default)]
    pub allow: Vec<String>,
    /// `false` drops the built-in deny list (default `true`); only `deny` then applies.
    pub default_deny: Option<bool>,
    /// Most bytes of `data` an answer holds before it is cut (default 32768).
    pub max_answer_bytes: Option<usize>,
}

/// An HTTP method of a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RuleMethod {
    Get,
    Post,
    Put,
    Delete,
}

impl RuleMethod {
    /// `GET`, `POST`, `PUT`, `DELETE` (upper case only, as PVE's API writes them).
    pub(crate) fn parse(s: &str) -> Option<Self> {
        match s {
            "GET" => Some(Self::Get),
            "POST" => Some(Self::Post),
            "PUT" => Some(Self::Put),
            "DELETE" => Some(Self::Delete),
            _ => None,
        }
    }
}

/// One compiled rule, with its text and where it comes from.
#[derive(Debug, Clone)]
struct Rule {
    text: String,
    method: Option<RuleMethod>,
    segments: Vec<String>,
    origin: String,
}

impl Rule {
    fn parse(text: &str, origin: String) -> Result<Self, GuardError> {
        let bad = |why: &str| {
            GuardError(format!(
                "[guard.api] rule `{text}`: {why} (a rule is `[GET|POST|PUT|DELETE ]/path`, \
                 `*` one segment, `**` any number)"
            ))
        };
        let t = text.trim();
        let (method, path) = match t.split_once(char::is_whitespace) {
            Some((m, p)) => (
                Some(RuleMethod::parse(m).ok_or_else(|| bad("unknown method"))?),
                p.trim(),
            ),
            None => (None, t),
        };
        let path = path.strip_prefix("/api2/json").unwrap_or(path);
        let segments: Vec<String> = path
            .split('/')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        if segments.is_empty() {
            return Err(bad("the path is empty"));
        }
        if segments
            .iter()
            .any(|s| s.contains(char::is_whitespace) || s.contains('?') || s.contains('%'))
        {
            return Err(bad("a path segment holds a space, `?` or `%`"));
        }
        Ok(Rule {
            text: t.to_string(),
            method,
            segments,
            origin,
        })
    }

    fn matches(&self, method: RuleMethod, path: &[&str]) -> bool {
        self.method.is_none_or(|m| m == method) && glob(&self.segments, path)
    }
}

/// Whether `pattern` (segments, `*`, `**`) matches `path` as a whole.
fn glob(pattern: &[String], path: &[&str]) -> bool {
    match pattern.split_first() {
        None => path.is_empty(),
        Some((first, rest)) if first == "**" => (0..=path.len()).any(|i| glob(rest, &path[i..])),
        Some((first, rest)) => path
            .split_first()
            .is_some_and(|(p, prest)| (first == "*" || first == p) && glob(rest, prest)),
    }
}

/// The compiled `proxmox_api` policy.
#[derive(Debug, Clone)]
pub(crate) struct ApiPolicy {
    deny: Vec<Rule>,
    allow: Vec<Rule>,
    /// Most bytes of `data` an answer holds before it is cut.
    pub(crate) max_answer_bytes: usize,
}

impl Default for ApiPolicy {
    fn default() -> Self {
        // The built-in rules are valid: `new` of the default configuration cannot fail.
        Self::new(&ApiConfig::default()).unwrap_or(Self {
            deny: Vec::new(),
            allow: Vec::new(),
            max_answer_bytes: DEFAULT_MAX_ANSWER_BYTES,
        })
    }
}

impl ApiPolicy {
    pub(crate) fn new(cfg: &ApiConfig) -> Result<Self, GuardError> {
        let mut deny = Vec::new();
        if cfg.default_deny.unwrap_or(true) {
            for (text, what) in DEFAULT_DENY {
                deny.push(Rule::parse(text, format!("built-in deny list: {what}"))?);
            }
        }
        for text in &cfg.deny {
            deny.push(Rule::parse(text, "[guard.api] deny".to_string())?);
        }
        let allow = cfg
            .allow
            .iter()
            .map(|t| Rule::parse(t, "[guard.api] allow".to_string()))
            .collect::<Result<Vec<_>, _>>()?;
        let max_answer_bytes = cfg.max_answer_bytes.unwrap_or(DEFAULT_MAX_ANSWER_BYTES);
        if max_answer_bytes < 1024 {
            return Err(GuardError(
                "[guard.api] max_answer_bytes must be at least 1024".into(),
            ));
        }
        Ok(Self {
            deny,
            allow,
            max_answer_bytes,
        })
    }

    /// Why a call of `method` on `path` (its segments below `/api2/json`) is refused, naming
    /// the rule, if it is.
    pub(crate) fn refusal(&self, method: RuleMethod, path: &[&str]) -> Option<String> {
        if let Some(rule) = self.deny.iter().find(|r| r.matches(method, path)) {
            return Some(format!(
                "refused by the deny rule `{}` ({}); nothing was sent. A typed tool may do \
                 what you need, or the operator can change [guard.api] in the server's \
                 configuration",
                rule.text, rule.origin
            ));
        }
        if !self.allow.is_empty() && !self.allow.iter().any(|r| r.matches(method, path)) {
            let rules: Vec<&str> = self.allow.iter().map(|r| r.text.as_str()).collect();
            return Some(format!(
                "refused: no rule of the allow list ([guard.api] allow: {}) matches this call; \
                 nothing was sent",
                rules.join(", ")
            ));
        }
        None
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn segs(p: &str) -> Vec<&str> {
        p.split('/').filter(|s| !s.is_empty()).collect()
    }

    #[test]
    fn default_rules_refuse_and_name_themselves() {
        let p = ApiPolicy::default();
        for (m, path, rule) in [
            (
                RuleMethod::Post,
                "/nodes/pve1/qemu/100/termproxy",
                "**/termproxy",
            ),
            (
                RuleMethod::Get,
                "/nodes/pve1/lxc/200/vncwebsocket",
                "**/vncwebsocket",
            ),
            (RuleMethod::Post, "/nodes/pve1/termproxy", "**/termproxy"),
            (RuleMethod::Put, "/access/password", "PUT /access/password"),
            (
                RuleMethod::Post,
                "/access/tfa/root@pam",
                "POST /access/tfa/**",
            ),
            (
                RuleMethod::Post,
                "/nodes/pve1/status",
                "POST /nodes/*/status",
            ),
            (
                RuleMethod::Post,
                "/cluster/config/join",
                "POST /cluster/config/join",
            ),
        ] {
            let why = p.refusal(m, &segs(path)).unwrap();
            assert!(
                why.contains(rule) && why.contains("built-in"),
                "{path}: {why}"
            );
        }
        assert!(
            p.refusal(RuleMethod::Get, &segs("/nodes/pve1/status"))
                .is_none()
        );
        assert!(p.refusal(RuleMethod::Get, &segs("/access/tfa")).is_none());
    }

    #[test]
    fn config_extends_allows_and_drops_only_when_told() {
        let cfg = ApiConfig {
            deny: vec!["DELETE /cluster/firewall/**".into()],
            allow: vec!["/cluster/**".into(), "GET /nodes/*/status".into()],
            ..ApiConfig::default()
        };
        let p = ApiPolicy::new(&cfg).unwrap();
        let why = p
            .refusal(RuleMethod::Delete, &segs("/cluster/firewall/rules/0"))
            .unwrap();
        assert!(why.contains("[guard.api] deny"), "{why}");
        let why = p.refusal(RuleMethod::Get, &segs("/storage")).unwrap();
        assert!(why.contains("allow list"), "{why}");
        assert!(
            p.refusal(RuleMethod::Get, &segs("/nodes/x/status"))
                .is_none()
        );
        assert!(
            p.refusal(RuleMethod::Post, &segs("/nodes/x/status"))
                .is_some()
        );
        // An empty deny list does not empty the built-in one; default_deny = false does.
        let p = ApiPolicy::new(&ApiConfig::default()).unwrap();
        assert!(
            p.refusal(RuleMethod::Put, &segs("/access/password"))
                .is_some()
        );
        let off = ApiConfig {
            default_deny: Some(false),
            ..ApiConfig::default()
        };
        let p = ApiPolicy::new(&off).unwrap();
        assert!(
            p.refusal(RuleMethod::Put, &segs("/access/password"))
                .is_none()
        );
        for bad in ["FETCH /x", "", "GET /a b", "/a?b=1"] {
            let cfg = ApiConfig {
                deny: vec![bad.into()],
                ..ApiConfig::default()
            };
            assert!(ApiPolicy::new(&cfg).is_err(), "{bad}");
        }
    }
}
