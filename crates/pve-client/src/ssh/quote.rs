//! Command lines for the node's login shell: every argument quoted for a POSIX shell (sh, dash,
//! bash, ksh, zsh), so `;`, `|`, `$()`, backquotes, globs, newlines and quotes in an argument stay
//! part of that argument. SSH carries one string, which sshd hands to `$SHELL -c`; this is the
//! only place where that string is built.

use std::borrow::Cow;

use crate::error::{Error, ErrorKind};

/// One argument as a shell word: left bare when it holds only characters no POSIX shell treats
/// specially (`A-Z a-z 0-9 _ - . / : , @ % +`), otherwise in single quotes, where nothing is
/// special, with each `'` written as `'\''`. The empty string is `''`.
pub fn quote(arg: &str) -> Cow<'_, str> {
    let bare = !arg.is_empty()
        && arg
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-./:,@%+".contains(&b));
    if bare {
        return Cow::Borrowed(arg);
    }
    let mut out = String::with_capacity(arg.len() + 2);
    out.push('\'');
    for c in arg.chars() {
        if c == '\'' {
            out.push_str(r"'\''");
        } else {
            out.push(c);
        }
    }
    out.push('\'');
    Cow::Owned(out)
}

/// The command line that runs `argv` as it is: its words quoted and joined by spaces. An empty
/// argv, an empty program name or a NUL byte anywhere (argv cannot carry one) is an error
/// naming the argument.
pub fn command_line<S: AsRef<str>>(argv: &[S]) -> Result<String, Error> {
    let Some(program) = argv.first() else {
        return Err(Error::new(ErrorKind::Params, "the command is empty"));
    };
    if program.as_ref().trim().is_empty() {
        return Err(Error::new(
            ErrorKind::Params,
            "the command's program name is empty",
        ));
    }
    let mut line = String::new();
    for (i, arg) in argv.iter().enumerate() {
        let arg = arg.as_ref();
        if arg.contains('\0') {
            return Err(Error::new(
                ErrorKind::Params,
                format!("argument {i} contains a NUL byte, which a command line cannot carry"),
            ));
        }
        if i > 0 {
            line.push(' ');
        }
        line.push_str(&quote(arg));
    }
    Ok(line)
}

/// The argv of `pct exec VMID -- ARGV…` on a Proxmox VE node (`--` ends pct's own options, so
/// the command's options stay the command's).
pub fn pct_exec_argv<S: AsRef<str>>(vmid: u32, argv: &[S]) -> Vec<String> {
    let mut out = vec![
        "pct".to_owned(),
        "exec".to_owned(),
        vmid.to_string(),
        "--".to_owned(),
    ];
    out.extend(argv.iter().map(|a| a.as_ref().to_owned()));
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use std::process::Command;

    use proptest::prelude::*;

    use super::*;

    /// Runs `line` (with the words of `argv` appended) through `shell -c`, the way sshd does, with
    /// `printf '%s\0'` as the program: the NUL-separated words it prints are the argv the shell
    /// passed on.
    fn through_shell(shell: &str, argv: &[String]) -> Vec<String> {
        let mut words = vec!["printf".to_owned(), "%s\\0".to_owned()];
        words.extend(argv.iter().cloned());
        let line = command_line(&words).unwrap();
        let out = Command::new(shell)
            .arg("-c")
            .arg(&line)
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("HOME", "/nonexistent")
            .output()
            .expect("runs the shell");
        assert!(out.status.success(), "{shell} -c {line:?}: {out:?}");
        let text = String::from_utf8(out.stdout).unwrap();
        let mut words: Vec<String> = text.split('\0').map(str::to_owned).collect();
        assert_eq!(words.pop().as_deref(), Some(""), "{text:?}");
        words
    }

    fn shells() -> Vec<&'static str> {
        ["/bin/sh", "/bin/bash", "/bin/dash"]
            .into_iter()
            .filter(|s| std::path::Path::new(s).exists())
            .collect()
    }

    const HOSTILE: &[&str] = &[
        "a b",
        "; rm -rf /",
        "$(touch /tmp/pwned)",
        "`id`",
        "${HOME}",
        "$HOME",
        "it's",
        "'",
        "''",
        "\"quoted\"",
        "\\",
        "\\'",
        "line1\nline2",
        "\n",
        "tab\there",
        "*",
        "?",
        "[a-z]",
        "~",
        "~root",
        "a=b",
        "-n",
        "--",
        "!",
        "!!",
        "&&",
        "|",
        ">out",
        "<in",
        "#comment",
        "{a,b}",
        "héllo wörld ☃",
        "",
        " ",
    ];

    #[test]
    fn hostile_arguments_reach_the_program_unchanged() {
        let argv: Vec<String> = HOSTILE.iter().map(|s| (*s).to_owned()).collect();
        for shell in shells() {
            assert_eq!(through_shell(shell, &argv), argv, "{shell}");
        }
    }

    #[test]
    fn words_are_quoted_only_when_needed() {
        let cases = [
            ("uptime", "uptime"),
            ("/usr/bin/env", "/usr/bin/env"),
            ("--lines=5", "'--lines=5'"),
            ("a b", "'a b'"),
            ("it's", r"'it'\''s'"),
            ("", "''"),
            ("$(id)", "'$(id)'"),
            ("line\nbreak", "'line\nbreak'"),
            ("user@host:1,2%+", "user@host:1,2%+"),
            ("~", "'~'"),
        ];
        for (arg, want) in cases {
            assert_eq!(quote(arg), want, "{arg:?}");
        }
        assert_eq!(
            command_line(&pct_exec_argv(101, &["sh", "-c", "echo $HOME; id"])).unwrap(),
            "pct exec 101 -- sh -c 'echo $HOME; id'"
        );
    }

    #[test]
    fn impossible_command_lines_are_refused() {
        let e = command_line::<&str>(&[]).unwrap_err();
        assert_eq!(
            (e.kind(), e.message()),
            (ErrorKind::Params, "the command is empty")
        );
        let e = command_line(&[" "]).unwrap_err();
        assert!(e.message().contains("program name is empty"), "{e}");
        let e = command_line(&["echo", "a\0b"]).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Params);
        assert!(
            e.message().contains("argument 1 contains a NUL byte"),
            "{e}"
        );
    }

    fn arg() -> impl Strategy<Value = String> {
        let special = prop::sample::select(
            "'\"\\$`;&|<>(){}[]*?~!#=% \t\n\r-:,./@+^"
                .chars()
                .collect::<Vec<_>>(),
        );
        let any = any::<char>().prop_filter("argv cannot carry NUL", |c| *c != '\0');
        prop::collection::vec(prop_oneof![3 => special, 1 => any], 0..12)
            .prop_map(|chars| chars.into_iter().collect())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]
        #[test]
        fn any_argv_round_trips_through_sh(argv in prop::collection::vec(arg(), 1..6)) {
            prop_assert_eq!(through_shell("/bin/sh", &argv), argv);
        }
    }
}
