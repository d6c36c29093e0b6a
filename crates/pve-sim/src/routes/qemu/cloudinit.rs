//! Cloud-init drives: `ide0: local-lvm:cloudinit` in a create or config update allocates a
//! small `vm-VMID-cloudinit` volume (PVE writes the generated user data there), shown in the
//! config as `local-lvm:vm-VMID-cloudinit,media=cdrom`. A clone gets its own drive; a template
//! keeps its drive as it is; destroying the VM frees it.

use crate::guest::{self, is_file_storage};
use crate::state::{Cluster, Volume};

/// Size of a cloud-init volume.
pub(crate) const SIZE: u64 = 4 << 20;

/// The storage of a `STORAGE:cloudinit` request.
pub(crate) fn request(volume: &str) -> Option<&str> {
    volume
        .strip_suffix(":cloudinit")
        .filter(|s| !s.is_empty() && !s.contains(':'))
}

/// Whether a drive value is a cloud-init drive (`local-lvm:vm-100-cloudinit,media=cdrom`).
pub(crate) fn is_drive(value: &str) -> bool {
    guest::disk_volid(value)
        .is_some_and(|v| v.ends_with("-cloudinit") || v.ends_with("-cloudinit.qcow2"))
}

/// Allocates the cloud-init volume of VM `vmid` on `storage`: `(volid, config value, log)`.
pub(crate) fn alloc(
    cluster: &mut Cluster,
    node: &str,
    storage: &str,
    vmid: u32,
    ctime: i64,
) -> Result<(String, String, Vec<String>), String> {
    guest::check_storage(cluster, storage, node, "images")?;
    let file = cluster
        .storages
        .get(storage)
        .is_some_and(|s| is_file_storage(&s.kind));
    let name = if file {
        format!("{vmid}/vm-{vmid}-cloudinit.qcow2")
    } else {
        format!("vm-{vmid}-cloudinit")
    };
    let volid = format!("{storage}:{name}");
    if cluster.volumes.iter().any(|v| v.volid == volid) {
        return Err(format!("volume '{volid}' already exists"));
    }
    let log = guest::alloc_space(cluster, node, storage, &name, SIZE)?;
    cluster.volumes.push(Volume {
        volid: volid.clone(),
        storage: storage.to_string(),
        node: node.to_string(),
        content: "images".into(),
        format: if file { "qcow2" } else { "raw" }.into(),
        size: SIZE,
        ctime,
        vmid: Some(vmid),
        notes: None,
        protected: false,
    });
    let value = format!("{volid},media=cdrom");
    Ok((volid, value, log))
}
