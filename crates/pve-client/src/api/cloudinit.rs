//! A VM's cloud-init drive: `PUT /nodes/{node}/qemu/{vmid}/cloudinit` writes the drive anew
//! from the config, and `GET` on the same path lists each cloud-init option with the value on
//! the drive and the pending one.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::guest::guest_path;
use crate::cache::GuestKind;
use crate::client::PveClient;
use crate::de;
use crate::error::Error;
use crate::params::Params;

/// One entry of `GET .../qemu/{vmid}/cloudinit`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CloudInitEntry {
    /// The config option (`ciuser`, `ipconfig0`...).
    pub key: String,
    /// The value the drive was generated with (secrets masked by PVE).
    #[serde(
        deserialize_with = "de::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub value: Option<String>,
    /// The config's value when it differs from the drive's.
    #[serde(
        deserialize_with = "de::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub pending: Option<String>,
    /// The option was removed from the config but is still on the drive.
    #[serde(deserialize_with = "de::bool01")]
    pub delete: bool,
}

impl CloudInitEntry {
    /// Whether the drive lags behind the config for this option.
    pub fn is_pending(&self) -> bool {
        self.delete || self.pending.is_some()
    }
}

impl PveClient {
    /// `GET /nodes/{node}/qemu/{vmid}/cloudinit`: each cloud-init option, drive and config.
    pub async fn qemu_cloudinit(
        &self,
        node: &str,
        vmid: u32,
    ) -> Result<Vec<CloudInitEntry>, Error> {
        let path = guest_path(node, GuestKind::Qemu, vmid).lit("cloudinit");
        self.get(&path, Params::new()).await
    }

    /// `PUT /nodes/{node}/qemu/{vmid}/cloudinit` (synchronous): regenerates the drive.
    pub async fn qemu_cloudinit_regenerate(&self, node: &str, vmid: u32) -> Result<(), Error> {
        let path = guest_path(node, GuestKind::Qemu, vmid).lit("cloudinit");
        let _: Option<Value> = self.put(&path, Params::new()).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn entries_say_what_is_pending() {
        let list: Vec<CloudInitEntry> = serde_json::from_str(
            r#"[{"key": "ciuser", "value": "ops"},
                {"key": "ipconfig0", "value": "ip=dhcp", "pending": "ip=10.0.0.5/24"},
                {"key": "nameserver", "value": "1.1.1.1", "delete": 1}]"#,
        )
        .unwrap();
        let pending: Vec<bool> = list.iter().map(CloudInitEntry::is_pending).collect();
        assert_eq!(pending, [false, true, true]);
    }
}
