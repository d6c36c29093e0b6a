//! The cluster half of the doctor: reachability, certificate, identity, privileges per tool,
//! nodes and guest agents. Each step adds findings to the report; a step the next ones depend
//! on (connection, TLS, login) stops the checks when it fails.

use futures_util::future::join_all;
use pve_client::{
    ApiPath, ClientConfig, Credentials, ErrorKind, Params, PveClient, Scheme, TlsMode,
};
use serde_json::Value;

use super::privileges::{self, Permissions, Verdict};
use super::probe::{ProbeError, probe};
use super::{Level, Report};

/// Running VMs whose guest agent is pinged at most (a big cluster stays quick to check).
const MAX_AGENT_PINGS: usize = 64;

/// Checks the cluster `cfg` describes; `name`, when several clusters are configured, goes into
/// the section titles (`Cluster prod`, `Nodes (prod)`).
pub(super) async fn check(report: &mut Report, name: Option<&str>, cfg: ClientConfig) {
    let of = name.map(|n| format!(" ({n})")).unwrap_or_default();
    report.section(match name {
        Some(n) => format!("Cluster {n}"),
        None => "Cluster".to_string(),
    });
    let https = cfg.scheme == Scheme::Https;
    let identity = identity(&cfg);
    report.info(format!(
        "Proxmox VE API at {}://{}:{} as {identity}",
        if https { "https" } else { "http" },
        host_for_url(&cfg.host),
        cfg.port
    ));
    let fingerprint = match probe(&cfg.host, cfg.port, https, cfg.connect_timeout).await {
        Ok(p) => {
            report.ok(format!("reached {}", p.peer));
            p.fingerprint
        }
        Err(e @ ProbeError::Connect { .. }) => {
            let keys = match name {
                Some(n) => format!("`host` and `port` of its [[clusters]] entry ({n})"),
                None => "PROXMOX_HOST and PROXMOX_PORT".to_string(),
            };
            report.fail(
                e.to_string(),
                format!(
                    "check {keys} (8006), that this machine may reach it (firewall, Docker \
                     network), and that pveproxy runs on the node"
                ),
            );
            return;
        }
        Err(e) => {
            report.fail(
                e.to_string(),
                "is this the HTTPS port of pveproxy (8006)?".to_string(),
            );
            return;
        }
    };
    let client = match PveClient::new(cfg.clone()) {
        Ok(c) => c,
        Err(e) => {
            report.fail(format!("cannot set up the Proxmox VE client: {e}"), None);
            return;
        }
    };
    let answered = match client.login().await {
        Ok(()) => client.version().await,
        Err(e) => Err(e),
    };
    let version = match answered {
        Ok(v) => v,
        Err(e) => {
            api_failure(report, &cfg, &identity, fingerprint.as_deref(), &e);
            return;
        }
    };
    if let Some(fp) = &fingerprint {
        certificate_trusted(report, &cfg.tls, fp);
    }
    report.ok(format!(
        "logged in as {identity}; Proxmox VE {} answers",
        version.version
    ));

    report.section(format!("Privileges of {identity}{of}"));
    privileges_per_tool(report, &client).await;
    report.section(format!("Nodes{of}"));
    nodes(report, &client).await;
    report.section(format!("Guest agents (running VMs){of}"));
    agents(report, &client).await;
}

/// `user@realm!token` or `user@realm (password)`.
fn identity(cfg: &ClientConfig) -> String {
    match &cfg.credentials {
        Credentials::Token { name, .. } => format!("{}!{name} (API token)", cfg.user),
        Credentials::Password(_) => format!("{} (password, ticket login)", cfg.user),
    }
}

fn host_for_url(host: &str) -> String {
    if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_string()
    }
}

/// The certificate line once the configured TLS mode has accepted the certificate.
fn certificate_trusted(report: &mut Report, tls: &TlsMode, fp: &str) {
    match tls {
        TlsMode::Fingerprint(_) => report.ok(format!(
            "certificate SHA-256 {fp}: trusted (matches the pinned fingerprint)"
        )),
        TlsMode::CaFile(path) => report.ok(format!(
            "certificate SHA-256 {fp}: trusted (signed by a CA in {})",
            path.display()
        )),
        TlsMode::System => report.ok(format!(
            "certificate SHA-256 {fp}: trusted (system CA store)"
        )),
        TlsMode::Insecure => report.warn(
            format!("certificate SHA-256 {fp}: NOT verified (PROXMOX_VERIFY_SSL=false)"),
            format!(
                "anyone on the path can impersonate the cluster; once you have checked this \
                 fingerprint in the PVE GUI (node > System > Certificates), pin it: \
                 PROXMOX_FINGERPRINT={fp}"
            ),
        ),
    }
}

