//! Typed calls on the cluster and nodes: version, cluster status and resources, VMID lookup
//! with its cache, next free VMID, node index and status (one and several at once).

use pve_client::api::cluster::ResourceType;
use pve_client::{ErrorKind, GuestKind, GuestLocation};

use crate::support::{check, env};

#[tokio::test]
async fn version_and_cluster_status() {
    let env = env().await;
    let v = env.client.version().await.unwrap();
    assert!(v.version.starts_with('9'), "{v:?}");
    assert!(!v.release.is_empty() && !v.repoid.is_empty());
    let status = env.client.cluster_status().await.unwrap();
    let cluster = status
        .iter()
        .find(|e| e.kind == "cluster")
        .expect("cluster entry");
    assert_eq!((cluster.quorate, cluster.nodes), (Some(true), Some(3)));
    let nodes: Vec<&str> = status
        .iter()
        .filter(|e| e.kind == "node")
        .map(|e| e.name.as_str())
        .collect();
    assert_eq!(nodes.len(), 3, "{nodes:?}");
    assert!(
        status
            .iter()
            .filter(|e| e.kind == "node")
            .all(|e| e.online == Some(true))
    );
    env.finish();
}

#[tokio::test]
async fn resources_in_one_request() {
    let env = env().await;
    let all = env.client.cluster_resources(None).await.unwrap();
    for kind in ["node", "storage", "qemu", "lxc"] {
        assert!(
            all.iter().any(|r| r.kind == kind),
            "no {kind} in /cluster/resources"
        );
    }
    let guests = env.client.list_guests().await.unwrap();
    assert_eq!(
        guests.len(),
        all.iter()
            .filter(|r| r.kind == "qemu" || r.kind == "lxc")
            .count()
    );
    let vm105 = guests.iter().find(|g| g.vmid == Some(105)).unwrap();
    assert_eq!(
        (vm105.node.as_deref(), vm105.lock.as_deref()),
        (Some("pve02"), Some("backup"))
    );
    assert!(guests.iter().any(|g| g.template), "templates are listed");
    let storage = env.client.list_storage().await.unwrap();
    assert!(
        storage
            .iter()
            .all(|s| s.kind == "storage" && s.storage.is_some())
    );
    assert!(
        storage
            .iter()
            .any(|s| s.storage.as_deref() == Some("nfs-backup") && s.shared == Some(true))
    );
    let nodes = env
        .client
        .cluster_resources(Some(ResourceType::Node))
        .await
        .unwrap();
    assert!(nodes.iter().all(|r| r.kind == "node") && nodes.len() == 3);
    assert_eq!(
        env.count("GET", "/cluster/resources"),
        4,
        "one request per listing"
    );
    env.finish();
}

#[tokio::test]
async fn find_guest_uses_a_short_lived_cache() {
    let env = env().await;
    let cases = [
        (100, "pve01", GuestKind::Qemu),
        (105, "pve02", GuestKind::Qemu),
        (9000, "pve01", GuestKind::Qemu),
    ];
    for (vmid, node, kind) in cases {
        let loc = env.client.find_guest(vmid).await.unwrap();
        assert_eq!(
            loc,
            GuestLocation {
                vmid,
                node: node.into(),
                kind
            }
        );
    }
    assert_eq!(
        env.count("GET", "/cluster/resources"),
        1,
        "one lookup serves all"
    );
    // A container: its kind comes from the same data.
    let ct = env
        .client
        .list_guests()
        .await
        .unwrap()
        .into_iter()
        .find(|g| g.kind == "lxc")
        .unwrap();
    let loc = env.client.find_guest(ct.vmid.unwrap()).await.unwrap();
    assert_eq!(loc.kind, GuestKind::Lxc);
    // A miss refreshes once, then says NotFound.
    let before = env.count("GET", "/cluster/resources");
    let e = env.client.find_guest(4242).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
    assert_eq!(
        e.to_string(),
        "no VM or container with VMID 4242 in the cluster"
    );
    assert_eq!(env.count("GET", "/cluster/resources"), before + 1);
    // Invalidation forces a new lookup.
    env.client.invalidate_guest_cache();
    env.client.find_guest(100).await.unwrap();
    assert_eq!(env.count("GET", "/cluster/resources"), before + 2);
    env.finish();
}

#[tokio::test]
async fn next_free_vmid() {
    let env = env().await;
    let id = env.client.next_id(None).await.unwrap();
    assert!(id >= 100);
    let taken: Vec<u32> = env
        .client
        .list_guests()
        .await
        .unwrap()
        .iter()
        .filter_map(|g| g.vmid)
        .collect();
    assert!(!taken.contains(&id), "{id} is taken");
    assert_eq!(env.client.next_id(Some(id)).await.unwrap(), id);
    let e = env.client.next_id(Some(100)).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Params);
    assert!(e.errors()["vmid"].contains("100"), "{:?}", e.errors());
    assert!(e.to_string().contains("vmid: "), "{e}");
    env.finish();
}

#[tokio::test]
async fn nodes_and_node_status() {
    let env = env().await;
    let nodes = env.client.nodes().await.unwrap();
    let mut names: Vec<&str> = nodes.iter().map(|n| n.node.as_str()).collect();
    names.sort_unstable();
    assert_eq!(names, ["pve01", "pve02", "pve03"]);
    assert!(
        nodes
            .iter()
            .all(|n| n.status == "online" && n.maxmem.unwrap_or(0) > 0)
    );
    let s = env.client.node_status("pve01").await.unwrap();
    check(
        &[
            ("cpus", s.cpuinfo.cpus > 0),
            ("memory", s.memory.total > s.memory.used),
            ("rootfs", s.rootfs.total > 0),
            ("loadavg", s.loadavg.len() == 3),
            ("pveversion", s.pveversion.starts_with("pve-manager/")),
            ("uptime", s.uptime > 0),
        ],
        |(what, ok)| {
            if *ok {
                Ok(())
            } else {
                Err(format!("{what} looks wrong: {s:?}"))
            }
        },
    );
    let all = env.client.nodes_status(&["pve01", "pve02", "pve09"]).await;
    assert!(all[0].1.is_ok() && all[1].1.is_ok());
    let e = all[2].1.as_ref().unwrap_err();
    assert!(
        matches!(
            e.kind(),
            ErrorKind::Unreachable | ErrorKind::NotFound | ErrorKind::Pve
        ),
        "{e}"
    );
    assert!(e.to_string().contains("pve09"), "{e}");
    env.finish();
}
