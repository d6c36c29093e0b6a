//! Tests of the LXC routes (list, index, create, destroy, config, resize) through the dispatcher.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod config;

use crate::route::{Method, Role};
use crate::seed::ClusterBuilder;
use crate::state::{PowerState, config_bool};
use crate::testkit::{T0, assert_err, call, call_as, demo_sim, finish, g, get, sim_over, who};

const GIB: u64 = 1 << 30;
const DEBIAN: &str = "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst";

/// A failing call on the demo: method, path, params, status, message part.
type Case = (
    Method,
    &'static str,
    &'static [(&'static str, &'static str)],
    u16,
    &'static str,
);

fn check(cases: &[Case]) {
    for (m, path, params, status, msg) in cases {
        let mut sim = demo_sim();
        assert_err(call(&mut sim, *m, path, params), *status, msg);
    }
}

fn used(sim: &mut crate::Sim, node: &str, storage: &str) -> u64 {
    get(sim, &format!("/nodes/{node}/storage/{storage}/status"), &[])["used"]
        .as_u64()
        .unwrap()
}

#[test]
fn lxc_failures() {
    check(&[
        (
            Method::Get,
            "/nodes/pve01/lxc/999",
            &[],
            500,
            "Configuration file 'nodes/pve01/lxc/999.conf' does not exist",
        ),
        (
            Method::Get,
            "/nodes/pve02/lxc/200",
            &[],
            500,
            "Configuration file 'nodes/pve02/lxc/200.conf' does not exist",
        ),
        (
            Method::Get,
            "/nodes/pve01/lxc/100/config",
            &[],
            500,
            "Configuration file 'nodes/pve01/lxc/100.conf' does not exist",
        ),
        (
            Method::Post,
            "/nodes/pve01/lxc",
            &[("vmid", "200"), ("ostemplate", DEBIAN)],
            500,
            "unable to create CT 200 - CT 200 already exists on node 'pve01'",
        ),
        (
            Method::Post,
            "/nodes/pve02/lxc",
            &[("vmid", "100"), ("ostemplate", DEBIAN)],
            500,
            "unable to create CT 100 - VM 100 already exists on node 'pve01'",
        ),
        (
            Method::Post,
            "/nodes/pve01/lxc",
            &[("vmid", "300"), ("ostemplate", "local:vztmpl/nope.tar.zst")],
            500,
            "can't find file 'local:vztmpl/nope.tar.zst'",
        ),
        (
            Method::Post,
            "/nodes/pve01/lxc",
            &[("vmid", "300"), ("ostemplate", DEBIAN)],
            500,
            "storage 'local' does not support container directories",
        ),
        (
            Method::Post,
            "/nodes/pve01/lxc",
            &[
                ("vmid", "300"),
                ("ostemplate", DEBIAN),
                ("rootfs", "local-lvm:8"),
                ("net0", "bridge=vmbr0"),
            ],
            400,
            "net0: net0.name: property is missing",
        ),
        (
            Method::Post,
            "/nodes/pve01/lxc",
            &[
                ("vmid", "300"),
                ("ostemplate", DEBIAN),
                ("rootfs", "local-lvm:8"),
                ("memory", "8"),
            ],
            400,
            "memory: ",
        ),
        (
            Method::Post,
            "/nodes/pve01/lxc",
            &[
                ("vmid", "300"),
                ("ostemplate", DEBIAN),
                ("rootfs", "local-lvm:8"),
                ("hostname", "bad_host!"),
            ],
            400,
            "hostname: ",
        ),
        (
            Method::Post,
            "/nodes/pve01/lxc",
            &[
                ("vmid", "300"),
                ("ostemplate", DEBIAN),
                ("rootfs", "local-lvm:8"),
                ("mp0", "local-lvm:2"),
            ],
            400,
            "mp0: mp0.mp: property is missing",
        ),
        (
            Method::Post,
            "/nodes/pve01/lxc",
            &[
                ("vmid", "300"),
                ("ostemplate", DEBIAN),
                ("rootfs", "nfs-backup:8"),
            ],
            500,
            "storage 'nfs-backup' does not support container directories",
        ),
        (
            Method::Post,
            "/nodes/pve01/lxc",
            &[("vmid", "300"), ("ostemplate", DEBIAN), ("bogus", "1")],
            400,
            "bogus: property is not defined in schema",
        ),
        (
            Method::Post,
            "/nodes/pve01/lxc",
            &[("vmid", "300")],
            400,
            "ostemplate: property is missing",
        ),
        (
            Method::Delete,
            "/nodes/pve01/lxc/200",
            &[],
            500,
            "unable to destroy CT 200 - container is running",
        ),
        (
            Method::Put,
            "/nodes/pve01/lxc/200/config",
            &[("digest", "0123456789012345678901234567890123456789")],
            500,
            "detected modified configuration",
        ),
        (
            Method::Put,
            "/nodes/pve01/lxc/200/config",
            &[("memory", "1024"), ("delete", "memory")],
            400,
            "delete: at the same time",
        ),
        (
            Method::Put,
            "/nodes/pve01/lxc/200/config",
            &[("delete", "rootfs")],
            400,
            "delete: unable to delete required option 'rootfs'",
        ),
        (
            Method::Put,
            "/nodes/pve01/lxc/200/config",
            &[("cores", "0")],
            400,
            "cores: ",
        ),
        (
            Method::Put,
            "/nodes/pve01/lxc/200/config",
            &[("rootfs", "local-lvm:subvol-999-disk-0,size=8G")],
            400,
            "rootfs: changing the root volume",
        ),
        (
            Method::Get,
            "/nodes/pve01/lxc/200/config",
            &[("snapshot", "nosuch")],
            500,
            "snapshot 'nosuch' does not exist",
        ),
        (
            Method::Put,
            "/nodes/pve01/lxc/200/resize",
            &[("disk", "rootfs"), ("size", "4G")],
            500,
            "unable to shrink disk size",
        ),
        (
            Method::Put,
            "/nodes/pve01/lxc/200/resize",
            &[("disk", "mp5"), ("size", "+1G")],
            500,
            "disk 'mp5' does not exist",
        ),
        (
            Method::Put,
            "/nodes/pve01/lxc/200/resize",
            &[("disk", "rootfs"), ("size", "lots")],
            400,
            "size: ",
        ),
        (
            Method::Put,
            "/nodes/pve01/lxc/200/resize",
            &[("disk", "swap"), ("size", "+1G")],
            400,
            "disk: ",
        ),
    ]);
}

