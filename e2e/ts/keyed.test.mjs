// End-to-end test of the MCP door's API keys with the official MCP TypeScript SDK, sending the key as
// n8n's Bearer Auth credential does: an `Authorization: Bearer KEY` header on every request, given
// to the transport as `requestInit: { headers }`. Run by e2e/run.sh against a fresh
// `proxmox-mcp serve --demo` whose config holds one key of the `read` scope:
//   E2E_URL=... E2E_KEY=<read key> E2E_TRANSPORT=streamable-http|sse node --test ts/keyed.test.mjs
import { strict as assert } from 'node:assert';
import { after, test } from 'node:test';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

import { EXPECTED_TOOLS, findVm } from './expect.mjs';

const URL_ = process.env.E2E_URL;
const KEY = process.env.E2E_KEY;
const TRANSPORT = process.env.E2E_TRANSPORT ?? 'streamable-http';
if (!URL_ || !KEY) throw new Error('E2E_URL or E2E_KEY is not set (run through e2e/run.sh)');

const clients = [];

/** A client connected with `key` (none: no Authorization header). */
async function connect(key) {
  const client = new Client({ name: `proxmox-mcp-e2e-keyed-${TRANSPORT}`, version: '1.0.0' });
  const opts = key ? { requestInit: { headers: { Authorization: `Bearer ${key}` } } } : {};
  const url = new URL(URL_);
  const transport =
    TRANSPORT === 'sse' ? new SSEClientTransport(url, opts) : new StreamableHTTPClientTransport(url, opts);
  await client.connect(transport);
  clients.push(client);
  return client;
}

after(async () => {
  for (const c of clients) await c.close();
});

test(`${TRANSPORT}: without a key, or with a wrong one, the server refuses to connect`, async () => {
  await assert.rejects(connect(undefined), /401|nauthorized|API key/);
  await assert.rejects(connect('pmcp_not-the-key'), /401|nauthorized|API key/);
});

test(`${TRANSPORT}: a read key lists only the read tools, may read, and is refused the rest`, async () => {
  const client = await connect(KEY);
  const { tools } = await client.listTools();
  const want = [...EXPECTED_TOOLS].filter(([, access]) => access === 'read').map(([name]) => name);
  assert.deepEqual(tools.map((t) => t.name).sort(), want.sort());

  const vms = await client.callTool({ name: 'get_vms', arguments: {} });
  assert.ok(!vms.isError, JSON.stringify(vms.content));
  assert.equal(findVm(vms.structuredContent, 103)?.status, 'stopped');

  // A tool the key may not call: a tool error saying which scope would allow it.
  const res = await client.callTool({ name: 'start_vm', arguments: { vmid: 103 } });
  assert.equal(res.isError, true);
  assert.match(res.content[0].text, /`operate` scope/);
  const again = await client.callTool({ name: 'get_vms', arguments: {} });
  assert.equal(findVm(again.structuredContent, 103)?.status, 'stopped', 'the refused call changed nothing');
});
