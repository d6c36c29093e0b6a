//! Bad input and failures give clear errors, and the next call still works: unknown VMIDs,
//! missing or mistyped parameters, unknown parameters, policy refusals, PVE 500s and timeouts
//! injected in the simulator, a panicking handler.

use std::sync::Arc;

use proxmox_mcp::{Access, Caller, NoProgress, Registry, ToolCtx, ToolDef, ToolSpec};
use proxmox_mcp::{ToolError, handler};
use pve_sim::faults::Fault;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio_util::sync::CancellationToken;

use crate::support::demo::Demo;
use crate::support::demo::{Want, check};

#[tokio::test]
async fn bad_input_is_named_and_the_next_call_works() {
    let d = Demo::start().await;
    let cases = [
        (
            "start_vm",
            json!({"vmid": 999}),
            Want::Err("pve", "VM 999 does not exist"),
        ),
        (
            "start_container",
            json!({"vmid": 999}),
            Want::Err("pve", "CT 999 does not exist"),
        ),
        (
            "start_vm",
            json!({"vmid": 200}),
            Want::Err("pve", "is a container"),
        ),
        (
            "start_container",
            json!({"vmid": 100}),
            Want::Err("pve", "is a VM"),
        ),
        (
            "start_vm",
            json!({}),
            Want::Err("invalid_params", "`vmid`: is required"),
        ),
        (
            "start_vm",
            json!({"vmid": "abc"}),
            Want::Err("invalid_params", "`vmid`"),
        ),
        (
            "start_vm",
            json!({"vmid": -1}),
            Want::Err("invalid_params", "`vmid`"),
        ),
        (
            "start_vm",
            json!({"vmid": 100, "wait_seconds": 51}),
            Want::Err("invalid_params", "`wait_seconds`"),
        ),
        (
            "get_vms",
            json!({"nod": "pve01"}),
            Want::Err("invalid_params", "`nod`: is not a parameter"),
        ),
        (
            "get_vms",
            json!({"status": "sleeping"}),
            Want::Err("invalid_params", "`status`"),
        ),
        (
            "get_nodes",
            json!({"x": 1}),
            Want::Err("invalid_params", "`x`"),
        ),
        (
            "get_node_status",
            json!({}),
            Want::Err("invalid_params", "`node`: is required"),
        ),
        (
            "get_node_status",
            json!({"node": "nope"}),
            Want::Err("pve", ""),
        ),
        (
            "get_storage",
            json!({"node": "nope"}),
            Want::Err("invalid_params", "no node named"),
        ),
        (
            "create_vm",
            json!({"name": "x", "cores": 1, "memory_mb": 512}),
            Want::Err("invalid_params", "`disk_gb`: is required"),
        ),
        (
            "create_vm",
            json!({"name": "x", "cores": 0, "memory_mb": 512, "disk_gb": 1}),
            Want::Err("invalid_params", "`cores`"),
        ),
        (
            "stop_container",
            json!({"vmid": 200, "force": true, "timeout_seconds": 5}),
            Want::Err("invalid_params", "timeout_seconds"),
        ),
        (
            "no_such_tool",
            json!({}),
            Want::Err("unknown_tool", "no_such_tool"),
        ),
    ];
    for (tool, args, want) in cases {
        check(&d, tool, args, want).await;
        // After every failure the server still answers.
        check(
            &d,
            "get_nodes",
            json!({}),
            Want::Fields(vec![("/online", json!(3))]),
        )
        .await;
    }
    // Missing arguments count as {}; non-object arguments are refused.
    let ctx = || {
        d.app.ctx(
            Caller::new("test"),
            Arc::new(NoProgress),
            CancellationToken::new(),
        )
    };
    assert!(
        d.app
            .registry()
            .call("get_nodes", None, ctx())
            .await
            .is_ok()
    );
    let e = d
        .app
        .registry()
        .call("get_nodes", Some(json!([1])), ctx())
        .await
        .unwrap_err();
    assert!(
        matches!(e, ToolError::InvalidParams { param: None, .. }),
        "{e:?}"
    );
}

