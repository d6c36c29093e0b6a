//! The official PVE API schema (`tests/fixtures/pve-api/apidoc.json`, read at test time only)
//! and a validator for its dialect of JSON schema, used on the simulator's responses.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde_json::Value;

/// Every method node of the schema, by `(METHOD, path)`.
pub fn methods() -> &'static BTreeMap<(String, String), Value> {
    static INDEX: OnceLock<BTreeMap<(String, String), Value>> = OnceLock::new();
    INDEX.get_or_init(|| {
        let file = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/fixtures/pve-api/apidoc.json"
        );
        let text = std::fs::read_to_string(file).unwrap();
        let tree: Value = serde_json::from_str(&text).unwrap();
        let mut out = BTreeMap::new();
        walk(&tree, &mut out);
        out
    })
}

fn walk(nodes: &Value, out: &mut BTreeMap<(String, String), Value>) {
    for node in nodes.as_array().into_iter().flatten() {
        let path = node["path"].as_str().unwrap_or_default().to_string();
        if let Some(info) = node["info"].as_object() {
            for (method, m) in info {
                out.insert((method.clone(), path.clone()), m.clone());
            }
        }
        walk(&node["children"], out);
    }
}

/// The schema of one method, if the schema has it.
pub fn method(method: &str, path: &str) -> Option<&'static Value> {
    methods().get(&(method.to_string(), path.to_string()))
}

/// Validates `value` against a PVE `returns` schema; returns the problems found, each with a
/// JSON-pointer-like location. PVE's Perl encoder sends numbers as strings at times and
/// booleans as 0/1: both are accepted.
pub fn validate(schema: &Value, value: &Value) -> Vec<String> {
    let mut errors = Vec::new();
    check(schema, value, "", &mut errors);
    errors
}

fn check(schema: &Value, value: &Value, at: &str, errors: &mut Vec<String>) {
    let ty = schema["type"].as_str().unwrap_or("any");
    let mut fail = |what: &str| errors.push(format!("{at}: expected {what}, got {value}"));
    match ty {
        "object" => {
            let Some(obj) = value.as_object() else {
                return fail("object");
            };
            if let Some(props) = schema["properties"].as_object() {
                for (name, sub) in props {
                    match obj.get(name) {
                        Some(v) => check(sub, v, &format!("{at}/{name}"), errors),
                        None if is_optional(sub) => {}
                        None => errors.push(format!("{at}/{name}: required property missing")),
                    }
                }
                if schema["additionalProperties"] == 0 {
                    for k in obj.keys().filter(|k| !props.contains_key(*k)) {
                        errors.push(format!("{at}/{k}: not allowed by the schema"));
                    }
                }
            }
        }
        "array" => {
            let Some(items) = value.as_array() else {
                return fail("array");
            };
            if schema.get("items").is_some() {
                for (i, item) in items.iter().enumerate() {
                    check(&schema["items"], item, &format!("{at}/{i}"), errors);
                }
            }
        }
        "string" => {
            let Some(s) = value.as_str() else {
                return fail("string");
            };
            if let Some(values) = schema["enum"].as_array()
                && !values.iter().any(|v| v.as_str() == Some(s))
            {
                fail(&format!("one of {values:?}"));
            }
        }
        "integer" => {
            let ok = value.is_i64()
                || value.is_u64()
                || value.as_str().is_some_and(|s| s.parse::<i64>().is_ok());
            if !ok {
                fail("integer");
            }
        }
        "number" => {
            let ok = value.is_number() || value.as_str().is_some_and(|s| s.parse::<f64>().is_ok());
            if !ok {
                fail("number");
            }
        }
        "boolean" => {
            let ok = value.is_boolean() || value.as_i64().is_some_and(|n| n == 0 || n == 1);
            if !ok {
                fail("boolean (or 0/1)");
            }
        }
        "null" if !value.is_null() => fail("null"),
        _ => {}
    }
}

fn is_optional(schema: &Value) -> bool {
    schema["optional"] == 1 || schema["optional"] == true
}

/// The parameter properties of a method.
pub fn params(m: &Value) -> serde_json::Map<String, Value> {
    m["parameters"]["properties"]
        .as_object()
        .cloned()
        .unwrap_or_default()
}

