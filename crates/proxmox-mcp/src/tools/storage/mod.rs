//! The `storage` toolset (off by default): `resize_disk` (grow a VM disk or container volume),
//! `move_disk` (to another storage; destructive when it deletes the source),
//! `download_to_storage` (an ISO, container template or disk image from a URL or the appliance
//! index) and `list_available_templates` (the appliance index). What they share: which disk of
//! a guest a call means, and sizes as PVE writes them.

mod download;
mod move_disk;
mod resize;
mod templates;

pub(crate) use download::download_to_storage;
pub(crate) use move_disk::move_disk;
pub(crate) use resize::resize_disk;
pub(crate) use templates::list_available_templates;

use pve_client::GuestKind;
use pve_client::api::guest::GuestConfig;

use crate::error::ToolError;
use crate::tools::common::trimmed;

/// The toolset of these tools.
const TOOLSET: &str = "storage";

/// Whether config key `key` holds a disk of a guest of kind `kind` (`scsi0`, `efidisk0`,
/// `rootfs`, `mp0`; not `unusedN`).
fn is_disk_key(kind: GuestKind, key: &str) -> bool {
    let numbered = |prefix: &str| {
        key.strip_prefix(prefix)
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    };
    match kind {
        GuestKind::Qemu => ["ide", "scsi", "virtio", "sata", "efidisk", "tpmstate"]
            .iter()
            .any(|p| numbered(p)),
        GuestKind::Lxc => key == "rootfs" || numbered("mp"),
    }
}

/// A value of `key=` in a drive or mount point spec (`local-lvm:vm-100-disk-0,size=32G`).
fn prop<'a>(spec: &'a str, key: &str) -> Option<&'a str> {
    spec.split(',')
        .skip(1)
        .find_map(|p| p.split_once('=').filter(|(k, _)| *k == key).map(|(_, v)| v))
}

/// The volume of a drive or mount point spec (its first, unnamed part, or `volume=`/`file=`).
fn volume(spec: &str) -> &str {
    let first = spec.split(',').next().unwrap_or("");
    match first.split_once('=') {
        Some(("volume" | "file", v)) => v,
        Some(_) => "",
        None => first,
    }
}

/// The guest's disks that hold a volume: (key, spec), CD drives left out.
fn disks(config: &GuestConfig, kind: GuestKind) -> Vec<(String, String)> {
    config
        .0
        .keys()
        .filter(|k| is_disk_key(kind, k))
        .filter_map(|k| Some((k.clone(), config.get_str(k)?)))
        .filter(|(_, spec)| prop(spec, "media") != Some("cdrom") && volume(spec).contains(':'))
        .collect()
}

/// The disk a call means: `disk` when given (it must be one of the guest's), else the
/// container's `rootfs`, or a VM's only disk.
fn pick_disk(
    config: &GuestConfig,
    kind: GuestKind,
    vmid: u32,
    disk: Option<String>,
) -> Result<(String, String), ToolError> {
    let all = disks(config, kind);
    let names = || {
        let n: Vec<&str> = all.iter().map(|(k, _)| k.as_str()).collect();
        if n.is_empty() {
            "none".to_string()
        } else {
            n.join(", ")
        }
    };
    let noun = kind.noun();
    match trimmed(disk) {
        Some(d) => all.iter().find(|(k, _)| *k == d).cloned().ok_or_else(|| {
            ToolError::invalid(
                "disk",
                format!("{noun} {vmid} has no disk {d} (its disks: {})", names()),
            )
        }),
        None if kind == GuestKind::Lxc => all
            .iter()
            .find(|(k, _)| k == "rootfs")
            .cloned()
            .ok_or_else(|| ToolError::invalid("disk", format!("CT {vmid} has no rootfs"))),
        None => match all.as_slice() {
            [one] => Ok(one.clone()),
            _ => Err(ToolError::invalid(
                "disk",
                format!("say which disk of VM {vmid}: {}", names()),
            )),
        },
    }
}

/// Bytes of a PVE size (`32G`, `512M`, `1.5T`, `4096` bytes).
fn parse_size(text: &str) -> Option<u64> {
    let text = text.trim();
    let (num, unit) = match text.char_indices().last()? {
        (i, c) if c.is_ascii_alphabetic() => (&text[..i], c.to_ascii_uppercase()),
        _ => (text, 'B'),
    };
    let shift = match unit {
        'B' => 0,
        'K' => 10,
        'M' => 20,
        'G' => 30,
        'T' => 40,
        _ => return None,
    };
    if num.is_empty() || !num.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return None;
    }
    let value: f64 = num.parse().ok()?;
    let bytes = value * (1u64 << shift) as f64;
    (bytes.is_finite() && bytes >= 0.0 && bytes < u64::MAX as f64).then_some(bytes as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disks_sizes_and_keys() {
        assert!(is_disk_key(GuestKind::Qemu, "scsi0"));
        assert!(is_disk_key(GuestKind::Qemu, "efidisk0"));
        assert!(!is_disk_key(GuestKind::Qemu, "unused0"));
        assert!(!is_disk_key(GuestKind::Qemu, "scsihw"));
        assert!(is_disk_key(GuestKind::Lxc, "mp3"));
        assert!(!is_disk_key(GuestKind::Lxc, "scsi0"));
        assert_eq!(prop("local-lvm:vm-1-disk-0,size=32G", "size"), Some("32G"));
        assert_eq!(
            volume("volume=local-lvm:subvol-2-disk-0,mp=/srv"),
            "local-lvm:subvol-2-disk-0"
        );
        assert_eq!(parse_size("32G"), Some(32 << 30));
        assert_eq!(parse_size("1.5T"), Some(3 << 39));
        assert_eq!(parse_size("512M"), Some(512 << 20));
        assert_eq!(parse_size("4096"), Some(4096));
        assert_eq!(parse_size("G"), None);
        assert_eq!(parse_size("3X"), None);
    }
}
