//! Parameter values built from pve-sim's declarations: for a declared type, text that is valid,
//! at a boundary, or wrong in one of the ways clients get it wrong (a boolean as `true`, an
//! integer with a sign or a fraction, a property string with an unknown, repeated or aliased key,
//! a list with mixed separators). Random text alone almost never gets past a parameter's name
//! or a property string's keys; these do, so the checks behind them run.

use arbitrary::{Result, Unstructured};
use pve_sim::route::{Format, ParamSpec, ParamType, PropFormat, StrSpec};

/// Named formats that pve-sim checks by code (`formats.rs`), for the targets to try each value
/// against.
pub const NAMED_FORMATS: &[&str] = &[
    "pve-node",
    "pve-vmid",
    "pve-storage-id",
    "pve-configid",
    "dns-name",
    "pve-tag",
    "pve-storage-content",
    "pve-realm",
    "pve-userid",
    "pve-groupid",
    "pve-roleid",
    "pve-priv",
    "pve-poolid",
    "pve-task-status-type",
    "pve-volume-id",
    "pve-volume-id-or-qm-path",
    "pve-volume-id-or-absolute-path",
    "pve-lxc-mp-string",
    "pve-lxc-dev-string",
    "urlencoded",
    "ipv4",
    "ipv6",
    "ip",
    "address",
    "CIDR",
    "CIDRv4",
    "CIDRv6",
    "pve-ipv4-config",
    "pve-ipv6-config",
    "lxc-ip-with-ll-iface",
    "mac-addr",
    "disk-size",
    "pve-bridge-id",
    "pve-iface",
    "email-or-username",
    "pve-startup-order",
    "pve-cpuset",
    "pve-hotplug-features",
    "pve-qm-bootdisk",
    "pve-day-of-week",
    "pve-calendar-event",
    "pve-ct-timezone",
    "pve-ha-resource-or-vm-id",
    "storage-pair",
    "pve-dir-override",
    "pve-storage-path",
    "pve-storage-server",
    "pve-storage-portal-dns",
    "pve-storage-vgname",
    "pve-storage-options",
];

/// Values of a named format (by its base name): valid ones and near misses.
fn samples(format: &str) -> &'static [&'static str] {
    match format {
        "pve-node" => &["pve1", "pve-2", "node1", "-pve", "pve_1", "a.b"],
        "pve-vmid" | "pve-ha-resource-or-vm-id" => &[
            "100",
            "101",
            "99",
            "999999999",
            "1000000000",
            "0100",
            "vm:100",
            "ct:200",
        ],
        "pve-storage-id" => &["local", "local-lvm", "nfs1", "1local", "a:b"],
        "pve-configid" => &["net0", "ide2", "scsi30", "0x", "unused0", "mp255"],
        "pve-tag" => &["prod", "web", "a;b", "a@b", "-x"],
        "pve-userid" | "email-or-username" => &["root@pam", "alice@pve", "root", "@pam", "a@b.c"],
        "pve-realm" => &["pam", "pve", "1x"],
        "pve-poolid" | "pve-groupid" | "pve-roleid" => &["prod", "PVEAdmin", "a b", "x/y"],
        "pve-priv" => &["VM.PowerMgmt", "Sys.Audit", "VM.Nope"],
        "pve-storage-content" => &["images", "rootdir", "iso", "backup", "bogus"],
        "pve-task-status-type" => &["ok", "error", "warning", "unknown", "other"],
        "pve-volume-id" | "pve-volume-id-or-qm-path" | "pve-volume-id-or-absolute-path" => &[
            "local:100/vm-100-disk-0.qcow2",
            "local-lvm:vm-100-disk-0",
            "local:iso/debian.iso",
            "/dev/sdb",
            "cdrom",
            "none",
            "local:",
        ],
        "ipv4" | "ip" | "address" => &["10.0.0.1", "256.0.0.1", "::1", "fd00::1", "1.2.3"],
        "ipv6" => &["fd00::1", "::", "fd00:::1", "10.0.0.1"],
        "CIDR" | "CIDRv4" | "CIDRv6" => &["10.0.0.0/24", "fd00::/64", "10.0.0.0/33", "1.2.3.4"],
        "pve-ipv4-config" => &["dhcp", "manual", "10.0.0.2/24", "10.0.0.2"],
        "pve-ipv6-config" => &["auto", "dhcp", "fd00::2/64", "fd00::2"],
        "mac-addr" => &[
            "BC:24:11:00:00:01",
            "bc:24:11:00:00:01",
            "01:00:00:00:00:00",
            "BC:24",
        ],
        "disk-size" => &["32G", "512M", "1T", "0", "+1G", "1.5G", "G"],
        "pve-bridge-id" | "pve-iface" => &["vmbr0", "eth0", "vmbr", "0vmbr"],
        "pve-startup-order" => &["order=1,up=30", "order=x", "down=10"],
        "pve-cpuset" => &["0-3", "0,2,4", "3-1", "x"],
        "pve-hotplug-features" => &["network,disk,usb", "1", "0", "cpu,bogus"],
        "pve-qm-bootdisk" => &["scsi0", "virtio0", "net0", "ide4"],
        "pve-day-of-week" => &["mon", "sun", "xyz"],
        "pve-calendar-event" => &["daily", "mon..fri 02:00", "*/15", "25:00"],
        "pve-ct-timezone" => &["host", "Europe/Paris", "Nowhere/Else"],
        "storage-pair" | "pve-dir-override" => &["local:local-lvm", "1", "a:b:c"],
        "urlencoded" => &["a%20b", "%zz", "ssh-ed25519%20AAAA"],
        "dns-name" | "pve-storage-server" | "pve-storage-portal-dns" => {
            &["pve.example.com", "-x.example", "10.0.0.5", "a..b"]
        }
        _ => &["", "1", "x", "a b", "a,b", "a=b", "é", "0"],
    }
}

