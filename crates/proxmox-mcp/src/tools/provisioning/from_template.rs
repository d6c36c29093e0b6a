//! `create_vm_from_template`: clone a template, then write cloud-init settings (`ciuser`,
//! `cipassword`, `sshkeys` URL-encoded as PVE expects, `ipconfig0`) and optional cores and
//! memory into the new VM's config, then start it if asked. Secrets (`password` here,
//! `cipassword` for PVE) are masked in dry runs and the audit log by the guard.

use std::net::IpAddr;
use std::time::Instant;

use pve_client::api::guest::{ActionOptions, GuestConfig, PowerAction};
use pve_client::{GuestKind, Params};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{CloneRequest, TOOLSET, start_clone};
use crate::error::ToolError;
use crate::handler;
use crate::registry::TaskWait;
use crate::registry::lenient;
use crate::registry::{Access, ToolCtx, ToolDef, ToolSpec};
use crate::tools::common::trimmed;
use crate::tools::common::{TaskOutcome, guest_error, is_false, wait_task};
use crate::tools::power::guest_status;

/// `create_vm_from_template`.
pub(crate) fn create_vm_from_template() -> ToolSpec {
    ToolSpec::new(
        ToolDef {
            name: "create_vm_from_template",
            title: "Create VM from template",
            description: "Create a VM from a template (e.g. a cloud image) with cloud-init user, password, SSH keys and IP, optionally started. Use it for a ready-to-boot VM.",
            toolset: TOOLSET,
            access: Access::Write,
            idempotent: false,
        },
        handler!(create_vm_from_template_handler),
    )
    .waits(TaskWait {
        default_seconds: 20,
        description: "Seconds to wait for clone and start (default 20).",
    })
}

/// SSH public keys: a list, or one text with one key per line.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(untagged)]
pub(crate) enum SshKeys {
    List(Vec<String>),
    Text(String),
}

impl SshKeys {
    pub(crate) fn lines(&self) -> Vec<String> {
        let all: Vec<&str> = match self {
            SshKeys::List(l) => l.iter().flat_map(|k| k.lines()).collect(),
            SshKeys::Text(t) => t.lines().collect(),
        };
        all.into_iter()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect()
    }
}

/// Parameters of `create_vm_from_template`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct FromTemplateParams {
    /// VMID of the template.
    #[serde(deserialize_with = "lenient::int")]
    pub(crate) template_vmid: u32,
    /// VM name (a DNS name).
    pub(crate) name: String,
    /// Accepted but not shown in the schema: found from the VMID when absent.
    #[serde(default)]
    #[schemars(skip)]
    pub(crate) node: Option<String>,
    /// VMID (default: next free).
    #[serde(default, deserialize_with = "lenient::opt_int")]
    #[schemars(range(min = 100, max = 999_999_999))]
    pub(crate) newid: Option<u32>,
    /// Full copy, not a linked clone.
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    pub(crate) full: Option<bool>,
    /// Node for the VM (default: the template's).
    #[serde(default)]
    pub(crate) target_node: Option<String>,
    /// Disk storage; full copies only.
    #[serde(default)]
    pub(crate) storage: Option<String>,
    /// Cloud-init user.
    #[serde(default)]
    pub(crate) ciuser: Option<String>,
    /// Cloud-init password.
    #[serde(default)]
    pub(crate) password: Option<String>,
    /// SSH keys: a list (or one per line).
    #[serde(default)]
    pub(crate) ssh_keys: Option<SshKeys>,
    /// IPv4: dhcp or 10.0.0.5/24.
    #[serde(default)]
    pub(crate) ip: Option<String>,
    /// Gateway for a static ip.
    #[serde(default)]
    pub(crate) gateway: Option<String>,
    /// CPU cores (default: the template's).
    #[serde(default, deserialize_with = "lenient::opt_int")]
    #[schemars(range(min = 1, max = 1024))]
    pub(crate) cores: Option<u32>,
    /// Memory in MiB (default: the template's).
    #[serde(default, deserialize_with = "lenient::opt_int")]
    #[schemars(range(min = 16))]
    pub(crate) memory_mb: Option<u64>,
    /// Add a cloud-init drive if missing (default true).
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    pub(crate) add_cloudinit_drive: Option<bool>,
    /// Start it once configured.
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    pub(crate) start: Option<bool>,
}

