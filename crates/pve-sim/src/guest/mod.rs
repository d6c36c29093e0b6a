//! Guest helpers shared by the QEMU and LXC routes: the config file text and its `digest`,
//! lock and `skiplock` checks, MAC and UUID generation, and disk volumes on storages
//! (allocation with PVE's "storage full" errors, release, space accounting).
//!
//! The guest routes and the storage routes share these functions, so that a disk created by
//! one and the free space shown by the other agree.

use std::collections::BTreeMap;

use serde_json::Value;
use sha1::{Digest, Sha1};

use crate::route::{ApiError, Call};
use crate::routes::qemu::cloudinit;
use crate::state::{Cluster, Guest, GuestKind, Storage, Volume};

/// PVE's answer when `digest` does not match the current config.
pub(crate) const MODIFIED_CONFIG: &str =
    "detected modified configuration - file changed by other user? Try again.";

/// `VM` or `CT`, as PVE's messages name the guest kinds.
pub(crate) fn kind_word(kind: GuestKind) -> &'static str {
    match kind {
        GuestKind::Qemu => "VM",
        GuestKind::Lxc => "CT",
    }
}

/// A config value as the config file writes it: strings as they are, booleans as 0/1.
pub(crate) fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Bool(b) => u8::from(*b).to_string(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// A parameter value as PVE stores it in a config: booleans become 0/1 integers, integers stay
/// numbers, everything else a string.
pub(crate) fn config_value(v: &Value) -> Value {
    match v {
        Value::Bool(b) => Value::from(u8::from(*b)),
        Value::Number(_) | Value::String(_) => v.clone(),
        other => Value::String(value_text(other)),
    }
}

/// Tags as PVE stores them: split on `;`, `,` or spaces, lower-cased, de-duplicated, sorted
/// and joined with `;` (its default tag style: case-insensitive, alphabetical).
pub(crate) fn unique_tags(text: &str) -> String {
    let mut tags: Vec<String> = crate::params::split_list(text)
        .into_iter()
        .map(str::to_lowercase)
        .collect();
    tags.sort();
    tags.dedup();
    tags.join(";")
}

/// What `GET .../config` shows for a secret: PVE's mask, never the stored value.
pub(crate) const SECRET_MASK: &str = "**********";

/// How a cloud-init password is stored: a SHA-256 crypt-style hash of it (the clear text is
/// never kept).
pub(crate) fn hashed_password(clear: &str, salt_seed: &str) -> String {
    let salt = &hex::encode(seeded_bytes(salt_seed))[..16];
    let digest = <sha2::Sha256 as sha2::Digest>::digest(format!("{salt}{clear}").as_bytes());
    format!("$5${salt}${}", hex::encode(digest))
}

/// Config keys whose values PVE masks when it shows a config.
pub(crate) fn is_secret_key(key: &str) -> bool {
    key == "cipassword"
}

/// A config as `GET .../config` shows it: secrets masked.
pub(crate) fn shown_config(config: &BTreeMap<String, Value>) -> serde_json::Map<String, Value> {
    config
        .iter()
        .map(|(k, v)| {
            let v = if is_secret_key(k) {
                Value::String(SECRET_MASK.to_string())
            } else {
                v.clone()
            };
            (k.clone(), v)
        })
        .collect()
}

/// The guest's config file as PVE writes it (`key: value` lines, then one `[snapshot]` section
/// per snapshot). Its SHA-1 is the `digest`.
pub(crate) fn config_text(g: &Guest) -> String {
    let mut out = String::new();
    let section = |out: &mut String, config: &BTreeMap<String, Value>, parent: Option<&str>| {
        if let Some(p) = parent
            && !config.contains_key("parent")
        {
            out.push_str(&format!("parent: {p}\n"));
        }
        for (k, v) in config {
            out.push_str(&format!("{k}: {}\n", value_text(v)));
        }
    };
    section(&mut out, &g.config, g.parent_snapshot.as_deref());
    for s in &g.snapshots {
        out.push_str(&format!("\n[{}]\n", s.name));
        let mut c = s.config.clone();
        if !s.description.is_empty() {
            c.insert("description".into(), Value::String(s.description.clone()));
        }
        c.insert("snaptime".into(), Value::from(s.snaptime));
        if s.vmstate && !c.contains_key("vmstate") {
            c.insert("vmstate".into(), Value::from(1));
        }
        section(&mut out, &c, s.parent.as_deref());
    }
    out
}

/// The `digest` of a guest's config: SHA-1 hex of [`config_text`].
pub(crate) fn config_digest(g: &Guest) -> String {
    hex::encode(Sha1::digest(config_text(g).as_bytes()))
}

/// Checks a `digest` parameter against the current config (500 [`MODIFIED_CONFIG`]).
pub(crate) fn check_digest(g: &Guest, digest: Option<&str>) -> Result<(), ApiError> {
    match digest {
        Some(d) if !d.is_empty() && !d.eq_ignore_ascii_case(&config_digest(g)) => {
            Err(ApiError::internal(MODIFIED_CONFIG))
        }
        _ => Ok(()),
    }
}

/// `VM is locked (backup)` / `CT is locked (backup)`.
pub(crate) fn lock_message(kind: GuestKind, lock: &str) -> String {
    format!("{} is locked ({lock})", kind_word(kind))
}

/// Fails with 500 `VM is locked (LOCK)` when the guest holds a lock and `skiplock` is not set.
pub(crate) fn check_lock(g: &Guest, skiplock: bool) -> Result<(), ApiError> {
    match g.lock() {
        Some(l) if !skiplock => Err(ApiError::internal(lock_message(g.kind, &l))),
        _ => Ok(()),
    }
}

/// The `skiplock` parameter: only `root@pam` may use it (400 otherwise, as PVE).
pub(crate) fn skiplock(call: &Call) -> Result<bool, ApiError> {
    let on = call.bool("skiplock").unwrap_or(false);
    if on && call.identity.userid != "root@pam" {
        return Err(ApiError::param(
            "skiplock",
            "Only root may use this option.",
        ));
    }
    Ok(on)
}

/// The user a task started by this call runs as (`root@pam`, `root@pam!ci`).
pub(crate) fn task_user(call: &Call) -> String {
    call.identity.userid.clone()
}

/// 20 pseudo-random bytes from a seed string (deterministic: same seed, same bytes).
pub(crate) fn seeded_bytes(seed: &str) -> [u8; 20] {
    Sha1::digest(seed.as_bytes()).into()
}

/// A MAC address in Proxmox's OUI (`BC:24:11:XX:XX:XX`), derived from `seed`.
pub(crate) fn new_mac(seed: &str) -> String {
    let b = seeded_bytes(seed);
    format!("BC:24:11:{:02X}:{:02X}:{:02X}", b[0], b[1], b[2])
}

/// A version-4 style UUID derived from `seed`.
pub(crate) fn new_uuid(seed: &str) -> String {
    let mut b = seeded_bytes(seed);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(&b[..16]);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// Splits a property string into its comma-separated parts, keyless parts with key `""`
/// (`local-lvm:vm-100-disk-0,size=32G` → `[("", "local-lvm:vm-100-disk-0"), ("size", "32G")]`).
pub(crate) fn parse_props(s: &str) -> Vec<(String, String)> {
    s.split(',')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (k.to_string(), v.to_string()),
            None => (String::new(), p.to_string()),
        })
        .collect()
}

