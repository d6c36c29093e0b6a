//! From a typed tool (params struct, output struct, async handler) to the erased form the
//! registry stores: JSON Schemas from schemars, argument parsing that names the bad parameter,
//! output serialization.

use futures_util::future::BoxFuture;
use schemars::JsonSchema;
use schemars::generate::SchemaSettings;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::error::ToolError;

/// The input schema (draft 2020-12, subschemas inlined, no `$schema`, root `title` or root
/// `description`) of a parameters struct, in the portable core of JSON Schema that every model
/// provider's function declarations accept (see [`portable`]).
pub(crate) fn schema_for<T: JsonSchema>() -> Map<String, Value> {
    let mut map = root_schema::<T>(SchemaSettings::draft2020_12());
    map.remove("additionalProperties");
    if let Some(Value::Object(props)) = map.get_mut("properties") {
        props.values_mut().for_each(portable);
    }
    map
}

/// The output schema of a result struct, as it serializes: a field skipped when empty
/// (`skip_serializing_if`) is not `required`, and a field that may be `null` says so. Clients
/// (the MCP SDKs, n8n) validate `structuredContent` against it, so it must be exact.
pub(crate) fn output_schema_for<T: JsonSchema>() -> Map<String, Value> {
    root_schema::<T>(SchemaSettings::draft2020_12().for_serialize())
}

/// Generates the root schema of `T` with `settings`, inlined, without `$schema`, root `title`
/// and root `description`, and without non-standard `format`s (see [`strip_formats`]).
fn root_schema<T: JsonSchema>(mut settings: SchemaSettings) -> Map<String, Value> {
    settings.inline_subschemas = true;
    settings.meta_schema = None;
    let schema = settings.into_generator().into_root_schema_for::<T>();
    let mut map = match schema.to_value() {
        Value::Object(m) => m,
        other => {
            let mut m = Map::new();
            m.insert("type".into(), Value::String("object".into()));
            m.insert("description".into(), other);
            m
        }
    };
    map.remove("title");
    map.remove("$schema");
    map.remove("description");
    for v in map.values_mut() {
        strip_formats(v);
    }
    if !map.contains_key("properties") && map.get("type") == Some(&Value::from("object")) {
        map.insert("properties".into(), Value::Object(Map::new()));
    }
    map
}

/// Removes the `format`s schemars derives from Rust integer and float types (`uint32`,
/// `int64`, `double`...): they are not JSON Schema formats, and validating clients (Ajv in the
/// TypeScript SDK, hence n8n) log a warning for each one on every session.
fn strip_formats(v: &mut Value) {
    const RUST_FORMATS: &[&str] = &[
        "int", "int8", "int16", "int32", "int64", "int128", "uint", "uint8", "uint16", "uint32",
        "uint64", "uint128", "float", "double",
    ];
    match v {
        Value::Object(m) => {
            if m.get("format")
                .and_then(Value::as_str)
                .is_some_and(|f| RUST_FORMATS.contains(&f))
            {
                m.remove("format");
            }
            m.values_mut().for_each(strip_formats);
        }
        Value::Array(a) => a.iter_mut().for_each(strip_formats),
        _ => {}
    }
}

/// Rewrites one property schema, recursively, into the portable core: one `type` per schema,
/// `enum` for choices, optional by absence from `required`. A union with `null` becomes its
/// other member (`null` is still accepted on input), a `oneOf`/`anyOf` of constants becomes an
/// `enum`, a `const` a one-value `enum`, a union of a list and a string becomes the list (the
/// server also takes the string: the description says so); `"default": null`, `minimum` and
/// `maximum` (the parameter's own checks and Proxmox VE's refuse what is out of range, naming
/// the range), `title` and nested `additionalProperties` go. Gemini's function declarations refuse the rest, and n8n's MCP
/// Client Tool passes schemas to it unchanged.
fn portable(v: &mut Value) {
    let Value::Object(m) = v else { return };
    let mut alternatives = Vec::new();
    for key in ["anyOf", "oneOf"] {
        if let Some(Value::Array(a)) = m.remove(key) {
            alternatives.extend(a);
        }
    }
    if !alternatives.is_empty() {
        let merged = merge_alternatives(alternatives);
        for (k, x) in merged {
            if k != "description" || !m.contains_key("description") {
                m.insert(k, x);
            }
        }
    }
    if let Some(c) = m.remove("const") {
        m.insert("enum".into(), Value::Array(vec![c]));
    }
    if let Some(Value::Array(types)) = m.get("type") {
        let non_null: Vec<Value> = types.iter().filter(|t| *t != "null").cloned().collect();
        if let Some(first) = non_null.first() {
            m.insert("type".into(), first.clone());
        }
    }
    if let Some(Value::Array(values)) = m.get_mut("enum") {
        values.retain(|x| !x.is_null());
    }
    if m.get("default") == Some(&Value::Null) {
        m.remove("default");
    }
    m.remove("minimum");
    m.remove("maximum");
    m.remove("title");
    m.remove("additionalProperties");
    if let Some(Value::Object(props)) = m.get_mut("properties") {
        props.values_mut().for_each(portable);
    }
    if let Some(items) = m.get_mut("items") {
        portable(items);
    }
}

