//! The tool surface an agent pays for on every turn: the model-visible tool list (name,
//! description and input schema of each tool, compact JSON, as `bench/src/bin/tokens` measures
//! it) of the real binary stays within its `o200k_base` token budgets (counted with tiktoken-rs,
//! the benchmark's tokenizer); every parameter is described; every description says when to use
//! the tool rather than a sibling; input schemas stay in the portable core of JSON Schema that
//! every model provider accepts; `cluster` shows only when several clusters are configured.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde_json::{Value, json};
use tiktoken_rs::CoreBPE;

use crate::support::mcp::{handshake, init_tls, post};
use crate::support::process::Bin;

/// The default toolsets' list, in o200k tokens.
const DEFAULT_BUDGET: usize = 2_500;
/// Every toolset's list, in o200k tokens.
const ALL_BUDGET: usize = 10_200;

fn o200k() -> &'static CoreBPE {
    static BPE: OnceLock<CoreBPE> = OnceLock::new();
    BPE.get_or_init(|| tiktoken_rs::o200k_base().unwrap())
}

/// The model-visible entry of a `tools/list` tool (the benchmark's `surface::entry`).
fn entry(tool: &Value) -> String {
    json!({
        "name": tool["name"],
        "description": tool["description"],
        "parameters": tool["inputSchema"],
    })
    .to_string()
}

/// `serve --demo` with `extra` arguments; the `tools/list` of its MCP door.
async fn served_tools(extra: &[&str]) -> Vec<Value> {
    let mut args = vec![
        "serve",
        "--demo",
        "--mcp-listen",
        "127.0.0.1:0",
        "--rest-listen",
        "127.0.0.1:0",
    ];
    args.extend_from_slice(extra);
    init_tls();
    let mut bin = Bin::start(&args, &[]);
    let url = format!("http://127.0.0.1:{}/proxmox/mcp", bin.port("MCP"));
    let http = reqwest::Client::new();
    let (session, init) = handshake(&http, &url, "2025-06-18").await;
    let version = init["protocolVersion"].as_str().unwrap().to_string();
    let (status, _, msgs) = post(
        &http,
        &url,
        &[
            ("mcp-session-id", &session),
            ("mcp-protocol-version", &version),
        ],
        json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}),
    )
    .await;
    assert_eq!(status, 200);
    let tools = msgs.last().unwrap()["result"]["tools"].as_array().unwrap();
    assert!(
        msgs.last().unwrap()["result"].get("nextCursor").is_none(),
        "one page"
    );
    tools.clone()
}

/// The o200k tokens of the model-visible list, and of each tool's entry.
fn cost(tools: &[Value]) -> (usize, BTreeMap<String, usize>) {
    let entries: Vec<String> = tools.iter().map(entry).collect();
    let total = o200k()
        .encode_ordinary(&format!("[{}]", entries.join(",")))
        .len();
    let per_tool = tools
        .iter()
        .zip(&entries)
        .map(|(t, e)| {
            (
                t["name"].as_str().unwrap().to_string(),
                o200k().encode_ordinary(e).len(),
            )
        })
        .collect();
    (total, per_tool)
}

#[tokio::test]
async fn the_tool_lists_stay_within_their_token_budgets() {
    let default = served_tools(&[]).await;
    let (tokens, per_tool) = cost(&default);
    eprintln!("default: {tokens} o200k tokens");
    assert!(
        tokens <= DEFAULT_BUDGET,
        "the default tool list costs {tokens} o200k tokens, over its budget of {DEFAULT_BUDGET}: \
         {per_tool:?}"
    );
    let all = served_tools(&["--toolsets", "all"]).await;
    assert!(all.len() > default.len());
    let (tokens, per_tool) = cost(&all);
    eprintln!("all: {tokens} o200k tokens");
    assert!(
        tokens <= ALL_BUDGET,
        "the list of every toolset costs {tokens} o200k tokens, over its budget of \
         {ALL_BUDGET}: {per_tool:?}"
    );
    // One cluster configured (the demo): no `cluster` parameter anywhere.
    for t in &all {
        assert!(
            t["inputSchema"]["properties"].get("cluster").is_none(),
            "{}",
            t["name"]
        );
    }
}

#[test]
fn the_counter_counts_like_tiktoken() {
    // Reference counts from OpenAI's tiktoken (o200k_base).
    assert_eq!(o200k().encode_ordinary("hello world").len(), 2);
    assert_eq!(o200k().encode_ordinary("").len(), 0);
}

/// Words that say when to use a tool (or what to use instead).
const WHEN: &[&str] = &[
    "use ", "use it", "prefer", "when ", "before ", "instead", "to learn",
];

