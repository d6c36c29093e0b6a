// Dynamic toolsets with the official TypeScript SDK client, which refetches the tool list when
// the server sends notifications/tools/list_changed: the session starts with the default
// toolsets plus the toolset tools; enable_toolset turns one on and the SDK's refetched list holds
// its tools; disable_toolset takes them out again. Against a fresh
// `proxmox-mcp serve --demo --dynamic-toolsets` (e2e/run.sh), one transport per run:
//   E2E_URL=... E2E_TRANSPORT=streamable-http|sse node --test ts/dynamic.test.mjs
import { strict as assert } from 'node:assert';
import { after, before, test } from 'node:test';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

const URL_ = process.env.E2E_URL;
const TRANSPORT = process.env.E2E_TRANSPORT ?? 'streamable-http';
if (!URL_) throw new Error('E2E_URL is not set (run through e2e/run.sh)');

let client;
/** Each tool list the SDK refetched after a list_changed notification. */
const refetched = [];
let wake = () => {};

/** The next list the SDK refetches. */
const nextRefetch = () =>
  new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no refetch after list_changed')), 10_000);
    wake = (tools) => {
      clearTimeout(timer);
      resolve(tools);
    };
  });

before(async () => {
  client = new Client(
    { name: `proxmox-mcp-e2e-dynamic-${TRANSPORT}`, version: '1.0.0' },
    {
      listChanged: {
        tools: {
          onChanged: (error, tools) => {
            if (error) throw error;
            const names = tools.map((t) => t.name);
            refetched.push(names);
            wake(names);
          },
        },
      },
    },
  );
  const url = new URL(URL_);
  const transport =
    TRANSPORT === 'sse' ? new SSEClientTransport(url) : new StreamableHTTPClientTransport(url);
  await client.connect(transport);
});

after(async () => {
  await client?.close();
});

const names = async () => (await client.listTools()).tools.map((t) => t.name);

test(`${TRANSPORT}: the session starts with the default toolsets and the toolset tools`, async () => {
  assert.equal(client.getServerCapabilities()?.tools?.listChanged, true);
  const tools = await names();
  for (const t of ['get_vms', 'get_task', 'list_tasks', 'list_toolsets', 'enable_toolset', 'disable_toolset']) {
    assert.ok(tools.includes(t), `${t} missing from ${tools}`);
  }
  assert.ok(!tools.includes('list_snapshots'), 'snapshots is off by default');
  const listed = await client.callTool({ name: 'list_toolsets', arguments: {} });
  const snapshots = listed.structuredContent.toolsets.find((t) => t.name === 'snapshots');
  assert.equal(snapshots.on, false);
  assert.ok(snapshots.tools.includes('list_snapshots'));
  const off = await client.callTool({ name: 'list_snapshots', arguments: { vmid: 100 } });
  assert.equal(off.isError, true);
  assert.match(off.content[0].text, /enable_toolset/);
});

test(`${TRANSPORT}: enable_toolset: the SDK refetches and sees the toolset's tools`, async () => {
  const refetch = nextRefetch();
  const res = await client.callTool({ name: 'enable_toolset', arguments: { toolset: 'snapshots' } });
  assert.ok(!res.isError, JSON.stringify(res.content));
  assert.equal(res.structuredContent.changed, true);
  const tools = await refetch;
  for (const t of res.structuredContent.tools) assert.ok(tools.includes(t), `${t} missing from ${tools}`);
  const listed = await client.callTool({ name: 'list_snapshots', arguments: { vmid: 100 } });
  assert.ok(!listed.isError, JSON.stringify(listed.content));
});

test(`${TRANSPORT}: disable_toolset: the refetched list no longer has them`, async () => {
  const refetch = nextRefetch();
  const res = await client.callTool({ name: 'disable_toolset', arguments: { toolset: 'snapshots' } });
  assert.ok(!res.isError, JSON.stringify(res.content));
  const tools = await refetch;
  assert.ok(!tools.includes('list_snapshots'), JSON.stringify(tools));
  assert.equal(refetched.length, 2);
});
