//! QEMU config option values as PVE checks and rewrites them on create and update: disks
//! (`scsi0=local-lvm:32` is a request for a new 32 GiB volume), NICs (`net0=virtio,bridge=vmbr0`
//! gets a MAC), `memory`, `boot`, `cdrom`. Parse errors are 400s with PVE's `invalid format`
//! wording; disk allocation happens later, in the task (see [`alloc_disks`]).

use std::collections::BTreeMap;

use serde_json::Value;

use crate::guest::{self, Allocated, new_mac, new_volume_request, parse_props, print_disk};
use crate::route::{ApiError, Call};
use crate::state::{Cluster, GuestKind, format_size, is_disk_key};

/// NIC models PVE accepts.
pub(crate) const NIC_MODELS: &[&str] = &[
    "e1000",
    "e1000-82540em",
    "e1000-82544gc",
    "e1000-82545em",
    "e1000e",
    "i82551",
    "i82557b",
    "i82559er",
    "ne2k_isa",
    "ne2k_pci",
    "pcnet",
    "rtl8139",
    "virtio",
    "vmxnet3",
];

/// Keys a drive property string may carry.
const DRIVE_KEYS: &[&str] = &[
    "aio",
    "backup",
    "cache",
    "cyls",
    "detect_zeroes",
    "discard",
    "efitype",
    "file",
    "format",
    "heads",
    "import-from",
    "iops",
    "iothread",
    "mbps",
    "media",
    "model",
    "pre-enrolled-keys",
    "product",
    "queues",
    "replicate",
    "rerror",
    "ro",
    "scsiblock",
    "secs",
    "serial",
    "shared",
    "size",
    "snapshot",
    "ssd",
    "trans",
    "vendor",
    "version",
    "werror",
    "wwn",
];

const NET_KEYS: &[&str] = &[
    "bridge",
    "firewall",
    "link_down",
    "macaddr",
    "model",
    "mtu",
    "queues",
    "rate",
    "tag",
    "trunks",
];

/// Parameters that are not config options.
pub(crate) const CONTROL_KEYS: &[&str] = &[
    "node",
    "vmid",
    "digest",
    "delete",
    "revert",
    "skiplock",
    "start",
    "storage",
    "pool",
    "unique",
    "archive",
    "force",
    "background_delay",
    "bwlimit",
    "live-restore",
    "import-working-storage",
    "ha-managed",
];

/// VM options any user with the route's privileges may set; the rest (`args`, `hookscript`,
/// `lock`, `vmgenid`, `hugepages`...) only `root@pam` may, as PVE's per-option checks have it.
const ANYONE_MAY_SET: &[&str] = &[
    "cores",
    "cpu",
    "cpulimit",
    "cpuunits",
    "numa",
    "smp",
    "sockets",
    "vcpus",
    "memory",
    "balloon",
    "shares",
    "acpi",
    "hotplug",
    "kvm",
    "machine",
    "scsihw",
    "smbios1",
    "tablet",
    "vga",
    "watchdog",
    "audio0",
    "agent",
    "autostart",
    "bios",
    "description",
    "keyboard",
    "localtime",
    "migrate_downtime",
    "migrate_speed",
    "name",
    "onboot",
    "ostype",
    "protection",
    "reboot",
    "startdate",
    "startup",
    "tdf",
    "template",
    "tags",
    "freeze",
    "boot",
    "bootdisk",
    "vmstatestorage",
    "cicustom",
    "cipassword",
    "citype",
    "ciuser",
    "ciupgrade",
    "nameserver",
    "searchdomain",
    "sshkeys",
    "cdrom",
    "vmstate",
    "efidisk0",
    "tpmstate0",
];
/// Numbered options any such user may set (value-dependent checks happen elsewhere in PVE).
const ANYONE_MAY_SET_FAMILIES: &[&str] = &[
    "ide", "sata", "scsi", "virtio", "unused", "serial", "usb", "hostpci", "numa", "net",
    "ipconfig",
];

