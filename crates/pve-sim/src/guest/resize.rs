//! Growing a guest's disk volume, the part the QEMU and LXC `resize` calls share: the requested
//! size (`+2G` or `10G`), the space check with PVE's wording per storage type, the new size in
//! `cluster.volumes` and the storage's log lines (`lvextend`, `qemu-img resize`).

use serde_json::Value;

use crate::state::{Cluster, format_size, parse_size};

/// Parses a resize `size` (`\+?\d+(\.\d+)?[KMGT]?`): `+2G` grows by, `10G` is the new size;
/// bytes without a unit. `None` when the text does not match the pattern.
pub(crate) fn requested_size(text: &str, current: u64) -> Option<u64> {
    let (grow, num) = match text.strip_prefix('+') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let digits = num.trim_end_matches(['K', 'M', 'G', 'T']);
    if num.len() - digits.len() > 1 {
        return None;
    }
    let (int, frac) = digits.split_once('.').unwrap_or((digits, "1"));
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit());
    if !all_digits(int) || !all_digits(frac) {
        return None;
    }
    let bytes = parse_size(num)?;
    Some(if grow {
        current.saturating_add(bytes)
    } else {
        bytes
    })
}

/// A volume grown: its size before and the storage's log lines.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Grown {
    pub old: u64,
    pub log: Vec<String>,
}

/// `32.00 GiB (8192 extents)`, as `lvextend` prints sizes.
fn lvm_size(bytes: u64) -> String {
    const EXTENT: u64 = 4 << 20;
    format!(
        "{:.2} GiB ({} extents)",
        bytes as f64 / f64::from(1u32 << 30),
        bytes.div_ceil(EXTENT)
    )
}

/// Grows volume `volid` (the one on `node`, or the shared one) to `new` bytes when the storage
/// has the room, as PVE's `volume_resize`; fails with the storage tool's message otherwise.
/// Leaves a smaller `new` to the callers, which refuse shrinking with their own words.
pub(crate) fn grow_volume(
    cluster: &mut Cluster,
    node: &str,
    volid: &str,
    new: u64,
) -> Result<Grown, String> {
    let pos = cluster
        .volumes
        .iter()
        .position(|v| v.volid == volid && v.node == node)
        .or_else(|| cluster.volumes.iter().position(|v| v.volid == volid))
        .ok_or_else(|| format!("Could not determine current size of volume '{volid}'"))?;
    let (storage, old) = (
        cluster.volumes[pos].storage.clone(),
        cluster.volumes[pos].size,
    );
    let (kind, vg) = cluster.storages.get(&storage).map_or_else(
        || (String::new(), "pve".to_string()),
        |s| {
            let vg = s
                .extra
                .get("vgname")
                .and_then(Value::as_str)
                .unwrap_or("pve");
            (s.kind.clone(), vg.to_string())
        },
    );
    let name = volid.split_once(':').map_or(volid, |(_, n)| n);
    let delta = new.saturating_sub(old);
    let avail = super::storage_avail(cluster, &storage, node);
    let lvm = matches!(kind.as_str(), "lvm" | "lvmthin");
    if delta > avail {
        const EXTENT: u64 = 4 << 20;
        return Err(if lvm {
            format!(
                "lvextend '{vg}/{name}' error:   Insufficient free space: {} extents needed, but only {} available",
                delta.div_ceil(EXTENT),
                avail / EXTENT
            )
        } else {
            format!("error resizing volume '{volid}': No space left on device")
        });
    }
    cluster.volumes[pos].size = new;
    let log = if lvm {
        vec![
            format!(
                "  Size of logical volume {vg}/{name} changed from {} to {}.",
                lvm_size(old),
                lvm_size(new)
            ),
            format!("  Logical volume {vg}/{name} successfully resized."),
        ]
    } else if super::is_file_storage(&kind) {
        vec!["Image resized.".to_string()]
    } else {
        Vec::new()
    };
    Ok(Grown { old, log })
}

/// A disk property string with its `size=` set to `bytes` (replaced in place, or appended):
/// `local-lvm:vm-100-disk-0,iothread=1,size=32G` → `...,iothread=1,size=33G`.
pub(crate) fn with_size(spec: &str, bytes: u64) -> String {
    let size = format!("size={}", format_size(bytes));
    let mut found = false;
    let mut parts: Vec<String> = spec
        .split(',')
        .filter(|p| !p.is_empty())
        .map(|p| {
            if p.starts_with("size=") {
                found = true;
                size.clone()
            } else {
                p.to_string()
            }
        })
        .collect();
    if !found {
        parts.push(size);
    }
    parts.join(",")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::testkit::cluster;

    const GIB: u64 = 1 << 30;

    #[test]
    fn requested_sizes() {
        let cases: &[(&str, Option<u64>)] = &[
            ("+1G", Some(33 * GIB)),
            ("40G", Some(40 * GIB)),
            ("+512M", Some(32 * GIB + (512 << 20))),
            ("1.5T", Some(3 << 39)),
            ("34359738368", Some(32 * GIB)),
            ("+0.5G", Some(32 * GIB + (512 << 20))),
            ("lots", None),
            ("", None),
            ("+", None),
            ("1GG", None),
            ("-1G", None),
            ("1.G", None),
            (".5G", None),
            ("1g", None),
        ];
        for (text, want) in cases {
            assert_eq!(requested_size(text, 32 * GIB), *want, "{text}");
        }
    }

    #[test]
    fn with_size_replaces_or_appends() {
        assert_eq!(
            with_size("local-lvm:vm-1-disk-0,iothread=1,size=32G,ssd=1", 33 * GIB),
            "local-lvm:vm-1-disk-0,iothread=1,size=33G,ssd=1"
        );
        assert_eq!(
            with_size("local-lvm:vm-1-disk-0", 512 << 20),
            "local-lvm:vm-1-disk-0,size=512M"
        );
    }

    #[test]
    fn grow_checks_space_and_updates_the_volume() {
        let mut c = cluster();
        let volid = c
            .volumes
            .iter()
            .find(|v| v.storage == "local-lvm" && v.content == "images")
            .map(|v| v.volid.clone())
            .unwrap();
        let node = c
            .volumes
            .iter()
            .find(|v| v.volid == volid)
            .unwrap()
            .node
            .clone();
        let old = c.volumes.iter().find(|v| v.volid == volid).unwrap().size;
        let g = grow_volume(&mut c, &node, &volid, old + GIB).unwrap();
        assert_eq!(g.old, old);
        assert!(g.log[0].contains("changed from"), "{:?}", g.log);
        assert_eq!(
            c.volumes.iter().find(|v| v.volid == volid).unwrap().size,
            old + GIB
        );
        let e = grow_volume(&mut c, &node, &volid, old + 100_000 * GIB).unwrap_err();
        assert!(e.starts_with("lvextend '"), "{e}");
        assert!(e.contains("Insufficient free space"), "{e}");
        let e = grow_volume(&mut c, &node, "local-lvm:nosuch", GIB).unwrap_err();
        assert_eq!(
            e,
            "Could not determine current size of volume 'local-lvm:nosuch'"
        );
    }
}
