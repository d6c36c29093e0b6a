//! The simulated guest's `sh -c SCRIPT`: words with quotes and backslashes, commands run in
//! sequence with `;`, `&&` and `||`, `exit [N]`, and the redirections `>&2`, `2>&1`,
//! `>/dev/null` and `2>/dev/null`. No expansion, pipes or files: anything else is an error the way
//! dash words it.

use super::guest_os::{BASE_DURATION, Outcome, fail, simple};
use crate::state::{Guest, SimTime};

/// `sh -c SCRIPT` (or `bash -c`) in guest `g`.
pub(crate) fn run(g: &Guest, sh: &str, script: &str, input: Option<&str>, now: SimTime) -> Outcome {
    let prefix = if sh == "bash" {
        format!("{sh}: line 1: ")
    } else {
        format!("{sh}: 1: ")
    };
    let toks = match tokenize(script) {
        Ok(t) => t,
        Err(e) => return fail(2, format!("{prefix}{e}\n")),
    };
    let mut total = Outcome {
        exitcode: 0,
        out: String::new(),
        err: String::new(),
        duration: BASE_DURATION,
        waited: 0.0,
    };
    let mut cmd = Command::default();
    let mut pending: Option<&str> = None;
    for t in toks {
        match t {
            Tok::Word(w) => cmd.words.push(w),
            Tok::Redir(r) => cmd.redirs.push(r),
            Tok::Op(op) => {
                if cmd.run(g, pending, input, now, &prefix, &mut total) == Flow::Exit {
                    return total;
                }
                pending = Some(op);
            }
        }
    }
    cmd.run(g, pending, input, now, &prefix, &mut total);
    total
}

/// A token: a word, an operator (`;`, `&&`, `||`) or a redirection.
#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String),
    Op(&'static str),
    Redir(Redir),
}

/// Where a redirection sends a stream.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Redir {
    OutToErr,
    ErrToOut,
    OutToNull,
    ErrToNull,
}

/// One simple command being collected.
#[derive(Debug, Default)]
struct Command {
    words: Vec<String>,
    redirs: Vec<Redir>,
}

#[derive(Debug, PartialEq)]
enum Flow {
    Next,
    Exit,
}

impl Command {
    /// Runs the command collected (if `op` lets it run) into `total`, then empties it.
    fn run(
        &mut self,
        g: &Guest,
        op: Option<&str>,
        input: Option<&str>,
        now: SimTime,
        prefix: &str,
        total: &mut Outcome,
    ) -> Flow {
        let words = std::mem::take(&mut self.words);
        let redirs = std::mem::take(&mut self.redirs);
        if words.is_empty() {
            return Flow::Next;
        }
        let go = match op {
            Some("&&") => total.exitcode == 0,
            Some("||") => total.exitcode != 0,
            _ => true,
        };
        if !go {
            return Flow::Next;
        }
        let (mut r, flow) = if words[0] == "exit" {
            exit(&words[1..], total.exitcode, prefix)
        } else {
            let not_found = format!("{prefix}{}: ", words[0]);
            let at = now + total.duration;
            (simple(g, &words, input, at, &not_found), Flow::Next)
        };
        for redir in redirs {
            match redir {
                Redir::OutToErr => {
                    let out = std::mem::take(&mut r.out);
                    r.err.push_str(&out);
                }
                Redir::ErrToOut => {
                    let err = std::mem::take(&mut r.err);
                    r.out.push_str(&err);
                }
                Redir::OutToNull => r.out.clear(),
                Redir::ErrToNull => r.err.clear(),
            }
        }
        total.exitcode = r.exitcode;
        total.out.push_str(&r.out);
        total.err.push_str(&r.err);
        total.duration += r.duration;
        total.waited += r.waited;
        flow
    }
}

/// `exit [N]`: the script ends with N modulo 256 (or the last status).
fn exit(args: &[String], last: i64, prefix: &str) -> (Outcome, Flow) {
    let code = match args.first() {
        None => Ok(last),
        Some(n) => n
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 0)
            .map(|n| n.rem_euclid(256))
            .ok_or(n),
    };
    let out = match code {
        Ok(code) => Outcome {
            exitcode: code,
            duration: 0.0,
            ..fail(0, String::new())
        },
        Err(n) => fail(2, format!("{prefix}exit: Illegal number: {n}\n")),
    };
    (out, Flow::Exit)
}

