//! What QEMU VMs and LXC containers share: power actions, delete, config maps, migration
//! preflight; with calls generic over [`GuestKind`] (`/nodes/{node}/{qemu|lxc}/{vmid}/...`).
//!
//! Each action only sends the parameters its endpoint accepts; asking for one it does not
//! (e.g. `timeout` on a QEMU reset) is refused client-side with a Params error naming it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::cache::GuestKind;
use crate::client::PveClient;
use crate::de;
use crate::error::{Error, ErrorKind};
use crate::params::{ApiPath, Params, node_path};
use crate::upid::Upid;

/// `/nodes/{node}/{qemu|lxc}/{vmid}`.
pub(crate) fn guest_path(node: &str, kind: GuestKind, vmid: u32) -> ApiPath {
    node_path(node).lit(kind.as_str()).seg(vmid)
}

/// A power action (`POST .../status/{action}`); all are tasks and return a UPID.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PowerAction {
    Start,
    Stop,
    Shutdown,
    Reboot,
    /// QEMU only.
    Reset,
    Suspend,
    Resume,
}

impl PowerAction {
    /// The path part: `start`, `stop`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            PowerAction::Start => "start",
            PowerAction::Stop => "stop",
            PowerAction::Shutdown => "shutdown",
            PowerAction::Reboot => "reboot",
            PowerAction::Reset => "reset",
            PowerAction::Suspend => "suspend",
            PowerAction::Resume => "resume",
        }
    }
}

/// Optional parameters of a power action. Leave `None` what you do not need.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ActionOptions {
    /// Seconds: start/stop/shutdown/reboot (QEMU); shutdown/reboot (LXC).
    pub timeout: Option<u32>,
    /// Ignore locks (root only): most QEMU actions but reboot; LXC start/stop.
    pub skiplock: Option<bool>,
    /// Shutdown: stop hard if the clean shutdown times out (`forceStop`).
    pub force_stop: Option<bool>,
    /// Stop: also abort a running shutdown task (`overrule-shutdown`).
    pub overrule_shutdown: Option<bool>,
    /// QEMU suspend: hibernate to disk (`todisk`).
    pub todisk: Option<bool>,
}

/// Which optional parameter names an action accepts, per the PVE schema.
fn accepted(kind: GuestKind, action: PowerAction) -> Result<&'static [&'static str], Error> {
    use GuestKind::{Lxc, Qemu};
    use PowerAction::*;
    Ok(match (kind, action) {
        (Qemu, Start) => &["timeout", "skiplock"],
        (Qemu, Stop) => &["timeout", "skiplock", "overrule-shutdown"],
        (Qemu, Shutdown) => &["timeout", "skiplock", "forceStop"],
        (Qemu, Reboot) => &["timeout"],
        (Qemu, Reset) => &["skiplock"],
        (Qemu, Suspend) => &["skiplock", "todisk"],
        (Qemu, Resume) => &["skiplock"],
        (Lxc, Start) => &["skiplock"],
        (Lxc, Stop) => &["skiplock", "overrule-shutdown"],
        (Lxc, Shutdown) => &["timeout", "forceStop"],
        (Lxc, Reboot) => &["timeout"],
        (Lxc, Suspend | Resume) => &[],
        (Lxc, Reset) => {
            return Err(Error::new(
                ErrorKind::Params,
                "containers have no reset action; use stop then start",
            ));
        }
    })
}

fn action_params(kind: GuestKind, action: PowerAction, o: &ActionOptions) -> Result<Params, Error> {
    let allowed = accepted(kind, action)?;
    let wanted = Params::new()
        .opt("timeout", o.timeout)
        .opt("skiplock", o.skiplock)
        .opt("forceStop", o.force_stop)
        .opt("overrule-shutdown", o.overrule_shutdown)
        .opt("todisk", o.todisk);
    refuse_unknown(
        &wanted,
        allowed,
        &format!("{} {}", kind.noun(), action.as_str()),
    )?;
    Ok(wanted)
}

