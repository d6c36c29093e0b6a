//! The `storage` toolset against the demo simulator: `resize_disk` (VM disk, container volume,
//! shrinking refused), `move_disk` (VM live, stopped container, running container refused, a
//! storage without that content, deleting the source only when confirmed),
//! `download_to_storage` (from a URL the simulator never fetches, or a template by name; the
//! bounded wait) and `list_available_templates`; dry runs, protected guests, the audit log,
//! and the tools over MCP and REST.

use std::path::PathBuf;

use proxmox_mcp::GuardConfig;
use reqwest::Method;
use serde_json::{Value, json};

use crate::support::demo::{Demo, guarded, writes};
use crate::support::rest::{Rest, check};

/// The size of volume `volid` in the simulator, in bytes.
fn volume_size(d: &Demo, volid: &str) -> Option<u64> {
    d.sim().with_sim(|s| {
        s.cluster
            .volumes
            .iter()
            .find(|v| v.volid == volid)
            .map(|v| v.size)
    })
}

fn has_volume(d: &Demo, volid: &str) -> bool {
    volume_size(d, volid).is_some()
}

/// A second thin pool, `fast`, holding VM images and container volumes on every node.
fn add_fast_storage(d: &Demo) {
    d.sim().with_sim(|s| {
        let mut fast = s.cluster.storages.get("local-lvm").unwrap().clone();
        fast.id = "fast".into();
        s.cluster.storages.insert("fast".into(), fast);
    });
}

/// The volume of a disk spec (`local-lvm:vm-103-disk-0,size=32G`).
fn volume_of(spec: &str) -> String {
    spec.split(',').next().unwrap().to_string()
}

#[tokio::test]
async fn resize_disk_grows_vm_disks_and_container_volumes() {
    let d = Demo::start().await;
    let vol = volume_of(&d.guest_config(103, "scsi0").unwrap());
    let before = volume_size(&d, &vol).unwrap();
    let out = d
        .call("resize_disk", json!({"vmid": 103, "size": "+2G"}))
        .await
        .unwrap();
    assert_eq!(out["disk"], "scsi0", "the VM's only disk: {out}");
    assert_eq!(out["task"]["task_status"], "done", "{out}");
    assert_eq!(out["size_before"], "32G");
    assert_eq!(out["size_after"], "34G");
    assert_eq!(volume_size(&d, &vol), Some(before + (2 << 30)));
    assert!(d.guest_config(103, "scsi0").unwrap().contains("size=34G"));

    // Absolute, on a container's rootfs (the default), running.
    let out = d
        .call("resize_disk", json!({"vmid": 200, "size": "12G"}))
        .await
        .unwrap();
    assert_eq!(
        (&out["kind"], &out["disk"]),
        (&json!("lxc"), &json!("rootfs"))
    );
    assert_eq!(out["size_after"], "12G", "{out}");
    assert!(d.guest_config(200, "rootfs").unwrap().contains("size=12G"));

    // VM 102 has two disks: named, the other one stays (its protection flag cleared here).
    d.sim().with_sim(|s| {
        s.cluster
            .guests
            .get_mut(&102)
            .unwrap()
            .config
            .remove("protection");
    });
    let out = d
        .call(
            "resize_disk",
            json!({"vmid": 102, "disk": "scsi1", "size": "+1G"}),
        )
        .await
        .unwrap();
    assert_eq!(out["size_after"], "201G", "{out}");
}

#[tokio::test]
async fn resize_disk_refuses_shrinking_and_bad_input_before_writing() {
    let d = Demo::start().await;
    let cases = [
        (
            json!({"vmid": 103, "size": "16G"}),
            "invalid_params",
            "shrinking disks is not supported",
        ),
        (
            json!({"vmid": 200, "size": "4G"}),
            "invalid_params",
            "shrinking disks is not supported",
        ),
        (json!({"vmid": 103, "size": "50"}), "invalid_params", "unit"),
        (
            json!({"vmid": 103, "size": "-5G"}),
            "invalid_params",
            "size",
        ),
        (
            json!({"vmid": 103, "size": "+0G"}),
            "invalid_params",
            "size",
        ),
        (
            json!({"vmid": 103, "size": "+1G", "disk": "scsi7"}),
            "invalid_params",
            "its disks: scsi0",
        ),
        // A CD drive is no disk to grow.
        (
            json!({"vmid": 103, "size": "+1G", "disk": "ide2"}),
            "invalid_params",
            "no disk ide2",
        ),
        (
            json!({"vmid": 102, "size": "+1G"}),
            "invalid_params",
            "scsi0, scsi1",
        ),
        (json!({"vmid": 999, "size": "+1G"}), "pve", "999"),
        (json!({"vmid": 103}), "invalid_params", "size"),
    ];
    for (args, kind, text) in cases {
        d.sim().clear_requests();
        let e = d.call("resize_disk", args.clone()).await.unwrap_err();
        assert_eq!(e.kind(), kind, "{args}: {e}");
        assert!(e.to_string().contains(text), "{args}: {e}");
        assert!(writes(&d).is_empty(), "{args}: {:?}", writes(&d));
    }
    assert!(d.guest_config(103, "scsi0").unwrap().contains("size=32G"));
}

