"""Drives a running `proxmox-mcp serve` through what a client does (see regenerate.sh):
Streamable HTTP initialize, tools/list and tool calls; REST calls; a legacy SSE session.
Usage: exercise.py MCP_PORT REST_PORT [--initialize-only]"""
import json
import re
import socket
import sys


def connect(port):
    s = socket.create_connection(("127.0.0.1", port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def read_response(s):
    buf = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            raise RuntimeError("connection closed")
        buf += chunk
        if b"\r\n\r\n" not in buf:
            continue
        head, rest = buf.split(b"\r\n\r\n", 1)
        if b"chunked" in head.lower():
            if rest.endswith(b"0\r\n\r\n"):
                return head, rest
        else:
            m = re.search(rb"(?i)content-length: *(\d+)", head)
            if m and len(rest) >= int(m.group(1)):
                return head, rest


def post(s, path, body, headers=""):
    data = json.dumps(body).encode()
    s.sendall(
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Accept: application/json, text/event-stream\r\n{headers}"
        f"Content-Length: {len(data)}\r\n\r\n".encode() + data
    )
    return read_response(s)


INIT = {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "x", "version": "1"}}
TOOLS = ["get_vms", "get_nodes", "get_cluster_status", "get_containers", "get_storage", "get_vms"]

mcp_port, rest_port = int(sys.argv[1]), int(sys.argv[2])

# Streamable HTTP
s = connect(mcp_port)
head, _ = post(s, "/proxmox/mcp", {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": INIT})
sid = re.search(rb"(?i)mcp-session-id: *([^\r]+)", head).group(1).decode()
if "--initialize-only" in sys.argv:
    print("exercise: initialized")
    sys.exit(0)
hdr = f"Mcp-Session-Id: {sid}\r\nMCP-Protocol-Version: 2025-06-18\r\n"
post(s, "/proxmox/mcp", {"jsonrpc": "2.0", "method": "notifications/initialized"}, hdr)
post(s, "/proxmox/mcp", {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}, hdr)
for i, tool in enumerate(TOOLS):
    call = {"name": tool, "arguments": {}}
    _, body = post(s, "/proxmox/mcp", {"jsonrpc": "2.0", "id": 3 + i, "method": "tools/call", "params": call}, hdr)
    assert b'"result"' in body, body[:300]

# REST
r = connect(rest_port)
for _ in range(2):
    head, _ = post(r, "/get_vms", {})
    assert head.startswith(b"HTTP/1.1 200"), head

# Legacy SSE
g = connect(mcp_port)
g.sendall(b"GET /proxmox/mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n")
events = b""
while not re.search(rb"event: *endpoint\r?\ndata: *[^\r\n]+\r?\n", events):
    events += g.recv(65536)
endpoint = re.search(rb"event: *endpoint\r?\ndata: *([^\r\n]+)", events).group(1).decode()
p = connect(mcp_port)


def sse_call(msg):
    global events
    post(p, endpoint, msg)
    if "id" in msg:
        while f'"id":{msg["id"]}'.encode() not in events:
            events += g.recv(65536)


sse_call({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": dict(INIT, protocolVersion="2024-11-05")})
sse_call({"jsonrpc": "2.0", "method": "notifications/initialized"})
sse_call({"jsonrpc": "2.0", "id": 2, "method": "tools/list"})
sse_call({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "get_vms", "arguments": {}}})
sse_call({"jsonrpc": "2.0", "id": 4, "method": "tools/call", "params": {"name": "get_vms", "arguments": {}}})
print("exercise: ok")