/// Text for a value of type `ty` (property strings and lists included).
pub fn value_text(u: &mut Unstructured<'_>, ty: &ParamType, depth: u8) -> Result<String> {
    Ok(match ty {
        ParamType::Boolean => {
            (*u.choose(&["1", "0", "true", "false", "yes", "on", "2", ""])?).to_owned()
        }
        ParamType::Integer { min, max, text } => {
            if (text.values.is_some() || text.format.is_some()) && u.ratio(1, 2)? {
                return string_text(u, text, depth);
            }
            integer_text(u, *min, *max)?
        }
        ParamType::Number { min, max } => number_text(u, *min, *max)?,
        ParamType::String(s) | ParamType::Array(s) => string_text(u, s, depth)?,
    })
}

fn integer_text(u: &mut Unstructured<'_>, min: Option<i64>, max: Option<i64>) -> Result<String> {
    let lo = min.unwrap_or(-1000);
    let hi = max.unwrap_or(1_000_000).max(lo);
    Ok(match u.int_in_range(0..=7)? {
        0 => lo.to_string(),
        1 => hi.to_string(),
        2 => lo.saturating_sub(1).to_string(),
        3 => hi.saturating_add(1).to_string(),
        4 => u.int_in_range(lo..=hi)?.to_string(),
        5 => format!("+{}", u.int_in_range(lo..=hi)?),
        6 => (*u.choose(&[
            "1.0",
            "1e3",
            "0x10",
            " 1",
            "",
            "-",
            "99999999999999999999",
            "-0",
        ])?)
        .to_owned(),
        _ => u.arbitrary::<i64>()?.to_string(),
    })
}

fn number_text(u: &mut Unstructured<'_>, min: Option<f64>, max: Option<f64>) -> Result<String> {
    Ok(match u.int_in_range(0..=5)? {
        0 => min.unwrap_or(0.0).to_string(),
        1 => max.unwrap_or(1.0).to_string(),
        2 => format!(
            "{}.{}",
            u.int_in_range(0..=99u32)?,
            u.int_in_range(0..=99u32)?
        ),
        3 => (*u.choose(&[
            ".5", "5.", "1e3", "1E-3", "1e", "+.5", "1e400", "nan", "inf", "-0.0",
        ])?)
        .to_owned(),
        4 => f64::from(u.arbitrary::<f32>()?).to_string(),
        _ => u.arbitrary::<i64>()?.to_string(),
    })
}

fn string_text(u: &mut Unstructured<'_>, s: &StrSpec, depth: u8) -> Result<String> {
    if let Some(values) = s.values
        && u.ratio(3, 4)?
    {
        return Ok((*u.choose(values)?).to_owned());
    }
    match s.format {
        Some(Format::Props(p)) if depth < 3 => property_text(u, p, depth + 1),
        Some(Format::Named(name)) => {
            let (base, list) = match name.strip_suffix("-list") {
                Some(b) => (b, true),
                None => (name.strip_suffix("-opt").unwrap_or(name), false),
            };
            if let Some(p) = pve_sim::fuzzing::property_format(name)
                .or_else(|| pve_sim::fuzzing::property_format(base))
                && depth < 3
            {
                return property_text(u, p, depth + 1);
            }
            if !list {
                return sample_or_text(u, base);
            }
            let n = u.int_in_range(1..=4)?;
            let mut out = String::new();
            for i in 0..n {
                if i > 0 {
                    out.push_str(u.choose(&[",", ";", " ", "\0", ", ", ",,"])?);
                }
                out.push_str(&sample_or_text(u, base)?);
            }
            Ok(out)
        }
        _ => sample_or_text(u, ""),
    }
}

fn sample_or_text(u: &mut Unstructured<'_>, format: &str) -> Result<String> {
    if u.ratio(4, 5)? {
        Ok((*u.choose(samples(format))?).to_owned())
    } else {
        u.arbitrary::<String>()
    }
}

/// A property string of `format`: some of its keys (the default key's value sometimes bare, an
/// alias now and then, now and then a key twice or one it does not declare).
pub fn property_text(u: &mut Unstructured<'_>, format: &PropFormat, depth: u8) -> Result<String> {
    let mut parts = Vec::new();
    let n = u.int_in_range(0..=format.keys.len().min(6))?;
    for _ in 0..n {
        let key = u.choose(&format.keys)?;
        let target = key
            .alias
            .and_then(|a| format.keys.iter().find(|k| k.name == a))
            .unwrap_or(key);
        let value = value_text(u, &target.ty, depth)?;
        parts.push(match u.int_in_range(0..=9)? {
            0 if key.default_key => value,
            1 => format!("{}=", key.name),
            2 => format!("bogus{}={value}", u.int_in_range(0..=9u8)?),
            _ => format!("{}={value}", key.name),
        });
    }
    Ok(parts.join(","))
}

/// A parameter name for `specs`: mostly a declared one (a numbered family with an instance
/// number, sometimes out of range), now and then one the route does not declare.
pub fn param_name(
    u: &mut Unstructured<'_>,
    specs: &[ParamSpec],
) -> Result<(String, Option<ParamSpec>)> {
    if specs.is_empty() || u.ratio(1, 10)? {
        let name = (*u.choose(&["node", "vmid", "bogus", "digest", "delete", "net0"])?).to_owned();
        return Ok((name, None));
    }
    let spec = *u.choose(specs)?;
    let name = match spec.name.strip_suffix("[n]") {
        Some(prefix) => format!("{prefix}{}", u.int_in_range(0..=40u16)?),
        None => spec.name.to_owned(),
    };
    Ok((name, Some(spec)))
}
