//! The doctor's SSH section: each node's host key as it presents it (read without logging in),
//! with its SHA-256 fingerprint and whether the configured trust (pins, known_hosts) accepts
//! it, so that an admin can check it on the node and pin it. Nothing is run on a node.

use pve_client::PveClient;
use pve_client::ssh::SshClient;

use super::Report;

/// Probes every node of the cluster `api` reaches over `ssh`; `of` is the cluster's suffix in
/// section titles (` (prod)`, or empty).
pub(super) async fn check(report: &mut Report, of: &str, api: &PveClient, ssh: Option<&SshClient>) {
    report.section(format!("SSH to the nodes{of}"));
    let Some(ssh) = ssh else {
        report.info(
            "SSH to the nodes is not configured: execute_container_command and \
             execute_node_command answer that they cannot run (see [cluster.ssh] in \
             docs/configuration.md)",
        );
        return;
    };
    let cfg = ssh.config();
    report.info(format!(
        "login as {} with {}",
        cfg.user,
        cfg.key_file.display()
    ));
    let nodes: Vec<String> = match api.cluster_status().await {
        Ok(status) => status
            .into_iter()
            .filter(|e| e.kind == "node")
            .map(|e| e.name)
            .collect(),
        Err(e) => {
            report.fail(
                format!("cannot list the nodes (GET /cluster/status): {e}"),
                None,
            );
            return;
        }
    };
    for node in nodes {
        match ssh.probe_host_key(&node).await {
            Ok(p) if p.trusted => report.ok(format!(
                "node {node} at {}: host key {} ({}) is trusted",
                p.address, p.fingerprint, p.algorithm
            )),
            Ok(p) => report.fail(
                format!(
                    "node {node} at {}: host key {} ({}) is not trusted: {}",
                    p.address,
                    p.fingerprint,
                    p.algorithm,
                    p.refusal.unwrap_or_default()
                ),
                format!(
                    "check it on the node (ssh-keygen -lf /etc/ssh/ssh_host_{}_key.pub) and, if \
                     it is the same, pin it: fingerprints = {{ {node} = \"{}\" }} in \
                     [cluster.ssh] (or PROXMOX_SSH_FINGERPRINTS={node}={})",
                    key_file_kind(&p.algorithm),
                    p.fingerprint,
                    p.fingerprint
                ),
            ),
            Err(e) => report.fail(
                format!("node {node}: cannot read its SSH host key: {e}"),
                "check the node's address (addresses in [cluster.ssh]) and port, and that sshd \
                 runs there"
                    .to_string(),
            ),
        }
    }
}

/// `ed25519`, `ecdsa` or `rsa`: the part of the host key's file name.
fn key_file_kind(algorithm: &str) -> &'static str {
    if algorithm.contains("ed25519") {
        "ed25519"
    } else if algorithm.starts_with("ecdsa") {
        "ecdsa"
    } else {
        "rsa"
    }
}
