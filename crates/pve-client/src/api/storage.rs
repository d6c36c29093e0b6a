//! Storage calls: per-node storage status (`/nodes/{node}/storage...`), volumes (content list,
//! info, allocate, update, delete), and the datacenter storage config (`/storage...`).
//! For a cluster-wide overview prefer [`PveClient::list_storage`] (one request).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::client::PveClient;
use crate::de;
use crate::error::Error;
use crate::params::{ApiPath, Params, node_path};
use crate::upid::Upid;

/// One entry of `GET /nodes/{node}/storage`, or `GET .../storage/{storage}/status`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct NodeStorage {
    /// Absent in `.../status` answers (the id is in the path).
    pub storage: String,
    /// Plugin type: `dir`, `lvmthin`, `zfspool`, `nfs`, `pbs`, ...
    #[serde(rename = "type")]
    pub kind: String,
    /// Content types: `images,rootdir`, `iso,vztmpl,backup`.
    pub content: String,
    #[serde(deserialize_with = "de::bool01")]
    pub enabled: bool,
    #[serde(deserialize_with = "de::bool01")]
    pub active: bool,
    #[serde(deserialize_with = "de::bool01")]
    pub shared: bool,
    /// Bytes.
    #[serde(
        deserialize_with = "de::opt_int",
        skip_serializing_if = "Option::is_none"
    )]
    pub total: Option<u64>,
    #[serde(
        deserialize_with = "de::opt_int",
        skip_serializing_if = "Option::is_none"
    )]
    pub used: Option<u64>,
    #[serde(
        deserialize_with = "de::opt_int",
        skip_serializing_if = "Option::is_none"
    )]
    pub avail: Option<u64>,
    #[serde(
        deserialize_with = "de::opt_float",
        skip_serializing_if = "Option::is_none"
    )]
    pub used_fraction: Option<f64>,
}

/// Filters of `GET /nodes/{node}/storage`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NodeStorageQuery {
    /// Only storages holding this content type (`images`, `backup`, ...).
    pub content: Option<String>,
    /// Only enabled storages.
    pub enabled: Option<bool>,
    /// Only this storage.
    pub storage: Option<String>,
    /// Only storages also usable from this node (for migration).
    pub target: Option<String>,
}

/// One volume of `GET /nodes/{node}/storage/{storage}/content`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct StorageContent {
    /// `local:backup/vzdump-qemu-100-2026_01_01-00_00_00.vma.zst`.
    pub volid: String,
    /// `images`, `rootdir`, `iso`, `vztmpl`, `backup`, `snippets`, `import`.
    pub content: String,
    /// `raw`, `qcow2`, `subvol`, `iso`, `vma.zst`, `tgz`, ...
    pub format: String,
    /// Bytes.
    #[serde(deserialize_with = "de::int")]
    pub size: u64,
    #[serde(
        deserialize_with = "de::opt_int",
        skip_serializing_if = "Option::is_none"
    )]
    pub used: Option<u64>,
    #[serde(
        deserialize_with = "de::opt_int",
        skip_serializing_if = "Option::is_none"
    )]
    pub ctime: Option<i64>,
    /// Owner VMID (disk images, backups).
    #[serde(
        deserialize_with = "de::opt_int",
        skip_serializing_if = "Option::is_none"
    )]
    pub vmid: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    #[serde(deserialize_with = "de::bool01")]
    pub protected: bool,
    /// Base image of a linked clone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    #[serde(
        deserialize_with = "de::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub encrypted: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verification: Option<Value>,
}

/// `GET /nodes/{node}/storage/{storage}/content/{volume}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct VolumeInfo {
    pub format: String,
    pub path: String,
    #[serde(deserialize_with = "de::int")]
    pub size: u64,
    #[serde(deserialize_with = "de::int")]
    pub used: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    #[serde(deserialize_with = "de::bool01")]
    pub protected: bool,
}

/// Parameters of `POST /nodes/{node}/storage/{storage}/content` (allocate a disk image).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VolumeAlloc {
    pub vmid: u32,
    /// `vm-{vmid}-disk-{n}` (with `.qcow2` etc. on file storages).
    pub filename: String,
    /// `4G`, `512M`, or KiB as a bare number.
    pub size: String,
    /// `raw`, `qcow2`, `subvol`, `vmdk`.
    pub format: Option<String>,
}

/// An entry of the datacenter storage config (`GET /storage`, `GET /storage/{storage}`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct StorageConfig {
    pub storage: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub content: String,
    #[serde(deserialize_with = "de::bool01")]
    pub shared: bool,
    #[serde(deserialize_with = "de::bool01")]
    pub disable: bool,
    /// Nodes the storage is limited to (absent: all).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nodes: Option<String>,
    /// Everything else (`path`, `vgname`, `thinpool`, `server`, `digest`, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

fn storage_path(node: &str, storage: &str) -> ApiPath {
    node_path(node).lit("storage").seg(storage)
}

impl PveClient {
    /// `GET /nodes/{node}/storage`: status of the storages usable on a node.
    pub async fn node_storage(
        &self,
        node: &str,
        q: &NodeStorageQuery,
    ) -> Result<Vec<NodeStorage>, Error> {
        let params = Params::new()
            .opt("content", q.content.as_deref())
            .opt("enabled", q.enabled)
            .opt("storage", q.storage.as_deref())
            .opt("target", q.target.as_deref());
        self.get(&node_path(node).lit("storage"), params).await
    }

