//! Cloud-init of a VM: `GET .../cloudinit` (each cloud-init option with the value on the drive
//! and, when the config differs, the pending one), `PUT .../cloudinit` (regenerates the drive
//! from the config) and `GET .../cloudinit/dump` (the user, network or meta data the drive
//! holds). The drive is also regenerated when the VM starts, as PVE does.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use crate::Sim;
use crate::guest::{self, SECRET_MASK, prop};
use crate::route::{ApiError, Call, Method, Perm, Route};
use crate::state::{Guest, GuestKind};

/// The routes of this module.
pub(super) fn routes() -> Vec<Route> {
    vec![
        Route::new(
            Method::Get,
            "/nodes/{node}/qemu/{vmid}/cloudinit",
            Perm::Vm(&["VM.Audit"]),
            pending,
        ),
        Route::new(
            Method::Put,
            "/nodes/{node}/qemu/{vmid}/cloudinit",
            Perm::Vm(&["VM.Config.Cloudinit"]),
            regenerate,
        ),
        Route::new(
            Method::Get,
            "/nodes/{node}/qemu/{vmid}/cloudinit/dump",
            Perm::Vm(&["VM.Audit"]),
            dump,
        ),
    ]
}

const KEYS: &[&str] = &[
    "cicustom",
    "cipassword",
    "citype",
    "ciupgrade",
    "ciuser",
    "name",
    "nameserver",
    "searchdomain",
    "sshkeys",
];

fn is_ci_key(k: &str) -> bool {
    KEYS.contains(&k)
        || k.strip_prefix("ipconfig")
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// The cloud-init options of a config.
pub(crate) fn options(config: &BTreeMap<String, Value>) -> BTreeMap<String, Value> {
    config
        .iter()
        .filter(|(k, _)| is_ci_key(k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// Whether the VM has a cloud-init drive.
pub(crate) fn has_drive(g: &Guest) -> bool {
    g.config
        .values()
        .any(|v| v.as_str().is_some_and(super::cloudinit::is_drive))
}

fn shown(k: &str, v: &Value) -> Value {
    if guest::is_secret_key(k) {
        json!(SECRET_MASK)
    } else {
        json!(guest::value_text(v))
    }
}

fn pending(sim: &mut Sim, call: &Call) -> Result<Value, ApiError> {
    let g = sim.guest_on(call.node()?, call.vmid()?, GuestKind::Qemu)?;
    let now = options(&g.config);
    let drive = g.cloudinit.clone().unwrap_or_default();
    let mut keys: Vec<&String> = now.keys().chain(drive.keys()).collect();
    keys.sort();
    keys.dedup();
    Ok(Value::Array(
        keys.into_iter()
            .map(|k| {
                let mut e = Map::new();
                e.insert("key".into(), json!(k));
                if let Some(v) = drive.get(k) {
                    e.insert("value".into(), shown(k, v));
                }
                match (drive.get(k), now.get(k)) {
                    (Some(_), None) => {
                        e.insert("delete".into(), json!(1));
                    }
                    (old, Some(v)) if old != Some(v) => {
                        e.insert("pending".into(), shown(k, v));
                    }
                    _ => {}
                }
                Value::Object(e)
            })
            .collect(),
    ))
}

fn regenerate(sim: &mut Sim, call: &Call) -> Result<Value, ApiError> {
    let node = call.node()?.to_string();
    let vmid = call.vmid()?;
    let g = sim.guest_on_mut(&node, vmid, GuestKind::Qemu)?;
    if !has_drive(g) {
        return Err(ApiError::internal("no cloudinit drive found"));
    }
    g.cloudinit = Some(options(&g.config));
    Ok(Value::Null)
}

fn dump(sim: &mut Sim, call: &Call) -> Result<Value, ApiError> {
    let g = sim.guest_on(call.node()?, call.vmid()?, GuestKind::Qemu)?;
    let c = options(&g.config);
    let text = |k: &str| c.get(k).map(guest::value_text);
    let out = match call.str("type").unwrap_or("user") {
        "user" => {
            let name = g.name();
            let mut s =
                format!("#cloud-config\nhostname: {name}\nmanage_etc_hosts: true\nfqdn: {name}\n");
            if let Some(u) = text("ciuser") {
                s.push_str(&format!("user: {u}\n"));
            }
            if let Some(p) = text("cipassword") {
                s.push_str(&format!("password: {p}\n"));
            }
            if let Some(keys) = text("sshkeys") {
                let keys = percent_encoding::percent_decode_str(&keys)
                    .decode_utf8_lossy()
                    .into_owned();
                s.push_str("ssh_authorized_keys:\n");
                for k in keys.lines().filter(|l| !l.trim().is_empty()) {
                    s.push_str(&format!("  - {k}\n"));
                }
            }
            s.push_str("chpasswd:\n  expire: False\nusers:\n  - default\n");
            let upgrade = text("ciupgrade").is_none_or(|v| v != "0");
            s.push_str(&format!("package_upgrade: {upgrade}\n"));
            s
        }
        "network" => {
            let mut s = String::from("version: 1\nconfig:\n");
            for (i, (name, mac, _)) in crate::agent::guest_os::interfaces(g)
                .into_iter()
                .enumerate()
            {
                s.push_str(&format!(
                    "    - type: physical\n      name: {name}\n      mac_address: '{mac}'\n      subnets:\n"
                ));
                let ipc = text(&format!("ipconfig{i}")).unwrap_or_default();
                match prop(&ipc, "ip") {
                    Some("dhcp") | None => s.push_str("      - type: dhcp4\n"),
                    Some(cidr) => {
                        s.push_str(&format!(
                            "      - type: static\n        address: '{cidr}'\n"
                        ));
                        if let Some(gw) = prop(&ipc, "gw") {
                            s.push_str(&format!("        gateway: '{gw}'\n"));
                        }
                    }
                }
            }
            if let Some(ns) = text("nameserver") {
                s.push_str(&format!(
                    "    - type: nameserver\n      address:\n      - '{ns}'\n"
                ));
                if let Some(sd) = text("searchdomain") {
                    s.push_str(&format!("      search:\n      - '{sd}'\n"));
                }
            }
            s
        }
        _ => format!(
            "instance-id: {}\n",
            crate::routes::digest(&format!("{:?}", options(&g.config)))
        ),
    };
    Ok(Value::String(out))
}
