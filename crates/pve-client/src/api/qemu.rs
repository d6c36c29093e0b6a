//! QEMU VM calls: list, status, create, delete, power actions, config (read, async and sync
//! update), clone, migrate (+ preflight), template, disk resize.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::guest::{
    ActionOptions, DeleteOptions, GuestConfig, MigratePreflight, PowerAction, guest_path,
};
use crate::cache::GuestKind;
use crate::client::PveClient;
use crate::de;
use crate::error::Error;
use crate::params::{Params, node_path};
use crate::upid::Upid;

/// One entry of `GET /nodes/{node}/qemu`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct QemuSummary {
    #[serde(deserialize_with = "de::int")]
    pub vmid: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `running` or `stopped` (a paused VM is `running`; see `qmpstatus`).
    pub status: String,
    /// Only with `full=1`: `running`, `paused`, `suspended`, `prelaunch`, ...
    #[serde(skip_serializing_if = "Option::is_none")]
    pub qmpstatus: Option<String>,
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
    #[serde(
        deserialize_with = "de::opt_int",
        skip_serializing_if = "Option::is_none"
    )]
    pub pid: Option<u64>,
}

/// `GET /nodes/{node}/qemu/{vmid}/status/current`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct QemuStatus {
    #[serde(deserialize_with = "de::int")]
    pub vmid: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `running` or `stopped`.
    pub status: String,
    /// The QEMU monitor's view: `running`, `paused`, `suspended`, `prelaunch`, ...
    #[serde(skip_serializing_if = "Option::is_none")]
    pub qmpstatus: Option<String>,
    #[serde(deserialize_with = "de::bool01")]
    pub template: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lock: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<String>,
    /// Guest agent enabled in the config (not necessarily running).
    #[serde(deserialize_with = "de::bool01")]
    pub agent: bool,
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
    pub pid: Option<u64>,
    /// HA state (`{"managed": 0}`).
    pub ha: Value,
    /// Fields not modelled above (`running-qemu`, `balloon`, `netin`, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Parameters of `POST /nodes/{node}/qemu` (create). Anything not modelled goes in `extra`
/// (`scsi0=local-lvm:32`, `net0=virtio,bridge=vmbr0`, `ide2=...`, `boot=...`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QemuCreate {
    pub vmid: u32,
    pub name: Option<String>,
    /// MiB.
    pub memory: Option<u64>,
    pub cores: Option<u32>,
    pub sockets: Option<u32>,
    /// CPU type (`host`, `x86-64-v2-AES`).
    pub cpu: Option<String>,
    /// `l26`, `win11`, `other`, ...
    pub ostype: Option<String>,
    /// `virtio-scsi-single`, ...
    pub scsihw: Option<String>,
    /// Guest agent property string (`1`, `enabled=1,fstrim_cloned_disks=1`).
    pub agent: Option<String>,
    pub description: Option<String>,
    pub tags: Option<String>,
    pub pool: Option<String>,
    pub onboot: Option<bool>,
    /// Start the VM once created.
    pub start: Option<bool>,
    /// Other parameters, sent as given.
    pub extra: Params,
}

impl QemuCreate {
    fn params(&self) -> Params {
        Params::new()
            .set("vmid", self.vmid)
            .opt("name", self.name.as_deref())
            .opt("memory", self.memory)
            .opt("cores", self.cores)
            .opt("sockets", self.sockets)
            .opt("cpu", self.cpu.as_deref())
            .opt("ostype", self.ostype.as_deref())
            .opt("scsihw", self.scsihw.as_deref())
            .opt("agent", self.agent.as_deref())
            .opt("description", self.description.as_deref())
            .opt("tags", self.tags.as_deref())
            .opt("pool", self.pool.as_deref())
            .opt("onboot", self.onboot)
            .opt("start", self.start)
            .extend(self.extra.clone())
    }
}

/// Parameters of `POST /nodes/{node}/qemu/{vmid}/clone`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QemuClone {
    /// VMID of the new VM.
    pub newid: u32,
    pub name: Option<String>,
    pub description: Option<String>,
    /// Target node (needs shared storage, or a full clone to a storage there).
    pub target: Option<String>,
    /// Full copy instead of a linked clone (linked needs a template source).
    pub full: Option<bool>,
    /// Target storage for a full clone.
    pub storage: Option<String>,
    /// Disk format for a full clone (`raw`, `qcow2`, `vmdk`).
    pub format: Option<String>,
    pub pool: Option<String>,
    /// Clone from this snapshot.
    pub snapname: Option<String>,
    /// KiB/s.
    pub bwlimit: Option<u64>,
}

