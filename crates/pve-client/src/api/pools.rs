//! Resource pools: `GET /pools` (the pools the caller may audit) and `GET /pools?poolid=X`
//! (one pool with its members: guests and storages).

use serde::{Deserialize, Serialize};

use crate::client::PveClient;
use crate::de;
use crate::error::Error;
use crate::params::{ApiPath, Params};

/// One entry of `GET /pools`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Pool {
    pub poolid: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// Only when one pool is asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub members: Option<Vec<PoolMember>>,
}

/// A pool member: a guest (`qemu`, `lxc`) or a storage on a node.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PoolMember {
    /// `qemu/100`, `storage/pve1/local`.
    pub id: String,
    /// `qemu`, `lxc`, `storage`.
    #[serde(rename = "type")]
    pub kind: String,
    pub node: String,
    #[serde(
        deserialize_with = "de::opt_int",
        skip_serializing_if = "Option::is_none"
    )]
    pub vmid: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storage: Option<String>,
}

impl PveClient {
    /// `GET /pools`: every pool the caller may audit, without members.
    pub async fn pools(&self) -> Result<Vec<Pool>, Error> {
        self.get(&ApiPath::new("/pools"), Params::new()).await
    }

    /// `GET /pools?poolid=X`: that pool with its members (an empty list if it does not exist
    /// or the caller may not audit it).
    pub async fn pool(&self, poolid: &str) -> Result<Vec<Pool>, Error> {
        self.get(
            &ApiPath::new("/pools"),
            Params::new().opt("poolid", Some(poolid)),
        )
        .await
    }
}