/// One key of a property string.
pub(crate) fn prop<'a>(s: &'a str, key: &str) -> Option<&'a str> {
    s.split(',')
        .find_map(|p| p.strip_prefix(key)?.strip_prefix('='))
}

/// The volume of a disk property string (its first, keyless part, or `file=`/`volume=`):
/// `local-lvm:vm-100-disk-0,size=32G` → `local-lvm:vm-100-disk-0`.
pub(crate) fn disk_volid(spec: &str) -> Option<&str> {
    let first = spec.split(',').next()?;
    if !first.contains('=') {
        return Some(first);
    }
    prop(spec, "file").or_else(|| prop(spec, "volume"))
}

/// A request for a new volume, `STORAGE:SIZE_GIB` (`local-lvm:32`, `local:0.5`): returns the
/// storage and the size in bytes. `None` for anything else (an existing volume, `none`...).
pub(crate) fn new_volume_request(volume: &str) -> Option<(&str, u64)> {
    let (storage, size) = volume.split_once(':')?;
    if storage.is_empty()
        || size.is_empty()
        || !size.bytes().all(|c| c.is_ascii_digit() || c == b'.')
    {
        return None;
    }
    let gib: f64 = size.parse().ok()?;
    Some((storage, (gib * (1u64 << 30) as f64) as u64))
}

