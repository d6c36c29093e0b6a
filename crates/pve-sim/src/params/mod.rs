//! Request parameters: as they arrive ([`RawParams`]), declared per route ([`spec`], parsed
//! from [`decl`]), and validated the way PVE validates them before a handler runs, with PVE's
//! wording in the 400 `errors` map (`property is missing and it is not optional`, `type check
//! ('integer') failed - got 'abc'`, `invalid format - ...`).

use std::collections::BTreeMap;

use serde_json::Value;

pub(crate) mod decl;
pub(crate) mod props;
pub(crate) mod spec;

use crate::route::ApiError;
use spec::{Format, ParamSpec, ParamType, StrSpec};

/// Parameters as they arrived: ordered `(name, value)` pairs. Form and query values are JSON
/// strings (a repeated key is several pairs); a JSON body keeps its numbers, booleans and
/// arrays.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RawParams(pub Vec<(String, Value)>);

impl RawParams {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one pair (repeat the name for an array parameter).
    pub fn push(&mut self, name: impl Into<String>, value: impl Into<Value>) {
        self.0.push((name.into(), value.into()));
    }

    /// Parses `a=1&b=2` (query string or form body).
    pub fn from_urlencoded(input: &[u8]) -> Self {
        Self(
            form_urlencoded::parse(input)
                .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
                .collect(),
        )
    }

    /// Takes the members of a JSON object body (nulls left out). Anything but an object is an
    /// error.
    pub fn from_json_object(value: Value) -> Result<Self, String> {
        let Value::Object(map) = value else {
            return Err("JSON body must be an object".to_string());
        };
        Ok(Self(
            map.into_iter().filter(|(_, v)| !v.is_null()).collect(),
        ))
    }

    /// Appends all pairs of `other`.
    pub fn extend(&mut self, other: RawParams) {
        self.0.extend(other.0);
    }

    /// The values as text, as the request log records them (an array as one pair per item).
    pub fn as_text_pairs(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for (k, v) in &self.0 {
            match v {
                Value::Array(items) => {
                    out.extend(items.iter().map(|i| (k.clone(), value_text(i))));
                }
                other => out.push((k.clone(), value_text(other))),
            }
        }
        out
    }
}

impl From<Vec<(String, Value)>> for RawParams {
    fn from(v: Vec<(String, Value)>) -> Self {
        Self(v)
    }
}

impl From<&[(&str, &str)]> for RawParams {
    fn from(v: &[(&str, &str)]) -> Self {
        Self(
            v.iter()
                .map(|(k, v)| ((*k).to_string(), Value::String((*v).to_string())))
                .collect(),
        )
    }
}

impl<const N: usize> From<&[(&str, &str); N]> for RawParams {
    fn from(v: &[(&str, &str); N]) -> Self {
        Self::from(&v[..])
    }
}

impl From<Vec<(&str, &str)>> for RawParams {
    fn from(v: Vec<(&str, &str)>) -> Self {
        Self::from(&v[..])
    }
}

/// A value's text: strings as they are, anything else as JSON.
pub(crate) fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// How many instances a numbered family has (`net[n]` is `net0`..`net31`).
pub(crate) fn family_max(prefix: &str) -> Option<u32> {
    Some(match prefix {
        "net" | "ipconfig" => 31,
        "scsi" => 30,
        "virtio" | "hostpci" => 15,
        "usb" => 13,
        "virtiofs" => 9,
        "numa" => 7,
        "sata" => 5,
        "ide" | "serial" => 3,
        "parallel" => 2,
        "mp" | "unused" | "dev" => 255,
        _ => return None,
    })
}

/// Whether a concrete key (`net3`) is an instance of a spec name (`net3`, or `net[n]`).
pub(crate) fn name_matches(spec_name: &str, key: &str) -> bool {
    match spec_name.strip_suffix("[n]") {
        None => spec_name == key,
        Some(prefix) => {
            let Some(num) = key.strip_prefix(prefix) else {
                return false;
            };
            if num.is_empty()
                || !num.bytes().all(|b| b.is_ascii_digit())
                || (num.len() > 1 && num.starts_with('0'))
            {
                return false;
            }
            let max = family_max(prefix).unwrap_or(255);
            num.parse::<u32>().is_ok_and(|n| n <= max)
        }
    }
}

