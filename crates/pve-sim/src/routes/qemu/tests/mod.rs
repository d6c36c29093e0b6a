//! Tests of the QEMU CRUD routes (`routes/qemu/`): list, create, destroy,
//! template, clone and config, with PVE's failures.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::Value;

mod resize;

use crate::Sim;
use crate::guest::MODIFIED_CONFIG;
use crate::route::{Method, Role};
use crate::state::PowerState;
use crate::testkit::*;

const Q: &str = "/nodes/pve1/qemu";

fn ok(s: &mut Sim, method: Method, path: &str, params: &[(&str, &str)]) -> Value {
    call(s, method, path, params).unwrap_or_else(|e| panic!("{path}: {e:?}"))
}

fn cfg(s: &mut Sim, vmid: u32) -> Value {
    ok(s, Method::Get, &format!("{Q}/{vmid}/config"), &[])
}

fn has_volume(s: &Sim, volid: &str) -> bool {
    s.cluster.volumes.iter().any(|v| v.volid == volid)
}

#[test]
fn list_filters_by_permission_and_shapes_fields() {
    let mut s = sim();
    let all = ok(&mut s, Method::Get, Q, &[]);
    let ids: Vec<u64> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["vmid"].as_u64().unwrap())
        .collect();
    assert_eq!(ids, vec![100, 101, 102, 103, 104, 105, 9000]);
    let by = |id: u64| {
        all.as_array()
            .unwrap()
            .iter()
            .find(|v| v["vmid"] == id)
            .unwrap()
            .clone()
    };
    assert_eq!(by(9000)["template"], 1);
    assert!(by(100).get("template").is_none() && by(100).get("qmpstatus").is_none());
    assert_eq!(by(104)["lock"], "backup");
    assert_eq!(by(100)["status"], "running");
    let full = ok(&mut s, Method::Get, Q, &[("full", "1")]);
    assert_eq!(full[0]["qmpstatus"], "running");
    let mine = who("carol@pve", Role::Vms(vec![101]));
    let r = call_as(&mut s, &mine, Method::Get, Q, &[]).unwrap();
    assert_eq!(r.as_array().unwrap().len(), 1);
    assert_eq!(r[0]["vmid"], 101);
    let nobody = who("x@pve!t", Role::None);
    assert_eq!(
        call_as(&mut s, &nobody, Method::Get, Q, &[]).unwrap(),
        Value::Array(vec![])
    );
}

#[test]
fn create_allocates_disks_in_the_task() {
    let mut s = sim();
    let iso = "local:iso/debian-13.0.0-amd64-netinst.iso,media=cdrom";
    let params = [
        ("vmid", "150"),
        ("name", "new1"),
        ("memory", "1024"),
        ("cores", "2"),
        ("scsi0", "local-lvm:8,iothread=1"),
        ("ide2", iso),
        ("net0", "virtio,bridge=vmbr0,firewall=1"),
        ("agent", "1"),
        ("onboot", "1"),
    ];
    let upid = ok(&mut s, Method::Post, Q, &params);
    assert!(
        upid.as_str().unwrap().contains(":qmcreate:150:root@pam:"),
        "{upid}"
    );
    assert_eq!(g(&s, 150).lock().as_deref(), Some("create"));
    let listed = ok(&mut s, Method::Get, Q, &[]);
    assert!(
        listed
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v["vmid"] == 150 && v["lock"] == "create")
    );
    assert_err(
        call(&mut s, Method::Post, Q, &[("vmid", "150")]),
        500,
        "VM 150 already exists on node 'pve1'",
    );
    assert_eq!(finish(&mut s, &upid), "OK");
    let c = cfg(&mut s, 150);
    assert_eq!(c["scsi0"], "local-lvm:vm-150-disk-0,iothread=1,size=8G");
    assert_eq!(
        c["ide2"],
        "local:iso/debian-13.0.0-amd64-netinst.iso,media=cdrom,size=700M"
    );
    let net = c["net0"].as_str().unwrap();
    assert!(
        net.starts_with("virtio=BC:24:11:") && net.ends_with(",bridge=vmbr0,firewall=1"),
        "{net}"
    );
    assert_eq!(c["memory"], "1024");
    assert_eq!(c["cores"], 2);
    assert_eq!(c["onboot"], 1);
    assert_eq!(c["boot"], "order=scsi0;ide2;net0");
    assert!(c["smbios1"].as_str().unwrap().starts_with("uuid="));
    assert!(c["meta"].as_str().unwrap().starts_with("creation-qemu="));
    assert_eq!(c["vmgenid"].as_str().unwrap().len(), 36);
    assert_eq!(c["digest"].as_str().unwrap().len(), 40);
    assert!(c.get("lock").is_none());
    assert!(has_volume(&s, "local-lvm:vm-150-disk-0"));
    assert!(
        log(&s, &upid)
            .iter()
            .any(|l| l.contains("Logical volume \"vm-150-disk-0\" created."))
    );
    assert_eq!(g(&s, 150).status, PowerState::Stopped);
}

