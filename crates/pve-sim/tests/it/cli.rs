//! The command line's cluster flags: `--nodes`, `--vms`, `--containers` and `--seed` build a
//! deterministic cluster of that shape (no flag: the demo cluster).

use clap::Parser;
use pve_sim::cli::SimArgs;
use pve_sim::state::{Cluster, GuestKind};

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    args: SimArgs,
}

fn cluster(flags: &[&str]) -> Cluster {
    let mut argv = vec!["pve-sim"];
    argv.extend_from_slice(flags);
    Cli::parse_from(argv).args.cluster.cluster()
}

/// What distinguishes two built clusters: each guest's name, node, memory, cores and state.
fn shape(c: &Cluster) -> Vec<(u32, String, String, u64, u64, bool)> {
    c.guests
        .values()
        .map(|g| {
            (
                g.vmid,
                g.name(),
                g.node.clone(),
                g.maxmem(),
                g.cpus(),
                g.status == pve_sim::state::PowerState::Running,
            )
        })
        .collect()
}

#[test]
fn flags_build_a_large_deterministic_cluster() {
    let flags = [
        "--nodes",
        "7",
        "--vms",
        "2000",
        "--containers",
        "300",
        "--seed",
        "42",
    ];
    let c = cluster(&flags);
    assert_eq!(c.nodes.len(), 7);
    let vms = c
        .guests
        .values()
        .filter(|g| g.kind == GuestKind::Qemu)
        .count();
    assert_eq!((vms, c.guests.len() - vms), (2000, 300));
    assert_eq!(
        shape(&c),
        shape(&cluster(&flags)),
        "same flags, same cluster"
    );
    let other = cluster(&[
        "--nodes",
        "7",
        "--vms",
        "2000",
        "--containers",
        "300",
        "--seed",
        "43",
    ]);
    assert_ne!(shape(&c), shape(&other), "another seed, another cluster");
    let running = c
        .guests
        .values()
        .filter(|g| g.status == pve_sim::state::PowerState::Running)
        .count();
    assert!((1300..2000).contains(&running), "about 70% run: {running}");
    assert!(!c.backup_jobs.is_empty(), "a backup job covers some guests");
}

#[test]
fn no_flags_is_the_demo_cluster() {
    let c = cluster(&[]);
    assert_eq!(c.name.as_deref(), Some("demo-cluster"));
    let built = cluster(&["--vms", "3"]);
    assert_eq!((built.nodes.len(), built.guests.len()), (3, 3));
}
