//! The `api` toolset (off by default): `proxmox_api`, one tool for any Proxmox VE endpoint the
//! typed tools do not cover (firewall, SDN, Ceph, replication, users and ACLs...). Its access
//! comes from the method of each call: GET reads; POST, PUT and DELETE are destructive (admin
//! key, `confirm`, dry run, protected guests, audit: the registry's one call flow). The path is
//! checked (`path.rs`) and judged by `[guard.api]` (`crate::guard::api`) before anything is
//! sent; parameters go as Proxmox VE takes them (`encode`); the answer is Proxmox VE's `data`,
//! fitted to a budget (`answer.rs`), and a task it starts is followed as the typed tools do.

mod answer;
mod path;

use pve_client::{Method, Params, Upid};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::common::{TaskOutcome, WAIT_FOR_TASK, wait_task};
use crate::error::ToolError;
use crate::guard::RuleMethod;
use crate::handler;
use crate::registry::{Access, ToolCtx, ToolDef, ToolSpec};

/// The toolset of this file's tool.
const TOOLSET: &str = "api";

/// Longest parameter name accepted.
const MAX_PARAM_NAME: usize = 128;

/// `proxmox_api`.
pub(super) fn proxmox_api() -> ToolSpec {
    ToolSpec::new(
        ToolDef::new(
            TOOLSET,
            "proxmox_api",
            "Call the Proxmox VE API",
            "Any Proxmox VE API endpoint (firewall, SDN, Ceph, replication, HA, users, ACLs...). \
             Use it only when no typed tool fits. GET reads; POST, PUT and DELETE need confirm: \
             true. Consoles, guest exec, passwords, TFA, tokens, node power and cluster join \
             are refused.",
            Access::Destructive,
            false,
        ),
        handler!(proxmox_api_handler),
    )
    .waits(WAIT_FOR_TASK)
    .access_by_args(Access::Read, access_of, only_get)
}

/// The input schema of the reading view (read-only mode): `method` is GET only.
fn only_get(schema: &mut Map<String, Value>) {
    if let Some(Value::Object(method)) = schema
        .get_mut("properties")
        .and_then(|p| p.get_mut("method"))
    {
        method.insert("enum".into(), Value::from(vec!["GET"]));
        method.insert(
            "description".into(),
            Value::from("GET only: this server runs in read-only mode."),
        );
    }
}

/// The access of one call: GET reads, any other method is destructive; `None` when the
/// arguments name no method this tool knows (the tool's own access then applies).
fn access_of(args: &Value) -> Option<Access> {
    match args.get("method").and_then(Value::as_str).and_then(method) {
        Some(RuleMethod::Get) => Some(Access::Read),
        Some(_) => Some(Access::Destructive),
        None => None,
    }
}

/// A method as written in a call (`GET`, `get`...).
fn method(text: &str) -> Option<RuleMethod> {
    RuleMethod::parse(&text.trim().to_ascii_uppercase())
}

/// Parameters of `proxmox_api`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct ApiParams {
    /// GET reads; POST, PUT and DELETE change things (destructive: confirm: true, admin key).
    #[schemars(extend("enum" = ["GET", "POST", "PUT", "DELETE"]))]
    pub(crate) method: String,
    /// Path below /api2/json, e.g. /cluster/firewall/rules or /nodes/pve1/qemu/101/config
    /// (the /api2/json prefix may be written). Plain text, no query string.
    pub(crate) path: String,
    /// Proxmox VE's parameters: text, numbers, booleans, lists (a repeated parameter).
    /// Sent as the query of GET and DELETE, the form body of POST and PUT.
    #[serde(default)]
    pub(crate) params: Option<Map<String, Value>>,
    /// For a list answer: keep only these keys of each row (e.g. ["vmid", "name"]).
    #[serde(default)]
    pub(crate) fields: Option<Vec<String>>,
}

/// Output of `proxmox_api`.
#[derive(Debug, Serialize, JsonSchema)]
pub(super) struct ApiOutput {
    /// The method called.
    pub(crate) method: String,
    /// The path called, below /api2/json.
    pub(crate) path: String,
    /// Proxmox VE's `data` (cut when `truncated`).
    pub(crate) data: Value,
    /// True when `data` was cut to the answer budget.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub(crate) truncated: bool,
    /// Rows (or keys, or bytes of text) Proxmox VE returned, when cut.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) total: Option<usize>,
    /// Rows (or keys, or bytes) kept, when cut.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) returned: Option<usize>,
    /// How to narrow the call, when cut.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) hint: Option<String>,
    /// The task the call started (its `data` is the UPID), followed for `wait_seconds`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) task: Option<TaskOutcome>,
}

