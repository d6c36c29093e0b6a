//! The call flow of one mutating call, run by `Registry::call` for every tool whose `Access` is
//! Write or Destructive: the `confirm` and `dry_run` arguments (added to those tools' input
//! schemas here, from `Access`, never by hand), the dry-run plan (and its place in the output
//! schema), protected guests, and the audit record.
//!
//! - `dry_run: true`: the tool runs against a recording view of the client; reads happen,
//!   writes are recorded and answered with a synthetic success; the answer is the plan.
//!   A dry run needs no `confirm` (nothing happens).
//! - Destructive without `confirm: true`: the call runs as a dry run first; if that fails (bad
//!   parameters, no such guest, protected guest), its error is the answer, since confirming
//!   would not help; otherwise the call is refused, saying what it would do (the plan) and
//!   what would allow it.
//! - Destructive without `confirm: true`, when the door supplied a [`Confirmer`] (a client
//!   that can ask its user) and `[guard] elicit` is on: after the same dry run, the human is
//!   asked, shown the planned calls; accepted, the call runs and its audit line says the user
//!   confirmed; declined or cancelled, nothing is done and the refusal is audited. When the
//!   question cannot be put, the call is refused as without a confirmer.
//! - Every write of every mutating call goes through [`Protection`]: a protected guest is
//!   never changed, confirm or not.

use std::sync::Arc;

use schemars::JsonSchema;
use serde::Serialize;
use serde_json::{Map, Value, json};

use pve_client::dry_run::DryRun;

use super::confirm::{Answer, Confirmer, Question};
use super::{Access, ToolCtx, ToolSpec, lenient, output_schema_for};
use crate::audit::{Confirmation, Entry, Outcome};
use crate::error::ToolError;
use crate::guard::Protection;

/// The argument that confirms a destructive call.
pub(super) const CONFIRM: &str = "confirm";
/// The argument that asks for a dry run.
pub(super) const DRY_RUN: &str = "dry_run";
/// How long a call waits for the human's answer to its question before it is refused as
/// without one.
const ANSWER_WAIT: std::time::Duration = std::time::Duration::from_secs(300);

/// The answer of a dry run: the PVE calls the tool would make.
#[derive(Debug, Serialize, JsonSchema)]
pub(super) struct DryRunPlan {
    /// Always true: nothing was changed.
    pub(crate) dry_run: bool,
    /// The Proxmox VE calls the tool would make, in order (reads excluded).
    pub(crate) planned_calls: Vec<PlannedCall>,
    /// What this plan means.
    pub(crate) note: String,
}

/// One PVE call a dry run did not make.
#[derive(Debug, Serialize, JsonSchema)]
pub(super) struct PlannedCall {
    /// `POST`, `PUT` or `DELETE`.
    pub(crate) method: String,
    /// Path below `/api2/json`.
    pub(crate) path: String,
    /// Parameters as they would be sent; secrets shown as `********`.
    pub(crate) params: Map<String, Value>,
}

/// Adds `dry_run` (mutating tools) and `confirm` (destructive tools) to an input schema.
pub(super) fn augment_input(access: Access, schema: &mut Map<String, Value>) {
    if access == Access::Read {
        return;
    }
    let props = schema
        .entry("properties")
        .or_insert_with(|| Value::Object(Map::new()));
    let Some(props) = props.as_object_mut() else {
        return;
    };
    if access == Access::Destructive {
        props.insert(
            CONFIRM.into(),
            json!({
                "type": "boolean",
                "description": "Must be true."
            }),
        );
    }
    props.insert(
        DRY_RUN.into(),
        json!({
            "type": "boolean",
            "description": "Plan only: list the PVE calls."
        }),
    );
}

