//! PVE's named string formats checked by code (`pve-node`, `pve-vmid`, `pve-storage-id`,
//! `pve-configid`, `dns-name`, `CIDR`, `mac-addr`...), by their base name: the validator
//! splits `-list` values and skips empty `-opt` ones, and formats that are property strings
//! (`pve-qm-ide`, `prune-backups`...) are declared in `params/decl/`. `check` returns PVE's
//! reason, which the validator turns into `invalid format - REASON`. A name the simulator does
//! not know is accepted.

use std::net::{Ipv4Addr, Ipv6Addr};

/// Checks `value` against the named format; `Err` holds PVE's reason (without newline).
pub(crate) fn check(format: &str, value: &str) -> Result<(), String> {
    match format {
        "pve-node" => ok_if(
            is_node_name(value),
            "value does not look like a valid node name",
        ),
        "pve-vmid" => ok_if(is_vmid(value), "value does not look like a valid VM ID"),
        "pve-storage-id" => id(value, "storage"),
        "pve-configid" => ok_if(
            is_configid(value),
            &format!("invalid configuration ID '{value}'"),
        ),
        "dns-name" => ok_if(
            is_dns_name(value),
            "value does not look like a valid DNS name",
        ),
        "pve-tag" => ok_if(is_tag(value), "invalid characters in tag"),
        "pve-storage-content" => ok_if(
            matches!(
                value,
                "images" | "rootdir" | "vztmpl" | "iso" | "backup" | "snippets" | "import" | "none"
            ),
            &format!("invalid content type '{value}'"),
        ),
        "pve-realm" => ok_if(is_realm(value), "value does not look like a valid realm"),
        "pve-userid" => ok_if(
            is_userid(value),
            &format!("value '{value}' does not look like a valid user name"),
        ),
        "pve-groupid" => ok_if(
            is_group_or_role(value),
            &format!("group name '{value}' contains invalid characters"),
        ),
        "pve-roleid" => ok_if(
            is_group_or_role(value),
            &format!("role name '{value}' contains invalid characters"),
        ),
        "pve-priv" => ok_if(is_privilege(value), &format!("invalid privilege '{value}'")),
        "pve-poolid" => ok_if(is_pool_id(value), &format!("invalid pool ID '{value}'")),
        "pve-task-status-type" => ok_if(
            matches!(
                value.to_ascii_lowercase().as_str(),
                "ok" | "error" | "warning" | "unknown"
            ),
            &format!("invalid status '{value}'"),
        ),
        "pve-volume-id" => volume_id(value),
        "pve-volume-id-or-qm-path" => ok_if(
            volume_id(value).is_ok()
                || value == "none"
                || value == "cdrom"
                || value.starts_with('/'),
            &format!("unable to parse volume ID '{value}'"),
        ),
        "pve-volume-id-or-absolute-path" => ok_if(
            volume_id(value).is_ok() || value.starts_with('/'),
            &format!("unable to parse volume ID '{value}'"),
        ),
        "pve-lxc-mp-string" => ok_if(
            value.contains(':') || value.starts_with('/'),
            &format!("unable to parse volume ID '{value}'"),
        ),
        "pve-lxc-dev-string" => ok_if(
            value.starts_with("/dev/") && !value.contains("/.."),
            &format!("not a valid device path '{value}'"),
        ),
        "urlencoded" => ok_if(
            value
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-%_.!~*'()".contains(&b)),
            &format!("invalid urlencoded string: {value}"),
        ),
        "ipv4" => ok_if(
            value.parse::<Ipv4Addr>().is_ok(),
            "value does not look like a valid IPv4 address",
        ),
        "ipv6" => ok_if(
            value.parse::<Ipv6Addr>().is_ok(),
            "value does not look like a valid IPv6 address",
        ),
        "ip" => ok_if(is_ip(value), "value does not look like a valid IP address"),
        "address" => ok_if(
            is_ip(value) || is_dns_name(value),
            &format!("value does not look like a valid address: {value}"),
        ),
        "CIDR" => ok_if(
            is_cidr4(value) || is_cidr6(value),
            "value does not look like a valid CIDR network",
        ),
        "CIDRv4" => ok_if(
            is_cidr4(value),
            "value does not look like a valid IPv4 CIDR network",
        ),
        "CIDRv6" => ok_if(
            is_cidr6(value),
            "value does not look like a valid IPv6 CIDR network",
        ),
        "pve-ipv4-config" => ok_if(
            matches!(value, "dhcp" | "manual") || is_cidr4(value),
            "value does not look like a valid ipv4 network configuration",
        ),
        "pve-ipv6-config" => ok_if(
            matches!(value, "auto" | "dhcp" | "manual") || is_cidr6(value),
            "value does not look like a valid ipv6 network configuration",
        ),
        "lxc-ip-with-ll-iface" => {
            let ip = value.split_once('%').map_or(value, |(ip, _)| ip);
            ok_if(
                is_ip(ip),
                &format!("value does not look like a valid IP address: {value}"),
            )
        }
        "mac-addr" => ok_if(
            is_unicast_mac(value),
            "value does not look like a valid unicast MAC address",
        ),
        "disk-size" => ok_if(
            is_disk_size(value),
            &format!("value does not look like a valid disk size: {value}"),
        ),
        "pve-bridge-id" => ok_if(
            !value.is_empty()
                && value
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)),
            &format!("invalid bridge ID '{value}'"),
        ),
        "pve-iface" => ok_if(
            is_iface(value),
            &format!("invalid network interface name '{value}'"),
        ),
        "email-or-username" => ok_if(
            is_email_or_user(value),
            "value does not look like a valid email address or user name",
        ),
        "pve-startup-order" => ok_if(is_startup_order(value), "unable to parse startup options"),
        "pve-cpuset" => ok_if(is_cpuset(value), &format!("invalid cpuset '{value}'")),
        "pve-hotplug-features" => hotplug(value),
        "pve-qm-bootdisk" => ok_if(is_bootdisk(value), &format!("invalid drive name '{value}'")),
        "pve-day-of-week" => ok_if(
            matches!(value, "mon" | "tue" | "wed" | "thu" | "fri" | "sat" | "sun"),
            &format!("invalid day of week '{value}'"),
        ),
        "pve-calendar-event" => ok_if(
            is_calendar_event(value),
            &format!("unable to parse calendar event '{value}'"),
        ),
        "pve-ct-timezone" => ok_if(
            value == "host" || is_timezone(value),
            &format!("invalid time zone '{value}'"),
        ),
        "pve-ha-resource-or-vm-id" => ok_if(
            is_vmid(value)
                || value
                    .split_once(':')
                    .is_some_and(|(t, id)| matches!(t, "vm" | "ct") && is_vmid(id)),
            &format!("unable to parse HA resource id '{value}'"),
        ),
        "storage-pair" => storage_pair(value),
        "pve-dir-override" => ok_if(
            value
                .split_once('=')
                .is_some_and(|(c, d)| !c.is_empty() && !d.is_empty() && !d.contains("..")),
            &format!("invalid override '{value}'"),
        ),
        "pve-storage-path" => ok_if(
            value.starts_with('/') && !value.contains("/.."),
            &format!("invalid path '{value}'"),
        ),
        "pve-storage-server" | "pve-storage-portal-dns" => ok_if(
            is_ip(value.trim_start_matches('[').trim_end_matches(']'))
                || is_dns_name(value.split(':').next().unwrap_or("")),
            &format!("invalid server name '{value}'"),
        ),
        "pve-storage-vgname" => ok_if(
            !value.is_empty()
                && value
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.+".contains(&b)),
            &format!("invalid volume group name '{value}'"),
        ),
        "pve-storage-options" => ok_if(
            value
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-=._,+:/".contains(&b)),
            &format!("invalid options '{value}'"),
        ),
        _ => Ok(()),
    }
}