/// The first API call failed: say why, in the user's terms.
fn api_failure(
    report: &mut Report,
    cfg: &ClientConfig,
    identity: &str,
    fingerprint: Option<&str>,
    e: &pve_client::Error,
) {
    match e.kind() {
        ErrorKind::Tls => {
            let fp = fingerprint.unwrap_or("(unknown)");
            report.fail(
                format!("certificate SHA-256 {fp} is not trusted: {}", e.message()),
                format!(
                    "if this is the cluster's own (self-signed) certificate, compare the \
                     fingerprint with the PVE GUI (node > System > Certificates) and pin it: \
                     PROXMOX_FINGERPRINT={fp} (or fingerprint = \"{fp}\" in [cluster]); or trust \
                     the cluster CA: PROXMOX_CA_FILE=/etc/pve/pve-root-ca.pem"
                ),
            );
        }
        ErrorKind::Auth => {
            let what = match cfg.credentials {
                Credentials::Token { .. } => {
                    "check PROXMOX_USER (USER@REALM), PROXMOX_TOKEN_NAME and the token secret \
                     (PROXMOX_TOKEN_VALUE or PROXMOX_TOKEN_VALUE_FILE); the token must exist \
                     under Datacenter > Permissions > API Tokens"
                }
                Credentials::Password(_) => "check PROXMOX_USER (USER@REALM) and the password",
            };
            report.fail(
                format!("Proxmox VE refused {identity}: {}", e.message()),
                what.to_string(),
            );
        }
        _ => report.fail(format!("the Proxmox VE API did not answer: {e}"), None),
    }
}

/// `GET /access/permissions`, then one verdict per tool.
async fn privileges_per_tool(report: &mut Report, client: &PveClient) {
    let raw: Value = match client
        .get(&ApiPath::new("/access/permissions"), Params::new())
        .await
    {
        Ok(v) => v,
        Err(e) => {
            report.warn(
                format!("cannot read the effective privileges: {e}"),
                "tools may still fail with 403; check the token's permissions in the PVE GUI"
                    .to_string(),
            );
            return;
        }
    };
    let Some(perms) = Permissions::from_json(&raw) else {
        report.warn("unreadable answer from GET /access/permissions", None);
        return;
    };
    if perms.is_empty() {
        report.fail(
            "no privilege at all: every tool will fail with 403",
            "an API token with privilege separation needs its own permissions: Datacenter > \
             Permissions > Add > API Token Permission, e.g. PVEAuditor (read) or PVEVMAdmin \
             (operate) on /"
                .to_string(),
        );
        return;
    }
    let mut usable = Vec::new();
    let mut missing_any = false;
    for spec in crate::tools::all() {
        let access = spec.access.as_str();
        match privileges::judge(spec.name, &perms) {
            Verdict::Usable => usable.push(spec.name),
            Verdict::Limited(parts) => {
                let text = parts
                    .iter()
                    .map(|(p, paths)| format!("{p} only on {}", paths.join(", ")))
                    .collect::<Vec<_>>()
                    .join("; ");
                report.warn(format!("{} ({access}): {text}", spec.name), None);
            }
            Verdict::Missing(privs) => {
                missing_any = true;
                report.fail(
                    format!(
                        "{} ({access}) will fail with 403: missing {}",
                        spec.name,
                        privs.join(", ")
                    ),
                    None,
                );
            }
            Verdict::Unknown => {
                report.info(format!("{}: privileges not known to the doctor", spec.name))
            }
        }
    }
    if !usable.is_empty() {
        report.ok(format!(
            "{} tools have every privilege they need: {}",
            usable.len(),
            usable.join(", ")
        ));
    }
    if missing_any {
        report.add(
            Level::Info,
            "tools that will fail are still offered to agents",
            Some(
                "grant the missing privileges (PVEVMAdmin on / covers the VM.* ones, \
                 PVEDatastoreUser the Datastore.* ones, PVESDNUser SDN.Use), or keep those tools \
                 from agents (a read-only key or --read-only)"
                    .to_string(),
            ),
        );
    }
}

