//! Tests of `PUT /nodes/{node}/qemu/{vmid}/resize` through the dispatcher: growth relative and
//! absolute, the checks made at once (400/403/500) and those the `resize` task makes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{Value, json};

use crate::Sim;
use crate::guest::MODIFIED_CONFIG;
use crate::route::{Method, Role};
use crate::state::Volume;
use crate::testkit::*;

const GIB: u64 = 1 << 30;

/// Call parameters in the case tables.
type Params = &'static [(&'static str, &'static str)];

fn resize(s: &mut Sim, vmid: u32, params: &[(&str, &str)]) -> Value {
    call(
        s,
        Method::Put,
        &format!("/nodes/pve1/qemu/{vmid}/resize"),
        params,
    )
    .unwrap_or_else(|e| panic!("resize {vmid}: {e:?}"))
}

fn volume_size(s: &Sim, volid: &str) -> u64 {
    s.cluster
        .volumes
        .iter()
        .find(|v| v.volid == volid)
        .unwrap()
        .size
}

/// Adds a disk `key` of `size` bytes on `volid` to VM 100 (volume and config).
fn add_disk(s: &mut Sim, key: &str, volid: &str, size: u64) {
    s.cluster.volumes.push(Volume {
        volid: volid.into(),
        storage: volid.split(':').next().unwrap().into(),
        node: "pve1".into(),
        content: "images".into(),
        format: if volid.ends_with(".qcow2") {
            "qcow2"
        } else {
            "raw"
        }
        .into(),
        size,
        ctime: 0,
        vmid: Some(100),
        notes: None,
        protected: false,
    });
    let spec = format!("{volid},size={}G", size / GIB);
    s.cluster
        .guests
        .get_mut(&100)
        .unwrap()
        .config
        .insert(key.into(), json!(spec));
}

#[test]
fn grows_relative_then_absolute_in_a_task() {
    let mut s = sim();
    let vol = "local-lvm:vm-100-disk-0";
    let upid = resize(&mut s, 100, &[("disk", "scsi0"), ("size", "+1G")]);
    assert!(
        upid.as_str().unwrap().contains(":resize:100:root@pam:"),
        "{upid}"
    );
    assert_eq!(
        g(&s, 100).config["scsi0"],
        "local-lvm:vm-100-disk-0,iothread=1,size=32G",
        "unchanged until the task ends"
    );
    assert_eq!(finish(&mut s, &upid), "OK");
    assert_eq!(
        g(&s, 100).config["scsi0"],
        "local-lvm:vm-100-disk-0,iothread=1,size=33G"
    );
    assert_eq!(volume_size(&s, vol), 33 * GIB);
    let lines = log(&s, &upid);
    assert!(
        lines.iter().any(|l| l.contains(
            "Size of logical volume pve/vm-100-disk-0 changed from 32.00 GiB (8192 extents) to 33.00 GiB (8448 extents)."
        )),
        "{lines:?}"
    );
    let upid = resize(&mut s, 100, &[("disk", "scsi0"), ("size", "40G")]);
    assert_eq!(finish(&mut s, &upid), "OK");
    assert_eq!(
        g(&s, 100).config["scsi0"],
        "local-lvm:vm-100-disk-0,iothread=1,size=40G"
    );
    assert_eq!(volume_size(&s, vol), 40 * GIB);
    // The same size again: a task that changes nothing.
    let upid = resize(&mut s, 100, &[("disk", "scsi0"), ("size", "40G")]);
    assert_eq!(finish(&mut s, &upid), "OK");
    assert_eq!(volume_size(&s, vol), 40 * GIB);
    // A file storage: `qemu-img resize`.
    add_disk(&mut s, "scsi2", "dirimg:100/vm-100-disk-1.qcow2", GIB);
    let upid = resize(&mut s, 100, &[("disk", "scsi2"), ("size", "+512M")]);
    assert_eq!(finish(&mut s, &upid), "OK");
    assert!(log(&s, &upid).contains(&"Image resized.".to_string()));
    assert_eq!(
        g(&s, 100).config["scsi2"],
        "dirimg:100/vm-100-disk-1.qcow2,size=1536M"
    );
}

