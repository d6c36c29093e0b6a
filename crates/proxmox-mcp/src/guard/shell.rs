//! A reading of a command line the way a POSIX shell splits it, for the exec policy's deny
//! patterns: simple commands (split at `;`, `&`, `|`, newlines, parentheses and backticks),
//! their words with quotes, escapes and line continuations removed, and the commands inside
//! payloads handed to a shell (`sh -c '...'`, `bash -xc`, `eval`) or held in any word that
//! reads as a command line. It expands nothing: a program name that comes from a variable is
//! reported, not guessed.
//!
//! This is a reader for a best-effort deny list, not a shell: what it cannot read is reported
//! as an error so that the policy can refuse it.

/// Programs whose `-c` argument is a command line they run.
const SHELLS: [&str; 9] = [
    "sh", "bash", "dash", "zsh", "ksh", "mksh", "ash", "yash", "busybox",
];
/// Words that may come before a command's program.
const RESERVED: [&str; 13] = [
    "!", "{", "}", "if", "then", "elif", "else", "fi", "do", "done", "while", "until", "time",
];
/// How deep payloads inside payloads are read.
const MAX_DEPTH: usize = 4;

/// What reading a command line found.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(super) struct Reading {
    /// Every simple command, top level first, then those found in payloads; each as its words.
    pub(crate) commands: Vec<Vec<String>>,
    /// Why the line (or a shell payload in it) cannot be read as a shell would, if it cannot.
    pub(crate) error: Option<String>,
    /// A program name taken from a variable (`$x`, `${x}`) at the top level or in a shell
    /// payload, as written.
    pub(crate) variable_program: Option<String>,
}

impl Reading {
    /// The texts a deny pattern is matched against, per simple command: its words joined by
    /// one space, and the same from its program on with every word reduced to its last path
    /// component (`/bin/rm` is `rm`).
    pub(super) fn texts(&self) -> impl Iterator<Item = String> + '_ {
        self.commands.iter().flat_map(|words| {
            let joined = words.join(" ");
            let start = program_index(words).unwrap_or(0);
            let based = words[start..]
                .iter()
                .map(|w| basename(w))
                .collect::<Vec<_>>()
                .join(" ");
            [joined, based]
        })
    }
}

/// Reads `line` (see the module documentation).
pub(super) fn read(line: &str) -> Reading {
    let mut out = Reading::default();
    read_into(line, Context::Shell, 0, &mut out);
    out
}

/// Whether a text is run by a shell (the line itself, a `-c` payload) or only might be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Context {
    Shell,
    Maybe,
}

fn read_into(line: &str, ctx: Context, depth: usize, out: &mut Reading) {
    if depth > MAX_DEPTH {
        if ctx == Context::Shell && out.error.is_none() {
            out.error = Some(format!("shell payloads nested more than {MAX_DEPTH} deep"));
        }
        return;
    }
    let commands = match lex(line) {
        Ok(c) => c,
        Err(e) => {
            if ctx == Context::Shell && out.error.is_none() {
                out.error = Some(e);
            }
            // A word that is not a command line is still matched as text.
            return;
        }
    };
    for words in commands {
        let texts: Vec<String> = words.iter().map(|w| w.text.clone()).collect();
        let program = program_index(&texts);
        let start = program.unwrap_or(texts.len());
        if ctx == Context::Shell
            && out.variable_program.is_none()
            && let Some(w) = program.and_then(|i| words.get(i))
            && w.expands
        {
            out.variable_program = Some(w.text.clone());
        }
        let mut payloads = Vec::new();
        for (i, w) in texts.iter().enumerate().skip(start) {
            let name = basename(w);
            if name == "eval" {
                payloads.push((texts[i + 1..].join(" "), Context::Shell));
            } else if SHELLS.contains(&name) {
                // `sh -c CMD`, `sh -xc CMD`, `bash -e -c CMD`: the word after the option.
                let rest = &texts[i + 1..];
                if let Some(c) = rest.iter().position(|o| is_c_option(o))
                    && let Some(cmd) = rest.get(c + 1)
                {
                    payloads.push((cmd.clone(), Context::Shell));
                }
            }
        }
        for w in texts.iter().skip(start + 1) {
            if w.chars()
                .any(|c| c.is_whitespace() || ";&|()<>`$\\'\"".contains(c))
                && !payloads.iter().any(|(p, _)| p == w)
            {
                payloads.push((w.clone(), Context::Maybe));
            }
        }
        out.commands.push(texts);
        for (payload, pctx) in payloads {
            read_into(&payload, pctx, depth + 1, out);
        }
    }
}

