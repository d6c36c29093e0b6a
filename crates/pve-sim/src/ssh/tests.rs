//! Unit tests of what the simulated nodes answer over SSH (`pct exec`, node commands), on the
//! small test cluster, without sockets (the integration tests add those).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::json;

use super::commands::Reply;
use super::log::Ran;
use super::{cluster, node, pct};
use crate::Sim;
use crate::state::Storage;
use crate::testkit::sim;

fn words(line: &str) -> Vec<String> {
    line.split_whitespace().map(str::to_owned).collect()
}

fn on_node(s: &Sim, name: &str, line: &str) -> (Reply, Option<Ran>) {
    let w = words(line);
    if w[0] == "pct" {
        return pct::run(s, name, &w[1..]);
    }
    node::run(s, &s.cluster.nodes[name], &w)
}

/// (line on pve1, exit status, stdout, stderr, whether something ran)
type Case<'a> = (&'a str, u32, &'a str, &'a str, bool);

fn check(s: &Sim, cases: &[Case<'_>]) {
    for (line, status, out, err, ran) in cases {
        let (r, what) = on_node(s, "pve1", line);
        assert_eq!(
            (r.status, r.out.as_str(), r.err.as_str(), what.is_some()),
            (*status, *out, *err, *ran),
            "{line:?}"
        );
    }
}

#[test]
fn pct_exec_answers_as_pct_does() {
    let s = sim();
    let usage = "pct exec <vmid> [<extra-args>] [OPTIONS]";
    check(
        &s,
        &[
            ("pct exec 200 -- hostname", 0, "ct200\n", "", true),
            ("pct exec 200 hostname", 0, "ct200\n", "", true),
            ("pct exec 200 -- /bin/sh -c false", 1, "", "", true),
            (
                "pct exec 200 -- nope",
                127,
                "",
                "nope: command not found\n",
                true,
            ),
            (
                "pct exec 201 -- hostname",
                255,
                "",
                "container '201' not running!\n",
                false,
            ),
            (
                "pct exec 999 -- hostname",
                255,
                "",
                "Configuration file 'nodes/pve1/lxc/999.conf' does not exist\n",
                false,
            ),
            (
                "pct exec 100 -- hostname",
                255,
                "",
                "Configuration file 'nodes/pve1/lxc/100.conf' does not exist\n",
                false,
            ),
            (
                "pct exec 200",
                255,
                "",
                "missing command at /usr/share/perl5/PVE/CLI/pct.pm line 212.\n",
                false,
            ),
            (
                "pct exec abc -- id",
                255,
                "",
                &format!(
                    "400 Parameter verification failed.\nvmid: type check ('integer') failed - \
                     got 'abc'\n{usage}\n"
                ),
                false,
            ),
            (
                "pct exec 99 -- id",
                255,
                "",
                &format!(
                    "400 Parameter verification failed.\nvmid: invalid format - value does not \
                     look like a valid VM ID\n{usage}\n"
                ),
                false,
            ),
            (
                "pct exec",
                255,
                "",
                &format!("400 not enough arguments\n{usage}\n"),
                false,
            ),
        ],
    );
    let (_, ran) = on_node(&s, "pve1", "pct exec 200 -- echo a b");
    assert_eq!(
        ran,
        Some(Ran::Container {
            vmid: 200,
            argv: words("echo a b")
        })
    );
    // The container lives on pve1: pve2 has no config for it.
    let (r, _) = on_node(&s, "pve2", "pct exec 200 -- hostname");
    assert_eq!(
        r.err,
        "Configuration file 'nodes/pve2/lxc/200.conf' does not exist\n"
    );
    let (r, _) = on_node(&s, "pve1", "pct list");
    assert_eq!(r.status, 255);
    assert!(r.err.contains("only 'pct exec'"), "{r:?}");
}

#[test]
fn container_commands_sleep_in_wall_clock_time() {
    let s = sim();
    let (r, _) = on_node(&s, "pve1", "pct exec 200 -- sleep 2.5");
    assert_eq!((r.status, r.wait.as_secs_f64()), (0, 2.5));
    let (r, _) = on_node(&s, "pve1", "pct exec 200 -- hostname");
    assert!(r.wait.is_zero());
    let (r, _) = on_node(&s, "pve1", "pct exec 200 -- sleep infinity");
    assert_eq!(r.wait, std::time::Duration::MAX);
}

#[test]
fn node_commands_answer_from_the_cluster() {
    let s = sim();
    check(
        &s,
        &[
            (
                "pveversion",
                0,
                "pve-manager/9.1.2/abcdef (running kernel: 6.14.8-2-pve)\n",
                "",
                true,
            ),
            ("hostname", 0, "pve1\n", "", true),
            ("zpool status", 0, "no pools available\n", "", true),
            ("zpool status -x", 0, "no pools available\n", "", true),
            (
                "ls /",
                127,
                "",
                "bash: line 1: ls: command not found\n",
                false,
            ),
        ],
    );
    let (r, _) = on_node(&s, "pve1", "pveversion -v");
    assert!(
        r.out.starts_with(
            "proxmox-ve: 9.1.0 (running kernel: 6.14.8-2-pve)\npve-manager: 9.1.2 (running \
             version: 9.1.2/abcdef)\n"
        ),
        "{}",
        r.out
    );
    assert!(r.out.contains("\npve-container: "), "{}", r.out);
    let (r, _) = on_node(&s, "pve1", "df -h");
    let lines: Vec<&str> = r.out.lines().collect();
    assert!(lines[0].starts_with("Filesystem "), "{}", r.out);
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("/dev/mapper/pve-root ") && l.ends_with("% /"))
    );
    assert!(lines.iter().any(|l| l.ends_with(" /etc/pve")));
    let (r, _) = on_node(&s, "pve1", "uptime");
    assert!(
        r.out.contains(" up 1 day, ") && r.out.contains("load average: "),
        "{}",
        r.out
    );
    let (r, ran) = on_node(&s, "pve1", "df -i");
    assert_eq!((r.status, ran), (127, None));
    assert!(
        r.err.contains("'df -i' is not simulated on node pve1"),
        "{}",
        r.err
    );
}