#[test]
fn every_parameter_is_described_and_every_tool_says_when_to_use_it() {
    let r = proxmox_mcp::builtin_tools().unwrap();
    for t in r.tools() {
        let props = t.input_schema["properties"].as_object().unwrap();
        for (name, p) in props {
            let d = p["description"].as_str().unwrap_or_default();
            assert!(!d.trim().is_empty(), "{}.{name} has no description", t.name);
        }
        let d = t.description.to_lowercase();
        assert!(
            WHEN.iter().any(|w| d.contains(w)),
            "{}: the description does not say when to use it: {}",
            t.name,
            t.description
        );
    }
    // Tools acting on the same kind of object (`stop_vm`, `shutdown_vm`, `reset_vm`...) that
    // change it: each one's description names a sibling, so the agent picks the right one.
    let mut by_object: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for t in r.tools() {
        if t.access == proxmox_mcp::Access::Read {
            continue;
        }
        if let Some((_, object)) = t.name.split_once('_') {
            by_object.entry(object).or_default().push(t.name);
        }
    }
    for (object, tools) in by_object.iter().filter(|(_, v)| v.len() > 1) {
        for name in tools {
            let d = r.get(name).unwrap().description;
            assert!(
                tools.iter().any(|s| s != name && d.contains(s)),
                "{name} does not name a sibling among the *_{object} tools {tools:?}: {d}"
            );
        }
    }
}

/// The keywords of the portable core: what Gemini's function declarations, OpenAI's and
/// Anthropic's tools, Mistral and Ollama all accept.
const PORTABLE: &[&str] = &[
    "type",
    "description",
    "properties",
    "required",
    "items",
    "enum",
    "minimum",
    "maximum",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "pattern",
    "default",
];

/// The keywords outside the portable core in `schema` (a property or an item), with their path.
fn non_portable(path: &str, schema: &Value, out: &mut Vec<String>) {
    let Some(m) = schema.as_object() else {
        out.push(format!("{path}: not an object"));
        return;
    };
    for (k, v) in m {
        if !PORTABLE.contains(&k.as_str()) {
            out.push(format!("{path}: `{k}`"));
        }
        match k.as_str() {
            "type" if !v.is_string() => out.push(format!("{path}: type {v}")),
            "properties" => {
                for (name, p) in v.as_object().into_iter().flatten() {
                    non_portable(&format!("{path}.{name}"), p, out);
                }
            }
            "items" => non_portable(&format!("{path}[]"), v, out),
            "enum" if !v.as_array().is_some_and(|a| a.iter().all(Value::is_string)) => {
                out.push(format!("{path}: enum of non-strings {v}"));
            }
            _ => {}
        }
    }
    if !m.contains_key("type") {
        out.push(format!("{path}: no type"));
    }
}

/// The portable-core findings of every tool of `tools`.
fn findings<'a>(
    tools: impl Iterator<Item = (&'a str, &'a serde_json::Map<String, Value>)>,
) -> Vec<String> {
    let mut out = Vec::new();
    for (name, schema) in tools {
        for (k, v) in schema {
            match k.as_str() {
                "type" if v != "object" => out.push(format!("{name}: root type {v}")),
                "additionalProperties" if v != &json!(false) => {
                    out.push(format!("{name}: root additionalProperties {v}"));
                }
                "type" | "additionalProperties" | "required" => {}
                "properties" => {
                    for (p, s) in v.as_object().unwrap() {
                        non_portable(&format!("{name}.{p}"), s, &mut out);
                    }
                }
                other => out.push(format!("{name}: root `{other}`")),
            }
        }
    }
    out
}

#[test]
fn input_schemas_stay_in_the_portable_core() {
    let r = proxmox_mcp::builtin_tools().unwrap();
    let found = findings(r.tools().map(|t| (t.name, &*t.input_schema)));
    assert!(
        found.is_empty(),
        "outside the portable core:\n{}",
        found.join("\n")
    );
    // The checker finds what it must.
    let bad = json!({"type": "object", "properties": {
        "a": {"anyOf": [{"type": "string"}, {"type": "null"}], "description": "x"},
        "b": {"type": ["string", "null"], "description": "x"},
        "c": {"type": "string", "const": "x", "description": "x"},
        "d": {"type": "object", "additionalProperties": false, "description": "x"},
        "e": {"type": "integer", "exclusiveMinimum": 0, "description": "x"}
    }});
    let bad = bad.as_object().unwrap();
    let found = findings(std::iter::once(("t", bad))).join("\n");
    for what in [
        "t.a: `anyOf`",
        "t.b: type",
        "t.c: `const`",
        "t.d: `additionalProperties`",
        "t.e: `exclusiveMinimum`",
    ] {
        assert!(found.contains(what), "{what} not found in:\n{found}");
    }
}