/// The cloud-init settings written (the password never shown).
#[derive(Debug, Serialize, JsonSchema)]
pub(super) struct CloudInit {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) ciuser: Option<String>,
    /// A password was set.
    #[serde(skip_serializing_if = "is_false")]
    pub(crate) password_set: bool,
    /// Number of SSH public keys set.
    pub(crate) ssh_keys: usize,
    /// `ip=dhcp` or `ip=10.0.0.5/24,gw=10.0.0.1`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) ipconfig0: Option<String>,
}

/// Output of `create_vm_from_template`.
#[derive(Debug, Serialize, JsonSchema)]
pub(super) struct FromTemplateOutput {
    pub(crate) vmid: u32,
    pub(crate) node: String,
    pub(crate) name: String,
    pub(crate) template_vmid: u32,
    /// True for a full copy, false for a linked clone.
    pub(crate) full: bool,
    /// The clone task.
    pub(crate) clone_task: TaskOutcome,
    /// Whether the cloud-init settings, cores and memory were written (not while the clone
    /// still runs).
    pub(crate) configured: bool,
    pub(crate) cloud_init: CloudInit,
    /// The cloud-init drive this call added (`ide0: local-lvm:cloudinit`), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) cloudinit_drive_added: Option<String>,
    /// The start task, when start: true.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) start_task: Option<TaskOutcome>,
    /// The VM's power state at the end, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) guest_status: Option<String>,
    /// Things to know (no cloud-init drive in the template, clone still running...).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) warnings: Vec<String>,
}

async fn create_vm_from_template_handler(
    ctx: &ToolCtx,
    p: FromTemplateParams,
) -> Result<FromTemplateOutput, ToolError> {
    let wait = ctx.wait;
    let began = Instant::now();
    let name = p.name.trim().to_string();
    if name.is_empty() {
        return Err(ToolError::invalid("name", "must not be empty"));
    }
    let mut settings = cloud_init_params(&p)?;
    let clone_storage = p.storage.clone().filter(|s| !s.trim().is_empty());
    let started = start_clone(
        ctx,
        CloneRequest {
            vmid: p.template_vmid,
            node: p.node,
            newid: p.newid,
            name: Some(name.clone()),
            full: Some(p.full.unwrap_or(false)),
            target_node: p.target_node,
            storage: p.storage,
            description: None,
            need_template: true,
        },
    )
    .await?;
    let (vmid, node) = (started.vmid, started.node.clone());
    let what = format!("clone of template {} to VM {vmid}", p.template_vmid);
    let clone_task = wait_task(ctx, &started.upid, wait, &what).await?;
    let mut warnings = Vec::new();
    let has_drive = started.source.0.iter().any(|(k, v)| {
        v.as_str().is_some_and(|s| s.contains("cloudinit")) && !k.starts_with("unused")
    });
    let mut drive_added = None;
    if !has_drive && settings.touches_cloud_init {
        let slot = free_ide_slot(&started.source);
        let storage = match (started.full, clone_storage) {
            (true, Some(st)) => Some(st.trim().to_string()),
            _ => disk_storage(&started.source),
        };
        match (p.add_cloudinit_drive != Some(false), slot, storage) {
            (true, Some(slot), Some(st)) => {
                let value = format!("{st}:cloudinit");
                drive_added = Some(format!("{slot}: {value}"));
                settings.params = settings.params.set(slot, value);
            }
            _ => warnings.push(format!(
                "template {} has no cloud-init drive: the settings are in the config but the \
                 guest will not see them until one is added (e.g. ide0: local-lvm:cloudinit)",
                p.template_vmid
            )),
        }
    }
    let mut out = FromTemplateOutput {
        vmid,
        node: node.clone(),
        name,
        template_vmid: p.template_vmid,
        full: started.full,
        clone_task,
        configured: false,
        cloud_init: settings.summary,
        cloudinit_drive_added: drive_added,
        start_task: None,
        guest_status: None,
        warnings,
    };
    if !out.clone_task.is_done() {
        out.warnings.push(format!(
            "the clone is still running: cloud-init, cores and memory were NOT applied and the VM \
             was not started; once get_task shows the clone done, delete VM {vmid} and call again \
             with a larger wait_seconds (or full: false, which is quick)"
        ));
        return Ok(out);
    }
    if !settings.params.is_empty() {
        ctx.client
            .qemu_set_config(&node, vmid, settings.params)
            .await
            .map_err(|e| guest_error(e, vmid, GuestKind::Qemu))?;
    }
    out.configured = true;
    if p.start == Some(true) {
        let upid = ctx
            .client
            .qemu_action(&node, vmid, PowerAction::Start, &ActionOptions::default())
            .await
            .map_err(|e| guest_error(e, vmid, GuestKind::Qemu))?;
        let left = wait.saturating_sub(began.elapsed());
        out.start_task = Some(wait_task(ctx, &upid, left, &format!("start of VM {vmid}")).await?);
    }
    out.guest_status = guest_status(ctx, GuestKind::Qemu, &node, vmid).await.ok();
    Ok(out)
}

