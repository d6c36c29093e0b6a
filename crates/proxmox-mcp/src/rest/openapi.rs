//! The OpenAPI 3.1 document of the REST door, derived from the registry (committed as
//! `docs/openapi.json`; a test regenerates it and fails when the committed copy differs).
//!
//! Per tool: `POST /<tool>` (operationId = the tool name, summary = the name title-cased as mcpo
//! does, tags = its toolset, body = its input schema, 200 = its output schema), plus
//! `GET /<tool>` with query parameters for read tools. MCP annotations ride along as
//! `x-mcp-access`, `x-read-only-hint`, `x-destructive-hint`, `x-idempotent-hint`, the key scope
//! needed as `x-required-scope`, and the registry's order as `x-mcp-order`.
//! Schemas are JSON Schema 2020-12 as the tools declare them; `$defs` move to
//! `components/schemas` (as `<tool>.<role>.<Name>`) and their `$ref`s follow.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use crate::registry::dynamic;
use crate::registry::{Access, Registry, ToolSpec};

/// Name of the bearer security scheme.
pub(crate) const SECURITY_SCHEME: &str = "bearerAuth";

/// Error statuses every tool operation may answer, with what they mean.
const ERRORS: &[(&str, &str)] = &[
    (
        "401",
        "Missing or wrong API key (the server has keys): send `Authorization: Bearer <key>`.",
    ),
    (
        "403",
        "Refused: the API key's scope does not allow this tool (the message names the scope that would), another policy, a `Host`/`Origin` not allowed, or Proxmox VE permissions.",
    ),
    (
        "404",
        "No such tool, or the object named does not exist in Proxmox VE.",
    ),
    (
        "422",
        "Invalid arguments (malformed JSON, wrong type, missing or unknown parameter); `detail.param` names the parameter.",
    ),
    (
        "409",
        "Proxmox VE refused the operation in the cluster's current state (not running, already running, locked, does not exist, no space, ...) or its task failed; `detail.message` carries Proxmox VE's message.",
    ),
    ("413", "The request body is larger than 1 MB."),
    (
        "415",
        "A request body not sent as `Content-Type: application/json`.",
    ),
    (
        "429",
        "The API key's rate limit is reached; `Retry-After` says how many seconds to wait.",
    ),
    ("500", "Internal error of the tool."),
    (
        "502",
        "Proxmox VE could not be reached, refused the server's credentials, or failed unexpectedly; `detail.message` carries the cause.",
    ),
    ("504", "Proxmox VE did not answer in time."),
];

/// The document, pretty-printed with a final newline (the form served and committed).
pub fn render(registry: &Registry) -> String {
    let mut s =
        serde_json::to_string_pretty(&document(registry)).unwrap_or_else(|_| "{}".to_string());
    s.push('\n');
    s
}

/// The OpenAPI 3.1 document for `registry`'s tools (but the toolset tools of dynamic toolsets,
/// which are MCP only).
pub fn document(registry: &Registry) -> Value {
    let mut components = Map::new();
    let mut paths = Map::new();
    let mut toolsets = BTreeSet::new();
    let tools = registry.tools().filter(|t| t.toolset != dynamic::TOOLSET);
    for (order, tool) in tools.enumerate() {
        toolsets.insert(tool.toolset);
        let mut input = lift_defs(
            &tool.input_schema,
            &format!("{}.params", tool.name),
            &mut components,
        );
        // The tool's parser refuses unknown parameters: REST callers are told so (the MCP tool
        // list leaves it out, as model providers do not need it).
        if let Value::Object(m) = &mut input {
            m.insert("additionalProperties".into(), Value::Bool(false));
        }
        let output = lift_defs(
            &tool.output_schema,
            &format!("{}.output", tool.name),
            &mut components,
        );
        let mut item = Map::new();
        item.insert("post".into(), post_operation(tool, order, &input, &output));
        if tool.access == Access::Read {
            item.insert("get".into(), get_operation(tool, order, &input, &output));
        }
        paths.insert(format!("/{}", tool.name), Value::Object(item));
    }
    components.insert("Error".into(), error_schema());
    let responses: Map<String, Value> = ERRORS
        .iter()
        .map(|(code, text)| {
            (
                response_name(code).to_string(),
                json!({
                    "description": text,
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
                }),
            )
        })
        .collect();
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "proxmox-mcp",
            "version": env!("CARGO_PKG_VERSION"),
            "description": INFO_DESCRIPTION,
            "license": {"name": "MIT OR Apache-2.0", "identifier": "MIT OR Apache-2.0"},
        },
        "tags": toolsets.iter().map(|t| json!({"name": t, "description": toolset_text(t)})).collect::<Vec<_>>(),
        "paths": paths,
        "components": {
            "schemas": components,
            "responses": responses,
            "securitySchemes": {
                SECURITY_SCHEME: {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An API key of the server (`proxmox-mcp keys new`, or `PROXMOX_MCP_API_KEY`); its scope (read, operate, admin) decides which tools it may call. A server started without keys accepts calls without one.",
                }
            },
        },
        "security": [{SECURITY_SCHEME: []}],
    })
}

