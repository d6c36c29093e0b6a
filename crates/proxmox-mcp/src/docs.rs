//! Documents generated from the registry: `docs/tools.md`, the README tool table and the schema
//! snapshot. A test regenerates them and fails when the committed copies differ
//! (`UPDATE_SNAPSHOTS=1` rewrites them).

use std::fmt::Write as _;

use serde_json::{Map, Value};

use crate::registry::{Registry, ToolSpec};

/// Marker before the generated table in README.md.
pub(crate) const README_START: &str = "<!-- tools:start -->";
/// Marker after the generated table in README.md.
pub(crate) const README_END: &str = "<!-- tools:end -->";

/// The full text of `docs/tools.md`.
pub fn tools_markdown(registry: &Registry) -> String {
    let mut out = String::new();
    out.push_str(
        "# Tools\n\n\
         <!-- Generated from the tool registry by `proxmox_mcp::docs::tools_markdown`; do not edit. \
         Regenerate with `UPDATE_SNAPSHOTS=1 cargo test -p proxmox-mcp --test it docs`. -->\n\n",
    );
    out.push_str(CONVENTIONS);
    out.push_str("\n| tool | access | what it does |\n|---|---|---|\n");
    for t in registry.tools() {
        let _ = writeln!(
            out,
            "| [`{}`](#{}) | {} | {} |",
            t.name,
            t.name,
            t.access_label(),
            t.title
        );
    }
    for t in registry.tools() {
        out.push('\n');
        out.push_str(&tool_section(t));
    }
    out.push_str(&mcp_only());
    out
}

/// The section on what MCP clients get besides tools: resources, completion, prompts and the
/// confirmation asked of the human (none of it on the REST door).
fn mcp_only() -> String {
    let mut out = String::from(
        "\n## Beyond tools (MCP only)\n\n\
         MCP clients also get the following; the REST door has none of it.\n\n\
         **Confirmation asked of the human.** When the client declared the `elicitation` \
         capability, a destructive call without `confirm: true` is not refused: the client is \
         asked (`elicitation/create`; for MCP 2026-07-28 requests, an input-required result) to \
         show its user what the call would do, the Proxmox VE calls listed; accepted, it runs; \
         declined or cancelled, nothing is done. See [safety.md](safety.md#confirmation).\n\n\
         **Dynamic toolsets** (`--dynamic-toolsets`, `[tools] dynamic_toolsets = true`). A \
         session starts with the default toolsets (among those `--toolsets` names, which bounds \
         what may be turned on; every toolset when absent) plus `list_toolsets`, \
         `enable_toolset` and `disable_toolset`. Turning a toolset on or off is written to the \
         audit log and followed by `notifications/tools/list_changed` before the call's answer; \
         the next `tools/list` holds the change. It lasts for the session (Streamable HTTP, \
         legacy SSE) or the process (stdio); a call to a tool of a toolset that is off is \
         refused. The key's scope and `--read-only` still decide which of a toolset's tools \
         are offered; `--tools` names tools offered whatever the toolsets. MCP 2026-07-28 \
         requests have no session: `enable_toolset` answers a `meta` object, \
         `{\"proxmox-mcp/toolsets\": [...]}`, that the client sends in the `_meta` of its later \
         requests (without it, a request sees the starting toolsets), so there is no change to \
         announce on `subscriptions/listen`. With `[server] stateless`, the session revisions \
         have no session either and carry their toolsets the same way. The REST door serves \
         what a session starts with, without the toolset tools. `tools/list` carries \
         `ttlMs: 300000` and `cacheScope: private` when the list cannot change while the \
         server runs, `ttlMs: 0` with dynamic toolsets.\n\n\
         **Resources** (`application/json`, readable by keys of every scope, listed 100 a page), \
         `proxmox://{cluster}/summary` for each cluster, and these templates:\n\n\
         | URI template | what it holds |\n|---|---|\n",
    );
    for (uri, _, _, what) in crate::resources::TEMPLATES {
        let _ = writeln!(out, "| `{uri}` | {what} |");
    }
    out.push_str(
        "\n**Completion** (`completion/complete`) of `vmid`, `node` and `cluster` in the \
         templates and the prompts.\n\n\
         **Prompts**:\n\n| prompt | arguments | tools it asks for |\n|---|---|---|\n",
    );
    for p in crate::prompts::PROMPTS {
        let args: Vec<String> = p
            .arguments
            .iter()
            .map(|a| {
                if a.required {
                    format!("`{}`", a.name)
                } else {
                    format!("`{}` (optional)", a.name)
                }
            })
            .collect();
        let tools: Vec<String> = p.tools.iter().map(|(t, _)| format!("`{t}`")).collect();
        let _ = writeln!(
            out,
            "| `{}` | {} | {} |",
            p.name,
            args.join(", "),
            tools.join(", ")
        );
    }
    out.push_str(
        "\nA prompt whose tools are not all offered (their toolset is off) says which are \
         missing.\n\n\
         **Logging.** After `logging/setLevel` with `info` or `debug` (on MCP 2026-07-28 \
         requests, the level in the request's `_meta`), the log lines of the Proxmox VE tasks a \
         call waits for arrive as `notifications/message` at level `info` (logger `proxmox-ve`, \
         data `{upid, line}`), in order and before the call's answer.\n",
    );
    out
}

