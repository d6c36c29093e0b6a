//! pve-client's host-key trust over a known_hosts file: plain, hashed (`|1|salt|hash`),
//! `[host]:port`, globs, negations, `@revoked` and `@cert-authority` markers, comments and junk.
//! Literal inputs are the file's text; generated ones assemble lines from markers, host patterns
//! and four real keys. Each input is checked for four peers and four keys. Properties: no
//! panic; a refusal is always a host-key error; a line naming the peer with its key makes the
//! key trusted unless the file revokes it; a revocation of the key makes it refused; the host
//! pattern match agrees with a plain reference matcher.

#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;
use proxmox_mcp_fuzz::{Input, input};
use pve_client::ErrorKind;
use pve_client::fuzzing::{host_glob, known_hosts_check};

/// Four host keys made for these tests (three ed25519, one ECDSA P-256).
const KEYS: &[&str] = &[
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA9Ov7Ra30/RyTRd/ziAeiWadLyklEv8PRwTJ+km5b3U",
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMWavF88HXjA4b3WfRDy2XEDuLS2STxXajxOrekUPe8t",
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAII16UBnlBcZ9nGl44ThqrvhwhyuPksi9VoFMSm/xxbtJ",
    "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBChINQkPavoOrED3tt6wIeQ6w9/g0yyQSs1Wr7lrCepCcfv5uW3TbkoVKPOhgEmII2v2Xsg4JkBvuteFwYqXHVs=",
];
/// Peers: node name, address dialled, port.
const PEERS: &[(&str, &str, u16)] = &[
    ("pve1", "10.0.0.11", 22),
    ("pve1", "10.0.0.11", 2222),
    ("pve-2", "fd00::2", 22),
    ("n", "127.0.0.1", 2200),
];
const PATTERNS: &[&str] = &[
    "pve1",
    "PVE1",
    "10.0.0.11",
    "[10.0.0.11]:2222",
    "[pve1]:2222",
    "pve-2",
    "fd00::2",
    "[127.0.0.1]:2200",
    "n",
    "pve*",
    "*",
    "?",
    "10.0.0.?1",
    "!pve1",
    "!*",
    "*.lan",
    "[n]:2200",
    "|1|w8+XHS9fYgCJb4tNvv/aRuV6LDU=|pfVCOtsrBs5Ffs3OH741eu/etcQ=",
];
const MARKERS: &[&str] = &["", "", "", "@revoked ", "@cert-authority ", "# ", "@bogus "];

#[derive(Debug, Arbitrary)]
struct GenLine {
    marker: u8,
    patterns: Vec<u8>,
    key: u8,
    /// Breaks the line: cuts the key's base64, or appends a comment.
    damage: Option<u8>,
}

fn pick<'a>(list: &[&'a str], i: u8) -> &'a str {
    list[usize::from(i) % list.len()]
}

fn generated(u: &mut Unstructured<'_>) -> String {
    let lines: Vec<GenLine> = Vec::arbitrary(u).unwrap_or_default();
    let mut text = String::new();
    for l in lines {
        let patterns: Vec<&str> = l.patterns.iter().map(|p| pick(PATTERNS, *p)).collect();
        let mut key = pick(KEYS, l.key).to_owned();
        match l.damage {
            Some(d) if d % 2 == 0 => key.truncate(key.len().saturating_sub(usize::from(d % 9) + 1)),
            Some(_) => key.push_str(" comment here"),
            None => {}
        }
        text.push_str(&format!(
            "{}{} {key}\n",
            pick(MARKERS, l.marker),
            patterns.join(",")
        ));
    }
    text
}

fuzz_target!(|data: &[u8]| {
    let text = match input(data) {
        Input::Literal(bytes) => String::from_utf8_lossy(bytes).into_owned(),
        Input::Generated(mut u) => generated(&mut u),
    };
    // Every peer and key once; the properties that need the file rewritten for one of them,
    // picked by the input, so a run stays fast.
    let chosen = text.len() % (PEERS.len() * KEYS.len());
    for (i, (node, host, port)) in PEERS.iter().enumerate() {
        for (j, key) in KEYS.iter().enumerate() {
            let deep = i * KEYS.len() + j == chosen;
            check(&text, node, host, *port, key, deep);
        }
    }
    // The reference matcher backtracks; keep its patterns small.
    let small = |w: &&str| w.len() <= 64 && w.matches('*').count() <= 4;
    for word in text.split_whitespace().take(16).filter(small) {
        for (node, host, _) in PEERS {
            assert_eq!(
                host_glob(word, node),
                reference_glob(word.as_bytes(), node.as_bytes())
            );
            assert_eq!(
                host_glob(word, host),
                reference_glob(word.as_bytes(), host.as_bytes())
            );
        }
        assert!(
            host_glob(word, word),
            "a pattern matches its own text: {word:?}"
        );
    }
});

fn check(text: &str, node: &str, host: &str, port: u16, key: &str, deep: bool) {
    let Some(verdict) = known_hosts_check(text, node, host, port, key) else {
        panic!("a test key does not parse: {key}");
    };
    let revoked = match &verdict {
        Ok(()) => false,
        Err(e) => {
            assert_eq!(e.kind(), ErrorKind::HostKey, "{e}");
            e.message().contains("@revoked")
        }
    };
    if !deep {
        return;
    }
    let name = if port == 22 {
        node.to_owned()
    } else {
        format!("[{node}]:{port}")
    };
    let listed = format!("{text}\n{name} {key}\n");
    match known_hosts_check(&listed, node, host, port, key) {
        Some(Ok(())) => assert!(!revoked, "a revoked key became trusted"),
        Some(Err(e)) => assert!(
            revoked && e.message().contains("@revoked"),
            "the peer's own line did not trust its key: {e}"
        ),
        None => unreachable!(),
    }
    let revoking = format!("{text}\n@revoked * {key}\n");
    match known_hosts_check(&revoking, node, host, port, key) {
        Some(Err(e)) => assert!(e.message().contains("@revoked"), "{e}"),
        other => panic!("a revoked key was not refused: {other:?}"),
    }
}

/// OpenSSH's `*` and `?` by plain recursion over the lowercased pattern and name.
fn reference_glob(pattern: &[u8], text: &[u8]) -> bool {
    match pattern.split_first() {
        None => text.is_empty(),
        Some((b'*', rest)) => (0..=text.len()).any(|i| reference_glob(rest, &text[i..])),
        Some((c, rest)) => match text.split_first() {
            Some((t, more)) if *c == b'?' || c == t => reference_glob(rest, more),
            _ => false,
        },
    }
}
