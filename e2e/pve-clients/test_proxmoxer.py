"""proxmoxer, unmodified, against the simulator: token and ticket auth, a VM's and a
container's life from create to delete, tasks, and PVE's 400/401/403/501 errors as proxmoxer
surfaces them."""

import pytest
from proxmoxer import AuthenticationError, ProxmoxAPI, ResourceException
from proxmoxer.tools import Tasks


def token_api(sim, value=None, name=None):
    return ProxmoxAPI(
        sim.host,
        user=sim.token_user,
        token_name=name or sim.token_name,
        token_value=value or sim.token_value,
        verify_ssl=False,
        timeout=30,
    )


def ticket_api(sim):
    return ProxmoxAPI(
        sim.host, user="root@pam", password=sim.password, verify_ssl=False, timeout=30
    )


def wait(api, upid):
    status = Tasks.blocking_status(api, upid, timeout=120, polling_interval=0.05)
    assert status is not None, f"task {upid} did not end"
    assert status["exitstatus"] == "OK", status
    return status


AUTHS = {"token": token_api, "ticket": ticket_api}


@pytest.mark.parametrize("auth", AUTHS)
def test_version_nodes_and_resources(sim, auth):
    api = AUTHS[auth](sim)
    assert api.version.get()["version"].startswith("9.")
    names = sorted(n["node"] for n in api.nodes.get())
    assert names == ["pve01", "pve02", "pve03"]
    vms = api.cluster.resources.get(type="vm")
    assert any(r["vmid"] == 100 and r["type"] == "qemu" for r in vms)
    assert {r["type"] for r in vms} == {"qemu", "lxc"}


@pytest.mark.parametrize("auth,vmid", [("token", 9301), ("ticket", 9302)])
def test_a_vm_from_create_to_delete(sim, auth, vmid):
    api = AUTHS[auth](sim)
    node = api.nodes("pve01")
    upid = node.qemu.post(
        vmid=vmid,
        name=f"e2e-{auth}",
        memory=1024,
        cores=1,
        ostype="l26",
        scsihw="virtio-scsi-single",
        scsi0="local-lvm:4",
        net0="virtio,bridge=vmbr0",
        tags=["e2e", "Web", "e2e"],  # a list: proxmoxer sends repeated keys
    )
    assert Tasks.decode_upid(upid)["type"] == "qmcreate"
    wait(api, upid)
    vm = node.qemu(vmid)
    config = vm.config.get()
    assert config["name"] == f"e2e-{auth}"
    assert config["tags"] == "e2e;web", "tags as PVE stores them"
    assert config["net0"].startswith("virtio=BC:24:11:")
    assert config["scsi0"].startswith(f"local-lvm:vm-{vmid}-disk-0")

    vm.config.put(cores=2, description="updated by proxmoxer", onboot=1, digest=config["digest"])
    config = vm.config.get()
    assert (config["cores"], config["onboot"]) == (2, 1)

    wait(api, vm.status.start.post())
    assert vm.status.current.get()["status"] == "running"

    wait(api, vm.snapshot.post(snapname="before_change", description="e2e"))
    assert "before_change" in [s["name"] for s in vm.snapshot.get()]

    wait(api, vm.status.stop.post())
    assert vm.status.current.get()["status"] == "stopped"
    wait(api, vm.snapshot("before_change").delete())

    wait(api, vm.delete(purge=1))
    with pytest.raises(ResourceException) as e:
        vm.config.get()
    assert e.value.status_code == 500
    assert "does not exist" in str(e.value)


@pytest.mark.parametrize("auth,vmid", [("token", 9311), ("ticket", 9312)])
def test_a_container_from_create_to_delete(sim, auth, vmid):
    api = AUTHS[auth](sim)
    node = api.nodes("pve01")
    templates = node.storage("local").content.get(content="vztmpl")
    assert templates, "the demo has container templates"
    upid = node.lxc.post(
        vmid=vmid,
        hostname=f"ct-{auth}",
        ostemplate=templates[0]["volid"],
        storage="local-lvm",
        memory=512,
        net0="name=eth0,bridge=vmbr0,ip=dhcp",
        unprivileged=1,
    )
    wait(api, upid)
    ct = node.lxc(vmid)
    assert ct.config.get()["hostname"] == f"ct-{auth}"
    wait(api, ct.status.start.post())
    interfaces = ct.interfaces.get()
    assert [i["name"] for i in interfaces][:2] == ["lo", "eth0"]
    wait(api, ct.status.stop.post())
    wait(api, ct.delete())
    assert vmid not in [c["vmid"] for c in node.lxc.get()]


def test_tasks_list_and_log(sim):
    api = token_api(sim)
    node = api.nodes("pve02")
    upid = node.qemu(104).status.reboot.post()
    wait(api, upid)
    task = node.tasks(upid).status.get()
    assert (task["status"], task["type"], task["id"]) == ("stopped", "qmreboot", "104")
    log = Tasks.decode_log(node.tasks(upid).log.get())
    assert "TASK OK" in log
    assert any(t["upid"] == upid for t in node.tasks.get(vmid=104))


def test_errors_as_pve_answers_them(sim):
    api = token_api(sim)
    # 400: parameter verification, before any handler runs.
    with pytest.raises(ResourceException) as e:
        api.nodes("pve01").qemu.post(vmid=100, memory="lots")
    assert e.value.status_code == 400
    assert "memory" in e.value.errors
    # 401: a wrong token secret; a wrong password fails the login.
    with pytest.raises(ResourceException) as e:
        token_api(sim, value="not-the-secret").version.get()
    assert e.value.status_code == 401
    with pytest.raises(AuthenticationError):
        ProxmoxAPI(sim.host, user="root@pam", password="wrong", verify_ssl=False)
    # 403: a read-only token reads, and may not power a VM on.
    auditor = token_api(sim, value=sim.audit_token_value, name="audit")
    assert auditor.nodes("pve01").qemu(103).status.current.get()["status"] == "stopped"
    with pytest.raises(ResourceException) as e:
        auditor.nodes("pve01").qemu(103).status.start.post()
    assert e.value.status_code == 403
    assert "VM.PowerMgmt" in str(e.value)
    # 501: a path PVE does not have.
    with pytest.raises(ResourceException) as e:
        api.nodes("pve01").frobnicate.get()
    assert e.value.status_code == 501
    # 500: PVE's own refusal, worded as PVE words it.
    with pytest.raises(ResourceException) as e:
        api.nodes("pve01").qemu(102).delete()
    assert e.value.status_code == 500
    assert "protection mode enabled" in str(e.value)
