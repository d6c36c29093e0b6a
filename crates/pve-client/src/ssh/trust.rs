//! Host-key trust: is the key a node presented the one we expect? A node with pins accepts only
//! its pinned fingerprints; other nodes are looked up in the known_hosts file under the node name
//! and the address dialled (`[host]:port` off port 22), with hashed names, globs, negations and
//! `@revoked` lines as OpenSSH reads them. Nothing is learned: an unknown or changed key refuses
//! the connection, and the refusal names the fingerprint the node presented.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ring::hmac;
use russh::keys::ssh_key::known_hosts::{Entry, HostPatterns, Marker};
use russh::keys::{Algorithm, PublicKey};

use super::config::{HostKeyFingerprint, SshConfig};
use crate::error::{Error, ErrorKind};

/// Where a key is checked: the node's name and the address dialled.
#[derive(Debug, Clone)]
pub(crate) struct Peer<'a> {
    pub node: &'a str,
    pub host: &'a str,
    pub port: u16,
}

impl Peer<'_> {
    /// The names known_hosts may list this peer under, as OpenSSH writes them.
    fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = [self.node, self.host]
            .iter()
            .map(|h| {
                let h = h.to_ascii_lowercase();
                if self.port == 22 {
                    h
                } else {
                    format!("[{h}]:{}", self.port)
                }
            })
            .collect();
        names.dedup();
        names
    }
}

/// The trust settings of one SSH configuration.
#[derive(Debug, Clone, Default)]
pub(crate) struct Trust {
    known_hosts: Option<PathBuf>,
    pins: BTreeMap<String, Vec<HostKeyFingerprint>>,
}

impl Trust {
    pub fn new(config: &SshConfig) -> Self {
        Self {
            known_hosts: config.known_hosts.clone(),
            pins: config.pins.clone(),
        }
    }

    /// `Ok` when `key` is trusted for `peer`; otherwise an `ErrorKind::HostKey` error saying
    /// why and which fingerprint was seen.
    pub fn check(&self, peer: &Peer<'_>, key: &PublicKey) -> Result<(), Error> {
        let seen = HostKeyFingerprint::of(key);
        let seen_text = format!("{} {seen}", key.algorithm().as_str());
        let at = format!("node {} ({}:{})", peer.node, peer.host, peer.port);
        if let Some(pins) = self.pins.get(peer.node) {
            if pins.contains(&seen) {
                return Ok(());
            }
            let pinned: Vec<String> = pins.iter().map(ToString::to_string).collect();
            return Err(refuse(format!(
                "the SSH host key of {at} does not match its pin: it presented {seen_text}, \
                 pinned is {}. If the node's key really changed, check it on the node \
                 (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub) and update the pin",
                pinned.join(", ")
            )));
        }
        let Some(path) = &self.known_hosts else {
            return Err(refuse(format!(
                "no SSH host key is trusted for {at}: it presented {seen_text}. Pin it \
                 (PROXMOX_SSH_FINGERPRINTS={}={seen}) after checking it on the node, or give a \
                 known_hosts file",
                peer.node
            )));
        };
        let lines = read_known_hosts(path)?;
        check_known_hosts(&lines, path, peer, key)
    }

    /// The host-key algorithms known_hosts lists for `peer` (to offer those first, as OpenSSH
    /// does, so a node with several keys presents the one on file). Empty when the node is
    /// pinned or unlisted.
    pub fn known_algorithms(&self, peer: &Peer<'_>) -> Vec<Algorithm> {
        if self.pins.contains_key(peer.node) {
            return Vec::new();
        }
        let Some(path) = &self.known_hosts else {
            return Vec::new();
        };
        let names = peer.names();
        let mut algs: Vec<Algorithm> = Vec::new();
        for l in read_known_hosts(path).unwrap_or_default() {
            if l.marker.is_none() && l.matches(&names) {
                let a = l.key.algorithm();
                if !algs.contains(&a) {
                    algs.push(a);
                }
            }
        }
        algs
    }
}