fn ok_if(ok: bool, why: &str) -> Result<(), String> {
    if ok { Ok(()) } else { Err(why.to_string()) }
}

/// PVE's `parse_id`: a letter, then letters, digits, `-`, `_`, `.`, ending in a letter or digit.
fn id(v: &str, what: &str) -> Result<(), String> {
    let b = v.as_bytes();
    let ok = b.len() >= 2
        && b[0].is_ascii_alphabetic()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'));
    ok_if(ok, &format!("{what} ID '{v}' contains illegal characters"))
}

fn is_node_name(v: &str) -> bool {
    let b = v.as_bytes();
    !b.is_empty()
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
}

fn is_vmid(v: &str) -> bool {
    let b = v.as_bytes();
    (3..=9).contains(&b.len()) && b[0] != b'0' && b.iter().all(u8::is_ascii_digit)
}

fn is_configid(v: &str) -> bool {
    let b = v.as_bytes();
    b.len() >= 2
        && b[0].is_ascii_alphabetic()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_'))
}

fn is_dns_name(v: &str) -> bool {
    !v.is_empty()
        && v.split('.').all(|label| {
            let b = label.as_bytes();
            !b.is_empty()
                && b[0].is_ascii_alphanumeric()
                && b[b.len() - 1].is_ascii_alphanumeric()
                && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
        })
}

