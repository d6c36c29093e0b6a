//! LXC container calls: list, status, create, delete, power actions, config (read, update),
//! clone, migrate (+ preflight), template, volume resize.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::guest::{
    ActionOptions, DeleteOptions, GuestConfig, MigratePreflight, PowerAction, guest_path,
};
use crate::cache::GuestKind;
use crate::client::PveClient;
use crate::config::Secret;
use crate::de;
use crate::error::Error;
use crate::params::{Params, node_path};
use crate::upid::Upid;

/// One entry of `GET /nodes/{node}/lxc`, and `GET .../lxc/{vmid}/status/current` (see [`LxcStatus`]).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LxcSummary {
    /// An int or (historically) a string; both are read.
    #[serde(deserialize_with = "de::int")]
    pub vmid: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `running` or `stopped`.
    pub status: String,
    #[serde(deserialize_with = "de::bool01")]
    pub template: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lock: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<String>,
    #[serde(
        deserialize_with = "de::opt_float",
        skip_serializing_if = "Option::is_none"
    )]
    pub cpus: Option<f64>,
    #[serde(
        deserialize_with = "de::opt_float",
        skip_serializing_if = "Option::is_none"
    )]
    pub cpu: Option<f64>,
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
    pub swap: Option<u64>,
    #[serde(
        deserialize_with = "de::opt_int",
        skip_serializing_if = "Option::is_none"
    )]
    pub maxswap: Option<u64>,
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
}

/// `GET /nodes/{node}/lxc/{vmid}/status/current`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LxcStatus {
    #[serde(flatten)]
    pub summary: LxcSummary,
    #[serde(
        deserialize_with = "de::opt_int",
        skip_serializing_if = "Option::is_none"
    )]
    pub pid: Option<u64>,
    /// HA state (`{"managed": 0}`).
    pub ha: Value,
    /// Fields not modelled above (`pressurecpusome`, `diskread`, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Parameters of `POST /nodes/{node}/lxc` (create). Anything not modelled goes in `extra`
/// (`net0=name=eth0,bridge=vmbr0,ip=dhcp`, `mp0=...`, `features=nesting=1`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LxcCreate {
    pub vmid: u32,
    /// Template volume: `local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst`.
    pub ostemplate: String,
    pub hostname: Option<String>,
    /// Root password (sent in the body, never logged).
    pub password: Option<Secret>,
    pub ssh_public_keys: Option<String>,
    /// MiB.
    pub memory: Option<u64>,
    /// MiB.
    pub swap: Option<u64>,
    pub cores: Option<u32>,
    /// `local-lvm:8` (STORAGE:SIZE_GiB) or a full property string.
    pub rootfs: Option<String>,
    /// Default storage.
    pub storage: Option<String>,
    pub unprivileged: Option<bool>,
    pub description: Option<String>,
    pub tags: Option<String>,
    pub pool: Option<String>,
    pub onboot: Option<bool>,
    pub start: Option<bool>,
    /// Other parameters, sent as given.
    pub extra: Params,
}

impl LxcCreate {
    fn params(&self) -> Params {
        Params::new()
            .set("vmid", self.vmid)
            .set("ostemplate", self.ostemplate.as_str())
            .opt("hostname", self.hostname.as_deref())
            .opt("password", self.password.as_ref().map(Secret::expose))
            .opt("ssh-public-keys", self.ssh_public_keys.as_deref())
            .opt("memory", self.memory)
            .opt("swap", self.swap)
            .opt("cores", self.cores)
            .opt("rootfs", self.rootfs.as_deref())
            .opt("storage", self.storage.as_deref())
            .opt("unprivileged", self.unprivileged)
            .opt("description", self.description.as_deref())
            .opt("tags", self.tags.as_deref())
            .opt("pool", self.pool.as_deref())
            .opt("onboot", self.onboot)
            .opt("start", self.start)
            .extend(self.extra.clone())
    }
}