/// A mutating tool's output schema, widened to also accept its dry-run plan: the plan's
/// fields are added as optional properties, and `anyOf` requires either the tool's own
/// required fields or the plan's.
pub(super) fn augment_output(access: Access, schema: &mut Map<String, Value>) {
    if access == Access::Read {
        return;
    }
    let plan = output_schema_for::<DryRunPlan>();
    let tool_required = schema
        .remove("required")
        .unwrap_or_else(|| Value::Array(Vec::new()));
    let mut props = match schema.remove("properties") {
        Some(Value::Object(p)) => p,
        _ => Map::new(),
    };
    if let Some(Value::Object(plan_props)) = plan.get("properties") {
        for (k, v) in plan_props {
            props.insert(k.clone(), v.clone());
        }
    }
    schema.insert("properties".into(), Value::Object(props));
    let plan_required = plan.get("required").cloned().unwrap_or(Value::Null);
    schema.insert(
        "anyOf".into(),
        json!([
            {"required": tool_required},
            {"required": plan_required, "properties": {DRY_RUN: {"const": true}}}
        ]),
    );
}

/// The `confirm` and `dry_run` flags of a call, taken out of its arguments.
#[derive(Debug, Clone, Copy, Default)]
struct Flags {
    confirm: bool,
    dry_run: bool,
}

fn take_flags(args: &mut Value, access: Access) -> Result<Flags, ToolError> {
    let Value::Object(map) = args else {
        return Ok(Flags::default());
    };
    let dry_run = match map.remove(DRY_RUN) {
        None => false,
        Some(v) => lenient::opt_bool(v)
            .map(|b| b.unwrap_or(false))
            .map_err(|e| ToolError::invalid(DRY_RUN, e.to_string()))?,
    };
    let confirm = if access == Access::Destructive {
        map.remove(CONFIRM).map_or(Ok(false), confirmed)?
    } else {
        false
    };
    Ok(Flags { confirm, dry_run })
}

/// `confirm` is strict, unlike other booleans: only JSON `true` and the string `"true"` (which
/// some agent frameworks send) confirm; `false`, `"false"` and `null` do not; anything else
/// (`1`, `"yes"`, `"on"`...) is an error rather than a guess.
fn confirmed(v: Value) -> Result<bool, ToolError> {
    match v {
        Value::Bool(b) => Ok(b),
        Value::Null => Ok(false),
        Value::String(s) if s == "true" => Ok(true),
        Value::String(s) if s == "false" => Ok(false),
        other => Err(ToolError::invalid(
            CONFIRM,
            format!(
                "must be true (the JSON boolean, or the string \"true\") to confirm, not {other}; \
                 nothing was done"
            ),
        )),
    }
}

/// Takes `confirm` and `dry_run` out of an input schema (the read-only view of a tool whose
/// access depends on its arguments).
pub(super) fn strip_input(schema: &mut Map<String, Value>) {
    if let Some(Value::Object(props)) = schema.get_mut("properties") {
        props.remove(CONFIRM);
        props.remove(DRY_RUN);
    }
}

/// A reading call of a tool that can also change things (its access depends on its
/// arguments): `confirm` and `dry_run` are taken out (a read changes nothing either way).
pub(super) fn take_read_flags(spec: &ToolSpec, args: &mut Value) {
    if (spec.access != Access::Read || spec.by_args.is_some())
        && let Value::Object(map) = args
    {
        map.remove(CONFIRM);
        map.remove(DRY_RUN);
    }
}