async fn proxmox_api_handler(ctx: &ToolCtx, p: ApiParams) -> Result<ApiOutput, ToolError> {
    let rule_method = method(&p.method).ok_or_else(|| {
        ToolError::invalid(
            "method",
            format!("`{}` is not one of GET, POST, PUT, DELETE", p.method),
        )
    })?;
    let checked = path::check(&p.path)?;
    if let Some(why) = ctx.guard.api.refusal(rule_method, &checked.parts()) {
        return Err(ToolError::policy(why));
    }
    let params = encode(p.params.unwrap_or_default())?;
    let fields = p.fields.unwrap_or_default();
    let http = match rule_method {
        RuleMethod::Get => Method::Get,
        RuleMethod::Post => Method::Post,
        RuleMethod::Put => Method::Put,
        RuleMethod::Delete => Method::Delete,
    };
    let shown = checked.shown();
    let data: Value = ctx.client.request(http, &checked.api, params).await?;
    let task = match (&data, http) {
        (Value::String(text), m) if m != Method::Get => match text.parse::<Upid>() {
            Ok(upid) => {
                let what = format!("{} {shown} (task {})", http.as_str(), upid.as_str());
                Some(wait_task(ctx, &upid, ctx.wait, &what).await?)
            }
            Err(_) => None,
        },
        _ => None,
    };
    let fitted = answer::fit(
        answer::project(data, &fields),
        ctx.guard.api.max_answer_bytes,
    );
    Ok(ApiOutput {
        method: http.as_str().to_string(),
        path: shown,
        data: fitted.data,
        truncated: fitted.truncated,
        total: fitted.total,
        returned: fitted.returned,
        hint: fitted.hint,
        task,
    })
}

/// `params` as Proxmox VE takes them: text as is, numbers in decimal, booleans as 1 and 0, a
/// list as the parameter repeated (one value per item); `null` leaves the parameter out. An
/// object is refused: Proxmox VE takes a property string as text (`key=value,key2=value2`).
fn encode(params: Map<String, Value>) -> Result<Params, ToolError> {
    let mut out = Params::new();
    for (name, value) in params {
        let ok_name = !name.is_empty()
            && name.len() <= MAX_PARAM_NAME
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '[' | ']'));
        if !ok_name {
            return Err(ToolError::invalid(
                "params",
                format!(
                    "`{}` is not a Proxmox VE parameter name (letters, digits, `-`, `_`)",
                    name.escape_debug()
                ),
            ));
        }
        match value {
            Value::Null => {}
            Value::Array(items) => {
                for item in items {
                    let v = scalar(&name, item)?;
                    out.push(name.as_str(), v);
                }
            }
            other => {
                let v = scalar(&name, other)?;
                out.push(name.as_str(), v);
            }
        }
    }
    Ok(out)
}

/// One value in Proxmox VE's wire form.
fn scalar(name: &str, v: Value) -> Result<String, ToolError> {
    match v {
        Value::String(s) => Ok(s),
        Value::Bool(b) => Ok(if b { "1" } else { "0" }.to_string()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Null | Value::Array(_) | Value::Object(_) => Err(ToolError::invalid(
            "params",
            format!(
                "`{name}`: a value must be text, a number, a boolean or a list of those; write a \
                 property string as text (\"key=value,key2=value2\") as Proxmox VE takes it"
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    #[test]
    fn access_comes_from_the_method() {
        assert_eq!(access_of(&json!({"method": "GET"})), Some(Access::Read));
        assert_eq!(access_of(&json!({"method": " get "})), Some(Access::Read));
        for m in ["POST", "put", "Delete"] {
            assert_eq!(access_of(&json!({"method": m})), Some(Access::Destructive));
        }
        assert_eq!(access_of(&json!({"method": "PATCH"})), None);
        assert_eq!(access_of(&json!({})), None);
    }

    #[test]
    fn params_are_encoded_as_pve_takes_them() {
        let p = encode(
            json!({"enable": true, "pos": 3, "comment": "a b", "vms": [101, "102"], "x": null})
                .as_object()
                .unwrap()
                .clone(),
        )
        .unwrap();
        assert_eq!(p.encode(), "comment=a+b&enable=1&pos=3&vms=101&vms=102");
        for bad in [
            json!({"a": {"b": 1}}),
            json!({"a": [[1]]}),
            json!({"a b": 1}),
            json!({"": 1}),
        ] {
            let e = encode(bad.as_object().unwrap().clone()).unwrap_err();
            assert!(
                matches!(e, ToolError::InvalidParams { param: Some(ref p), .. } if p == "params"),
                "{bad}: {e}"
            );
        }
    }
}
