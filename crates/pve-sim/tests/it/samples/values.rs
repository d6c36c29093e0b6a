//! What the samples send: the guests, storages and objects they act on (picked from the demo
//! cluster, with a snapshot and a task added), the concrete path of each route template, and
//! a value for every required parameter.

use pve_sim::route::{Method, Route};
use pve_sim::state::{AgentState, GuestKind, PowerState, Snapshot, Storage};
use pve_sim::tasks::TaskSpec;

use crate::support::TestSim;

/// Values the samples use.
#[derive(Debug, Clone)]
pub(crate) struct Ctx {
    pub(crate) qemu: (String, u32),
    pub(crate) lxc: (String, u32),
    other_node: String,
    pub(crate) storage_volume: (String, String),
    upid: String,
    exec_pid: Option<String>,
    iso: String,
    vztmpl: String,
    /// A storage holding disk images on the VM's node (for allocating a volume).
    pub(crate) images_storage: String,
    /// A storage holding backups.
    pub(crate) backup_storage: String,
}

pub(crate) const SNAP: &str = "contract";

/// Picks the guests and things the samples use, adds a snapshot to each and a finished task.
pub(crate) async fn prepare(sim: &TestSim) -> Ctx {
    let mut ctx = sim.server.with_sim(|s| {
        let c = &s.cluster;
        let qemu = c
            .guests
            .values()
            .find(|g| {
                g.kind == GuestKind::Qemu
                    && g.status == PowerState::Running
                    && g.agent == AgentState::Running
                    && g.agent_enabled()
                    && !g.is_template()
                    && g.lock().is_none()
            })
            .map(|g| (g.node.clone(), g.vmid))
            .expect("a running VM with an agent");
        let lxc = c
            .guests
            .values()
            .find(|g| {
                g.kind == GuestKind::Lxc
                    && g.status == PowerState::Running
                    && g.lock().is_none()
                    && g.node == qemu.0
            })
            .map(|g| (g.node.clone(), g.vmid))
            .expect("a running container on the VM's node");
        let other_node = c
            .nodes
            .keys()
            .find(|n| **n != qemu.0)
            .cloned()
            .unwrap_or_default();
        let vol = c
            .volumes
            .iter()
            .find(|v| v.node == qemu.0 && v.content == "iso")
            .or_else(|| c.volumes.iter().find(|v| v.node == qemu.0))
            .expect("a volume on the VM's node");
        let storage_volume = (vol.storage.clone(), vol.volid.clone());
        let find = |content: &str| {
            c.volumes
                .iter()
                .find(|v| v.content == content)
                .map(|v| v.volid.clone())
                .unwrap_or_default()
        };
        let (iso, vztmpl) = (find("iso"), find("vztmpl"));
        let images_storage = c
            .storages
            .values()
            .find(|st| {
                st.enabled
                    && st.content.iter().any(|x| x == "images")
                    && st.nodes.as_ref().is_none_or(|n| n.contains(&qemu.0))
            })
            .map(|st| st.id.clone())
            .expect("an images storage");
        let backup_storage = c
            .storages
            .values()
            .find(|st| st.enabled && st.content.iter().any(|x| x == "backup"))
            .map(|st| st.id.clone())
            .expect("a backup storage");
        for vmid in [qemu.1, lxc.1] {
            let g = s.cluster.guests.get_mut(&vmid).unwrap();
            let config = g.config.clone();
            g.snapshots.push(Snapshot {
                name: SNAP.to_string(),
                description: "contract test".to_string(),
                snaptime: 1_700_000_000,
                vmstate: false,
                parent: None,
                config,
            });
            g.parent_snapshot = Some(SNAP.to_string());
        }
        let upid = s.spawn_task(TaskSpec {
            node: qemu.0.clone(),
            kind: "qmstart".into(),
            id: qemu.1.to_string(),
            user: "root@pam".into(),
            duration: 0.0,
            log: vec!["sample".into()],
            lock_vmid: None,
            finish: Box::new(|_, _| Ok(vec![])),
        });
        // A cloud-init drive on the sample VM.
        let ci = format!("local-lvm:vm-{}-cloudinit", qemu.1);
        if let Some(g) = s.cluster.guests.get_mut(&qemu.1) {
            g.config.insert(
                "ide0".into(),
                serde_json::json!(format!("{ci},media=cdrom")),
            );
            g.config.insert("ciuser".into(), serde_json::json!("admin"));
        }
        s.cluster.volumes.push(pve_sim::state::Volume {
            volid: ci,
            storage: "local-lvm".into(),
            node: qemu.0.clone(),
            content: "images".into(),
            format: "raw".into(),
            size: 4 << 20,
            ctime: 1_700_000_000,
            vmid: Some(qemu.1),
            notes: None,
            protected: false,
        });
        // A second images storage on every node, for disk moves.
        let scratch_storage = "scratch".to_string();
        s.cluster.storages.insert(
            scratch_storage.clone(),
            Storage {
                id: scratch_storage.clone(),
                kind: "dir".into(),
                content: vec!["images".into(), "rootdir".into()],
                shared: false,
                nodes: None,
                total: 2 << 40,
                enabled: true,
                extra: [("path".to_string(), serde_json::json!("/srv/scratch"))].into(),
            },
        );
        Ctx {
            qemu,
            lxc,
            other_node,
            storage_volume,
            upid,
            exec_pid: None,
            iso,
            vztmpl,
            images_storage,
            backup_storage,
        }
    });
    // A process for exec-status, if the exec route exists.
    let exec = format!("/nodes/{}/qemu/{}/agent/exec", ctx.qemu.0, ctx.qemu.1);
    let r = sim.post(&exec, &[("command", "uptime")]).await;
    if r.status == 200 {
        ctx.exec_pid = r.data()["pid"].as_i64().map(|p| p.to_string());
    }
    ctx
}