const NOT_IN_SCHEMA: &str =
    "property is not defined in schema and the schema does not allow additional properties";
const MISSING: &str = "property is missing and it is not optional";

/// Validates `raw` against `specs` as PVE does before any handler runs, collecting every
/// error: unknown and missing parameters, types, formats, patterns, lengths, ranges,
/// enumerations and `requires`. Values arrive as pveproxy passes them on: a key given several
/// times is one value joined with NUL, which a `-list` format splits again; a JSON array for
/// a `-list` string is joined with `,`. Returns the values coerced to their types (integers
/// as `i64`, numbers as `f64`, booleans as `bool`, arrays as arrays of strings).
pub(crate) fn validate(
    specs: &[ParamSpec],
    raw: &RawParams,
) -> Result<BTreeMap<String, Value>, ApiError> {
    let merged = merge(raw);
    let mut errors = BTreeMap::new();
    let mut out = BTreeMap::new();
    for (key, value) in &merged {
        let Some(spec) = specs.iter().find(|s| name_matches(s.name, key)) else {
            errors.insert(key.clone(), NOT_IN_SCHEMA.to_string());
            continue;
        };
        match check(spec, value, key) {
            Ok(v) => {
                out.insert(key.clone(), v);
            }
            Err(why) => {
                errors.insert(key.clone(), why);
            }
        }
    }
    for spec in specs {
        if !spec.optional && !spec.name.ends_with("[n]") && !merged.contains_key(spec.name) {
            errors.insert(spec.name.to_string(), MISSING.to_string());
        }
    }
    for key in merged.keys() {
        let requires = specs
            .iter()
            .find(|s| name_matches(s.name, key))
            .and_then(|s| s.requires);
        if let Some(r) = requires
            && !merged.contains_key(r)
        {
            errors.insert(
                r.to_string(),
                format!("missing property - '{key}' requires this property"),
            );
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(ApiError::params(errors))
    }
}

/// One value per key: repeated keys joined with NUL (as pveproxy's form decoding does), JSON
/// arrays kept (several are concatenated).
fn merge(raw: &RawParams) -> BTreeMap<String, Value> {
    let mut out: BTreeMap<String, Value> = BTreeMap::new();
    for (k, v) in &raw.0 {
        let merged = match (out.remove(k), v) {
            (None, v) => v.clone(),
            (Some(Value::Array(mut a)), Value::Array(b)) => {
                a.extend(b.iter().cloned());
                Value::Array(a)
            }
            (Some(Value::Array(mut a)), v) => {
                a.push(v.clone());
                Value::Array(a)
            }
            (Some(prev), Value::Array(b)) => {
                let mut a = vec![prev];
                a.extend(b.iter().cloned());
                Value::Array(a)
            }
            (Some(prev), v) => Value::String(format!("{}\0{}", value_text(&prev), value_text(v))),
        };
        out.insert(k.clone(), merged);
    }
    out
}

/// Checks one parameter's value; returns it coerced, or PVE's reason.
fn check(spec: &ParamSpec, value: &Value, key: &str) -> Result<Value, String> {
    match (&spec.ty, value) {
        (ParamType::Array(items), Value::Array(list)) => {
            let mut out = Vec::with_capacity(list.len());
            for item in list {
                let text = match item {
                    Value::Array(_) | Value::Object(_) => return Err(type_error("string", item)),
                    other => value_text(other),
                };
                check_str(items, &text, key)?;
                out.push(Value::String(text));
            }
            Ok(Value::Array(out))
        }
        (ParamType::Array(items), scalar) => {
            let text = value_text(scalar);
            let mut out = Vec::new();
            for part in text.split('\0') {
                check_str(items, part, key)?;
                out.push(Value::String(part.to_string()));
            }
            Ok(Value::Array(out))
        }
        (ParamType::String(s), Value::Array(list)) if is_list_format(s) => {
            let parts: Vec<String> = list.iter().map(value_text).collect();
            let joined = parts.join(",");
            check_str(s, &joined, key)?;
            Ok(Value::String(joined))
        }
        (ty, Value::Array(_) | Value::Object(_)) => Err(type_error(ty.type_name(), value)),
        (ParamType::Boolean, Value::Bool(b)) => Ok(Value::Bool(*b)),
        (ParamType::Boolean, v) => match value_text(v).as_str() {
            "1" => Ok(Value::Bool(true)),
            "0" => Ok(Value::Bool(false)),
            _ => Err(type_error("boolean", v)),
        },
        (ty, Value::Bool(_)) => Err(format!(
            "type check ('{}') failed - got JSON::PP::Boolean",
            ty.type_name()
        )),
        (
            ParamType::Integer {
                min,
                max,
                text: spec,
            },
            v,
        ) => {
            let text = value_text(v);
            let n = as_integer(&text).ok_or_else(|| type_error("integer", v))?;
            check_str(spec, &text, key)?;
            check_range(n as f64, min.map(|m| m as f64), max.map(|m| m as f64))?;
            Ok(Value::from(n))
        }
        (ParamType::Number { min, max }, v) => {
            let text = value_text(v);
            let n = as_number(&text).ok_or_else(|| type_error("number", v))?;
            check_range(n, *min, *max)?;
            Ok(Value::from(n))
        }
        (ParamType::String(s), v) => {
            let text = value_text(v);
            check_str(s, &text, key)?;
            Ok(Value::String(text))
        }
    }
}

fn is_list_format(s: &StrSpec) -> bool {
    matches!(s.format, Some(Format::Named(n)) if n.ends_with("-list"))
}

/// Checks a value given as text against a type (property-string keys, whose booleans are
/// already `1`/`0`).
pub(crate) fn check_scalar(ty: &ParamType, text: &str) -> Result<(), String> {
    match ty {
        ParamType::Boolean => match text {
            "1" | "0" => Ok(()),
            _ => Err(format!("type check ('boolean') failed - got '{text}'")),
        },
        ParamType::Integer {
            min,
            max,
            text: spec,
        } => {
            let n = as_integer(text)
                .ok_or_else(|| format!("type check ('integer') failed - got '{text}'"))?;
            check_str(spec, text, "")?;
            check_range(n as f64, min.map(|m| m as f64), max.map(|m| m as f64))
        }
        ParamType::Number { min, max } => {
            let n = as_number(text)
                .ok_or_else(|| format!("type check ('number') failed - got '{text}'"))?;
            check_range(n, *min, *max)
        }
        ParamType::String(s) | ParamType::Array(s) => check_str(s, text, ""),
    }
}

/// PVE's string checks, in its order: format, pattern, lengths, enumeration.
fn check_str(s: &StrSpec, text: &str, path: &str) -> Result<(), String> {
    if let Some(format) = s.format {
        check_format(format, text, path).map_err(|why| format!("invalid format - {why}"))?;
    }
    if let Some(p) = s.pattern
        && !p.is_match(text)
    {
        return Err("value does not match the regex pattern".to_string());
    }
    let len = text.chars().count();
    if let Some(max) = s.max_len
        && len > max
    {
        return Err(format!("value may only be {max} characters long"));
    }
    if let Some(min) = s.min_len
        && len < min
    {
        return Err(format!("value must be at least {min} characters long"));
    }
    if let Some(values) = s.values
        && !values.contains(&text)
    {
        return Err(format!(
            "value '{text}' does not have a value in the enumeration '{}'",
            values.join(", ")
        ));
    }
    Ok(())
}

/// A named or inline format; the error ends with a newline, as PVE's do.
fn check_format(format: Format, text: &str, path: &str) -> Result<(), String> {
    match format {
        Format::Props(p) => props::parse(p, text, path).map(|_| ()),
        Format::Named(name) => {
            let (base, kind) = if let Some(b) = name.strip_suffix("-list") {
                (b, "list")
            } else if let Some(b) = name.strip_suffix("-opt") {
                (b, "opt")
            } else {
                (name, "")
            };
            let one = |v: &str| match decl::named_props(name).or_else(|| decl::named_props(base)) {
                Some(p) if kind.is_empty() || decl::named_props(name).is_none() => {
                    props::parse(p, v, path).map(|_| ())
                }
                _ => crate::formats::check(base, v).map_err(|e| format!("{e}\n")),
            };
            match kind {
                "list" if decl::named_props(name).is_none() => {
                    split_list(text).into_iter().try_for_each(one)
                }
                "opt" if text.is_empty() => Ok(()),
                _ => one(text),
            }
        }
    }
}

/// PVE's list splitting: on NUL when the value holds one (repeated form keys), else on
/// commas, semicolons and whitespace.
pub(crate) fn split_list(text: &str) -> Vec<&str> {
    if text.contains('\0') {
        return text.split('\0').collect();
    }
    text.split(|c: char| c == ',' || c == ';' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .collect()
}

fn type_error(ty: &str, value: &Value) -> String {
    match value {
        Value::Array(_) => format!("type check ('{ty}') failed - got ARRAY"),
        Value::Object(_) => format!("type check ('{ty}') failed - got HASH"),
        other => format!("type check ('{ty}') failed - got '{}'", value_text(other)),
    }
}

fn check_range(n: f64, min: Option<f64>, max: Option<f64>) -> Result<(), String> {
    let show = |x: f64| {
        if x.fract() == 0.0 && x.abs() < 1e15 {
            format!("{}", x as i64)
        } else {
            format!("{x}")
        }
    };
    if let Some(max) = max
        && n > max
    {
        return Err(format!("value must have a maximum value of {}", show(max)));
    }
    if let Some(min) = min
        && n < min
    {
        return Err(format!("value must have a minimum value of {}", show(min)));
    }
    Ok(())
}

/// PVE's integers: `^[+-]?\d+$`.
fn as_integer(t: &str) -> Option<i64> {
    let digits = t.strip_prefix(['+', '-']).unwrap_or(t);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    t.parse().ok()
}

/// PVE's numbers: `^[+-]?(\d+\.\d+|\d+\.|\.\d+|\d+)([eE][+-]?\d+)?$`.
fn as_number(t: &str) -> Option<f64> {
    let body = t.strip_prefix(['+', '-']).unwrap_or(t);
    let (mantissa, exp) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = match mantissa.split_once('.') {
        Some((a, b)) => (digits(a) && (b.is_empty() || digits(b))) || (a.is_empty() && digits(b)),
        None => digits(mantissa),
    };
    let exp_ok = exp.is_none_or(|e| digits(e.strip_prefix(['+', '-']).unwrap_or(e)));
    if !(mantissa_ok && exp_ok) {
        return None;
    }
    t.parse::<f64>().ok().filter(|f| f.is_finite())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use std::sync::OnceLock;

    use super::*;
    use crate::route::Method;

    fn specs() -> &'static [ParamSpec] {
        static D: OnceLock<decl::Decls> = OnceLock::new();
        D.get_or_init(|| {
            decl::parse(&["
[GET /t]
node str fmt=pve-node
vmid int 100..999999999 fmt=pve-vmid
full? bool
mode? str enum=a|b|c
name? str len=..4
net[n]? str
command? array
delete? str fmt=pve-configid-list
force? bool requires=delete
tags? str fmt=pve-tag-list
ratio? num 0..1
"])
        })
        .route(Method::Get, "/t")
        .unwrap()
    }

    fn ok(raw: RawParams) -> BTreeMap<String, Value> {
        validate(specs(), &raw).unwrap()
    }

    fn errors(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        validate(specs(), &RawParams::from(pairs))
            .unwrap_err()
            .errors
            .unwrap()
    }

    #[test]
    fn coerces_and_accepts_families_and_repeated_keys() {
        let v = ok(RawParams::from(&[
            ("node", "pve1"),
            ("vmid", "100"),
            ("full", "1"),
            ("net31", "virtio"),
            ("command", "ls"),
            ("command", "-l"),
            ("tags", "a"),
            ("tags", "b"),
            ("ratio", ".5"),
        ]));
        assert_eq!(v["vmid"], Value::from(100));
        assert_eq!(v["full"], Value::Bool(true));
        assert_eq!(v["command"], serde_json::json!(["ls", "-l"]));
        assert_eq!(
            v["tags"], "a\0b",
            "a repeated key is one value joined with NUL"
        );
        assert_eq!(v["ratio"], Value::from(0.5));
        assert_eq!(split_list("a\0b;c"), ["a", "b;c"]);
        assert_eq!(split_list("a, b;c d"), ["a", "b", "c", "d"]);
    }

    #[test]
    fn json_bodies_keep_numbers_booleans_and_arrays() {
        let body = serde_json::json!({
            "node": "pve1", "vmid": 100, "full": true, "command": ["echo", "hi"], "name": 7,
            "delete": ["net0", "ide2"]
        });
        let v = ok(RawParams::from_json_object(body).unwrap());
        assert_eq!(v["vmid"], Value::from(100));
        assert_eq!(v["full"], Value::Bool(true));
        assert_eq!(v["command"], serde_json::json!(["echo", "hi"]));
        assert_eq!(v["name"], Value::from("7"));
        assert_eq!(
            v["delete"], "net0,ide2",
            "a -list string joins a JSON array"
        );
        let bad = serde_json::json!({"node": "pve1", "vmid": 1.5, "full": 2, "name": ["x"]});
        let e = validate(specs(), &RawParams::from_json_object(bad).unwrap())
            .unwrap_err()
            .errors
            .unwrap();
        assert_eq!(e["vmid"], "type check ('integer') failed - got '1.5'");
        assert_eq!(e["full"], "type check ('boolean') failed - got '2'");
        assert_eq!(e["name"], "type check ('string') failed - got ARRAY");
        assert!(RawParams::from_json_object(serde_json::json!([1])).is_err());
    }

    #[test]
    fn wording_matches_pve() {
        let e = errors(&[
            ("vmid", "abc"),
            ("full", "true"),
            ("mode", "foo"),
            ("name", "toolong"),
            ("net32", "x"),
            ("bogus", "1"),
            ("force", "1"),
            ("tags", "a;b@"),
            ("ratio", "1e"),
        ]);
        assert_eq!(e["node"], "property is missing and it is not optional");
        assert_eq!(e["vmid"], "type check ('integer') failed - got 'abc'");
        assert_eq!(
            e["full"], "type check ('boolean') failed - got 'true'",
            "the API takes 1/0 only"
        );
        assert_eq!(
            e["mode"],
            "value 'foo' does not have a value in the enumeration 'a, b, c'"
        );
        assert_eq!(e["name"], "value may only be 4 characters long");
        assert!(e["net32"].starts_with("property is not defined in schema"));
        assert!(e["bogus"].starts_with("property is not defined in schema"));
        assert_eq!(
            e["delete"],
            "missing property - 'force' requires this property"
        );
        assert_eq!(e["tags"], "invalid format - invalid characters in tag\n");
        assert_eq!(e["ratio"], "type check ('number') failed - got '1e'");
        let e = errors(&[("node", "pve1"), ("vmid", "99")]);
        assert_eq!(
            e["vmid"], "invalid format - value does not look like a valid VM ID\n",
            "PVE checks the format before the range"
        );
        let e = errors(&[("node", "pve1"), ("vmid", "100"), ("ratio", "1.5")]);
        assert_eq!(e["ratio"], "value must have a maximum value of 1");
        let e = errors(&[("node", "-bad-"), ("vmid", "100")]);
        assert_eq!(
            e["node"],
            "invalid format - value does not look like a valid node name\n"
        );
        let e = errors(&[("node", "pve1"), ("vmid", "100"), ("delete", "net0,0x")]);
        assert_eq!(
            e["delete"],
            "invalid format - invalid configuration ID '0x'\n"
        );
    }
}
