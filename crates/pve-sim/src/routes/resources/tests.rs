//! Tests of `/cluster/resources` and `/cluster/nextid` through the dispatcher.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::Value;

use crate::route::{Method, Role};
use crate::seed::ClusterBuilder;
use crate::testkit::{T0, assert_err, call_as, demo_sim, get, sim_over, who};

fn by_id<'a>(list: &'a Value, id: &str) -> &'a Value {
    list.as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == id)
        .unwrap_or_else(|| panic!("{id} missing"))
}

/// One guest entry expectation: id, field, value (`null` means the field must be absent).
fn check(list: &Value, id: &str, field: &str, want: Value) {
    let e = by_id(list, id);
    match want {
        Value::Null => assert!(e.get(field).is_none(), "{id}.{field} should be absent: {e}"),
        w => assert_eq!(e[field], w, "{id}.{field}"),
    }
}

#[test]
fn vm_resources_of_the_demo() {
    let mut sim = demo_sim();
    let list = get(&mut sim, "/cluster/resources", &[("type", "vm")]);
    let arr = list.as_array().unwrap();
    assert_eq!(arr.len(), sim.cluster.guests.len());
    assert!(
        arr.iter()
            .all(|e| e["type"] == "qemu" || e["type"] == "lxc")
    );
    let rows: &[(&str, &str, Value)] = &[
        ("qemu/103", "status", "stopped".into()),
        ("qemu/103", "node", "pve01".into()),
        ("qemu/103", "cpu", 0.into()),
        ("qemu/103", "mem", 0.into()),
        ("qemu/103", "uptime", 0.into()),
        ("qemu/103", "maxmem", (4096u64 << 20).into()),
        ("qemu/103", "lock", Value::Null),
        ("qemu/100", "status", "running".into()),
        ("qemu/100", "name", "web-01".into()),
        ("qemu/100", "vmid", 100.into()),
        ("qemu/100", "tags", "prod;web".into()),
        ("qemu/100", "pool", "production".into()),
        ("qemu/100", "template", 0.into()),
        ("qemu/100", "maxcpu", 4.into()),
        ("qemu/100", "maxdisk", (32u64 << 30).into()),
        ("qemu/102", "hastate", "started".into()),
        ("qemu/102", "maxdisk", (264u64 << 30).into()),
        ("qemu/105", "lock", "backup".into()),
        ("qemu/9000", "template", 1.into()),
        ("qemu/9000", "status", "stopped".into()),
        ("lxc/200", "type", "lxc".into()),
        ("lxc/200", "name", "dns-01".into()),
        ("lxc/200", "maxdisk", (8u64 << 30).into()),
        ("lxc/205", "status", "stopped".into()),
        ("lxc/205", "hastate", Value::Null),
    ];
    for (id, field, want) in rows {
        check(&list, id, field, want.clone());
    }
    // Running guests have believable figures.
    let web = by_id(&list, "qemu/100");
    assert!(web["cpu"].as_f64().unwrap() > 0.0 && web["cpu"].as_f64().unwrap() <= 1.0);
    assert!(web["mem"].as_u64().unwrap() > 0 && web["mem"].as_u64() < web["maxmem"].as_u64());
    assert!(web["uptime"].as_u64().unwrap() > 0 && web["netin"].as_u64().unwrap() > 0);
    let ct = by_id(&list, "lxc/200");
    assert!(
        ct["disk"].as_u64().unwrap() > 0,
        "containers report disk use"
    );
    // No nulls anywhere.
    assert!(
        arr.iter()
            .all(|e| e.as_object().unwrap().values().all(|v| !v.is_null()))
    );
}

