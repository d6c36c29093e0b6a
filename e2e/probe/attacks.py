"""Replays three attacks against a running build of proxmox-mcp and fails if any succeeds.

    attacks.py BIN REPORT

1. Cross-site requests (CSRF): with no key configured (the default, loopback-only setup), a web
   page's "simple" requests (text/plain, form bodies, a foreign Origin) must not run a tool on
   the REST door or open a session on the MCP door; VM 103 of the demo cluster stays stopped.
2. Descriptor exhaustion: the server held to 1,024 open files (`prlimit --nofile=1024:1024`)
   while 2,000 idle and half-open connections are held against both doors must keep answering
   /healthz and authenticated calls on both.
3. Session quota: a read key opening sessions without end must be refused (429, naming the
   quota) long before the server's cap, while an admin key still opens one; a session is its
   key's only (404 for another key); closing one lets the read key open one again.

Each check prints "ok N - what" or "not ok N - what: why"; REPORT gets "# pass N" and "# fail N"
for e2e/tally.py. Standard library only. Talks to 127.0.0.1 only.
"""

import hashlib
import http.client
import json
import os
import re
import resource
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time

BIN, REPORT = sys.argv[1], sys.argv[2]
RESULTS = []


def check(what, ok, why=""):
    RESULTS.append(ok)
    n = len(RESULTS)
    print(f"ok {n} - {what}" if ok else f"not ok {n} - {what}: {why}", flush=True)