#[test]
fn list_and_index() {
    let mut sim = demo_sim();
    let list = get(&mut sim, "/nodes/pve01/lxc", &[]);
    let ids: Vec<u64> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["vmid"].as_u64().unwrap())
        .collect();
    assert_eq!(ids, [200, 205]);
    let dns = &list[0];
    assert_eq!(dns["type"], "lxc");
    assert_eq!(dns["name"], "dns-01");
    assert_eq!(dns["status"], "running");
    assert_eq!(dns["maxmem"].as_u64().unwrap(), 512 << 20);
    assert_eq!(dns["maxdisk"].as_u64().unwrap(), 8 * GIB);
    assert_eq!(dns["tags"], "infra;dns");
    assert_eq!(list[1]["status"], "stopped");
    assert_eq!(list[1]["uptime"], 0);
    let ops = who("ops@pve", Role::Vms(vec![205]));
    let mine = call_as(&mut sim, &ops, Method::Get, "/nodes/pve01/lxc", &[]).unwrap();
    assert_eq!(mine.as_array().unwrap().len(), 1);
    let idx = get(&mut sim, "/nodes/pve01/lxc/200", &[]);
    let dirs: Vec<&str> = idx
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["subdir"].as_str().unwrap())
        .collect();
    assert!(dirs.contains(&"config") && dirs.contains(&"resize") && dirs.contains(&"migrate"));
}

