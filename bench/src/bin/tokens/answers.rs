//! The answers of the list tools and of `get_cluster_overview`, called with no arguments (what an agent, or an existing n8n
//! workflow, sends by default): the tokens of their text content (what most clients hand the
//! model) and of their `structuredContent` (what SDK clients validate against the output schema,
//! and some clients hand the model instead), measured separately.

use proxmox_mcp_bench::mcp::{Session, clip};
use serde_json::{Value, json};

use crate::Res;
use crate::count::{Cost, Counter};

/// The tools whose answers are measured (the list tools and the overview): the only tool names
/// the benchmark knows.
pub const LIST_TOOLS: [&str; 5] = [
    "get_vms",
    "get_containers",
    "get_nodes",
    "get_storage",
    "get_cluster_overview",
];

/// One tool's answer.
#[derive(Debug, Clone)]
pub struct Answer {
    pub tool: &'static str,
    /// Rows of the first array in `structuredContent` (the list), if any.
    pub rows: Option<usize>,
    /// The text content items, concatenated.
    pub text: Cost,
    /// `structuredContent` as compact JSON; `None` when the answer has none.
    pub structured: Option<Cost>,
    /// The tool error, when the call failed.
    pub error: Option<String>,
}

/// Calls each list tool with `{}` and measures its answer.
pub async fn measure(session: &mut Session, counter: &Counter) -> Res<Vec<Answer>> {
    let mut out = Vec::new();
    for tool in LIST_TOOLS {
        let result = session.call_tool(tool, json!({})).await?;
        out.push(answer(tool, &result, counter)?);
    }
    Ok(out)
}

fn answer(tool: &'static str, result: &Value, counter: &Counter) -> Res<Answer> {
    let text: String = result["content"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| c["type"] == "text")
        .filter_map(|c| c["text"].as_str())
        .collect::<Vec<_>>()
        .join("\n");
    let structured = match result.get("structuredContent") {
        Some(v) if !v.is_null() => Some(counter.cost(&serde_json::to_string(v)?)),
        _ => None,
    };
    let rows = result["structuredContent"]
        .as_object()
        .and_then(|o| o.values().find_map(Value::as_array))
        .map(Vec::len);
    let error = (result["isError"] == json!(true)).then(|| clip(&text));
    Ok(Answer {
        tool,
        rows,
        text: counter.cost(&text),
        structured,
        error,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn text_and_structured_content_are_measured_apart() {
        let c = crate::count::for_tests();
        let result = json!({
            "content": [{"type": "text", "text": "2 VMs"}, {"type": "image", "data": "AAAA"}],
            "structuredContent": {"count": 2, "vms": [{"vmid": 100}, {"vmid": 101}]}
        });
        let a = answer("get_vms", &result, c).unwrap();
        assert_eq!(a.rows, Some(2));
        assert_eq!(a.text.bytes, 5);
        let structured = r#"{"count":2,"vms":[{"vmid":100},{"vmid":101}]}"#;
        assert_eq!(a.structured.unwrap().bytes, structured.len());
        assert!(a.error.is_none());

        let err = json!({"content": [{"type": "text", "text": "no such VM"}], "isError": true});
        let a = answer("get_vms", &err, c).unwrap();
        assert_eq!(a.error.as_deref(), Some("no such VM"));
        assert!(a.structured.is_none() && a.rows.is_none());
    }
}