#[tokio::test]
async fn move_disk_moves_vm_disks_and_stopped_container_volumes() {
    let d = Demo::start().await;
    add_fast_storage(&d);
    // A running VM: moved live; the source stays as unused0.
    let from = volume_of(&d.guest_config(101, "scsi0").unwrap());
    let out = d
        .call("move_disk", json!({"vmid": 101, "storage": "fast"}))
        .await
        .unwrap();
    assert_eq!(out["task_status"], "done", "{out}");
    assert_eq!(out["from_volume"], from.as_str());
    let to = out["volume"].as_str().unwrap().to_string();
    assert!(to.starts_with("fast:"), "{out}");
    assert_eq!(out["deletes_source"], false);
    assert_eq!(volume_of(&d.guest_config(101, "scsi0").unwrap()), to);
    assert_eq!(
        d.guest_config(101, "unused0").as_deref(),
        Some(from.as_str())
    );
    assert!(has_volume(&d, &from));
    assert_eq!(d.guest_status(101).as_deref(), Some("running"));

    // A stopped container, deleting the source: destructive, so confirmed.
    let from = volume_of(&d.guest_config(205, "rootfs").unwrap());
    let e = d
        .call(
            "move_disk",
            json!({"vmid": 205, "storage": "fast", "delete_source": true}),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind(), "policy", "{e}");
    assert!(e.to_string().contains("confirm"), "{e}");
    assert!(has_volume(&d, &from));
    let out = d
        .call(
            "move_disk",
            json!({"vmid": 205, "storage": "fast", "delete_source": true, "confirm": true}),
        )
        .await
        .unwrap();
    assert_eq!(out["deletes_source"], true, "{out}");
    assert!(out["volume"].as_str().unwrap().starts_with("fast:"));
    assert!(!has_volume(&d, &from), "the source is gone");
}

#[tokio::test]
async fn move_disk_errors_keep_pves_words() {
    let d = Demo::start().await;
    add_fast_storage(&d);
    let cases = [
        // `local` holds ISOs, templates and backups, not disks.
        (
            json!({"vmid": 103, "storage": "local"}),
            "storage 'local' does not support vm images",
        ),
        (
            json!({"vmid": 205, "storage": "local"}),
            "storage 'local' does not support container directories",
        ),
        (
            json!({"vmid": 200, "storage": "fast"}),
            "cannot move volumes of a running container",
        ),
        (
            json!({"vmid": 103, "storage": "nope"}),
            "storage 'nope' does not exist",
        ),
        (json!({"vmid": 103, "storage": "local-lvm"}), "same storage"),
        (json!({"vmid": 105, "storage": "fast"}), "locked"),
        (json!({"vmid": 999, "storage": "fast"}), "999"),
        (
            json!({"vmid": 205, "storage": "fast", "format": "qcow2"}),
            "format",
        ),
        (json!({"vmid": 103, "storage": " "}), "storage"),
    ];
    for (args, text) in cases {
        let e = d.call("move_disk", args.clone()).await.unwrap_err();
        assert!(e.to_string().contains(text), "{args}: {e}");
    }
    // Nothing moved.
    assert!(
        d.guest_config(103, "scsi0")
            .unwrap()
            .starts_with("local-lvm:")
    );
    assert!(
        d.guest_config(205, "rootfs")
            .unwrap()
            .starts_with("local-lvm:")
    );
}

