// End-to-end test of proxmox-mcp with the official MCP TypeScript SDK (the client n8n embeds).
// One transport per run, against a fresh `proxmox-mcp serve --demo` started by e2e/run.sh:
//   E2E_URL=http://127.0.0.1:PORT/proxmox/mcp E2E_TRANSPORT=streamable-http|sse node --test ts/client.test.mjs
// The tests run in order and share one session, as an agent would: list, read, act, read again.
import { strict as assert } from 'node:assert';
import { after, before, test } from 'node:test';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpError } from '@modelcontextprotocol/sdk/types.js';

import { EXPECTED_TOOLS, findVm, vmList, waitFor } from './expect.mjs';

const URL_ = process.env.E2E_URL;
const TRANSPORT = process.env.E2E_TRANSPORT ?? 'streamable-http';
if (!URL_) throw new Error('E2E_URL is not set (run through e2e/run.sh)');

/** The stopped demo VM this run starts. */
const VMID = 103;

let client;
let tools;

before(async () => {
  client = new Client({ name: `proxmox-mcp-e2e-ts-${TRANSPORT}`, version: '1.0.0' });
  const url = new URL(URL_);
  const transport =
    TRANSPORT === 'sse' ? new SSEClientTransport(url) : new StreamableHTTPClientTransport(url);
  await client.connect(transport);
});

after(async () => {
  await client?.close();
});

async function call(name, args) {
  return client.callTool({ name, arguments: args });
}

test(`${TRANSPORT}: initialize reports the server and its tools capability`, () => {
  const info = client.getServerVersion();
  assert.equal(info?.name, 'proxmox-mcp');
  assert.match(info?.version ?? '', /^\d+\.\d+\.\d+/);
  assert.ok(client.getServerCapabilities()?.tools, 'tools capability missing');
});

test(`${TRANSPORT}: tools/list has the seed tools and get_task, annotated`, async () => {
  ({ tools } = await client.listTools());
  const names = tools.map((t) => t.name).sort();
  assert.deepEqual(names, [...EXPECTED_TOOLS.keys()].sort());
  for (const t of tools) {
    const access = EXPECTED_TOOLS.get(t.name);
    assert.equal(t.inputSchema.type, 'object', `${t.name} inputSchema`);
    assert.equal(t.outputSchema?.type, 'object', `${t.name} outputSchema`);
    assert.ok(t.description && t.description.length > 10, `${t.name} description`);
    assert.equal(t.annotations?.readOnlyHint, access === 'read', `${t.name} readOnlyHint`);
    assert.equal(t.annotations?.destructiveHint, access === 'destructive', `${t.name} destructiveHint`);
    assert.equal(typeof t.annotations?.idempotentHint, 'boolean', `${t.name} idempotentHint`);
    assert.ok(t.name.length <= 64, `${t.name} longer than 64`);
  }
});

test(`${TRANSPORT}: get_vms returns the demo VMs as structured content`, async () => {
  const res = await call('get_vms', {});
  assert.ok(!res.isError, `get_vms failed: ${JSON.stringify(res.content)}`);
  assert.equal(typeof res.structuredContent, 'object');
  // The text block carries the same value, for clients that ignore structuredContent.
  const text = res.content.find((c) => c.type === 'text');
  assert.deepEqual(JSON.parse(text.text), res.structuredContent);
  const vms = vmList(res.structuredContent);
  assert.ok(vms.length >= 3, `expected several demo VMs, got ${vms.length}`);
  assert.equal(res.structuredContent.count, vms.length);
  const vm = findVm(res.structuredContent, VMID);
  assert.ok(vm, `VM ${VMID} not in get_vms`);
  assert.equal(vm.node, 'pve01');
  assert.equal(vm.status, 'stopped');
});

test(`${TRANSPORT}: get_vms accepts missing arguments`, async () => {
  const res = await client.callTool({ name: 'get_vms' });
  assert.ok(!res.isError, JSON.stringify(res.content));
  assert.ok(findVm(res.structuredContent, VMID));
});

test(`${TRANSPORT}: start_vm starts VM ${VMID}, get_task follows it, get_vms shows it running`, async () => {
  const res = await call('start_vm', { vmid: VMID });
  assert.ok(!res.isError, `start_vm failed: ${JSON.stringify(res.content)}`);
  const out = res.structuredContent;
  assert.equal(out.vmid, VMID);
  assert.equal(out.node, 'pve01');
  assert.equal(out.action, 'start');
  assert.match(out.upid, /^UPID:pve01:[0-9A-F]{8}:[0-9A-F]{8}:[0-9A-F]{8}:qmstart:103:[^:]+:$/);
  assert.ok(['done', 'running'].includes(out.task_status), out.task_status);
  // The tool returns after a bounded wait: follow the task until PVE says it stopped.
  const task = await waitFor(async () => {
    const r = await call('get_task', { upid: out.upid });
    assert.ok(!r.isError, `get_task failed: ${JSON.stringify(r.content)}`);
    return r.structuredContent.status === 'stopped' ? r.structuredContent : undefined;
  });
  assert.equal(task.upid, out.upid);
  assert.equal(task.type, 'qmstart');
  assert.equal(task.id, String(VMID));
  assert.equal(task.ok, true, `task failed: ${task.exitstatus}`);
  assert.equal(task.exitstatus, 'OK');
  const vms = await call('get_vms', {});
  assert.equal(findVm(vms.structuredContent, VMID)?.status, 'running');
});

test(`${TRANSPORT}: stop_vm dry run returns the planned PVE call, valid against its output schema`, async () => {
  // The SDK validates structuredContent against the tool's outputSchema (anyOf: output or plan).
  const res = await call('stop_vm', { vmid: VMID, dry_run: true });
  assert.ok(!res.isError, `dry run failed: ${JSON.stringify(res.content)}`);
  const plan = res.structuredContent;
  assert.equal(plan.dry_run, true);
  assert.equal(plan.planned_calls.length, 1, JSON.stringify(plan));
  assert.equal(plan.planned_calls[0].method, 'POST');
  assert.equal(plan.planned_calls[0].path, `/nodes/pve01/qemu/${VMID}/status/stop`);
  const vms = await call('get_vms', {});
  assert.equal(findVm(vms.structuredContent, VMID)?.status, 'running', 'a dry run changes nothing');
});

test(`${TRANSPORT}: stop_vm without confirm is refused and changes nothing`, async () => {
  const res = await call('stop_vm', { vmid: VMID });
  assert.equal(res.isError, true);
  assert.match(res.content[0].text, /confirm: true/);
  const vms = await call('get_vms', {});
  assert.equal(findVm(vms.structuredContent, VMID)?.status, 'running');
});

test(`${TRANSPORT}: bad parameters give a tool error naming the parameter`, async () => {
  const res = await call('start_vm', { vmid: 'not-a-number' });
  assert.equal(res.isError, true);
  assert.match(res.content[0].text, /vmid/);
});

test(`${TRANSPORT}: an unknown VM gives a tool error`, async () => {
  const res = await call('start_vm', { vmid: 999_999 });
  assert.equal(res.isError, true);
  assert.ok(res.content[0].text.length > 0);
});

test(`${TRANSPORT}: an unknown tool is a JSON-RPC invalid-params error`, async () => {
  await assert.rejects(call('no_such_tool', {}), (e) => {
    assert.ok(e instanceof McpError, String(e));
    assert.equal(e.code, -32602);
    return true;
  });
});