/// Runs a mutating call (whose access is `access`: `Write` or `Destructive`) under the policy,
/// and audits it. `invoke` runs the tool's handler (with panic and cancellation handling) on a
/// context and arguments.
pub(super) async fn call<F, Fut>(
    spec: &ToolSpec,
    access: Access,
    ctx: ToolCtx,
    mut args: Value,
    invoke: F,
) -> Result<Value, ToolError>
where
    F: Fn(ToolCtx, Value) -> Fut,
    Fut: std::future::Future<Output = Result<Value, ToolError>>,
{
    let guard = ctx.guard.clone();
    let caller = ctx.caller.clone();
    let cluster = ctx.cluster.clone();
    let shown_args = guard.audit().map(|_| args.clone());
    let started_at = std::time::Instant::now();
    let mut dry = false;
    let mut confirmation = None;
    let result = match take_flags(&mut args, access) {
        Err(e) => Err(e),
        Ok(flags) if flags.dry_run => {
            dry = true;
            dry_run(spec, access, ctx, args, &invoke).await
        }
        Ok(flags) if access == Access::Destructive && !flags.confirm => {
            match ctx.confirmer.clone().filter(|_| guard.elicits()) {
                None => unconfirmed(spec, ctx, args, &invoke).await,
                Some(confirmer) => {
                    let asked = ask(spec, ctx, args, &invoke, confirmer.as_ref()).await;
                    confirmation = asked.as_ref().ok().map(|_| Confirmation::User);
                    asked
                }
            }
        }
        Ok(_) => run(ctx, args, &invoke).await,
    };
    if let Some(audit) = guard.audit() {
        let (outcome, message) = match &result {
            Ok(_) if dry => (Outcome::DryRun, None),
            Ok(_) => (Outcome::Ok, None),
            Err(ToolError::Policy(m)) => (Outcome::Refused, Some(m.clone())),
            Err(e) => (Outcome::Error, Some(e.to_string())),
        };
        audit.record(Entry {
            caller: &caller,
            cluster: Some(&cluster),
            tool: spec.name,
            args: shown_args.as_ref(),
            outcome,
            message,
            upid: result.as_ref().ok().and_then(find_upid),
            result: audited_result(spec, result.as_ref().ok(), dry, started_at.elapsed()),
            confirmation,
        });
    }
    result
}

/// The output fields `spec` declares for the audit log, with the call's `elapsed_ms`; `None`
/// for a tool that declares none, and for a dry run (its output is the plan).
fn audited_result(
    spec: &ToolSpec,
    out: Option<&Value>,
    dry: bool,
    elapsed: std::time::Duration,
) -> Option<Value> {
    if spec.audited.is_empty() || dry {
        return None;
    }
    let mut map = Map::new();
    if let Some(Value::Object(out)) = out {
        for field in spec.audited {
            if let Some(v) = out.get(*field) {
                map.insert((*field).to_string(), v.clone());
            }
        }
    }
    map.insert(
        "elapsed_ms".into(),
        Value::from(u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX)),
    );
    Some(Value::Object(map))
}

/// Runs the call for real, every write through [`Protection`].
async fn run<F, Fut>(ctx: ToolCtx, args: Value, invoke: &F) -> Result<Value, ToolError>
where
    F: Fn(ToolCtx, Value) -> Fut,
    Fut: std::future::Future<Output = Result<Value, ToolError>>,
{
    let protection = Arc::new(Protection::new(ctx.guard.clone()));
    let mut ctx = ctx;
    ctx.client = Arc::new(ctx.client.with_hook(protection.clone()));
    let started = ctx.started.clone();
    let r = invoke(ctx, args).await;
    may_have_applied(refusal_first(r, &protection), &started.list())
}

/// Asks the human behind the call's client to confirm a destructive call, shown its dry run;
/// runs it when they accept.
async fn ask<F, Fut>(
    spec: &ToolSpec,
    ctx: ToolCtx,
    args: Value,
    invoke: &F,
    confirmer: &dyn Confirmer,
) -> Result<Value, ToolError>
where
    F: Fn(ToolCtx, Value) -> Fut,
    Fut: std::future::Future<Output = Result<Value, ToolError>>,
{
    // The call would fail anyway (bad parameters, no such guest, protected guest): that is the
    // answer, and the human is not bothered.
    let plan = dry_run(spec, Access::Destructive, ctx.clone(), args.clone(), invoke).await?;
    let would = would_do(&plan);
    let question = Question {
        message: format!(
            "{} is destructive: {would}. Allow it? Declining does nothing.",
            spec.name
        ),
    };
    let answer = tokio::select! {
        answer = tokio::time::timeout(ANSWER_WAIT, confirmer.ask(&question)) => {
            answer.unwrap_or_else(|_| Answer::Unavailable("no answer in 5 minutes".into()))
        }
        () = ctx.cancel.cancelled() => Answer::Cancelled,
        () = ctx.stop_waiting.cancelled() => {
            Answer::Unavailable("the server is shutting down".into())
        }
    };
    match answer {
        Answer::Accepted => run(ctx, args, invoke).await,
        Answer::Declined => Err(ToolError::policy(format!(
            "the user declined {}; nothing was done",
            spec.name
        ))),
        Answer::Cancelled => Err(ToolError::policy(format!(
            "the user cancelled the confirmation of {}; nothing was done",
            spec.name
        ))),
        Answer::Deferred => Err(ToolError::policy(format!(
            "{} is destructive: the user is asked to confirm it; nothing was done yet",
            spec.name
        ))),
        Answer::Unavailable(why) => {
            tracing::info!(tool = spec.name, reason = %why, "could not ask the user to confirm");
            Err(refusal(spec, &would))
        }
    }
}

