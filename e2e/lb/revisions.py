"""What the balancer must and must not do for each transport (run by e2e/lb/run.sh), as TAP:

- a client of the 2026-07-28 revision (no session at all: `server/discover`, then every request
  carrying its revision, client info and capabilities in `_meta`) is served through HAProxy's
  round robin: discovery, the tool list and a dozen `get_vms` calls all answered, none with a
  session id, and both replicas served some of the calls;
- legacy HTTP+SSE cannot be balanced per request: a session opened on one replica is unknown to
  the other (its POST there answers 404, the same POST to the replica holding the stream is
  accepted). That is why haproxy.cfg.in routes legacy SSE by client address.

Standard library only.
"""

import argparse
import http.client
import json
import urllib.request
from urllib.parse import urlsplit

REVISION = "2026-07-28"
CALLS = 12


def meta() -> dict:
    return {
        "io.modelcontextprotocol/protocolVersion": REVISION,
        "io.modelcontextprotocol/clientInfo": {"name": "e2e-lb-revisions", "version": "1"},
        "io.modelcontextprotocol/clientCapabilities": {},
    }


def post(url: str, body: dict, headers: dict) -> tuple[int, dict, list]:
    """One POST on its own connection; the JSON-RPC messages of the answer (JSON or SSE)."""
    u = urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    try:
        h = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
        h.update(headers)
        conn.request("POST", u.path + (f"?{u.query}" if u.query else ""), json.dumps(body), h)
        resp = conn.getresponse()
        text = resp.read().decode()
        hdrs = {k.lower(): v for k, v in resp.getheaders()}
    finally:
        conn.close()
    msgs = []
    if hdrs.get("content-type", "").startswith("text/event-stream"):
        for line in text.splitlines():
            if line.startswith("data:") and line[5:].strip():
                msgs.append(json.loads(line[5:]))
    elif text.strip().startswith("{"):
        msgs.append(json.loads(text))
    return resp.status, hdrs, msgs


def rpc(url: str, id_: int, method: str, params: dict, name: str | None = None):
    headers = {"MCP-Protocol-Version": REVISION, "Mcp-Method": method}
    if name is not None:
        headers["Mcp-Name"] = name
    params = dict(params, _meta=meta())
    return post(url, {"jsonrpc": "2.0", "id": id_, "method": method, "params": params}, headers)


def calls_served(port: int) -> float:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
        text = r.read().decode()
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith("proxmox_mcp_tool_calls_total{"))


def open_legacy(port: int) -> tuple[http.client.HTTPConnection, str]:
    """A legacy SSE stream opened on one replica; the message endpoint it announces."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", "/proxmox/mcp", headers={"Accept": "text/event-stream"})
    resp = conn.getresponse()
    if resp.status != 200:
        raise RuntimeError(f"legacy GET answered {resp.status}")
    event = None
    while True:
        line = resp.fp.readline().decode().rstrip("\r\n")
        if line.startswith("event:"):
            event = line[6:].strip()
        elif line.startswith("data:") and event == "endpoint":
            return conn, line[5:].strip()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True, help="the balancer's MCP URL")
    ap.add_argument("--replica", action="append", required=True, help="NAME:PORT")
    ap.add_argument("--tap", required=True)
    a = ap.parse_args()
    replicas = [(r.split(":")[0], int(r.split(":")[1])) for r in a.replica]
    results: list[tuple[bool, str]] = []

    def check(ok: bool, what: str):
        results.append((ok, what))
        print(("ok" if ok else "not ok"), len(results), "-", what, flush=True)

    # 2026-07-28 through the balancer, round robin.
    before = [calls_served(p) for _, p in replicas]
    status, hdrs, msgs = rpc(a.url, 1, "server/discover", {})
    versions = msgs[0].get("result", {}).get("supportedVersions", []) if msgs else []
    check(status == 200 and REVISION in versions and "mcp-session-id" not in hdrs,
          f"server/discover through the balancer: {status}, versions {versions}")
    status, hdrs, msgs = rpc(a.url, 2, "tools/list", {})
    names = [t["name"] for t in msgs[0].get("result", {}).get("tools", [])] if msgs else []
    check(status == 200 and "get_vms" in names and "mcp-session-id" not in hdrs,
          f"tools/list through the balancer: {status}, {len(names)} tools")
    answered, sessions, bad = 0, 0, []
    for i in range(CALLS):
        status, hdrs, msgs = rpc(a.url, 10 + i, "tools/call",
                                 {"name": "get_vms", "arguments": {}}, name="get_vms")
        result = msgs[-1].get("result", {}) if msgs else {}
        if status == 200 and not result.get("isError") and "vms" in result.get("structuredContent", {}):
            answered += 1
        else:
            bad.append((status, msgs[-1] if msgs else None))
        sessions += "mcp-session-id" in hdrs
    check(answered == CALLS, f"{answered}/{CALLS} get_vms calls answered {bad[:1]}")
    check(sessions == 0, f"no answer carried a session id ({sessions} did)")
    served = [calls_served(p) - b for (_, p), b in zip(replicas, before)]
    check(min(served) > 0 and sum(served) == CALLS,
          f"round robin: each replica served some of the calls {served}")

    # Legacy SSE: a session lives on the replica holding its stream.
    (n1, p1), (n2, p2) = replicas
    init = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2024-11-05", "capabilities": {},
        "clientInfo": {"name": "e2e-lb-revisions", "version": "1"}}}
    conn, endpoint = open_legacy(p1)
    try:
        status_other, _, _ = post(f"http://127.0.0.1:{p2}{endpoint}", init, {})
        check(status_other == 404,
              f"legacy SSE: the session opened on {n1} is unknown to {n2} (POST answered {status_other})")
        status_own, _, _ = post(f"http://127.0.0.1:{p1}{endpoint}", init, {})
        check(status_own == 202, f"legacy SSE: {n1}, which holds the stream, accepts it ({status_own})")
    finally:
        conn.close()

    with open(a.tap, "w") as f:
        f.write(f"TAP version 13\n1..{len(results)}\n")
        for n, (ok, what) in enumerate(results, 1):
            f.write(f"{'ok' if ok else 'not ok'} {n} - {what}\n")
        f.write(f"# pass {sum(ok for ok, _ in results)}\n# fail {sum(not ok for ok, _ in results)}\n")
    return 0 if all(ok for ok, _ in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
