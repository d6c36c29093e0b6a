//! Unit tests of the built-in tool set against the registry's rules: every tool needs the key
//! scope its access says, belongs to a declared toolset, and the server-wide filters apply to
//! them in the documented order.
#![allow(clippy::unwrap_used)]

use crate::caller::SessionToolsets;
use crate::registry::dynamic::TOOLSET as DYNAMIC;
use crate::registry::filter::FilterError;
use crate::registry::toolsets::{self, ALL, DEFAULT, TOOLSETS, get};
use crate::registry::{Access, Registry, Scope, ToolFilter};

fn builtin() -> Registry {
    super::registry().unwrap()
}

fn names(r: &Registry) -> Vec<&'static str> {
    r.tools().map(|t| t.name).collect()
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[test]
fn filters_apply_in_the_documented_order() {
    let reg = builtin();
    // `all` never holds the toolset tools (dynamic toolsets serve them).
    let all: Vec<_> = reg
        .tools()
        .filter(|t| t.toolset != DYNAMIC)
        .map(|t| t.name)
        .collect();
    let reads: Vec<_> = reg
        .tools()
        .filter(|t| t.access == Access::Read)
        .filter(|t| toolsets::get(t.toolset).is_some_and(|s| s.default))
        .map(|t| t.name)
        .collect();
    let core: Vec<_> = reg
        .tools()
        .filter(|t| t.toolset == "core")
        .map(|t| t.name)
        .collect();
    let defaults: Vec<_> = reg
        .tools()
        .filter(|t| toolsets::get(t.toolset).is_some_and(|s| s.default))
        .map(|t| t.name)
        .collect();
    let f = |read_only, sets: Option<&[&str]>, tools: &[&str], ex: &[&str]| ToolFilter {
        read_only,
        toolsets: sets.map(strings),
        tools: strings(tools),
        exclude_tools: strings(ex),
        dynamic: false,
    };
    type Case<'a> = (ToolFilter, Vec<&'a str>);
    let cases: Vec<Case> = vec![
        (ToolFilter::default(), defaults.clone()),
        (f(false, Some(&["core"]), &[], &[]), core),
        (f(false, Some(&["all"]), &[], &[]), all.clone()),
        (f(false, Some(&["default"]), &[], &[]), defaults.clone()),
        // An optional toolset adds to the defaults, in registry order.
        (
            f(false, Some(&["snapshots", "default"]), &[], &[]),
            reg.tools()
                .filter(|t| defaults.contains(&t.name) || t.toolset == "snapshots")
                .map(|t| t.name)
                .collect(),
        ),
        (f(false, Some(&[]), &[], &[]), vec![]),
        // Tools alone: only those.
        (
            f(false, None, &["get_vms", "start_vm"], &[]),
            vec!["get_vms", "start_vm"],
        ),
        // Tools add to toolsets.
        (f(false, Some(&[]), &["get_task"], &[]), vec!["get_task"]),
        (f(true, None, &[], &[]), reads.clone()),
        // Read-only removes a write tool even when named.
        (
            f(true, None, &["get_vms", "start_vm"], &[]),
            vec!["get_vms"],
        ),
        // A tool whose mildest call reads stays in read-only mode (admission refuses the rest).
        (f(true, Some(&["api"]), &[], &[]), vec!["proxmox_api"]),
        // Exclusion wins.
        (
            f(false, None, &["get_vms", "start_vm"], &["start_vm"]),
            vec!["get_vms"],
        ),
        (
            f(false, None, &[], &["delete_vm", "execute_vm_command"]),
            defaults
                .iter()
                .copied()
                .filter(|n| *n != "delete_vm" && *n != "execute_vm_command")
                .collect(),
        ),
    ];
    for (filter, want) in cases {
        assert_eq!(names(&filter.apply(&reg).unwrap()), want, "{filter:?}");
    }
}

