//! Property strings (`virtio=BC:24:11:00:00:01,bridge=vmbr0,firewall=1`) checked against
//! their declared keys the way PVE parses them: parts split on `,`, a part without `=` goes to
//! the default key, aliases resolved, unknown or repeated keys refused, then each value checked
//! like a parameter. Errors carry PVE's wording; the caller prefixes `invalid format - `.

use std::collections::BTreeMap;

use super::spec::{PropFormat, SubKey};

/// Parses `value` as a property string of `format`; `path` names the parameter in errors
/// (`net0`). Returns the keys and values (booleans as `1`/`0`).
pub(crate) fn parse(
    format: &PropFormat,
    value: &str,
    path: &str,
) -> Result<BTreeMap<String, String>, String> {
    let mut res: BTreeMap<String, String> = BTreeMap::new();
    let mut default_used = false;
    for part in value.split(',') {
        if part.trim().is_empty() {
            continue;
        }
        match part.split_once('=') {
            Some((k, v)) if !k.is_empty() && !v.is_empty() => {
                if res.contains_key(k) {
                    return Err(format!(
                        "duplicate key in comma-separated list property: {k}\n"
                    ));
                }
                let mut key = k;
                let mut schema = find(format, k);
                if let Some(alias) = schema.and_then(|s| s.alias) {
                    if let Some(ka) = schema.and_then(|s| s.key_alias) {
                        if res.contains_key(ka) {
                            return Err(format!("key alias '{ka}' is already defined\n"));
                        }
                        res.insert(ka.to_string(), k.to_string());
                    }
                    key = alias;
                    schema = find(format, alias);
                }
                let Some(schema) = schema else {
                    return Err(format!(
                        "invalid key in comma-separated list property: {key}\n"
                    ));
                };
                let v = match schema.ty {
                    super::spec::ParamType::Boolean => parse_boolean(v)
                        .map(|b| u8::from(b).to_string())
                        .unwrap_or_else(|| v.to_string()),
                    _ => v.to_string(),
                };
                res.insert(key.to_string(), v);
            }
            Some(_) => return Err("missing key in comma-separated list property\n".into()),
            None => {
                let Some(dk) = format.keys.iter().find(|k| k.default_key) else {
                    return Err(
                        "value without key, but schema does not define a default key\n".into(),
                    );
                };
                if default_used || res.contains_key(dk.name) {
                    return Err(format!(
                        "duplicate key in comma-separated list property: {}\n",
                        dk.name
                    ));
                }
                default_used = true;
                res.insert(dk.name.to_string(), part.to_string());
            }
        }
    }
    let mut errors = BTreeMap::new();
    for key in format.keys.iter().filter(|k| k.alias.is_none()) {
        let at = format!("{path}.{}", key.name);
        match res.get(key.name) {
            None if !key.optional => {
                errors.insert(at, "property is missing and it is not optional".to_string());
            }
            None => {}
            Some(v) => {
                if let Err(why) = super::check_scalar(&key.ty, v) {
                    errors.insert(at, why);
                }
            }
        }
    }
    if errors.is_empty() {
        return Ok(res);
    }
    let mut msg = String::from("format error\n");
    for (k, v) in errors {
        msg.push_str(&format!("{k}: {}\n", v.trim_end()));
    }
    Err(msg)
}

fn find<'a>(format: &'a PropFormat, key: &str) -> Option<&'a SubKey> {
    format.keys.iter().find(|k| k.name == key)
}

/// PVE's boolean words inside property strings: 1/0, on/off, yes/no, true/false.
pub(crate) fn parse_boolean(v: &str) -> Option<bool> {
    match v.to_ascii_lowercase().as_str() {
        "1" | "on" | "yes" | "true" => Some(true),
        "0" | "off" | "no" | "false" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::params::decl::named_props;

    #[test]
    fn parses_like_pve() {
        let net = named_props("qemu-net").expect("qemu-net declared");
        let ok = parse(
            net,
            "virtio=BC:24:11:00:00:01,bridge=vmbr0,firewall=yes",
            "net0",
        )
        .unwrap();
        assert_eq!(ok["model"], "virtio");
        assert_eq!(ok["macaddr"], "BC:24:11:00:00:01");
        assert_eq!(ok["firewall"], "1");
        let ok = parse(net, "virtio,bridge=vmbr0", "net0").unwrap();
        assert_eq!(ok["model"], "virtio");
        let cases = [
            (
                "virtio,bogus=1",
                "invalid key in comma-separated list property: bogus\n",
            ),
            (
                "virtio,virtio",
                "duplicate key in comma-separated list property: model\n",
            ),
            (
                "virtio,bridge=",
                "missing key in comma-separated list property\n",
            ),
            (
                "bridge=vmbr0",
                "format error\nnet0.model: property is missing and it is not optional\n",
            ),
            (
                "virtio,tag=9999",
                "format error\nnet0.tag: value must have a maximum value of 4094\n",
            ),
            (
                "virtio,firewall=maybe",
                "format error\nnet0.firewall: type check ('boolean') failed - got 'maybe'\n",
            ),
        ];
        for (value, want) in cases {
            assert_eq!(parse(net, value, "net0").unwrap_err(), want, "{value}");
        }
    }
}
