//! Backups: `POST /nodes/{node}/vzdump` (a task; may take minutes: call it through
//! [`PveClient::with_timeout`] if the node is slow to answer, and wait with a long
//! [`crate::task::WaitOptions::timeout`]). Backup files are listed with
//! [`PveClient::storage_content`] (`content=backup`) and deleted with
//! [`PveClient::volume_delete`]; a restore is a create call with the archive
//! ([`PveClient::qemu_restore`], [`PveClient::lxc_restore`]).

use crate::cache::GuestKind;
use crate::client::PveClient;
use crate::error::{Error, ErrorKind};
use crate::params::{Params, node_path};
use crate::upid::Upid;

/// Backup mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BackupMode {
    /// Live, from a snapshot (default).
    #[default]
    Snapshot,
    /// Suspend the guest during the backup.
    Suspend,
    /// Stop the guest during the backup.
    Stop,
}

impl BackupMode {
    fn as_str(self) -> &'static str {
        match self {
            BackupMode::Snapshot => "snapshot",
            BackupMode::Suspend => "suspend",
            BackupMode::Stop => "stop",
        }
    }
}

/// Parameters of `POST /nodes/{node}/vzdump`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VzdumpOptions {
    /// Guests to back up (on this node); empty with `all` for every guest.
    pub vmids: Vec<u32>,
    pub all: Option<bool>,
    /// With `all`: guests to skip.
    pub exclude: Vec<u32>,
    /// Target storage (must allow `backup` content).
    pub storage: Option<String>,
    pub mode: Option<BackupMode>,
    /// `0`, `1`, `gzip`, `lzo`, `zstd`.
    pub compress: Option<String>,
    /// Notes for the backup, with `{{guestname}}`, `{{vmid}}`, ... templates.
    pub notes_template: Option<String>,
    /// Protect the backup from pruning.
    pub protected: Option<bool>,
    /// Retention, e.g. `keep-last=3`.
    pub prune_backups: Option<String>,
    /// Remove old backups per the storage's retention (PVE default 1).
    pub remove: Option<bool>,
    /// KiB/s.
    pub bwlimit: Option<u64>,
    /// zstd threads (0 = half the cores).
    pub zstd: Option<u32>,
    /// Mail recipients.
    pub mailto: Option<String>,
}

/// Parameters of a restore (`POST /nodes/{node}/qemu` with `archive`, or
/// `POST /nodes/{node}/lxc` with `restore=1`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RestoreOptions {
    /// VMID of the guest to create (or to overwrite, with `force`).
    pub vmid: u32,
    /// The backup volume: `nfs-backup:backup/vzdump-qemu-100-2026_01_01-02_00_00.vma.zst`.
    pub archive: String,
    /// Storage for the restored disks (default: the original ones for VMs, `local` for CTs).
    pub storage: Option<String>,
    /// Overwrite an existing guest with this VMID.
    pub force: Option<bool>,
    /// Give the network cards new MAC addresses.
    pub unique: Option<bool>,
    /// Start the guest once restored.
    pub start: Option<bool>,
    pub pool: Option<String>,
    /// KiB/s.
    pub bwlimit: Option<u64>,
}

fn join(ids: &[u32]) -> Option<String> {
    (!ids.is_empty()).then(|| ids.iter().map(u32::to_string).collect::<Vec<_>>().join(","))
}

impl PveClient {
    /// `POST /nodes/{node}/vzdump` → task `vzdump` (its id is the VMID for one guest, empty for several).
    pub async fn vzdump(&self, node: &str, opts: &VzdumpOptions) -> Result<Upid, Error> {
        let path = node_path(node).lit("vzdump");
        if opts.vmids.is_empty() && opts.all != Some(true) {
            return Err(
                Error::new(ErrorKind::Params, "vzdump needs vmids or all=true")
                    .with_call("POST", path.as_str()),
            );
        }
        let params = Params::new()
            .opt("vmid", join(&opts.vmids))
            .opt("all", opts.all)
            .opt("exclude", join(&opts.exclude))
            .opt("storage", opts.storage.as_deref())
            .opt("mode", opts.mode.map(BackupMode::as_str))
            .opt("compress", opts.compress.as_deref())
            .opt("notes-template", opts.notes_template.as_deref())
            .opt("protected", opts.protected)
            .opt("prune-backups", opts.prune_backups.as_deref())
            .opt("remove", opts.remove)
            .opt("bwlimit", opts.bwlimit)
            .opt("zstd", opts.zstd)
            .opt("mailto", opts.mailto.as_deref());
        self.post(&path, params).await
    }

    /// Restores a VM from a vzdump archive: `POST /nodes/{node}/qemu` with `archive` → task
    /// `qmrestore`. Drops the guest cache.
    pub async fn qemu_restore(&self, node: &str, opts: &RestoreOptions) -> Result<Upid, Error> {
        self.restore(node, GuestKind::Qemu, opts).await
    }

    /// Restores a container from a vzdump archive: `POST /nodes/{node}/lxc` with `restore=1`
    /// and the archive as `ostemplate` → task `vzrestore`. Drops the guest cache.
    pub async fn lxc_restore(&self, node: &str, opts: &RestoreOptions) -> Result<Upid, Error> {
        self.restore(node, GuestKind::Lxc, opts).await
    }

    async fn restore(
        &self,
        node: &str,
        kind: GuestKind,
        opts: &RestoreOptions,
    ) -> Result<Upid, Error> {
        let base = Params::new().set("vmid", opts.vmid);
        let params = match kind {
            GuestKind::Qemu => base.set("archive", opts.archive.as_str()),
            GuestKind::Lxc => base
                .set("ostemplate", opts.archive.as_str())
                .set("restore", true),
        }
        .opt("storage", opts.storage.as_deref())
        .opt("force", opts.force)
        .opt("unique", opts.unique)
        .opt("start", opts.start)
        .opt("pool", opts.pool.as_deref())
        .opt("bwlimit", opts.bwlimit);
        let upid = self.post(&node_path(node).lit(kind.as_str()), params).await;
        self.invalidate_guest_cache();
        upid
    }
}