/// The concrete path for a template (`method` picks an object the call may remove).
pub(crate) fn fill(method: Method, template: &str, ctx: &Ctx) -> String {
    let guest_fw = template.contains("/firewall/") && template.contains("{vmid}");
    let firewall_name = match (template.contains("/aliases/"), guest_fw) {
        (true, true) => "self",
        (true, false) => "gateway",
        (false, true) => "ipfilter-net0",
        (false, false) => "management",
    };
    let poolid = if method == Method::Delete {
        "lab"
    } else {
        "production"
    };
    let (node, vmid) = if template.contains("/lxc/") {
        ctx.lxc.clone()
    } else {
        ctx.qemu.clone()
    };
    template
        .replace("{node}", &node)
        .replace("{vmid}", &vmid.to_string())
        .replace("{storage}", &ctx.storage_volume.0)
        .replace(
            "{volume}",
            &percent_encoding::utf8_percent_encode(
                &ctx.storage_volume.1,
                percent_encoding::NON_ALPHANUMERIC,
            )
            .to_string(),
        )
        .replace("{snapname}", SNAP)
        .replace("{upid}", &ctx.upid)
        .replace("{userid}", "root@pam")
        .replace("{groupid}", "ops")
        .replace("{realm}", "pam")
        .replace("{roleid}", "PVEAuditor")
        .replace("{poolid}", poolid)
        .replace("{id}", "backup-prod-nightly")
        .replace("{iface}", "vmbr0")
        .replace("{service}", "pveproxy")
        .replace("{sid}", "vm:102")
        .replace("{rule}", "db-prefer-pve01")
        .replace("{pos}", "0")
        .replace("{group}", "webserver")
        .replace("{name}", firewall_name)
}

/// Values for required (and some telling optional) parameters, by route and name.
fn value_for(route: &Route, name: &str, ctx: &Ctx) -> Option<Vec<String>> {
    let t = route.path;
    let v = |s: &str| Some(vec![s.to_string()]);
    let content = "/nodes/{node}/storage/{storage}/content";
    match (route.method, name) {
        (Method::Post, "poolid") => v("contract-pool"),
        (Method::Put, "poolid") => v("production"),
        (Method::Delete, "poolid") => v("lab"),
        (_, "idlist") => v("scsi0"),
        (_, "timeframe") => v("hour"),
        (_, "type") if t.ends_with("/cloudinit/dump") => v("user"),
        (_, "url") => v("https://images.example.com/contract-1.0.iso"),
        (_, "filename") if t.ends_with("/download-url") => v("contract-1.0.iso"),
        (_, "template") => v("debian-13-standard_13.1-2_amd64.tar.zst"),
        (_, "volume") if t.ends_with("/move_volume") => v("rootfs"),
        (Method::Post, "storage") if t == "/storage" => v("contract-store"),
        (Method::Post, "type") if t == "/storage" => v("dir"),
        (Method::Post, "filename") if t == content => v(&format!("vm-{}-disk-9", ctx.qemu.1)),
        (Method::Post, "size") if t == content => v("1G"),
        (Method::Post, "target") if t.starts_with(content) => v("copy-of-sample.iso"),
        (_, "pid") => ctx.exec_pid.clone().map(|p| vec![p]),
        (_, "file") => v("/etc/hostname"),
        (Method::Post, "command") if t.ends_with("/agent") => v("ping"),
        (Method::Post, "command") => Some(vec!["uname".into(), "-a".into()]),
        (_, "username") => v("root@pam"),
        (_, "password") => v("demo"),
        (_, "vmid") if t == "/nodes/{node}/qemu" => v("9901"),
        (_, "vmid") if t == "/nodes/{node}/lxc" => v("9902"),
        (_, "vmid") => v(&ctx.qemu.1.to_string()),
        (_, "ostemplate") => v(&ctx.vztmpl),
        (_, "newid") => v("9903"),
        (_, "snapname") => v("sample2"),
        (_, "target") => v(&ctx.other_node),
        (_, "disk") if t.contains("/lxc/") => v("rootfs"),
        (_, "disk") => v("scsi0"),
        (_, "size") => v("+1G"),
        (_, "filename") => v("vm-9904-disk-0"),
        (_, "content") => v("iso"),
        (_, "storage") => v(&ctx.storage_volume.0),
        (_, "cdrom") => v(&ctx.iso),
        _ => None,
    }
}

