//! Keys of the simulated nodes' SSH servers: each node's ed25519 host key, derived from a seed and
//! the node's name (restarts with the same seed keep every fingerprint), and the public keys
//! allowed to log in, read from OpenSSH `authorized_keys` text.

use russh::keys::ssh_key::private::Ed25519Keypair;
use russh::keys::{HashAlg, PrivateKey, PublicKey};
use sha2::{Digest, Sha256};

/// The host-key seed used unless another is configured. The keys it gives are public knowledge:
/// they identify a simulator, nothing else.
pub const DEFAULT_HOST_KEY_SEED: &str = "pve-sim";

/// The host key of `node` for `seed`.
pub(super) fn host_key(seed: &str, node: &str) -> PrivateKey {
    let digest: [u8; 32] = Sha256::new()
        .chain_update(b"pve-sim ssh host key\0")
        .chain_update(seed.as_bytes())
        .chain_update([0])
        .chain_update(node.as_bytes())
        .finalize()
        .into();
    PrivateKey::from(Ed25519Keypair::from_seed(&digest))
}

/// `SHA256:…` as `ssh-keygen -l` prints it.
pub(super) fn fingerprint(key: &PublicKey) -> String {
    key.fingerprint(HashAlg::Sha256).to_string()
}

/// The algorithm names a public key line may start with.
const KEY_TYPES: &[&str] = &[
    "ssh-ed25519",
    "ssh-rsa",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "sk-ssh-ed25519@openssh.com",
    "sk-ecdsa-sha2-nistp256@openssh.com",
];

/// The public keys in `texts`, each holding one or more lines in `authorized_keys` format
/// (`[options] TYPE BASE64 [comment]`; blank lines and `#` comments skipped). Options are not
/// enforced. At least one key is required.
pub(super) fn authorized_keys(texts: &[String]) -> Result<Vec<PublicKey>, String> {
    let mut keys = Vec::new();
    for (n, line) in texts.iter().flat_map(|t| t.lines()).enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        let Some(at) = words.iter().position(|w| KEY_TYPES.contains(w)) else {
            return Err(format!(
                "authorized key line {}: no key type ({}) in {line:?}",
                n + 1,
                KEY_TYPES.join(", ")
            ));
        };
        let Some(data) = words.get(at + 1) else {
            return Err(format!(
                "authorized key line {}: the key data is missing",
                n + 1
            ));
        };
        let key = PublicKey::from_openssh(&format!("{} {data}", words[at]))
            .map_err(|e| format!("authorized key line {}: {e}", n + 1))?;
        keys.push(key);
    }
    if keys.is_empty() {
        return Err("no authorized public key: give at least one (a file or key text)".into());
    }
    Ok(keys)
}

/// An `--ssh-authorized-keys` value: key text when it holds a key type, else a file to read.
pub(crate) fn key_source(value: &str) -> Result<String, String> {
    let trimmed = value.trim();
    if trimmed.split_whitespace().any(|w| KEY_TYPES.contains(&w)) {
        return Ok(trimmed.to_owned());
    }
    std::fs::read_to_string(trimmed)
        .map_err(|e| format!("cannot read the authorized keys file {trimmed}: {e}"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn line(key: &PrivateKey) -> String {
        key.public_key().to_openssh().unwrap()
    }

    #[test]
    fn host_keys_are_stable_per_seed_and_node() {
        let a = host_key(DEFAULT_HOST_KEY_SEED, "pve01");
        assert_eq!(line(&a), line(&host_key(DEFAULT_HOST_KEY_SEED, "pve01")));
        assert_ne!(line(&a), line(&host_key(DEFAULT_HOST_KEY_SEED, "pve02")));
        assert_ne!(line(&a), line(&host_key("other", "pve01")));
        let fp = fingerprint(a.public_key());
        assert!(fp.starts_with("SHA256:") && fp.len() == 7 + 43, "{fp}");
    }

    #[test]
    fn authorized_keys_text_with_options_comments_and_blanks() {
        let k1 = line(&host_key("a", "x"));
        let k2 = line(&host_key("b", "x"));
        let text = format!("# admins\n\n{k1} alice@laptop\nno-pty,from=\"10.0.0.1\" {k2}\n");
        let keys = authorized_keys(&[text]).unwrap();
        assert_eq!(keys.len(), 2);
        assert_eq!(
            keys[1].key_data(),
            host_key("b", "x").public_key().key_data()
        );
        assert!(authorized_keys(&["# nothing\n".into()]).is_err());
        let e = authorized_keys(&["ssh-ed25519 notbase64!".into()]).unwrap_err();
        assert!(e.starts_with("authorized key line 1:"), "{e}");
        assert!(authorized_keys(&["hello world".into()]).is_err());
        assert_eq!(key_source(&k1).unwrap(), k1);
        assert!(
            key_source("/nonexistent/keys")
                .unwrap_err()
                .contains("/nonexistent/keys")
        );
    }
}