/// The storage part of a volume id (`local-lvm:vm-100-disk-0` → `local-lvm`).
pub(crate) fn volid_storage(volid: &str) -> Option<&str> {
    volid.split_once(':').map(|(s, _)| s)
}

/// Whether a storage is usable on a node.
pub(crate) fn storage_on_node(st: &Storage, node: &str) -> bool {
    st.enabled
        && st
            .nodes
            .as_ref()
            .is_none_or(|n| n.iter().any(|x| x == node))
}

/// Bytes used on a storage as seen from `node`: the sum of its volumes (all nodes' volumes for a
/// shared storage, this node's otherwise). Disk images count at their full size.
pub(crate) fn storage_used(cluster: &Cluster, storage: &str, node: &str) -> u64 {
    let shared = cluster.storages.get(storage).is_some_and(|s| s.shared);
    cluster
        .volumes
        .iter()
        .filter(|v| v.storage == storage && (shared || v.node == node))
        .map(|v| v.size)
        .sum()
}

/// Bytes free on a storage as seen from `node` (0 when the storage is unknown).
pub(crate) fn storage_avail(cluster: &Cluster, storage: &str, node: &str) -> u64 {
    cluster.storages.get(storage).map_or(0, |s| {
        s.total.saturating_sub(storage_used(cluster, storage, node))
    })
}

/// Whether a storage type stores images as files in a directory (`dir`, `nfs`, `cifs`...).
pub(crate) fn is_file_storage(kind: &str) -> bool {
    matches!(
        kind,
        "dir" | "nfs" | "cifs" | "glusterfs" | "cephfs" | "btrfs"
    )
}

/// Checks that `storage` exists, is usable on `node` and holds `content`; PVE's wording.
pub(crate) fn check_storage(
    cluster: &Cluster,
    storage: &str,
    node: &str,
    content: &str,
) -> Result<(), String> {
    let st = cluster
        .storages
        .get(storage)
        .ok_or_else(|| format!("storage '{storage}' does not exist"))?;
    if !storage_on_node(st, node) {
        return Err(format!(
            "storage '{storage}' is not available on node '{node}'"
        ));
    }
    if !st.content.iter().any(|c| c == content) {
        let what = match content {
            "images" => "vm images",
            "rootdir" => "container directories",
            "backup" => "backups",
            other => other,
        };
        return Err(format!("storage '{storage}' does not support {what}"));
    }
    Ok(())
}

/// A freshly allocated disk: its volume id (`local-lvm:vm-102-disk-0`) and the task log lines.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Allocated {
    pub volid: String,
    pub size: u64,
    pub format: String,
    pub log: Vec<String>,
}