const CONVENTIONS: &str = "\
Conventions shared by every tool:

- A missing or `null` arguments object counts as `{}`.
- Unknown parameters are refused with an error naming them and listing the accepted ones.
- Integer and boolean parameters also accept their string spelling (`\"101\"`, `\"true\"`); the
  schemas keep the strict type.
- Every tool takes `cluster`, the name of the configured cluster to act on (default: the first
  configured). Input schemas show it only when the server has more than one cluster configured,
  and then as an enumeration of their names; with one cluster it is accepted but not shown.
- Where a tool takes `vmid`, `node` is optional: the node is found from the VMID.
- Input schemas use a portable core of JSON Schema that every model provider accepts (one `type`
  per property, `enum` for choices, optional parameters left out of `required`, no `anyOf`,
  `oneOf`, `const` or type arrays); the server is more lenient than the schema says (`null` for
  an optional parameter, a single string where a list is expected, see each parameter). Ranges
  are not in the schemas: a value out of range is refused with an error that states the range.
- Tools that start a Proxmox VE task wait at most `wait_seconds` (default 20, at most 50, because
  n8n abandons a call after 60 s). If the task is still running then, the result has
  `task_status: \"running\"` and the task's `upid`: follow it with `get_task` rather than repeating
  the operation. A task that fails is an error carrying Proxmox VE's exit status.
- `access` is `read` (changes nothing), `write` (changes state, can be undone) or `destructive`
  (can lose data or interrupt work).
- `destructive` tools need `confirm: true`; without it nothing is done and the refusal says which
  Proxmox VE calls the call would make (or, when the call would fail anyway, why).
- Every `write` and `destructive` tool takes `dry_run: true`: nothing is changed, the reads it
  needs still happen, and the result is `{dry_run: true, planned_calls: [{method, path, params}],
  note}` with secrets masked. A dry run needs no `confirm`.
- Protected guests (Proxmox VE's `protection` flag, or a VMID or tag listed in the server's
  `[guard]` configuration) are never changed by any tool, even with `confirm`; reading them is
  fine. See [safety.md](safety.md).