/// A client-side Params error for parameters an endpoint does not take.
pub(crate) fn refuse_unknown(p: &Params, allowed: &[&str], what: &str) -> Result<(), Error> {
    let bad: Vec<&str> = p
        .pairs()
        .iter()
        .map(|(k, _)| k.as_str())
        .filter(|k| !allowed.contains(k))
        .collect();
    if bad.is_empty() {
        return Ok(());
    }
    Err(Error::new(
        ErrorKind::Params,
        format!("{what} does not accept {}", bad.join(", ")),
    ))
}

/// Options of a guest destroy.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeleteOptions {
    /// Also remove the VMID from backup jobs, replication, HA and ACLs.
    pub purge: Option<bool>,
    /// Also destroy disks not referenced in the config but owned by the VMID.
    pub destroy_unreferenced_disks: Option<bool>,
    /// QEMU: ignore locks (root only).
    pub skiplock: Option<bool>,
    /// LXC: stop a running container first.
    pub force: Option<bool>,
}

/// A guest's configuration (`GET .../config`): PVE's key → value map, values as PVE sent them
/// (mostly strings, some numbers). Use the accessors for tolerant reads.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct GuestConfig(pub BTreeMap<String, Value>);

impl GuestConfig {
    /// A value as a string (`"2048"` and `2048` both give `"2048"`).
    pub fn get_str(&self, key: &str) -> Option<String> {
        match self.0.get(key)? {
            Value::String(s) => Some(s.clone()),
            Value::Null => None,
            v => Some(v.to_string()),
        }
    }
    /// A value as an integer, if it reads as one (`memory`, `cores`).
    pub fn get_int(&self, key: &str) -> Option<i64> {
        match self.0.get(key)? {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.trim().parse().ok(),
            Value::Bool(b) => Some(i64::from(*b)),
            _ => None,
        }
    }
    /// A 0/1 flag (`onboot`, `template`); absent is `false`.
    pub fn flag(&self, key: &str) -> bool {
        self.get_int(key).is_some_and(|v| v != 0)
    }
    /// The `digest` to pass back to detect concurrent edits.
    pub fn digest(&self) -> Option<String> {
        self.get_str("digest")
    }
    /// Numbered keys of a family with their values: `numbered("net")` → `[("net0", ...), ...]`.
    pub fn numbered(&self, prefix: &str) -> Vec<(String, String)> {
        self.0
            .iter()
            .filter(|(k, _)| {
                k.strip_prefix(prefix)
                    .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
            })
            .filter_map(|(k, _)| Some((k.clone(), self.get_str(k)?)))
            .collect()
    }
}

/// `GET .../migrate` preflight: where the guest may go. QEMU and LXC spell the keys differently
/// (`allowed_nodes` / `allowed-nodes`); both are read.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MigratePreflight {
    /// Whether the guest is running (an online migration is needed).
    #[serde(deserialize_with = "de::bool01")]
    pub running: bool,
    /// Nodes it can move to (only filled when no `target` was given, on QEMU).
    #[serde(alias = "allowed-nodes")]
    pub allowed_nodes: Vec<String>,
    /// Nodes it cannot move to, with PVE's reasons.
    #[serde(alias = "not-allowed-nodes")]
    pub not_allowed_nodes: BTreeMap<String, Value>,
    /// QEMU: local disks that would have to move.
    pub local_disks: Vec<Value>,
    /// QEMU: local resources (passthrough devices...) that block migration.
    pub local_resources: Vec<String>,
}

impl PveClient {
    /// `POST /nodes/{node}/{kind}/{vmid}/status/{action}` → task.
    pub async fn guest_action(
        &self,
        node: &str,
        kind: GuestKind,
        vmid: u32,
        action: PowerAction,
        opts: &ActionOptions,
    ) -> Result<Upid, Error> {
        let path = guest_path(node, kind, vmid)
            .lit("status")
            .lit(action.as_str());
        let params =
            action_params(kind, action, opts).map_err(|e| e.with_call("POST", path.as_str()))?;
        self.post(&path, params).await
    }