/// Allocates a new disk image for guest `vmid` on `storage` (as PVE's `vdisk_alloc`): picks the
/// next free `vm-VMID-disk-N` name (`subvol-` for containers on ZFS, `VMID/vm-...qcow2` on
/// directory storages), checks the space left and records the volume in `cluster.volumes`.
/// `format` overrides the storage's default format. Errors carry PVE's message
/// (`lvcreate 'pve/vm-102-disk-0' error: ... insufficient free space ...`).
#[allow(clippy::too_many_arguments)]
pub(crate) fn alloc_disk(
    cluster: &mut Cluster,
    node: &str,
    storage: &str,
    vmid: u32,
    kind: GuestKind,
    size: u64,
    format: Option<&str>,
    ctime: i64,
) -> Result<Allocated, String> {
    let content = match kind {
        GuestKind::Qemu => "images",
        GuestKind::Lxc => "rootdir",
    };
    check_storage(cluster, storage, node, content)?;
    let st_kind = cluster
        .storages
        .get(storage)
        .map(|s| s.kind.clone())
        .unwrap_or_default();
    let file = is_file_storage(&st_kind);
    let (prefix, fmt) = match (kind, st_kind.as_str()) {
        (GuestKind::Lxc, "zfspool") => ("subvol", "subvol".to_string()),
        (GuestKind::Lxc, _) => ("vm", "raw".to_string()),
        (GuestKind::Qemu, _) if file => ("vm", format.unwrap_or("qcow2").to_string()),
        (GuestKind::Qemu, _) => ("vm", "raw".to_string()),
    };
    let n = (0..)
        .find(|n| {
            let stem = format!("{prefix}-{vmid}-disk-{n}");
            !cluster.volumes.iter().any(|v| {
                v.storage == storage && v.volid.contains(&stem) && volume_name_has(&v.volid, &stem)
            })
        })
        .unwrap_or(0);
    let stem = format!("{prefix}-{vmid}-disk-{n}");
    let name = if file && fmt != "subvol" {
        format!("{vmid}/{stem}.{fmt}")
    } else {
        stem.clone()
    };
    let volid = format!("{storage}:{name}");
    let log = alloc_space(cluster, node, storage, &name, size)?;
    cluster.volumes.push(Volume {
        volid: volid.clone(),
        storage: storage.to_string(),
        node: node.to_string(),
        content: content.to_string(),
        format: fmt.clone(),
        size,
        ctime,
        vmid: Some(vmid),
        notes: None,
        protected: false,
    });
    Ok(Allocated {
        volid,
        size,
        format: fmt,
        log,
    })
}

/// Whether the name part of `volid` (after `:` and any `VMID/`) starts with `stem` followed by
/// the end or a `.`.
fn volume_name_has(volid: &str, stem: &str) -> bool {
    let name = volid.split_once(':').map_or(volid, |(_, n)| n);
    let name = name.rsplit('/').next().unwrap_or(name);
    name == stem || name.strip_prefix(stem).is_some_and(|r| r.starts_with('.'))
}

/// Checks that `size` bytes fit on `storage` for `node`; returns the log lines of a successful
/// allocation or PVE's out-of-space message for that storage type.
pub(crate) fn alloc_space(
    cluster: &Cluster,
    node: &str,
    storage: &str,
    name: &str,
    size: u64,
) -> Result<Vec<String>, String> {
    let Some(st) = cluster.storages.get(storage) else {
        return Err(format!("storage '{storage}' does not exist"));
    };
    let avail = storage_avail(cluster, storage, node);
    let base = name.rsplit('/').next().unwrap_or(name);
    let extra = |k: &str, d: &str| {
        st.extra
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or(d)
            .to_string()
    };
    if size > avail {
        const EXTENT: u64 = 4 << 20;
        return Err(match st.kind.as_str() {
            "lvm" | "lvmthin" => {
                let vg = extra("vgname", "pve");
                format!(
                    "lvcreate '{vg}/{base}' error:   Volume group \"{vg}\" has insufficient free space ({} extents): {} required.",
                    avail / EXTENT,
                    size.div_ceil(EXTENT)
                )
            }
            "zfspool" => format!(
                "zfs error: cannot create '{}/{base}': out of space",
                extra("pool", "rpool/data")
            ),
            "rbd" => format!("rbd create '{base}' error: No space left on device"),
            _ => {
                let path = extra("path", &format!("/mnt/pve/{storage}"));
                format!(
                    "unable to create image: qemu-img: {path}/images/{name}: Could not resize image: No space left on device"
                )
            }
        });
    }
    Ok(match st.kind.as_str() {
        "lvm" | "lvmthin" => vec![format!("  Logical volume \"{base}\" created.")],
        k if is_file_storage(k) => {
            let path = extra("path", &format!("/mnt/pve/{storage}"));
            let fmt = base.rsplit('.').next().unwrap_or("raw");
            vec![format!(
                "Formatting '{path}/images/{name}', fmt={fmt} size={size}"
            )]
        }
        _ => Vec::new(),
    })
}