#[test]
fn create_variants_start_template_and_storage_full() {
    let mut s = sim();
    let up = ok(
        &mut s,
        Method::Post,
        Q,
        &[("vmid", "151"), ("scsi0", "local-lvm:4"), ("start", "1")],
    );
    assert_eq!(finish(&mut s, &up), "OK");
    assert_eq!(g(&s, 151).status, PowerState::Running);
    let up = ok(
        &mut s,
        Method::Post,
        Q,
        &[("vmid", "152"), ("scsi0", "dirimg:4"), ("template", "1")],
    );
    assert_eq!(finish(&mut s, &up), "OK");
    assert_eq!(
        cfg(&mut s, 152)["scsi0"],
        "dirimg:152/base-152-disk-0.qcow2,size=4G"
    );
    assert_eq!(cfg(&mut s, 152)["template"], 1);
    let up = ok(
        &mut s,
        Method::Post,
        Q,
        &[("vmid", "153"), ("scsi0", "tiny:4"), ("scsi1", "tiny:64")],
    );
    let status = finish(&mut s, &up);
    assert!(
        status.starts_with("unable to create VM 153 - lvcreate 'tiny/vm-153-disk-1' error:"),
        "{status}"
    );
    assert!(status.contains("insufficient free space"), "{status}");
    assert!(!s.cluster.guests.contains_key(&153));
    assert!(
        !s.cluster.volumes.iter().any(|v| v.vmid == Some(153)),
        "allocated disks are freed"
    );
}

#[test]
fn create_refusals() {
    // (params, status, message or "param: text")
    let cases: Vec<(Params, u16, &str)> = vec![
        (
            vec![("vmid", "100")],
            500,
            "unable to create VM 100 - VM 100 already exists on node 'pve1'",
        ),
        (
            vec![("vmid", "300")],
            500,
            "unable to create VM 300 - VM 300 already exists on node 'pve2'",
        ),
        (
            vec![("vmid", "160"), ("net0", "foo,bridge=vmbr0")],
            400,
            "net0: value 'foo' does not have a value in the enumeration",
        ),
        (
            vec![("vmid", "160"), ("memory", "8")],
            400,
            "memory: minimum value of 16",
        ),
        (
            vec![("vmid", "160"), ("scsi0", "local:8")],
            400,
            "storage: storage 'local' does not support vm images",
        ),
        (
            vec![("vmid", "160"), ("scsi0", "nope:8")],
            500,
            "storage 'nope' does not exist",
        ),
        (
            vec![("vmid", "160"), ("scsi0", "local-lvm:vm-160-disk-7")],
            500,
            "volume 'local-lvm:vm-160-disk-7' does not exist",
        ),
        (vec![("vmid", "160"), ("name", "bad_name!")], 400, "name: "),
        (vec![("vmid", "160"), ("cores", "0")], 400, "cores: "),
        (
            vec![("vmid", "160"), ("boot", "order=scsi5")],
            400,
            "boot: invalid bootorder",
        ),
        (vec![("vmid", "42")], 400, "vmid: "),
    ];
    for (params, status, msg) in cases {
        let mut s = sim();
        assert_err(call(&mut s, Method::Post, Q, &params), status, msg);
        assert!(s.tasks.by_upid.is_empty());
    }
    let mut s = sim();
    let limited = who("dave@pve", Role::Vms(vec![100]));
    let r = call_as(&mut s, &limited, Method::Post, Q, &[("vmid", "170")]);
    assert_err(r, 403, "Permission check failed (/vms/170, VM.Allocate)");
}

