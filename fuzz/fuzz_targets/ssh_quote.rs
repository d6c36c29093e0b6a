//! pve-client's quoting of an argv for the node's login shell, read back by pve-sim's SSH
//! command-line parser (a POSIX shell's word splitting and unquoting). Literal inputs are the
//! argv with NUL between arguments; generated ones assemble arguments from shell
//! metacharacters, quotes, white space and text. Properties: `command_line` refuses exactly an
//! empty argv, a blank program name and a NUL byte; whatever it builds, plain, inside the
//! hang-up prologue (`session_line`) or as `pct exec VMID -- ARGV`, reads back as the same argv.

#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;
use proxmox_mcp_fuzz::{Input, input};
use pve_client::ssh::{command_line, pct_exec_argv, session_line};
use pve_sim::fuzzing::ssh_line;

const PIECES: &[&str] = &[
    "'",
    "\"",
    "\\",
    "$(id)",
    "`id`",
    "$HOME",
    ";",
    "|",
    "&",
    "&&",
    ">",
    "<",
    "*",
    "?",
    "[a]",
    "{a,b}",
    "~",
    "#",
    "!",
    "A=1",
    "=",
    " ",
    "\t",
    "\n",
    "\r",
    "-",
    "--",
    "é",
    "\u{1F600}",
    "'\\''",
    "\\\n",
    "pct",
    "exec",
    "101",
    "hostname",
    "",
];

#[derive(Debug, Arbitrary)]
enum Piece {
    Special(u8),
    Text(String),
}

fn generated(u: &mut Unstructured<'_>) -> (Vec<String>, u32) {
    let args: Vec<Vec<Piece>> = Vec::arbitrary(u).unwrap_or_default();
    let argv = args
        .iter()
        .map(|pieces| {
            pieces
                .iter()
                .map(|p| match p {
                    Piece::Special(i) => PIECES[usize::from(*i) % PIECES.len()].to_owned(),
                    Piece::Text(s) => s.clone(),
                })
                .collect()
        })
        .collect();
    (argv, u.arbitrary().unwrap_or(100))
}

fuzz_target!(|data: &[u8]| {
    let (argv, vmid) = match input(data) {
        Input::Literal(bytes) => {
            let text = String::from_utf8_lossy(bytes);
            let argv: Vec<String> = text.split('\0').map(str::to_owned).collect();
            (argv, 101)
        }
        Input::Generated(mut u) => generated(&mut u),
    };
    let line = command_line(&argv);
    let refusable =
        argv.first().is_none_or(|p| p.trim().is_empty()) || argv.iter().any(|a| a.contains('\0'));
    let Ok(line) = line else {
        assert!(refusable, "refused a valid argv {argv:?}");
        return;
    };
    assert!(!refusable, "accepted {argv:?} as {line:?}");
    assert_eq!(
        ssh_line(line.as_bytes()),
        Ok((argv.clone(), false)),
        "{line:?}"
    );
    let wrapped = session_line(&line);
    assert_eq!(
        ssh_line(wrapped.as_bytes()),
        Ok((argv.clone(), true)),
        "{wrapped:?}"
    );
    let pct = pct_exec_argv(vmid, &argv);
    let pct_line = command_line(&pct).expect("pct exec argv has a program name");
    let mut want = vec![
        "pct".to_owned(),
        "exec".to_owned(),
        vmid.to_string(),
        "--".to_owned(),
    ];
    want.extend(argv);
    assert_eq!(
        ssh_line(pct_line.as_bytes()),
        Ok((want, false)),
        "{pct_line:?}"
    );
});
