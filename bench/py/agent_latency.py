"""One agent's view of a `get_vms` call, timed with the official MCP Python SDK client.

Run by `cargo run --release -p proxmox-mcp-bench --bin agent_latency` (see bench/README.md), once
per server and round:

    python agent_latency.py --url http://127.0.0.1:PORT/mcp --calls 30 --warmup 3

Opens one Streamable HTTP session (`initialize` once, then `tools/list`, which the SDK also uses
to learn each tool's output schema), makes `--warmup` untimed calls of `get_vms` with no
arguments, then `--calls` timed ones, each from just before `session.call_tool` to its return:
the request, the server's work, reading and parsing the answer, and the SDK's validation of
`structuredContent` against the tool's output schema (when the tool declares one). Every answer
is checked (no tool error, some text) outside the timed window. Then it times the SDK's
validation step alone (`session.validate_tool_result`) on the last answer, and the floor: an MCP
`ping` (the SDK's and the transport's own cost of a request, no tool) and a call of a trivial tool
both servers have (`get_cluster_status`: one small Proxmox VE request, a few hundred bytes back).

Prints one JSON object on stdout: the samples in milliseconds and what the answers hold.
"""

import argparse
import asyncio
import json
import statistics
import sys
import time
from typing import Any

from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client

TOOL = "get_vms"
TRIVIAL = "get_cluster_status"


def text_of(result: Any) -> str:
    return "".join(c.text for c in result.content if c.type == "text")


def check(result: Any) -> None:
    if result.is_error:
        raise SystemExit(f"{TOOL} answered a tool error: {text_of(result)[:300]}")
    if not text_of(result) and result.structured_content is None:
        raise SystemExit(f"{TOOL} answered nothing")


async def run(url: str, calls: int, warmup: int) -> dict[str, Any]:
    async with streamable_http_client(url) as streams:
        read, write = streams[0], streams[1]
        async with ClientSession(read, write) as session:
            init = await session.initialize()
            tools = (await session.list_tools()).tools
            tool = next((t for t in tools if t.name == TOOL), None)
            if tool is None:
                raise SystemExit(f"the server lists no {TOOL} tool")
            result = None
            for _ in range(warmup):
                result = await session.call_tool(TOOL, {})
                check(result)
            samples = []
            for _ in range(calls):
                start = time.perf_counter()
                result = await session.call_tool(TOOL, {})
                samples.append((time.perf_counter() - start) * 1000.0)
                check(result)
            validation = []
            if result is not None:
                for _ in range(min(calls, 10)):
                    start = time.perf_counter()
                    await session.validate_tool_result(TOOL, result)
                    validation.append((time.perf_counter() - start) * 1000.0)
            ping = []
            for _ in range(calls):
                start = time.perf_counter()
                await session.send_ping()
                ping.append((time.perf_counter() - start) * 1000.0)
            trivial = []
            if any(t.name == TRIVIAL for t in tools):
                for i in range(warmup + calls):
                    start = time.perf_counter()
                    r = await session.call_tool(TRIVIAL, {})
                    if i >= warmup:
                        trivial.append((time.perf_counter() - start) * 1000.0)
                    if r.is_error:
                        raise SystemExit(f"{TRIVIAL} answered a tool error: {text_of(r)[:300]}")
            structured = None if result is None else result.structured_content
            rows = None
            if isinstance(structured, dict):
                rows = next((len(v) for v in structured.values() if isinstance(v, list)), None)
            return {
                "server": f"{init.server_info.name} {init.server_info.version}",
                "protocol_version": init.protocol_version,
                "tools": len(tools),
                "output_schema_bytes": (
                    len(json.dumps(tool.output_schema, separators=(",", ":")))
                    if tool.output_schema is not None
                    else 0
                ),
                "text_bytes": len(text_of(result).encode()) if result is not None else 0,
                "structured_bytes": (
                    len(json.dumps(structured, separators=(",", ":")).encode())
                    if structured is not None
                    else 0
                ),
                "rows": rows,
                "samples_ms": samples,
                "median_ms": statistics.median(samples) if samples else None,
                "validate_median_ms": statistics.median(validation) if validation else None,
                "ping_median_ms": statistics.median(ping) if ping else None,
                "trivial_median_ms": statistics.median(trivial) if trivial else None,
            }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--url", required=True)
    p.add_argument("--calls", type=int, default=30)
    p.add_argument("--warmup", type=int, default=3)
    a = p.parse_args()
    out = asyncio.run(run(a.url, a.calls, a.warmup))
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
