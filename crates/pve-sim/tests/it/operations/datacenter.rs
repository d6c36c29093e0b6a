//! The datacenter: pools and their writes, the access directory, backup jobs and coverage, HA
//! and the firewall.

use super::list;
use crate::support::{Auth, start};

#[tokio::test]
async fn pools_list_members_and_change() {
    let sim = start().await;
    let pools = sim.get("/pools", &[]).await;
    let ids: Vec<&str> = list(pools.data())
        .iter()
        .map(|p| p["poolid"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["lab", "production"]);
    let prod = sim.get("/pools/production", &[]).await;
    let members = list(&prod.data()["members"]);
    assert!(
        members
            .iter()
            .any(|m| m["id"] == "qemu/100" && m["type"] == "qemu")
    );
    assert!(
        members
            .iter()
            .any(|m| m["id"] == "storage/pve01/nfs-backup")
    );
    let token = Auth::token();
    let put =
        |params: &'static [(&'static str, &'static str)]| sim.call("PUT", "/pools", &token, params);
    assert_eq!(
        put(&[("poolid", "lab"), ("vms", "103,205")]).await.status,
        200
    );
    let lab = sim.get("/pools/lab", &[("type", "qemu")]).await;
    assert_eq!(list(&lab.data()["members"]).len(), 1);
    let r = put(&[("poolid", "lab"), ("vms", "100")]).await;
    assert_eq!(r.status, 500);
    assert!(r.message().contains("allow-move"));
    assert_eq!(
        put(&[("poolid", "lab"), ("vms", "100"), ("allow-move", "1")])
            .await
            .status,
        200
    );
    let busy = sim.call("DELETE", "/pools/lab", &Auth::token(), &[]).await;
    assert!(busy.message().contains("not empty"));
    assert_eq!(
        put(&[("poolid", "lab"), ("vms", "100,103,205"), ("delete", "1")])
            .await
            .status,
        200
    );
    assert_eq!(
        sim.call("DELETE", "/pools/lab", &Auth::token(), &[])
            .await
            .status,
        200
    );
    assert_eq!(sim.get("/pools/lab", &[]).await.status, 500);
    let r = sim
        .post(
            "/pools",
            &[("poolid", "staging"), ("comment", "next release")],
        )
        .await;
    assert_eq!(r.status, 200);
    let resources = sim.get("/cluster/resources", &[]).await;
    assert!(
        list(resources.data())
            .iter()
            .any(|p| p["type"] == "pool" && p["pool"] == "staging")
    );
}

#[tokio::test]
async fn the_access_directory_lists_users_tokens_groups_roles_and_acl() {
    let sim = start().await;
    let users = sim.get("/access/users", &[("full", "1")]).await;
    let users = list(users.data());
    let root = users.iter().find(|u| u["userid"] == "root@pam").unwrap();
    assert!(list(&root["tokens"]).iter().any(|t| t["tokenid"] == "test"));
    assert!(
        users
            .iter()
            .any(|u| u["userid"] == "alice@pve" && u["groups"] == "ops")
    );
    let alice = sim.get("/access/users/alice@pve", &[]).await;
    assert_eq!(alice.data()["email"], "alice@example.com");
    let ops = sim.get("/access/groups/ops", &[]).await;
    assert_eq!(
        ops.data()["members"],
        serde_json::json!(["alice@pve", "bob@pve"])
    );
    let roles = sim.get("/access/roles", &[]).await;
    assert!(
        list(roles.data())
            .iter()
            .any(|r| r["roleid"] == "PVEVMAdmin")
    );
    let auditor = sim.get("/access/roles/PVEAuditor", &[]).await;
    assert_eq!(auditor.data()["VM.Audit"], 1);
    assert!(auditor.data().get("VM.PowerMgmt").is_none());
    let acl = sim.get("/access/acl", &[]).await;
    let acl = list(acl.data());
    assert!(
        acl.iter()
            .any(|a| a["ugid"] == "ops" && a["path"] == "/pool/production")
    );
    assert!(
        acl.iter()
            .any(|a| a["ugid"] == "root@pam!test" && a["roleid"] == "Administrator")
    );
    let realms = sim.call("GET", "/access/domains", &Auth::None, &[]).await;
    assert_eq!(
        realms.status, 200,
        "the login form lists realms without a ticket"
    );
    assert_eq!(sim.get("/access/users/nobody@pve", &[]).await.status, 500);
}

#[tokio::test]
async fn backup_jobs_cover_some_guests_and_not_others() {
    let sim = start().await;
    let jobs = sim.get("/cluster/backup", &[]).await;
    let jobs = list(jobs.data());
    assert!(jobs.len() >= 2);
    let nightly = jobs
        .iter()
        .find(|j| j["id"] == "backup-prod-nightly")
        .unwrap();
    assert_eq!(
        nightly["prune-backups"]["keep-daily"], 7,
        "property strings shown parsed"
    );
    assert!(nightly["next-run"].as_i64().unwrap() > sim.server.now() as i64);
    let missing = |v: &serde_json::Value| -> Vec<u64> {
        list(v)
            .iter()
            .map(|g| g["vmid"].as_u64().unwrap())
            .collect()
    };
    let before = missing(
        sim.get("/cluster/backup-info/not-backed-up", &[])
            .await
            .data(),
    );
    assert!(before.contains(&103) && before.contains(&110), "{before:?}");
    assert!(
        !before.contains(&100) && !before.contains(&108),
        "{before:?}"
    );
    let r = sim
        .post(
            "/cluster/backup",
            &[
                ("id", "dev"),
                ("vmid", "103"),
                ("schedule", "sun 05:00"),
                ("storage", "nfs-backup"),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let after = missing(
        sim.get("/cluster/backup-info/not-backed-up", &[])
            .await
            .data(),
    );
    assert!(!after.contains(&103));
    sim.call(
        "PUT",
        "/cluster/backup/dev",
        &Auth::token(),
        &[("enabled", "0")],
    )
    .await;
    let disabled = missing(
        sim.get("/cluster/backup-info/not-backed-up", &[])
            .await
            .data(),
    );
    assert!(disabled.contains(&103), "a disabled job covers nothing");
    let included = sim
        .get("/cluster/backup/backup-prod-nightly/included_volumes", &[])
        .await;
    let children = list(&included.data()["children"]);
    assert!(
        children
            .iter()
            .any(|c| c["id"] == 102 && !list(&c["children"]).is_empty())
    );
    assert_eq!(
        sim.call("DELETE", "/cluster/backup/dev", &Auth::token(), &[])
            .await
            .status,
        200
    );
    assert_eq!(sim.get("/cluster/backup/dev", &[]).await.status, 500);
}

#[tokio::test]
async fn ha_status_resources_and_rules() {
    let sim = start().await;
    let current = sim.get("/cluster/ha/status/current", &[]).await;
    let current = list(current.data());
    assert!(
        current
            .iter()
            .any(|e| e["type"] == "quorum" && e["status"] == "OK")
    );
    assert!(current.iter().any(|e| e["type"] == "master"));
    assert_eq!(current.iter().filter(|e| e["type"] == "lrm").count(), 3);
    assert!(
        current
            .iter()
            .any(|e| e["sid"] == "vm:102" && e["state"] == "started")
    );
    let resources = sim.get("/cluster/ha/resources", &[]).await;
    let sids: Vec<&str> = list(resources.data())
        .iter()
        .map(|r| r["sid"].as_str().unwrap())
        .collect();
    assert_eq!(sids, ["vm:102", "vm:104"]);
    assert!(
        list(
            sim.get("/cluster/ha/resources", &[("type", "ct")])
                .await
                .data()
        )
        .is_empty()
    );
    assert_eq!(
        sim.get("/cluster/ha/resources/102", &[]).await.data()["sid"],
        "vm:102"
    );
    let rules = sim.get("/cluster/ha/rules", &[]).await;
    let kinds: Vec<&str> = list(rules.data())
        .iter()
        .map(|r| r["type"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"node-affinity") && kinds.contains(&"resource-affinity"));
    let node_rules = sim
        .get("/cluster/ha/rules", &[("type", "node-affinity")])
        .await;
    assert_eq!(list(node_rules.data()).len(), 1);
    let rule = sim.get("/cluster/ha/rules/db-apart", &[]).await;
    assert_eq!(rule.data()["affinity"], "negative");
    let manager = sim.get("/cluster/ha/status/manager_status", &[]).await;
    assert_eq!(
        manager.data()["manager_status"]["service_status"]["vm:104"]["node"],
        "pve02"
    );
    assert_eq!(sim.get("/cluster/ha/rules/nope", &[]).await.status, 500);
}

#[tokio::test]
async fn firewall_at_datacenter_node_and_guest_level() {
    let sim = start().await;
    let options = sim.get("/cluster/firewall/options", &[]).await;
    assert_eq!(options.data()["enable"], 1);
    let rules = sim.get("/cluster/firewall/rules", &[]).await;
    let rules = list(rules.data());
    assert!(rules.iter().enumerate().all(|(i, r)| r["pos"] == i));
    assert!(rules.iter().any(|r| r["source"] == "+management"));
    let set = sim.get("/cluster/firewall/ipset/management", &[]).await;
    assert!(list(set.data()).iter().any(|e| e["cidr"] == "10.10.0.0/24"));
    let group = sim.get("/cluster/firewall/groups/webserver", &[]).await;
    assert_eq!(list(group.data()).len(), 2);
    let node = sim.get("/nodes/pve01/firewall/rules/0", &[]).await;
    assert_eq!(node.data()["dport"], "9100");
    assert_eq!(
        sim.get("/nodes/pve01/firewall/rules/7", &[]).await.status,
        500
    );
    // VM 100 is tagged web and has the firewall on its NIC.
    let vm = sim.get("/nodes/pve01/qemu/100/firewall/rules", &[]).await;
    assert!(
        list(vm.data())
            .iter()
            .any(|r| r["type"] == "group" && r["action"] == "webserver")
    );
    let vm_opts = sim.get("/nodes/pve01/qemu/100/firewall/options", &[]).await;
    let config = sim.get("/nodes/pve01/qemu/100/config", &[]).await;
    let nic_fw = config.data()["net0"]
        .as_str()
        .unwrap()
        .contains("firewall=1");
    assert_eq!(vm_opts.data()["enable"], u8::from(nic_fw));
    let ipset = sim
        .get("/nodes/pve01/lxc/200/firewall/ipset/ipfilter-net0", &[])
        .await;
    assert_eq!(list(ipset.data()).len(), 1);
    assert_eq!(
        sim.get("/nodes/pve01/qemu/100/firewall/aliases/nope", &[])
            .await
            .status,
        500
    );
}
