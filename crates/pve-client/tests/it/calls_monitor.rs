//! Monitoring calls: RRD history of a node, a VM, a container and a storage (every timeframe,
//! both consolidation functions), a node's journal (newest entries, a range, cursors apart), the
//! cluster log, a node's services and its pending updates; their requests checked against the
//! schema.

use pve_client::GuestKind;
use pve_client::api::monitor::{JournalQuery, RrdCf, RrdTarget, RrdTimeframe};

use crate::support::env;

#[tokio::test]
async fn rrd_history_of_each_target() {
    let env = env().await;
    let c = &env.client;
    let frames = [
        RrdTimeframe::Hour,
        RrdTimeframe::Day,
        RrdTimeframe::Week,
        RrdTimeframe::Month,
        RrdTimeframe::Year,
    ];
    for (target, field) in [
        (RrdTarget::Node, "memused"),
        (RrdTarget::Guest(GuestKind::Qemu, 100), "mem"),
        (RrdTarget::Guest(GuestKind::Lxc, 200), "disk"),
        (RrdTarget::Storage("local-lvm"), "used"),
    ] {
        for tf in frames {
            for cf in [RrdCf::Average, RrdCf::Max] {
                let points = c.rrd_data("pve01", target, tf, cf).await.unwrap();
                assert!(points.len() >= 60, "{target:?} {tf:?}: {}", points.len());
                assert!(points.windows(2).all(|w| w[0].time < w[1].time));
                // Guests count from their start: a week-old guest has no whole month yet.
                let recent = matches!(tf, RrdTimeframe::Hour | RrdTimeframe::Day);
                assert!(
                    !recent
                        || points
                            .iter()
                            .any(|p| p.values.get(field).is_some_and(|v| *v > 0.0)),
                    "{target:?} {tf:?} {cf:?}: {points:?}"
                );
            }
        }
    }
    let e = c
        .rrd_data(
            "pve01",
            RrdTarget::Storage("nosuch"),
            RrdTimeframe::Hour,
            RrdCf::Average,
        )
        .await
        .unwrap_err();
    assert!(
        e.to_string().contains("storage 'nosuch' does not exist"),
        "{e}"
    );
    env.finish();
}

#[tokio::test]
async fn journal_cluster_log_services_and_updates() {
    let env = env().await;
    let c = &env.client;
    let newest = c
        .node_journal(
            "pve01",
            &JournalQuery {
                lastentries: Some(5),
                ..JournalQuery::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(newest.lines.len(), 5, "{newest:?}");
    assert!(newest.start_cursor.is_some() && newest.end_cursor.is_some());
    assert!(newest.lines.iter().all(|l| !l.starts_with("s=")));
    let now = env.sim.now() as i64;
    let range = c
        .node_journal(
            "pve01",
            &JournalQuery {
                since: Some(now - 7200),
                until: Some(now),
                ..JournalQuery::default()
            },
        )
        .await
        .unwrap();
    assert!(!range.lines.is_empty());
    assert!(range.lines.iter().all(|l| l.contains(" pve01 ")));

    let log = c.cluster_log(Some(3)).await.unwrap();
    assert!(log.len() <= 3);

    let services = c.node_services("pve02").await.unwrap();
    let proxy = services.iter().find(|s| s.service == "pveproxy").unwrap();
    assert_eq!(
        (
            proxy.state.as_str(),
            proxy.active_state.as_str(),
            proxy.unit_state.as_str()
        ),
        ("running", "active", "enabled")
    );

    let updates = c.apt_updates("pve03").await.unwrap();
    let ssl = updates.iter().find(|u| u.package == "openssl").unwrap();
    assert_eq!(ssl.old_version.as_deref(), Some("3.5.1-1"));
    assert_eq!(ssl.version, "3.5.1-1+deb13u1");
    assert_eq!(ssl.origin, "Debian");
    assert!(ssl.description.contains("Security"));
    env.finish();
}