const INFO_DESCRIPTION: &str = "Tools to inspect and operate a Proxmox VE cluster, the same tools \
the MCP endpoint serves. `POST /<tool>` with the tool's arguments as a JSON object (an empty body \
or `null` counts as `{}`); read tools also answer `GET /<tool>?param=value`. Success answers the \
tool's result; errors answer `{\"detail\": {\"message\": ...}}` with 422 for bad arguments, 403 \
for refusals, 409 when Proxmox VE refuses the operation in the cluster's current state, 502 when \
Proxmox VE cannot be reached. Operations that start a Proxmox VE task wait a bounded \
time, then return the task's `upid`: follow it with `get_task`.";

fn toolset_text(toolset: &str) -> String {
    crate::registry::toolsets::description(toolset)
}

fn response_name(code: &str) -> &'static str {
    match code {
        "401" => "Unauthorized",
        "403" => "Forbidden",
        "404" => "NotFound",
        "409" => "Conflict",
        "413" => "TooLarge",
        "415" => "UnsupportedMediaType",
        "429" => "RateLimited",
        "422" => "InvalidArguments",
        "500" => "InternalError",
        "502" => "ProxmoxError",
        _ => "Timeout",
    }
}

fn error_schema() -> Value {
    json!({
        "type": "object",
        "description": "An error, in mcpo's shape.",
        "required": ["detail"],
        "properties": {
            "detail": {
                "type": "object",
                "required": ["message"],
                "properties": {
                    "message": {"type": "string", "description": "What went wrong, worded for the caller."},
                    "kind": {"type": "string", "description": "Machine-readable reason: `invalid_params`, `malformed_json`, `unknown_tool`, `auth`, `policy`, `too_large`, `rate_limited`, `host`, `pve`, `timeout`, `internal`."},
                    "param": {"type": "string", "description": "The parameter at fault, when one is."},
                }
            }
        }
    })
}

/// Fields shared by a tool's operations.
fn base_operation(
    tool: &ToolSpec,
    order: usize,
    operation_id: String,
    output: &Value,
) -> Map<String, Value> {
    let mut responses = Map::new();
    responses.insert(
        "200".into(),
        json!({
            "description": "The tool's result.",
            "content": {"application/json": {"schema": output}}
        }),
    );
    for (code, _) in ERRORS {
        responses.insert(
            (*code).to_string(),
            json!({"$ref": format!("#/components/responses/{}", response_name(code))}),
        );
    }
    let mut op = Map::new();
    op.insert("operationId".into(), Value::String(operation_id));
    op.insert("summary".into(), Value::String(title_case(tool.name)));
    op.insert("description".into(), Value::String(tool.description.into()));
    op.insert("tags".into(), json!([tool.toolset]));
    op.insert("responses".into(), Value::Object(responses));
    op.insert("x-mcp-title".into(), Value::String(tool.title.into()));
    op.insert(
        "x-mcp-access".into(),
        Value::String(tool.access.as_str().into()),
    );
    op.insert(
        "x-read-only-hint".into(),
        Value::Bool(tool.access.read_only_hint()),
    );
    op.insert(
        "x-destructive-hint".into(),
        Value::Bool(tool.access.destructive_hint()),
    );
    op.insert(
        "x-idempotent-hint".into(),
        Value::Bool(tool.idempotent_hint()),
    );
    // JSON objects have no order: the registry's (the documented order) travels as a number.
    op.insert(
        "x-required-scope".into(),
        Value::from(tool.required_scope().as_str()),
    );
    op.insert("x-mcp-order".into(), Value::from(order));
    op
}

fn post_operation(tool: &ToolSpec, order: usize, input: &Value, output: &Value) -> Value {
    let mut op = base_operation(tool, order, tool.name.to_string(), output);
    let required = input
        .get("required")
        .and_then(Value::as_array)
        .is_some_and(|r| !r.is_empty());
    op.insert(
        "requestBody".into(),
        json!({
            "required": required,
            "description": "The tool's arguments.",
            "content": {"application/json": {"schema": input}}
        }),
    );
    Value::Object(op)
}

