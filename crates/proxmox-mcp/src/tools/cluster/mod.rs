//! The `cluster` toolset (off by default): high availability (`get_ha_status`, in `ha.rs`) and
//! resource pools (`list_pools`, in `pools.rs`).

mod ha;
mod pools;

pub(super) use ha::get_ha_status;
pub(super) use pools::list_pools;

/// The toolset of this directory's tools.
const TOOLSET: &str = "cluster";