#[test]
fn storage_node_and_sdn_filters() {
    let mut sim = demo_sim();
    let st = get(&mut sim, "/cluster/resources", &[("type", "storage")]);
    let arr = st.as_array().unwrap();
    assert_eq!(arr.len(), 9, "3 storages x 3 nodes");
    let lvm = by_id(&st, "storage/pve01/local-lvm");
    assert_eq!(lvm["plugintype"], "lvmthin");
    assert_eq!(lvm["content"], "images,rootdir");
    assert_eq!(lvm["shared"], 0);
    assert_eq!(lvm["status"], "available");
    let used: u64 = sim
        .cluster
        .volumes
        .iter()
        .filter(|v| v.storage == "local-lvm" && v.node == "pve01")
        .map(|v| v.size)
        .sum();
    assert_eq!(lvm["disk"].as_u64().unwrap(), used);
    let nfs1 = by_id(&st, "storage/pve01/nfs-backup");
    let nfs3 = by_id(&st, "storage/pve03/nfs-backup");
    assert_eq!(nfs1["shared"], 1);
    assert_eq!(nfs1["disk"], nfs3["disk"]);
    let nodes = get(&mut sim, "/cluster/resources", &[("type", "node")]);
    assert_eq!(nodes.as_array().unwrap().len(), 3);
    assert_eq!(by_id(&nodes, "node/pve02")["status"], "online");
    assert!(by_id(&nodes, "node/pve02")["maxmem"].as_u64().unwrap() > 200 << 30);
    assert_eq!(
        get(&mut sim, "/cluster/resources", &[("type", "sdn")]),
        Value::Array(vec![])
    );
    let all = get(&mut sim, "/cluster/resources", &[]);
    let n = all.as_array().unwrap().len();
    assert_eq!(
        n,
        sim.cluster.guests.len() + 3 + 9 + 2,
        "guests, nodes, storages, pools (one without members)"
    );
    assert_eq!(by_id(&all, "/pool/production")["type"], "pool");
    assert_eq!(by_id(&all, "/pool/lab")["type"], "pool");
    assert_err(
        crate::testkit::call(
            &mut sim,
            Method::Get,
            "/cluster/resources",
            &[("type", "pool")],
        ),
        400,
        "type: ",
    );
}

#[test]
fn resources_follow_permissions() {
    let mut sim = demo_sim();
    let some = who("ops@pve", Role::Vms(vec![100, 200]));
    let list = call_as(
        &mut sim,
        &some,
        Method::Get,
        "/cluster/resources",
        &[("type", "vm")],
    )
    .unwrap();
    let ids: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["qemu/100", "lxc/200"]);
    let pool = who("prod@pve", Role::Pool("production".into()));
    let list = call_as(
        &mut sim,
        &pool,
        Method::Get,
        "/cluster/resources",
        &[("type", "vm")],
    )
    .unwrap();
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .all(|e| e["pool"] == "production")
    );
    assert_eq!(list.as_array().unwrap().len(), 7);
    let nobody = who("nobody@pve", Role::None);
    let list = call_as(&mut sim, &nobody, Method::Get, "/cluster/resources", &[]).unwrap();
    let arr = list.as_array().unwrap();
    assert!(arr.iter().all(|e| e["type"] == "node"), "{list}");
    assert!(arr.iter().all(|e| e.get("mem").is_none()));
}

#[test]
fn resources_follow_changes_at_once() {
    let mut sim = demo_sim();
    let maxmem = |sim: &mut crate::Sim| {
        let list = get(sim, "/cluster/resources", &[("type", "vm")]);
        by_id(&list, "lxc/201")["maxmem"].as_u64().unwrap()
    };
    assert_eq!(maxmem(&mut sim), 1024 << 20);
    crate::testkit::call(
        &mut sim,
        Method::Put,
        "/nodes/pve02/lxc/201/config",
        &[("memory", "3072")],
    )
    .unwrap();
    assert_eq!(maxmem(&mut sim), 3072 << 20, "a write call shows at once");
    let upid = crate::testkit::call(
        &mut sim,
        Method::Put,
        "/nodes/pve02/lxc/201/resize",
        &[("disk", "rootfs"), ("size", "+1G")],
    )
    .unwrap();
    crate::testkit::finish(&mut sim, &upid);
    let list = get(&mut sim, "/cluster/resources", &[("type", "vm")]);
    assert_eq!(
        by_id(&list, "lxc/201")["maxdisk"].as_u64().unwrap(),
        9 << 30,
        "a task's effect shows"
    );
    sim.cluster
        .guests
        .get_mut(&201)
        .unwrap()
        .config
        .insert("tags".into(), "edited".into());
    sim.facts.invalidate();
    let list = get(&mut sim, "/cluster/resources", &[("type", "vm")]);
    assert_eq!(by_id(&list, "lxc/201")["tags"], "edited");
}

