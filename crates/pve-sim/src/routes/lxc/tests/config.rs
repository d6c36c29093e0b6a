//! Tests of the LXC config routes (read, update, mount points) and of disk resize.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::Value;

use crate::route::Method;
use crate::seed::ClusterBuilder;
use crate::testkit::{T0, advance, call, demo_sim, exitstatus, finish, g, get, sim_over};

const GIB: u64 = 1 << 30;

fn used(sim: &mut crate::Sim, node: &str, storage: &str) -> u64 {
    get(sim, &format!("/nodes/{node}/storage/{storage}/status"), &[])["used"]
        .as_u64()
        .unwrap()
}

#[test]
fn config_read_and_update() {
    let mut sim = demo_sim();
    let cfg = get(&mut sim, "/nodes/pve02/lxc/201/config", &[]);
    let digest = cfg["digest"].as_str().unwrap().to_string();
    assert_eq!(cfg["hostname"], "nginx-proxy");
    assert_eq!(cfg["rootfs"], "local-lvm:subvol-201-disk-0,size=8G");
    assert_eq!(
        get(&mut sim, "/nodes/pve02/lxc/201/config", &[("current", "1")]),
        cfg
    );
    let old_mac = crate::guest::prop(cfg["net0"].as_str().unwrap(), "hwaddr")
        .unwrap()
        .to_string();
    let r = call(
        &mut sim,
        Method::Put,
        "/nodes/pve02/lxc/201/config",
        &[
            ("memory", "2048"),
            ("cores", "4"),
            ("description", "reverse proxy"),
            ("onboot", "1"),
            ("net0", "name=eth0,bridge=vmbr1,ip=10.0.0.5/24,gw=10.0.0.1"),
            ("net1", "name=eth1,bridge=vmbr0,ip=dhcp"),
            ("digest", &digest),
        ],
    )
    .unwrap();
    assert_eq!(r, Value::Null);
    let cfg = get(&mut sim, "/nodes/pve02/lxc/201/config", &[]);
    assert_ne!(cfg["digest"], digest.as_str());
    assert_eq!(cfg["memory"], 2048);
    assert_eq!(cfg["cores"], 4);
    assert_eq!(cfg["onboot"], 1);
    assert_eq!(cfg["description"], "reverse proxy");
    let net0 = cfg["net0"].as_str().unwrap();
    assert_eq!(
        net0,
        format!("name=eth0,bridge=vmbr1,gw=10.0.0.1,hwaddr={old_mac},ip=10.0.0.5/24,type=veth")
    );
    assert!(cfg["net1"].as_str().unwrap().contains("hwaddr=BC:24:11:"));
    // The running container shows the new figures at once.
    let st = get(&mut sim, "/nodes/pve02/lxc/201/status/current", &[]);
    assert_eq!(st["maxmem"].as_u64().unwrap(), 2048 << 20);
    assert_eq!(st["cpus"], 4);
    call(
        &mut sim,
        Method::Put,
        "/nodes/pve02/lxc/201/config",
        &[("delete", "description,net1")],
    )
    .unwrap();
    let cfg = get(&mut sim, "/nodes/pve02/lxc/201/config", &[]);
    assert!(cfg.get("description").is_none() && cfg.get("net1").is_none());
}

#[test]
fn mount_points_allocate_and_free() {
    let mut sim = demo_sim();
    let before = used(&mut sim, "pve02", "local-lvm");
    call(
        &mut sim,
        Method::Put,
        "/nodes/pve02/lxc/202/config",
        &[("mp0", "local-lvm:4,mp=/data,backup=1")],
    )
    .unwrap();
    let cfg = get(&mut sim, "/nodes/pve02/lxc/202/config", &[]);
    assert_eq!(
        cfg["mp0"],
        "local-lvm:subvol-202-disk-1,backup=1,mp=/data,size=4G"
    );
    assert_eq!(used(&mut sim, "pve02", "local-lvm"), before + 4 * GIB);
    call(
        &mut sim,
        Method::Put,
        "/nodes/pve02/lxc/202/config",
        &[("delete", "mp0")],
    )
    .unwrap();
    let cfg = get(&mut sim, "/nodes/pve02/lxc/202/config", &[]);
    assert_eq!(cfg["unused0"], "local-lvm:subvol-202-disk-1");
    assert_eq!(
        used(&mut sim, "pve02", "local-lvm"),
        before + 4 * GIB,
        "unused disks keep their space"
    );
    call(
        &mut sim,
        Method::Put,
        "/nodes/pve02/lxc/202/config",
        &[("delete", "unused0")],
    )
    .unwrap();
    assert_eq!(used(&mut sim, "pve02", "local-lvm"), before);
    assert!(
        get(&mut sim, "/nodes/pve02/lxc/202/config", &[])
            .get("unused0")
            .is_none()
    );
}

#[test]
fn resize_is_a_task() {
    let mut sim = demo_sim();
    let before = used(&mut sim, "pve01", "local-lvm");
    let upid = call(
        &mut sim,
        Method::Put,
        "/nodes/pve01/lxc/200/resize",
        &[("disk", "rootfs"), ("size", "+2G")],
    )
    .unwrap();
    assert!(upid.as_str().unwrap().contains(":resize:200:"));
    assert_eq!(
        g(&sim, 200).config["rootfs"],
        "local-lvm:subvol-200-disk-0,size=8G",
        "unchanged until the task ends"
    );
    assert_eq!(finish(&mut sim, &upid), "OK");
    assert_eq!(
        g(&sim, 200).config["rootfs"],
        "local-lvm:subvol-200-disk-0,size=10G"
    );
    assert_eq!(used(&mut sim, "pve01", "local-lvm"), before + 2 * GIB);
    assert_eq!(
        get(&mut sim, "/nodes/pve01/lxc/200/status/current", &[])["maxdisk"]
            .as_u64()
            .unwrap(),
        10 * GIB
    );
    // An absolute size; the same size again does nothing.
    let upid = call(
        &mut sim,
        Method::Put,
        "/nodes/pve01/lxc/200/resize",
        &[("disk", "rootfs"), ("size", "12G")],
    )
    .unwrap();
    advance(&mut sim, 30.0);
    assert_eq!(exitstatus(&sim, &upid).as_deref(), Some("OK"));
    let same = call(
        &mut sim,
        Method::Put,
        "/nodes/pve01/lxc/200/resize",
        &[("disk", "rootfs"), ("size", "12G")],
    )
    .unwrap();
    assert_eq!(same, Value::Null);
}

#[test]
fn resize_fails_when_the_storage_is_full() {
    let mut sim = sim_over(
        ClusterBuilder::new()
            .nodes(1)
            .cts(1)
            .storage_total("local-lvm", 20 * GIB)
            .epoch(T0)
            .build(),
    );
    let vmid = *sim.cluster.guests.keys().next().unwrap();
    let path = format!("/nodes/pve01/lxc/{vmid}/resize");
    let upid = call(
        &mut sim,
        Method::Put,
        &path,
        &[("disk", "rootfs"), ("size", "+100G")],
    )
    .unwrap();
    let status = finish(&mut sim, &upid);
    assert!(status.starts_with("lvextend 'pve/subvol-"), "{status}");
    assert!(
        g(&sim, vmid).config["rootfs"]
            .as_str()
            .unwrap()
            .ends_with("size=8G")
    );
}
