//! Snapshot calls, for VMs and containers alike (`/nodes/{node}/{qemu|lxc}/{vmid}/snapshot...`):
//! list, create, delete, rollback, read and update a snapshot's config.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::guest::{GuestConfig, guest_path};
use crate::cache::GuestKind;
use crate::client::PveClient;
use crate::de;
use crate::error::{Error, ErrorKind};
use crate::params::{ApiPath, Params};
use crate::upid::Upid;

/// One entry of a snapshot list. The list always holds the pseudo-snapshot `current`
/// ("You are here!"), whose `parent` is the latest snapshot.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SnapshotEntry {
    pub name: String,
    #[serde(deserialize_with = "de::string")]
    pub description: String,
    /// Unix time of creation (absent on `current`).
    #[serde(
        deserialize_with = "de::opt_int",
        skip_serializing_if = "Option::is_none"
    )]
    pub snaptime: Option<i64>,
    /// QEMU: whether RAM was saved too.
    #[serde(
        deserialize_with = "de::opt_bool",
        skip_serializing_if = "Option::is_none"
    )]
    pub vmstate: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// `current` only: whether the guest runs.
    #[serde(
        deserialize_with = "de::opt_bool",
        skip_serializing_if = "Option::is_none"
    )]
    pub running: Option<bool>,
}

impl SnapshotEntry {
    /// Whether this is the `current` pseudo-entry rather than a real snapshot.
    pub fn is_current(&self) -> bool {
        self.name == "current"
    }
}

/// Parameters of a snapshot creation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SnapshotCreate {
    /// Name (`pve-configid`: letters, digits, `-`, `_`; up to 40 chars).
    pub snapname: String,
    pub description: Option<String>,
    /// QEMU only: save the RAM too.
    pub vmstate: Option<bool>,
}

fn snap_path(node: &str, kind: GuestKind, vmid: u32) -> ApiPath {
    guest_path(node, kind, vmid).lit("snapshot")
}

impl PveClient {
    /// `GET .../snapshot`.
    pub async fn snapshot_list(
        &self,
        node: &str,
        kind: GuestKind,
        vmid: u32,
    ) -> Result<Vec<SnapshotEntry>, Error> {
        self.get(&snap_path(node, kind, vmid), Params::new()).await
    }

    /// `POST .../snapshot` → task `qmsnapshot` / `vzsnapshot`.
    pub async fn snapshot_create(
        &self,
        node: &str,
        kind: GuestKind,
        vmid: u32,
        spec: &SnapshotCreate,
    ) -> Result<Upid, Error> {
        let path = snap_path(node, kind, vmid);
        if kind == GuestKind::Lxc && spec.vmstate.is_some() {
            return Err(
                Error::new(ErrorKind::Params, "CT snapshot does not accept vmstate")
                    .with_call("POST", path.as_str()),
            );
        }
        let params = Params::new()
            .set("snapname", spec.snapname.as_str())
            .opt("description", spec.description.as_deref())
            .opt("vmstate", spec.vmstate);
        self.post(&path, params).await
    }

    /// `DELETE .../snapshot/{snapname}` → task `qmdelsnapshot` / `vzdelsnapshot`.
    /// `force` removes the config entry even if removing disk snapshots fails.
    pub async fn snapshot_delete(
        &self,
        node: &str,
        kind: GuestKind,
        vmid: u32,
        snapname: &str,
        force: Option<bool>,
    ) -> Result<Upid, Error> {
        let path = snap_path(node, kind, vmid).seg(snapname);
        self.delete(&path, Params::new().opt("force", force)).await
    }

    /// `POST .../snapshot/{snapname}/rollback` → task `qmrollback` / `vzrollback`.
    /// `start` starts the guest afterwards.
    pub async fn snapshot_rollback(
        &self,
        node: &str,
        kind: GuestKind,
        vmid: u32,
        snapname: &str,
        start: Option<bool>,
    ) -> Result<Upid, Error> {
        let path = snap_path(node, kind, vmid).seg(snapname).lit("rollback");
        self.post(&path, Params::new().opt("start", start)).await
    }

    /// `GET .../snapshot/{snapname}/config`: the guest config saved in the snapshot.
    pub async fn snapshot_config(
        &self,
        node: &str,
        kind: GuestKind,
        vmid: u32,
        snapname: &str,
    ) -> Result<GuestConfig, Error> {
        let path = snap_path(node, kind, vmid).seg(snapname).lit("config");
        self.get(&path, Params::new()).await
    }

    /// `PUT .../snapshot/{snapname}/config`: change a snapshot's description.
    pub async fn snapshot_set_description(
        &self,
        node: &str,
        kind: GuestKind,
        vmid: u32,
        snapname: &str,
        description: &str,
    ) -> Result<(), Error> {
        let path = snap_path(node, kind, vmid).seg(snapname).lit("config");
        let _: Option<Value> = self
            .put(&path, Params::new().set("description", description))
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn list_parses_current_entry() {
        let l: Vec<SnapshotEntry> = serde_json::from_str(r#"[
            {"name": "snap1", "snaptime": 1795538578, "vmstate": 0, "description": "test"},
            {"name": "current", "digest": "876e", "running": 1, "description": "You are here!", "parent": "snap1"}
        ]"#).unwrap();
        assert_eq!(
            (l[0].snaptime, l[0].vmstate, l[0].is_current()),
            (Some(1_795_538_578), Some(false), false)
        );
        assert_eq!(
            (l[1].running, l[1].parent.as_deref(), l[1].is_current()),
            (Some(true), Some("snap1"), true)
        );
    }
}