/// Parameters of `POST /nodes/{node}/lxc/{vmid}/migrate`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LxcMigrate {
    pub target: String,
    /// Containers cannot live-migrate; `restart` stops, moves and starts a running one.
    pub restart: Option<bool>,
    /// Seconds to wait for the shutdown of a restart migration.
    pub timeout: Option<u32>,
    pub online: Option<bool>,
    /// Storage mapping for local volumes.
    pub target_storage: Option<String>,
    /// KiB/s.
    pub bwlimit: Option<u64>,
}

/// Parameters of `POST /nodes/{node}/lxc/{vmid}/clone`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LxcClone {
    pub newid: u32,
    pub hostname: Option<String>,
    pub description: Option<String>,
    pub target: Option<String>,
    pub full: Option<bool>,
    pub storage: Option<String>,
    pub pool: Option<String>,
    pub snapname: Option<String>,
}

impl PveClient {
    /// `GET /nodes/{node}/lxc`.
    pub async fn lxc_list(&self, node: &str) -> Result<Vec<LxcSummary>, Error> {
        self.get(&node_path(node).lit("lxc"), Params::new()).await
    }

    /// `GET /nodes/{node}/lxc/{vmid}/status/current`.
    pub async fn lxc_status(&self, node: &str, vmid: u32) -> Result<LxcStatus, Error> {
        let path = guest_path(node, GuestKind::Lxc, vmid)
            .lit("status")
            .lit("current");
        self.get(&path, Params::new()).await
    }

    /// `POST /nodes/{node}/lxc` → task `vzcreate`. Drops the guest cache.
    pub async fn lxc_create(&self, node: &str, spec: &LxcCreate) -> Result<Upid, Error> {
        let upid = self.post(&node_path(node).lit("lxc"), spec.params()).await;
        self.invalidate_guest_cache();
        upid
    }

    /// `DELETE /nodes/{node}/lxc/{vmid}` → task `vzdestroy`.
    pub async fn lxc_delete(
        &self,
        node: &str,
        vmid: u32,
        opts: &DeleteOptions,
    ) -> Result<Upid, Error> {
        self.guest_delete(node, GuestKind::Lxc, vmid, opts).await
    }

    /// `POST /nodes/{node}/lxc/{vmid}/status/{action}` → task (`vzstart`, `vzstop`, ...).
    pub async fn lxc_action(
        &self,
        node: &str,
        vmid: u32,
        action: PowerAction,
        opts: &ActionOptions,
    ) -> Result<Upid, Error> {
        self.guest_action(node, GuestKind::Lxc, vmid, action, opts)
            .await
    }

    /// `GET /nodes/{node}/lxc/{vmid}/config`; `snapshot` reads a snapshot's config.
    pub async fn lxc_config(
        &self,
        node: &str,
        vmid: u32,
        current: Option<bool>,
        snapshot: Option<&str>,
    ) -> Result<GuestConfig, Error> {
        let path = guest_path(node, GuestKind::Lxc, vmid).lit("config");
        let params = Params::new()
            .opt("current", current)
            .opt("snapshot", snapshot);
        self.get(&path, params).await
    }

    /// `PUT /nodes/{node}/lxc/{vmid}/config` (synchronous). `changes` are config keys
    /// (`memory`, `cores`, `net0`, `delete`, `digest`, ...).
    pub async fn lxc_set_config(
        &self,
        node: &str,
        vmid: u32,
        changes: Params,
    ) -> Result<(), Error> {
        let path = guest_path(node, GuestKind::Lxc, vmid).lit("config");
        let _: Option<Value> = self.put(&path, changes).await?;
        Ok(())
    }

