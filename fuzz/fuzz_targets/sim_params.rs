//! pve-sim's request parameters: a query string, form body or JSON body decoded as its HTTP
//! server decodes it, then checked against a route's declared parameters as PVE checks them
//! (types, ranges, formats, `-list` values, property strings, enumerations, `requires`).
//! Literal inputs are `METHOD /path/{template}`, then `query`, `form` or `json`, then the
//! body, one per line; generated ones pick a route of the table and build parameters from its
//! declarations. Properties: no panic; a refusal is a 400 with a non-empty `errors` map; what
//! passes is declared, has its declared JSON type, lies in its range and enumeration, and
//! passes again unchanged when sent back as a form body or as a JSON body.

#![no_main]

use std::collections::BTreeMap;

use arbitrary::Unstructured;
use libfuzzer_sys::fuzz_target;
use proxmox_mcp_fuzz::pve_values::{param_name, value_text};
use proxmox_mcp_fuzz::{Input, input};
use pve_sim::RawParams;
use pve_sim::fuzzing::{read_params, validate};
use pve_sim::route::{ParamSpec, ParamType, Route};
use serde_json::{Map, Value};

#[derive(Debug, Clone, Copy, PartialEq)]
enum Encoding {
    Query,
    Form,
    Json,
}

fuzz_target!(|data: &[u8]| {
    let request = match input(data) {
        Input::Literal(bytes) => literal(bytes),
        Input::Generated(mut u) => generated(&mut u).ok(),
    };
    let Some((route, encoding, body)) = request else {
        return;
    };
    let raw = match encoding {
        Encoding::Query => read_params(&body, b"", false, false),
        Encoding::Form => read_params(b"", &body, true, false),
        Encoding::Json => read_params(b"", &body, true, true),
    };
    let raw = match raw {
        Ok(raw) => raw,
        Err(e) => {
            assert_eq!((e.status, encoding), (400, Encoding::Json), "{}", e.message);
            return;
        }
    };
    check(route, &raw);
});

fn literal(bytes: &[u8]) -> Option<(&'static Route, Encoding, Vec<u8>)> {
    let mut parts = bytes.splitn(3, |b| *b == b'\n');
    let head = std::str::from_utf8(parts.next()?).ok()?;
    let encoding = match parts.next()? {
        b"query" => Encoding::Query,
        b"form" => Encoding::Form,
        b"json" => Encoding::Json,
        _ => return None,
    };
    let body = parts.next().unwrap_or_default().to_vec();
    let (method, path) = head.split_once(' ')?;
    let route = pve_sim::routes::all()
        .iter()
        .find(|r| r.method.as_str() == method && r.path == path)?;
    Some((route, encoding, body))
}

fn generated(u: &mut Unstructured<'_>) -> arbitrary::Result<(&'static Route, Encoding, Vec<u8>)> {
    let route = u.choose(pve_sim::routes::all())?;
    let encoding = *u.choose(&[Encoding::Query, Encoding::Form, Encoding::Json])?;
    let mut pairs: Vec<(String, Value)> = Vec::new();
    for _ in 0..u.int_in_range(0..=8)? {
        let (name, spec) = param_name(u, route.params)?;
        let ty = spec.map_or(ParamType::Boolean, |s| s.ty);
        let value = match ty {
            ParamType::Array(_) => {
                let mut items = Vec::new();
                for _ in 0..u.int_in_range(1..=3)? {
                    items.push(Value::String(value_text(u, &ty, 0)?));
                }
                Value::Array(items)
            }
            _ => Value::String(value_text(u, &ty, 0)?),
        };
        pairs.push((name, value));
    }
    let body = match encoding {
        Encoding::Json => {
            let mut map = Map::new();
            for (k, v) in pairs {
                // JSON bodies carry numbers and booleans natively.
                let v = match v {
                    Value::String(s) if u.ratio(1, 2)? => native(&s).unwrap_or(Value::String(s)),
                    other => other,
                };
                map.insert(k, v);
            }
            serde_json::to_vec(&Value::Object(map)).unwrap_or_default()
        }
        _ => form(&pairs).into_bytes(),
    };
    Ok((route, encoding, body))
}