/// `-c`, or a cluster of short options holding `c` (`-xc`, `-ec`).
fn is_c_option(word: &str) -> bool {
    word.strip_prefix('-')
        .is_some_and(|o| !o.starts_with('-') && !o.is_empty() && o.contains('c'))
}

/// Index of a command's program: after leading assignments (`A=b`) and reserved words; `None`
/// when there is none (`A=b` alone).
fn program_index(words: &[String]) -> Option<usize> {
    words
        .iter()
        .position(|w| !RESERVED.contains(&w.as_str()) && !is_assignment(w))
}

fn is_assignment(word: &str) -> bool {
    word.split_once('=').is_some_and(|(name, _)| {
        !name.is_empty()
            && !name.starts_with(|c: char| c.is_ascii_digit())
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    })
}

/// The last path component of a word (`/usr/bin/../bin/rm` is `rm`; `dir/` stays).
fn basename(word: &str) -> &str {
    match word.rsplit('/').next() {
        Some(last) if !last.is_empty() => last,
        _ => word,
    }
}

/// One word: its text once quotes and escapes are removed, and whether part of it is a `$`
/// expansion the shell would replace.
#[derive(Debug, Default)]
struct Word {
    text: String,
    expands: bool,
}

/// Splits a line into simple commands of words, as a POSIX shell's tokenizer does (without
/// expanding anything). An unterminated quote is an error.
fn lex(line: &str) -> Result<Vec<Vec<Word>>, String> {
    let mut commands: Vec<Vec<Word>> = Vec::new();
    let mut command: Vec<Word> = Vec::new();
    let mut word: Option<Word> = None;
    let mut chars = line.chars().peekable();
    fn end_word(word: &mut Option<Word>, command: &mut Vec<Word>) {
        if let Some(w) = word.take() {
            command.push(w);
        }
    }
    fn end_command(commands: &mut Vec<Vec<Word>>, command: &mut Vec<Word>) {
        if !command.is_empty() {
            commands.push(std::mem::take(command));
        }
    }
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' | '\r' => end_word(&mut word, &mut command),
            '\n' | ';' | '&' | '|' | '(' | ')' | '`' => {
                end_word(&mut word, &mut command);
                end_command(&mut commands, &mut command);
            }
            '<' | '>' => end_word(&mut word, &mut command),
            '#' if word.is_none() => {
                // A comment, to the end of the line.
                for n in chars.by_ref() {
                    if n == '\n' {
                        break;
                    }
                }
                end_command(&mut commands, &mut command);
            }
            '\\' => match chars.next() {
                Some('\n') | None => {}
                Some(n) => word.get_or_insert_with(Word::default).text.push(n),
            },
            '\'' => {
                let w = word.get_or_insert_with(Word::default);
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(n) => w.text.push(n),
                        None => return Err("a single quote is not closed".into()),
                    }
                }
            }
            '"' => {
                let w = word.get_or_insert_with(Word::default);
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some('\n') => {}
                            Some(n @ ('$' | '`' | '"' | '\\')) => w.text.push(n),
                            Some(n) => {
                                w.text.push('\\');
                                w.text.push(n);
                            }
                            None => return Err("a double quote is not closed".into()),
                        },
                        Some('$') => {
                            w.expands |= chars.peek().is_some_and(|&n| starts_expansion(n));
                            w.text.push('$');
                        }
                        Some(n) => w.text.push(n),
                        None => return Err("a double quote is not closed".into()),
                    }
                }
            }
            '$' => {
                let w = word.get_or_insert_with(Word::default);
                w.expands |= chars.peek().is_some_and(|&n| starts_expansion(n));
                w.text.push('$');
            }
            other => word.get_or_insert_with(Word::default).text.push(other),
        }
    }
    end_word(&mut word, &mut command);
    end_command(&mut commands, &mut command);
    Ok(commands)
}

