//! Disks and images: moving a VM disk (`POST .../qemu/{vmid}/move_disk`) or a container volume
//! (`POST .../lxc/{vmid}/move_volume`) to another storage, downloading a file from a URL onto a
//! storage (`POST .../storage/{storage}/download-url`), and the appliance index of container
//! templates (`GET`/`POST /nodes/{node}/aplinfo`). Resizing is in `qemu.rs` and `lxc.rs`.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::guest::guest_path;
use crate::cache::GuestKind;
use crate::client::PveClient;
use crate::de;
use crate::error::Error;
use crate::params::{Params, node_path};
use crate::upid::Upid;

/// A disk or volume to move to another storage.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DiskMove {
    /// The disk key: `scsi0`, `virtio1` (VMs), `rootfs`, `mp0` (containers).
    pub disk: String,
    /// Target storage.
    pub storage: String,
    /// Delete the source once copied (else it stays as `unusedN`).
    pub delete: Option<bool>,
    /// VMs only: `raw`, `qcow2`, `vmdk`.
    pub format: Option<String>,
    /// Only if the guest's config still has this digest.
    pub digest: Option<String>,
}

/// A file to fetch onto a storage (`download-url`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DownloadUrl {
    pub url: String,
    /// `iso`, `vztmpl` or `import`.
    pub content: String,
    /// The file name on the storage.
    pub filename: String,
    pub checksum: Option<String>,
    /// `md5`, `sha1`, `sha224`, `sha256`, `sha384`, `sha512`.
    pub checksum_algorithm: Option<String>,
    /// Decompress with this algorithm (`gz`, `lzo`, `zst`, `bz2`).
    pub compression: Option<String>,
    pub verify_certificates: Option<bool>,
}

/// One appliance of `GET /nodes/{node}/aplinfo`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Appliance {
    /// The file name to download (`debian-12-standard_12.12-1_amd64.tar.zst`).
    pub template: String,
    /// `system`, `turnkeylinux`, `mail`.
    pub section: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub os: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub headline: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha512sum: Option<String>,
    /// Bytes (absent from some entries).
    #[serde(
        deserialize_with = "de::opt_int",
        skip_serializing_if = "Option::is_none"
    )]
    pub size: Option<u64>,
    /// Everything else (`package`, `maintainer`, `infopage`, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl PveClient {
    /// `POST /nodes/{node}/qemu/{vmid}/move_disk` → task `qmmove`.
    pub async fn qemu_move_disk(
        &self,
        node: &str,
        vmid: u32,
        spec: &DiskMove,
    ) -> Result<Upid, Error> {
        let path = guest_path(node, GuestKind::Qemu, vmid).lit("move_disk");
        let params = Params::new()
            .set("disk", spec.disk.as_str())
            .set("storage", spec.storage.as_str())
            .opt("delete", spec.delete)
            .opt("format", spec.format.as_deref())
            .opt("digest", spec.digest.as_deref());
        self.post(&path, params).await
    }

    /// `POST /nodes/{node}/lxc/{vmid}/move_volume` → task `move_volume` (the container must be
    /// stopped; `format` is not taken).
    pub async fn lxc_move_volume(
        &self,
        node: &str,
        vmid: u32,
        spec: &DiskMove,
    ) -> Result<Upid, Error> {
        let path = guest_path(node, GuestKind::Lxc, vmid).lit("move_volume");
        let params = Params::new()
            .set("volume", spec.disk.as_str())
            .set("storage", spec.storage.as_str())
            .opt("delete", spec.delete)
            .opt("digest", spec.digest.as_deref());
        self.post(&path, params).await
    }

    /// `POST /nodes/{node}/storage/{storage}/download-url` → task `download`.
    pub async fn download_url(
        &self,
        node: &str,
        storage: &str,
        spec: &DownloadUrl,
    ) -> Result<Upid, Error> {
        let path = node_path(node)
            .lit("storage")
            .seg(storage)
            .lit("download-url");
        let params = Params::new()
            .set("url", spec.url.as_str())
            .set("content", spec.content.as_str())
            .set("filename", spec.filename.as_str())
            .opt("checksum", spec.checksum.as_deref())
            .opt("checksum-algorithm", spec.checksum_algorithm.as_deref())
            .opt("compression", spec.compression.as_deref())
            .opt("verify-certificates", spec.verify_certificates);
        self.post(&path, params).await
    }

    /// `GET /nodes/{node}/aplinfo`: the container templates one can download.
    pub async fn aplinfo(&self, node: &str) -> Result<Vec<Appliance>, Error> {
        self.get(&node_path(node).lit("aplinfo"), Params::new())
            .await
    }

    /// `POST /nodes/{node}/aplinfo` → task `download`: puts `template` (a name from the
    /// index) on `storage`.
    pub async fn aplinfo_download(
        &self,
        node: &str,
        storage: &str,
        template: &str,
    ) -> Result<Upid, Error> {
        let params = Params::new()
            .set("storage", storage)
            .set("template", template);
        self.post(&node_path(node).lit("aplinfo"), params).await
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn appliances_parse() {
        let a: Vec<Appliance> = serde_json::from_str(
            r#"[{"template":"debian-12-standard_12.12-1_amd64.tar.zst","section":"system",
                "os":"debian-12","size":"125829120","package":"debian-12-standard"}]"#,
        )
        .unwrap();
        assert_eq!(a[0].size, Some(125_829_120));
        assert_eq!(a[0].extra["package"], "debian-12-standard");
    }
}
