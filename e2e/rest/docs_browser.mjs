// Browser test of the REST door's docs page: headless Chromium, driven over its DevTools protocol
// (no npm package: Node's WebSocket), opens /docs of a running server with every request outside
// 127.0.0.1 refused, and checks that the page lists every tool (get_vms among them), that "Try it"
// answers 401 with a wrong key and 200 with the right one, and that the page logs no error.
// Saves a screenshot. Usage: node docs_browser.mjs REST_URL API_KEY SCREENSHOT.png
// Prints one "ok"/"not ok" line per check, then "N passed, M failed, 0 skipped"; exits 1 on failure.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

const [restUrl, apiKey, screenshot] = process.argv.slice(2);
if (!restUrl || !apiKey || !screenshot) {
  console.error("usage: node docs_browser.mjs REST_URL API_KEY SCREENSHOT.png");
  process.exit(2);
}
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const results = [];
const check = (name, ok, detail = "") => {
  results.push(ok);
  console.log(`${ok ? "ok" : "not ok"} ${results.length} - ${name}${ok || !detail ? "" : `: ${detail}`}`);
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function until(what, fn, ms = 15000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

// ---- Chromium and a minimal CDP client
const profile = mkdtempSync(join(tmpdir(), "proxmox-mcp-docs-"));
const chrome = spawn(CHROMIUM, [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
  "--disable-default-apps", "--disable-extensions", "--no-default-browser-check",
  "--remote-debugging-port=0", `--user-data-dir=${profile}`, "about:blank",
], { stdio: ["ignore", "ignore", "pipe"] });
let chromeErr = "";
chrome.stderr.on("data", (d) => { chromeErr += d; });

let ws;
let nextId = 1;
const pending = new Map();
const listeners = [];
function send(method, params = {}, sessionId) {
  const id = nextId++;
  ws.send(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }));
  return new Promise((resolve, reject) => pending.set(id, { resolve, reject, method }));
}

