//! Parameter values made from the schema alone: a valid value and an invalid one for any
//! parameter (by type, range, length, enumeration, named format, pattern or property string),
//! and the sizes of PVE's numbered families (`net[n]` is `net0`..`net31`). The named formats
//! are listed here with a sample of each, so a new one fails the tests until it has samples.

use regex::Regex;
use serde_json::Value;

/// A valid and an invalid sample of each named format (the base name and its `-list`).
pub const FORMATS: &[(&str, &str, &str)] = &[
    ("pve-node", "pve01", "-bad-"),
    ("pve-node-list", "pve01,pve02", "pve01,-x"),
    ("pve-vmid", "100", "99"),
    ("pve-vmid-list", "100,101", "100,abc"),
    ("pve-storage-id", "local", "1bad"),
    ("pve-storage-id-list", "local,local-lvm", "local,1bad"),
    ("pve-configid", "net0", "0bad"),
    ("pve-configid-list", "net0,ide2", "net0,0bad"),
    ("dns-name", "web-01.example.com", "web_01"),
    (
        "dns-name-list",
        "example.com lab.example.com",
        "exa_mple.com",
    ),
    ("pve-tag-list", "prod;web", "pr@d"),
    ("pve-storage-content", "iso", "movies"),
    ("pve-storage-content-list", "iso,images", "iso,movies"),
    ("pve-realm", "pam", "1"),
    ("pve-userid", "root@pam", "root"),
    ("pve-groupid", "ops", "o p"),
    ("pve-roleid", "PVEAuditor", "a b"),
    ("pve-priv-list", "VM.Audit,Sys.Audit", "nope"),
    ("pve-poolid", "production", "bad pool"),
    ("pve-task-status-type-list", "ok,error", "ok,bad"),
    ("pve-volume-id", "local:iso/x.iso", "no-colon"),
    ("pve-volume-id-or-qm-path", "local:iso/x.iso", "no-colon"),
    (
        "pve-volume-id-or-absolute-path",
        "local:iso/x.iso",
        "rel/path",
    ),
    ("pve-lxc-mp-string", "local-lvm:8", "nothing"),
    ("pve-lxc-dev-string", "/dev/null", "tty0"),
    ("urlencoded", "ssh-ed25519%20AAAA", "has space"),
    ("ipv4", "192.0.2.1", "300.1.1.1"),
    ("ipv6", "2001:db8::1", "2001:zz::1"),
    ("CIDR", "192.0.2.0/24", "192.0.2.0"),
    ("address-list", "192.0.2.53", "not an address!"),
    ("lxc-ip-with-ll-iface-list", "192.0.2.53", "x"),
    ("mac-addr", "BC:24:11:00:00:01", "01:00:5E:00:00:01"),
    ("disk-size", "32G", "32X"),
    ("pve-bridge-id", "vmbr0", "vm br0"),
    ("pve-iface", "vmbr0", "0bad"),
    ("email-or-username-list", "admin@example.com", "admin@"),
    ("pve-startup-order", "order=1,up=30", "first"),
    ("pve-cpuset", "0-3", "x"),
    ("pve-hotplug-features", "network,disk", "nope"),
    ("pve-qm-bootdisk", "scsi0", "floppy0"),
    ("pve-day-of-week-list", "mon,tue", "someday"),
    ("pve-calendar-event", "02:00", "whenever"),
    ("pve-ct-timezone", "Europe/Paris", "Nowhere"),
    ("pve-ha-resource-or-vm-id", "vm:100", "x:100"),
    ("storage-pair-list", "local-lvm:local", "a:b:c"),
    ("pve-dir-override-list", "iso=/isos", "iso"),
    ("pve-storage-path", "/srv/x", "relative"),
    ("pve-storage-server", "192.0.2.10", "bad server!"),
    ("pve-storage-portal-dns", "192.0.2.10", "bad portal!"),
    ("pve-storage-portal-dns-list", "192.0.2.10", "bad portal!"),
    ("pve-storage-vgname", "pve", "bad vg!"),
    ("pve-storage-options", "vers=4.2", "bad option!"),
    ("pve-ipv4-config", "dhcp", "192.0.2.1"),
    ("pve-ipv6-config", "auto", "2001:db8::1"),
    ("pve-qm-ide", "local:iso/x.iso,media=cdrom", "zzz=1"),
    ("pve-vm-cpu-conf", "host", "zzz=1"),
    ("pve-qm-boot", "order=scsi0", "zzz=1"),
    ("pve-qm-hostpci", "0000:01:00.0", "zzz=1"),
    ("pve-qm-ipconfig", "ip=dhcp", "zzz=1"),
    ("pve-qm-rng", "/dev/urandom", "zzz=1"),
    (
        "pve-qm-smbios1",
        "uuid=6f9fbb2c-1a0c-4e4b-9b0f-2b2e5a1c3d4e",
        "zzz=1",
    ),
    ("pve-qm-watchdog", "i6300esb", "zzz=1"),
    ("pve-qm-cicustom", "user=local:snippets/u.yaml", "zzz=1"),
    ("pve-qemu-sev-fmt", "std", "zzz=1"),
    ("pve-qemu-tdx-fmt", "tdx,attestation=1", "zzz=1"),
    ("backup-fleecing", "1", "zzz=1"),
    ("backup-performance", "max-workers=2", "zzz=1"),
    ("prune-backups", "keep-last=3", "zzz=1"),
];