    /// `GET /nodes/{node}/storage/{storage}/status`.
    pub async fn storage_status(&self, node: &str, storage: &str) -> Result<NodeStorage, Error> {
        let mut s: NodeStorage = self
            .get(&storage_path(node, storage).lit("status"), Params::new())
            .await?;
        if s.storage.is_empty() {
            s.storage = storage.to_owned();
        }
        Ok(s)
    }

    /// `GET /nodes/{node}/storage/{storage}/content[?content=..&vmid=..]`.
    pub async fn storage_content(
        &self,
        node: &str,
        storage: &str,
        content: Option<&str>,
        vmid: Option<u32>,
    ) -> Result<Vec<StorageContent>, Error> {
        let params = Params::new().opt("content", content).opt("vmid", vmid);
        self.get(&storage_path(node, storage).lit("content"), params)
            .await
    }

    /// `GET /nodes/{node}/storage/{storage}/content/{volume}` (`volume` is the full volid).
    pub async fn volume_info(
        &self,
        node: &str,
        storage: &str,
        volume: &str,
    ) -> Result<VolumeInfo, Error> {
        let path = storage_path(node, storage).lit("content").seg(volume);
        self.get(&path, Params::new()).await
    }

    /// `POST /nodes/{node}/storage/{storage}/content`: allocates a disk image; returns its volid.
    pub async fn volume_alloc(
        &self,
        node: &str,
        storage: &str,
        spec: &VolumeAlloc,
    ) -> Result<String, Error> {
        let params = Params::new()
            .set("vmid", spec.vmid)
            .set("filename", spec.filename.as_str())
            .set("size", spec.size.as_str())
            .opt("format", spec.format.as_deref());
        self.post(&storage_path(node, storage).lit("content"), params)
            .await
    }

    /// `PUT /nodes/{node}/storage/{storage}/content/{volume}`: notes and protection (backups).
    pub async fn volume_update(
        &self,
        node: &str,
        storage: &str,
        volume: &str,
        notes: Option<&str>,
        protected: Option<bool>,
    ) -> Result<(), Error> {
        let path = storage_path(node, storage).lit("content").seg(volume);
        let params = Params::new()
            .opt("notes", notes)
            .opt("protected", protected);
        let _: Option<Value> = self.put(&path, params).await?;
        Ok(())
    }

    /// `DELETE /nodes/{node}/storage/{storage}/content/{volume}`: a task, or `None` when PVE
    /// deleted it within `delay` seconds (or at once).
    pub async fn volume_delete(
        &self,
        node: &str,
        storage: &str,
        volume: &str,
        delay: Option<u32>,
    ) -> Result<Option<Upid>, Error> {
        let path = storage_path(node, storage).lit("content").seg(volume);
        self.delete(&path, Params::new().opt("delay", delay)).await
    }

    /// `GET /storage[?type=..]`: the datacenter storage config.
    pub async fn storage_list(&self, kind: Option<&str>) -> Result<Vec<StorageConfig>, Error> {
        self.get(&ApiPath::new("/storage"), Params::new().opt("type", kind))
            .await
    }

    /// `GET /storage/{storage}`.
    pub async fn storage_config(&self, storage: &str) -> Result<StorageConfig, Error> {
        self.get(&ApiPath::new("/storage").seg(storage), Params::new())
            .await
    }

    /// `POST /storage`: adds a storage of plugin type `kind`; `options` hold the
    /// plugin's keys (`path`, `content`, `server`, `export`, ...).
    pub async fn storage_create(
        &self,
        storage: &str,
        kind: &str,
        options: Params,
    ) -> Result<Value, Error> {
        let params = Params::new()
            .set("storage", storage)
            .set("type", kind)
            .extend(options);
        self.post(&ApiPath::new("/storage"), params).await
    }

    /// `PUT /storage/{storage}`: changes a storage's config (`delete`, `digest` accepted).
    pub async fn storage_update(&self, storage: &str, options: Params) -> Result<Value, Error> {
        self.put(&ApiPath::new("/storage").seg(storage), options)
            .await
    }

    /// `DELETE /storage/{storage}`: removes the storage from the config (data stays).
    pub async fn storage_delete(&self, storage: &str) -> Result<(), Error> {
        let _: Option<Value> = self
            .delete(&ApiPath::new("/storage").seg(storage), Params::new())
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn storage_types_parse() {
        let s: Vec<NodeStorage> = serde_json::from_str(r#"[{"storage": "local", "type": "dir", "content": "iso,vztmpl,backup",
            "enabled": 1, "active": 1, "shared": 0, "total": 53687091200, "used": 0, "avail": 53687091200, "used_fraction": 0.0}]"#).unwrap();
        assert_eq!(
            (s[0].enabled, s[0].shared, s[0].total),
            (true, false, Some(53_687_091_200))
        );
        let c: Vec<StorageContent> = serde_json::from_str(r#"[{"volid": "local:backup/vzdump-qemu-100.vma.zst",
            "content": "backup", "format": "vma.zst", "size": "1024", "ctime": 1700000000, "vmid": 100, "protected": 1}]"#).unwrap();
        assert_eq!(
            (c[0].size, c[0].vmid, c[0].protected),
            (1024, Some(100), true)
        );
        let cfg: StorageConfig = serde_json::from_str(
            r#"{"storage": "local-lvm", "type": "lvmthin", "content": "images,rootdir",
            "vgname": "pve", "thinpool": "data", "digest": "80d4"}"#,
        )
        .unwrap();
        assert_eq!(
            (cfg.kind.as_str(), cfg.extra["vgname"].as_str()),
            ("lvmthin", Some("pve"))
        );
    }
}
