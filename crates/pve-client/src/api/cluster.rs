//! Cluster-wide calls: `/version`, `/cluster/status`, `/cluster/resources` (one request for all
//! guests or storages of the cluster), `/cluster/nextid`, and the VMID → node lookup built on it.

use serde::{Deserialize, Serialize};

use crate::cache::{GuestKind, GuestLocation};
use crate::client::PveClient;
use crate::de;
use crate::error::{Error, ErrorKind};
use crate::params::{ApiPath, Params};

/// `GET /version`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Version {
    /// `9.1.3`.
    #[serde(deserialize_with = "de::string")]
    pub version: String,
    /// `9.1`.
    #[serde(deserialize_with = "de::string")]
    pub release: String,
    pub repoid: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub console: Option<String>,
}

/// One entry of `GET /cluster/status`: the cluster itself or a node.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ClusterStatusEntry {
    /// `cluster` or `node`.
    #[serde(rename = "type")]
    pub kind: String,
    pub id: String,
    pub name: String,
    /// Cluster: number of nodes.
    #[serde(
        deserialize_with = "de::opt_int",
        skip_serializing_if = "Option::is_none"
    )]
    pub nodes: Option<u32>,
    /// Cluster: whether it has quorum.
    #[serde(
        deserialize_with = "de::opt_bool",
        skip_serializing_if = "Option::is_none"
    )]
    pub quorate: Option<bool>,
    /// Cluster: config version.
    #[serde(
        deserialize_with = "de::opt_int",
        skip_serializing_if = "Option::is_none"
    )]
    pub version: Option<u64>,
    /// Node: corosync node id.
    #[serde(
        deserialize_with = "de::opt_int",
        skip_serializing_if = "Option::is_none"
    )]
    pub nodeid: Option<u32>,
    /// Node: address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    /// Node: online.
    #[serde(
        deserialize_with = "de::opt_bool",
        skip_serializing_if = "Option::is_none"
    )]
    pub online: Option<bool>,
    /// Node: the node that answered.
    #[serde(
        deserialize_with = "de::opt_bool",
        skip_serializing_if = "Option::is_none"
    )]
    pub local: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub level: Option<String>,
}

/// The `type` filter of `/cluster/resources`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResourceType {
    /// QEMU VMs and LXC containers.
    Vm,
    Storage,
    Node,
    Sdn,
}

impl ResourceType {
    fn as_str(self) -> &'static str {
        match self {
            ResourceType::Vm => "vm",
            ResourceType::Storage => "storage",
            ResourceType::Node => "node",
            ResourceType::Sdn => "sdn",
        }
    }
}

/// One entry of `GET /cluster/resources`: a guest, storage, node, pool or SDN object.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ClusterResource {
    /// `qemu/100`, `lxc/200`, `storage/pve1/local`, `node/pve1`.
    pub id: String,
    /// `qemu`, `lxc`, `storage`, `node`, `pool`, `sdn`, ...
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    #[serde(
        deserialize_with = "de::opt_int",
        skip_serializing_if = "Option::is_none"
    )]
    pub vmid: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Guests: `running`/`stopped`; nodes: `online`/`offline`; storage: `available`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(deserialize_with = "de::bool01")]
    pub template: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lock: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pool: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hastate: Option<String>,
    #[serde(
        deserialize_with = "de::opt_float",
        skip_serializing_if = "Option::is_none"
    )]
    pub cpu: Option<f64>,
    #[serde(
        deserialize_with = "de::opt_float",
        skip_serializing_if = "Option::is_none"
    )]
    pub maxcpu: Option<f64>,
    #[serde(
        deserialize_with = "de::opt_int",
        skip_serializing_if = "Option::is_none"
    )]
    pub mem: Option<u64>,
    #[serde(
        deserialize_with = "de::opt_int",
        skip_serializing_if = "Option::is_none"
    )]
    pub maxmem: Option<u64>,
    #[serde(
        deserialize_with = "de::opt_int",
        skip_serializing_if = "Option::is_none"
    )]
    pub disk: Option<u64>,
    #[serde(
        deserialize_with = "de::opt_int",
        skip_serializing_if = "Option::is_none"
    )]
    pub maxdisk: Option<u64>,
    #[serde(
        deserialize_with = "de::opt_int",
        skip_serializing_if = "Option::is_none"
    )]
    pub uptime: Option<u64>,
    #[serde(
        deserialize_with = "de::opt_int",
        skip_serializing_if = "Option::is_none"
    )]
    pub netin: Option<u64>,
    #[serde(
        deserialize_with = "de::opt_int",
        skip_serializing_if = "Option::is_none"
    )]
    pub netout: Option<u64>,
    #[serde(
        deserialize_with = "de::opt_int",
        skip_serializing_if = "Option::is_none"
    )]
    pub diskread: Option<u64>,
    #[serde(
        deserialize_with = "de::opt_int",
        skip_serializing_if = "Option::is_none"
    )]
    pub diskwrite: Option<u64>,
    /// Storage: its id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storage: Option<String>,
    /// Storage: plugin type (`dir`, `lvmthin`, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plugintype: Option<String>,
    /// Storage: content types (`images,rootdir`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    /// Storage: shared between nodes.
    #[serde(
        deserialize_with = "de::opt_bool",
        skip_serializing_if = "Option::is_none"
    )]
    pub shared: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub level: Option<String>,
}