    /// `DELETE /nodes/{node}/{kind}/{vmid}` → task. Drops the guest cache.
    pub async fn guest_delete(
        &self,
        node: &str,
        kind: GuestKind,
        vmid: u32,
        opts: &DeleteOptions,
    ) -> Result<Upid, Error> {
        let path = guest_path(node, kind, vmid);
        let params = Params::new()
            .opt("purge", opts.purge)
            .opt(
                "destroy-unreferenced-disks",
                opts.destroy_unreferenced_disks,
            )
            .opt("skiplock", opts.skiplock)
            .opt("force", opts.force);
        let allowed: &[&str] = match kind {
            GuestKind::Qemu => &["purge", "destroy-unreferenced-disks", "skiplock"],
            GuestKind::Lxc => &["purge", "destroy-unreferenced-disks", "force"],
        };
        refuse_unknown(&params, allowed, &format!("{} delete", kind.noun()))
            .map_err(|e| e.with_call("DELETE", path.as_str()))?;
        let upid = self.delete(&path, params).await;
        self.invalidate_guest_cache();
        upid
    }

    /// `GET /nodes/{node}/{kind}/{vmid}/config` (pending changes applied unless `current`).
    pub async fn guest_config(
        &self,
        node: &str,
        kind: GuestKind,
        vmid: u32,
        current: Option<bool>,
    ) -> Result<GuestConfig, Error> {
        let path = guest_path(node, kind, vmid).lit("config");
        self.get(&path, Params::new().opt("current", current)).await
    }

    /// `GET /nodes/{node}/{kind}/{vmid}/migrate` preflight, optionally for one target node.
    pub async fn guest_migrate_preflight(
        &self,
        node: &str,
        kind: GuestKind,
        vmid: u32,
        target: Option<&str>,
    ) -> Result<MigratePreflight, Error> {
        let path = guest_path(node, kind, vmid).lit("migrate");
        self.get(&path, Params::new().opt("target", target)).await
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn actions_send_only_accepted_params() {
        let o = ActionOptions {
            timeout: Some(30),
            force_stop: Some(true),
            ..Default::default()
        };
        let p = action_params(GuestKind::Qemu, PowerAction::Shutdown, &o).unwrap();
        assert_eq!(p.encode(), "timeout=30&forceStop=1");
        let e = action_params(GuestKind::Qemu, PowerAction::Reset, &o).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Params);
        assert_eq!(e.to_string(), "VM reset does not accept timeout, forceStop");
        assert!(
            action_params(
                GuestKind::Lxc,
                PowerAction::Reset,
                &ActionOptions::default()
            )
            .is_err()
        );
        assert!(
            action_params(
                GuestKind::Lxc,
                PowerAction::Start,
                &ActionOptions::default()
            )
            .unwrap()
            .is_empty()
        );
    }

    #[test]
    fn config_accessors_tolerate_pve_types() {
        let c: GuestConfig = serde_json::from_str(
            r#"{"memory":"2048","cores":2,"onboot":"1","net0":"virtio=BC:24:11:00:00:01,bridge=vmbr0","net1":"e1000,bridge=vmbr1","netx":"no","digest":"abc"}"#,
        ).unwrap();
        assert_eq!(c.get_int("memory"), Some(2048));
        assert_eq!(c.get_str("cores").as_deref(), Some("2"));
        assert!(c.flag("onboot"));
        assert!(!c.flag("template"));
        assert_eq!(c.digest().as_deref(), Some("abc"));
        let nets: Vec<String> = c.numbered("net").into_iter().map(|(k, _)| k).collect();
        assert_eq!(nets, ["net0", "net1"]);
    }

    #[test]
    fn preflight_reads_both_spellings() {
        let q: MigratePreflight = serde_json::from_str(
            r#"{"running":1,"allowed_nodes":["pve2"],"not_allowed_nodes":{"pve3":{"unavailable_storages":["local-lvm"]}},"local_disks":[],"local_resources":[]}"#,
        ).unwrap();
        assert!(q.running);
        assert_eq!(q.allowed_nodes, ["pve2"]);
        let l: MigratePreflight = serde_json::from_str(
            r#"{"running":0,"allowed-nodes":["pve2"],"not-allowed-nodes":{}}"#,
        )
        .unwrap();
        assert_eq!((l.running, l.allowed_nodes.len()), (false, 1));
    }
}
