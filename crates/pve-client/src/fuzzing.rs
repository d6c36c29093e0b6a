//! Entry points for the fuzz targets in `fuzz/` (hidden from the docs, not an API): the parsers
//! that are crate-private, reached the way the client itself reaches them.

use std::path::Path;

use russh::keys::PublicKey;
use serde::de::DeserializeOwned;

use crate::error::Error;
use crate::ssh::trust::{Peer, check_known_hosts, parse_known_hosts};

/// Decodes a 2xx answer's body as the client does for every call: the `data` of PVE's envelope
/// as `T`, and the envelope's `total`.
pub fn decode_answer<T: DeserializeOwned>(body: &[u8]) -> Result<(T, Option<u64>), Error> {
    crate::client::decode_envelope(body).map(|e| (e.data, e.total))
}

/// The known_hosts verdict for the OpenSSH public key `key` (`ssh-ed25519 AAAA...`) presented
/// by `node`, dialled at `host:port`, with `text` as the known_hosts file. `None` when `key` is
/// not a public key.
pub fn known_hosts_check(
    text: &str,
    node: &str,
    host: &str,
    port: u16,
    key: &str,
) -> Option<Result<(), Error>> {
    let key = PublicKey::from_openssh(key).ok()?;
    let path = Path::new("known_hosts");
    let lines = parse_known_hosts(text, path);
    let peer = Peer { node, host, port };
    Some(check_known_hosts(&lines, path, &peer, &key))
}

/// OpenSSH's host pattern match (`*`, `?`), as known_hosts lines are matched.
pub fn host_glob(pattern: &str, name: &str) -> bool {
    crate::ssh::trust::glob(pattern.as_bytes(), name.as_bytes())
}