impl ClusterResource {
    /// `Qemu`/`Lxc` for guests.
    pub fn guest_kind(&self) -> Option<GuestKind> {
        GuestKind::from_type(&self.kind)
    }

    /// Where this guest lives, if it is a guest.
    pub fn location(&self) -> Option<GuestLocation> {
        Some(GuestLocation {
            vmid: self.vmid?,
            node: self.node.clone()?,
            kind: self.guest_kind()?,
        })
    }
}

/// A VMID as PVE sends it from `/cluster/nextid` (a string, or an int).
#[derive(Deserialize)]
struct Vmid(#[serde(deserialize_with = "de::int")] u32);

impl PveClient {
    /// `GET /version`.
    pub async fn version(&self) -> Result<Version, Error> {
        self.get(&ApiPath::new("/version"), Params::new()).await
    }

    /// `GET /cluster/status`: the cluster entry (if clustered) and one entry per node.
    pub async fn cluster_status(&self) -> Result<Vec<ClusterStatusEntry>, Error> {
        self.get(&ApiPath::new("/cluster/status"), Params::new())
            .await
    }

    /// `GET /cluster/resources[?type=...]`: everything in the cluster, in one request.
    pub async fn cluster_resources(
        &self,
        kind: Option<ResourceType>,
    ) -> Result<Vec<ClusterResource>, Error> {
        let params = Params::new().opt("type", kind.map(ResourceType::as_str));
        self.get(&ApiPath::new("/cluster/resources"), params).await
    }

    /// All VMs and containers of the cluster (`/cluster/resources?type=vm`, one request).
    /// Also refreshes the VMID → node cache.
    pub async fn list_guests(&self) -> Result<Vec<ClusterResource>, Error> {
        let guests: Vec<ClusterResource> = self
            .cluster_resources(Some(ResourceType::Vm))
            .await?
            .into_iter()
            .filter(|r| r.guest_kind().is_some())
            .collect();
        self.inner
            .guests
            .store(guests.iter().filter_map(ClusterResource::location));
        Ok(guests)
    }

    /// All storages of all nodes (`/cluster/resources?type=storage`, one request).
    pub async fn list_storage(&self) -> Result<Vec<ClusterResource>, Error> {
        Ok(self
            .cluster_resources(Some(ResourceType::Storage))
            .await?
            .into_iter()
            .filter(|r| r.kind == "storage")
            .collect())
    }

    /// Where guest `vmid` lives (node and kind), from a short-lived cache of
    /// `/cluster/resources?type=vm`; a miss refreshes it once. NotFound if no such guest.
    pub async fn find_guest(&self, vmid: u32) -> Result<GuestLocation, Error> {
        if let Some(loc) = self.inner.guests.get(vmid) {
            return Ok(loc);
        }
        let guests = self.list_guests().await?;
        guests
            .iter()
            .find(|g| g.vmid == Some(vmid))
            .and_then(ClusterResource::location)
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::NotFound,
                    format!("no VM or container with VMID {vmid} in the cluster"),
                )
            })
    }

    /// Forgets the VMID → node cache (the client does this itself after create, delete,
    /// clone and migrate).
    pub fn invalidate_guest_cache(&self) {
        self.inner.guests.invalidate();
    }

    /// `GET /cluster/nextid[?vmid=N]`: the next free VMID, or checks that `vmid` is free
    /// (a Params error if taken).
    pub async fn next_id(&self, vmid: Option<u32>) -> Result<u32, Error> {
        let id: Vmid = self
            .get(
                &ApiPath::new("/cluster/nextid"),
                Params::new().opt("vmid", vmid),
            )
            .await?;
        Ok(id.0)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn resources_parse_with_pve_types() {
        let r: Vec<ClusterResource> = serde_json::from_str(r#"[
            {"id":"qemu/100","type":"qemu","node":"pve1","name":"vm1","vmid":100,"status":"running","template":0,"cpu":0.02,"mem":67108864,"maxmem":"2147483648","maxcpu":2,"uptime":13},
            {"id":"lxc/200","type":"lxc","node":"pve1","vmid":"200","status":"stopped","template":1,"lock":"backup"},
            {"id":"storage/pve1/local","type":"storage","node":"pve1","storage":"local","status":"available","plugintype":"dir","content":"iso,vztmpl,backup","shared":0,"disk":0,"maxdisk":107374182400}
        ]"#).unwrap();
        assert_eq!(r[0].maxmem, Some(2_147_483_648));
        assert_eq!(
            r[0].location().unwrap(),
            GuestLocation {
                vmid: 100,
                node: "pve1".into(),
                kind: GuestKind::Qemu
            }
        );
        assert_eq!(
            (r[1].vmid, r[1].template, r[1].lock.as_deref()),
            (Some(200), true, Some("backup"))
        );
        assert_eq!(r[2].location(), None);
        assert_eq!(r[2].shared, Some(false));
    }

    #[test]
    fn nextid_is_read_from_string_or_int() {
        assert_eq!(serde_json::from_str::<Vmid>(r#""102""#).unwrap().0, 102);
        assert_eq!(serde_json::from_str::<Vmid>("103").unwrap().0, 103);
    }
}
