"""End-to-end test of proxmox-mcp with the official MCP Python SDK (`mcp`, see requirements.txt).

One transport per run, against a fresh `proxmox-mcp serve --demo` started by e2e/run.sh:
    E2E_URL=http://127.0.0.1:PORT/proxmox/mcp E2E_TRANSPORT=streamable-http|sse pytest py/test_client.py
Each test opens its own session (initialize handshake included); tests run in file order.
"""

import json
import os
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, AsyncIterator

import anyio
import pytest
from mcp import ClientSession
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError

URL = os.environ.get("E2E_URL", "")
TRANSPORT = os.environ.get("E2E_TRANSPORT", "streamable-http")
EXPECTED = json.loads((Path(__file__).parent.parent / "expected-tools.json").read_text())["tools"]
VMID = 103  # the stopped demo VM this run starts

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@asynccontextmanager
async def connect() -> AsyncIterator[ClientSession]:
    assert URL, "E2E_URL is not set (run through e2e/run.sh)"
    transport = sse_client(URL) if TRANSPORT == "sse" else streamable_http_client(URL)
    async with transport as streams:
        read, write = streams[0], streams[1]
        async with ClientSession(read, write) as session:
            await session.initialize()
            yield session


def vm_list(structured: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The guests of a get_vms result: its one array of objects carrying a vmid."""
    for value in (structured or {}).values():
        if isinstance(value, list) and all(isinstance(x, dict) and "vmid" in x for x in value):
            return value
    return []


def find_vm(structured: dict[str, Any] | None, vmid: int) -> dict[str, Any] | None:
    return next((v for v in vm_list(structured) if int(v["vmid"]) == vmid), None)


def text_of(result: Any) -> str:
    return "".join(c.text for c in result.content if c.type == "text")


async def test_initialize_reports_server() -> None:
    async with connect() as session:
        assert session.server_info is not None
        assert session.server_info.name == "proxmox-mcp"
        assert session.server_capabilities is not None
        assert session.server_capabilities.tools is not None


async def test_list_tools_has_seed_tools_annotated() -> None:
    async with connect() as session:
        tools = (await session.list_tools()).tools
        assert sorted(t.name for t in tools) == sorted(EXPECTED)
        for t in tools:
            access = EXPECTED[t.name]
            assert t.input_schema.get("type") == "object", t.name
            assert t.output_schema is not None and t.output_schema.get("type") == "object", t.name
            assert t.annotations is not None, t.name
            assert t.annotations.read_only_hint is (access == "read"), t.name
            assert t.annotations.destructive_hint is (access == "destructive"), t.name
            assert isinstance(t.annotations.idempotent_hint, bool), t.name


async def test_get_vms_structured() -> None:
    async with connect() as session:
        await session.list_tools()  # lets the SDK validate results against outputSchema
        result = await session.call_tool("get_vms", {})
        assert not result.is_error, text_of(result)
        assert isinstance(result.structured_content, dict)
        assert json.loads(text_of(result)) == result.structured_content
        assert len(vm_list(result.structured_content)) >= 3
        vm = find_vm(result.structured_content, VMID)
        assert vm is not None
        assert vm["node"] == "pve01"
        assert vm["status"] == "stopped"


async def test_start_vm_then_running() -> None:
    async with connect() as session:
        await session.list_tools()
        result = await session.call_tool("start_vm", {"vmid": VMID})
        assert not result.is_error, text_of(result)
        assert "UPID:pve01:" in json.dumps(result.structured_content)
        for _ in range(60):  # the guest may still be starting when the tool returns
            vms = await session.call_tool("get_vms", {})
            vm = find_vm(vms.structured_content, VMID)
            if vm is not None and vm["status"] == "running":
                break
            await anyio.sleep(0.5)
        else:
            pytest.fail(f"VM {VMID} not running: {vm}")


async def test_bad_parameters_tool_error() -> None:
    async with connect() as session:
        result = await session.call_tool("start_vm", {"vmid": "not-a-number"})
        assert result.is_error is True
        assert "vmid" in text_of(result)


async def test_unknown_vm_tool_error() -> None:
    async with connect() as session:
        result = await session.call_tool("start_vm", {"vmid": 999999})
        assert result.is_error is True
        assert text_of(result)


async def test_unknown_tool_jsonrpc_error() -> None:
    async with connect() as session:
        with pytest.raises(MCPError) as info:
            await session.call_tool("no_such_tool", {})
        assert info.value.error.code == -32602