#[tokio::test]
async fn download_to_storage_from_a_url_or_the_index() {
    let d = Demo::start().await;
    let url = "https://cloud-images.example.invalid/noble/noble-server-cloudimg-amd64.img";
    let out = d
        .call(
            "download_to_storage",
            json!({"confirm": true, "storage": "local", "url": url, "node": "pve02",
                   "checksum": "ab".repeat(32), "checksum_algorithm": "sha256"}),
        )
        .await
        .unwrap();
    let volid = "local:iso/noble-server-cloudimg-amd64.img";
    assert_eq!(out["volid"], volid, "{out}");
    assert_eq!(out["content"], "iso");
    assert_eq!(out["node"], "pve02");
    assert!(out["size_mb"].as_u64().unwrap() > 0, "{out}");
    let on = d.sim().with_sim(|s| {
        s.cluster
            .volumes
            .iter()
            .find(|v| v.volid == volid)
            .map(|v| v.node.clone())
    });
    assert_eq!(on.as_deref(), Some("pve02"));
    let sent = d
        .sim()
        .requests()
        .into_iter()
        .find(|r| r.path.ends_with("/download-url"))
        .unwrap();
    for (k, v) in [
        ("url", url),
        ("content", "iso"),
        ("checksum-algorithm", "sha256"),
    ] {
        assert!(sent.params.contains(&(k.into(), v.into())), "{sent:?}");
    }

    // A template by name, from the index.
    let index = d
        .call("list_available_templates", json!({"search": "debian"}))
        .await
        .unwrap();
    let name = index["templates"][0]["template"]
        .as_str()
        .unwrap()
        .to_string();
    let out = d
        .call(
            "download_to_storage",
            json!({"storage": "local", "template": name}),
        )
        .await
        .unwrap();
    assert_eq!(out["volid"], format!("local:vztmpl/{name}"), "{out}");
    assert!(has_volume(&d, &format!("local:vztmpl/{name}")));

    // A qcow2 image goes to import, on a storage that holds it.
    d.sim().with_sim(|s| {
        s.cluster
            .storages
            .get_mut("local")
            .unwrap()
            .content
            .push("import".into());
    });
    let out = d
        .call(
            "download_to_storage",
            json!({"confirm": true, "storage": "local", "url": "https://e.invalid/debian-13-genericcloud-amd64.qcow2"}),
        )
        .await
        .unwrap();
    assert_eq!(
        out["volid"],
        "local:import/debian-13-genericcloud-amd64.qcow2"
    );
}

#[tokio::test]
async fn download_to_storage_errors() {
    let d = Demo::start().await;
    let iso = "https://e.invalid/debian-13.iso";
    let cases = [
        // A storage without that content: PVE's words.
        (
            json!({"confirm": true, "storage": "local-lvm", "url": iso}),
            "storage 'local-lvm' does not support iso",
        ),
        (
            json!({"storage": "local-lvm", "template": "debian-13-standard_13.1-2_amd64.tar.zst"}),
            "does not support vztmpl",
        ),
        (
            json!({"storage": "local", "template": "no-such_1.0_amd64.tar.zst"}),
            "no such template",
        ),
        (
            json!({"confirm": true, "storage": "nope", "url": iso}),
            "no storage named",
        ),
        (
            json!({"confirm": true, "storage": "local", "url": iso, "node": "pve9"}),
            "not on node pve9",
        ),
        (json!({"confirm": true, "storage": "local"}), "url"),
        (
            json!({"confirm": true, "storage": "local", "url": iso, "template": "x"}),
            "not both",
        ),
        (
            json!({"confirm": true, "storage": "local", "url": "file:///etc/shadow"}),
            "http",
        ),
        (
            json!({"confirm": true, "storage": "local", "url": "https://e.invalid/"}),
            "filename",
        ),
        (
            json!({"confirm": true, "storage": "local", "url": "https://e.invalid/setup.exe"}),
            "content",
        ),
        (
            json!({"confirm": true, "storage": "local", "url": iso, "checksum": "abc", "checksum_algorithm": "sha256"}),
            "64 hex digits",
        ),
        (
            json!({"confirm": true, "storage": "local", "url": iso, "checksum": "ab".repeat(32)}),
            "checksum_algorithm",
        ),
        (
            json!({"confirm": true, "storage": "local", "url": iso, "filename": "../../etc/x.iso"}),
            "plain file name",
        ),
    ];
    for (args, text) in cases {
        let e = d
            .call("download_to_storage", args.clone())
            .await
            .unwrap_err();
        assert!(e.to_string().contains(text), "{args}: {e}");
    }
    // An existing file is not overwritten: PVE's refusal.
    d.call(
        "download_to_storage",
        json!({"confirm": true, "storage": "local", "url": iso}),
    )
    .await
    .unwrap();
    let e = d
        .call(
            "download_to_storage",
            json!({"confirm": true, "storage": "local", "url": iso}),
        )
        .await
        .unwrap_err();
    assert!(e.to_string().contains("refusing to override"), "{e}");
}