/// Splits a script into words, operators and redirections, honouring quotes and backslashes.
fn tokenize(script: &str) -> Result<Vec<Tok>, String> {
    let mut toks = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    // The current word holds quoted characters (`2'>'` is a word, not a redirection).
    let mut quoted = false;
    let mut chars = script.chars().peekable();
    let end_word = |toks: &mut Vec<Tok>, word: &mut String, in_word: &mut bool, q: &mut bool| {
        if *in_word {
            toks.push(Tok::Word(std::mem::take(word)));
            *in_word = false;
            *q = false;
        }
    };
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                quoted = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(x) => word.push(x),
                        None => return Err("Unterminated quoted string".into()),
                    }
                }
            }
            '"' => {
                in_word = true;
                quoted = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => word.extend(chars.next()),
                        Some(x) => word.push(x),
                        None => return Err("Unterminated quoted string".into()),
                    }
                }
            }
            '\\' => {
                in_word = true;
                quoted = true;
                word.extend(chars.next());
            }
            '>' => {
                let fd = if in_word && !quoted && (word == "1" || word == "2") {
                    let fd = if word == "2" { 2 } else { 1 };
                    word.clear();
                    in_word = false;
                    fd
                } else {
                    end_word(&mut toks, &mut word, &mut in_word, &mut quoted);
                    1
                };
                toks.extend(redirection(fd, &mut chars)?.map(Tok::Redir));
            }
            ';' | '&' | '|' | '\n' => {
                end_word(&mut toks, &mut word, &mut in_word, &mut quoted);
                let op = match c {
                    '&' if chars.peek() == Some(&'&') => {
                        chars.next();
                        "&&"
                    }
                    '|' if chars.peek() == Some(&'|') => {
                        chars.next();
                        "||"
                    }
                    ';' | '\n' => ";",
                    other => return Err(format!("Syntax error: \"{other}\" unexpected")),
                };
                toks.push(Tok::Op(op));
            }
            c if c.is_whitespace() => end_word(&mut toks, &mut word, &mut in_word, &mut quoted),
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    end_word(&mut toks, &mut word, &mut in_word, &mut quoted);
    Ok(toks)
}

/// The rest of a redirection of `fd` after its `>`: `&1`, `&2` or `/dev/null` (`None`: a
/// redirection that changes nothing, such as `>&1`).
fn redirection(
    fd: u8,
    chars: &mut std::iter::Peekable<std::str::Chars<'_>>,
) -> Result<Option<Redir>, String> {
    if chars.peek() == Some(&'&') {
        chars.next();
        return match (fd, chars.next()) {
            (1, Some('2')) => Ok(Some(Redir::OutToErr)),
            (2, Some('1')) => Ok(Some(Redir::ErrToOut)),
            (1, Some('1')) | (2, Some('2')) => Ok(None),
            _ => Err("Syntax error: Bad fd number".into()),
        };
    }
    while chars.peek().is_some_and(|c| *c == ' ' || *c == '\t') {
        chars.next();
    }
    let mut target = String::new();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() || ";&|".contains(c) {
            break;
        }
        target.push(c);
        chars.next();
    }
    match (fd, target.as_str()) {
        (_, "") => Err("Syntax error: newline unexpected".into()),
        (1, "/dev/null") => Ok(Some(Redir::OutToNull)),
        (_, "/dev/null") => Ok(Some(Redir::ErrToNull)),
        (_, path) => Err(format!("cannot create {path}: Read-only file system")),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::testkit::{T0, cluster};

    #[test]
    fn scripts_table() {
        let c = cluster();
        let g = &c.guests[&100];
        // (script, exit code, stdout, stderr)
        let cases: &[(&str, i64, &str, &str)] = &[
            ("hostname && echo ok", 0, "web01\nok\n", ""),
            (
                "false || echo fallback; echo 'a  b'",
                0,
                "fallback\na  b\n",
                "",
            ),
            ("foo", 127, "", "sh: 1: foo: command not found\n"),
            ("echo out; echo err >&2; exit 3", 3, "out\n", "err\n"),
            ("echo err 1>&2", 0, "", "err\n"),
            (
                "cat /nope 2>&1",
                1,
                "cat: /nope: No such file or directory\n",
                "",
            ),
            ("cat /nope 2>/dev/null || echo missing", 0, "missing\n", ""),
            ("echo same >&1", 0, "same\n", ""),
            ("echo gone >/dev/null", 0, "", ""),
            ("echo '>&2' 2'>'x", 0, ">&2 2>x\n", ""),
            ("exit 300; echo never", 44, "", ""),
            ("false; exit", 1, "", ""),
            ("exit x", 2, "", "sh: 1: exit: Illegal number: x\n"),
            (
                "echo a > /tmp/f",
                2,
                "",
                "sh: 1: cannot create /tmp/f: Read-only file system\n",
            ),
            ("echo a >&3", 2, "", "sh: 1: Syntax error: Bad fd number\n"),
            ("echo 'open", 2, "", "sh: 1: Unterminated quoted string\n"),
        ];
        for (script, code, out, err) in cases {
            let r = run(g, "sh", script, None, T0);
            assert_eq!(
                (r.exitcode, r.out.as_str(), r.err.as_str()),
                (*code, *out, *err),
                "{script:?}"
            );
        }
    }

    #[test]
    fn sleeps_add_up_as_waiting_time() {
        let c = cluster();
        let g = &c.guests[&100];
        let r = run(g, "sh", "sleep 2; echo x; sleep 3", None, T0);
        assert_eq!(r.waited, 5.0);
        assert!(r.duration >= 5.0);
        assert_eq!(run(g, "sh", "exit 0; sleep 9", None, T0).waited, 0.0);
    }
}