/// One schema for the members of a union (see [`portable`]).
fn merge_alternatives(alternatives: Vec<Value>) -> Map<String, Value> {
    let mut flat = Vec::new();
    flatten(alternatives, &mut flat);
    flat.retain(|a| a.get("type") != Some(&Value::from("null")));
    let consts: Option<Vec<Value>> = flat
        .iter()
        .map(|a| match (a.get("const"), a.get("enum")) {
            (Some(c), _) => Some(vec![c.clone()]),
            (None, Some(Value::Array(e))) => Some(e.clone()),
            _ => None,
        })
        .collect::<Option<Vec<_>>>()
        .map(|v| v.into_iter().flatten().collect());
    let mut out = Map::new();
    if let Some(values) = consts.filter(|v| !v.is_empty()) {
        out.insert("type".into(), Value::from("string"));
        out.insert("enum".into(), Value::Array(values));
        return out;
    }
    let pick = flat
        .iter()
        .position(|a| a.get("type") == Some(&Value::from("array")))
        .unwrap_or(0);
    if let Some(chosen) = flat.into_iter().nth(pick) {
        out = chosen;
        portable_map(&mut out);
    }
    out
}

fn portable_map(m: &mut Map<String, Value>) {
    let mut v = Value::Object(std::mem::take(m));
    portable(&mut v);
    if let Value::Object(x) = v {
        *m = x;
    }
}

/// The members of nested `anyOf`/`oneOf` unions, one level (a member's own description is
/// kept on the member).
fn flatten(alternatives: Vec<Value>, out: &mut Vec<Map<String, Value>>) {
    for a in alternatives {
        let Value::Object(mut m) = a else { continue };
        let mut inner = Vec::new();
        for key in ["anyOf", "oneOf"] {
            if let Some(Value::Array(x)) = m.remove(key) {
                inner.extend(x);
            }
        }
        if inner.is_empty() {
            out.push(m);
        } else {
            let before = out.len();
            flatten(inner, out);
            if let Some(d) = m.get("description") {
                for x in &mut out[before..] {
                    x.entry("description").or_insert_with(|| d.clone());
                }
            }
        }
    }
}

/// Parses tool arguments into `P`; on failure names the parameter at fault.
pub(crate) fn parse_params<P: DeserializeOwned>(args: Value) -> Result<P, ToolError> {
    serde_path_to_error::deserialize::<_, P>(args).map_err(|e| {
        let path = e.path().to_string();
        let message = e.inner().to_string();
        param_error(&path, &message)
    })
}

/// Serializes a tool's output; the output must be a JSON object.
pub(crate) fn to_output<O: Serialize>(out: &O) -> Result<Value, ToolError> {
    match serde_json::to_value(out) {
        Ok(v @ Value::Object(_)) => Ok(v),
        Ok(_) => Err(ToolError::Internal(
            "tool output is not a JSON object".into(),
        )),
        Err(e) => Err(ToolError::Internal(format!(
            "cannot serialize tool output: {e}"
        ))),
    }
}

/// Boxes a typed handler into the erased signature (`ToolCtx`, JSON args) -> JSON result.
pub(super) fn erase<P, O, F>(f: F) -> crate::registry::ErasedHandler
where
    P: DeserializeOwned + Send + 'static,
    O: Serialize + Send + 'static,
    F: Fn(crate::registry::ToolCtx, P) -> BoxFuture<'static, Result<O, ToolError>>
        + Send
        + Sync
        + 'static,
{
    std::sync::Arc::new(move |ctx, args| {
        let parsed = parse_params::<P>(args);
        match parsed {
            Ok(p) => {
                let fut = f(ctx, p);
                Box::pin(async move { to_output(&fut.await?) })
            }
            Err(e) => Box::pin(async move { Err(e) }),
        }
    })
}

