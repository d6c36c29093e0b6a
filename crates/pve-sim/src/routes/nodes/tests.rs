//! Tests of the node routes through the dispatcher, on the demo cluster and built shapes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::Value;

use crate::route::{Method, Role};
use crate::seed::ClusterBuilder;
use crate::testkit::{T0, advance, assert_err, call, call_as, demo_sim, get, sim_over, who};

/// One failing call: path, expected status, part of the message.
fn check(path: &str, status: u16, msg: &str) {
    let mut sim = sim_over(
        ClusterBuilder::new()
            .nodes(3)
            .vms(3)
            .node_offline("pve03")
            .epoch(T0)
            .build(),
    );
    assert_err(call(&mut sim, Method::Get, path, &[]), status, msg);
}

#[test]
fn node_failures() {
    check("/nodes/pve09/status", 500, "hostname lookup 'pve09' failed");
    check("/nodes/pve03/status", 595, "Connection refused");
    check("/nodes/bad_name!/status", 400, "node: invalid format");
}

#[test]
fn nodes_list_has_figures_for_online_nodes() {
    let mut sim = sim_over(
        ClusterBuilder::new()
            .nodes(3)
            .vms(6)
            .node_offline("pve02")
            .epoch(T0)
            .build(),
    );
    let list = get(&mut sim, "/nodes", &[]);
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 3);
    let pve01 = &list[0];
    assert_eq!(pve01["node"], "pve01");
    assert_eq!(pve01["id"], "node/pve01");
    assert_eq!(pve01["type"], "node");
    assert_eq!(pve01["status"], "online");
    assert_eq!(pve01["level"], "");
    assert!(pve01["ssl_fingerprint"].as_str().unwrap().len() == 95);
    for k in [
        "cpu", "maxcpu", "mem", "maxmem", "disk", "maxdisk", "uptime",
    ] {
        assert!(pve01[k].is_number(), "{k}");
    }
    assert!(pve01["mem"].as_u64() < pve01["maxmem"].as_u64());
    let pve02 = &list[1];
    assert_eq!(pve02["status"], "offline");
    assert!(
        pve02.get("cpu").is_none() && pve02.get("mem").is_none() && pve02.get("uptime").is_none()
    );
    // Without Sys.Audit the nodes are listed without figures.
    let nobody = who("nobody@pve", Role::None);
    let list = call_as(&mut sim, &nobody, Method::Get, "/nodes", &[]).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 3);
    assert!(list[0].get("mem").is_none());
    assert_eq!(list[0]["status"], "online");
}

#[test]
fn node_status_shape() {
    let mut sim = demo_sim();
    let s = get(&mut sim, "/nodes/pve01/status", &[]);
    assert!(
        s["pveversion"]
            .as_str()
            .unwrap()
            .starts_with("pve-manager/9.1.")
    );
    assert!(
        s["kversion"]
            .as_str()
            .unwrap()
            .starts_with("Linux 6.14.8-2-pve")
    );
    assert_eq!(s["cpuinfo"]["model"], "AMD EPYC 7302P 16-Core Processor");
    assert_eq!(s["cpuinfo"]["cpus"], 32);
    assert_eq!(s["cpuinfo"]["sockets"], 1);
    let load = s["loadavg"].as_array().unwrap();
    assert_eq!(load.len(), 3);
    assert!(load.iter().all(|l| {
        l.as_str()
            .is_some_and(|t| t.parse::<f64>().is_ok() && t.contains('.'))
    }));
    let total = s["memory"]["total"].as_u64().unwrap();
    let used = s["memory"]["used"].as_u64().unwrap();
    assert!(
        used < total && used > 16 << 30,
        "running guests count: {used}"
    );
    assert_eq!(s["memory"]["free"].as_u64().unwrap(), total - used);
    assert!(s["swap"]["total"].as_u64().unwrap() >= s["swap"]["used"].as_u64().unwrap());
    assert!(s["rootfs"]["used"].as_u64().unwrap() < s["rootfs"]["total"].as_u64().unwrap());
    assert_eq!(s["current-kernel"]["release"], "6.14.8-2-pve");
    assert_eq!(s["current-kernel"]["sysname"], "Linux");
    assert_eq!(s["boot-info"]["mode"], "efi");
    assert_eq!(s["ksm"]["shared"], 0);
    let cpu = s["cpu"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&cpu));
    assert!(s["uptime"].as_u64().unwrap() > 86_400);
    // Figures move over time.
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..20 {
        advance(&mut sim, 17.0);
        let s = get(&mut sim, "/nodes/pve01/status", &[]);
        seen.insert(s["loadavg"][0].as_str().unwrap().to_string());
    }
    assert!(seen.len() > 3, "{seen:?}");
}

#[test]
fn node_status_needs_sys_audit() {
    let mut sim = demo_sim();
    let nobody = who("nobody@pve", Role::None);
    assert_err(
        call_as(&mut sim, &nobody, Method::Get, "/nodes/pve01/status", &[]),
        403,
        "Sys.Audit",
    );
    let auditor = who("audit@pve", Role::Auditor);
    assert!(call_as(&mut sim, &auditor, Method::Get, "/nodes/pve01/status", &[]).is_ok());
}

#[test]
fn node_index_lists_subdirs() {
    let mut sim = demo_sim();
    let idx = get(&mut sim, "/nodes/pve02", &[]);
    let names: Vec<&str> = idx
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["name"].as_str())
        .collect();
    for want in ["qemu", "lxc", "status", "storage", "tasks"] {
        assert!(names.contains(&want), "{want}");
    }
    assert!(idx.as_array().unwrap().iter().all(Value::is_object));
}
