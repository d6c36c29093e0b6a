//! The toolset tools of dynamic toolsets (`--dynamic-toolsets`, MCP sessions only, toolset
//! `dynamic`): `list_toolsets` (what the session has on and may turn on), `enable_toolset` and
//! `disable_toolset` (turn one on or off for the session; the door then tells the client that
//! the tool list changed). A change is written to the audit log.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::audit::{Entry, Outcome};
use crate::caller::SessionToolsets;
use crate::error::ToolError;
use crate::handler;
use crate::registry::dynamic::TOOLSET;
use crate::registry::toolsets;
use crate::registry::{Access, ToolCtx, ToolDef, ToolSpec};
use crate::tools::common::NoParams;

/// The `_meta` key that carries a 2026-07-28 request's toolsets (that revision has no session).
pub(crate) const META_KEY: &str = "proxmox-mcp/toolsets";

/// `list_toolsets`.
pub(crate) fn list_toolsets() -> ToolSpec {
    ToolSpec::new(
        ToolDef::new(
            TOOLSET,
            "list_toolsets",
            "List toolsets",
            "The toolsets of this session: on or off, and their tools. Use it before \
             enable_toolset when no tool you see fits.",
            Access::Read,
            true,
        ),
        handler!(list_handler),
    )
}

/// `enable_toolset`.
pub(crate) fn enable_toolset() -> ToolSpec {
    ToolSpec::new(
        ToolDef::new(
            TOOLSET,
            "enable_toolset",
            "Enable toolset",
            "Turns a toolset on for this session: its tools join the tool list. Use \
             list_toolsets to see which exist.",
            Access::Read,
            true,
        ),
        handler!(enable_handler),
    )
}

/// `disable_toolset`.
pub(crate) fn disable_toolset() -> ToolSpec {
    ToolSpec::new(
        ToolDef::new(
            TOOLSET,
            "disable_toolset",
            "Disable toolset",
            "Turns a toolset off for this session. Use it to shorten the tool list once its \
             tools are no longer needed.",
            Access::Read,
            true,
        ),
        handler!(disable_handler),
    )
}

/// One toolset as `list_toolsets` shows it.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct ToolsetInfo {
    pub(crate) name: String,
    pub(crate) description: String,
    /// Whether its tools are in this session's tool list.
    pub(crate) on: bool,
    /// Its tools on this server (the key's scope may still hide some).
    pub(crate) tools: Vec<String>,
}

/// Output of `list_toolsets`.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct ListToolsetsOutput {
    pub(crate) toolsets: Vec<ToolsetInfo>,
}

/// Parameters of `enable_toolset` and `disable_toolset`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ToolsetParams {
    /// Toolset name, as list_toolsets shows it.
    pub(crate) toolset: String,
}

/// Output of `enable_toolset` and `disable_toolset`.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct ToolsetChange {
    pub(crate) toolset: String,
    /// Whether the toolset is now on.
    pub(crate) on: bool,
    /// Whether this call changed anything (false: it already was).
    pub(crate) changed: bool,
    /// The toolsets on now.
    pub(crate) toolsets_on: Vec<String>,
    /// The tools of the toolset.
    pub(crate) tools: Vec<String>,
    /// On MCP 2026-07-28 (no session): send this object in the `_meta` of later requests to
    /// keep the change.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) meta: Option<Value>,
}

/// The session's toolsets, or an error for a caller without one.
fn session(ctx: &ToolCtx) -> Result<&SessionToolsets, ToolError> {
    ctx.caller.toolsets.as_ref().ok_or_else(|| {
        ToolError::policy(
            "toolsets are turned on per MCP session, with --dynamic-toolsets; this caller has \
             no session",
        )
    })
}

async fn list_handler(ctx: &ToolCtx, _p: NoParams) -> Result<ListToolsetsOutput, ToolError> {
    let s = session(ctx)?;
    let on = s.on();
    Ok(ListToolsetsOutput {
        toolsets: s
            .allowed()
            .iter()
            .map(|(name, tools)| ToolsetInfo {
                name: (*name).to_string(),
                description: toolsets::description(name),
                on: on.contains(name),
                tools: tools.iter().map(|t| (*t).to_string()).collect(),
            })
            .collect(),
    })
}

async fn enable_handler(ctx: &ToolCtx, p: ToolsetParams) -> Result<ToolsetChange, ToolError> {
    turn(ctx, "enable_toolset", p, true)
}

async fn disable_handler(ctx: &ToolCtx, p: ToolsetParams) -> Result<ToolsetChange, ToolError> {
    turn(ctx, "disable_toolset", p, false)
}

/// Turns the toolset `p` names on or off in the caller's session; a change is audited.
fn turn(
    ctx: &ToolCtx,
    tool: &'static str,
    p: ToolsetParams,
    on: bool,
) -> Result<ToolsetChange, ToolError> {
    let s = session(ctx)?;
    let Some((name, tools)) = s.allowed().get_key_value(p.toolset.as_str()) else {
        let known: Vec<&str> = s.allowed().keys().copied().collect();
        return Err(ToolError::InvalidParams {
            param: Some("toolset".into()),
            message: format!(
                "no toolset `{}` here: the toolsets are {}",
                p.toolset,
                known.join(", ")
            ),
        });
    };
    let changed = s.turn(name, on);
    let toolsets_on: Vec<String> = s.on().iter().map(|n| (*n).to_string()).collect();
    if changed && let Some(audit) = ctx.guard.audit() {
        audit.record(Entry {
            caller: &ctx.caller,
            cluster: None,
            tool,
            args: Some(&json!({"toolset": name})),
            outcome: Outcome::Ok,
            message: Some(format!(
                "toolset `{name}` turned {} for this session",
                if on { "on" } else { "off" }
            )),
            upid: None,
            result: Some(json!({"toolsets_on": toolsets_on})),
            confirmation: None,
        });
    }
    Ok(ToolsetChange {
        toolset: (*name).to_string(),
        on,
        changed,
        meta: s.carried().then(|| json!({ META_KEY: toolsets_on })),
        toolsets_on,
        tools: tools.iter().map(|t| (*t).to_string()).collect(),
    })
}
