// The agent-facing MCP features with the official TypeScript SDK client: confirmation asked of the
// human (elicitation, answered accept and decline), resources (list, templates, read), completion,
// prompts and logging (task log lines after logging/setLevel). One transport per run, against a fresh `proxmox-mcp serve --demo` (e2e/run.sh):
//   E2E_URL=... E2E_TRANSPORT=streamable-http|sse node --test ts/agent.test.mjs
import { strict as assert } from 'node:assert';
import { after, before, test } from 'node:test';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ElicitRequestSchema, LoggingMessageNotificationSchema } from '@modelcontextprotocol/sdk/types.js';

const URL_ = process.env.E2E_URL;
const TRANSPORT = process.env.E2E_TRANSPORT ?? 'streamable-http';
if (!URL_) throw new Error('E2E_URL is not set (run through e2e/run.sh)');

/** The running demo VM the human is asked about. */
const VMID = 100;

/** The next answer of the human, and the questions they were asked. */
let answer = 'decline';
const asked = [];
let client;
const logged = [];

before(async () => {
  client = new Client(
    { name: `proxmox-mcp-e2e-agent-${TRANSPORT}`, version: '1.0.0' },
    { capabilities: { elicitation: { form: {} } } },
  );
  client.setRequestHandler(ElicitRequestSchema, async (request) => {
    asked.push(request.params.message);
    return answer === 'accept' ? { action: 'accept', content: {} } : { action: answer };
  });
  client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
    logged.push(n.params);
  });
  const url = new URL(URL_);
  const transport =
    TRANSPORT === 'sse' ? new SSEClientTransport(url) : new StreamableHTTPClientTransport(url);
  await client.connect(transport);
});

after(async () => {
  await client?.close();
});

const reset = () => client.callTool({ name: 'reset_vm', arguments: { vmid: VMID } });

test(`${TRANSPORT}: a destructive call asks the human; declined, nothing is done`, async () => {
  answer = 'decline';
  const res = await reset();
  assert.equal(res.isError, true);
  assert.match(res.content[0].text, /declined reset_vm; nothing was done/);
  assert.equal(asked.length, 1);
  assert.match(asked[0], new RegExp(`POST /nodes/pve01/qemu/${VMID}/status/reset`));
});

test(`${TRANSPORT}: accepted, the call runs`, async () => {
  answer = 'accept';
  const res = await reset();
  assert.ok(!res.isError, JSON.stringify(res.content));
  assert.equal(asked.length, 2);
});

test(`${TRANSPORT}: confirm: true is not asked`, async () => {
  answer = 'decline';
  const res = await client.callTool({ name: 'reset_vm', arguments: { vmid: VMID, confirm: true } });
  assert.ok(!res.isError, JSON.stringify(res.content));
  assert.equal(asked.length, 2);
});

test(`${TRANSPORT}: resources list, templates and reads are JSON`, async () => {
  assert.ok(client.getServerCapabilities()?.resources, 'resources capability missing');
  const { resources } = await client.listResources();
  const summary = resources.find((r) => r.uri.endsWith('/summary'));
  assert.ok(summary, JSON.stringify(resources.slice(0, 3)));
  assert.ok(resources.every((r) => r.mimeType === 'application/json'));
  const cluster = summary.uri.slice('proxmox://'.length, -'/summary'.length);
  const { resourceTemplates } = await client.listResourceTemplates();
  assert.deepEqual(
    resourceTemplates.map((t) => t.uriTemplate).sort(),
    ['proxmox://{cluster}/ct/{vmid}', 'proxmox://{cluster}/node/{node}', 'proxmox://{cluster}/vm/{vmid}'],
  );
  const read = await client.readResource({ uri: `proxmox://${cluster}/vm/${VMID}` });
  const vm = JSON.parse(read.contents[0].text);
  assert.equal(read.contents[0].mimeType, 'application/json');
  assert.equal(vm.vmid, VMID);
  assert.equal(vm.type, 'qemu');
  assert.equal(vm.status.status, 'running');
});

test(`${TRANSPORT}: completion completes vmid and node`, async () => {
  const vmids = await client.complete({
    ref: { type: 'ref/resource', uri: 'proxmox://{cluster}/vm/{vmid}' },
    argument: { name: 'vmid', value: '10' },
  });
  assert.ok(vmids.completion.values.includes(String(VMID)), JSON.stringify(vmids));
  assert.ok(vmids.completion.values.every((v) => v.startsWith('10')));
  const nodes = await client.complete({
    ref: { type: 'ref/prompt', name: 'plan_node_maintenance' },
    argument: { name: 'node', value: '' },
  });
  assert.ok(nodes.completion.values.includes('pve01'), JSON.stringify(nodes));
});

test(`${TRANSPORT}: prompts take arguments and name their tools`, async () => {
  const { prompts } = await client.listPrompts();
  assert.deepEqual(prompts.map((p) => p.name), [
    'daily_cluster_report',
    'troubleshoot_guest_start',
    'plan_node_maintenance',
    'review_backups',
  ]);
  const got = await client.getPrompt({ name: 'troubleshoot_guest_start', arguments: { vmid: '101' } });
  const text = got.messages[0].content.text;
  assert.match(text, /Guest 101/);
  assert.match(text, /list_tasks/);
  await assert.rejects(client.getPrompt({ name: 'troubleshoot_guest_start', arguments: {} }), /vmid/);
});

test(`${TRANSPORT}: after logging/setLevel info, a task's log lines come as log messages`, async () => {
  assert.ok(client.getServerCapabilities()?.logging, 'logging capability missing');
  await client.setLoggingLevel('info');
  const res = await client.callTool({ name: 'start_vm', arguments: { vmid: 103 } });
  assert.ok(!res.isError, JSON.stringify(res.content));
  const upid = res.structuredContent.upid;
  const lines = logged.filter((p) => p.data?.upid === upid);
  assert.ok(lines.length > 0, JSON.stringify(logged));
  assert.ok(lines.every((p) => p.level === 'info' && p.logger === 'proxmox-ve'));
  const task = await client.callTool({ name: 'get_task', arguments: { upid, log_lines: 500 } });
  assert.deepEqual(lines.map((p) => p.data.line), task.structuredContent.log);
});
