//! `resize_disk`: grows a VM disk (`PUT .../qemu/{vmid}/resize`) or a container volume
//! (`PUT .../lxc/{vmid}/resize`) to an absolute size or by `+N`; a smaller size is refused
//! before anything is sent, in PVE's words (PVE only grows disks).

use pve_client::{GuestKind, Upid};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{TOOLSET, parse_size, pick_disk, prop};
use crate::error::ToolError;
use crate::handler;
use crate::registry::lenient;
use crate::registry::{Access, ToolCtx, ToolDef, ToolSpec};
use crate::tools::common::{TaskOutcome, WAIT_FOR_TASK, guest_error, wait_task};
use crate::tools::snapshots::locate;

/// `resize_disk`.
pub(crate) fn resize_disk() -> ToolSpec {
    ToolSpec::new(
        ToolDef::new(
            TOOLSET,
            "resize_disk",
            "Grow a disk",
            "Grow a VM disk or container volume (PVE cannot shrink). Use move_disk to change its storage.",
            Access::Write,
            false,
        ),
        handler!(resize_disk_handler),
    )
    .waits(WAIT_FOR_TASK)
}

/// Parameters of `resize_disk`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ResizeParams {
    /// VMID.
    #[serde(deserialize_with = "lenient::int")]
    pub(crate) vmid: u32,
    /// New size (50G) or growth (+10G).
    pub(crate) size: String,
    /// scsi0, mp0... Default: rootfs, or the VM's only disk.
    #[serde(default)]
    pub(crate) disk: Option<String>,
    /// Accepted but not shown in the schema: found from the VMID when absent.
    #[serde(default)]
    #[schemars(skip)]
    pub(crate) node: Option<String>,
}

/// Output of `resize_disk`.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct ResizeOutput {
    pub(crate) vmid: u32,
    /// `qemu` (VM) or `lxc` (container).
    pub(crate) kind: String,
    pub(crate) node: String,
    pub(crate) disk: String,
    /// Its size before, as PVE writes it (32G).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) size_before: Option<String>,
    /// Its size once grown, read back from the config.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) size_after: Option<String>,
    /// The resize task (absent when PVE answered without one: nothing to grow).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) task: Option<TaskOutcome>,
}

/// The `size` argument: (grow by, bytes); the unit is required (a bare number is bytes to PVE).
fn requested(text: &str) -> Result<(bool, u64), ToolError> {
    let bad = || {
        ToolError::invalid(
            "size",
            format!(
                "{text:?} is not a size: write 50G for a new size or +10G to grow by (unit K, M, G or T)"
            ),
        )
    };
    let (grow, rest) = match text.strip_prefix('+') {
        Some(r) => (true, r),
        None => (false, text),
    };
    let Some(num) = rest.strip_suffix(['K', 'M', 'G', 'T']) else {
        return Err(bad());
    };
    let mut parts = num.split('.');
    let digits =
        |s: Option<&str>| s.is_some_and(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()));
    let shaped = digits(parts.next())
        && match parts.next() {
            None => true,
            frac => digits(frac) && parts.next().is_none(),
        };
    if !shaped {
        return Err(bad());
    }
    let bytes = parse_size(rest).ok_or_else(bad)?;
    if bytes == 0 && grow {
        return Err(ToolError::invalid("size", "growing by 0 changes nothing"));
    }
    Ok((grow, bytes))
}

async fn resize_disk_handler(ctx: &ToolCtx, p: ResizeParams) -> Result<ResizeOutput, ToolError> {
    let wait = ctx.wait;
    let size = p.size.trim().to_string();
    let (grow, bytes) = requested(&size)?;
    let vmid = p.vmid;
    let (kind, node) = locate(ctx, vmid, p.node).await?;
    let config = ctx
        .client
        .guest_config(&node, kind, vmid, None)
        .await
        .map_err(|e| guest_error(e, vmid, kind))?;
    let (disk, spec) = pick_disk(&config, kind, vmid, p.disk)?;
    let before = prop(&spec, "size").map(str::to_string);
    if !grow
        && let Some(current) = before.as_deref().and_then(parse_size)
        && bytes < current
    {
        return Err(ToolError::invalid(
            "size",
            format!(
                "shrinking disks is not supported: {disk} of {} {vmid} is {} and {size} is \
                 smaller (Proxmox VE only grows disks; give a larger size or +N)",
                kind.noun(),
                before.as_deref().unwrap_or("?")
            ),
        ));
    }
    let started: Option<Upid> = match kind {
        GuestKind::Qemu => {
            ctx.client
                .qemu_resize(&node, vmid, &disk, &size, None)
                .await
        }
        GuestKind::Lxc => ctx.client.lxc_resize(&node, vmid, &disk, &size, None).await,
    }?;
    let task = match started {
        Some(upid) => {
            let what = format!("resize of {disk} of {} {vmid}", kind.noun());
            Some(wait_task(ctx, &upid, wait, &what).await?)
        }
        None => None,
    };
    let after = if task.as_ref().is_none_or(TaskOutcome::is_done) {
        ctx.client
            .guest_config(&node, kind, vmid, None)
            .await
            .ok()
            .and_then(|c| c.get_str(&disk))
            .and_then(|s| prop(&s, "size").map(str::to_string))
    } else {
        None
    };
    Ok(ResizeOutput {
        vmid,
        kind: kind.as_str().to_string(),
        node,
        disk,
        size_before: before,
        size_after: after,
        task,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn sizes_need_a_unit() {
        assert_eq!(requested("+10G").unwrap(), (true, 10 << 30));
        assert_eq!(requested("50G").unwrap(), (false, 50 << 30));
        assert_eq!(requested("1.5T").unwrap(), (false, 3 << 39));
        for bad in [
            "50", "+", "G", "-5G", "10GB", "1..5G", "+0G", "ten G", "5g", "5€", "€G", "+é",
        ] {
            assert!(requested(bad).is_err(), "{bad}");
        }
    }
}