- `proxmox_api` (toolset `api`, off by default) reaches any Proxmox VE endpoint. Prefer a typed
  tool when one fits: it checks its parameters before calling, finds the node from the VMID,
  answers compactly and says what to do next, where `proxmox_api` passes Proxmox VE's answer
  and errors through. Its access is that of each call: `GET` reads; `POST`, `PUT` and `DELETE`
  are destructive (admin key, `confirm`, `dry_run`, audit). A built-in deny list refuses console
  and shell endpoints, migration tunnels, guest exec, guest file reads and API batches (which
  would bypass the server's own checks), fetches of URLs the caller names, password and TFA
  changes, API token creation, password logins, node
  shutdown and reboot, and cluster join; the operator widens or narrows what it may call in
  `[guard.api]` (see [safety.md](safety.md#the-generic-api-tool-proxmox_api)).
";

fn tool_section(t: &ToolSpec) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "## {}\n", t.name);
    let _ = writeln!(out, "**{}** — {}\n", t.title, t.description);
    let _ = writeln!(
        out,
        "Access: `{}`; toolset: `{}`; idempotent: {}.\n",
        t.access_label(),
        t.toolset,
        if t.idempotent_hint() { "yes" } else { "no" }
    );
    let props = properties(&t.input_schema);
    if props.is_empty() {
        out.push_str("Parameters: none.\n\n");
    } else {
        let required = required(&t.input_schema);
        let mut props = props;
        // Required parameters first, then the optional ones (each group by name).
        props.sort_by_key(|(name, _)| !required.contains(&name.as_str()));
        out.push_str("| parameter | type | required | description |\n|---|---|---|---|\n");
        for (name, schema) in props {
            let _ = writeln!(
                out,
                "| `{name}` | {} | {} | {} |",
                type_of(schema),
                if required.contains(&name.as_str()) {
                    "yes"
                } else {
                    "no"
                },
                description(schema)
            );
        }
        out.push('\n');
    }
    let outputs = properties(&t.output_schema);
    if !outputs.is_empty() {
        let names: Vec<String> = outputs.iter().map(|(n, _)| format!("`{n}`")).collect();
        let _ = writeln!(out, "Result fields: {}.\n", names.join(", "));
    }
    out
}

/// The README table (what goes between the markers, markers excluded).
pub fn readme_table(registry: &Registry) -> String {
    let mut out = String::from("| tool | access | what it does |\n|---|---|---|\n");
    for t in registry.tools() {
        let _ = writeln!(
            out,
            "| [`{}`](docs/tools.md#{}) | {} | {} |",
            t.name,
            t.name,
            t.access_label(),
            t.title
        );
    }
    out
}

/// `readme` with the text between the markers replaced by `table`; `None` if the markers are
/// missing.
pub fn replace_readme_table(readme: &str, table: &str) -> Option<String> {
    let start = readme.find(README_START)? + README_START.len();
    let end = start + readme[start..].find(README_END)?;
    Some(format!("{}\n{}{}", &readme[..start], table, &readme[end..]))
}

/// Every tool's input and output schema, as pretty JSON (the review snapshot).
pub fn schema_snapshot(registry: &Registry) -> String {
    let mut tools = Map::new();
    for t in registry.tools() {
        let mut entry = Map::new();
        entry.insert("title".into(), Value::from(t.title));
        entry.insert("access".into(), Value::from(t.access.as_str()));
        entry.insert("idempotent".into(), Value::from(t.idempotent_hint()));
        entry.insert("toolset".into(), Value::from(t.toolset));
        entry.insert("description".into(), Value::from(t.description));
        entry.insert("input".into(), Value::Object((*t.input_schema).clone()));
        entry.insert("output".into(), Value::Object((*t.output_schema).clone()));
        tools.insert(t.name.to_string(), Value::Object(entry));
    }
    let mut text = serde_json::to_string_pretty(&Value::Object(tools)).unwrap_or_default();
    text.push('\n');
    text
}

fn properties(schema: &Map<String, Value>) -> Vec<(&String, &Value)> {
    schema
        .get("properties")
        .and_then(Value::as_object)
        .map(|p| p.iter().collect())
        .unwrap_or_default()
}

fn required(schema: &Map<String, Value>) -> Vec<&str> {
    schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

fn description(schema: &Value) -> String {
    schema
        .get("description")
        .and_then(Value::as_str)
        .unwrap_or("")
        .replace('\n', " ")
        .replace('|', "\\|")
}

/// A short type name for a property schema: `integer (≤ 50)`, `string`, `"running" \| "stopped"`.
fn type_of(schema: &Value) -> String {
    let mut base = base_type(schema);
    let mut bounds = Vec::new();
    if let Some(min) = schema
        .get("minimum")
        .and_then(Value::as_f64)
        .filter(|m| *m > 0.0)
    {
        bounds.push(format!("≥ {min}"));
    }
    if let Some(max) = schema.get("maximum").and_then(Value::as_f64) {
        bounds.push(format!("≤ {max}"));
    }
    if !bounds.is_empty() {
        base = format!("{base} ({})", bounds.join(", "));
    }
    base
}

fn base_type(schema: &Value) -> String {
    if let Some(values) = schema.get("enum").and_then(Value::as_array) {
        let v: Vec<String> = values
            .iter()
            .filter(|v| !v.is_null())
            .map(|v| format!("`{v}`"))
            .collect();
        return v.join(" \\| ");
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(alts) = schema.get(key).and_then(Value::as_array) {
            let v: Vec<String> = alts
                .iter()
                .filter(|a| a.get("type") != Some(&Value::from("null")))
                .map(base_type)
                .collect();
            return v.join(" \\| ");
        }
    }
    match schema.get("type") {
        Some(Value::String(t)) if t == "array" => {
            let item = schema.get("items").map(base_type).unwrap_or_default();
            format!("array of {item}")
        }
        Some(Value::String(t)) => t.clone(),
        Some(Value::Array(ts)) => {
            let non_null: Vec<&Value> = ts.iter().filter(|t| *t != "null").collect();
            match non_null.as_slice() {
                [Value::String(t)] if t == "array" => {
                    let item = schema.get("items").map(base_type).unwrap_or_default();
                    format!("array of {item}")
                }
                _ => non_null
                    .iter()
                    .filter_map(|t| t.as_str())
                    .collect::<Vec<_>>()
                    .join(" \\| "),
            }
        }
        _ => "any".to_string(),
    }
}