/// Whether `$` followed by `c` is an expansion (`$x`, `${x}`, `$(...)`, `$1`, `$?`...).
fn starts_expansion(c: char) -> bool {
    c.is_ascii_alphanumeric() || "_{(@*#?-$!".contains(c)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn commands(line: &str) -> Vec<Vec<String>> {
        read(line).commands
    }

    fn words(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn quotes_escapes_and_whitespace_are_removed() {
        for (line, want) in [
            ("rm -rf x", vec!["rm", "-rf", "x"]),
            ("\\rm -rf x", vec!["rm", "-rf", "x"]),
            ("r''m\t-rf  x", vec!["rm", "-rf", "x"]),
            ("\"r\"m -rf x", vec!["rm", "-rf", "x"]),
            ("r\\m -rf\\\n x", vec!["rm", "-rf", "x"]),
            ("echo '' x", vec!["echo", "", "x"]),
        ] {
            assert_eq!(commands(line), vec![words(&want)], "{line:?}");
        }
    }

    #[test]
    fn double_quotes_keep_what_their_backslash_does_not_escape() {
        let c = commands("echo \"a \\\"b\\\" \\q\"");
        assert_eq!(c[0], words(&["echo", "a \"b\" \\q"]));
    }

    #[test]
    fn commands_split_at_operators_and_payloads_are_read() {
        assert_eq!(
            commands("ls;rm x && (echo y) | tail # rm -rf /\nid"),
            vec![
                words(&["ls"]),
                words(&["rm", "x"]),
                words(&["echo", "y"]),
                words(&["tail"]),
                words(&["id"]),
            ]
        );
        assert_eq!(
            commands("sudo sh -xc 'reb''oot; rm -rf x'"),
            vec![
                words(&["sudo", "sh", "-xc", "reboot; rm -rf x"]),
                words(&["reboot"]),
                words(&["rm", "-rf", "x"]),
            ]
        );
        assert_eq!(
            commands("eval 'rm -rf x'"),
            vec![words(&["eval", "rm -rf x"]), words(&["rm", "-rf", "x"]),]
        );
        let texts: Vec<String> = read("FOO=1 /usr/bin/../bin/rm -rf /tmp/x")
            .texts()
            .collect();
        assert_eq!(texts, ["FOO=1 /usr/bin/../bin/rm -rf /tmp/x", "rm -rf x"]);
    }

    #[test]
    fn variables_as_programs_and_unreadable_lines_are_reported() {
        assert_eq!(
            read("x=rm; $x -rf y").variable_program.as_deref(),
            Some("$x")
        );
        assert_eq!(
            read("sh -c '${X:-rm} y'").variable_program.as_deref(),
            Some("${X:-rm}")
        );
        assert_eq!(read("echo $HOME \"$USER\"").variable_program, None);
        assert_eq!(read("x=$HOME; echo $x").variable_program, None);
        assert_eq!(read("echo '$x'").variable_program, None, "single quotes");
        assert_eq!(read("awk '{print $1}' f").variable_program, None);
        assert!(read("echo 'open").error.unwrap().contains("single quote"));
        assert!(read("echo \"open").error.unwrap().contains("double quote"));
        assert!(read("sh -c \"echo 'open\"").error.is_some(), "in a payload");
        assert_eq!(
            read("echo \"it's\"").error,
            None,
            "a word that is no command"
        );
        let deep = "sh -c \"sh -c 'sh -c \\\"sh -c x\\\"'\"";
        assert_eq!(read(deep).error, None);
    }
}
