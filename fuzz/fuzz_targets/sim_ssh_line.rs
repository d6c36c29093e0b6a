//! pve-sim's SSH command-line parser: an exec request read as the simulated node's login shell
//! reads it (quotes, backslashes, the hang-up prologue, refused shell syntax). Input: the exec
//! request's bytes. Properties: no panic; a refusal is bash's status 2 (an open quote) or 127
//! (unsupported syntax) with a message; the words it reads, quoted again by pve-client, read
//! back the same; the prologue is recognised exactly when the line is wrapped in it, and
//! wrapping a line changes nothing else.

#![no_main]

use libfuzzer_sys::fuzz_target;
use pve_client::ssh::command_line;
use pve_sim::fuzzing::ssh_line;
use pve_sim::ssh::{PROLOGUE_HEAD, PROLOGUE_TAIL};

fuzz_target!(|data: &[u8]| {
    let read = ssh_line(data);
    let wrapped = data.starts_with(PROLOGUE_HEAD.as_bytes())
        && data.ends_with(PROLOGUE_TAIL.as_bytes())
        && data.len() >= PROLOGUE_HEAD.len() + PROLOGUE_TAIL.len();
    match &read {
        Ok((words, prologue)) => {
            assert_eq!(*prologue, wrapped, "prologue seen wrongly");
            let quotable = words.first().is_some_and(|w| !w.trim().is_empty())
                && words.iter().all(|w| !w.contains('\0'));
            if quotable {
                let line = command_line(words).expect("quotable words quote");
                assert_eq!(
                    ssh_line(line.as_bytes()),
                    Ok((words.clone(), false)),
                    "{line:?}"
                );
            }
        }
        Err((status, message)) => {
            assert!(*status == 2 || *status == 127, "status {status}");
            assert!(message.starts_with("bash: "), "{message:?}");
        }
    }
    if !wrapped && std::str::from_utf8(data).is_ok() {
        let mut wrapped = PROLOGUE_HEAD.as_bytes().to_vec();
        wrapped.extend_from_slice(data);
        wrapped.extend_from_slice(PROLOGUE_TAIL.as_bytes());
        let inner = ssh_line(&wrapped);
        let want = read.map(|(words, _)| (words, true));
        assert_eq!(inner, want, "the prologue changed how the command reads");
    }
});