#[tokio::test]
async fn pve_refusals_keep_pve_words() {
    let d = Demo::start().await;
    // VM 105 is locked by a backup; templates cannot start.
    check(
        &d,
        "stop_vm",
        json!({"vmid": 105, "confirm": true}),
        Want::Err("pve", "lock"),
    )
    .await;
    check(
        &d,
        "start_vm",
        json!({"vmid": 9000}),
        Want::Err("pve", "template"),
    )
    .await;
    assert_eq!(d.guest_status(105).as_deref(), Some("running"));
}

#[tokio::test]
async fn injected_faults_become_clear_errors_then_calls_recover() {
    let d = Demo::start().await;
    let mut fault = Fault::status(500, "cluster filesystem not ready");
    fault.path = Some("^/cluster/resources$".into());
    d.sim().inject(fault).unwrap();
    check(
        &d,
        "get_vms",
        json!({}),
        Want::Err("pve", "cluster filesystem not ready"),
    )
    .await;
    check(
        &d,
        "get_vms",
        json!({}),
        Want::Fields(vec![("/vms/0/vmid", json!(100))]),
    )
    .await;

    let mut slow = Fault::latency(5_000);
    slow.path = Some("^/nodes$".into());
    d.sim().inject(slow).unwrap();
    check(&d, "get_nodes", json!({}), Want::Err("timeout", "")).await;
    check(
        &d,
        "get_nodes",
        json!({}),
        Want::Fields(vec![("/online", json!(3))]),
    )
    .await;

    // A failing task status read is reported with the UPID to follow.
    let mut fault = Fault::status(500, "status unavailable");
    fault.path = Some("/tasks/.*/status$".into());
    fault.count = 1000;
    d.sim().inject(fault).unwrap();
    let e = d
        .call(
            "stop_vm",
            json!({"vmid": 100, "wait_seconds": 1, "confirm": true}),
        )
        .await
        .unwrap_err();
    assert!(
        e.to_string().contains("get_task") && e.to_string().contains("UPID:"),
        "{e}"
    );
    d.sim().clear_faults();
    assert_eq!(d.guest_status(100).as_deref(), Some("stopped"));
}

#[derive(Debug, Deserialize, JsonSchema)]
struct Empty {}

#[derive(Debug, Serialize, JsonSchema)]
struct Never {}

async fn panics(_ctx: &ToolCtx, _p: Empty) -> Result<Never, ToolError> {
    panic!("boom")
}

#[tokio::test]
async fn a_panicking_handler_is_an_internal_error() {
    let d = Demo::start().await;
    let spec = ToolSpec::new(
        ToolDef {
            name: "panics",
            title: "Panics",
            description: "Always panics.",
            toolset: "test",
            access: Access::Read,
            idempotent: true,
        },
        handler!(panics),
    );
    let registry = Registry::new(vec![spec]).unwrap();
    let ctx = || {
        d.app.ctx(
            Caller::new("test"),
            Arc::new(NoProgress),
            CancellationToken::new(),
        )
    };
    let e = registry.call("panics", None, ctx()).await.unwrap_err();
    assert_eq!(e, ToolError::Internal("the tool panicked: boom".into()));
    let e = registry.call("panics", None, ctx()).await.unwrap_err();
    assert_eq!(e.kind(), "internal");
}

#[tokio::test]
async fn a_cancelled_call_ends_and_the_next_one_works() {
    let d = Demo::start().await;
    let cancel = CancellationToken::new();
    cancel.cancel();
    let ctx = d.app.ctx(Caller::new("test"), Arc::new(NoProgress), cancel);
    let e = d
        .app
        .registry()
        .call("get_vms", None, ctx)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("cancelled"), "{e}");
    check(
        &d,
        "get_vms",
        json!({}),
        Want::Fields(vec![("/vms/0/vmid", json!(100))]),
    )
    .await;
}