/// `GET /nodes`: each node online, or a problem.
async fn nodes(report: &mut Report, client: &PveClient) {
    let list = match client.nodes().await {
        Ok(l) => l,
        Err(e) => {
            report.fail(format!("cannot list nodes: {e}"), None);
            return;
        }
    };
    if list.is_empty() {
        report.warn(
            "no node visible",
            "the identity needs Sys.Audit on /nodes to see nodes".to_string(),
        );
        return;
    }
    quorum(report, client).await;
    for n in list {
        if n.status == "online" {
            let uptime = n
                .uptime
                .map(|s| format!(", up {}", human_duration(s)))
                .unwrap_or_default();
            report.ok(format!("{} online{uptime}", n.node));
        } else {
            report.fail(
                format!(
                    "{} is {}: tools acting on its guests will fail",
                    n.node, n.status
                ),
                "check the node (pvecm status on a cluster member), or migrate its guests"
                    .to_string(),
            );
        }
    }
}

/// `GET /cluster/status`: a cluster without quorum refuses every change. Silent when the
/// identity may not read it or the node is standalone.
async fn quorum(report: &mut Report, client: &PveClient) {
    let Ok(status) = client.cluster_status().await else {
        return;
    };
    let Some(cluster) = status.iter().find(|e| e.kind == "cluster") else {
        return;
    };
    let nodes = cluster
        .nodes
        .map(|n| format!(", {n} nodes"))
        .unwrap_or_default();
    match cluster.quorate {
        Some(true) => report.ok(format!("cluster {} is quorate{nodes}", cluster.name)),
        Some(false) => report.fail(
            format!(
                "cluster {} has no quorum{nodes}: Proxmox VE refuses every change",
                cluster.name
            ),
            "bring nodes back online (pvecm status shows the votes)".to_string(),
        ),
        None => {}
    }
}

/// Pings the guest agent of each running VM (`POST .../agent/ping`).
async fn agents(report: &mut Report, client: &PveClient) {
    let guests = match client.list_guests().await {
        Ok(g) => g,
        Err(e) => {
            report.warn(format!("cannot list guests: {e}"), None);
            return;
        }
    };
    let mut running: Vec<(u32, String, String)> = guests
        .iter()
        .filter(|g| g.kind == "qemu" && !g.template && g.status.as_deref() == Some("running"))
        .filter_map(|g| Some((g.vmid?, g.node.clone()?, g.name.clone().unwrap_or_default())))
        .collect();
    running.sort();
    if running.is_empty() {
        report.info("no running VM");
        return;
    }
    let total = running.len();
    running.truncate(MAX_AGENT_PINGS);
    let pings = running.iter().map(|(vmid, node, _)| async move {
        let path = ApiPath::new("/nodes")
            .seg(node)
            .lit("qemu")
            .seg(vmid)
            .lit("agent")
            .lit("ping");
        client.post::<Value>(&path, Params::new()).await
    });
    let results = join_all(pings).await;
    let mut working = Vec::new();
    let mut not = Vec::new();
    for ((vmid, _, name), r) in running.iter().zip(results) {
        let label = if name.is_empty() {
            vmid.to_string()
        } else {
            format!("{vmid} ({name})")
        };
        match r {
            Ok(_) => working.push(label),
            Err(e) => not.push(format!("{label}: {}", agent_reason(&e))),
        }
    }
    if !working.is_empty() {
        report.ok(format!(
            "guest agent answers in {} of {} running VMs: {}",
            working.len(),
            running.len(),
            working.join(", ")
        ));
    }
    if !not.is_empty() {
        report.info(format!("no working guest agent: {}", not.join("; ")));
        report.add(
            Level::Info,
            "execute_vm_command and IP addresses need the agent",
            Some(
                "install qemu-guest-agent in the guest and enable Options > QEMU Guest Agent"
                    .to_string(),
            ),
        );
    }
    if total > running.len() {
        report.info(format!(
            "checked the first {} of {total} running VMs",
            running.len()
        ));
    }
}

/// Why an agent ping failed, briefly.
fn agent_reason(e: &pve_client::Error) -> String {
    let msg = e.message();
    if e.kind() == ErrorKind::Permission {
        "no privilege to ask (VM.GuestAgent.Audit)".to_string()
    } else if msg.contains("No QEMU guest agent configured") {
        "agent not enabled in the VM options".to_string()
    } else if msg.contains("not running") {
        "agent not running in the guest".to_string()
    } else {
        msg.to_string()
    }
}

fn human_duration(secs: u64) -> String {
    let days = secs / 86_400;
    let hours = (secs % 86_400) / 3600;
    if days > 0 {
        format!("{days}d {hours}h")
    } else {
        format!("{hours}h {}m", (secs % 3600) / 60)
    }
}
