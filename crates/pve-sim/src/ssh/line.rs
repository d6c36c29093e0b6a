//! The simulated node's login shell reading an exec request: one simple command, its words split
//! and unquoted as a POSIX shell does (single quotes, double quotes, backslashes), either plain or
//! inside the one-line hang-up prologue the SSH client wraps around every command. Anything a
//! real shell would expand or treat as an operator (`;`, `|`, `&`, redirections, `$`, backquotes,
//! globs, `~`, braces, comments, assignments) is refused rather than run: the simulator runs one
//! command per channel, and a line carrying more is a client bug the tests should see.

/// The prologue's head: the client's command line follows it, then [`PROLOGUE_TAIL`]. In a real
/// shell it keeps the channel's input on fd 3 for a watcher that sends SIGHUP to the session's
/// process group when that input ends (the client hung up), and runs the command with its stdin
/// from `/dev/null`.
pub const PROLOGUE_HEAD: &str = "exec 3<&0 </dev/null 4>&2 2>/dev/null; \
    { read -r _ <&3; kill -s HUP 0; } >/dev/null & w=$!; ";

/// The prologue's tail: the command's stderr restored, its exit status passed on, the watcher
/// stopped.
pub const PROLOGUE_TAIL: &str = " 3<&- 2>&4 4>&-; r=$?; kill $w; exit $r";

/// An exec request as the login shell read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Line {
    /// The command's words, unquoted (empty for an empty line).
    pub words: Vec<String>,
    /// The command came inside the hang-up prologue: the end of the channel's input hangs it up.
    pub prologue: bool,
}

/// A line the shell refuses: what it writes on stderr and its exit status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refusal {
    pub status: u32,
    pub message: String,
}

/// Reads an exec request.
pub(crate) fn parse(data: &[u8]) -> Result<Line, Refusal> {
    let Ok(text) = std::str::from_utf8(data) else {
        return Err(unsupported("a command line that is not UTF-8"));
    };
    let (body, prologue) = match text
        .strip_prefix(PROLOGUE_HEAD)
        .and_then(|rest| rest.strip_suffix(PROLOGUE_TAIL))
    {
        Some(body) => (body, true),
        None => (text, false),
    };
    Ok(Line {
        words: words(body)?,
        prologue,
    })
}

/// The words of one simple command.
fn words(text: &str) -> Result<Vec<String>, Refusal> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    // The word so far holds a quoted or escaped character (`'A=1'` is not an assignment).
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' => {
                if in_word {
                    check_assignment(&out, &word, quoted)?;
                    out.push(std::mem::take(&mut word));
                    (in_word, quoted) = (false, false);
                }
            }
            '\'' => {
                (in_word, quoted) = (true, true);
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(x) => word.push(x),
                        None => return Err(unmatched('\'')),
                    }
                }
            }
            '"' => {
                (in_word, quoted) = (true, true);
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some('\n') => {}
                            Some(x @ ('$' | '`' | '"' | '\\')) => word.push(x),
                            Some(x) => {
                                word.push('\\');
                                word.push(x);
                            }
                            None => return Err(unmatched('"')),
                        },
                        Some(x @ ('$' | '`')) => return Err(unsupported_char(x)),
                        Some(x) => word.push(x),
                        None => return Err(unmatched('"')),
                    }
                }
            }
            '\\' => match chars.next() {
                Some('\n') => {}
                Some(x) => {
                    (in_word, quoted) = (true, true);
                    word.push(x);
                }
                None => {
                    (in_word, quoted) = (true, true);
                    word.push('\\');
                }
            },
            '~' | '#' if !in_word => return Err(unsupported_char(c)),
            ';' | '&' | '|' | '<' | '>' | '(' | ')' | '$' | '`' | '*' | '?' | '[' | '{' | '}'
            | '!' | '\n' => return Err(unsupported_char(c)),
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        check_assignment(&out, &word, quoted)?;
        out.push(word);
    }
    Ok(out)
}

/// `NAME=value` unquoted as the first word is an assignment, not a command.
fn check_assignment(before: &[String], word: &str, quoted: bool) -> Result<(), Refusal> {
    let Some((name, _)) = word.split_once('=').filter(|_| !quoted) else {
        return Ok(());
    };
    let is_name = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if before.is_empty() && is_name {
        return Err(unsupported("a variable assignment"));
    }
    Ok(())
}

