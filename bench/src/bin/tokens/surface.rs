//! The model-visible tool list and what it costs. An agent framework sends the model, for each
//! tool of `tools/list`, its name, its description and its input schema (OpenAI's
//! `function.parameters`, Anthropic's `input_schema`, Gemini's `parameters`, as n8n's MCP Client
//! Tool and LangChain's MCP adapters pass them on); the title, annotations, output schema and
//! `_meta` stay with the client. Each tool is measured as the compact JSON object
//! `{"name":…,"description":…,"parameters":<inputSchema>}` and the list as the JSON array of
//! those objects. See bench/README.md.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::Res;
use crate::count::{Cost, Counter};

/// One tool's entry in the list.
#[derive(Debug, Clone)]
pub struct ToolCost {
    pub name: String,
    /// The whole entry.
    pub entry: Cost,
    /// The description string alone.
    pub description: Cost,
    /// The compact input schema alone.
    pub schema: Cost,
}

/// A tool list as a model sees it.
#[derive(Debug, Clone)]
pub struct Surface {
    pub tools: Vec<ToolCost>,
    /// The JSON array of every entry.
    pub total: Cost,
}

impl Surface {
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.tools.iter().map(|t| t.name.as_str())
    }
}

/// A parameter name and what its property declarations cost across the list.
#[derive(Debug, Clone)]
pub struct ParamCost {
    pub name: String,
    /// How many tools declare it.
    pub tools: usize,
    /// The sum of its `"name":{…}` members in those tools' input schemas.
    pub cost: Cost,
}

/// The model-visible entry of one `tools/list` tool, as compact JSON.
pub fn entry(tool: &Value) -> Res<String> {
    let name = tool["name"].as_str().ok_or("a tool without a name")?;
    let schema = tool
        .get("inputSchema")
        .ok_or_else(|| format!("{name}: no inputSchema"))?;
    let mut out = format!("{{\"name\":{}", serde_json::to_string(name)?);
    if let Some(d) = tool.get("description").and_then(Value::as_str) {
        out.push_str(&format!(",\"description\":{}", serde_json::to_string(d)?));
    }
    out.push_str(&format!(
        ",\"parameters\":{}}}",
        serde_json::to_string(schema)?
    ));
    Ok(out)
}

/// Measures the model-visible list of `tools`.
pub fn measure(counter: &Counter, tools: &[Value]) -> Res<Surface> {
    let mut entries = Vec::with_capacity(tools.len());
    let mut costs = Vec::with_capacity(tools.len());
    for tool in tools {
        let e = entry(tool)?;
        costs.push(ToolCost {
            name: tool["name"].as_str().unwrap_or_default().to_string(),
            entry: counter.cost(&e),
            description: counter.cost(tool["description"].as_str().unwrap_or_default()),
            schema: counter.cost(&serde_json::to_string(&tool["inputSchema"])?),
        });
        entries.push(e);
    }
    let total = counter.cost(&format!("[{}]", entries.join(",")));
    Ok(Surface {
        tools: costs,
        total,
    })
}

/// The input-schema properties declared by at least two tools, costliest first.
pub fn shared_params(counter: &Counter, tools: &[Value]) -> Res<Vec<ParamCost>> {
    let mut by_name: BTreeMap<String, ParamCost> = BTreeMap::new();
    for tool in tools {
        let Some(props) = tool["inputSchema"]["properties"].as_object() else {
            continue;
        };
        for (name, schema) in props {
            let member = format!(
                "{}:{}",
                serde_json::to_string(name)?,
                serde_json::to_string(schema)?
            );
            let p = by_name.entry(name.clone()).or_insert_with(|| ParamCost {
                name: name.clone(),
                tools: 0,
                cost: Cost::default(),
            });
            p.tools += 1;
            p.cost += counter.cost(&member);
        }
    }
    let mut shared: Vec<ParamCost> = by_name.into_values().filter(|p| p.tools >= 2).collect();
    shared.sort_by(|a, b| b.cost.bytes.cmp(&a.cost.bytes).then(a.name.cmp(&b.name)));
    Ok(shared)
}

/// Toolset name → its tools, from the REST door's OpenAPI document (each tool's operations are
/// tagged with its toolset), keeping only the tools in `tools`.
pub fn toolsets(openapi: &Value, tools: &[&str]) -> BTreeMap<String, Vec<String>> {
    let mut sets: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let Some(paths) = openapi["paths"].as_object() else {
        return sets;
    };
    for (path, ops) in paths {
        let name = path.trim_start_matches('/');
        if !tools.contains(&name) {
            continue;
        }
        let mut tags: Vec<&str> = ops
            .as_object()
            .into_iter()
            .flat_map(|o| o.values())
            .filter_map(|op| op["tags"].as_array())
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        tags.sort_unstable();
        tags.dedup();
        for tag in tags {
            sets.entry(tag.to_string())
                .or_default()
                .push(name.to_string());
        }
    }
    for list in sets.values_mut() {
        list.sort();
    }
    sets
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use serde_json::json;

    use super::*;

    #[test]
    fn the_entry_is_name_description_and_input_schema_only() {
        let tool = json!({
            "name": "get_vms",
            "title": "List VMs",
            "description": "List VMs.",
            "inputSchema": {"type": "object", "properties": {"node": {"type": "string"}}},
            "outputSchema": {"type": "object"},
            "annotations": {"readOnlyHint": true}
        });
        assert_eq!(
            entry(&tool).unwrap(),
            r#"{"name":"get_vms","description":"List VMs.","parameters":{"properties":{"node":{"type":"string"}},"type":"object"}}"#
        );
        let bare = json!({"name": "x", "inputSchema": {"type": "object"}});
        assert_eq!(
            entry(&bare).unwrap(),
            r#"{"name":"x","parameters":{"type":"object"}}"#
        );
        assert!(entry(&json!({"name": "x"})).is_err());
    }

    #[test]
    fn totals_and_shared_parameters() {
        let c = crate::count::for_tests();
        let p = json!({"type": "string", "description": "Node name."});
        let tools = vec![
            json!({"name": "a", "description": "A.", "inputSchema": {"type": "object", "properties": {"node": p, "x": {"type": "integer"}}}}),
            json!({"name": "b", "description": "B.", "inputSchema": {"type": "object", "properties": {"node": p}}}),
        ];
        let s = measure(c, &tools).unwrap();
        assert_eq!(s.tools.len(), 2);
        // The array adds its brackets and one comma to the entries.
        let sum: usize = s.tools.iter().map(|t| t.entry.bytes).sum();
        assert_eq!(s.total.bytes, sum + 3);
        let shared = shared_params(c, &tools).unwrap();
        assert_eq!(shared.len(), 1);
        assert_eq!((shared[0].name.as_str(), shared[0].tools), ("node", 2));
        let member = r#""node":{"description":"Node name.","type":"string"}"#;
        assert_eq!(shared[0].cost.bytes, 2 * member.len());
    }

    #[test]
    fn toolsets_come_from_the_openapi_tags() {
        let doc = json!({"paths": {
            "/get_vms": {"post": {"tags": ["core"]}},
            "/list_snapshots": {"get": {"tags": ["snapshots"]}, "post": {"tags": ["snapshots"]}},
            "/healthz": {"get": {"tags": ["ops"]}}
        }});
        let sets = toolsets(&doc, &["get_vms", "list_snapshots"]);
        assert_eq!(sets.len(), 2);
        assert_eq!(sets["core"], ["get_vms"]);
        assert_eq!(sets["snapshots"], ["list_snapshots"]);
    }
}