/// Builds the parameters of a sample: every required non-path parameter.
pub(crate) fn params_for(route: &Route, ctx: &Ctx) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for p in route
        .params
        .iter()
        .filter(|p| !p.optional && !route.path.contains(&format!("{{{}}}", p.name)))
    {
        let values = value_for(route, p.name, ctx).ok_or_else(|| {
            format!(
                "{} {}: add a sample value for '{}' in samples::value_for",
                route.method.as_str(),
                route.path,
                p.name
            )
        })?;
        out.extend(values.into_iter().map(|v| (p.name.to_string(), v)));
    }
    Ok(out)
}

/// Optional parameters the write samples add (a config change needs at least one option).
/// `(method, route template, extra parameters)`.
type Extras = (
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
);

pub(crate) const WRITE_EXTRAS: &[Extras] = &[
    (
        "POST",
        "/nodes/{node}/qemu/{vmid}/migrate",
        &[("online", "1")],
    ),
    (
        "POST",
        "/nodes/{node}/lxc/{vmid}/migrate",
        &[("restart", "1")],
    ),
    (
        "PUT",
        "/nodes/{node}/qemu/{vmid}/config",
        &[("description", "contract")],
    ),
    (
        "POST",
        "/nodes/{node}/qemu/{vmid}/config",
        &[("description", "contract")],
    ),
    (
        "PUT",
        "/nodes/{node}/lxc/{vmid}/config",
        &[("description", "contract")],
    ),
    (
        "POST",
        "/storage",
        &[("path", "/srv/contract"), ("content", "iso,backup")],
    ),
    (
        "POST",
        "/cluster/backup",
        &[
            ("vmid", "100,101"),
            ("schedule", "02:00"),
            ("storage", "nfs-backup"),
        ],
    ),
    ("PUT", "/cluster/backup/{id}", &[("comment", "contract")]),
    ("PUT", "/pools", &[("comment", "contract")]),
    ("PUT", "/pools/{poolid}", &[("comment", "contract")]),
    (
        "POST",
        "/nodes/{node}/qemu/{vmid}/move_disk",
        &[("storage", "scratch")],
    ),
    (
        "POST",
        "/nodes/{node}/lxc/{vmid}/move_volume",
        &[("storage", "scratch")],
    ),
    (
        "POST",
        "/nodes/{node}/lxc/{vmid}/clone",
        &[("snapname", "contract")],
    ),
    (
        "PUT",
        "/storage/{storage}",
        &[("content", "iso,vztmpl,backup,snippets")],
    ),
];

/// Extra GET requests covering telling optional parameters.
pub(crate) const VARIANTS: &[(&str, &[(&str, &str)])] = &[
    ("/cluster/resources", &[("type", "vm")]),
    ("/cluster/resources", &[("type", "storage")]),
    ("/cluster/resources", &[("type", "node")]),
    ("/nodes/{node}/tasks", &[("source", "all")]),
    ("/nodes/{node}/qemu", &[("full", "1")]),
    ("/nodes/{node}/storage", &[("content", "images")]),
    (
        "/nodes/{node}/storage/{storage}/content",
        &[("content", "iso")],
    ),
];
