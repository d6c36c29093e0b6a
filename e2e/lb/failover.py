"""Failover through the balancer (run by e2e/lb/run.sh): 8 clients call stateless Streamable
HTTP through HAProxy without pause (get_vms, and update_vm_config with a description unique to
each call); one replica gets SIGTERM (it drains: /readyz 503, calls in flight finish), is
restarted, and then the other gets SIGKILL. Checks, written as TAP ("# pass N", "# fail N"):

- both replicas served calls (round robin) before anything was stopped;
- the draining replica answered /readyz with 503 and exited 0, and no call failed meanwhile;
- after SIGKILL, each client saw at most one retryable error (the killed connection), and its
  read was answered when tried again half a second later; calls after that all succeed;
- the simulator's request log holds every description at most once (no mutation sent twice),
  and every update a client saw succeed exactly once.

Standard library only.
"""

import argparse
import http.client
import json
import os
import signal
import ssl
import subprocess
import threading
import time
import urllib.request
from urllib.parse import urlsplit

CLIENTS = 8
RETRYABLE = (502, 503, 504)


class Client:
    """One client: one kept-alive connection to the balancer, stateless requests."""

    def __init__(self, url: str, n: int):
        u = urlsplit(url)
        self.host, self.port, self.path = u.hostname, u.port, u.path
        self.n = n
        self.conn = None
        self.calls = 0
        self.errors: list[tuple[float, str]] = []  # (time, what): retryable transport errors
        self.failures: list[str] = []  # wrong answers (not retryable)
        self.updated: list[str] = []  # descriptions a successful update set
        self.sent_updates: list[str] = []

    def post(self, body: dict) -> dict:
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
        headers = {
            "Content-Type": "application/json",
            "Accept": "application/json, text/event-stream",
            "MCP-Protocol-Version": "2025-06-18",
        }
        try:
            self.conn.request("POST", self.path, json.dumps(body), headers)
            resp = self.conn.getresponse()
            data = resp.read().decode()
        except (OSError, http.client.HTTPException) as e:
            self.conn.close()
            self.conn = None
            raise ConnectionError(f"transport: {e!r}") from e
        if resp.status in RETRYABLE:
            raise ConnectionError(f"HTTP {resp.status}")
        if resp.status != 200:
            raise RuntimeError(f"HTTP {resp.status}: {data[:200]}")
        for line in data.splitlines():
            line = line.removeprefix("data:").strip()
            if line.startswith("{"):
                msg = json.loads(line)
                if "result" in msg or "error" in msg:
                    return msg
        raise RuntimeError(f"no answer in {data[:200]!r}")

    def call(self, tool: str, args: dict) -> dict:
        self.calls += 1
        msg = self.post({"jsonrpc": "2.0", "id": self.calls, "method": "tools/call",
                         "params": {"name": tool, "arguments": args}})
        if "error" in msg or msg["result"].get("isError"):
            raise RuntimeError(f"{tool}: {json.dumps(msg)[:300]}")
        return msg["result"]

    def run(self, stop: threading.Event):
        i = 0
        while not stop.is_set():
            i += 1
            if i % 3 == 0:
                desc = f"lb-c{self.n}-{i}"
                self.sent_updates.append(desc)
                try:
                    self.call("update_vm_config", {"vmid": 100, "description": desc})
                    self.updated.append(desc)
                except ConnectionError as e:
                    # A mutation is never tried again: it may have reached the replica. The
                    # client backs off before its next call.
                    self.errors.append((time.monotonic(), f"update {desc}: {e}"))
                    time.sleep(0.5)
                except RuntimeError as e:
                    self.failures.append(str(e))
                continue
            try:
                self.call("get_vms", {})
            except ConnectionError as e:
                self.errors.append((time.monotonic(), f"get_vms: {e}"))
                # A read is safe to try again, after a pause as clients back off (longer than
                # the balancer's health-check interval).
                time.sleep(0.5)
                try:
                    self.call("get_vms", {})
                except Exception as e2:  # noqa: BLE001
                    self.failures.append(f"get_vms tried again: {e2}")
            except RuntimeError as e:
                self.failures.append(str(e))


def readyz(port: int) -> int:
    req = urllib.request.Request(f"http://127.0.0.1:{port}/readyz", headers={"Host": "localhost"})
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
    except OSError:
        return 0


def calls_served(port: int) -> float:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
            text = r.read().decode()
    except OSError:
        return 0
    return sum(float(l.rsplit(" ", 1)[1]) for l in text.splitlines()
               if l.startswith("proxmox_mcp_tool_calls_total{"))


