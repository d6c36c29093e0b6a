//! PVE's named string formats (`pve-node`, `pve-vmid`, `pve-storage-id`, `pve-configid`,
//! `dns-name`, lists...). `check` returns the reason PVE gives, which the validator prefixes
//! with `invalid format - `. Unknown format names are accepted (the simulator is lenient there).

/// Checks `value` against the named format; `Err` holds PVE's reason (without trailing newline).
pub(crate) fn check(format: &str, value: &str) -> Result<(), String> {
    match format {
        "pve-node" => check_one(
            is_node_name(value),
            "value does not look like a valid node name",
        ),
        "pve-vmid" => check_one(is_vmid(value), "value does not look like a valid VM ID"),
        "pve-vmid-list" => each(value, |v| {
            check_one(
                is_vmid(v),
                &format!("value '{v}' does not look like a valid VM ID"),
            )
        }),
        "pve-storage-id" => storage_id(value),
        "pve-storage-id-list" => each(value, storage_id),
        "pve-configid" => configid(value),
        "pve-configid-list" => each(value, configid),
        "pve-snapshot-name" => check_one(
            is_snapshot_name(value),
            &format!("invalid snapshot name '{value}'"),
        ),
        "dns-name" => check_one(
            is_dns_name(value),
            "value does not look like a valid DNS name",
        ),
        "pve-tag-list" => {
            let tags: Vec<&str> = split_list(value).collect();
            if tags.is_empty() {
                return Err("no tags given".to_string());
            }
            tags.into_iter()
                .try_for_each(|t| check_one(is_tag(t), &format!("invalid tag '{t}'")))
        }
        "pve-storage-content" => content(value),
        "pve-storage-content-list" => each(value, content),
        "pve-realm" => check_one(is_realm(value), "value does not look like a valid realm"),
        "pve-userid" => userid(value),
        "pve-task-status-type-list" => each(value, |v| {
            check_one(
                matches!(v, "ok" | "warning" | "error" | "unknown"),
                &format!(
                    "value '{v}' does not have a value in the enumeration 'ok, warning, error, unknown'"
                ),
            )
        }),
        "pve-volume-id" | "pve-volume-id-or-qm-path" => volume_id(value),
        "pve-poolid" => check_one(is_pool_id(value), &format!("invalid pool ID '{value}'")),
        "urlencoded" => check_one(
            value
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-%_.!~*'()".contains(&b)),
            &format!("invalid urlencoded string: {value}"),
        ),
        _ => Ok(()),
    }
}

fn check_one(ok: bool, why: &str) -> Result<(), String> {
    if ok { Ok(()) } else { Err(why.to_string()) }
}

/// Lists are separated by commas, semicolons or whitespace.
fn split_list(value: &str) -> impl Iterator<Item = &str> {
    value
        .split(|c: char| c == ',' || c == ';' || c.is_whitespace())
        .filter(|s| !s.is_empty())
}

fn each(value: &str, f: impl Fn(&str) -> Result<(), String>) -> Result<(), String> {
    split_list(value).try_for_each(f)
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

fn storage_id(v: &str) -> Result<(), String> {
    let b = v.as_bytes();
    let ok = b.len() >= 2
        && b[0].is_ascii_alphabetic()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'));
    check_one(ok, &format!("storage ID '{v}' contains illegal characters"))
}

fn configid(v: &str) -> Result<(), String> {
    let b = v.as_bytes();
    let ok = b.len() >= 2
        && b[0].is_ascii_alphabetic()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_'));
    check_one(ok, &format!("invalid configuration ID '{v}'"))
}

fn is_snapshot_name(v: &str) -> bool {
    let b = v.as_bytes();
    (2..=40).contains(&b.len())
        && b[0].is_ascii_alphabetic()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_'))
}

fn is_dns_name(v: &str) -> bool {
    !v.is_empty()
        && v.len() <= 253
        && v.split('.').all(|label| {
            let b = label.as_bytes();
            !b.is_empty()
                && b.len() <= 63
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

fn content(v: &str) -> Result<(), String> {
    check_one(
        matches!(
            v,
            "images" | "rootdir" | "vztmpl" | "iso" | "backup" | "snippets" | "import" | "none"
        ),
        &format!("invalid content type '{v}'"),
    )
}

fn is_realm(v: &str) -> bool {
    let b = v.as_bytes();
    b.len() >= 2
        && b[0].is_ascii_alphabetic()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-' | b'_'))
}

fn userid(v: &str) -> Result<(), String> {
    let ok = v.rsplit_once('@').is_some_and(|(user, realm)| {
        !user.is_empty() && !user.contains([':', '/', '\n']) && is_realm(realm)
    });
    check_one(
        ok,
        &format!("value '{v}' does not look like a valid user name"),
    )
}

fn volume_id(v: &str) -> Result<(), String> {
    let ok = v
        .split_once(':')
        .is_some_and(|(store, rest)| storage_id(store).is_ok() && !rest.is_empty());
    check_one(
        ok || v.starts_with('/'),
        &format!("unable to parse volume ID '{v}'"),
    )
}

fn is_pool_id(v: &str) -> bool {
    !v.is_empty()
        && v.bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'/'))
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
            ("pve-vmid-list", "100,101 102", true),
            ("pve-vmid-list", "100,abc", false),
            ("pve-storage-id", "local-lvm", true),
            ("pve-storage-id", "1local", false),
            ("pve-configid", "net0", true),
            ("pve-configid-list", "net0,scsi1", true),
            ("pve-configid-list", "net0,0bad", false),
            ("dns-name", "web-01.example.com", true),
            ("dns-name", "web_01", false),
            ("pve-tag-list", "prod;web", true),
            ("pve-tag-list", "pr od;w@b", false),
            ("pve-storage-content-list", "images,rootdir", true),
            ("pve-storage-content", "movies", false),
            ("pve-userid", "root@pam", true),
            ("pve-userid", "root", false),
            (
                "urlencoded",
                "ssh-ed25519%20AAAA%2B%2F%3D%20me%40host",
                true,
            ),
            ("urlencoded", "ssh-ed25519 AAAA me@host", false),
            ("something-else", "anything", true),
        ];
        for (fmt, value, ok) in cases {
            assert_eq!(check(fmt, value).is_ok(), *ok, "{fmt} {value}");
        }
    }
}