/// The first free IDE slot for a cloud-init drive (ide2 last: it is usually the CD drive).
fn free_ide_slot(config: &GuestConfig) -> Option<&'static str> {
    ["ide0", "ide1", "ide3", "ide2"]
        .into_iter()
        .find(|k| !config.0.contains_key(*k))
}

/// The storage of the first disk (not a CD) of a config: where its clone's disks are.
fn disk_storage(config: &GuestConfig) -> Option<String> {
    let prefixes = ["scsi", "virtio", "sata", "ide"];
    prefixes.iter().find_map(|p| {
        config
            .numbered(p)
            .into_iter()
            .filter(|(_, v)| !v.contains("media=cdrom"))
            .find_map(|(_, v)| {
                let volid = v.split(',').next()?;
                let (st, _) = volid.split_once(':')?;
                Some(st.to_string())
            })
    })
}

/// The config changes of a request and what to report of them.
struct Settings {
    params: Params,
    summary: CloudInit,
    touches_cloud_init: bool,
}

fn cloud_init_params(p: &FromTemplateParams) -> Result<Settings, ToolError> {
    let mut params = Params::new();
    let ciuser = trimmed(p.ciuser.clone());
    if let Some(u) = &ciuser {
        if u.contains(char::is_whitespace) || u.contains(':') {
            return Err(ToolError::invalid(
                "ciuser",
                "must be a user name (no spaces)",
            ));
        }
        params = params.set("ciuser", u.as_str());
    }
    let password = p.password.as_deref().filter(|s| !s.is_empty());
    if let Some(pw) = password {
        params = params.set("cipassword", pw);
    }
    let keys = p.ssh_keys.as_ref().map(SshKeys::lines).unwrap_or_default();
    check_public_keys(&keys)?;
    if !keys.is_empty() {
        params = params.set("sshkeys", url_encode(&keys.join("\n")));
    }
    let ipconfig0 = ipconfig(p.ip.as_deref(), p.gateway.as_deref())?;
    if let Some(ipc) = &ipconfig0 {
        params = params.set("ipconfig0", ipc.as_str());
    }
    let touches_cloud_init =
        ciuser.is_some() || password.is_some() || !keys.is_empty() || ipconfig0.is_some();
    if let Some(c) = p.cores {
        if c == 0 {
            return Err(ToolError::invalid("cores", "must be at least 1"));
        }
        params = params.set("cores", c);
    }
    if let Some(m) = p.memory_mb {
        if m < 16 {
            return Err(ToolError::invalid("memory_mb", "must be at least 16 (MiB)"));
        }
        params = params.set("memory", m);
    }
    Ok(Settings {
        params,
        summary: CloudInit {
            ciuser,
            password_set: password.is_some(),
            ssh_keys: keys.len(),
            ipconfig0,
        },
        touches_cloud_init,
    })
}

