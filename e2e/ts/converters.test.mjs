// Every tool's input schema through the schema converters of the model providers n8n offers,
// the LangChain JS chat models for Google Gemini, OpenAI and Anthropic (pinned in
// e2e/package.json), and what comes out checked against what each provider's API accepts:
// Gemini's function declarations take only a subset of JSON Schema (one `type` per schema, no
// `anyOf`/`oneOf`/`const`, no type arrays, no `additionalProperties`, no exclusive bounds), OpenAI
// and Anthropic take a JSON Schema object. Offline: the converters run, nothing is sent.
// Against a fresh `proxmox-mcp serve --demo --toolsets all` started by e2e/run.sh:
//   E2E_URL=http://127.0.0.1:PORT/proxmox/mcp node --test ts/converters.test.mjs
// Each tool becomes a LangChain tool with its JSON Schema as is, as @langchain/mcp-adapters builds
// it; n8n's own JSON Schema to Zod step is not in this chain.
import { strict as assert } from 'node:assert';
import { after, before, test } from 'node:test';

import { ChatAnthropic } from '@langchain/anthropic';
import { tool } from '@langchain/core/tools';
import { ChatGoogleGenerativeAI } from '@langchain/google-genai';
import { ChatOpenAI } from '@langchain/openai';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import Ajv2020 from 'ajv/dist/2020.js';

const URL_ = process.env.E2E_URL;
if (!URL_) throw new Error('E2E_URL is not set (run through e2e/run.sh)');

/** The keywords of Gemini's `Schema` object that the function declarations of every Gemini API
 * version accept (the OpenAPI 3.0 subset; `anyOf` only in recent versions, so left out). */
const GEMINI_KEYWORDS = new Set([
  'type', 'format', 'title', 'description', 'nullable', 'enum', 'items', 'properties', 'required',
  'minItems', 'maxItems', 'minProperties', 'maxProperties', 'minLength', 'maxLength', 'pattern',
  'minimum', 'maximum', 'default', 'example', 'propertyOrdering',
]);
const GEMINI_TYPES = new Set(['string', 'number', 'integer', 'boolean', 'array', 'object']);

/** What Gemini would refuse in `schema` (one property's schema, or the parameters), with paths. */
function geminiRefusals(schema, path = 'parameters', out = []) {
  if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) {
    out.push(`${path}: not a schema object`);
    return out;
  }
  for (const k of Object.keys(schema)) {
    if (!GEMINI_KEYWORDS.has(k)) out.push(`${path}: \`${k}\``);
  }
  const type = schema.type;
  if (typeof type !== 'string' || !GEMINI_TYPES.has(type.toLowerCase())) {
    out.push(`${path}: type ${JSON.stringify(type)} (one type name per schema)`);
  }
  if ('enum' in schema) {
    if (type !== 'string') out.push(`${path}: enum on a ${type}, not a string`);
    if (!Array.isArray(schema.enum) || schema.enum.some((v) => typeof v !== 'string' || v === '')) {
      out.push(`${path}: enum values must be non-empty strings`);
    }
  }
  if (type === 'array') {
    if (!schema.items) out.push(`${path}: an array without items`);
    else geminiRefusals(schema.items, `${path}.items`, out);
  }
  if (schema.properties !== undefined) {
    if (type !== 'object') out.push(`${path}: properties on a ${type}`);
    for (const [name, sub] of Object.entries(schema.properties)) {
      geminiRefusals(sub, `${path}.${name}`, out);
    }
  }
  for (const r of schema.required ?? []) {
    if (!(r in (schema.properties ?? {}))) out.push(`${path}: required \`${r}\` is not a property`);
  }
  return out;
}

/** A function name OpenAI and Anthropic accept (Gemini's rule is wider: it also takes `.`). */
const NAME = /^[a-zA-Z0-9_-]{1,64}$/;

/** The keywords no provider accepts at the root of a function's parameters. */
const ROOT_COMBINATORS = ['anyOf', 'oneOf', 'allOf', 'not', 'enum', 'const'];

let client;
let tools;
const ajv = new Ajv2020({ strict: false, validateFormats: false });

before(async () => {
  client = new Client({ name: 'proxmox-mcp-e2e-converters', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(URL_)));
  tools = [];
  let cursor;
  do {
    const page = await client.listTools(cursor ? { cursor } : {});
    tools.push(...page.tools);
    cursor = page.nextCursor;
  } while (cursor);
});

after(async () => {
  await client?.close();
});

/** The MCP tools as LangChain tools, their JSON Schema as the tool's schema. */
function langchainTools() {
  return tools.map((t) =>
    tool(async () => '', { name: t.name, description: t.description, schema: t.inputSchema }),
  );
}

