//! `get_container_ip_addresses`: a running container's addresses, read by PVE from the
//! container itself (`/lxc/{vmid}/interfaces`, no agent needed), in the same shape as
//! `get_vm_ip_addresses`.

use pve_client::GuestKind;
use pve_client::api::agent::{IpAddress, NetworkInterface};

use super::{IpOutput, IpParams, TOOLSET, ip_output};
use crate::error::ToolError;
use crate::handler;
use crate::registry::{Access, ToolCtx, ToolDef, ToolSpec};
use crate::tools::common::{guest_error, guest_node};

const KIND: GuestKind = GuestKind::Lxc;

/// `get_container_ip_addresses`.
pub(crate) fn get_container_ip_addresses() -> ToolSpec {
    ToolSpec::new(
        ToolDef {
            name: "get_container_ip_addresses",
            title: "Container IP addresses",
            description: "A running container's IP addresses (no agent needed). Use it to reach the container; get_vm_ip_addresses for a VM.",
            toolset: TOOLSET,
            access: Access::Read,
            idempotent: true,
        },
        handler!(get_container_ip_addresses_handler),
    )
}

async fn get_container_ip_addresses_handler(
    ctx: &ToolCtx,
    p: IpParams,
) -> Result<IpOutput, ToolError> {
    let vmid = p.vmid;
    let node = guest_node(ctx, vmid, p.node, KIND).await?;
    let list = ctx
        .client
        .lxc_interfaces(&node, vmid)
        .await
        .map_err(|e| interfaces_error(e, vmid))?;
    let list = list
        .into_iter()
        .map(|i| NetworkInterface {
            ip_addresses: i
                .addresses()
                .into_iter()
                .map(|(ip_address, prefix, v6)| IpAddress {
                    ip_address_type: if v6 { "ipv6" } else { "ipv4" }.into(),
                    ip_address,
                    prefix,
                })
                .collect(),
            name: i.name,
            hardware_address: i.hwaddr,
            statistics: None,
        })
        .collect();
    Ok(ip_output(
        vmid,
        node,
        list,
        p.include_loopback.unwrap_or(false),
    ))
}

/// A stopped container says so with what to do; other errors as for any container.
fn interfaces_error(e: pve_client::Error, vmid: u32) -> ToolError {
    let msg = e.message().to_string();
    if msg.contains("not running") {
        return ToolError::Pve {
            status: e.status(),
            message: format!(
                "CT {vmid} is not running: start it first (start_container); a stopped \
                 container has no addresses (PVE: {msg})"
            ),
        };
    }
    guest_error(e, vmid, KIND)
}
