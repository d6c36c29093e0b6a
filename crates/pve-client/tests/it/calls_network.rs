//! Typed calls on networks, the firewall, disk moves, downloads and the appliance index.

use pve_client::GuestKind;
use pve_client::api::disks::{DiskMove, DownloadUrl};
use pve_client::api::network::FirewallLevel;

use crate::calls_guests::ok_task;
use crate::support::env;

#[tokio::test]
async fn network_and_firewall_reads() {
    let env = env().await;
    let c = &env.client;
    let all = c.node_network("pve01", None).await.unwrap();
    assert!(all.iter().any(|i| i.iface == "vmbr0" && i.cidr.is_some()));
    let bridges = c.node_network("pve01", Some("any_bridge")).await.unwrap();
    assert!(bridges.iter().all(|i| i.kind == "bridge") && !bridges.is_empty());
    assert!(bridges.iter().any(|i| i.bridge_vlan_aware));
    for level in [
        FirewallLevel::Cluster,
        FirewallLevel::Node("pve02".into()),
        FirewallLevel::Guest {
            node: "pve01".into(),
            kind: GuestKind::Lxc,
            vmid: 200,
        },
    ] {
        let rules = c.firewall_rules(&level).await.unwrap();
        assert!(rules.iter().enumerate().all(|(i, r)| r.pos as usize == i));
        c.firewall_options(&level).await.unwrap();
    }
    let dc = FirewallLevel::Cluster;
    assert!(!c.firewall_aliases(&dc).await.unwrap().is_empty());
    let sets = c.firewall_ipsets(&dc).await.unwrap();
    let entries = c.firewall_ipset(&dc, &sets[0].name).await.unwrap();
    assert!(!entries.is_empty());
    let groups = c.firewall_groups().await.unwrap();
    assert!(
        !c.firewall_group_rules(&groups[0].group)
            .await
            .unwrap()
            .is_empty()
    );
    env.finish();
}

#[tokio::test]
async fn disk_moves_downloads_and_appliances() {
    let env = env().await;
    let c = &env.client;
    // A stopped VM's disk to a storage without images: PVE's refusal.
    let spec = DiskMove {
        disk: "scsi0".into(),
        storage: "local".into(),
        ..DiskMove::default()
    };
    let e = c.qemu_move_disk("pve01", 103, &spec).await.unwrap_err();
    assert!(e.to_string().contains("does not support vm images"), "{e}");
    // A container volume to the storage it is already on: refused.
    let spec = DiskMove {
        disk: "rootfs".into(),
        storage: "local-lvm".into(),
        delete: Some(true),
        ..DiskMove::default()
    };
    let e = c.lxc_move_volume("pve01", 200, &spec).await.unwrap_err();
    assert!(e.to_string().contains("same storage"), "{e}");

    let dl = DownloadUrl {
        url: "https://e.invalid/client.iso".into(),
        content: "iso".into(),
        filename: "client.iso".into(),
        checksum: Some("0".repeat(64)),
        checksum_algorithm: Some("sha256".into()),
        verify_certificates: Some(true),
        ..DownloadUrl::default()
    };
    let upid = c.download_url("pve01", "local", &dl).await.unwrap();
    ok_task(c, &upid).await;
    let iso = c
        .storage_content("pve01", "local", Some("iso"), None)
        .await
        .unwrap();
    assert!(iso.iter().any(|v| v.volid == "local:iso/client.iso"));

    let index = c.aplinfo("pve02").await.unwrap();
    let first = &index[0];
    assert!(first.size.is_some() && first.location.is_some());
    let upid = c
        .aplinfo_download("pve02", "local", &first.template)
        .await
        .unwrap();
    ok_task(c, &upid).await;
    env.finish();
}