#[test]
fn node_figures_agree_with_node_status() {
    let mut sim = demo_sim();
    let nodes = get(&mut sim, "/cluster/resources", &[("type", "node")]);
    let all = get(&mut sim, "/cluster/resources", &[]);
    for n in ["pve01", "pve02", "pve03"] {
        let st = get(&mut sim, &format!("/nodes/{n}/status"), &[]);
        let e = by_id(&nodes, &format!("node/{n}"));
        assert_eq!(e["mem"], st["memory"]["used"], "{n}");
        assert_eq!(e["cpu"], st["cpu"], "{n}");
        assert_eq!(by_id(&all, &format!("node/{n}"))["mem"], e["mem"], "{n}");
    }
}

#[test]
fn offline_node_guests_are_unknown() {
    let mut sim = sim_over(
        ClusterBuilder::new()
            .nodes(3)
            .vms(6)
            .running_fraction(1.0)
            .node_offline("pve02")
            .epoch(T0)
            .build(),
    );
    let list = get(&mut sim, "/cluster/resources", &[]);
    for e in list.as_array().unwrap() {
        if e["node"] == "pve02" {
            assert_ne!(e["status"], "running", "{e}");
            assert!(e.get("cpu").is_none_or(|c| c == 0.0));
        }
    }
    assert_eq!(by_id(&list, "node/pve02")["status"], "offline");
    assert_eq!(by_id(&list, "storage/pve02/local")["status"], "unknown");
}

#[test]
fn ten_thousand_guests_listed() {
    let mut sim = sim_over(
        ClusterBuilder::new()
            .nodes(50)
            .vms(8_000)
            .cts(2_000)
            .epoch(T0)
            .build(),
    );
    let list = get(&mut sim, "/cluster/resources", &[("type", "vm")]);
    let arr = list.as_array().unwrap();
    assert_eq!(arr.len(), 10_000);
    assert!(
        arr.iter()
            .all(|e| (0.0..=1.0).contains(&e["cpu"].as_f64().unwrap()))
    );
    let nodes = get(&mut sim, "/cluster/resources", &[("type", "node")]);
    for n in nodes.as_array().unwrap() {
        assert!(n["mem"].as_u64() < n["maxmem"].as_u64(), "{n}");
    }
}

#[test]
fn nextid() {
    let mut sim = demo_sim();
    assert_eq!(get(&mut sim, "/cluster/nextid", &[]), "111");
    assert_eq!(get(&mut sim, "/cluster/nextid", &[("vmid", "150")]), "150");
    let r = crate::testkit::call(&mut sim, Method::Get, "/cluster/nextid", &[("vmid", "100")]);
    let e = r.unwrap_err();
    assert_eq!(e.status, 400);
    assert_eq!(e.errors.unwrap()["vmid"], "VM 100 already exists");
    assert_err(
        crate::testkit::call(&mut sim, Method::Get, "/cluster/nextid", &[("vmid", "99")]),
        400,
        "vmid: ",
    );
    let mut empty = sim_over(ClusterBuilder::new().epoch(T0).build());
    assert_eq!(get(&mut empty, "/cluster/nextid", &[]), "100");
}
