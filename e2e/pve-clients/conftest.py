"""Fixtures for the independent Proxmox VE clients: a fresh simulator per test module.

The simulator is `proxmox-mcp sim` (the binary in E2E_BIN) on 127.0.0.1 with a random port and
an admin API token; task durations are scaled by E2E_TIME_SCALE (default 0.02) so tasks end in
a fraction of a second while still taking time, as on a real cluster. A second, read-only
token (`root@pam!audit`) is there for permission errors.
"""

import os
import re
import secrets
import subprocess
import tempfile
import time
from dataclasses import dataclass

import pytest


def pytest_configure(config):
    # The simulator's certificate is self-signed, as a fresh PVE's is; the clients connect
    # without verifying it (verify_ssl=False), so urllib3's per-request warning is noise here.
    config.addinivalue_line(
        "filterwarnings", "ignore::urllib3.exceptions.InsecureRequestWarning"
    )


@dataclass
class Sim:
    host: str  # "127.0.0.1:PORT", as proxmoxer and the exporter take it
    token_user: str
    token_name: str
    token_value: str
    audit_token_value: str
    password: str


def _start(binary: str, log_path: str, secret: str, audit: str) -> subprocess.Popen:
    scale = os.environ.get("E2E_TIME_SCALE", "0.02")
    return subprocess.Popen(
        [
            binary,
            "sim",
            "--listen",
            "127.0.0.1:0",
            "--time-scale",
            scale,
            "--api-token",
            f"root@pam!e2e={secret}",
            "--audit-token",
            f"root@pam!audit={audit}",
        ],
        stdout=open(log_path, "w"),
        stderr=subprocess.STDOUT,
    )


@pytest.fixture(scope="module")
def sim():
    binary = os.environ["E2E_BIN"]
    secret = secrets.token_hex(16)
    audit = secrets.token_hex(16)
    with tempfile.NamedTemporaryFile(suffix=".log", delete=False) as f:
        log_path = f.name
    proc = _start(binary, log_path, secret, audit)
    port = None
    for _ in range(300):
        text = open(log_path).read()
        m = re.search(r"listening on https://127\.0\.0\.1:(\d+)/api2/json", text)
        if m:
            port = m.group(1)
            break
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    if port is None:
        proc.kill()
        pytest.fail("the simulator did not start:\n" + open(log_path).read())
    yield Sim(
        host=f"127.0.0.1:{port}",
        token_user="root@pam",
        token_name="e2e",
        token_value=secret,
        audit_token_value=audit,
        password="demo",
    )
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
    os.unlink(log_path)
