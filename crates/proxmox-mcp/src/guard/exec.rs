//! The `execute_vm_command` policy: allow and deny patterns on the command line (deny wins),
//! and the per-call timeout and output cap (defaults fit n8n's 60 s limit).
//!
//! A pattern is a glob unless it starts with `re:` (a regular expression, searched anywhere in
//! the line; anchor it with `^...$` yourself). Globs: `*` is any run of characters, `?` one.
//! An **allow** glob must match the whole command line, and its `*`/`?` never match the shell's
//! control characters (`;`, `&`, `|`, `<`, `>`, `$`, the backtick, parentheses, newlines), so
//! `df *` cannot let `df; rm -rf /` through. An allow list is the safe mode: what it does not
//! name does not run.
//!
//! A **deny** glob matches anywhere a word starts (`rm *` catches `sudo rm -rf /` and
//! `ls; rm x`), and its `*` matches anything. Deny patterns are matched against the line as
//! written and against each simple command as a shell would read it (`shell.rs`): quotes and
//! escapes removed, any whitespace, the program's path reduced to its name (`/bin/rm` is
//! `rm`), and the payloads of `sh -c`, `bash -c` and `eval`. When a deny list is the only
//! policy, lines whose program the server cannot know are refused too: command substitution
//! (`$(...)`, backticks, `<(...)`), a program taken from a variable, a line a shell could not
//! read. A deny list stays best-effort (an interpreter such as `python3 -c` can run anything).

use regex::Regex;
use serde::Deserialize;

use super::GuardError;
use super::shell;

/// Default time a command may run (seconds).
pub(crate) const DEFAULT_TIMEOUT_SECONDS: u32 = 30;
/// Default longest time a command may run within one call (n8n gives up after 60 s).
pub(crate) const DEFAULT_MAX_TIMEOUT_SECONDS: u32 = 50;
/// Highest `max_timeout_seconds` accepted in the configuration.
pub(crate) const TIMEOUT_CEILING_SECONDS: u32 = 600;
/// Default output kept per stream (bytes).
pub(crate) const DEFAULT_MAX_OUTPUT_BYTES: usize = 64 * 1024;

/// `[guard.exec]` of the configuration file.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ExecConfig {
    /// When not empty, only command lines matching one of these run.
    #[serde(default)]
    pub allow: Vec<String>,
    /// Command lines matching one of these never run (wins over `allow`).
    #[serde(default)]
    pub deny: Vec<String>,
    /// `timeout_seconds` when a call gives none (default 30).
    pub default_timeout_seconds: Option<u32>,
    /// Highest `timeout_seconds` a call may ask for (default 50; n8n gives up after 60 s).
    pub max_timeout_seconds: Option<u32>,
    /// Output kept per stream (stdout, stderr) in bytes; the rest is cut and flagged
    /// (default 65536).
    pub max_output_bytes: Option<usize>,
}

/// One compiled pattern, with its text for messages.
#[derive(Debug, Clone)]
struct Pattern {
    text: String,
    re: Regex,
}

/// The compiled exec policy.
#[derive(Debug, Clone)]
pub(crate) struct ExecPolicy {
    allow: Vec<Pattern>,
    deny: Vec<Pattern>,
    /// `timeout_seconds` when a call gives none.
    pub(crate) default_timeout: u32,
    /// Highest `timeout_seconds` accepted.
    pub(crate) max_timeout: u32,
    /// Output kept per stream, in bytes.
    pub(crate) max_output: usize,
    /// The configuration section messages name (`guard.exec`).
    section: &'static str,
}

impl Default for ExecPolicy {
    fn default() -> Self {
        Self {
            allow: Vec::new(),
            deny: Vec::new(),
            default_timeout: DEFAULT_TIMEOUT_SECONDS,
            max_timeout: DEFAULT_MAX_TIMEOUT_SECONDS,
            max_output: DEFAULT_MAX_OUTPUT_BYTES,
            section: "guard.exec",
        }
    }
}

