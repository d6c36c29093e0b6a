"""prometheus-pve-exporter, unmodified (its own `pve_exporter` server), scraping the simulator
with every collector on; the metrics must match the simulator's state as the API shows it."""

import os
import socket
import subprocess
import sys
import time

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families
from proxmoxer import ProxmoxAPI


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def scrape(sim):
    port = free_port()
    exporter = os.path.join(os.path.dirname(sys.executable), "pve_exporter")
    env = dict(
        os.environ,
        PVE_USER=sim.token_user,
        PVE_TOKEN_NAME=sim.token_name,
        PVE_TOKEN_VALUE=sim.token_value,
        PVE_VERIFY_SSL="false",
    )
    proc = subprocess.Popen(
        [exporter, "--web.listen-address", f"127.0.0.1:{port}"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}/pve"
    text = None
    for _ in range(200):
        try:
            r = requests.get(url, params={"target": sim.host}, timeout=30)
            if r.status_code == 200:
                text = r.text
                break
        except requests.ConnectionError:
            pass
        time.sleep(0.1)
    proc.terminate()
    _, err = proc.communicate(timeout=10)
    assert text is not None, "the exporter gave no metrics:\n" + err.decode()[-3000:]
    samples = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            samples.setdefault(s.name, []).append((s.labels, s.value))
    return samples


@pytest.fixture(scope="module")
def api(sim):
    return ProxmoxAPI(
        sim.host,
        user=sim.token_user,
        token_name=sim.token_name,
        token_value=sim.token_value,
        verify_ssl=False,
    )


def by_id(samples, name, **match):
    return {
        labels["id"]: value
        for labels, value in samples.get(name, [])
        if all(labels.get(k) == v for k, v in match.items())
    }


def test_every_collector_answers(scrape):
    for name in [
        "pve_up",
        "pve_guest_info",
        "pve_node_info",
        "pve_storage_info",
        "pve_cluster_info",
        "pve_version_info",
        "pve_not_backed_up_total",
        "pve_onboot_status",
        "pve_subscription_status",
        "pve_memory_size_bytes",
    ]:
        assert name in scrape, f"{name} missing"


def test_guests_and_nodes_match_the_cluster(scrape, api):
    resources = api.cluster.resources.get()
    guests = {r["id"]: r for r in resources if r["type"] in ("qemu", "lxc")}
    nodes = {r["id"]: r for r in resources if r["type"] == "node"}
    info = by_id(scrape, "pve_guest_info")
    assert set(info) == set(guests)
    up = by_id(scrape, "pve_up")
    for gid, r in guests.items():
        assert up[gid] == (1.0 if r["status"] == "running" else 0.0), gid
    for nid, r in nodes.items():
        assert up[nid] == (1.0 if r["status"] == "online" else 0.0), nid
    mem = by_id(scrape, "pve_memory_size_bytes")
    disk = by_id(scrape, "pve_disk_size_bytes")
    for gid, r in guests.items():
        assert mem[gid] == r["maxmem"], gid
        assert disk[gid] == r["maxdisk"], gid
    names = {labels["name"] for labels, _ in scrape["pve_node_info"]}
    assert names == {r["node"] for r in nodes.values()}


def test_storages_locks_and_ha_match(scrape, api):
    storages = {r["id"] for r in api.cluster.resources.get(type="storage")}
    assert set(by_id(scrape, "pve_storage_info")) == storages
    locked = by_id(scrape, "pve_lock_state", state="backup")
    assert locked.get("qemu/105") == 1.0
    ha = by_id(scrape, "pve_ha_state", state="started")
    assert ha.get("qemu/102") == 1.0


def test_backup_coverage_matches(scrape, api):
    missing = api.cluster("backup-info/not-backed-up").get()
    assert missing, "the demo leaves some guests without a backup job"
    total = scrape["pve_not_backed_up_total"]
    assert sum(v for _, v in total) == len(missing)
    flagged = {gid for gid, v in by_id(scrape, "pve_not_backed_up_info").items() if v == 1.0}
    assert flagged == {f"{m['type']}/{m['vmid']}" for m in missing}


def test_configs_and_subscription_match(scrape, api):
    # The exporter reads the configs of the node answering (the one `local` in the status).
    local = next(e["name"] for e in api.cluster.status.get() if e.get("local"))
    onboot = by_id(scrape, "pve_onboot_status")
    for kind in ("qemu", "lxc"):
        for guest in getattr(api.nodes(local), kind).get():
            config = getattr(api.nodes(local), kind)(guest["vmid"]).config.get()
            if "onboot" in config:
                assert onboot[f"{kind}/{guest['vmid']}"] == float(config["onboot"])
    assert onboot, "the local node's guests have onboot set"
    status = {labels["status"]: v for labels, v in scrape["pve_subscription_status"]}
    assert status["notfound"] == 1.0
    versions = scrape["pve_version_info"]
    assert versions[0][0]["version"] == api.version.get()["version"]