/// A mutating call that timed out may have changed the cluster anyway (PVE may have received
/// the request, a task it started may still run): its error says so, naming the tasks.
fn may_have_applied(r: Result<Value, ToolError>, started: &[String]) -> Result<Value, ToolError> {
    match r {
        Err(ToolError::Timeout(m)) => Err(ToolError::Timeout(if started.is_empty() {
            format!(
                "{m}; the change may have been applied anyway (Proxmox VE may have received the \
                 request): check the guest's state, or list_tasks, before repeating the call"
            )
        } else {
            format!(
                "{m}; the change may have been applied anyway{}",
                tasks_note(started)
            )
        })),
        other => other,
    }
}

/// `; task UPID:... may still be running: ...` for the tasks a call started (empty if none).
pub(super) fn tasks_note(started: &[String]) -> String {
    match started {
        [] => String::new(),
        [one] => format!(
            "; task {one} it started may still be running: call get_task with this upid before \
             repeating the operation"
        ),
        many => format!(
            "; tasks {} it started may still be running: call get_task with each upid before \
             repeating the operation",
            many.join(", ")
        ),
    }
}

/// A protection refusal replaces whatever error the tool made of it.
fn refusal_first(r: Result<Value, ToolError>, protection: &Protection) -> Result<Value, ToolError> {
    match (r, protection.refusal()) {
        (Err(_), Some(reason)) => Err(ToolError::Policy(reason)),
        (r, _) => r,
    }
}

/// Runs the tool against a recording client; returns the plan.
async fn dry_run<F, Fut>(
    spec: &ToolSpec,
    access: Access,
    ctx: ToolCtx,
    args: Value,
    invoke: &F,
) -> Result<Value, ToolError>
where
    F: Fn(ToolCtx, Value) -> Fut,
    Fut: std::future::Future<Output = Result<Value, ToolError>>,
{
    let protection = Arc::new(Protection::new(ctx.guard.clone()));
    let recorder = Arc::new(DryRun::after(protection.clone()));
    let mut ctx = ctx;
    ctx.client = Arc::new(ctx.client.with_hook(recorder.clone()));
    // The synthetic tasks of a dry run are no one's to follow, and have no log.
    ctx.started = Arc::default();
    ctx.log = None;
    refusal_first(invoke(ctx, args).await, &protection)?;
    let planned_calls: Vec<PlannedCall> = recorder
        .calls()
        .into_iter()
        .map(|c| PlannedCall {
            method: c.method.to_string(),
            path: c.path,
            params: c.params,
        })
        .collect();
    let confirm = if access == Access::Destructive {
        " (with confirm: true)"
    } else {
        ""
    };
    let note = format!(
        "Dry run of {}: nothing was changed. Called without dry_run{confirm}, it would make \
         these {} Proxmox VE call(s); the reads it needs were made.",
        spec.name,
        planned_calls.len()
    );
    let plan = DryRunPlan {
        dry_run: true,
        planned_calls,
        note,
    };
    serde_json::to_value(plan).map_err(|e| ToolError::Internal(format!("dry-run plan: {e}")))
}