class Server:
    """`BIN serve --demo` on free loopback ports, optionally under prlimit; both ports parsed from
    its banner."""

    def __init__(self, env=None, nofile=None, args=()):
        cmd = [BIN, "serve", "--demo", "--mcp-listen", "127.0.0.1:0",
               "--rest-listen", "127.0.0.1:0", *args]
        if nofile:
            cmd = ["prlimit", f"--nofile={nofile}", *cmd]
        clean = {k: v for k, v in os.environ.items() if not k.startswith("PROXMOX_")}
        clean.update(env or {})
        self.proc = subprocess.Popen(cmd, env=clean, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True)
        self.mcp = self.rest = None
        self.log = []
        deadline = time.time() + 120
        while (self.mcp is None or self.rest is None) and time.time() < deadline:
            line = self.proc.stderr.readline()
            if not line:
                break
            self.log.append(line)
            m = re.search(r"(MCP|REST) listening on http://127\.0\.0\.1:(\d+)", line)
            if m and m[1] == "MCP":
                self.mcp = int(m[2])
            elif m:
                self.rest = int(m[2])
        if self.mcp is None or self.rest is None:
            self.stop()
            raise RuntimeError("server did not start:\n" + "".join(self.log))
        # Keep draining its log so that it never blocks on a full pipe.
        threading.Thread(target=lambda: [None for _ in self.proc.stderr], daemon=True).start()

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def request(port, method, path, body=None, headers=None, timeout=30):
    """One request on a fresh connection: (status, headers, body text)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read().decode()
    finally:
        conn.close()


def vm_status(port, vmid, key=None):
    headers = {"Content-Type": "application/json"}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    status, _, text = request(port, "POST", "/get_vms", "{}", headers)
    if status != 200:
        return f"get_vms answered {status}"
    for vm in json.loads(text).get("vms", []):
        if vm.get("vmid") == vmid:
            return vm.get("status")
    return "absent"


MCP_HEADERS = {"Accept": "application/json, text/event-stream",
               "Content-Type": "application/json"}


def initialize(n=1):
    return json.dumps({"jsonrpc": "2.0", "id": n, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {},
        "clientInfo": {"name": "probe", "version": "1"}}})


def csrf():
    server = Server()
    try:
        rest, mcp = server.rest, server.mcp
        evil = "http://evil.example"
        forged = [
            ("/start_vm", '{"vmid":103}', {"Origin": evil, "Content-Type": "text/plain;charset=UTF-8"}),
            ("/start_vm", '{"vmid":103}', {"Content-Type": "text/plain;charset=UTF-8"}),
            ("/start_vm", '{"vmid":103}', {"Content-Type": "application/x-www-form-urlencoded"}),
            ("/start_vm", '{"vmid":103}', {"Origin": evil, "Content-Type": "application/json"}),
            ("/delete_vm", '{"vmid":103,"confirm":true}', {"Origin": evil, "Content-Type": "text/plain"}),
            ("/delete_vm", '{"vmid":103,"confirm":true}', {"Content-Type": "multipart/form-data; boundary=x"}),
        ]
        for path, body, headers in forged:
            status, _, text = request(rest, "POST", path, body, headers)
            check(f"CSRF: REST POST {path} with {headers} is refused", status in (403, 415),
                  f"answered {status}: {text[:200]}")
        state = vm_status(rest, 103)
        check("CSRF: VM 103 is still there and stopped", state == "stopped", f"it is {state}")
        status, _, text = request(mcp, "POST", "/proxmox/mcp", initialize(),
                                  {**MCP_HEADERS, "Origin": evil})
        check("CSRF: MCP initialize from a foreign Origin is refused", status == 403,
              f"answered {status}: {text[:200]}")
        status, _, text = request(mcp, "POST", "/proxmox/mcp", initialize(),
                                  {**MCP_HEADERS, "Content-Type": "text/plain"})
        check("CSRF: MCP POST as text/plain is refused", status == 415,
              f"answered {status}: {text[:200]}")
        # mcpo's callers (JSON, no Origin) still work.
        status, _, _ = request(rest, "POST", "/get_nodes", "{}", {"Content-Type": "application/json"})
        check("CSRF: a JSON call without Origin still works", status == 200, f"answered {status}")
    finally:
        server.stop()


def raise_own_limit(want):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def exhaustion(keys_toml, admin_key):
    if raise_own_limit(4096) < 2600:
        check("descriptors: the probe can hold 2,000 sockets", False, "open-files limit too low")
        return
    server = Server(env={"PROXMOX_MCP_CONFIG": keys_toml}, nofile="1024:1024")
    held = []
    try:
        with open(f"/proc/{server.proc.pid}/limits") as f:
            limit = next(line for line in f if line.startswith("Max open files")).split()[3]
        check("descriptors: the server runs under 1,024 open files", limit == "1024", limit)
        connected = failed = 0
        for i in range(2000):
            port = server.mcp if i % 2 == 0 else server.rest
            s = socket.socket()
            s.settimeout(5)
            s.bind((f"127.0.4.{1 + i // 100}", 0))
            held.append(s)
            try:
                s.connect(("127.0.0.1", port))
                if i % 4 < 2:
                    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
                connected += 1
            except OSError:
                failed += 1
                if failed >= 5:  # the server stopped accepting: no need to wait for more
                    break
        check("descriptors: 2,000 idle and half-open connections were made", connected == 2000,
              f"{connected} connected")
        auth = {"Authorization": f"Bearer {admin_key}"}
        for name, port in (("MCP", server.mcp), ("REST", server.rest)):
            try:
                status, _, _ = request(port, "GET", "/healthz")
            except OSError as e:
                status = repr(e)
            check(f"descriptors: /healthz answers on the {name} door meanwhile", status == 200,
                  f"got {status}")
        try:
            state = vm_status(server.rest, 103, admin_key)
        except OSError as e:
            state = repr(e)
        check("descriptors: an authenticated REST call answers meanwhile", state == "stopped",
              f"got {state}")
        try:
            status, headers, _ = request(server.mcp, "POST", "/proxmox/mcp", initialize(),
                                         {**MCP_HEADERS, **auth})
        except OSError as e:
            status, headers = repr(e), {}
        check("descriptors: an authenticated MCP initialize answers meanwhile",
              status == 200 and "mcp-session-id" in headers, f"got {status}")
    finally:
        for s in held:
            s.close()
        server.stop()


def session_quota(keys_toml, read_key, admin_key):
    server = Server(env={"PROXMOX_MCP_CONFIG": keys_toml})
    try:
        port = server.mcp

        def open_session(key):
            status, headers, text = request(port, "POST", "/proxmox/mcp", initialize(),
                                            {**MCP_HEADERS, "Authorization": f"Bearer {key}"})
            return status, headers.get("mcp-session-id"), text

        def session_request(method, key, sid, body=None):
            headers = {**MCP_HEADERS, "Authorization": f"Bearer {key}",
                       "Mcp-Session-Id": sid, "MCP-Protocol-Version": "2025-06-18"}
            return request(port, method, "/proxmox/mcp", body, headers)[0]

        opened, refusal = [], None
        for _ in range(300):
            status, sid, text = open_session(read_key)
            if status != 200:
                refusal = (status, text)
                break
            opened.append(sid)
        check("sessions: one read key cannot open 300 sessions", refusal is not None,
              f"opened {len(opened)}")
        if refusal is None:
            return
        status, text = refusal
        check("sessions: the refusal is a 429 naming the quota",
              status == 429 and "max_sessions_per_key" in text, f"{status}: {text[:200]}")
        check("sessions: the read key was stopped well below the server's cap of 256",
              len(opened) < 256, f"opened {len(opened)}")
        status, admin_sid, text = open_session(admin_key)
        check("sessions: an admin key still opens a session", status == 200,
              f"{status}: {text[:200]}")
        if admin_sid:
            ping = json.dumps({"jsonrpc": "2.0", "id": 7, "method": "ping"})
            check("sessions: the read key cannot post into the admin's session",
                  session_request("POST", read_key, admin_sid, ping) == 404, "")
            check("sessions: the read key cannot delete the admin's session",
                  session_request("DELETE", read_key, admin_sid) == 404, "")
            check("sessions: the admin's session still answers",
                  session_request("POST", admin_key, admin_sid, ping) == 200, "")
        check("sessions: closing one of its sessions answers 204",
              session_request("DELETE", read_key, opened.pop()) == 204, "")
        status, _, text = open_session(read_key)
        check("sessions: then the read key opens one again", status == 200,
              f"{status}: {text[:200]}")
    finally:
        server.stop()


def main():
    read_key, admin_key = (f"pmcp_{secrets.token_hex(32)}" for _ in range(2))
    with tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False) as f:
        for name, scope, key in (("probe-read", "read", read_key), ("probe-admin", "admin", admin_key)):
            digest = hashlib.sha256(key.encode()).hexdigest()
            f.write(f'[[keys]]\nname = "{name}"\nscope = "{scope}"\nsha256 = "{digest}"\n')
        keys_toml = f.name
    try:
        for attack in (lambda: csrf(), lambda: exhaustion(keys_toml, admin_key),
                       lambda: session_quota(keys_toml, read_key, admin_key)):
            try:
                attack()
            except Exception as e:  # a crash of one attack is a failure, the others still run
                check("probe step ran to its end", False, repr(e))
    finally:
        os.unlink(keys_toml)
    passed = sum(RESULTS)
    failed = len(RESULTS) - passed
    with open(REPORT, "w") as f:
        f.write(f"1..{len(RESULTS)}\n# pass {passed}\n# fail {failed}\n")
    print(f"# pass {passed}\n# fail {failed}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