/// A JSON number or boolean for text that reads as one.
fn native(s: &str) -> Option<Value> {
    match s {
        "true" => Some(Value::Bool(true)),
        "false" => Some(Value::Bool(false)),
        _ => s.parse::<i64>().map(Value::from).ok().or_else(|| {
            s.parse::<f64>()
                .ok()
                .and_then(serde_json::Number::from_f64)
                .map(Value::Number)
        }),
    }
}

/// `a=1&b=2`, an array as one pair per item.
fn form(pairs: &[(String, Value)]) -> String {
    let mut out = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        match v {
            Value::Array(items) => {
                for i in items {
                    out.append_pair(k, &text(i));
                }
            }
            other => {
                out.append_pair(k, &text(other));
            }
        }
    }
    out.finish()
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Bool(b) => if *b { "1" } else { "0" }.to_owned(),
        other => other.to_string(),
    }
}

fn declared<'a>(specs: &'a [ParamSpec], key: &str) -> Option<&'a ParamSpec> {
    specs.iter().find(|s| match s.name.strip_suffix("[n]") {
        None => s.name == key,
        Some(prefix) => key
            .strip_prefix(prefix)
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())),
    })
}

fn check(route: &Route, raw: &RawParams) {
    let what = format!("{} {}", route.method.as_str(), route.path);
    let values = match validate(route.params, raw) {
        Ok(values) => values,
        Err(e) => {
            assert_eq!(e.status, 400, "{what}: {}", e.message);
            assert!(
                e.errors.is_some_and(|m| !m.is_empty()),
                "{what}: a 400 names a parameter"
            );
            return;
        }
    };
    for (key, value) in &values {
        let spec = declared(route.params, key)
            .unwrap_or_else(|| panic!("{what}: {key} passed but is not declared"));
        match (&spec.ty, value) {
            (ParamType::Boolean, Value::Bool(_)) | (ParamType::String(_), Value::String(_)) => {}
            (ParamType::Integer { min, max, .. }, Value::Number(n)) => {
                let n = n
                    .as_i64()
                    .unwrap_or_else(|| panic!("{what}: {key}={n} is not an i64"));
                assert!(
                    min.is_none_or(|m| n >= m) && max.is_none_or(|m| n <= m),
                    "{what}: {key}={n}"
                );
            }
            (ParamType::Number { min, max }, Value::Number(n)) => {
                let n = n.as_f64().unwrap_or(f64::NAN);
                assert!(n.is_finite(), "{what}: {key}={n}");
                assert!(
                    min.is_none_or(|m| n >= m) && max.is_none_or(|m| n <= m),
                    "{what}: {key}={n}"
                );
            }
            (ParamType::Array(_), Value::Array(items)) => {
                assert!(items.iter().all(Value::is_string), "{what}: {key}={value}");
            }
            (ty, v) => panic!("{what}: {key} declared {} came out as {v}", ty.type_name()),
        }
        if let (Some(values), Value::String(s)) = (spec.ty.str_spec().and_then(|s| s.values), value)
        {
            assert!(
                values.contains(&s.as_str()),
                "{what}: {key}={s:?} outside its enumeration"
            );
        }
    }
    // What passed passes again, unchanged, sent back in either encoding.
    let pairs: Vec<(String, Value)> = values.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    // A form body cannot carry an empty array, nor a NUL inside one item (repeated keys are
    // joined with NUL): those pass only as JSON.
    let form_can_carry = values.values().all(|v| match v {
        Value::Array(items) => !items.is_empty() && items.iter().all(|i| !text(i).contains('\0')),
        _ => true,
    });
    if form_can_carry {
        let as_form = RawParams::from_urlencoded(form(&pairs).as_bytes());
        same(
            &what,
            "a form body",
            &values,
            validate(route.params, &as_form),
        );
    }
    let as_json =
        RawParams::from_json_object(Value::Object(pairs.into_iter().collect())).unwrap_or_default();
    same(
        &what,
        "a JSON body",
        &values,
        validate(route.params, &as_json),
    );
}

fn same(
    what: &str,
    how: &str,
    want: &BTreeMap<String, Value>,
    got: Result<BTreeMap<String, Value>, pve_sim::ApiError>,
) {
    match got {
        Ok(got) => assert_eq!(&got, want, "{what}: sent back as {how}, the values changed"),
        Err(e) => panic!(
            "{what}: sent back as {how}, {want:?} was refused: {:?}",
            e.errors
        ),
    }
}