def sim_descriptions(sim: str, token: str) -> list[str]:
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # the simulator's own generated certificate, on loopback
    req = urllib.request.Request(f"{sim}/_sim/requests", headers={"Authorization": f"PVEAPIToken={token}"})
    with urllib.request.urlopen(req, context=ctx, timeout=10) as r:
        log = json.load(r)["data"]
    # Parameters are [name, value] pairs, as sent.
    return [v for r in log if r["method"] in ("POST", "PUT")
            for k, v in r["params"] if k == "description"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--replica", action="append", required=True, help="NAME:PORT:PID")
    ap.add_argument("--sim", required=True)
    ap.add_argument("--token", required=True)
    ap.add_argument("--tap", required=True)
    a = ap.parse_args()
    (n1, p1, pid1), (n2, p2, pid2) = [(r.split(":")[0], int(r.split(":")[1]), int(r.split(":")[2]))
                                      for r in a.replica]
    results: list[tuple[bool, str]] = []

    def check(ok: bool, what: str):
        results.append((ok, what))
        print(("ok" if ok else "not ok"), len(results), "-", what, flush=True)

    clients = [Client(a.url, n) for n in range(CLIENTS)]
    stop = threading.Event()
    threads = [threading.Thread(target=c.run, args=(stop,), daemon=True) for c in clients]
    for t in threads:
        t.start()
    time.sleep(2)
    served = (calls_served(p1), calls_served(p2))
    check(min(served) > 0, f"round robin: both replicas served calls {served}")

    # SIGTERM r1: it drains. /readyz 503 at once, every call still answered, exit 0.
    errors_before = sum(len(c.errors) + len(c.failures) for c in clients)
    os.kill(pid1, signal.SIGTERM)
    statuses = set()
    t0 = time.monotonic()
    while time.monotonic() - t0 < 1.5:
        statuses.add(readyz(p1))
        time.sleep(0.05)
    check(503 in statuses, f"the draining replica answers /readyz with 503 (saw {sorted(statuses)})")
    exited = None
    for _ in range(300):
        try:
            pid, status = os.waitpid(pid1, os.WNOHANG)
        except ChildProcessError:
            # Not our child (started by run.sh): wait until it is gone.
            try:
                os.kill(pid1, 0)
            except ProcessLookupError:
                exited = 0
                break
        else:
            if pid:
                exited = os.waitstatus_to_exitcode(status)
                break
        time.sleep(0.1)
    errors_drain = sum(len(c.errors) + len(c.failures) for c in clients) - errors_before
    check(exited == 0, f"the drained replica exited (status {exited})")
    check(errors_drain == 0, f"no call failed while a replica drained ({errors_drain} did)")

    # Restart r1 on its port; once the balancer has it back, SIGKILL r2.
    env = dict(os.environ)
    r1 = subprocess.Popen([f"{a.work}/replica.sh", n1 + "-restarted", str(p1)], env=env)
    for _ in range(300):
        if readyz(p1) == 200:
            break
        time.sleep(0.1)
    time.sleep(1.5)
    kill_at = time.monotonic()
    errors_at_kill = [len(c.errors) for c in clients]
    os.kill(pid2, signal.SIGKILL)
    time.sleep(3)
    late = [len(c.errors) for c in clients]
    time.sleep(1)
    stop.set()
    for t in threads:
        t.join(timeout=70)
    per_client = [len([e for e in c.errors if e[0] >= kill_at]) for c in clients]
    over = [[f"{t - kill_at:.2f}s {w}" for t, w in c.errors if t >= kill_at]
            for c in clients if len([e for e in c.errors if e[0] >= kill_at]) > 1]
    check(max(per_client) <= 1,
          f"at most one retryable error per client after SIGKILL (per client: {per_client}; "
          f"over: {over})")
    check([len(c.errors) for c in clients] == late,
          "no error once the balancer dropped the killed replica")
    failures = [f for c in clients for f in c.failures]
    check(not failures, f"every other call answered ({failures[:3]})")
    calls = sum(c.calls for c in clients)
    check(calls > 100, f"{calls} calls made")

    descs = sim_descriptions(a.sim, a.token)
    twice = sorted({d for d in descs if descs.count(d) > 1})
    check(not twice, f"no mutation reached the simulator twice ({len(descs)} updates; twice: {twice[:5]})")
    updated = [d for c in clients for d in c.updated]
    missing = [d for d in updated if descs.count(d) != 1]
    check(not missing, f"every update seen to succeed is in the log once ({len(updated)}; off: {missing[:5]})")
    r1.terminate()
    r1.wait(timeout=30)

    passed = sum(ok for ok, _ in results)
    with open(a.tap, "w") as f:
        f.write(f"TAP version 13\n1..{len(results)}\n")
        for i, (ok, what) in enumerate(results, 1):
            f.write(f"{'ok' if ok else 'not ok'} {i} - {what}\n")
        f.write(f"# pass {passed}\n# fail {len(results) - passed}\n")


if __name__ == "__main__":
    main()