#[test]
fn create_container_as_a_task() {
    let mut sim = demo_sim();
    let before = used(&mut sim, "pve01", "local-lvm");
    let upid = call(
        &mut sim,
        Method::Post,
        "/nodes/pve01/lxc",
        &[
            ("vmid", "300"),
            ("ostemplate", DEBIAN),
            ("hostname", "new-ct"),
            ("memory", "1024"),
            ("swap", "256"),
            ("cores", "2"),
            ("rootfs", "local-lvm:8"),
            ("net0", "name=eth0,bridge=vmbr0,ip=dhcp,firewall=1"),
            ("password", "s3cret-pass"),
            ("ssh-public-keys", "ssh-ed25519 AAAA test"),
            ("unprivileged", "1"),
            ("features", "nesting=1"),
            ("tags", "test"),
            ("start", "1"),
        ],
    )
    .unwrap();
    assert!(
        upid.as_str().unwrap().contains(":vzcreate:300:root@pam:"),
        "{upid}"
    );
    // At once: the VMID is taken and locked, with no disk yet.
    assert_eq!(g(&sim, 300).lock().as_deref(), Some("create"));
    assert_eq!(get(&mut sim, "/cluster/nextid", &[]), "111");
    assert_err(
        call(
            &mut sim,
            Method::Post,
            "/nodes/pve01/lxc",
            &[
                ("vmid", "300"),
                ("ostemplate", DEBIAN),
                ("rootfs", "local-lvm:8"),
            ],
        ),
        500,
        "CT 300 already exists",
    );
    assert_eq!(used(&mut sim, "pve01", "local-lvm"), before);
    assert_eq!(finish(&mut sim, &upid), "OK");
    let ct = g(&sim, 300);
    assert_eq!(ct.lock(), None);
    assert_eq!(ct.status, PowerState::Running);
    let cfg = get(&mut sim, "/nodes/pve01/lxc/300/config", &[]);
    assert_eq!(cfg["rootfs"], "local-lvm:subvol-300-disk-0,size=8G");
    assert_eq!(cfg["hostname"], "new-ct");
    assert_eq!(cfg["memory"], 1024);
    assert_eq!(cfg["swap"], 256);
    assert_eq!(cfg["cores"], 2);
    assert_eq!(cfg["unprivileged"], 1);
    assert_eq!(cfg["ostype"], "debian");
    assert_eq!(cfg["arch"], "amd64");
    assert!(cfg.get("password").is_none() && cfg.get("ssh-public-keys").is_none());
    let net0 = cfg["net0"].as_str().unwrap();
    assert!(
        net0.starts_with("name=eth0,bridge=vmbr0,firewall=1,hwaddr=BC:24:11:"),
        "{net0}"
    );
    assert!(net0.ends_with(",ip=dhcp,type=veth"), "{net0}");
    assert_eq!(cfg["digest"].as_str().unwrap().len(), 40);
    assert_eq!(used(&mut sim, "pve01", "local-lvm"), before + 8 * GIB);
    let content = get(
        &mut sim,
        "/nodes/pve01/storage/local-lvm/content",
        &[("vmid", "300")],
    );
    assert_eq!(content[0]["volid"], "local-lvm:subvol-300-disk-0");
    assert_eq!(content[0]["content"], "rootdir");
    let res = get(&mut sim, "/cluster/resources", &[("type", "vm")]);
    let e = res
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == "lxc/300")
        .unwrap();
    assert_eq!(e["status"], "running");
    assert_eq!(e["maxmem"].as_u64().unwrap(), 1024 << 20);
}