impl ExecPolicy {
    /// Compiles `cfg`; a bad pattern or bound is an error naming it.
    pub(crate) fn new(cfg: &ExecConfig) -> Result<Self, GuardError> {
        let max_timeout = cfg
            .max_timeout_seconds
            .unwrap_or(DEFAULT_MAX_TIMEOUT_SECONDS);
        if max_timeout == 0 || max_timeout > TIMEOUT_CEILING_SECONDS {
            return Err(GuardError(format!(
                "guard.exec.max_timeout_seconds must be between 1 and {TIMEOUT_CEILING_SECONDS}"
            )));
        }
        let default_timeout = cfg
            .default_timeout_seconds
            .unwrap_or(DEFAULT_TIMEOUT_SECONDS.min(max_timeout));
        if default_timeout == 0 || default_timeout > max_timeout {
            return Err(GuardError(format!(
                "guard.exec.default_timeout_seconds must be between 1 and max_timeout_seconds ({max_timeout})"
            )));
        }
        let max_output = cfg.max_output_bytes.unwrap_or(DEFAULT_MAX_OUTPUT_BYTES);
        if max_output == 0 {
            return Err(GuardError(
                "guard.exec.max_output_bytes must be at least 1".into(),
            ));
        }
        let compile = |list: &[String], allow: bool, key: &str| {
            list.iter()
                .map(|text| {
                    compile(text, allow)
                        .map_err(|e| GuardError(format!("guard.exec.{key}: pattern {text:?}: {e}")))
                })
                .collect::<Result<Vec<_>, _>>()
        };
        Ok(Self {
            allow: compile(&cfg.allow, true, "allow")?,
            deny: compile(&cfg.deny, false, "deny")?,
            default_timeout,
            max_timeout,
            max_output,
            section: "guard.exec",
        })
    }