#[test]
fn destroy_checks_and_removes_volumes() {
    let cases: Vec<(u32, Params, Result<&str, &str>)> = vec![
        (100, vec![], Err("VM 100 is running - destroy failed")),
        (
            105,
            vec![],
            Err("can't remove VM 105 - protection mode enabled"),
        ),
        (
            555,
            vec![],
            Err("Configuration file 'nodes/pve1/qemu-server/555.conf' does not exist"),
        ),
        (104, vec![], Ok("VM is locked (backup)")),
        (104, vec![("skiplock", "1")], Ok("OK")),
        (
            101,
            vec![("purge", "1"), ("destroy-unreferenced-disks", "1")],
            Ok("OK"),
        ),
    ];
    for (vmid, params, want) in cases {
        let mut s = sim();
        let r = call(&mut s, Method::Delete, &format!("{Q}/{vmid}"), &params);
        match want {
            Err(msg) => assert_err(r, 500, msg),
            Ok(status) => {
                let upid = r.unwrap();
                assert!(
                    upid.as_str()
                        .unwrap()
                        .contains(&format!(":qmdestroy:{vmid}:"))
                );
                assert_eq!(finish(&mut s, &upid), status, "{vmid}");
                let gone = status == "OK";
                assert_eq!(!s.cluster.guests.contains_key(&vmid), gone, "{vmid}");
                assert_eq!(
                    !has_volume(&s, &format!("local-lvm:vm-{vmid}-disk-0")),
                    gone,
                    "{vmid}"
                );
            }
        }
    }
    let mut s = sim();
    s.cluster.guests.get_mut(&101).unwrap().hastate = Some("stopped".into());
    assert_err(
        call(&mut s, Method::Delete, &format!("{Q}/101"), &[]),
        500,
        "unable to remove VM 101 - used in HA resources and purge parameter not set.",
    );
}

#[test]
fn template_conversion() {
    let mut s = sim();
    let up = ok(&mut s, Method::Post, &format!("{Q}/101/template"), &[]);
    assert!(up.as_str().unwrap().contains(":qmtemplate:101:"));
    assert_eq!(cfg(&mut s, 101)["template"], 1);
    assert_eq!(finish(&mut s, &up), "OK");
    assert_eq!(
        cfg(&mut s, 101)["scsi0"],
        "local-lvm:base-101-disk-0,iothread=1,size=32G"
    );
    assert!(
        has_volume(&s, "local-lvm:base-101-disk-0") && !has_volume(&s, "local-lvm:vm-101-disk-0")
    );
    let up = ok(&mut s, Method::Post, &format!("{Q}/101/status/start"), &[]);
    assert_eq!(
        finish(&mut s, &up),
        "you can't start a vm if it's a template"
    );
    let t = |s: &mut Sim, vmid: u32| call(s, Method::Post, &format!("{Q}/{vmid}/template"), &[]);
    assert_err(
        t(&mut s, 100),
        500,
        "you can't convert a VM to template if VM is running",
    );
    assert_err(
        t(&mut s, 9000),
        500,
        "you can't convert a template to a template",
    );
    assert_err(t(&mut s, 104), 500, "VM is locked (backup)");
    s.cluster
        .guests
        .get_mut(&105)
        .unwrap()
        .snapshots
        .push(crate::state::Snapshot {
            name: "s1".into(),
            description: String::new(),
            snaptime: 1,
            vmstate: false,
            parent: None,
            config: Default::default(),
        });
    assert_err(
        t(&mut s, 105),
        500,
        "unable to create template, because VM contains snapshots",
    );
}

#[test]
fn clone_full_and_linked() {
    let mut s = sim();
    let up = ok(
        &mut s,
        Method::Post,
        &format!("{Q}/100/clone"),
        &[("newid", "160"), ("full", "1")],
    );
    assert!(up.as_str().unwrap().contains(":qmclone:100:"), "{up}");
    assert_eq!(g(&s, 160).lock().as_deref(), Some("clone"));
    assert_eq!(finish(&mut s, &up), "OK");
    let c = cfg(&mut s, 160);
    assert_eq!(c["name"], "Copy-of-VM-web01");
    assert_eq!(c["scsi0"], "local-lvm:vm-160-disk-0,iothread=1,size=32G");
    let src = cfg(&mut s, 100);
    assert_ne!(c["net0"], src["net0"], "the MAC changes");
    assert!(
        c["net0"]
            .as_str()
            .unwrap()
            .ends_with(",bridge=vmbr0,firewall=1")
    );
    assert!(c.get("lock").is_none());
    assert!(
        log(&s, &up)
            .iter()
            .any(|l| l.starts_with("create full clone of drive scsi0"))
    );
    let up = ok(
        &mut s,
        Method::Post,
        &format!("{Q}/9000/clone"),
        &[("newid", "161"), ("name", "from-tpl")],
    );
    assert_eq!(finish(&mut s, &up), "OK");
    let c = cfg(&mut s, 161);
    assert_eq!(
        c["scsi0"],
        "local-lvm:base-9000-disk-0/vm-161-disk-0,iothread=1,size=32G"
    );
    assert!(c.get("template").is_none());
    assert_eq!(c["name"], "from-tpl");
    let up = ok(
        &mut s,
        Method::Post,
        &format!("{Q}/101/clone"),
        &[("newid", "162"), ("storage", "tiny")],
    );
    let st = finish(&mut s, &up);
    assert!(
        st.starts_with("clone failed: lvcreate 'tiny/vm-162-disk-0' error:"),
        "{st}"
    );
    assert!(!s.cluster.guests.contains_key(&162));
}