/// The known_hosts verdict for `key` at `peer`, from the usable lines of the file at `path`.
pub(crate) fn check_known_hosts(
    lines: &[Line],
    path: &Path,
    peer: &Peer<'_>,
    key: &PublicKey,
) -> Result<(), Error> {
    let seen = HostKeyFingerprint::of(key);
    let seen_text = format!("{} {seen}", key.algorithm().as_str());
    let at = format!("node {} ({}:{})", peer.node, peer.host, peer.port);
    let names = peer.names();
    let mine: Vec<&Line> = lines.iter().filter(|l| l.matches(&names)).collect();
    if let Some(l) = mine
        .iter()
        .find(|l| l.marker == Some(Marker::Revoked) && l.key.key_data() == key.key_data())
    {
        return Err(refuse(format!(
            "the SSH host key {seen_text} of {at} is marked @revoked in {} line {}",
            path.display(),
            l.number
        )));
    }
    let plain: Vec<&&Line> = mine.iter().filter(|l| l.marker.is_none()).collect();
    if plain.iter().any(|l| l.key.key_data() == key.key_data()) {
        return Ok(());
    }
    if let Some(l) = plain
        .iter()
        .find(|l| same_kind(&l.key.algorithm(), &key.algorithm()))
    {
        return Err(refuse(format!(
            "the SSH host key of {at} CHANGED: {} line {} holds another {} key for it \
             ({}); it presented {seen_text}. This may be an attack; if the node was \
             reinstalled, check the new key on the node and update known_hosts",
            path.display(),
            l.number,
            key.algorithm().as_str(),
            HostKeyFingerprint::of(&l.key)
        )));
    }
    Err(refuse(format!(
        "the SSH host key of {at} is not in {} (looked up as {}): it presented {seen_text}",
        path.display(),
        names.join(", ")
    )))
}

fn refuse(message: String) -> Error {
    Error::new(ErrorKind::HostKey, message)
}

/// RSA keys are one kind whatever the signature hash.
pub(crate) fn same_kind(a: &Algorithm, b: &Algorithm) -> bool {
    let rsa = |x: &Algorithm| matches!(x, Algorithm::Rsa { .. });
    a == b || (rsa(a) && rsa(b))
}

/// One usable line of a known_hosts file.
#[derive(Debug)]
pub(crate) struct Line {
    number: usize,
    marker: Option<Marker>,
    hosts: HostPatterns,
    key: PublicKey,
}

impl Line {
    /// Whether this line names one of `names` (OpenSSH: a negated match excludes the line).
    fn matches(&self, names: &[String]) -> bool {
        match &self.hosts {
            HostPatterns::HashedName { salt, hash } => names.iter().any(|n| {
                let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, salt);
                hmac::verify(&key, n.as_bytes(), hash).is_ok()
            }),
            HostPatterns::Patterns(patterns) => names.iter().any(|n| {
                let mut hit = false;
                for p in patterns {
                    let p = p.to_ascii_lowercase();
                    if let Some(neg) = p.strip_prefix('!') {
                        if glob(neg.as_bytes(), n.as_bytes()) {
                            return false;
                        }
                    } else if glob(p.as_bytes(), n.as_bytes()) {
                        hit = true;
                    }
                }
                hit
            }),
        }
    }
}

/// Reads every line that parses; others are skipped with a warning (OpenSSH does the same).
fn read_known_hosts(path: &Path) -> Result<Vec<Line>, Error> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Error::config(format!(
            "cannot read the SSH known_hosts file {}: {e}",
            path.display()
        ))
    })?;
    Ok(parse_known_hosts(&text, path))
}

/// The usable lines of a known_hosts file's text; `path` names the file in warnings.
pub(crate) fn parse_known_hosts(text: &str, path: &Path) -> Vec<Line> {
    let mut lines = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let words: Vec<&str> = raw.split_whitespace().collect();
        if words.is_empty() || words[0].starts_with('#') {
            continue;
        }
        match words.join(" ").parse::<Entry>() {
            Ok(e) => lines.push(Line {
                number: i + 1,
                marker: e.marker().copied(),
                hosts: e.host_patterns().clone(),
                key: e.public_key().clone(),
            }),
            Err(e) => {
                tracing::warn!(file = %path.display(), line = i + 1, error = %e, "skipping an unreadable known_hosts line");
            }
        }
    }
    lines
}

