//! Datacenter-wide configuration of the built clusters: resource pools, scheduled backup jobs
//! (covering some guests and leaving others out, as on a real cluster), and the access
//! directory (users, groups, ACL).

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::state::{Acl, Cluster, DirUser, Pool};

/// Defines every pool a guest names that is not defined yet.
pub(crate) fn define_guest_pools(c: &mut Cluster) {
    let named: Vec<String> = c.guests.values().filter_map(|g| g.pool.clone()).collect();
    for p in named {
        c.pools.entry(p).or_default();
    }
}

fn job(pairs: &[(&str, Value)]) -> BTreeMap<String, Value> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_string(), v.clone()))
        .collect()
}

/// The demo cluster's pools, backup jobs and directory.
pub(crate) fn demo(c: &mut Cluster) {
    c.pools.insert(
        "production".into(),
        Pool {
            comment: Some("Customer-facing services".into()),
            storages: vec!["nfs-backup".into()],
        },
    );
    c.pools.insert(
        "lab".into(),
        Pool {
            comment: Some("Experiments, no SLA".into()),
            storages: Vec::new(),
        },
    );
    define_guest_pools(c);
    c.backup_jobs.insert(
        "backup-prod-nightly".into(),
        job(&[
            ("schedule", json!("02:00")),
            ("pool", json!("production")),
            ("storage", json!("nfs-backup")),
            ("mode", json!("snapshot")),
            ("compress", json!("zstd")),
            ("enabled", json!(1)),
            ("notes-template", json!("{{guestname}}")),
            ("prune-backups", json!("keep-daily=7,keep-weekly=4")),
            ("comment", json!("Nightly backup of production")),
        ]),
    );
    c.backup_jobs.insert(
        "backup-infra-weekly".into(),
        job(&[
            ("schedule", json!("sat 03:30")),
            ("vmid", json!("108,200,203")),
            ("storage", json!("nfs-backup")),
            ("mode", json!("snapshot")),
            ("compress", json!("zstd")),
            ("enabled", json!(1)),
            ("prune-backups", json!("keep-last=4")),
        ]),
    );
    c.backup_jobs.insert(
        "backup-legacy".into(),
        job(&[
            ("schedule", json!("sun 04:00")),
            ("vmid", json!("110")),
            ("storage", json!("nfs-backup")),
            ("mode", json!("stop")),
            ("compress", json!("zstd")),
            ("enabled", json!(0)),
            ("comment", json!("Paused while the ERP is migrated")),
        ]),
    );
    c.ha_rules.insert(
        "db-prefer-pve01".into(),
        job(&[
            ("type", json!("node-affinity")),
            ("resources", json!("vm:102,vm:104")),
            ("nodes", json!("pve01:2,pve02:1")),
            ("strict", json!(0)),
            (
                "comment",
                json!("Databases prefer the node with the fast disks"),
            ),
        ]),
    );
    c.ha_rules.insert(
        "db-apart".into(),
        job(&[
            ("type", json!("resource-affinity")),
            ("resources", json!("vm:102,vm:104")),
            ("affinity", json!("negative")),
            ("comment", json!("Primary and replica never share a node")),
        ]),
    );
    let user = |first: &str, last: &str, email: &str, groups: &[&str]| DirUser {
        enable: true,
        expire: 0,
        firstname: Some(first.into()),
        lastname: Some(last.into()),
        email: Some(email.into()),
        comment: None,
        groups: groups.iter().map(|g| (*g).to_string()).collect(),
    };
    let a = &mut c.access;
    a.users.insert(
        "alice@pve".into(),
        user("Alice", "Martin", "alice@example.com", &["ops"]),
    );
    a.users.insert(
        "bob@pve".into(),
        user("Bob", "Schmidt", "bob@example.com", &["ops"]),
    );
    a.users.insert(
        "monitoring@pve".into(),
        DirUser {
            enable: true,
            comment: Some("Prometheus exporter".into()),
            groups: vec!["auditors".into()],
            ..DirUser::default()
        },
    );
    a.groups.insert("ops".into(), "Operations team".into());
    a.groups
        .insert("auditors".into(), "Read-only access".into());
    let acl = |path: &str, kind: &str, ugid: &str, roleid: &str| Acl {
        path: path.into(),
        kind: kind.into(),
        ugid: ugid.into(),
        roleid: roleid.into(),
        propagate: true,
    };
    a.acl = vec![
        acl("/", "group", "auditors", "PVEAuditor"),
        acl("/pool/production", "group", "ops", "PVEVMAdmin"),
        acl("/storage/nfs-backup", "group", "ops", "PVEDatastoreUser"),
    ];
}

/// A built cluster's backup job: a nightly one selecting every other guest (so some are
/// covered and some are not), when the cluster has the default backup storage.
pub(crate) fn builder_jobs(c: &mut Cluster) {
    if !c.storages.contains_key("nfs-backup") || c.guests.is_empty() {
        return;
    }
    let ids: Vec<String> = c
        .guests
        .values()
        .filter(|g| !g.is_template())
        .step_by(2)
        .map(|g| g.vmid.to_string())
        .collect();
    c.backup_jobs.insert(
        "backup-nightly".into(),
        job(&[
            ("schedule", json!("02:00")),
            ("vmid", json!(ids.join(","))),
            ("storage", json!("nfs-backup")),
            ("mode", json!("snapshot")),
            ("compress", json!("zstd")),
            ("enabled", json!(1)),
        ]),
    );
}
