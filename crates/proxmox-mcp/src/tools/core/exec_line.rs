//! What the guest-exec tools share: the command as given (`command`, `args`, `shell`) turned
//! into the argv to run and the command line the exec policy judges, and the call's timeout
//! within the policy's bounds.

use pve_client::ssh::quote;

use crate::error::ToolError;
use crate::guard::ExecPolicy;

/// A guest command, ready to run and to judge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct GuestCommand {
    /// Run through `/bin/sh -c`.
    pub(crate) shell: bool,
    /// The command line as a shell would read it: what the exec policy judges (with `shell`,
    /// the command itself).
    pub(crate) line: String,
    /// The program and its arguments (with `shell`: `/bin/sh`, `-c`, the line).
    pub(crate) argv: Vec<String>,
}

impl GuestCommand {
    /// `command` with `args`; `shell` defaults to true only when `command` holds white space
    /// and no args are given. An empty command is an error naming `command`.
    pub(crate) fn new(
        command: &str,
        args: Option<Vec<String>>,
        shell: Option<bool>,
    ) -> Result<Self, ToolError> {
        let command = command.trim();
        if command.is_empty() {
            return Err(ToolError::invalid("command", "must not be empty"));
        }
        let args = args.unwrap_or_default();
        let shell = shell.unwrap_or(args.is_empty() && command.contains(char::is_whitespace));
        let mut line = if shell {
            command.to_string()
        } else {
            quote(command).into_owned()
        };
        for a in &args {
            line.push(' ');
            line.push_str(&quote(a));
        }
        let argv = if shell {
            vec!["/bin/sh".to_string(), "-c".to_string(), line.clone()]
        } else {
            std::iter::once(command.to_string()).chain(args).collect()
        };
        Ok(Self { shell, line, argv })
    }
}

/// The call's `timeout_seconds`, or the policy's default; outside 1..=max it is an error.
pub(crate) fn timeout_of(policy: &ExecPolicy, asked: Option<u32>) -> Result<u32, ToolError> {
    let timeout = asked.unwrap_or(policy.default_timeout);
    if timeout == 0 || timeout > policy.max_timeout {
        return Err(ToolError::invalid(
            "timeout_seconds",
            format!(
                "must be between 1 and {} (the server's limit; clients such as n8n give up \
                 after 60 s)",
                policy.max_timeout
            ),
        ));
    }
    Ok(timeout)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn argv_and_line() {
        let c =
            GuestCommand::new(" echo ", Some(vec!["a b".into(), "$(id)".into()]), None).unwrap();
        assert!(!c.shell);
        assert_eq!(c.argv, ["echo", "a b", "$(id)"]);
        assert_eq!(c.line, "echo 'a b' '$(id)'");
        let c = GuestCommand::new("ls -l | wc -l", None, None).unwrap();
        assert!(c.shell);
        assert_eq!(c.argv, ["/bin/sh", "-c", "ls -l | wc -l"]);
        let c = GuestCommand::new("uptime", None, Some(true)).unwrap();
        assert_eq!(c.argv, ["/bin/sh", "-c", "uptime"]);
        assert!(GuestCommand::new("  ", None, None).is_err());
        let p = ExecPolicy::default();
        assert_eq!(timeout_of(&p, None).unwrap(), 30);
        assert!(timeout_of(&p, Some(0)).is_err() && timeout_of(&p, Some(51)).is_err());
    }
}