fn is_tag(v: &str) -> bool {
    let b = v.as_bytes();
    !b.is_empty()
        && (b[0].is_ascii_alphanumeric() || b[0] == b'_')
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'+' | b'.'))
}

fn is_realm(v: &str) -> bool {
    let b = v.as_bytes();
    b.len() >= 2
        && b[0].is_ascii_alphabetic()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-' | b'_'))
}

fn is_userid(v: &str) -> bool {
    v.len() < 64
        && v.rsplit_once('@').is_some_and(|(user, realm)| {
            !user.is_empty() && !user.contains([':', '/', '\n', '@']) && is_realm(realm)
        })
}

fn is_group_or_role(v: &str) -> bool {
    !v.is_empty()
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
}

fn is_privilege(v: &str) -> bool {
    let mut parts = v.split('.');
    matches!((parts.next(), parts.next(), parts.next()), (Some(a), Some(b), _)
        if !a.is_empty() && !b.is_empty()
            && v.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'.'))
}

fn is_pool_id(v: &str) -> bool {
    let b = v.as_bytes();
    !b.is_empty()
        && b[0].is_ascii_alphanumeric()
        && !v.ends_with('/')
        && !v.contains("//")
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'/'))
}

fn volume_id(v: &str) -> Result<(), String> {
    let ok = v
        .split_once(':')
        .is_some_and(|(store, rest)| id(store, "storage").is_ok() && !rest.is_empty());
    ok_if(ok, &format!("unable to parse volume ID '{v}'"))
}

fn is_ip(v: &str) -> bool {
    v.parse::<Ipv4Addr>().is_ok() || v.parse::<Ipv6Addr>().is_ok()
}

fn is_cidr4(v: &str) -> bool {
    v.split_once('/').is_some_and(|(ip, bits)| {
        ip.parse::<Ipv4Addr>().is_ok() && bits.parse::<u8>().is_ok_and(|b| (8..=32).contains(&b))
    })
}

fn is_cidr6(v: &str) -> bool {
    v.split_once('/').is_some_and(|(ip, bits)| {
        ip.parse::<Ipv6Addr>().is_ok() && bits.parse::<u8>().is_ok_and(|b| (8..=128).contains(&b))
    })
}

/// A MAC with the I/G bit clear, as PVE requires.
fn is_unicast_mac(v: &str) -> bool {
    let parts: Vec<&str> = v.split(':').collect();
    parts.len() == 6
        && parts
            .iter()
            .all(|p| p.len() == 2 && p.bytes().all(|b| b.is_ascii_hexdigit()))
        && u8::from_str_radix(parts[0], 16).is_ok_and(|b| b & 1 == 0)
}

fn is_disk_size(v: &str) -> bool {
    let num = v.strip_suffix(['K', 'M', 'G', 'T']).unwrap_or(v);
    let (int, frac) = num.split_once('.').unwrap_or((num, "0"));
    !int.is_empty()
        && !frac.is_empty()
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.bytes().all(|b| b.is_ascii_digit())
}

fn is_iface(v: &str) -> bool {
    let (name, vlan) = match v.split_once(['.', ':']) {
        Some((n, tag)) => (n, Some(tag)),
        None => (v, None),
    };
    let b = name.as_bytes();
    (2..=21).contains(&b.len())
        && b[0].is_ascii_alphabetic()
        && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_')
        && vlan.is_none_or(|t| !t.is_empty() && t.bytes().all(|c| c.is_ascii_digit()))
}

fn is_email_or_user(v: &str) -> bool {
    let user = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.+".contains(&b))
    };
    match v.split_once('@') {
        Some((local, domain)) => user(local) && is_dns_name(domain),
        None => user(v),
    }
}

fn is_startup_order(v: &str) -> bool {
    !v.is_empty()
        && v.split(',').filter(|p| !p.trim().is_empty()).all(|p| {
            let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
            digits(p.strip_prefix("order=").unwrap_or(p))
                || p.strip_prefix("up=").is_some_and(digits)
                || p.strip_prefix("down=").is_some_and(digits)
        })
}