#[test]
fn create_fails_on_a_full_storage() {
    let mut sim = sim_over(
        ClusterBuilder::new()
            .nodes(1)
            .vms(2)
            .storage_total("local-lvm", 70 * GIB)
            .epoch(T0)
            .build(),
    );
    let upid = call(
        &mut sim,
        Method::Post,
        "/nodes/pve01/lxc",
        &[
            ("vmid", "300"),
            ("ostemplate", DEBIAN),
            ("rootfs", "local-lvm:50"),
        ],
    )
    .unwrap();
    let status = finish(&mut sim, &upid);
    assert!(
        status.starts_with("unable to create CT 300 - lvcreate 'pve/subvol-300-disk-0' error:"),
        "{status}"
    );
    assert!(status.contains("insufficient free space"), "{status}");
    assert!(
        !sim.cluster.guests.contains_key(&300),
        "the half-made CT is removed"
    );
    assert!(!sim.cluster.volumes.iter().any(|v| v.vmid == Some(300)));
    // A smaller one fits.
    let upid = call(
        &mut sim,
        Method::Post,
        "/nodes/pve01/lxc",
        &[
            ("vmid", "300"),
            ("ostemplate", DEBIAN),
            ("rootfs", "local-lvm:4"),
        ],
    )
    .unwrap();
    assert_eq!(finish(&mut sim, &upid), "OK");
    assert_eq!(g(&sim, 300).status, PowerState::Stopped);
}

#[test]
fn create_needs_vm_allocate() {
    let mut sim = demo_sim();
    let ops = who("ops@pve", Role::Vms(vec![301]));
    let params = [
        ("vmid", "300"),
        ("ostemplate", DEBIAN),
        ("rootfs", "local-lvm:8"),
    ];
    assert_err(
        call_as(&mut sim, &ops, Method::Post, "/nodes/pve01/lxc", &params),
        403,
        "(/vms/300, VM.Allocate)",
    );
    let params = [
        ("vmid", "301"),
        ("ostemplate", DEBIAN),
        ("rootfs", "local-lvm:8"),
    ];
    let upid = call_as(&mut sim, &ops, Method::Post, "/nodes/pve01/lxc", &params).unwrap();
    assert!(upid.as_str().unwrap().contains(":vzcreate:301:ops@pve:"));
}

#[test]
fn destroy_container() {
    let mut sim = demo_sim();
    let before = used(&mut sim, "pve01", "local-lvm");
    let upid = call(
        &mut sim,
        Method::Delete,
        "/nodes/pve01/lxc/205",
        &[("purge", "1")],
    )
    .unwrap();
    assert!(upid.as_str().unwrap().contains(":vzdestroy:205:"));
    assert!(
        sim.cluster.guests.contains_key(&205),
        "still there until the task ends"
    );
    assert_eq!(finish(&mut sim, &upid), "OK");
    assert!(!sim.cluster.guests.contains_key(&205));
    assert_eq!(used(&mut sim, "pve01", "local-lvm"), before - 8 * GIB);
    assert_err(
        call(&mut sim, Method::Get, "/nodes/pve01/lxc/205/config", &[]),
        500,
        "does not exist",
    );
    // `force` destroys a running container.
    let upid = call(
        &mut sim,
        Method::Delete,
        "/nodes/pve01/lxc/200",
        &[("force", "1")],
    )
    .unwrap();
    assert_eq!(finish(&mut sim, &upid), "OK");
    assert!(!sim.cluster.guests.contains_key(&200));
}

#[test]
fn destroy_refuses_protected_and_locked() {
    let mut sim = demo_sim();
    call(
        &mut sim,
        Method::Put,
        "/nodes/pve01/lxc/205/config",
        &[("protection", "1")],
    )
    .unwrap();
    assert!(config_bool(&g(&sim, 205).config, "protection"));
    assert_err(
        call(&mut sim, Method::Delete, "/nodes/pve01/lxc/205", &[]),
        500,
        "can't remove CT 205 - protection mode enabled",
    );
    call(
        &mut sim,
        Method::Put,
        "/nodes/pve01/lxc/205/config",
        &[("delete", "protection"), ("lock", "backup")],
    )
    .unwrap();
    assert_err(
        call(&mut sim, Method::Delete, "/nodes/pve01/lxc/205", &[]),
        500,
        "CT is locked (backup)",
    );
    assert_err(
        call(
            &mut sim,
            Method::Put,
            "/nodes/pve01/lxc/205/config",
            &[("memory", "1024")],
        ),
        500,
        "CT is locked (backup)",
    );
}