#[test]
fn zpool_status_lists_the_pools_of_zfs_storages() {
    let mut s = sim();
    let local = s.cluster.storages["local-lvm"].clone();
    let mut zfs = Storage {
        id: "local-zfs".into(),
        kind: "zfspool".into(),
        nodes: Some(vec!["pve1".into()]),
        ..local
    };
    zfs.extra.clear();
    zfs.extra.insert("pool".into(), json!("rpool/data"));
    s.cluster.storages.insert(zfs.id.clone(), zfs);
    let (r, _) = on_node(&s, "pve1", "zpool status");
    assert!(
        r.out.starts_with("  pool: rpool\n state: ONLINE\n"),
        "{}",
        r.out
    );
    assert!(
        r.out.contains("\tmirror-0 ") || r.out.contains("\t  mirror-0 "),
        "{}",
        r.out
    );
    assert!(
        r.out.ends_with("errors: No known data errors\n"),
        "{}",
        r.out
    );
    assert_eq!(
        on_node(&s, "pve1", "zpool status -x").0.out,
        "all pools are healthy\n"
    );
    let (r, _) = on_node(&s, "pve1", "zpool status tank");
    assert_eq!(
        (r.status, r.err.as_str()),
        (1, "cannot open 'tank': no such pool\n")
    );
    assert_eq!(
        on_node(&s, "pve2", "zpool status").0.out,
        "no pools available\n"
    );
}