/** `converted` keeps every parameter of `input` and which are required. */
function keepsParameters(name, input, converted) {
  assert.deepEqual(
    Object.keys(converted?.properties ?? {}).sort(),
    Object.keys(input.properties ?? {}).sort(),
    `${name}: parameters lost or added`,
  );
  assert.deepEqual(
    [...(converted?.required ?? [])].sort(),
    [...(input.required ?? [])].sort(),
    `${name}: required parameters changed`,
  );
}

test('the server lists every toolset', () => {
  assert.ok(tools.length >= 40, `only ${tools.length} tools: is --toolsets all set?`);
});

test('the Gemini check refuses what Gemini refuses', () => {
  const bad = {
    type: 'object',
    properties: {
      a: { anyOf: [{ type: 'string' }, { type: 'null' }] },
      b: { type: ['string', 'null'] },
      c: { const: 'x' },
      d: { type: 'integer', exclusiveMinimum: 0 },
      e: { type: 'object', additionalProperties: false, properties: {} },
      f: { type: 'array' },
    },
  };
  const found = geminiRefusals(bad).join('\n');
  for (const k of ['`anyOf`', 'type ["string","null"]', '`const`', '`exclusiveMinimum`',
    '`additionalProperties`', 'an array without items']) {
    assert.ok(found.includes(k), `${k} not caught:\n${found}`);
  }
  const good = { type: 'object', properties: { s: { type: 'string', enum: ['a', 'b'] } } };
  assert.deepEqual(geminiRefusals(good), []);
});

test('Google Gemini (@langchain/google-genai): every declaration in Gemini\'s subset', () => {
  const model = new ChatGoogleGenerativeAI({ model: 'gemini-2.5-flash', apiKey: 'offline' });
  const out = model.invocationParams({ tools: langchainTools() }).tools;
  const decls = out.flatMap((t) => t.functionDeclarations ?? []);
  assert.equal(decls.length, tools.length, 'one declaration per tool');
  const refusals = [];
  for (const [i, d] of decls.entries()) {
    const t = tools[i];
    assert.equal(d.name, t.name);
    assert.match(d.name, /^[a-zA-Z_][a-zA-Z0-9_.-]{0,63}$/, `${d.name}: a name Gemini refuses`);
    if (d.parameters === undefined) {
      // A tool without parameters is declared without them.
      assert.deepEqual(Object.keys(t.inputSchema.properties ?? {}), [], `${t.name} lost its parameters`);
      continue;
    }
    keepsParameters(t.name, t.inputSchema, d.parameters);
    refusals.push(...geminiRefusals(d.parameters, t.name));
  }
  assert.deepEqual(refusals, [], `Gemini would refuse:\n${refusals.join('\n')}`);
});

test('OpenAI (@langchain/openai): every function an object schema OpenAI accepts', () => {
  const model = new ChatOpenAI({ model: 'gpt-4o', apiKey: 'offline' });
  const out = model.invocationParams({ tools: langchainTools() }).tools;
  assert.equal(out.length, tools.length, 'one function per tool');
  for (const [i, f] of out.entries()) {
    const t = tools[i];
    assert.equal(f.type, 'function');
    assert.equal(f.function.name, t.name);
    assert.match(f.function.name, NAME);
    const p = f.function.parameters;
    assert.equal(p.type, 'object', `${t.name}: parameters must be an object schema`);
    for (const k of ROOT_COMBINATORS) assert.ok(!(k in p), `${t.name}: \`${k}\` at the root`);
    keepsParameters(t.name, t.inputSchema, p);
    assert.doesNotThrow(() => ajv.compile(p), `${t.name}: not a valid JSON Schema`);
  }
});

test('Anthropic (@langchain/anthropic): every input_schema an object schema Anthropic accepts', () => {
  const model = new ChatAnthropic({ model: 'claude-sonnet-4-5', apiKey: 'offline' });
  const out = model.invocationParams({ tools: langchainTools() }).tools;
  assert.equal(out.length, tools.length, 'one tool per tool');
  for (const [i, a] of out.entries()) {
    const t = tools[i];
    assert.equal(a.name, t.name);
    assert.match(a.name, NAME);
    assert.ok(typeof a.description === 'string' && a.description.length > 0, `${t.name}: description`);
    const s = a.input_schema;
    assert.equal(s.type, 'object', `${t.name}: input_schema must be an object schema`);
    for (const k of ROOT_COMBINATORS) assert.ok(!(k in s), `${t.name}: \`${k}\` at the root`);
    keepsParameters(t.name, t.inputSchema, s);
    assert.doesNotThrow(() => ajv.compile(s), `${t.name}: not a valid JSON Schema`);
  }
});