/// bash's words for a quote left open.
fn unmatched(quote: char) -> Refusal {
    Refusal {
        status: 2,
        message: format!("bash: -c: line 1: unexpected EOF while looking for matching `{quote}'\n"),
    }
}

fn unsupported_char(c: char) -> Refusal {
    let shown = if c == '\n' {
        "a newline".to_owned()
    } else {
        format!("`{c}'")
    };
    unsupported(&format!("{shown} outside quotes"))
}

/// The refusal of a line a real shell would run but the simulated node does not.
fn unsupported(what: &str) -> Refusal {
    Refusal {
        status: 127,
        message: format!(
            "bash: pve-sim: {what} is not supported: this simulated node runs one simple command \
             (pct exec VMID -- ARGV..., or a node command), plain or inside the SSH client's \
             hang-up prologue\n"
        ),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn ok(line: &str) -> Vec<String> {
        parse(line.as_bytes()).unwrap().words
    }

    #[test]
    fn words_unquote_as_a_posix_shell_does() {
        let cases: &[(&str, &[&str])] = &[
            (
                "pct exec 101 -- hostname",
                &["pct", "exec", "101", "--", "hostname"],
            ),
            ("  a\tb  ", &["a", "b"]),
            ("'a b' 'it'\\''s' ''", &["a b", "it's", ""]),
            (
                "'$(id)' '`id`' '; rm -rf /' '*'",
                &["$(id)", "`id`", "; rm -rf /", "*"],
            ),
            ("'line1\nline2'", &["line1\nline2"]),
            ("\"a \\\"b\\\" \\$ \\\\ \\x\"", &["a \"b\" $ \\ \\x"]),
            ("a\\ b c\\;d", &["a b", "c;d"]),
            ("'--lines=5' a=b x~ y#", &["--lines=5", "a=b", "x~", "y#"]),
            ("'A=1' b", &["A=1", "b"]),
            ("user@host:1,2%+ é", &["user@host:1,2%+", "é"]),
            ("", &[]),
        ];
        for (line, want) in cases {
            assert_eq!(ok(line), *want, "{line:?}");
        }
    }

    #[test]
    fn the_prologue_is_recognised_only_whole() {
        let line = format!("{PROLOGUE_HEAD}pct exec 101 -- 'a b'{PROLOGUE_TAIL}");
        let parsed = parse(line.as_bytes()).unwrap();
        assert!(parsed.prologue);
        assert_eq!(parsed.words, ["pct", "exec", "101", "--", "a b"]);
        // The exact line the client sends for `pct exec 200 -- hostname`.
        let sent = "exec 3<&0 </dev/null 4>&2 2>/dev/null; { read -r _ <&3; kill -s HUP 0; } \
                    >/dev/null & w=$!; pct exec 200 -- hostname 3<&- 2>&4 4>&-; r=$?; kill $w; \
                    exit $r";
        assert_eq!(parse(sent.as_bytes()).unwrap().words[2], "200");
        let cut = &line[..line.len() - 1];
        assert_eq!(parse(cut.as_bytes()).unwrap_err().status, 127);
        assert!(!parse(b"hostname").unwrap().prologue);
    }

    #[test]
    fn shell_syntax_is_refused() {
        for line in [
            "pct exec 101 -- hostname; rm -rf /",
            "echo $(id)",
            "echo `id`",
            "echo $HOME",
            "a | b",
            "a && b",
            "a > f",
            "a < f",
            "ls *",
            "ls ?",
            "ls [ab]",
            "echo {a,b}",
            "cd ~",
            "# comment",
            "FOO=1 pct exec 101 -- env",
            "a\nb",
            "echo \"$HOME\"",
            "! true",
        ] {
            let r = parse(line.as_bytes()).unwrap_err();
            assert_eq!(r.status, 127, "{line:?}");
            assert!(r.message.starts_with("bash: pve-sim: "), "{line:?}: {r:?}");
        }
        let r = parse(b"echo 'open").unwrap_err();
        assert_eq!(
            (r.status, r.message.as_str()),
            (
                2,
                "bash: -c: line 1: unexpected EOF while looking for matching `''\n"
            )
        );
        assert_eq!(parse(b"\xff").unwrap_err().status, 127);
    }
}
