//! Guest operations: disks moved between storages and unlinked, container copies, cloud-init
//! changes and regeneration, suspend/resume/reboot of both kinds.

use super::{finish, list};
use crate::support::{Auth, TestSim, start};

/// Adds an images storage `scratch` on every node.
fn scratch(sim: &TestSim) {
    sim.server.with_sim(|s| {
        let mut st = s.cluster.storages["local-lvm"].clone();
        st.id = "scratch".into();
        st.kind = "dir".into();
        st.extra = [("path".to_string(), serde_json::json!("/srv/scratch"))].into();
        s.cluster.storages.insert("scratch".into(), st);
    });
}

#[tokio::test]
async fn disks_move_between_storages_and_unlink() {
    let sim = start().await;
    scratch(&sim);
    let config = sim.get("/nodes/pve01/qemu/101/config", &[]).await;
    let old = config.data()["scsi0"]
        .as_str()
        .unwrap()
        .split(',')
        .next()
        .unwrap()
        .to_string();
    let r = sim
        .post(
            "/nodes/pve01/qemu/101/move_disk",
            &[
                ("disk", "scsi0"),
                ("storage", "scratch"),
                ("format", "qcow2"),
            ],
        )
        .await;
    assert_eq!(finish(&sim, r.data()).await, "OK");
    let config = sim.get("/nodes/pve01/qemu/101/config", &[]).await;
    assert!(
        config.data()["scsi0"]
            .as_str()
            .unwrap()
            .starts_with("scratch:101/vm-101-disk-0.qcow2")
    );
    assert_eq!(
        config.data()["unused0"],
        old.as_str(),
        "the source is kept as unused"
    );
    assert_eq!(
        sim.get("/nodes/pve01/qemu/101/status/current", &[])
            .await
            .data()["status"],
        "running"
    );
    // Unlink the old volume for good, and move back deleting the source.
    let r = sim
        .call(
            "PUT",
            "/nodes/pve01/qemu/101/unlink",
            &Auth::token(),
            &[("idlist", "unused0")],
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let content = sim.get("/nodes/pve01/storage/local-lvm/content", &[]).await;
    assert!(
        !list(content.data())
            .iter()
            .any(|v| v["volid"] == old.as_str())
    );
    let r = sim
        .post(
            "/nodes/pve01/qemu/101/move_disk",
            &[("disk", "scsi0"), ("storage", "local-lvm"), ("delete", "1")],
        )
        .await;
    assert_eq!(finish(&sim, r.data()).await, "OK");
    let config = sim.get("/nodes/pve01/qemu/101/config", &[]).await;
    assert!(
        config.data()["scsi0"]
            .as_str()
            .unwrap()
            .starts_with("local-lvm:")
    );
    assert!(config.data().get("unused0").is_none());
    let same = sim
        .post(
            "/nodes/pve01/qemu/101/move_disk",
            &[("disk", "scsi0"), ("storage", "local-lvm")],
        )
        .await;
    assert_eq!(same.status, 500);
}

#[tokio::test]
async fn container_volumes_move_and_containers_copy() {
    let sim = start().await;
    scratch(&sim);
    let running = sim
        .post(
            "/nodes/pve01/lxc/200/move_volume",
            &[("volume", "rootfs"), ("storage", "scratch")],
        )
        .await;
    assert_eq!(
        running.message(),
        "cannot move volumes of a running container\n"
    );
    // CT 205 is stopped.
    let r = sim
        .post(
            "/nodes/pve01/lxc/205/move_volume",
            &[
                ("volume", "rootfs"),
                ("storage", "scratch"),
                ("delete", "1"),
            ],
        )
        .await;
    assert_eq!(finish(&sim, r.data()).await, "OK");
    let config = sim.get("/nodes/pve01/lxc/205/config", &[]).await;
    assert!(
        config.data()["rootfs"]
            .as_str()
            .unwrap()
            .starts_with("scratch:")
    );
    let clone = sim
        .post(
            "/nodes/pve01/lxc/205/clone",
            &[
                ("newid", "905"),
                ("hostname", "copy"),
                ("storage", "local-lvm"),
            ],
        )
        .await;
    assert_eq!(finish(&sim, clone.data()).await, "OK");
    let copy = sim.get("/nodes/pve01/lxc/905/config", &[]).await;
    assert_eq!(copy.data()["hostname"], "copy");
    assert_ne!(copy.data()["net0"], config.data()["net0"], "a new MAC");
    let t = sim.post("/nodes/pve01/lxc/905/template", &[]).await;
    assert_eq!(t.status, 200, "{:?}", t.body);
    let tconf = sim.get("/nodes/pve01/lxc/905/config", &[]).await;
    assert_eq!(tconf.data()["template"], 1);
    assert!(
        tconf.data()["rootfs"]
            .as_str()
            .unwrap()
            .contains("basevol-905-disk-")
    );
    let linked = sim
        .post(
            "/nodes/pve01/lxc/905/clone",
            &[("newid", "906"), ("full", "0")],
        )
        .await;
    assert_eq!(finish(&sim, linked.data()).await, "OK");
    let again = sim.post("/nodes/pve01/lxc/905/template", &[]).await;
    assert_eq!(
        again.message(),
        "you can't convert a template to a template\n"
    );
    let ifaces = sim.get("/nodes/pve01/lxc/200/interfaces", &[]).await;
    let names: Vec<&str> = list(ifaces.data())
        .iter()
        .map(|i| i["name"].as_str().unwrap())
        .collect();
    assert_eq!(names[..2], ["lo", "eth0"]);
    assert_eq!(
        sim.get("/nodes/pve01/lxc/205/interfaces", &[]).await.status,
        500
    );
}

#[tokio::test]
async fn cloud_init_changes_are_pending_until_regenerated() {
    let sim = start().await;
    let path = "/nodes/pve01/qemu/103/config";
    let root = sim.root().await;
    let r = sim
        .call(
            "PUT",
            path,
            &root,
            &[
                ("ide0", "local-lvm:cloudinit"),
                ("ciuser", "ops"),
                ("ipconfig0", "ip=10.10.0.50/24,gw=10.10.0.1"),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let pending = sim.get("/nodes/pve01/qemu/103/cloudinit", &[]).await;
    let ciuser = list(pending.data())
        .iter()
        .find(|e| e["key"] == "ciuser")
        .cloned()
        .unwrap();
    assert_eq!(ciuser["pending"], "ops");
    assert!(ciuser.get("value").is_none(), "not on the drive yet");
    let start_vm = sim.post("/nodes/pve01/qemu/103/status/start", &[]).await;
    assert_eq!(finish(&sim, start_vm.data()).await, "OK");
    let pending = sim.get("/nodes/pve01/qemu/103/cloudinit", &[]).await;
    assert!(
        list(pending.data())
            .iter()
            .all(|e| e.get("pending").is_none()),
        "a start regenerates"
    );
    sim.call("PUT", path, &root, &[("cipassword", "hunter22")])
        .await;
    let pending = sim.get("/nodes/pve01/qemu/103/cloudinit", &[]).await;
    let pw = list(pending.data())
        .iter()
        .find(|e| e["key"] == "cipassword")
        .cloned()
        .unwrap();
    assert_eq!(pw["pending"], "**********");
    let r = sim
        .call("PUT", "/nodes/pve01/qemu/103/cloudinit", &root, &[])
        .await;
    assert_eq!(r.status, 200);
    let pending = sim.get("/nodes/pve01/qemu/103/cloudinit", &[]).await;
    assert!(
        list(pending.data())
            .iter()
            .all(|e| e.get("pending").is_none())
    );
    let user = sim
        .get("/nodes/pve01/qemu/103/cloudinit/dump", &[("type", "user")])
        .await;
    let user = user.data().as_str().unwrap();
    assert!(user.starts_with("#cloud-config") && user.contains("user: ops"));
    assert!(!user.contains("hunter22"), "the password is stored hashed");
    let net = sim
        .get(
            "/nodes/pve01/qemu/103/cloudinit/dump",
            &[("type", "network")],
        )
        .await;
    assert!(net.data().as_str().unwrap().contains("10.10.0.50/24"));
    let none = sim
        .call("PUT", "/nodes/pve01/qemu/101/cloudinit", &root, &[])
        .await;
    assert_eq!(none.status, 500);
}

#[tokio::test]
async fn suspend_resume_and_reboot_both_kinds() {
    let sim = start().await;
    for (kind, vmid) in [("qemu", 101), ("lxc", 200)] {
        let base = format!("/nodes/pve01/{kind}/{vmid}/status");
        let r = sim.post(&format!("{base}/suspend"), &[]).await;
        assert_eq!(finish(&sim, r.data()).await, "OK", "{kind} suspend");
        let r = sim.post(&format!("{base}/resume"), &[]).await;
        assert_eq!(finish(&sim, r.data()).await, "OK", "{kind} resume");
        let before = sim.get(&format!("{base}/current"), &[]).await.data()["uptime"]
            .as_u64()
            .unwrap();
        let r = sim.post(&format!("{base}/reboot"), &[]).await;
        assert_eq!(finish(&sim, r.data()).await, "OK", "{kind} reboot");
        let after = sim.get(&format!("{base}/current"), &[]).await;
        assert_eq!(after.data()["status"], "running");
        assert!(
            after.data()["uptime"].as_u64().unwrap() < before,
            "{kind} rebooted"
        );
    }
    let r = sim.post("/nodes/pve01/qemu/101/status/suspend", &[]).await;
    let _ = finish(&sim, r.data()).await;
    let paused = sim.get("/nodes/pve01/qemu/101/status/current", &[]).await;
    assert_eq!(paused.data()["qmpstatus"], "paused");
    // Resizing grows a disk of either kind.
    let r = sim
        .call(
            "PUT",
            "/nodes/pve01/lxc/200/resize",
            &Auth::token(),
            &[("disk", "rootfs"), ("size", "+2G")],
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
}