/// Refuses anything that is not an SSH public key line (a private key above all).
pub(crate) fn check_public_keys(keys: &[String]) -> Result<(), ToolError> {
    for k in keys {
        if k.contains("PRIVATE KEY") {
            return Err(ToolError::invalid(
                "ssh_keys",
                "holds a PRIVATE key: give the public key (the .pub file) instead",
            ));
        }
        let looks_public = ["ssh-", "ecdsa-", "sk-"].iter().any(|p| k.starts_with(p))
            && k.split_whitespace().count() >= 2;
        if !looks_public {
            return Err(ToolError::invalid(
                "ssh_keys",
                format!(
                    "`{}` is not an SSH public key (expected `ssh-ed25519 AAAA... comment`)",
                    k.chars().take(24).collect::<String>()
                ),
            ));
        }
    }
    Ok(())
}

/// `ipconfig0` from `ip` (`dhcp` or `ADDR/PREFIX`) and `gateway`.
pub(crate) fn ipconfig(
    ip: Option<&str>,
    gateway: Option<&str>,
) -> Result<Option<String>, ToolError> {
    let ip = ip.map(str::trim).filter(|s| !s.is_empty());
    let gw = gateway.map(str::trim).filter(|s| !s.is_empty());
    let Some(ip) = ip else {
        if gw.is_some() {
            return Err(ToolError::invalid(
                "gateway",
                "needs a static ip (`ip: 10.0.0.5/24`)",
            ));
        }
        return Ok(None);
    };
    if ip.eq_ignore_ascii_case("dhcp") {
        if gw.is_some() {
            return Err(ToolError::invalid(
                "gateway",
                "does not go with ip: dhcp (the DHCP server gives it)",
            ));
        }
        return Ok(Some("ip=dhcp".into()));
    }
    let addr = parse_cidr(ip).ok_or_else(|| {
        ToolError::invalid(
            "ip",
            format!("`{ip}` is neither `dhcp` nor an IPv4 address with prefix (`10.0.0.5/24`)"),
        )
    })?;
    let mut out = format!("ip={ip}");
    if let Some(g) = gw {
        match g.parse::<IpAddr>() {
            Ok(IpAddr::V4(_)) if addr.is_ipv4() => out.push_str(&format!(",gw={g}")),
            _ => {
                return Err(ToolError::invalid(
                    "gateway",
                    format!("`{g}` is not an IPv4 address"),
                ));
            }
        }
    }
    Ok(Some(out))
}

/// `10.0.0.5/24` → the address, when the prefix fits IPv4.
fn parse_cidr(s: &str) -> Option<IpAddr> {
    let (addr, prefix) = s.split_once('/')?;
    let addr: IpAddr = addr.parse().ok()?;
    let prefix: u8 = prefix.parse().ok()?;
    (addr.is_ipv4() && prefix <= 32).then_some(addr)
}

/// Percent-encodes everything but RFC 3986's unreserved characters, as PVE's `urlencoded`
/// format expects (`sshkeys`; the form body encodes it once more).
pub(crate) fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn ipconfig_forms() {
        assert_eq!(ipconfig(None, None).unwrap(), None);
        assert_eq!(
            ipconfig(Some("DHCP"), None).unwrap().as_deref(),
            Some("ip=dhcp")
        );
        assert_eq!(
            ipconfig(Some("10.0.0.5/24"), Some("10.0.0.1"))
                .unwrap()
                .as_deref(),
            Some("ip=10.0.0.5/24,gw=10.0.0.1")
        );
        for (ip, gw) in [
            (Some("10.0.0.5"), None),
            (Some("10.0.0.5/33"), None),
            (Some("dhcp"), Some("10.0.0.1")),
            (None, Some("10.0.0.1")),
            (Some("10.0.0.5/24"), Some("nope")),
        ] {
            assert!(ipconfig(ip, gw).is_err(), "{ip:?} {gw:?}");
        }
    }

    #[test]
    fn keys_are_url_encoded_as_pve_expects() {
        assert_eq!(
            url_encode("ssh-ed25519 AAAA+/= me@host\nx"),
            "ssh-ed25519%20AAAA%2B%2F%3D%20me%40host%0Ax"
        );
    }
}