#[test]
fn refused_at_once() {
    let mut s = sim();
    let cases: &[(u32, Params, u16, &str)] = &[
        (
            100,
            &[("disk", "scsi0"), ("size", "lots")],
            400,
            "size: regex",
        ),
        (100, &[("disk", "scsi0"), ("size", "-1G")], 400, "size: "),
        (100, &[("disk", "rootfs"), ("size", "+1G")], 400, "disk: "),
        (100, &[("size", "+1G")], 400, "disk: "),
        (
            999,
            &[("disk", "scsi0"), ("size", "+1G")],
            500,
            "Configuration file 'nodes/pve1/qemu-server/999.conf' does not exist",
        ),
        (
            200,
            &[("disk", "scsi0"), ("size", "+1G")],
            500,
            "qemu-server/200.conf' does not exist",
        ),
    ];
    for (vmid, params, status, msg) in cases {
        let path = format!("/nodes/pve1/qemu/{vmid}/resize");
        assert_err(call(&mut s, Method::Put, &path, params), *status, msg);
    }
    let ops = who("ops@pve", Role::Vms(vec![101]));
    let path = "/nodes/pve1/qemu/100/resize";
    let p = [("disk", "scsi0"), ("size", "+1G")];
    assert_err(
        call_as(&mut s, &ops, Method::Put, path, &p),
        403,
        "VM.Config.Disk",
    );
    let mine = who("ops@pve", Role::Vms(vec![100]));
    let p = [("disk", "scsi0"), ("size", "+1G"), ("skiplock", "1")];
    assert_err(
        call_as(&mut s, &mine, Method::Put, path, &p),
        400,
        "skiplock: Only root",
    );
    assert!(s.tasks.by_upid.is_empty(), "no task started");
}

#[test]
fn task_failures() {
    let mut s = sim();
    add_disk(&mut s, "scsi1", "tiny:vm-100-disk-1", 8 * GIB);
    s.cluster
        .guests
        .get_mut(&100)
        .unwrap()
        .config
        .insert("ide0".into(), json!("local:iso/debian.iso,media=cdrom"));
    let cases: &[(u32, Params, &str)] = &[
        (
            100,
            &[("disk", "scsi0"), ("size", "16G")],
            "shrinking disks is not supported",
        ),
        (
            100,
            &[("disk", "scsi5"), ("size", "+1G")],
            "disk 'scsi5' does not exist",
        ),
        (
            100,
            &[("disk", "ide2"), ("size", "+1G")],
            "disk 'ide2' has no associated volume",
        ),
        (
            100,
            &[("disk", "ide0"), ("size", "+1G")],
            "you can't resize a cdrom",
        ),
        (
            104,
            &[("disk", "scsi0"), ("size", "+1G")],
            "VM is locked (backup)",
        ),
        (
            100,
            &[
                ("disk", "scsi0"),
                ("size", "+1G"),
                ("digest", "0000000000000000000000000000000000000000"),
            ],
            MODIFIED_CONFIG,
        ),
        (
            100,
            &[("disk", "scsi1"), ("size", "+4G")],
            "lvextend 'tiny/vm-100-disk-1' error:   Insufficient free space: 1024 extents needed, but only 512 available",
        ),
    ];
    for (vmid, params, want) in cases {
        let before = g(&s, *vmid).config.clone();
        let upid = resize(&mut s, *vmid, params);
        assert_eq!(finish(&mut s, &upid), *want, "{params:?}");
        assert_eq!(g(&s, *vmid).config, before, "{params:?}: config unchanged");
    }
    assert_eq!(volume_size(&s, "tiny:vm-100-disk-1"), 8 * GIB);
    assert_eq!(volume_size(&s, "local-lvm:vm-104-disk-0"), 32 * GIB);
    // root may skip the lock.
    let upid = resize(
        &mut s,
        104,
        &[("disk", "scsi0"), ("size", "+1G"), ("skiplock", "1")],
    );
    assert_eq!(finish(&mut s, &upid), "OK");
    assert_eq!(volume_size(&s, "local-lvm:vm-104-disk-0"), 33 * GIB);
}
