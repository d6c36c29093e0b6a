//! A node's network, services, updates and appliance index.

use super::{finish, list};
use crate::support::start;

#[tokio::test]
async fn network_has_the_management_bridge_and_a_vlan_aware_one() {
    let sim = start().await;
    let status = sim.get("/cluster/status", &[]).await;
    let ip = list(status.data())
        .iter()
        .find(|e| e["name"] == "pve02")
        .unwrap()["ip"]
        .as_str()
        .unwrap()
        .to_string();
    let net = sim.get("/nodes/pve02/network", &[]).await;
    let ifaces = list(net.data());
    let vmbr0 = ifaces.iter().find(|i| i["iface"] == "vmbr0").unwrap();
    assert_eq!(vmbr0["type"], "bridge");
    assert_eq!(vmbr0["cidr"], format!("{ip}/24"));
    assert_eq!(vmbr0["bridge_ports"], "eno1");
    assert!(vmbr0["gateway"].as_str().unwrap().ends_with(".1"));
    let vmbr1 = ifaces.iter().find(|i| i["iface"] == "vmbr1").unwrap();
    assert_eq!(vmbr1["bridge_vlan_aware"], 1);
    let bridges = sim
        .get("/nodes/pve02/network", &[("type", "any_bridge")])
        .await;
    assert_eq!(list(bridges.data()).len(), 2);
    let one = sim.get("/nodes/pve02/network/vmbr1", &[]).await;
    assert_eq!(one.data()["bridge_vids"], "2-4094");
    assert_eq!(sim.get("/nodes/pve02/network/vmbr9", &[]).await.status, 500);
    // The guests' NICs are on these bridges.
    let config = sim.get("/nodes/pve01/qemu/100/config", &[]).await;
    assert!(
        config.data()["net0"]
            .as_str()
            .unwrap()
            .contains("bridge=vmbr0")
    );
}

#[tokio::test]
async fn services_start_stop_and_report_their_state() {
    let sim = start().await;
    let services = sim.get("/nodes/pve01/services", &[]).await;
    let proxy = list(services.data())
        .iter()
        .find(|s| s["service"] == "pveproxy")
        .cloned()
        .unwrap();
    assert_eq!(
        (proxy["state"].as_str(), proxy["active-state"].as_str()),
        (Some("running"), Some("active"))
    );
    let stop = sim
        .post("/nodes/pve01/services/pvescheduler/stop", &[])
        .await;
    assert!(
        stop.data()
            .as_str()
            .unwrap()
            .contains(":srvstop:pvescheduler:")
    );
    assert_eq!(finish(&sim, stop.data()).await, "OK");
    let state = sim
        .get("/nodes/pve01/services/pvescheduler/state", &[])
        .await;
    assert_eq!(state.data()["state"], "dead");
    let other = sim
        .get("/nodes/pve02/services/pvescheduler/state", &[])
        .await;
    assert_eq!(other.data()["state"], "running", "only pve01's stopped");
    let reload = sim
        .post("/nodes/pve01/services/pvescheduler/reload", &[])
        .await;
    assert!(finish(&sim, reload.data()).await.contains("failed"));
    let start_it = sim
        .post("/nodes/pve01/services/pvescheduler/start", &[])
        .await;
    assert_eq!(finish(&sim, start_it.data()).await, "OK");
    let state = sim
        .get("/nodes/pve01/services/pvescheduler/state", &[])
        .await;
    assert_eq!(state.data()["state"], "running");
    let bad = sim.post("/nodes/pve01/services/nginx/start", &[]).await;
    assert_eq!(bad.status, 400);
}

#[tokio::test]
async fn updates_include_a_security_fix() {
    let sim = start().await;
    let updates = sim.get("/nodes/pve03/apt/update", &[]).await;
    let updates = list(updates.data());
    assert!(updates.len() >= 3);
    let security: Vec<&serde_json::Value> = updates
        .iter()
        .filter(|u| u["Version"].as_str().unwrap().contains("+deb13u"))
        .collect();
    assert!(!security.is_empty());
    assert!(
        security
            .iter()
            .any(|u| u["Description"].as_str().unwrap().contains("CVE-"))
    );
    assert!(
        updates
            .iter()
            .any(|u| u["Package"] == "pve-manager" && u["Origin"] == "Proxmox")
    );
    let refresh = sim.post("/nodes/pve03/apt/update", &[]).await;
    assert_eq!(finish(&sim, refresh.data()).await, "OK");
    let versions = sim.get("/nodes/pve03/apt/versions", &[]).await;
    let first = &list(versions.data())[0];
    assert!(first["RunningKernel"].as_str().unwrap().ends_with("-pve"));
}

#[tokio::test]
async fn appliances_download_to_a_template_storage() {
    let sim = start().await;
    let index = sim.get("/nodes/pve01/aplinfo", &[]).await;
    let templates = list(index.data());
    let t = templates.iter().find(|t| t["os"] == "debian-13").unwrap()["template"]
        .as_str()
        .unwrap()
        .to_string();
    let r = sim
        .post(
            "/nodes/pve01/aplinfo",
            &[("storage", "local"), ("template", &t)],
        )
        .await;
    assert_eq!(finish(&sim, r.data()).await, "OK");
    let content = sim
        .get(
            "/nodes/pve01/storage/local/content",
            &[("content", "vztmpl")],
        )
        .await;
    assert!(
        list(content.data())
            .iter()
            .any(|v| v["volid"] == format!("local:vztmpl/{t}"))
    );
    let wrong = sim
        .post(
            "/nodes/pve01/aplinfo",
            &[("storage", "local-lvm"), ("template", &t)],
        )
        .await;
    assert_eq!(wrong.status, 500);
    assert!(wrong.message().contains("does not support"));
}

#[tokio::test]
async fn download_url_fetches_an_iso_as_a_task() {
    let sim = start().await;
    let path = "/nodes/pve01/storage/local/download-url";
    let r = sim
        .post(
            path,
            &[
                ("content", "iso"),
                ("filename", "alpine-3.22.iso"),
                ("url", "https://dl.example.com/alpine-3.22.iso"),
                ("checksum", "abc123"),
                ("checksum-algorithm", "sha256"),
            ],
        )
        .await;
    assert_eq!(finish(&sim, r.data()).await, "OK");
    let volume = sim
        .get(
            "/nodes/pve01/storage/local/content/local:iso/alpine-3.22.iso",
            &[],
        )
        .await;
    assert_eq!(volume.status, 200, "{:?}", volume.body);
    let again = sim
        .post(
            path,
            &[
                ("content", "iso"),
                ("filename", "alpine-3.22.iso"),
                ("url", "https://dl.example.com/x.iso"),
            ],
        )
        .await;
    assert_eq!(again.status, 500);
    let ext = sim
        .post(
            path,
            &[
                ("content", "iso"),
                ("filename", "x.exe"),
                ("url", "https://a.example/x"),
            ],
        )
        .await;
    assert_eq!(ext.status, 400);
    let half = sim
        .post(
            path,
            &[
                ("content", "iso"),
                ("filename", "y.iso"),
                ("url", "https://a.example/y"),
                ("checksum", "abc"),
            ],
        )
        .await;
    assert_eq!(
        half.error("checksum-algorithm"),
        "missing property - 'checksum' requires this property"
    );
}