async function main() {
  const portFile = join(profile, "DevToolsActivePort");
  await until("Chromium's DevTools port", () => existsSync(portFile) && readFileSync(portFile, "utf8").includes("\n"));
  const [port, path] = readFileSync(portFile, "utf8").split("\n");
  ws = new WebSocket(`ws://127.0.0.1:${port}${path}`);
  await new Promise((resolve, reject) => { ws.onopen = resolve; ws.onerror = reject; });
  ws.onmessage = (ev) => {
    const msg = JSON.parse(ev.data);
    if (msg.id && pending.has(msg.id)) {
      const p = pending.get(msg.id);
      pending.delete(msg.id);
      if (msg.error) p.reject(new Error(`${p.method}: ${msg.error.message}`));
      else p.resolve(msg.result);
    } else if (msg.method) {
      for (const l of listeners) l(msg);
    }
  };

  const { targetId } = await send("Target.createTarget", { url: "about:blank" });
  const { sessionId } = await send("Target.attachToTarget", { targetId, flatten: true });
  const cmd = (m, p) => send(m, p, sessionId);

  // No network: every request that is not to the server on 127.0.0.1 is refused and recorded.
  const origin = new URL(restUrl).origin;
  const outside = [];
  const problems = [];
  listeners.push((msg) => {
    if (msg.sessionId !== sessionId) return;
    if (msg.method === "Fetch.requestPaused") {
      const { requestId, request } = msg.params;
      if (new URL(request.url).origin === origin) cmd("Fetch.continueRequest", { requestId }).catch(() => {});
      else {
        outside.push(request.url);
        cmd("Fetch.failRequest", { requestId, errorReason: "InternetDisconnected" }).catch(() => {});
      }
    } else if (msg.method === "Runtime.exceptionThrown") {
      problems.push(msg.params.exceptionDetails.exception?.description || msg.params.exceptionDetails.text);
    } else if (msg.method === "Log.entryAdded" && msg.params.entry.level === "error") {
      const text = msg.params.entry.text;
      // The 401 of the wrong-key call below is expected in the console; nothing else is.
      if (!/status of 401/.test(text)) problems.push(text);
    } else if (msg.method === "Runtime.consoleAPICalled" && msg.params.type === "error") {
      problems.push(msg.params.args.map((a) => a.value ?? a.description).join(" "));
    }
  });
  await cmd("Fetch.enable", { patterns: [{ urlPattern: "*" }] });
  await cmd("Runtime.enable");
  await cmd("Log.enable");
  await cmd("Page.enable");
  await cmd("Emulation.setDeviceMetricsOverride", { width: 1280, height: 1000, deviceScaleFactor: 1, mobile: false });

  const evaluate = async (expression) => {
    const r = await cmd("Runtime.evaluate", { expression, awaitPromise: true, returnByValue: true });
    if (r.exceptionDetails) throw new Error(`${expression}: ${r.exceptionDetails.text}`);
    return r.result.value;
  };

  await cmd("Page.navigate", { url: `${restUrl}/docs` });
  await until("the tool list", () => evaluate("!!document.querySelector('#tool-get_vms')").catch(() => false));

  const doc = await (await fetch(`${restUrl}/openapi.json`)).json();
  const tools = Object.keys(doc.paths).map((p) => p.slice(1));
  const listed = await evaluate("[...document.querySelectorAll('details.tool')].map(d => d.id.replace('tool-', ''))");
  check("the page lists get_vms", listed.includes("get_vms"), JSON.stringify(listed));
  check("the page lists every tool of openapi.json", JSON.stringify([...listed].sort()) === JSON.stringify([...tools].sort()),
    `listed ${listed.length}, document ${tools.length}`);
  const summary = await evaluate("document.querySelector('#tool-get_vms summary').textContent");
  check("get_vms shows its title and access", /List VMs|virtual machines/i.test(summary) && summary.includes("read"), summary);

  // Try get_vms: first with a wrong key (401 shown), then with the right one (200 and the VMs).
  const tryIt = async (key) => {
    await evaluate(`(() => {
      const d = document.querySelector('#tool-get_vms'); d.open = true;
      const k = document.querySelector('#api-key'); k.value = ${JSON.stringify(key)};
      k.dispatchEvent(new Event('input'));
      document.querySelector('#tool-get_vms .output').replaceChildren();
      document.querySelector('#tool-get_vms button[data-tool=get_vms]').click();
    })()`);
    return until("the response", () => evaluate(`(() => {
      const pre = document.querySelector('#tool-get_vms pre.response');
      return pre ? { status: pre.dataset.status, text: pre.textContent } : null;
    })()`));
  };
  const wrong = await tryIt("not-the-key");
  check("Try it with a wrong key shows 401", wrong.status === "401" && wrong.text.includes("detail"), JSON.stringify(wrong));
  const right = await tryIt(apiKey);
  let body = {};
  try { body = JSON.parse(right.text); } catch (_) { /* checked below */ }
  check("Try it with the key succeeds and shows the VMs", right.status === "200" && body.count > 0 && Array.isArray(body.vms),
    JSON.stringify(right).slice(0, 300));

  check("the page requested nothing outside the server", outside.length === 0, outside.join(", "));
  check("the page logged no error", problems.length === 0, problems.join(" | "));

  // Screenshot from the top of the page: the tool list, get_vms open with its answer.
  await cmd("Emulation.setDeviceMetricsOverride", { width: 1280, height: 1800, deviceScaleFactor: 1, mobile: false });
  await evaluate("window.scrollTo(0, 0)");
  await sleep(300);
  const shot = await cmd("Page.captureScreenshot", { format: "png" });
  mkdirSync(dirname(screenshot), { recursive: true });
  writeFileSync(screenshot, Buffer.from(shot.data, "base64"));
  console.log(`# screenshot: ${screenshot}`);
}

let code = 0;
try {
  await main();
} catch (e) {
  check("the browser session ran to the end", false, e.stack || String(e));
  if (chromeErr) console.error(chromeErr.slice(-2000));
} finally {
  try { ws?.close(); } catch (_) { /* closing anyway */ }
  chrome.kill("SIGTERM");
  await sleep(300);
  rmSync(profile, { recursive: true, force: true });
}
const failed = results.filter((r) => !r).length;
console.log(`${results.length - failed} passed, ${failed} failed, 0 skipped`);
code = failed ? 1 : 0;
process.exit(code);