#[test]
fn pvecm_status_shows_quorum_and_members() {
    let mut s = sim();
    let n = &s.cluster.nodes["pve2"];
    let r = cluster::pvecm_status(&s, n);
    assert!(r.out.contains("\nName:             testc\n"), "{}", r.out);
    assert!(r.out.contains("\nQuorate:          Yes\n"), "{}", r.out);
    assert!(
        r.out.contains("\nNode ID:          0x00000002\n"),
        "{}",
        r.out
    );
    assert!(
        r.out.ends_with(
            "    Nodeid      Votes Name\n0x00000001          1 192.0.2.1\n\
             0x00000002          1 192.0.2.2 (local)\n"
        ),
        "{}",
        r.out
    );
    s.cluster.nodes.get_mut("pve2").unwrap().online = false;
    let r = cluster::pvecm_status(&s, &s.cluster.nodes["pve1"]);
    assert!(r.out.contains("\nQuorate:          No\n"), "{}", r.out);
    assert!(!r.out.contains("192.0.2.2"), "{}", r.out);
    s.cluster.name = None;
    let r = cluster::pvecm_status(&s, &s.cluster.nodes["pve1"]);
    assert_eq!(r.status, 255);
    assert!(r.err.contains("corosync.conf' does not exist"), "{}", r.err);
}

#[test]
fn journalctl_shows_pve_cluster_from_boot_to_now() {
    let mut s = sim();
    let now = s.now;
    s.cluster.nodes.get_mut("pve1").unwrap().boot_time = now - 2.0 * 3600.0 - 30.0;
    let n = &s.cluster.nodes["pve1"];
    let all = cluster::journalctl(&s, n, &["-u", "pve-cluster"]).out;
    let lines: Vec<&str> = all.lines().collect();
    assert_eq!(lines.len(), 12 + 2, "{all}");
    assert!(
        lines[0].ends_with(
            " pve1 systemd[1]: Starting pve-cluster.service - The Proxmox VE cluster filesystem..."
        ),
        "{all}"
    );
    assert!(
        all.contains("[dcdb] notice: members: 1/1153, 2/1206\n"),
        "{all}"
    );
    assert!(lines[13].ends_with("[dcdb] notice: data verification successful"));
    for args in [
        &["-u", "pve-cluster", "-n", "3"][..],
        &["--unit=pve-cluster.service", "--lines=3", "--no-pager"],
        &["-upve-cluster", "-n3"],
    ] {
        let out = cluster::journalctl(&s, n, args).out;
        assert_eq!(out.lines().collect::<Vec<_>>(), lines[11..], "{args:?}");
    }
    assert_eq!(cluster::journalctl(&s, n, &["-n", "0"]).out, "");
    assert_eq!(
        cluster::journalctl(&s, n, &["-u", "corosync"]).out,
        "-- No entries --\n"
    );
    let bad = cluster::journalctl(&s, n, &["-n", "x"]);
    assert_eq!(
        (bad.status, bad.err.as_str()),
        (1, "Failed to parse lines 'x'.\n")
    );
    assert_eq!(cluster::journalctl(&s, n, &["--since"]).status, 1);
    assert_eq!(cluster::journalctl(&s, n, &["-f"]).status, 1);
    assert_eq!(cluster::journalctl(&s, n, &["-u"]).status, 1);
}

#[test]
fn journalctl_shows_the_tasks_the_api_ran() {
    use crate::route::Method;
    use crate::testkit::{call, finish};
    let mut s = sim();
    let upid = call(
        &mut s,
        Method::Post,
        "/nodes/pve1/qemu/101/status/start",
        &[],
    )
    .unwrap();
    assert_eq!(finish(&mut s, &upid), "OK");
    let upid = upid.as_str().unwrap();
    let out = cluster::journalctl(&s, &s.cluster.nodes["pve1"], &["-u", "pvedaemon"]).out;
    let last: Vec<&str> = out.lines().rev().take(2).collect();
    assert!(last[0].ends_with(&format!("end task {upid} OK")), "{out}");
    assert!(last[1].contains(&format!("starting task {upid}")), "{out}");
    assert!(out.lines().all(|l| l.contains(" pve1 pvedaemon[")), "{out}");
    let all = cluster::journalctl(&s, &s.cluster.nodes["pve1"], &[]).out;
    assert!(all.contains(" pve1 pmxcfs[") && all.contains(&format!("end task {upid} OK")));
}