/// Every volume a guest's config refers to: disks, `unusedN`, snapshot disks and vmstates.
pub(crate) fn referenced_volumes(g: &Guest) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut add = |config: &BTreeMap<String, Value>| {
        for (k, v) in config {
            let Some(s) = v.as_str() else { continue };
            let is_disk = crate::state::is_disk_key(g.kind, k) || k.starts_with("unused");
            let vol = if k == "vmstate" {
                Some(s)
            } else if is_disk && (!s.contains("media=cdrom") || cloudinit::is_drive(s)) {
                disk_volid(s)
            } else {
                None
            };
            if let Some(vol) = vol
                && vol.contains(':')
                && !out.iter().any(|x| x == vol)
            {
                out.push(vol.to_string());
            }
        }
    };
    add(&g.config);
    for s in &g.snapshots {
        add(&s.config);
    }
    out
}

/// Removes the listed volumes from `cluster.volumes`; returns how many went.
pub(crate) fn free_volumes(cluster: &mut Cluster, volids: &[String]) -> usize {
    let before = cluster.volumes.len();
    cluster.volumes.retain(|v| !volids.contains(&v.volid));
    before - cluster.volumes.len()
}

/// Undoes a clone that failed part-way: frees the volumes it made and drops the new guest;
/// returns PVE's `clone failed: ...` message.
pub(crate) fn abandon_clone(
    cluster: &mut Cluster,
    made: &[String],
    newid: u32,
    error: &str,
) -> String {
    free_volumes(cluster, made);
    cluster.guests.remove(&newid);
    format!("clone failed: {error}")
}

/// Removes the volumes a destroyed guest owned: those its config refers to, and with
/// `unreferenced` also every other disk image owned by its VMID (never backups or ISOs).
/// Returns the removed volume ids.
pub(crate) fn free_guest_volumes(
    cluster: &mut Cluster,
    g: &Guest,
    unreferenced: bool,
) -> Vec<String> {
    let refs = referenced_volumes(g);
    let mut gone = Vec::new();
    cluster.volumes.retain(|v| {
        let owned_disk =
            v.vmid == Some(g.vmid) && matches!(v.content.as_str(), "images" | "rootdir");
        let drop = refs.contains(&v.volid) || (unreferenced && owned_disk);
        if drop {
            gone.push(v.volid.clone());
        }
        !drop
    });
    gone
}

/// Formats a disk property string with the volume first and the other keys sorted, as PVE
/// prints drives (`local-lvm:vm-100-disk-0,discard=on,iothread=1,size=32G`).
pub(crate) fn print_disk(volume: &str, opts: &[(String, String)]) -> String {
    let mut opts: Vec<&(String, String)> = opts.iter().filter(|(k, _)| !k.is_empty()).collect();
    opts.sort_by(|a, b| a.0.cmp(&b.0));
    let mut out = volume.to_string();
    for (k, v) in opts {
        out.push(',');
        out.push_str(k);
        out.push('=');
        out.push_str(v);
    }
    out
}