/// PVE refuses options only root may set to anyone else, tokens of root included: 500
/// `only root can set 'args' config`.
pub(crate) fn check_root_only<'a>(
    call: &Call,
    keys: impl IntoIterator<Item = &'a str>,
) -> Result<(), ApiError> {
    if call.identity.userid == "root@pam" {
        return Ok(());
    }
    for key in keys {
        if CONTROL_KEYS.contains(&key) || ANYONE_MAY_SET.contains(&key) {
            continue;
        }
        let family = key.trim_end_matches(|c: char| c.is_ascii_digit());
        if family.len() < key.len() && ANYONE_MAY_SET_FAMILIES.contains(&family) {
            continue;
        }
        return Err(ApiError::internal(format!(
            "only root can set '{key}' config"
        )));
    }
    Ok(())
}

/// A disk option to write: a new volume to allocate in the task, or a final value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum DiskReq {
    New {
        storage: String,
        size: u64,
        opts: Vec<(String, String)>,
    },
    Value(String),
    /// A cloud-init drive to allocate on this storage (`STORAGE:cloudinit`).
    CloudInit {
        storage: String,
    },
}

/// Options of a create or update call, checked and normalized.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Options {
    /// Non-disk options with their final config values.
    pub plain: Vec<(String, Value)>,
    /// Disk options by config key.
    pub disks: Vec<(String, DiskReq)>,
}

fn format_error(key: &str, sub: &str, why: &str) -> String {
    format!("invalid format - format error\n{key}.{sub}: {why}\n")
}

/// Checks and normalizes the option parameters of `call` for guest `vmid` on `node`.
/// `seed` makes generated MACs differ between calls. Errors: 400 with an `errors` map, or 500
/// for a storage or volume that does not exist (as PVE).
pub(crate) fn options_from_call(
    call: &Call,
    cluster: &Cluster,
    node: &str,
    vmid: u32,
    seed: &str,
) -> Result<Options, ApiError> {
    let mut out = Options::default();
    let mut errors = BTreeMap::new();
    for (key, value) in &call.params {
        if CONTROL_KEYS.contains(&key.as_str()) {
            continue;
        }
        let text = guest::value_text(value);
        let (key, text) = if key == "cdrom" {
            ("ide2".to_string(), format!("{text},media=cdrom"))
        } else {
            (key.clone(), text)
        };
        let r = if is_disk_key(GuestKind::Qemu, &key) || key.starts_with("unused") {
            disk(cluster, node, &key, &text).map(|d| out.disks.push((key.clone(), d)))
        } else if key.starts_with("net") && key[3..].bytes().all(|b| b.is_ascii_digit()) {
            net(&key, &text, &format!("{seed}:{vmid}:{key}"))
                .map(|v| out.plain.push((key.clone(), Value::String(v))))
        } else if key == "memory" {
            memory(&text).map(|v| out.plain.push((key.clone(), Value::String(v))))
        } else if key == "tags" {
            out.plain
                .push((key.clone(), Value::String(guest::unique_tags(&text))));
            Ok(())
        } else if key == "cipassword" {
            let hash = guest::hashed_password(&text, &format!("{seed}:{vmid}"));
            out.plain.push((key.clone(), Value::String(hash)));
            Ok(())
        } else {
            out.plain.push((key.clone(), guest::config_value(value)));
            Ok(())
        };
        match r {
            Ok(()) => {}
            Err(Check::Param(k, why)) => {
                errors.insert(k, why);
            }
            Err(Check::Fatal(msg)) => return Err(ApiError::internal(msg)),
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::params(errors));
    }
    Ok(out)
}

/// A failed check: a parameter error (400) or a runtime error (500).
#[derive(Debug)]
enum Check {
    Param(String, String),
    Fatal(String),
}