fn is_cpuset(v: &str) -> bool {
    !v.is_empty()
        && v.split(',').all(|part| {
            let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
            match part.split_once('-') {
                Some((a, b)) => digits(a) && digits(b),
                None => digits(part),
            }
        })
}

fn hotplug(v: &str) -> Result<(), String> {
    if matches!(v, "0" | "1") {
        return Ok(());
    }
    for f in v.split(',') {
        if !matches!(
            f,
            "network" | "disk" | "cpu" | "memory" | "usb" | "cloudinit"
        ) {
            return Err(format!("invalid hotplug feature '{f}'"));
        }
    }
    Ok(())
}

fn is_bootdisk(v: &str) -> bool {
    ["ide", "sata", "scsi", "virtio"].iter().any(|p| {
        v.strip_prefix(p)
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    })
}

/// A systemd-like calendar event as PVE accepts them: a few words, or `[DOW] [HH:MM]`
/// patterns of digits, `*`, `/`, `,`, `.`, `-`, `:`.
fn is_calendar_event(v: &str) -> bool {
    let v = v.trim();
    if matches!(
        v,
        "minutely"
            | "hourly"
            | "daily"
            | "weekly"
            | "monthly"
            | "yearly"
            | "annually"
            | "quarterly"
            | "semiannually"
    ) {
        return true;
    }
    !v.is_empty()
        && v.split_whitespace().all(|word| {
            word.split(',').all(|w| {
                w.split("..")
                    .all(|x| ["mon", "tue", "wed", "thu", "fri", "sat", "sun"].contains(&x))
                    || w.bytes()
                        .all(|b| b.is_ascii_digit() || b"*/.:-".contains(&b))
            })
        })
}

fn is_timezone(v: &str) -> bool {
    v == "UTC"
        || v.split_once('/').is_some_and(|(a, b)| {
            let part = |s: &str| {
                !s.is_empty()
                    && s.bytes()
                        .all(|c| c.is_ascii_alphanumeric() || b"_-+/".contains(&c))
            };
            part(a) && part(b) && a.as_bytes()[0].is_ascii_uppercase()
        })
}

/// One entry of a `storage-pair-list`: `1`, `STORAGE`, or `SOURCE:TARGET`.
fn storage_pair(v: &str) -> Result<(), String> {
    let ok = v == "1"
        || match v.split_once(':') {
            Some((a, b)) => id(a, "storage").is_ok() && id(b, "storage").is_ok(),
            None => id(v, "storage").is_ok(),
        };
    ok_if(ok, &format!("entry '{v}' contains invalid ID"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        let cases: &[(&str, &str, bool)] = &[
            ("pve-node", "pve1", true),
            ("pve-node", "pve_1", false),
            ("pve-node", "-pve", false),
            ("pve-vmid", "100", true),
            ("pve-vmid", "0100", false),
            ("pve-storage-id", "local-lvm", true),
            ("pve-storage-id", "1local", false),
            ("pve-configid", "net0", true),
            ("pve-configid", "0bad", false),
            ("dns-name", "web-01.example.com", true),
            ("dns-name", "web_01", false),
            ("pve-tag", "prod", true),
            ("pve-tag", "w@b", false),
            ("pve-storage-content", "images", true),
            ("pve-storage-content", "movies", false),
            ("pve-userid", "root@pam", true),
            ("pve-userid", "root", false),
            (
                "urlencoded",
                "ssh-ed25519%20AAAA%2B%2F%3D%20me%40host",
                true,
            ),
            ("urlencoded", "ssh-ed25519 AAAA me@host", false),
            ("CIDR", "192.0.2.10/24", true),
            ("CIDR", "192.0.2.10", false),
            ("mac-addr", "BC:24:11:00:00:01", true),
            ("mac-addr", "01:00:5E:00:00:01", false),
            ("disk-size", "32G", true),
            ("disk-size", "32X", false),
            ("pve-startup-order", "order=1,up=30", true),
            ("pve-startup-order", "first", false),
            ("pve-calendar-event", "mon..fri 02:30", true),
            ("pve-calendar-event", "whenever", false),
            ("storage-pair", "local-lvm:ceph", true),
            ("storage-pair", "a:b:c", false),
            ("something-else", "anything", true),
        ];
        for (fmt, value, ok) in cases {
            assert_eq!(check(fmt, value).is_ok(), *ok, "{fmt} {value}");
        }
    }
}