pub(crate) mod power;

pub(crate) mod resize;

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::testkit::cluster;

    #[test]
    fn digest_changes_with_config_and_is_stable() {
        let c = cluster();
        let g = &c.guests[&100];
        let d = config_digest(g);
        assert_eq!(d.len(), 40);
        assert_eq!(d, config_digest(g));
        let mut g2 = g.clone();
        g2.config.insert("cores".into(), Value::from(8));
        assert_ne!(d, config_digest(&g2));
        assert!(check_digest(g, Some(&d)).is_ok());
        assert_eq!(
            check_digest(&g2, Some(&d)).unwrap_err().message,
            MODIFIED_CONFIG
        );
    }

    #[test]
    fn mac_and_uuid_shapes() {
        let m = new_mac("100:net0:1");
        assert!(m.starts_with("BC:24:11:") && m.len() == 17, "{m}");
        assert_eq!(m, new_mac("100:net0:1"));
        assert_ne!(m, new_mac("100:net0:2"));
        let u = new_uuid("x");
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
    }

    #[test]
    fn new_volume_requests() {
        assert_eq!(
            new_volume_request("local-lvm:32"),
            Some(("local-lvm", 32 << 30))
        );
        assert_eq!(new_volume_request("local:0.5"), Some(("local", 512 << 20)));
        assert_eq!(new_volume_request("local-lvm:vm-100-disk-0"), None);
        assert_eq!(new_volume_request("none"), None);
        assert_eq!(
            disk_volid("local-lvm:vm-1-disk-0,size=1G"),
            Some("local-lvm:vm-1-disk-0")
        );
        assert_eq!(prop("virtio=AA,bridge=vmbr0", "bridge"), Some("vmbr0"));
    }

    #[test]
    fn alloc_names_and_space() {
        let mut c = cluster();
        let a = alloc_disk(
            &mut c,
            "pve1",
            "local-lvm",
            150,
            GuestKind::Qemu,
            8 << 30,
            None,
            1,
        )
        .unwrap();
        assert_eq!(a.volid, "local-lvm:vm-150-disk-0");
        let b = alloc_disk(
            &mut c,
            "pve1",
            "local-lvm",
            150,
            GuestKind::Qemu,
            8 << 30,
            None,
            1,
        )
        .unwrap();
        assert_eq!(b.volid, "local-lvm:vm-150-disk-1");
        let f = alloc_disk(
            &mut c,
            "pve1",
            "local",
            150,
            GuestKind::Qemu,
            1 << 30,
            None,
            1,
        );
        assert_eq!(f.unwrap_err(), "storage 'local' does not support vm images");
        let d = alloc_disk(
            &mut c,
            "pve1",
            "dirimg",
            150,
            GuestKind::Qemu,
            1 << 30,
            None,
            1,
        )
        .unwrap();
        assert_eq!(d.volid, "dirimg:150/vm-150-disk-0.qcow2");
        let full = alloc_disk(
            &mut c,
            "pve1",
            "tiny",
            150,
            GuestKind::Qemu,
            64 << 30,
            None,
            1,
        );
        let msg = full.unwrap_err();
        assert!(
            msg.starts_with("lvcreate 'tiny/vm-150-disk-0' error:"),
            "{msg}"
        );
        assert!(msg.contains("insufficient free space"), "{msg}");
        let used = storage_used(&c, "local-lvm", "pve1");
        let g = c.guests[&100].clone();
        let mut g150 = g.clone();
        g150.vmid = 150;
        g150.config
            .insert("scsi0".into(), Value::from(format!("{},size=8G", a.volid)));
        g150.config
            .insert("unused0".into(), Value::from(b.volid.clone()));
        let gone = free_guest_volumes(&mut c, &g150, false);
        assert_eq!(gone.len(), 2);
        assert_eq!(storage_used(&c, "local-lvm", "pve1"), used - (16 << 30));
    }
}