fn memory(text: &str) -> Result<String, Check> {
    let mut current = None;
    for (k, v) in parse_props(text) {
        match k.as_str() {
            "" | "current" => current = Some(v),
            other => {
                return Err(Check::Param(
                    "memory".into(),
                    format_error(
                        "memory",
                        other,
                        "property is not defined in schema and the schema does not allow additional properties",
                    ),
                ));
            }
        }
    }
    let v = current.unwrap_or_default();
    match v.parse::<u64>() {
        Ok(n) if n >= 16 => Ok(n.to_string()),
        Ok(_) => Err(Check::Param(
            "memory".into(),
            format_error("memory", "current", "value must have a minimum value of 16"),
        )),
        Err(_) => Err(Check::Param(
            "memory".into(),
            format_error(
                "memory",
                "current",
                &format!("type check ('integer') failed - got '{v}'"),
            ),
        )),
    }
}

fn net(key: &str, text: &str, seed: &str) -> Result<String, Check> {
    let mut model = None;
    let mut mac = None;
    let mut rest = Vec::new();
    for (i, (k, v)) in parse_props(text).into_iter().enumerate() {
        if i == 0 && k.is_empty() {
            model = Some(v);
        } else if NIC_MODELS.contains(&k.as_str()) && model.is_none() {
            model = Some(k);
            mac = Some(v);
        } else if k == "model" {
            model = Some(v);
        } else if k == "macaddr" {
            mac = Some(v);
        } else if NET_KEYS.contains(&k.as_str()) {
            rest.push((k, v));
        } else {
            let sub = if k.is_empty() { v.as_str() } else { k.as_str() };
            return Err(Check::Param(
                key.into(),
                format_error(
                    key,
                    sub,
                    "property is not defined in schema and the schema does not allow additional properties",
                ),
            ));
        }
    }
    let model = model.unwrap_or_default();
    if !NIC_MODELS.contains(&model.as_str()) {
        return Err(Check::Param(
            key.into(),
            format_error(
                key,
                "model",
                &format!(
                    "value '{model}' does not have a value in the enumeration '{}'",
                    NIC_MODELS.join(", ")
                ),
            ),
        ));
    }
    let mac = match mac {
        Some(m) if is_mac(&m) => m.to_ascii_uppercase(),
        Some(m) => {
            return Err(Check::Param(
                key.into(),
                format_error(
                    key,
                    "macaddr",
                    &format!("value does not look like a valid MAC address: '{m}'"),
                ),
            ));
        }
        None => new_mac(seed),
    };
    Ok(print_disk(&format!("{model}={mac}"), &rest))
}