#[test]
fn unknown_names_are_errors_naming_them() {
    let reg = builtin();
    let e = ToolFilter {
        toolsets: Some(strings(&["core", "snapshotz"])),
        ..ToolFilter::default()
    }
    .apply(&reg)
    .unwrap_err();
    assert!(
        e.to_string().contains("`snapshotz`") && e.to_string().contains("`core`"),
        "{e}"
    );
    let e = ToolFilter {
        tools: strings(&["get_vm"]),
        exclude_tools: strings(&["delete_vms"]),
        ..ToolFilter::default()
    }
    .apply(&reg)
    .unwrap_err();
    assert_eq!(
        e,
        FilterError::UnknownTools(strings(&["get_vm", "delete_vms"]))
    );
}

#[test]
fn every_tool_belongs_to_a_declared_toolset() {
    let reg = builtin();
    for t in reg.tools() {
        assert!(
            get(t.toolset).is_some(),
            "{}: toolset `{}` is not declared",
            t.name,
            t.toolset
        );
    }
    for ts in TOOLSETS {
        assert!(
            ts.name != ALL && ts.name != DEFAULT,
            "{} is a keyword",
            ts.name
        );
    }
}

#[test]
fn core_is_the_contract_tools_plus_get_task_the_overview_and_list_clusters() {
    let reg = builtin();
    let core: Vec<&str> = reg
        .tools()
        .filter(|t| t.toolset == "core")
        .map(|t| t.name)
        .collect();
    assert_eq!(core.len(), 20, "{core:?}");
    assert!(
        core.contains(&"get_task")
            && core.contains(&"get_cluster_overview")
            && core.contains(&"list_clusters")
    );
    // The commands over SSH need SSH configured first: their toolset is off by default.
    let ssh: Vec<&str> = reg
        .tools()
        .filter(|t| t.toolset == "ssh")
        .map(|t| t.name)
        .collect();
    assert_eq!(ssh, ["execute_container_command", "execute_node_command"]);
}

#[test]
fn every_builtin_tool_needs_the_scope_its_access_says() {
    let reg = builtin();
    for t in reg.tools() {
        let exec = [
            "execute_vm_command",
            "execute_container_command",
            "execute_node_command",
        ];
        let want = if exec.contains(&t.name) {
            Scope::Admin
        } else {
            Scope::for_access(t.least_access())
        };
        assert_eq!(t.required_scope(), want, "{}", t.name);
        assert_eq!(
            t.call_scope(None),
            Scope::for_access(t.access).max(want),
            "{}",
            t.name
        );
    }
    let exec = reg.get("execute_vm_command").unwrap();
    assert!(exec.admin_only);
    assert!(!Scope::Operate.allows(exec) && Scope::Admin.allows(exec));
    let msg = Scope::Operate.refusal(exec, None, Some("n8n"));
    assert!(
        msg.contains("`admin` scope") && msg.contains("n8n"),
        "{msg}"
    );
    let read = Scope::Read.view(&reg);
    assert!(read.tools().all(|t| t.least_access() == Access::Read));
    assert_eq!(Scope::Admin.view(&reg).len(), reg.len());
}

#[test]
fn the_api_tool_needs_the_scope_of_each_call() {
    use serde_json::json;
    let reg = builtin();
    let api = reg.get("proxmox_api").unwrap();
    assert_eq!(
        api.access,
        Access::Destructive,
        "its annotations say the worst"
    );
    assert_eq!(api.required_scope(), Scope::Read, "listed for read keys");
    let get = json!({"method": "GET", "path": "/version"});
    let post = json!({"method": "POST", "path": "/pools", "params": {"poolid": "x"}});
    assert!(Scope::Read.allows_call(api, Some(&get)));
    for scope in [Scope::Read, Scope::Operate] {
        assert!(!scope.allows_call(api, Some(&post)), "{scope}");
        assert!(
            !scope.allows_call(api, None),
            "{scope}: unreadable arguments"
        );
        assert!(
            !scope.allows_call(api, Some(&json!({"method": "PATCH"}))),
            "{scope}"
        );
    }
    assert!(Scope::Admin.allows_call(api, Some(&post)));
    let msg = Scope::Operate.refusal(api, Some(&post), Some("n8n"));
    assert!(msg.contains("`admin` scope for this call"), "{msg}");
    assert!(Scope::Read.view(&reg).get("proxmox_api").is_some());
}