#[tokio::test]
async fn a_long_download_returns_its_task() {
    // Tasks take simulated time: the file appears when the task ends.
    let d = Demo::with(pve_sim::seed::demo(), 1.0).await;
    let out = d
        .call(
            "download_to_storage",
            json!({"confirm": true, "storage": "local", "url": "https://e.invalid/big.iso", "wait_seconds": 0}),
        )
        .await
        .unwrap();
    assert_eq!(out["task_status"], "running", "{out}");
    assert!(
        out["upid"].as_str().unwrap().contains(":download:"),
        "{out}"
    );
    assert!(out["hint"].as_str().unwrap().contains("get_task"));
    assert!(out.get("size_mb").is_none());
    assert!(!has_volume(&d, "local:iso/big.iso"));
}

#[tokio::test]
async fn list_available_templates_filters() {
    let d = Demo::start().await;
    let all = d.call("list_available_templates", json!({})).await.unwrap();
    let n = all["count"].as_u64().unwrap();
    assert!(n > 2, "{all}");
    assert_eq!(all["templates"].as_array().unwrap().len() as u64, n);
    assert_eq!(all["node"], "pve01");
    let tk = d
        .call(
            "list_available_templates",
            json!({"section": "turnkeylinux", "node": "pve02"}),
        )
        .await
        .unwrap();
    let rows = tk["templates"].as_array().unwrap();
    assert!(!rows.is_empty() && (rows.len() as u64) < n);
    assert!(rows.iter().all(|t| t["section"] == "turnkeylinux"));
    let deb = d
        .call("list_available_templates", json!({"search": "DEBIAN"}))
        .await
        .unwrap();
    assert!(
        deb["templates"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t.to_string().to_lowercase().contains("debian"))
    );
    let e = d
        .call("list_available_templates", json!({"node": "pve9"}))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), "pve", "{e}");
}

#[tokio::test]
async fn dry_runs_protection_and_audit() {
    let log: PathBuf =
        std::env::temp_dir().join(format!("pmcp-storage-ops-{}.jsonl", std::process::id()));
    let _ = std::fs::remove_file(&log);
    let d = guarded(GuardConfig {
        protected_vmids: vec![103],
        audit_log: Some(log.clone()),
        ..GuardConfig::default()
    })
    .await;
    add_fast_storage(&d);
    d.sim().clear_requests();
    // Dry runs: the plan, nothing written.
    let plan = d
        .call(
            "resize_disk",
            json!({"vmid": 101, "size": "+5G", "dry_run": true}),
        )
        .await
        .unwrap();
    assert_eq!(plan["planned_calls"][0]["method"], "PUT", "{plan}");
    assert_eq!(
        plan["planned_calls"][0]["path"],
        "/nodes/pve01/qemu/101/resize"
    );
    assert_eq!(
        plan["planned_calls"][0]["params"],
        json!({"disk": "scsi0", "size": "+5G"})
    );
    let plan = d
        .call(
            "move_disk",
            json!({"vmid": 101, "storage": "fast", "delete_source": true, "dry_run": true}),
        )
        .await
        .unwrap();
    assert_eq!(
        plan["planned_calls"][0]["path"],
        "/nodes/pve01/qemu/101/move_disk"
    );
    assert_eq!(plan["planned_calls"][0]["params"]["delete"], "1");
    let plan = d
        .call(
            "download_to_storage",
            json!({"storage": "local", "url": "https://e.invalid/x.iso", "dry_run": true}),
        )
        .await
        .unwrap();
    assert_eq!(
        plan["planned_calls"][0]["path"],
        "/nodes/pve01/storage/local/download-url"
    );
    assert!(writes(&d).is_empty(), "{:?}", writes(&d));
    assert!(d.guest_config(101, "scsi0").unwrap().contains("size=32G"));

    // VM 103 is protected: resize and move refused, even confirmed, even as a dry run.
    for (tool, args) in [
        ("resize_disk", json!({"vmid": 103, "size": "+1G"})),
        (
            "resize_disk",
            json!({"vmid": 103, "size": "+1G", "dry_run": true}),
        ),
        ("move_disk", json!({"vmid": 103, "storage": "fast"})),
        (
            "move_disk",
            json!({"vmid": 103, "storage": "fast", "delete_source": true, "confirm": true}),
        ),
    ] {
        let e = d.call(tool, args.clone()).await.unwrap_err();
        assert_eq!(e.kind(), "policy", "{tool} {args}: {e}");
        assert!(e.to_string().contains("protected"), "{tool} {args}: {e}");
    }
    // VM 102 carries PVE's protection flag.
    let e = d
        .call(
            "resize_disk",
            json!({"vmid": 102, "disk": "scsi1", "size": "+1G"}),
        )
        .await
        .unwrap_err();
    assert!(e.to_string().contains("protected"), "{e}");
    assert!(writes(&d).is_empty(), "{:?}", writes(&d));

    // A real resize: audited with its task.
    d.call("resize_disk", json!({"vmid": 101, "size": "+1G"}))
        .await
        .unwrap();
    let recs: Vec<Value> = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let summary: Vec<(&str, &str)> = recs
        .iter()
        .map(|r| (r["tool"].as_str().unwrap(), r["outcome"].as_str().unwrap()))
        .collect();
    assert_eq!(
        summary,
        [
            ("resize_disk", "dry_run"),
            ("move_disk", "dry_run"),
            ("download_to_storage", "dry_run"),
            ("resize_disk", "refused"),
            ("resize_disk", "refused"),
            ("move_disk", "refused"),
            ("move_disk", "refused"),
            ("resize_disk", "refused"),
            ("resize_disk", "ok"),
        ]
    );
    let last = recs.last().unwrap();
    assert!(
        last["upid"].as_str().unwrap().contains(":resize:101:"),
        "{last}"
    );
    assert_eq!(last["args"], json!({"vmid": 101, "size": "+1G"}));
    let _ = std::fs::remove_file(&log);
}

