"""The agent-facing MCP features with the official MCP Python SDK: confirmation asked of the human
(elicitation, answered accept and decline), resources, completion, prompts and logging.

One transport per run, against a fresh `proxmox-mcp serve --demo` started by e2e/run.sh:
    E2E_URL=... E2E_TRANSPORT=streamable-http|sse pytest py/test_agent.py
"""

import json
import os
from contextlib import asynccontextmanager
from typing import AsyncIterator

import pytest
from mcp import ClientSession, types
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError

URL = os.environ.get("E2E_URL", "")
TRANSPORT = os.environ.get("E2E_TRANSPORT", "streamable-http")
VMID = 100  # a running demo VM

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@asynccontextmanager
async def connect(
    action: str, asked: list[str], logged: list[types.LoggingMessageNotificationParams] | None = None
) -> AsyncIterator[ClientSession]:
    """A session whose human answers every question with `action`, noting what they were asked
    (and the log messages it gets in `logged`)."""

    async def log(params: types.LoggingMessageNotificationParams) -> None:
        if logged is not None:
            logged.append(params)

    async def human(context, params: types.ElicitRequestParams) -> types.ElicitResult:
        asked.append(params.message)
        return types.ElicitResult(action=action, content={} if action == "accept" else None)

    assert URL, "E2E_URL is not set (run through e2e/run.sh)"
    transport = sse_client(URL) if TRANSPORT == "sse" else streamable_http_client(URL)
    async with transport as streams:
        async with ClientSession(
            streams[0], streams[1], elicitation_callback=human, logging_callback=log
        ) as session:
            await session.initialize()
            yield session


async def test_declined_does_nothing_then_accepted_runs() -> None:
    asked: list[str] = []
    async with connect("decline", asked) as s:
        r = await s.call_tool("reset_vm", {"vmid": VMID})
        assert r.is_error
        assert "declined reset_vm; nothing was done" in r.content[0].text
    assert len(asked) == 1 and f"/nodes/pve01/qemu/{VMID}/status/reset" in asked[0], asked
    async with connect("accept", asked) as s:
        r = await s.call_tool("reset_vm", {"vmid": VMID})
        assert not r.is_error, r.content
    assert len(asked) == 2


async def test_resources_completion_and_prompts() -> None:
    async with connect("decline", []) as s:
        listed = await s.list_resources()
        summary = next(r for r in listed.resources if str(r.uri).endswith("/summary"))
        assert all(r.mime_type == "application/json" for r in listed.resources)
        cluster = str(summary.uri)[len("proxmox://") : -len("/summary")]
        templates = await s.list_resource_templates()
        assert sorted(t.uri_template for t in templates.resource_templates) == [
            "proxmox://{cluster}/ct/{vmid}",
            "proxmox://{cluster}/node/{node}",
            "proxmox://{cluster}/vm/{vmid}",
        ]
        node = await s.read_resource(f"proxmox://{cluster}/node/pve01")
        assert node.contents[0].mime_type == "application/json"
        assert json.loads(node.contents[0].text)["node"] == "pve01"
        with pytest.raises(MCPError):
            await s.read_resource(f"proxmox://{cluster}/vm/999999")
        done = await s.complete(
            types.ResourceTemplateReference(type="ref/resource", uri="proxmox://{cluster}/vm/{vmid}"),
            {"name": "vmid", "value": "10"},
        )
        assert str(VMID) in done.completion.values
        prompts = await s.list_prompts()
        assert [p.name for p in prompts.prompts][:2] == ["daily_cluster_report", "troubleshoot_guest_start"]
        got = await s.get_prompt("plan_node_maintenance", {"node": "pve02"})
        text = got.messages[0].content.text
        assert "pve02" in text and "check_migration" in text


async def test_task_log_lines_come_as_log_messages() -> None:
    logged: list[types.LoggingMessageNotificationParams] = []
    async with connect("decline", [], logged) as s:
        await s.set_logging_level("info")
        r = await s.call_tool("start_vm", {"vmid": 103})
        assert not r.is_error, r.content
        upid = r.structured_content["upid"]
        lines = [p for p in logged if isinstance(p.data, dict) and p.data.get("upid") == upid]
        assert lines and all(p.level == "info" and p.logger == "proxmox-ve" for p in lines), logged
        task = await s.call_tool("get_task", {"upid": upid, "log_lines": 500})
        assert [p.data["line"] for p in lines] == task.structured_content["log"]