/// OpenSSH's pattern match: `*` any run of characters, `?` one character.
pub(crate) fn glob(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some(b'*') => {
                star = Some((p, t));
                p += 1;
            }
            Some(&c) if c == b'?' || c == text[t] => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    p = sp + 1;
                    t = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p.min(pattern.len())..].iter().all(|c| *c == b'*')
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use russh::keys::PrivateKey;
    use russh::keys::ssh_key::private::Ed25519Keypair;

    use super::*;

    fn key(seed: u8) -> PublicKey {
        PrivateKey::from(Ed25519Keypair::from_seed(&[seed; 32]))
            .public_key()
            .clone()
    }

    fn line(hosts: &str, k: &PublicKey) -> String {
        format!("{hosts} {}", k.to_openssh().unwrap())
    }

    /// `|1|salt|hash` for `name`, as `ssh-keygen -H` writes it.
    fn hashed(name: &str) -> String {
        use base64::Engine;
        let salt = [7u8; 20];
        let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, &salt);
        let mac = hmac::sign(&key, name.as_bytes());
        let b64 = base64::engine::general_purpose::STANDARD;
        format!("|1|{}|{}", b64.encode(salt), b64.encode(mac.as_ref()))
    }

    struct File(PathBuf);
    impl File {
        fn new(name: &str, text: &str) -> Self {
            let p = std::env::temp_dir().join(format!(
                "pve-client-known-hosts-{}-{name}",
                std::process::id()
            ));
            std::fs::write(&p, text).unwrap();
            Self(p)
        }
    }
    impl Drop for File {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    fn trust_file(f: &File) -> Trust {
        Trust {
            known_hosts: Some(f.0.clone()),
            pins: BTreeMap::new(),
        }
    }

    const PVE1: Peer<'static> = Peer {
        node: "pve1",
        host: "10.0.0.11",
        port: 22,
    };

    #[test]
    fn pins_accept_only_their_keys() {
        let (good, other) = (key(1), key(2));
        let trust = Trust {
            known_hosts: None,
            pins: BTreeMap::from([(
                "pve1".to_owned(),
                vec![
                    HostKeyFingerprint::of(&key(9)),
                    HostKeyFingerprint::of(&good),
                ],
            )]),
        };
        trust.check(&PVE1, &good).unwrap();
        let e = trust.check(&PVE1, &other).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::HostKey);
        let seen = HostKeyFingerprint::of(&other).to_string();
        assert!(
            e.message()
                .contains(&format!("presented ssh-ed25519 {seen}")),
            "{e}"
        );
        assert!(e.message().contains("does not match its pin"), "{e}");
        // Another node has no trust at all: refused, with the fingerprint to pin.
        let pve2 = Peer {
            node: "pve2",
            ..PVE1
        };
        let e = trust.check(&pve2, &good).unwrap_err();
        let fp = HostKeyFingerprint::of(&good);
        assert!(
            e.message()
                .contains(&format!("PROXMOX_SSH_FINGERPRINTS=pve2={fp}")),
            "{e}"
        );
    }

    #[test]
    fn known_hosts_by_name_address_port_hash_and_glob() {
        let k = key(3);
        let cases: &[(&str, Peer<'static>, bool)] = &[
            ("pve1", PVE1, true),
            ("PVE1", PVE1, true),
            ("10.0.0.11", PVE1, true),
            ("other,10.0.0.11", PVE1, true),
            ("pve9", PVE1, false),
            ("pve*", PVE1, true),
            ("10.0.0.?1", PVE1, true),
            ("pve*,!pve1", PVE1, false),
            ("[pve1]:2222", Peer { port: 2222, ..PVE1 }, true),
            ("pve1", Peer { port: 2222, ..PVE1 }, false),
            ("[10.0.0.11]:2222", Peer { port: 2222, ..PVE1 }, true),
        ];
        for (hosts, peer, want) in cases {
            let f = File::new("glob", &format!("# comment\n\n{}\n", line(hosts, &k)));
            let got = trust_file(&f).check(peer, &k);
            assert_eq!(got.is_ok(), *want, "{hosts} for {peer:?}: {got:?}");
        }
        for name in ["pve1", "10.0.0.11"] {
            let f = File::new("hashed", &line(&hashed(name), &k));
            trust_file(&f).check(&PVE1, &k).unwrap();
        }
        let f = File::new("hashed-port", &line(&hashed("[127.0.0.1]:2200"), &k));
        let local = Peer {
            node: "n",
            host: "127.0.0.1",
            port: 2200,
        };
        trust_file(&f).check(&local, &k).unwrap();
        assert!(trust_file(&f).check(&PVE1, &k).is_err());
    }

    #[test]
    fn changed_unknown_and_revoked_keys_refuse_with_the_seen_fingerprint() {
        let (old, new) = (key(4), key(5));
        let seen = HostKeyFingerprint::of(&new).to_string();
        let f = File::new("changed", &format!("junk line\n{}\n", line("pve1", &old)));
        let e = trust_file(&f).check(&PVE1, &new).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::HostKey);
        assert!(e.message().contains("CHANGED"), "{e}");
        assert!(e.message().contains(" line 2 "), "{e}");
        assert!(e.message().contains(&seen), "{e}");
        assert!(
            e.message()
                .contains(&HostKeyFingerprint::of(&old).to_string()),
            "{e}"
        );
        let f = File::new("unknown", &line("pve2", &old));
        let e = trust_file(&f).check(&PVE1, &new).unwrap_err();
        assert!(e.message().contains("is not in"), "{e}");
        assert!(e.message().contains(&seen), "{e}");
        let f = File::new(
            "revoked",
            &format!("{}\n@revoked {}\n", line("pve1", &new), line("*", &new)),
        );
        let e = trust_file(&f).check(&PVE1, &new).unwrap_err();
        assert!(e.message().contains("@revoked"), "{e}");
        let missing = Trust {
            known_hosts: Some(PathBuf::from("/nonexistent/known_hosts")),
            pins: BTreeMap::new(),
        };
        let e = missing.check(&PVE1, &new).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Config, "{e}");
    }

    #[test]
    fn known_algorithms_come_from_the_file() {
        let rsa = "pve1 ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQCYxFYe3iyhPyxafIr3tUkR6UUcnphXS0fC0FrxdEFQBFiwLogyXXISGdt8BZlvf7fIYtjuNpKUvPa1ll1VFTaRHXiThhdiq5t2RaalX3EsBetHqeJYxW80y98MaraDsmQJEAhPhSARQtqS2VvBtUI/vF6xeANt9FvMxB+q3gY+6w==";
        let f = File::new(
            "algs",
            &format!(
                "{rsa}\n{}\n{}\n",
                line("pve1", &key(6)),
                line("pve2", &key(7))
            ),
        );
        let algs = trust_file(&f).known_algorithms(&PVE1);
        assert_eq!(algs.len(), 2, "{algs:?}");
        assert!(matches!(algs[0], Algorithm::Rsa { .. }));
        assert_eq!(algs[1], Algorithm::Ed25519);
    }

    #[test]
    fn glob_matches_like_openssh() {
        for (p, t, want) in [
            ("*", "", true),
            ("*", "abc", true),
            ("a*c", "abbbc", true),
            ("a*c", "abcd", false),
            ("?", "", false),
            ("a?c", "abc", true),
            ("*.lan", "pve1.lan", true),
            ("*.lan", "pve1.lan.evil", false),
            ("", "", true),
            ("", "a", false),
        ] {
            assert_eq!(glob(p.as_bytes(), t.as_bytes()), want, "{p:?} {t:?}");
        }
    }
}