#[test]
fn dynamic_toolsets_hold_what_a_session_may_turn_on_and_start_with_the_defaults() {
    let reg = builtin();
    let dynamic = |sets: Option<&[&str]>, tools: &[&str], read_only| ToolFilter {
        read_only,
        toolsets: sets.map(strings),
        tools: strings(tools),
        dynamic: true,
        ..ToolFilter::default()
    };
    let on = |s: &SessionToolsets| s.on().into_iter().collect::<Vec<_>>();
    let defaults: Vec<&str> = TOOLSETS
        .iter()
        .filter(|t| t.default)
        .map(|t| t.name)
        .collect();

    // No --toolsets: every toolset may be turned on; a session starts with the defaults.
    let r = dynamic(None, &[], false).apply(&reg).unwrap();
    assert_eq!(r.len(), reg.len());
    let s = r.new_session().unwrap();
    assert_eq!(on(&s), defaults);
    let allowed: Vec<&str> = s.allowed().keys().copied().collect();
    let mut want: Vec<&str> = TOOLSETS
        .iter()
        .map(|t| t.name)
        .filter(|n| *n != DYNAMIC)
        .collect();
    want.sort_unstable();
    assert_eq!(allowed, want);
    let snap = r.get("create_snapshot").unwrap();
    let enable = r.get("enable_toolset").unwrap();
    assert!(!r.offered(snap, Some(&s)) && r.offered(enable, Some(&s)));
    assert!(s.turn("snapshots", true) && !s.turn("snapshots", true));
    assert!(r.offered(snap, Some(&s)) && s.changes() == 1);
    // Without a session (REST): the starting toolsets, no toolset tools.
    assert!(!r.offered(snap, None) && !r.offered(enable, None));
    assert!(r.offered(r.get("get_vms").unwrap(), None));

    // --toolsets bounds what may be turned on; the start is the defaults among it.
    let r = dynamic(Some(&["snapshots", "core"]), &[], false)
        .apply(&reg)
        .unwrap();
    let s = r.new_session().unwrap();
    assert_eq!(on(&s), ["core"]);
    assert_eq!(
        s.allowed().keys().copied().collect::<Vec<_>>(),
        ["core", "snapshots"]
    );
    assert!(r.get("create_backup").is_none());

    // --tools alone: nothing on at start, those tools always offered.
    let r = dynamic(None, &["get_vms"], false).apply(&reg).unwrap();
    let s = r.new_session().unwrap();
    assert!(on(&s).is_empty());
    assert!(r.offered(r.get("get_vms").unwrap(), Some(&s)));
    assert!(!r.offered(r.get("get_nodes").unwrap(), Some(&s)));

    // Read-only: the toolsets' write tools are not held at all.
    let r = dynamic(None, &[], true).apply(&reg).unwrap();
    assert!(r.get("create_snapshot").is_none() && r.get("list_snapshots").is_some());
    assert!(r.get("enable_toolset").is_some());

    // Without dynamic toolsets, the toolset tools are never served, and their toolset is no
    // name for --toolsets.
    assert!(
        ToolFilter::default()
            .apply(&reg)
            .unwrap()
            .new_session()
            .is_none()
    );
    let e = ToolFilter {
        toolsets: Some(strings(&[DYNAMIC])),
        ..ToolFilter::default()
    }
    .apply(&reg)
    .unwrap_err();
    assert_eq!(e, FilterError::UnknownToolsets(strings(&[DYNAMIC])));
}