fn get_operation(tool: &ToolSpec, order: usize, input: &Value, output: &Value) -> Value {
    let mut op = base_operation(tool, order, format!("{}_get", tool.name), output);
    let required: Vec<&str> = input
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let params: Vec<Value> = input
        .get("properties")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .map(|(name, schema)| query_parameter(name, schema, required.contains(&name.as_str())))
        .collect();
    op.insert(
        "summary".into(),
        Value::String(format!("{} (query string)", title_case(tool.name))),
    );
    op.insert("parameters".into(), Value::Array(params));
    Value::Object(op)
}

fn query_parameter(name: &str, schema: &Value, required: bool) -> Value {
    let mut schema = schema.clone();
    let description = schema
        .as_object_mut()
        .and_then(|m| m.remove("description"))
        .unwrap_or(Value::String(String::new()));
    let mut p = json!({
        "name": name,
        "in": "query",
        "required": required,
        "description": description,
    });
    if schema.get("type") == Some(&Value::from("object")) {
        p["content"] = json!({"application/json": {"schema": schema}});
    } else {
        p["schema"] = schema;
    }
    p
}

/// mcpo's summary: `get_vms` → `Get Vms`.
pub(crate) fn title_case(name: &str) -> String {
    name.split('_')
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut chars = w.chars();
            match chars.next() {
                Some(first) => {
                    first.to_uppercase().collect::<String>() + &chars.as_str().to_lowercase()
                }
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// `schema` without `$schema`, its `$defs`/`definitions` moved into `components` under
/// `<prefix>.<Name>`, and every `$ref` to them rewritten.
fn lift_defs(
    schema: &Map<String, Value>,
    prefix: &str,
    components: &mut Map<String, Value>,
) -> Value {
    let mut schema = schema.clone();
    schema.remove("$schema");
    let mut defs = Map::new();
    for key in ["$defs", "definitions"] {
        if let Some(Value::Object(d)) = schema.remove(key) {
            defs.extend(d);
        }
    }
    let mut root = Value::Object(schema);
    rewrite_refs(&mut root, prefix);
    for (name, mut def) in defs {
        if let Value::Object(m) = &mut def {
            m.remove("$schema");
        }
        rewrite_refs(&mut def, prefix);
        components.insert(format!("{prefix}.{}", component_name(&name)), def);
    }
    root
}

fn rewrite_refs(v: &mut Value, prefix: &str) {
    match v {
        Value::Object(m) => {
            if let Some(Value::String(r)) = m.get_mut("$ref") {
                let local = r
                    .strip_prefix("#/$defs/")
                    .or_else(|| r.strip_prefix("#/definitions/"));
                if let Some(name) = local {
                    *r = format!("#/components/schemas/{prefix}.{}", component_name(name));
                }
            }
            m.values_mut().for_each(|x| rewrite_refs(x, prefix));
        }
        Value::Array(a) => a.iter_mut().for_each(|x| rewrite_refs(x, prefix)),
        _ => {}
    }
}

/// A component name OpenAPI accepts (`^[a-zA-Z0-9.\-_]+$`).
fn component_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn defs_move_to_components_and_refs_follow() {
        let schema = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "properties": {"s": {"$ref": "#/$defs/Status"}, "l": {"type": "array", "items": {"$ref": "#/$defs/Item"}}},
            "$defs": {
                "Status": {"type": "string", "enum": ["a", "b"]},
                "Item": {"type": "object", "properties": {"s": {"$ref": "#/$defs/Status"}}}
            }
        });
        let mut comps = Map::new();
        let out = lift_defs(schema.as_object().unwrap(), "t.params", &mut comps);
        assert!(out.get("$schema").is_none() && out.get("$defs").is_none());
        assert_eq!(
            out["properties"]["s"]["$ref"],
            "#/components/schemas/t.params.Status"
        );
        assert_eq!(
            out["properties"]["l"]["items"]["$ref"],
            "#/components/schemas/t.params.Item"
        );
        assert_eq!(
            comps["t.params.Item"]["properties"]["s"]["$ref"],
            "#/components/schemas/t.params.Status"
        );
        assert_eq!(comps["t.params.Status"]["enum"], json!(["a", "b"]));
    }

    #[test]
    fn summaries_are_title_cased_like_mcpo() {
        assert_eq!(title_case("get_vms"), "Get Vms");
        assert_eq!(
            title_case("update_container_resources"),
            "Update Container Resources"
        );
    }
}
