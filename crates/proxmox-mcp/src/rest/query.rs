//! Query strings of `GET /<tool>` as tool arguments: each value is coerced to the type the
//! tool's input schema gives its parameter (`?vmid=101&force=true` → `{"vmid": 101, "force": true}`).
//! Repeated keys make an array where the schema says array. A value that does not fit its type
//! stays a string, so the tool's own parser refuses it naming the parameter.

use serde_json::{Map, Value};

use super::error::RestError;

/// The arguments object for `query` (raw, percent-encoded) under `schema` (the input schema).
pub(crate) fn to_args(
    query: Option<&str>,
    schema: &Map<String, Value>,
) -> Result<Value, RestError> {
    let props = schema.get("properties").and_then(Value::as_object);
    let mut args = Map::new();
    for (key, raw) in form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
        let key = key.into_owned();
        let prop = props.and_then(|p| p.get(&key));
        let is_array = prop.is_some_and(|p| type_of(p) == Some("array"));
        if is_array {
            let item = prop.and_then(|p| p.get("items"));
            let v = item.map_or(Value::String(raw.to_string()), |i| coerce(&raw, i));
            if let Value::Array(a) = args.entry(key).or_insert_with(|| Value::Array(Vec::new())) {
                a.push(v);
            }
            continue;
        }
        if args.contains_key(&key) {
            return Err(RestError::invalid(
                Some(key.clone()),
                format!("invalid parameter `{key}`: given more than once"),
            ));
        }
        let v = prop.map_or(Value::String(raw.to_string()), |p| coerce(&raw, p));
        args.insert(key, v);
    }
    Ok(Value::Object(args))
}

/// `raw` as the JSON type `schema` names, or the string itself when it does not parse.
fn coerce(raw: &str, schema: &Value) -> Value {
    let text = Value::String(raw.to_string());
    match type_of(schema) {
        Some("integer") => raw
            .trim()
            .parse::<i64>()
            .map(Value::from)
            .or_else(|_| raw.trim().parse::<u64>().map(Value::from))
            .unwrap_or(text),
        Some("number") => raw
            .trim()
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map_or(text, Value::Number),
        Some("boolean") => match raw.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => Value::Bool(true),
            "false" | "0" | "no" | "off" => Value::Bool(false),
            _ => text,
        },
        Some("object") => serde_json::from_str(raw).unwrap_or(text),
        _ => text,
    }
}

/// The single non-null `type` of a schema (`"integer"`, `["integer", "null"]` → `"integer"`).
fn type_of(schema: &Value) -> Option<&str> {
    match schema.get("type")? {
        Value::String(t) => Some(t),
        Value::Array(ts) => {
            let mut non_null = ts.iter().filter_map(Value::as_str).filter(|t| *t != "null");
            let first = non_null.next();
            if non_null.next().is_some() {
                None
            } else {
                first
            }
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    fn schema() -> Map<String, Value> {
        json!({"type": "object", "properties": {
            "vmid": {"type": "integer"},
            "ratio": {"type": "number"},
            "force": {"type": ["boolean", "null"]},
            "node": {"type": "string"},
            "args": {"type": "array", "items": {"type": "string"}},
            "ids": {"type": "array", "items": {"type": "integer"}},
        }})
        .as_object()
        .unwrap()
        .clone()
    }

    #[test]
    fn values_take_the_schema_type() {
        let s = schema();
        let cases: &[(&str, Value)] = &[
            ("", json!({})),
            ("vmid=101", json!({"vmid": 101})),
            ("vmid=abc", json!({"vmid": "abc"})),
            ("ratio=0.5&force=true", json!({"ratio": 0.5, "force": true})),
            ("force=0", json!({"force": false})),
            ("node=101", json!({"node": "101"})),
            ("node=pve%201", json!({"node": "pve 1"})),
            ("args=-a&args=b", json!({"args": ["-a", "b"]})),
            ("ids=1&ids=2", json!({"ids": [1, 2]})),
            ("other=5", json!({"other": "5"})),
        ];
        for (q, want) in cases {
            assert_eq!(&to_args(Some(q), &s).unwrap(), want, "{q}");
        }
        let e = to_args(Some("vmid=1&vmid=2"), &s).unwrap_err();
        assert_eq!(e.param.as_deref(), Some("vmid"));
        assert_eq!(e.status.as_u16(), 422);
    }
}