/// Refuses a destructive call without `confirm: true`, saying what it would do.
async fn unconfirmed<F, Fut>(
    spec: &ToolSpec,
    ctx: ToolCtx,
    args: Value,
    invoke: &F,
) -> Result<Value, ToolError>
where
    F: Fn(ToolCtx, Value) -> Fut,
    Fut: std::future::Future<Output = Result<Value, ToolError>>,
{
    // The call would fail anyway (bad parameters, no such guest, protected guest, exec
    // policy): confirm would not help, so that is the answer.
    let plan = dry_run(spec, Access::Destructive, ctx, args, invoke).await?;
    Err(refusal(spec, &would_do(&plan)))
}

/// The refusal of a destructive call without `confirm: true`.
fn refusal(spec: &ToolSpec, would: &str) -> ToolError {
    ToolError::policy(format!(
        "{} is destructive and needs confirm: true; nothing was done. With confirm: true, \
         {would}. Pass confirm: true to do it, or dry_run: true to get this plan as data",
        spec.name
    ))
}

/// `it would call Proxmox VE: DELETE /nodes/...; ...`, from a dry-run plan.
fn would_do(plan: &Value) -> String {
    let calls: Vec<String> = plan
        .get("planned_calls")
        .and_then(Value::as_array)
        .map(|a| a.iter().map(describe_call).collect())
        .unwrap_or_default();
    if calls.is_empty() {
        "it would make no Proxmox VE call".to_string()
    } else {
        format!("it would call Proxmox VE: {}", calls.join("; "))
    }
}

/// `POST /nodes/pve1/qemu/101/status/stop (skiplock=1)`.
fn describe_call(c: &Value) -> String {
    let method = c.get("method").and_then(Value::as_str).unwrap_or("?");
    let path = c.get("path").and_then(Value::as_str).unwrap_or("?");
    let params: Vec<String> = c
        .get("params")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| match v {
                    Value::String(s) => format!("{k}={s}"),
                    other => format!("{k}={other}"),
                })
                .collect()
        })
        .unwrap_or_default();
    if params.is_empty() {
        format!("{method} {path}")
    } else {
        format!("{method} {path} ({})", params.join(", "))
    }
}

/// The first `upid` field of a tool output (top level or one object down).
fn find_upid(out: &Value) -> Option<String> {
    let obj = out.as_object()?;
    if let Some(u) = obj.get("upid").and_then(Value::as_str) {
        return Some(u.to_string());
    }
    obj.values()
        .filter_map(Value::as_object)
        .find_map(|o| o.get("upid").and_then(Value::as_str).map(str::to_string))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn flags_are_taken_out_and_confirm_is_strict() {
        let mut args = json!({"vmid": 1, "confirm": "true", "dry_run": false});
        let f = take_flags(&mut args, Access::Destructive).unwrap();
        assert!(f.confirm && !f.dry_run);
        for loose in [
            json!(1),
            json!("yes"),
            json!("on"),
            json!("1"),
            json!("True"),
        ] {
            let e = take_flags(&mut json!({"confirm": loose}), Access::Destructive).unwrap_err();
            assert!(matches!(e, ToolError::InvalidParams { param: Some(p), .. } if p == "confirm"));
        }
        let f = take_flags(
            &mut json!({"confirm": "false", "dry_run": "1"}),
            Access::Destructive,
        )
        .unwrap();
        assert!(!f.confirm && f.dry_run, "dry_run stays lenient");
        assert_eq!(args, json!({"vmid": 1}));
        let mut args = json!({"confirm": true});
        take_flags(&mut args, Access::Write).unwrap();
        assert_eq!(
            args,
            json!({"confirm": true}),
            "confirm stays for Write tools"
        );
        let e = take_flags(&mut json!({"dry_run": "maybe"}), Access::Write).unwrap_err();
        assert!(matches!(e, ToolError::InvalidParams { param: Some(p), .. } if p == "dry_run"));
    }

    #[test]
    fn upids_are_found_and_calls_described() {
        assert_eq!(
            find_upid(&json!({"resize_task": {"upid": "U"}})).as_deref(),
            Some("U")
        );
        assert_eq!(
            describe_call(&json!({"method": "DELETE", "path": "/x", "params": {"purge": "1"}})),
            "DELETE /x (purge=1)"
        );
    }
}