#[test]
fn clone_refusals() {
    let cases: Vec<(u32, Params, u16, &str)> = vec![
        (
            101,
            vec![("newid", "170"), ("full", "0")],
            500,
            "Linked clone feature is not supported for drive 'scsi0'",
        ),
        (
            101,
            vec![("newid", "100")],
            500,
            "unable to create VM 100: config file already exists",
        ),
        (
            101,
            vec![("newid", "170"), ("target", "pve2")],
            500,
            "can't clone VM to node 'pve2' (VM uses local storage)",
        ),
        (
            101,
            vec![("newid", "170"), ("target", "pve9")],
            500,
            "no such cluster node 'pve9'",
        ),
        (
            101,
            vec![("newid", "170"), ("snapname", "nope")],
            500,
            "snapshot 'nope' does not exist",
        ),
        (
            9000,
            vec![("newid", "170"), ("storage", "local-lvm")],
            500,
            "parameter 'storage' not allowed for linked clones",
        ),
        (104, vec![("newid", "170")], 500, "VM is locked (backup)"),
        (101, vec![], 400, "newid: property is missing"),
    ];
    for (vmid, params, status, msg) in cases {
        let mut s = sim();
        assert_err(
            call(&mut s, Method::Post, &format!("{Q}/{vmid}/clone"), &params),
            status,
            msg,
        );
    }
}

#[test]
fn config_get_put_post() {
    let mut s = sim();
    let c = cfg(&mut s, 100);
    let digest = c["digest"].as_str().unwrap().to_string();
    assert_eq!(c["name"], "web01");
    let put = |s: &mut Sim, p: &[(&str, &str)]| call(s, Method::Put, &format!("{Q}/100/config"), p);
    assert_eq!(
        put(&mut s, &[("cores", "4"), ("digest", &digest)]).unwrap(),
        Value::Null
    );
    assert_eq!(cfg(&mut s, 100)["cores"], 4);
    assert_err(
        put(&mut s, &[("cores", "8"), ("digest", &digest)]),
        500,
        MODIFIED_CONFIG,
    );
    assert_err(
        put(&mut s, &[("delete", "foo")]),
        400,
        "delete: unknown option 'foo'",
    );
    assert_err(
        put(&mut s, &[("delete", "cores"), ("cores", "2")]),
        400,
        "delete: you can't use '-cores' and -delete cores' at the same time",
    );
    assert_err(put(&mut s, &[]), 500, "no options specified");
    assert_err(put(&mut s, &[("name", "not valid")]), 400, "name: ");
    assert_err(
        put(&mut s, &[("scsi1", "tiny:64")]),
        500,
        "insufficient free space",
    );
    put(
        &mut s,
        &[("scsi1", "local-lvm:4"), ("description", "hello")],
    )
    .unwrap();
    assert_eq!(cfg(&mut s, 100)["scsi1"], "local-lvm:vm-100-disk-1,size=4G");
    put(&mut s, &[("delete", "scsi1")]).unwrap();
    let c = cfg(&mut s, 100);
    assert_eq!(c["unused0"], "local-lvm:vm-100-disk-1");
    assert!(c.get("scsi1").is_none() && has_volume(&s, "local-lvm:vm-100-disk-1"));
    put(&mut s, &[("delete", "unused0")]).unwrap();
    assert!(!has_volume(&s, "local-lvm:vm-100-disk-1"));
    let up = ok(
        &mut s,
        Method::Post,
        &format!("{Q}/100/config"),
        &[("memory", "4096")],
    );
    assert!(up.as_str().unwrap().contains(":qmconfig:100:"));
    assert_eq!(
        cfg(&mut s, 100)["memory"],
        "2048",
        "applied only when the task ends"
    );
    assert_eq!(finish(&mut s, &up), "OK");
    assert_eq!(cfg(&mut s, 100)["memory"], "4096");
    let locked =
        |s: &mut Sim, p: &[(&str, &str)]| call(s, Method::Put, &format!("{Q}/104/config"), p);
    assert_err(
        locked(&mut s, &[("cores", "1")]),
        500,
        "VM is locked (backup)",
    );
    assert!(locked(&mut s, &[("cores", "1"), ("skiplock", "1")]).is_ok());
    assert_err(
        call(
            &mut s,
            Method::Get,
            &format!("{Q}/100/config"),
            &[("snapshot", "nope")],
        ),
        500,
        "snapshot 'nope' does not exist",
    );
    let idx = ok(&mut s, Method::Get, &format!("{Q}/100"), &[]);
    assert!(
        idx.as_array()
            .unwrap()
            .iter()
            .any(|d| d["subdir"] == "snapshot")
    );
    assert_err(
        call(&mut s, Method::Get, &format!("{Q}/555"), &[]),
        500,
        "555.conf' does not exist",
    );
}