/// PVE's numbered families: prefix and highest index.
pub const FAMILIES: &[(&str, u32)] = &[
    ("net", 31),
    ("ipconfig", 31),
    ("scsi", 30),
    ("virtio", 15),
    ("hostpci", 15),
    ("usb", 13),
    ("virtiofs", 9),
    ("numa", 7),
    ("sata", 5),
    ("ide", 3),
    ("serial", 3),
    ("parallel", 2),
    ("mp", 255),
    ("unused", 255),
    ("dev", 255),
];

/// The samples of a named format: `(valid, invalid)`.
pub fn format_samples(name: &str) -> Option<(&'static str, &'static str)> {
    FORMATS
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|(_, v, i)| (*v, *i))
}

/// PVE's (Perl) pattern as an anchored Rust regex, if Rust's engine takes it.
pub fn pattern(p: &str) -> Option<Regex> {
    let rust = p
        .replace("(?^:", "(?:")
        .replace("{,", "{0,")
        .replace("\\0", "\\x00");
    Regex::new(&format!("^(?:{rust})$")).ok()
}

const CANDIDATES: &[&str] = &[
    "a",
    "https://example.com/a.iso",
    "x1",
    "1",
    "10",
    "01:30",
    "02:00",
    "net0",
    "abc-1",
    "A1",
    "host",
    "0",
    "/dev/ttyS0",
    "socket",
    "/dev/parport0",
    "now",
    "a:b",
    "1-2",
    "v1.2",
    "A=1",
];

/// A valid value for a schema property (a parameter or a property-string key), or `None` when
/// the schema gives no way to make one.
pub fn valid(prop: &Value) -> Option<String> {
    let ty = prop["type"].as_str().unwrap_or("string");
    if let Some(values) = prop["enum"].as_array() {
        return values.first().map(text);
    }
    match ty {
        "boolean" => return Some("1".into()),
        "integer" | "number" => {
            if let Some(f) = prop["format"].as_str() {
                return format_samples(f).map(|(v, _)| v.to_string());
            }
            let lo = prop["minimum"].as_f64();
            let hi = prop["maximum"].as_f64();
            let v = match (lo, hi) {
                (Some(lo), _) if lo > 1.0 => lo,
                (_, Some(hi)) if hi < 1.0 => hi,
                _ => 1.0,
            };
            return Some(format!("{}", v as i64));
        }
        _ => {}
    }
    if let Some(format) = prop["format"].as_object() {
        return props_valid(format);
    }
    if let Some(f) = prop["format"].as_str() {
        return format_samples(f).map(|(v, _)| v.to_string());
    }
    let min = prop["minLength"].as_u64().unwrap_or(0) as usize;
    let max = prop["maxLength"].as_u64().unwrap_or(u64::MAX) as usize;
    if let Some(p) = prop["pattern"].as_str() {
        let re = pattern(p)?;
        return CANDIDATES
            .iter()
            .find(|c| re.is_match(c) && c.len() >= min && c.len() <= max)
            .map(|c| (*c).to_string());
    }
    Some("x".repeat(min.max(1)))
}

/// A valid property string: the required keys (the default key without `key=`).
fn props_valid(format: &serde_json::Map<String, Value>) -> Option<String> {
    let mut parts = Vec::new();
    for (k, sub) in format {
        if sub.get("alias").is_some() || sub["optional"] == 1 {
            continue;
        }
        let v = valid(sub)?;
        if sub["default_key"] == 1 {
            parts.insert(0, v);
        } else {
            parts.push(format!("{k}={v}"));
        }
    }
    if parts.is_empty() {
        // Every key optional: one of them, so the value is not empty.
        let (k, sub) = format
            .iter()
            .find(|(_, s)| s.get("alias").is_none() && valid(s).is_some())?;
        parts.push(format!("{k}={}", valid(sub)?));
    }
    Some(parts.join(","))
}

/// An invalid value for a parameter and what makes it so, or `None` when any string will do.
pub fn invalid(prop: &Value) -> Option<(String, &'static str)> {
    let ty = prop["type"].as_str().unwrap_or("string");
    match ty {
        "integer" => return Some(("1.5x".into(), "type")),
        "number" => return Some(("x".into(), "type")),
        "boolean" => return Some(("2".into(), "type")),
        "array" => return None,
        _ => {}
    }
    if prop["enum"].is_array() {
        return Some(("not-in-the-enumeration".into(), "enum"));
    }
    if prop["format"].is_object() {
        return Some(("zzz_bogus=1".into(), "property string"));
    }
    if let Some(f) = prop["format"].as_str() {
        return format_samples(f).map(|(_, i)| (i.to_string(), "format"));
    }
    if let Some(max) = prop["maxLength"].as_u64() {
        return Some(("x".repeat(max as usize + 1), "length"));
    }
    if let Some(min) = prop["minLength"].as_u64().filter(|m| *m > 0) {
        return Some(("x".repeat(min as usize - 1), "length"));
    }
    if let Some(p) = prop["pattern"].as_str() {
        let re = pattern(p)?;
        return ["", " ", "\u{7}", "bad value!", "::"]
            .iter()
            .find(|c| !re.is_match(c))
            .map(|c| ((*c).to_string(), "pattern"));
    }
    None
}

/// The concrete key for a family name (`net[n]` → `net0`).
pub fn concrete(name: &str) -> String {
    name.replace("[n]", "0")
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