/// The four tools over the REST door, and their annotations through a real MCP client.
#[tokio::test]
async fn storage_tools_over_rest_and_mcp() {
    use proxmox_mcp::McpHttpConfig;
    use rmcp::ServiceExt;
    use rmcp::model::CallToolRequestParams;
    use rmcp::transport::StreamableHttpClientTransport;

    use crate::support::mcp::{init_tls, start_with};

    let r = Rest::start().await;
    check(
        &r,
        Method::POST,
        "/resize_disk",
        Some(r#"{"vmid": 103, "size": "+1G"}"#),
        200,
        &[("/size_after", json!("33G"))],
    )
    .await;
    check(
        &r,
        Method::POST,
        "/resize_disk",
        Some(r#"{"vmid": 103, "size": "1G"}"#),
        422,
        &[],
    )
    .await;
    check(
        &r,
        Method::POST,
        "/move_disk",
        Some(r#"{"vmid": 103, "storage": "local"}"#),
        409,
        &[],
    )
    .await;
    check(
        &r,
        Method::POST,
        "/move_disk",
        Some(r#"{"vmid": 103, "storage": "local", "delete_source": true}"#),
        403,
        &[],
    )
    .await;
    // A URL is fetched by the node from wherever it points: confirmed calls only.
    check(
        &r,
        Method::POST,
        "/download_to_storage",
        Some(r#"{"storage": "local", "url": "https://e.invalid/rest.iso"}"#),
        403,
        &[],
    )
    .await;
    check(
        &r,
        Method::POST,
        "/download_to_storage",
        Some(r#"{"storage": "local", "url": "https://e.invalid/rest.iso", "confirm": true}"#),
        200,
        &[("/volid", json!("local:iso/rest.iso"))],
    )
    .await;
    check(
        &r,
        Method::GET,
        "/list_available_templates?section=system",
        None,
        200,
        &[("/templates/0/section", json!("system"))],
    )
    .await;

    init_tls();
    let d = Demo::start().await;
    let server = start_with(d.app.host().clone(), McpHttpConfig::default()).await;
    let transport = StreamableHttpClientTransport::from_uri(server.url("/proxmox/mcp"));
    let client = ().serve(transport).await.unwrap();
    let tools = client.list_all_tools().await.unwrap();
    let hints = |name: &str| {
        let t = tools.iter().find(|t| t.name == name).unwrap();
        let a = t.annotations.as_ref().unwrap();
        (a.read_only_hint, a.destructive_hint)
    };
    assert_eq!(hints("resize_disk"), (Some(false), Some(false)));
    assert_eq!(hints("move_disk"), (Some(false), Some(true)));
    assert_eq!(hints("download_to_storage"), (Some(false), Some(true)));
    assert_eq!(hints("list_available_templates"), (Some(true), Some(false)));
    let Value::Object(args) = json!({"vmid": 200, "size": "+1G"}) else {
        unreachable!()
    };
    let res = client
        .call_tool(CallToolRequestParams::new("resize_disk").with_arguments(args))
        .await
        .unwrap();
    assert_eq!(res.is_error, Some(false), "{res:?}");
    assert_eq!(res.structured_content.unwrap()["size_after"], "9G");
    client.cancel().await.unwrap();
    server.stop().await.unwrap();
}

/// `move_disk` takes its access from each call: an operate key may move a disk, but deleting
/// the source needs an admin key, and the refused call never reaches the cluster.
#[tokio::test]
async fn deleting_the_source_needs_an_admin_key() {
    use crate::support::rest::KEYS;

    let r = Rest::with_keys(proxmox_mcp::RateLimiter::unlimited()).await;
    add_fast_storage(&r.demo);
    let (_, _, operate) = KEYS[1];
    let (_, _, admin) = KEYS[2];
    let body = r#"{"vmid": 205, "storage": "fast", "delete_source": true, "confirm": true}"#;
    r.demo.sim().clear_requests();
    let (status, _, out) = r
        .send(Method::POST, "/move_disk", Some(body), Some(operate))
        .await;
    assert_eq!(status, 403, "{out}");
    assert!(out.to_string().contains("admin"), "{out}");
    assert!(writes(&r.demo).is_empty(), "{:?}", writes(&r.demo));
    // Keeping the source is a write the operate key may make.
    let (status, _, out) = r
        .send(
            Method::POST,
            "/move_disk",
            Some(r#"{"vmid": 205, "storage": "fast"}"#),
            Some(operate),
        )
        .await;
    assert_eq!(status, 200, "{out}");
    assert_eq!(out["deletes_source"], false);
    let (status, _, out) = r
        .send(
            Method::POST,
            "/move_disk",
            Some(
                r#"{"vmid": 205, "storage": "local-lvm", "delete_source": true, "confirm": true}"#,
            ),
            Some(admin),
        )
        .await;
    assert_eq!(status, 200, "{out}");
    assert_eq!(out["deletes_source"], true);
}

/// A download is followed like every task: progress notifications over Streamable HTTP until
/// the `download` task ends, then the answer with the new volume.
#[tokio::test]
async fn a_download_reports_progress_over_streamable_http() {
    use proxmox_mcp::McpHttpConfig;

    use crate::support::mcp::{init_tls, post, start_with};

    init_tls();
    // The index's Alpine template takes about 3 s of simulated time: 1.5 s here.
    let d = Demo::with(pve_sim::seed::demo(), 0.5).await;
    let server = start_with(d.app.host().clone(), McpHttpConfig::default()).await;
    let http = reqwest::Client::new();
    let url = server.url("/proxmox/mcp");
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {},
        "clientInfo": {"name": "test", "version": "1"}}});
    let (status, hdrs, _) = post(&http, &url, &[], init).await;
    assert_eq!(status, 200);
    let session = hdrs["mcp-session-id"].to_str().unwrap().to_string();
    let h = [
        ("mcp-session-id", session.as_str()),
        ("mcp-protocol-version", "2025-06-18"),
    ];
    post(
        &http,
        &url,
        &h,
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
    )
    .await;
    let template = "alpine-3.22-default_20250617_amd64.tar.xz";
    let (status, _, msgs) = post(
        &http,
        &url,
        &h,
        json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {
            "name": "download_to_storage", "_meta": {"progressToken": "dl-1"},
            "arguments": {"storage": "local", "template": template, "wait_seconds": 20}}}),
    )
    .await;
    assert_eq!(status, 200);
    let (answer, notes) = msgs.split_last().unwrap();
    assert_eq!(answer["id"], 2, "{msgs:?}");
    let out = &answer["result"]["structuredContent"];
    assert_eq!(out["task_status"], "done", "{answer}");
    assert_eq!(out["volid"], format!("local:vztmpl/{template}"));
    let progress: Vec<&Value> = notes
        .iter()
        .filter(|m| m["method"] == "notifications/progress")
        .collect();
    assert!(!progress.is_empty(), "no progress: {msgs:?}");
    for p in progress {
        assert_eq!(p["params"]["progressToken"], "dl-1");
        let message = p["params"]["message"].as_str().unwrap();
        assert!(message.contains(template), "{message}");
    }
    assert!(has_volume(&d, &format!("local:vztmpl/{template}")));
}