#[test]
fn template_with_linked_clones_cannot_be_destroyed() {
    let mut s = sim();
    let up = ok(
        &mut s,
        Method::Post,
        &format!("{Q}/9000/clone"),
        &[("newid", "163")],
    );
    assert_eq!(finish(&mut s, &up), "OK");
    let base = "local-lvm:base-9000-disk-0";
    let up = ok(&mut s, Method::Delete, &format!("{Q}/9000"), &[]);
    assert_eq!(
        finish(&mut s, &up),
        format!("base volume '{base}' is still in use by linked cloned")
    );
    assert!(s.cluster.guests.contains_key(&9000) && has_volume(&s, base));
    // Once the linked clone is gone, the template goes too.
    let up = ok(&mut s, Method::Delete, &format!("{Q}/163"), &[]);
    assert_eq!(finish(&mut s, &up), "OK");
    assert!(has_volume(&s, base), "deleting the clone keeps its base");
    let up = ok(&mut s, Method::Delete, &format!("{Q}/9000"), &[]);
    assert_eq!(finish(&mut s, &up), "OK");
    assert!(!s.cluster.guests.contains_key(&9000) && !has_volume(&s, base));
}

#[test]
fn cloud_init_drives_are_allocated_cloned_and_freed() {
    let mut s = sim();
    let put = |s: &mut Sim, vmid: u32, params: &[(&str, &str)]| {
        call(s, Method::Put, &format!("{Q}/{vmid}/config"), params)
    };
    put(&mut s, 9000, &[("ide0", "local-lvm:cloudinit")]).unwrap();
    assert_eq!(
        cfg(&mut s, 9000)["ide0"],
        "local-lvm:vm-9000-cloudinit,media=cdrom"
    );
    assert!(has_volume(&s, "local-lvm:vm-9000-cloudinit"));
    assert_err(
        put(&mut s, 9000, &[("ide1", "nope:cloudinit")]),
        500,
        "storage 'nope' does not exist",
    );
    // A clone (linked here) gets its own drive.
    let up = ok(
        &mut s,
        Method::Post,
        &format!("{Q}/9000/clone"),
        &[("newid", "164")],
    );
    assert_eq!(finish(&mut s, &up), "OK");
    assert_eq!(
        cfg(&mut s, 164)["ide0"],
        "local-lvm:vm-164-cloudinit,media=cdrom"
    );
    assert!(has_volume(&s, "local-lvm:vm-164-cloudinit"));
    // Destroying the clone frees its drive, not the template's.
    let up = ok(&mut s, Method::Delete, &format!("{Q}/164"), &[]);
    assert_eq!(finish(&mut s, &up), "OK");
    assert!(!has_volume(&s, "local-lvm:vm-164-cloudinit"));
    assert!(has_volume(&s, "local-lvm:vm-9000-cloudinit"));
    // Removing the drive from the config frees it.
    put(&mut s, 9000, &[("delete", "ide0")]).unwrap();
    assert!(cfg(&mut s, 9000).get("ide0").is_none());
    assert!(!has_volume(&s, "local-lvm:vm-9000-cloudinit"));
}
