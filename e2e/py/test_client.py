"""End-to-end test of proxmox-mcp with the official MCP Python SDK (`mcp`, see requirements.txt).

One transport per run, against a fresh `proxmox-mcp serve --demo` started by e2e/run.sh:
    E2E_URL=http://127.0.0.1:PORT/proxmox/mcp E2E_TRANSPORT=streamable-http|sse pytest py/test_client.py
Each test opens its own session (initialize handshake included); tests run in file order.
"""

import json
import os
import re
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
    """The VMs of a get_vms result (`{vms: [...], count}`)."""
    vms = (structured or {}).get("vms")
    return vms if isinstance(vms, list) else []


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
        assert result.structured_content["count"] == len(vm_list(result.structured_content))
        vm = find_vm(result.structured_content, VMID)
        assert vm is not None
        assert vm["node"] == "pve01"
        assert vm["status"] == "stopped"


async def test_get_vms_without_arguments() -> None:
    async with connect() as session:
        result = await session.call_tool("get_vms")
        assert not result.is_error, text_of(result)
        assert find_vm(result.structured_content, VMID) is not None


async def test_start_vm_get_task_then_running() -> None:
    async with connect() as session:
        await session.list_tools()
        result = await session.call_tool("start_vm", {"vmid": VMID})
        assert not result.is_error, text_of(result)
        out = result.structured_content
        assert out is not None
        assert (out["vmid"], out["node"], out["action"]) == (VMID, "pve01", "start")
        assert re.fullmatch(r"UPID:pve01:[0-9A-F]{8}:[0-9A-F]{8}:[0-9A-F]{8}:qmstart:103:[^:]+:", out["upid"])
        assert out["task_status"] in ("done", "running")
        task: dict[str, Any] = {}
        for _ in range(60):  # the tool returns after a bounded wait: follow the task
            r = await session.call_tool("get_task", {"upid": out["upid"]})
            assert not r.is_error, text_of(r)
            task = r.structured_content or {}
            if task.get("status") == "stopped":
                break
            await anyio.sleep(0.5)
        assert task.get("status") == "stopped", task
        assert (task["upid"], task["type"], task["id"]) == (out["upid"], "qmstart", str(VMID))
        assert task["ok"] is True and task["exitstatus"] == "OK", task
        vms = await session.call_tool("get_vms", {})
        vm = find_vm(vms.structured_content, VMID)
        assert vm is not None and vm["status"] == "running", vm


async def test_stop_vm_dry_run_then_unconfirmed() -> None:
    # Runs after the start test: VM 103 is running. The SDK validates structured content against
    # the tool's output schema (the tool's output or a dry-run plan).
    async with connect() as session:
        await session.list_tools()
        result = await session.call_tool("stop_vm", {"vmid": VMID, "dry_run": True})
        assert not result.is_error, text_of(result)
        plan = result.structured_content or {}
        assert plan.get("dry_run") is True, plan
        calls = plan["planned_calls"]
        assert [(c["method"], c["path"]) for c in calls] == [("POST", f"/nodes/pve01/qemu/{VMID}/status/stop")]
        refused = await session.call_tool("stop_vm", {"vmid": VMID})
        assert refused.is_error is True
        assert "confirm: true" in text_of(refused)
        vms = await session.call_tool("get_vms", {})
        vm = find_vm(vms.structured_content, VMID)
        assert vm is not None and vm["status"] == "running", vm


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