fn is_mac(m: &str) -> bool {
    let parts: Vec<&str> = m.split(':').collect();
    parts.len() == 6
        && parts
            .iter()
            .all(|p| p.len() == 2 && p.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn disk(cluster: &Cluster, node: &str, key: &str, text: &str) -> Result<DiskReq, Check> {
    let props = parse_props(text);
    let mut volume = None;
    let mut opts = Vec::new();
    for (i, (k, v)) in props.into_iter().enumerate() {
        if (i == 0 && k.is_empty()) || k == "file" || k == "volume" {
            volume = Some(v);
        } else if DRIVE_KEYS.contains(&k.as_str()) {
            opts.push((k, v));
        } else {
            let sub = if k.is_empty() { v.as_str() } else { k.as_str() };
            return Err(Check::Param(
                key.into(),
                format_error(
                    key,
                    sub,
                    "property is not defined in schema and the schema does not allow additional properties",
                ),
            ));
        }
    }
    let Some(volume) = volume else {
        return Err(Check::Param(
            key.into(),
            format_error(key, "file", "property is missing and it is not optional"),
        ));
    };
    let cdrom = opts.iter().any(|(k, v)| k == "media" && v == "cdrom");
    if volume == "none" || volume == "cdrom" || volume.starts_with('/') {
        return Ok(DiskReq::Value(print_disk(&volume, &opts)));
    }
    if let Some(storage) = super::cloudinit::request(&volume) {
        guest::check_storage(cluster, storage, node, "images").map_err(Check::Fatal)?;
        return Ok(DiskReq::CloudInit {
            storage: storage.to_string(),
        });
    }
    if let Some((storage, size)) = new_volume_request(&volume).filter(|_| !cdrom) {
        let st = cluster
            .storages
            .get(storage)
            .ok_or_else(|| Check::Fatal(format!("storage '{storage}' does not exist")))?;
        if !guest::storage_on_node(st, node) {
            return Err(Check::Fatal(format!(
                "storage '{storage}' is not available on node '{node}'"
            )));
        }
        if !st.content.iter().any(|c| c == "images") {
            return Err(Check::Param(
                "storage".into(),
                format!("storage '{storage}' does not support vm images"),
            ));
        }
        let size = if key.starts_with("efidisk") {
            if opts.iter().any(|(k, v)| k == "efitype" && v == "2m") {
                128 << 10
            } else {
                4 << 20
            }
        } else if key.starts_with("tpmstate") {
            4 << 20
        } else {
            size
        };
        opts.retain(|(k, _)| k != "size");
        return Ok(DiskReq::New {
            storage: storage.to_string(),
            size,
            opts,
        });
    }
    if !volume.contains(':') {
        return Err(Check::Param(
            key.into(),
            format_error(
                key,
                "file",
                &format!("unable to parse volume ID '{volume}'"),
            ),
        ));
    }
    let Some(vol) = cluster.volumes.iter().find(|v| v.volid == volume) else {
        return Err(Check::Fatal(format!("volume '{volume}' does not exist")));
    };
    if !opts.iter().any(|(k, _)| k == "size") {
        opts.push(("size".into(), format_size(vol.size)));
    }
    Ok(DiskReq::Value(print_disk(&volume, &opts)))
}

/// Every disk's final `(key, value)` and the task log lines.
pub(crate) type Allocation = (Vec<(String, String)>, Vec<String>);

/// Allocates the new volumes among `disks` for VM `vmid` (in key order) and returns every
/// disk's final config value and the task log lines. On failure, frees what it allocated and
/// returns PVE's storage error.
pub(crate) fn alloc_disks(
    cluster: &mut Cluster,
    node: &str,
    vmid: u32,
    disks: &[(String, DiskReq)],
    ctime: i64,
) -> Result<Allocation, String> {
    let mut done: Vec<String> = Vec::new();
    let mut values = Vec::new();
    let mut log = Vec::new();
    for (key, req) in disks {
        match req {
            DiskReq::Value(v) => values.push((key.clone(), v.clone())),
            DiskReq::CloudInit { storage } => {
                match super::cloudinit::alloc(cluster, node, storage, vmid, ctime) {
                    Ok((volid, value, l)) => {
                        log.extend(l);
                        log.push(format!("{key}: successfully created disk '{value}'"));
                        values.push((key.clone(), value));
                        done.push(volid);
                    }
                    Err(e) => {
                        guest::free_volumes(cluster, &done);
                        return Err(e);
                    }
                }
            }
            DiskReq::New {
                storage,
                size,
                opts,
            } => {
                let fmt = opts
                    .iter()
                    .find(|(k, _)| k == "format")
                    .map(|(_, v)| v.as_str());
                match guest::alloc_disk(
                    cluster,
                    node,
                    storage,
                    vmid,
                    GuestKind::Qemu,
                    *size,
                    fmt,
                    ctime,
                ) {
                    Ok(Allocated {
                        volid,
                        size,
                        log: l,
                        ..
                    }) => {
                        let mut opts: Vec<(String, String)> = opts
                            .iter()
                            .filter(|(k, _)| k != "format")
                            .cloned()
                            .collect();
                        opts.push(("size".into(), format_size(size)));
                        let value = print_disk(&volid, &opts);
                        log.extend(l);
                        log.push(format!("{key}: successfully created disk '{value}'"));
                        values.push((key.clone(), value));
                        done.push(volid);
                    }
                    Err(e) => {
                        guest::free_volumes(cluster, &done);
                        return Err(e);
                    }
                }
            }
        }
    }
    Ok((values, log))
}

/// The default boot order PVE writes when none is given: disks, then CD-ROMs, then NICs.
pub(crate) fn default_boot(config: &BTreeMap<String, Value>) -> String {
    let mut disks = Vec::new();
    let mut nets = Vec::new();
    for (k, v) in config {
        if is_disk_key(GuestKind::Qemu, k)
            && !k.starts_with("efidisk")
            && !k.starts_with("tpmstate")
        {
            let none = v.as_str().is_some_and(|s| s.starts_with("none"));
            if !none || v.as_str().is_some_and(|s| s.contains("media=cdrom")) {
                disks.push(k.clone());
            }
        } else if k.starts_with("net") && k[3..].bytes().all(|b| b.is_ascii_digit()) {
            nets.push(k.clone());
        }
    }
    disks.sort_by_key(|k| {
        (
            !k.starts_with("scsi") && !k.starts_with("virtio") && !k.starts_with("sata"),
            k.clone(),
        )
    });
    disks.extend(nets);
    format!("order={}", disks.join(";"))
}

/// Checks `boot=order=...` against the config it will apply to.
pub(crate) fn check_boot(config: &BTreeMap<String, Value>) -> Result<(), ApiError> {
    let Some(boot) = config.get("boot").and_then(Value::as_str) else {
        return Ok(());
    };
    let Some(order) = boot.strip_prefix("order=") else {
        return Ok(());
    };
    for dev in order.split([';', ',']).filter(|d| !d.is_empty()) {
        if !config.contains_key(dev) {
            return Err(ApiError::param(
                "boot",
                format!("invalid bootorder: device '{dev}' does not exist'"),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::testkit::cluster;

    #[test]
    fn nets() {
        let v = net("net0", "virtio,bridge=vmbr0,firewall=1", "s").unwrap();
        assert!(v.starts_with("virtio=BC:24:11:"), "{v}");
        assert!(v.ends_with(",bridge=vmbr0,firewall=1"), "{v}");
        assert_eq!(
            net("net1", "e1000=aa:bb:cc:dd:ee:ff,bridge=vmbr1", "s").unwrap(),
            "e1000=AA:BB:CC:DD:EE:FF,bridge=vmbr1"
        );
        let Err(Check::Param(k, why)) = net("net0", "foo,bridge=vmbr0", "s") else {
            panic!()
        };
        assert_eq!(k, "net0");
        assert!(why.starts_with("invalid format - format error\nnet0.model: value 'foo' does not have a value in the enumeration 'e1000, "), "{why}");
    }

    #[test]
    fn disks() {
        let c = cluster();
        let d = disk(&c, "pve1", "scsi0", "local-lvm:32,iothread=1").unwrap();
        assert_eq!(
            d,
            DiskReq::New {
                storage: "local-lvm".into(),
                size: 32 << 30,
                opts: vec![("iothread".into(), "1".into())]
            }
        );
        let iso = "local:iso/debian-13.0.0-amd64-netinst.iso";
        assert_eq!(
            disk(&c, "pve1", "ide2", &format!("{iso},media=cdrom")).unwrap(),
            DiskReq::Value(format!("{iso},media=cdrom,size=700M"))
        );
        assert!(
            matches!(disk(&c, "pve1", "scsi1", "nope:8"), Err(Check::Fatal(m)) if m == "storage 'nope' does not exist")
        );
        assert!(
            matches!(disk(&c, "pve1", "scsi1", "local:8"), Err(Check::Param(k, _)) if k == "storage")
        );
        assert!(
            matches!(disk(&c, "pve1", "scsi1", "local-lvm:vm-1-disk-9"), Err(Check::Fatal(m)) if m.contains("does not exist"))
        );
        assert!(matches!(
            disk(&c, "pve1", "scsi1", "local-lvm:8,bogus=1"),
            Err(Check::Param(..))
        ));
        assert_eq!(memory("current=1024").unwrap(), "1024");
        assert!(memory("8").is_err() && memory("abc").is_err());
    }

    #[test]
    fn boot_order() {
        let c = cluster();
        let cfg = &c.guests[&100].config;
        assert_eq!(default_boot(cfg), "order=scsi0;ide2;net0");
        let mut cfg = cfg.clone();
        cfg.insert("boot".into(), Value::from("order=scsi3"));
        assert!(check_boot(&cfg).is_err());
    }
}