/// Parameters of `POST /nodes/{node}/qemu/{vmid}/migrate`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QemuMigrate {
    pub target: String,
    /// Live-migrate a running VM.
    pub online: Option<bool>,
    /// Move local disks too.
    pub with_local_disks: Option<bool>,
    /// Storage mapping for local disks (`local-lvm` or `src:dst,...`).
    pub targetstorage: Option<String>,
    /// KiB/s.
    pub bwlimit: Option<u64>,
    /// `secure` or `insecure`.
    pub migration_type: Option<String>,
    /// CIDR of the migration network.
    pub migration_network: Option<String>,
    /// Allow migration of VMs using local devices (root only).
    pub force: Option<bool>,
}

impl PveClient {
    /// `GET /nodes/{node}/qemu` (`full=1` adds `qmpstatus` and more; it costs PVE more).
    pub async fn qemu_list(
        &self,
        node: &str,
        full: Option<bool>,
    ) -> Result<Vec<QemuSummary>, Error> {
        self.get(
            &node_path(node).lit("qemu"),
            Params::new().opt("full", full),
        )
        .await
    }

    /// `GET /nodes/{node}/qemu/{vmid}/status/current`.
    pub async fn qemu_status(&self, node: &str, vmid: u32) -> Result<QemuStatus, Error> {
        let path = guest_path(node, GuestKind::Qemu, vmid)
            .lit("status")
            .lit("current");
        self.get(&path, Params::new()).await
    }

    /// `POST /nodes/{node}/qemu` → task `qmcreate`. Drops the guest cache.
    pub async fn qemu_create(&self, node: &str, spec: &QemuCreate) -> Result<Upid, Error> {
        let upid = self.post(&node_path(node).lit("qemu"), spec.params()).await;
        self.invalidate_guest_cache();
        upid
    }

    /// `DELETE /nodes/{node}/qemu/{vmid}` → task `qmdestroy`.
    pub async fn qemu_delete(
        &self,
        node: &str,
        vmid: u32,
        opts: &DeleteOptions,
    ) -> Result<Upid, Error> {
        self.guest_delete(node, GuestKind::Qemu, vmid, opts).await
    }

    /// `POST /nodes/{node}/qemu/{vmid}/status/{action}` → task (`qmstart`, `qmstop`, ...).
    pub async fn qemu_action(
        &self,
        node: &str,
        vmid: u32,
        action: PowerAction,
        opts: &ActionOptions,
    ) -> Result<Upid, Error> {
        self.guest_action(node, GuestKind::Qemu, vmid, action, opts)
            .await
    }

    /// `GET /nodes/{node}/qemu/{vmid}/config`; `snapshot` reads a snapshot's config.
    pub async fn qemu_config(
        &self,
        node: &str,
        vmid: u32,
        current: Option<bool>,
        snapshot: Option<&str>,
    ) -> Result<GuestConfig, Error> {
        let path = guest_path(node, GuestKind::Qemu, vmid).lit("config");
        let params = Params::new()
            .opt("current", current)
            .opt("snapshot", snapshot);
        self.get(&path, params).await
    }

    /// `POST /nodes/{node}/qemu/{vmid}/config` (asynchronous; use for disks and hotplug):
    /// the task, or `None` when PVE applied it at once. `changes` are config keys
    /// (`memory`, `net0`, `delete`, `digest`, ...).
    pub async fn qemu_update_config(
        &self,
        node: &str,
        vmid: u32,
        changes: Params,
    ) -> Result<Option<Upid>, Error> {
        let path = guest_path(node, GuestKind::Qemu, vmid).lit("config");
        self.post(&path, changes).await
    }

    /// `PUT /nodes/{node}/qemu/{vmid}/config` (synchronous).
    pub async fn qemu_set_config(
        &self,
        node: &str,
        vmid: u32,
        changes: Params,
    ) -> Result<(), Error> {
        let path = guest_path(node, GuestKind::Qemu, vmid).lit("config");
        let _: Option<Value> = self.put(&path, changes).await?;
        Ok(())
    }

    /// `POST /nodes/{node}/qemu/{vmid}/clone` → task `qmclone`. Drops the guest cache.
    pub async fn qemu_clone(&self, node: &str, vmid: u32, spec: &QemuClone) -> Result<Upid, Error> {
        let path = guest_path(node, GuestKind::Qemu, vmid).lit("clone");
        let params = Params::new()
            .set("newid", spec.newid)
            .opt("name", spec.name.as_deref())
            .opt("description", spec.description.as_deref())
            .opt("target", spec.target.as_deref())
            .opt("full", spec.full)
            .opt("storage", spec.storage.as_deref())
            .opt("format", spec.format.as_deref())
            .opt("pool", spec.pool.as_deref())
            .opt("snapname", spec.snapname.as_deref())
            .opt("bwlimit", spec.bwlimit);
        let upid = self.post(&path, params).await;
        self.invalidate_guest_cache();
        upid
    }