/// Whether a schema property is optional.
pub fn optional(prop: &Value) -> bool {
    is_optional(prop)
}

/// A schema parameter in the simulator's declaration syntax (`cores? int 1..`), with an inline
/// property-string format shown as ` props` (its keys: [`prop_lines`]).
pub fn decl_line(name: &str, prop: &Value) -> String {
    let mut line = format!(
        "{name}{} {}",
        if optional(prop) { "?" } else { "" },
        attrs(prop)
    );
    if prop["format"].is_object() {
        line.push_str(" props");
    }
    if let Some(r) = prop["requires"].as_str() {
        line.push_str(&format!(" requires={r}"));
    }
    if let Some(p) = prop["pattern"].as_str() {
        line.push_str(&format!(" re={p}"));
    }
    line
}

/// The keys of an inline property-string format, one declaration line each, sorted.
pub fn prop_lines(format: &Value) -> Vec<String> {
    let mut out: Vec<String> = format
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| {
            if let Some(alias) = v["alias"].as_str() {
                return match v["keyAlias"].as_str() {
                    Some(ka) => format!("{k} alias={alias} keyalias={ka}"),
                    None => format!("{k} alias={alias}"),
                };
            }
            let mut line = format!("{k}{} {}", if optional(v) { "?" } else { "" }, attrs(v));
            if v["default_key"] == 1 || v["default_key"] == true {
                line.push_str(" key");
            }
            if let Some(p) = v["pattern"].as_str() {
                line.push_str(&format!(" re={p}"));
            }
            line
        })
        .collect();
    out.sort();
    out
}

/// Type and constraints: `int 1..30`, `str len=..40 enum=a|b fmt=pve-node`.
fn attrs(v: &Value) -> String {
    let ty = match v["type"].as_str().unwrap_or("string") {
        "string" => "str",
        "integer" => "int",
        "number" => "num",
        "boolean" => "bool",
        other => other,
    };
    let mut out = ty.to_string();
    let num = |x: &Value| match x.as_f64() {
        Some(f) if f.fract() == 0.0 => format!("{}", f as i64),
        Some(f) => format!("{f}"),
        None => x.as_str().unwrap_or_default().to_string(),
    };
    let (lo, hi) = (&v["minimum"], &v["maximum"]);
    if !lo.is_null() || !hi.is_null() {
        let show = |x: &Value| if x.is_null() { String::new() } else { num(x) };
        out.push_str(&format!(" {}..{}", show(lo), show(hi)));
    }
    let (ml, xl) = (&v["minLength"], &v["maxLength"]);
    if !ml.is_null() || !xl.is_null() {
        let show = |x: &Value| if x.is_null() { String::new() } else { num(x) };
        out.push_str(&format!(" len={}..{}", show(ml), show(xl)));
    }
    let items = &v["items"];
    for src in [v, items] {
        if let Some(values) = src["enum"].as_array() {
            let values: Vec<String> = values.iter().map(|e| num(e).to_string()).collect();
            let values: Vec<String> = values
                .into_iter()
                .zip(src["enum"].as_array().into_iter().flatten())
                .map(|(n, e)| e.as_str().map_or(n, str::to_string))
                .collect();
            out.push_str(&format!(" enum={}", values.join("|")));
        }
        if let Some(f) = src["format"].as_str() {
            out.push_str(&format!(" fmt={f}"));
        }
        if ty != "array" {
            break;
        }
    }
    out
}

#[test]
fn validator_catches_shape_errors() {
    let schema: Value = serde_json::json!({
        "type": "array",
        "items": {"type": "object", "properties": {
            "id": {"type": "string"},
            "n": {"type": "integer", "optional": 1},
            "on": {"type": "boolean", "optional": 1},
            "kind": {"type": "string", "enum": ["a", "b"]}
        }}
    });
    assert!(
        validate(
            &schema,
            &serde_json::json!([{"id": "x", "n": 3, "on": 1, "kind": "a"}])
        )
        .is_empty()
    );
    let errs = validate(
        &schema,
        &serde_json::json!([{"n": "x", "on": 2, "kind": "c"}]),
    );
    assert_eq!(errs.len(), 4, "{errs:?}");
    assert!(!validate(&serde_json::json!({"type": "null"}), &serde_json::json!(1)).is_empty());
}