    /// `PUT /nodes/{node}/lxc/{vmid}/resize`: grow `disk` (`rootfs`, `mp0`) to `size`
    /// (`+2G` or `16G`) → task.
    pub async fn lxc_resize(
        &self,
        node: &str,
        vmid: u32,
        disk: &str,
        size: &str,
        digest: Option<&str>,
    ) -> Result<Option<Upid>, Error> {
        let path = guest_path(node, GuestKind::Lxc, vmid).lit("resize");
        let params = Params::new()
            .set("disk", disk)
            .set("size", size)
            .opt("digest", digest);
        self.put(&path, params).await
    }

    /// `GET /nodes/{node}/lxc/{vmid}/migrate`: may it move, and where.
    pub async fn lxc_migrate_preflight(
        &self,
        node: &str,
        vmid: u32,
        target: Option<&str>,
    ) -> Result<MigratePreflight, Error> {
        self.guest_migrate_preflight(node, GuestKind::Lxc, vmid, target)
            .await
    }

    /// `POST /nodes/{node}/lxc/{vmid}/migrate` → task `vzmigrate`. Drops the guest cache.
    pub async fn lxc_migrate(
        &self,
        node: &str,
        vmid: u32,
        spec: &LxcMigrate,
    ) -> Result<Upid, Error> {
        let path = guest_path(node, GuestKind::Lxc, vmid).lit("migrate");
        let params = Params::new()
            .set("target", spec.target.as_str())
            .opt("restart", spec.restart)
            .opt("timeout", spec.timeout)
            .opt("online", spec.online)
            .opt("target-storage", spec.target_storage.as_deref())
            .opt("bwlimit", spec.bwlimit);
        let upid = self.post(&path, params).await;
        self.invalidate_guest_cache();
        upid
    }

    /// `POST /nodes/{node}/lxc/{vmid}/clone` → task `vzclone`. Drops the guest cache.
    pub async fn lxc_clone(&self, node: &str, vmid: u32, spec: &LxcClone) -> Result<Upid, Error> {
        let path = guest_path(node, GuestKind::Lxc, vmid).lit("clone");
        let params = Params::new()
            .set("newid", spec.newid)
            .opt("hostname", spec.hostname.as_deref())
            .opt("description", spec.description.as_deref())
            .opt("target", spec.target.as_deref())
            .opt("full", spec.full)
            .opt("storage", spec.storage.as_deref())
            .opt("pool", spec.pool.as_deref())
            .opt("snapname", spec.snapname.as_deref());
        let upid = self.post(&path, params).await;
        self.invalidate_guest_cache();
        upid
    }

    /// `POST /nodes/{node}/lxc/{vmid}/template` (synchronous): turns the container into a template.
    pub async fn lxc_template(&self, node: &str, vmid: u32) -> Result<(), Error> {
        let path = guest_path(node, GuestKind::Lxc, vmid).lit("template");
        let _: Option<Value> = self.post(&path, Params::new()).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn status_parses_string_vmid_and_pressure() {
        let s: LxcStatus = serde_json::from_str(r#"{"vmid": "200", "type": "lxc", "name": "ct1", "status": "running",
            "cpus": 1, "maxmem": 536870912, "pid": 2000, "pressurecpusome": "0.00", "ha": {"managed": 0}}"#).unwrap();
        assert_eq!(
            (s.summary.vmid, s.summary.status.as_str(), s.pid),
            (200, "running", Some(2000))
        );
        assert_eq!(s.extra["pressurecpusome"], "0.00");
    }

    #[test]
    fn create_params_hide_nothing_but_log_nothing() {
        let c = LxcCreate {
            vmid: 210,
            ostemplate: "local:vztmpl/debian-12.tar.zst".into(),
            password: Some(Secret::new("pw")),
            memory: Some(512),
            ..Default::default()
        };
        assert_eq!(
            c.params().encode(),
            "vmid=210&ostemplate=local%3Avztmpl%2Fdebian-12.tar.zst&password=pw&memory=512"
        );
        assert!(!format!("{c:?}").contains("pw\""));
    }
}