    /// `GET /nodes/{node}/qemu/{vmid}/migrate`: may it move, and where.
    pub async fn qemu_migrate_preflight(
        &self,
        node: &str,
        vmid: u32,
        target: Option<&str>,
    ) -> Result<MigratePreflight, Error> {
        self.guest_migrate_preflight(node, GuestKind::Qemu, vmid, target)
            .await
    }

    /// `POST /nodes/{node}/qemu/{vmid}/migrate` → task `qmigrate`. Drops the guest cache.
    pub async fn qemu_migrate(
        &self,
        node: &str,
        vmid: u32,
        spec: &QemuMigrate,
    ) -> Result<Upid, Error> {
        let path = guest_path(node, GuestKind::Qemu, vmid).lit("migrate");
        let params = Params::new()
            .set("target", spec.target.as_str())
            .opt("online", spec.online)
            .opt("with-local-disks", spec.with_local_disks)
            .opt("targetstorage", spec.targetstorage.as_deref())
            .opt("bwlimit", spec.bwlimit)
            .opt("migration_type", spec.migration_type.as_deref())
            .opt("migration_network", spec.migration_network.as_deref())
            .opt("force", spec.force);
        let upid = self.post(&path, params).await;
        self.invalidate_guest_cache();
        upid
    }

    /// `POST /nodes/{node}/qemu/{vmid}/template` → task: turns the VM (or one `disk`) into a template.
    pub async fn qemu_template(
        &self,
        node: &str,
        vmid: u32,
        disk: Option<&str>,
    ) -> Result<Upid, Error> {
        let path = guest_path(node, GuestKind::Qemu, vmid).lit("template");
        self.post(&path, Params::new().opt("disk", disk)).await
    }

    /// `PUT /nodes/{node}/qemu/{vmid}/resize`: grow `disk` (`scsi0`) to `size` (`+10G` or `50G`).
    /// A task on PVE 9 (`None` on older releases that resize synchronously).
    pub async fn qemu_resize(
        &self,
        node: &str,
        vmid: u32,
        disk: &str,
        size: &str,
        digest: Option<&str>,
    ) -> Result<Option<Upid>, Error> {
        let path = guest_path(node, GuestKind::Qemu, vmid).lit("resize");
        let params = Params::new()
            .set("disk", disk)
            .set("size", size)
            .opt("digest", digest);
        self.put(&path, params).await
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn list_and_status_parse() {
        let l: Vec<QemuSummary> = serde_json::from_str(r#"[
            {"vmid": 100, "name": "vm1", "status": "running", "cpus": 2, "cpu": 0.02, "mem": 67108864, "maxmem": 2147483648, "uptime": 5, "serial": 0, "pid": 1100},
            {"vmid": "9000", "name": "tmpl", "status": "stopped", "cpus": 1, "maxmem": 536870912, "template": 1}
        ]"#).unwrap();
        assert_eq!(
            (l[0].vmid, l[0].template, l[0].pid),
            (100, false, Some(1100))
        );
        assert_eq!((l[1].vmid, l[1].template), (9000, true));
        let s: QemuStatus = serde_json::from_str(
            r#"{"vmid": 100, "status": "running", "qmpstatus": "paused",
            "agent": 1, "ha": {"managed": 0}, "running-qemu": "10.0.2", "lock": "backup"}"#,
        )
        .unwrap();
        assert_eq!(
            (s.qmpstatus.as_deref(), s.agent, s.lock.as_deref()),
            (Some("paused"), true, Some("backup"))
        );
        assert_eq!(s.extra["running-qemu"], "10.0.2");
    }

    #[test]
    fn create_params() {
        let c = QemuCreate {
            vmid: 120,
            name: Some("web".into()),
            memory: Some(2048),
            cores: Some(2),
            start: Some(false),
            extra: Params::new()
                .set("scsi0", "local-lvm:8")
                .set("net0", "virtio,bridge=vmbr0"),
            ..Default::default()
        };
        assert_eq!(
            c.params().encode(),
            "vmid=120&name=web&memory=2048&cores=2&start=0&scsi0=local-lvm%3A8&net0=virtio%2Cbridge%3Dvmbr0"
        );
    }
}