    /// An allow list alone, from `[guard.node_commands] allow` (no deny mode: what it does not
    /// name does not run, and an empty list runs nothing); bounds from `exec`.
    pub(crate) fn allow_only(list: &[String], exec: &ExecPolicy) -> Result<Self, GuardError> {
        let allow = list
            .iter()
            .map(|text| {
                compile(text, true).map_err(|e| {
                    GuardError(format!("guard.node_commands.allow: pattern {text:?}: {e}"))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            allow,
            deny: Vec::new(),
            section: "guard.node_commands",
            ..exec.clone()
        })
    }

    /// Whether the allow list names no command.
    pub(crate) fn allows_nothing(&self) -> bool {
        self.allow.is_empty()
    }

    /// Whether the policy is a deny list alone (best-effort; see the module documentation).
    pub(crate) fn deny_only(&self) -> bool {
        self.allow.is_empty() && !self.deny.is_empty()
    }

    /// `Ok` when `line` may run; else the refusal, saying which rule refused it.
    pub(crate) fn check(&self, line: &str) -> Result<(), String> {
        if self.deny.is_empty() && self.allow.is_empty() {
            return Ok(());
        }
        let reading = shell::read(line);
        let denied = std::iter::once(line.to_string())
            .chain(reading.texts())
            .find_map(|text| self.deny.iter().find(|p| p.re.is_match(&text)));
        if let Some(p) = denied {
            return Err(format!(
                "the command line matches the deny pattern {:?} of the server's exec policy \
                 ({}.deny); it is never run",
                p.text, self.section
            ));
        }
        if self.deny_only() {
            deny_only_refusal(line, &reading)?;
        }
        if !self.allow.is_empty() && !self.allow.iter().any(|p| p.re.is_match(line)) {
            let list: Vec<&str> = self.allow.iter().map(|p| p.text.as_str()).collect();
            return Err(format!(
                "the command line matches none of the patterns the server's exec policy allows \
                 ({}.allow: {}); run one of those instead",
                self.section,
                list.join(", ")
            ));
        }
        Ok(())
    }
}

/// Under a deny list alone: refuses what the deny patterns cannot judge.
fn deny_only_refusal(line: &str, reading: &shell::Reading) -> Result<(), String> {
    const ONLY_DENY: &str = "the server's exec policy is a deny list alone (guard.exec.deny), \
                             which cannot judge";
    const ALLOW: &str = "run the program directly, or have the operator add an allow list \
                         (guard.exec.allow)";
    if let Some(e) = &reading.error {
        return Err(format!(
            "{ONLY_DENY} a command line a shell could not read ({e}); fix the line or {ALLOW}"
        ));
    }
    if ["$(", "`", "<(", ">("].iter().any(|s| line.contains(s)) {
        return Err(format!(
            "{ONLY_DENY} command substitution ($(...), backticks, <(...) or >(...), even quoted): \
             what it runs is only known when it runs; {ALLOW}"
        ));
    }
    if let Some(v) = &reading.variable_program {
        return Err(format!(
            "{ONLY_DENY} a program named by a variable ({v}); {ALLOW}"
        ));
    }
    Ok(())
}

/// A character an allow glob's wildcards match: anything but the shell's control characters.
const NOT_SHELL_CONTROL: &str = r"[^;&|<>$`()\n\r]";

fn compile(text: &str, allow: bool) -> Result<Pattern, regex::Error> {
    let re = match text.strip_prefix("re:") {
        Some(re) => Regex::new(re)?,
        None => Regex::new(&glob_regex(text, allow))?,
    };
    Ok(Pattern {
        text: text.to_string(),
        re,
    })
}

fn glob_regex(glob: &str, allow: bool) -> String {
    let (any, one) = if allow {
        (
            format!("{NOT_SHELL_CONTROL}*"),
            NOT_SHELL_CONTROL.to_string(),
        )
    } else {
        ("(?s:.*)".to_string(), "(?s:.)".to_string())
    };
    let mut out = String::from(if allow { "^" } else { r"(?:^|[\s;&|()`])" });
    let mut buf = [0u8; 4];
    for c in glob.chars() {
        match c {
            '*' => out.push_str(&any),
            '?' => out.push_str(&one),
            c => out.push_str(&regex::escape(c.encode_utf8(&mut buf))),
        }
    }
    if allow {
        out.push('$');
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn policy(allow: &[&str], deny: &[&str]) -> ExecPolicy {
        ExecPolicy::new(&ExecConfig {
            allow: allow.iter().map(|s| s.to_string()).collect(),
            deny: deny.iter().map(|s| s.to_string()).collect(),
            ..ExecConfig::default()
        })
        .unwrap()
    }

    #[test]
    fn allow_globs_match_whole_lines_without_shell_tricks() {
        let p = policy(&["df *", "uptime", "re:^systemctl status [a-z]+$"], &[]);
        for ok in ["df -h", "uptime", "systemctl status nginx", "df /var/lib"] {
            assert!(p.check(ok).is_ok(), "{ok}");
        }
        for bad in [
            "df -h; rm -rf /",
            "df $(reboot)",
            "uptimex",
            "ls",
            "df -h\nreboot",
        ] {
            assert!(p.check(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn deny_wins_and_matches_any_word_start() {
        let p = policy(&["*"], &["rm *", "re:(?i)shutdown|reboot"]);
        for bad in ["rm -rf /", "sudo rm x", "ls; rm x", "Reboot now"] {
            assert!(p.check(bad).unwrap_err().contains("deny"), "{bad}");
        }
        assert!(p.check("farm x").is_ok());
        assert!(p.check("ls -l").is_ok());
        let open = ExecPolicy::default();
        assert!(open.check("anything; at all").is_ok());
    }

    #[test]
    fn bad_patterns_and_bounds_are_config_errors() {
        let e = ExecPolicy::new(&ExecConfig {
            deny: vec!["re:(".into()],
            ..ExecConfig::default()
        })
        .unwrap_err();
        assert!(e.to_string().contains("guard.exec.deny"), "{e}");
        let e = ExecPolicy::new(&ExecConfig {
            default_timeout_seconds: Some(60),
            ..ExecConfig::default()
        })
        .unwrap_err();
        assert!(e.to_string().contains("default_timeout_seconds"), "{e}");
    }
}
