//! Parameter validation against a route's `ParamSpec`s, with PVE's wording in the 400
//! `errors` map (`property is missing and it is not optional`, `type check ('integer') failed -
//! got 'abc'`, `invalid format - ...`). Coerces values to their schema types: integers to
//! `i64`, numbers to `f64`, booleans (1/0/true/false/yes/no/on/off) to JSON bools.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::route::{ApiError, ParamSpec, ParamType};

/// Parameters as they arrived: ordered `(name, value)` pairs. Form and query values are JSON
/// strings; a JSON body keeps its numbers and booleans, and a JSON array is one pair per item.
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

    /// Takes the members of a JSON object body; an array member becomes one pair per item.
    /// Anything but an object is an error.
    pub fn from_json_object(value: Value) -> Result<Self, String> {
        let Value::Object(map) = value else {
            return Err("JSON body must be an object".to_string());
        };
        let mut out = Vec::new();
        for (k, v) in map {
            match v {
                Value::Array(items) => out.extend(items.into_iter().map(|i| (k.clone(), i))),
                Value::Null => {}
                other => out.push((k, other)),
            }
        }
        Ok(Self(out))
    }

    /// Appends all pairs of `other`.
    pub fn extend(&mut self, other: RawParams) {
        self.0.extend(other.0);
    }

    /// The values as text, as the request log records them.
    pub fn as_text_pairs(&self) -> Vec<(String, String)> {
        self.0
            .iter()
            .map(|(k, v)| (k.clone(), value_text(v)))
            .collect()
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

/// The schema ranges of numbered parameter families (`net[n]` is `net0`..`net31`).
pub(crate) fn family_max(prefix: &str) -> Option<u32> {
    Some(match prefix {
        "net" | "ipconfig" => 31,
        "scsi" => 30,
        "virtio" | "hostpci" => 15,
        "sata" => 5,
        "ide" | "serial" | "parallel" => 3,
        "mp" | "unused" | "dev" => 255,
        "usb" => 13,
        "numa" => 7,
        "virtiofs" => 9,
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

/// Validates `raw` against `specs`, collecting every error as PVE does; returns the coerced
/// parameters (`Array` parameters as JSON arrays of strings).
pub(crate) fn validate(
    specs: &[ParamSpec],
    raw: &RawParams,
) -> Result<BTreeMap<String, Value>, ApiError> {
    let mut grouped: BTreeMap<&str, Vec<&Value>> = BTreeMap::new();
    for (k, v) in &raw.0 {
        grouped.entry(k.as_str()).or_default().push(v);
    }
    let mut errors = BTreeMap::new();
    let mut out = BTreeMap::new();
    for (key, values) in &grouped {
        let Some(spec) = specs.iter().find(|s| name_matches(s.name, key)) else {
            errors.insert(
                (*key).to_string(),
                "property is not defined in schema and the schema does not allow additional properties".to_string(),
            );
            continue;
        };
        match coerce(spec, values) {
            Ok(v) => {
                out.insert((*key).to_string(), v);
            }
            Err(why) => {
                errors.insert((*key).to_string(), why);
            }
        }
    }
    for spec in specs {
        if !spec.optional && !spec.name.ends_with("[n]") && !grouped.contains_key(spec.name) {
            errors.insert(
                spec.name.to_string(),
                "property is missing and it is not optional".to_string(),
            );
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(ApiError::params(errors))
    }
}

fn coerce(spec: &ParamSpec, values: &[&Value]) -> Result<Value, String> {
    if let ParamType::Array = spec.ty {
        return Ok(Value::Array(
            values
                .iter()
                .map(|v| Value::String(value_text(v)))
                .collect(),
        ));
    }
    let [value] = values else {
        return Err(format!(
            "type check ('{}') failed - got ARRAY",
            type_name(&spec.ty)
        ));
    };
    match spec.ty {
        ParamType::Integer { min, max } => {
            let n = as_integer(value).ok_or_else(|| type_error("integer", value))?;
            check_range(
                n as f64,
                min.map(|m| m as f64),
                max.map(|m| m as f64),
                |x| format!("{}", x as i64),
            )?;
            Ok(Value::from(n))
        }
        ParamType::Number { min, max } => {
            let n = as_number(value).ok_or_else(|| type_error("number", value))?;
            check_range(n, min, max, |x| format!("{x}"))?;
            Ok(Value::from(n))
        }
        ParamType::Boolean => as_bool(value)
            .map(Value::Bool)
            .ok_or_else(|| type_error("boolean", value)),
        ParamType::String {
            values,
            max_len,
            format,
        } => {
            let s = match value {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => u8::from(*b).to_string(),
                _ => return Err(type_error("string", value)),
            };
            if let Some(allowed) = values
                && !allowed.contains(&s.as_str())
            {
                return Err(format!(
                    "value '{s}' does not have a value in the enumeration '{}'",
                    allowed.join(", ")
                ));
            }
            if let Some(max) = max_len
                && s.chars().count() > max
            {
                return Err(format!("value may only be {max} characters long"));
            }
            if let Some(fmt) = format {
                crate::formats::check(fmt, &s)
                    .map_err(|why| format!("invalid format - {why}\n"))?;
            }
            Ok(Value::String(s))
        }
        ParamType::Array => Ok(Value::Null),
    }
}

fn type_name(ty: &ParamType) -> &'static str {
    match ty {
        ParamType::Integer { .. } => "integer",
        ParamType::Number { .. } => "number",
        ParamType::Boolean => "boolean",
        ParamType::String { .. } => "string",
        ParamType::Array => "array",
    }
}

fn type_error(ty: &str, value: &Value) -> String {
    match value {
        Value::Array(_) => format!("type check ('{ty}') failed - got ARRAY"),
        Value::Object(_) => format!("type check ('{ty}') failed - got HASH"),
        other => format!("type check ('{ty}') failed - got '{}'", value_text(other)),
    }
}

fn check_range(
    n: f64,
    min: Option<f64>,
    max: Option<f64>,
    show: impl Fn(f64) -> String,
) -> Result<(), String> {
    if let Some(min) = min
        && n < min
    {
        return Err(format!("value must have a minimum value of {}", show(min)));
    }
    if let Some(max) = max
        && n > max
    {
        return Err(format!("value must have a maximum value of {}", show(max)));
    }
    Ok(())
}

fn as_integer(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => {
            let t = s.trim();
            let digits = t.strip_prefix(['+', '-']).unwrap_or(t);
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            t.parse().ok()
        }
        _ => None,
    }
}

fn as_number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok().filter(|f| f.is_finite()),
        _ => None,
    }
}

/// PVE's boolean words: 1/0, true/false, yes/no, on/off (any case), or a JSON bool.
pub(crate) fn as_bool(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => match n.as_i64() {
            Some(1) => Some(true),
            Some(0) => Some(false),
            _ => None,
        },
        Value::String(s) => match s.to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" | "on" => Some(true),
            "0" | "false" | "no" | "off" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::route::p;

    const SPECS: &[ParamSpec] = &[
        p::node(),
        p::vmid(),
        p::bool("full", true),
        p::one_of("mode", &["a", "b", "c"], true),
        p::maxlen("name", 4, true),
        p::string("net[n]", true),
        p::array("command", true),
    ];

    fn errors(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        validate(SPECS, &RawParams::from(pairs))
            .unwrap_err()
            .errors
            .unwrap()
    }

    #[test]
    fn coerces_and_accepts_families() {
        let raw = RawParams::from(&[
            ("node", "pve1"),
            ("vmid", "100"),
            ("full", "yes"),
            ("net31", "virtio"),
            ("command", "ls"),
            ("command", "-l"),
        ]);
        let ok = validate(SPECS, &raw).unwrap();
        assert_eq!(ok["vmid"], Value::from(100));
        assert_eq!(ok["full"], Value::Bool(true));
        assert_eq!(ok["command"], serde_json::json!(["ls", "-l"]));
    }

    #[test]
    fn json_bodies_keep_numbers_booleans_and_arrays() {
        let body = serde_json::json!({
            "node": "pve1", "vmid": 100, "full": true, "command": ["echo", "hi"], "name": 7
        });
        let ok = validate(SPECS, &RawParams::from_json_object(body).unwrap()).unwrap();
        assert_eq!(ok["vmid"], Value::from(100));
        assert_eq!(ok["full"], Value::Bool(true));
        assert_eq!(ok["command"], serde_json::json!(["echo", "hi"]));
        assert_eq!(ok["name"], Value::from("7"));
        let bad = serde_json::json!({"node": "pve1", "vmid": 1.5, "full": 2});
        let e = validate(SPECS, &RawParams::from_json_object(bad).unwrap())
            .unwrap_err()
            .errors
            .unwrap();
        assert_eq!(e["vmid"], "type check ('integer') failed - got '1.5'");
        assert_eq!(e["full"], "type check ('boolean') failed - got '2'");
        assert!(RawParams::from_json_object(serde_json::json!([1])).is_err());
    }

    #[test]
    fn wording_matches_pve() {
        let e = errors(&[
            ("vmid", "abc"),
            ("full", "maybe"),
            ("mode", "foo"),
            ("name", "toolong"),
            ("net32", "x"),
            ("bogus", "1"),
        ]);
        assert_eq!(e["node"], "property is missing and it is not optional");
        assert_eq!(e["vmid"], "type check ('integer') failed - got 'abc'");
        assert_eq!(e["full"], "type check ('boolean') failed - got 'maybe'");
        assert_eq!(
            e["mode"],
            "value 'foo' does not have a value in the enumeration 'a, b, c'"
        );
        assert_eq!(e["name"], "value may only be 4 characters long");
        assert!(e["net32"].starts_with("property is not defined in schema"));
        assert!(e["bogus"].starts_with("property is not defined in schema"));
        let e = errors(&[("node", "pve1"), ("vmid", "99")]);
        assert_eq!(e["vmid"], "value must have a minimum value of 100");
        let e = errors(&[("node", "pve1"), ("vmid", "1000000000")]);
        assert_eq!(e["vmid"], "value must have a maximum value of 999999999");
        let e = errors(&[("node", "-bad-"), ("vmid", "100")]);
        assert!(e["node"].starts_with("invalid format - "));
    }
}