/// Turns serde's wording into a message that names the parameter.
fn param_error(path: &str, message: &str) -> ToolError {
    if let Some(name) = backticked(message, "missing field `") {
        return ToolError::invalid(name, "is required");
    }
    if let Some(name) = backticked(message, "unknown field `") {
        let accepted = message.split_once(", expected ").map(|(_, rest)| {
            rest.trim_start_matches("one of ")
                .replace("` or `", ", ")
                .replace('`', "")
        });
        let msg = match accepted {
            Some(list) => format!("is not a parameter of this tool (accepted: {list})"),
            None => "is not a parameter of this tool (it takes none)".to_string(),
        };
        return ToolError::invalid(name, msg);
    }
    if path.is_empty() || path == "." {
        ToolError::InvalidParams {
            param: None,
            message: message.to_string(),
        }
    } else {
        ToolError::invalid(path, message)
    }
}

/// The text between `prefix` and the next backtick.
fn backticked<'a>(message: &'a str, prefix: &str) -> Option<&'a str> {
    let start = message.find(prefix)? + prefix.len();
    let rest = &message[start..];
    rest.find('`').map(|end| &rest[..end])
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde::Deserialize;
    use serde_json::json;

    #[derive(Debug, Deserialize, JsonSchema)]
    #[serde(deny_unknown_fields)]
    struct P {
        /// The VM.
        #[allow(dead_code)]
        vmid: u32,
        #[allow(dead_code)]
        name: Option<String>,
    }

    #[test]
    fn errors_name_the_parameter() {
        let e = parse_params::<P>(json!({})).unwrap_err();
        assert_eq!(e, ToolError::invalid("vmid", "is required"));
        let e = parse_params::<P>(json!({"vmid": 1, "nmae": "x"})).unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid parameter `nmae`: is not a parameter of this tool (accepted: vmid, name)"
        );
        let e = parse_params::<P>(json!({"vmid": "x"})).unwrap_err();
        match e {
            ToolError::InvalidParams { param, .. } => assert_eq!(param.as_deref(), Some("vmid")),
            other => panic!("{other:?}"),
        }
    }

    #[derive(serde::Serialize, JsonSchema)]
    struct Out {
        count: u32,
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        template: bool,
        note: Option<String>,
        ratio: f64,
    }

    #[test]
    fn output_schemas_follow_serialization() {
        let s = output_schema_for::<Out>();
        let required: Vec<&str> = s["required"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert!(required.contains(&"count") && required.contains(&"note"));
        assert!(!required.contains(&"template"), "skipped when false");
        assert_eq!(s["properties"]["note"]["type"], json!(["string", "null"]));
        let text = serde_json::to_string(&s).unwrap();
        assert!(
            !text.contains("uint32") && !text.contains("double"),
            "{text}"
        );
    }

    #[test]
    fn schemas_are_inline_objects_with_descriptions() {
        let s = schema_for::<P>();
        assert_eq!(s["type"], "object");
        assert_eq!(s["properties"]["vmid"]["description"], "The VM.");
        assert!(
            !s.contains_key("additionalProperties"),
            "refused by the parser, not shown"
        );
        assert!(!s.contains_key("title") && !s.contains_key("$schema"));
        assert_eq!(s["properties"]["name"]["type"], "string");
        assert!(
            !s["properties"]["name"]
                .as_object()
                .unwrap()
                .contains_key("default")
        );
    }

    #[test]
    fn unions_become_the_portable_core() {
        let mut p = json!({
            "description": "Only tasks in this state.",
            "anyOf": [
                {"description": "A state.", "oneOf": [
                    {"const": "running", "type": "string", "description": "Still running."},
                    {"enum": ["ok", "error"], "type": "string"}
                ]},
                {"type": "null"}
            ]
        });
        portable(&mut p);
        assert_eq!(
            p,
            json!({"description": "Only tasks in this state.", "type": "string",
                   "enum": ["running", "ok", "error"]})
        );
        let mut p = json!({
            "description": "Tags: a list or one string.",
            "anyOf": [
                {"anyOf": [{"type": "array", "items": {"type": "string"}}, {"type": "string"}]},
                {"type": "null"}
            ]
        });
        portable(&mut p);
        assert_eq!(
            p,
            json!({"description": "Tags: a list or one string.", "type": "array",
                   "items": {"type": "string"}})
        );
        let mut p = json!({"type": ["integer", "null"], "minimum": 0, "maximum": 9, "default": null,
                           "description": "n"});
        portable(&mut p);
        assert_eq!(p, json!({"type": "integer", "description": "n"}));
        let mut p = json!({"type": "object", "additionalProperties": false, "title": "X",
                           "properties": {"k": {"const": "v"}}});
        portable(&mut p);
        assert_eq!(
            p,
            json!({"type": "object", "properties": {"k": {"enum": ["v"]}}})
        );
    }
}
