# Shared by the REST door's end-to-end scripts (sourced): locate or build the binary, start a
# fresh demo cluster and a server with the REST door on a free port, stop them.
# Sets BIN, REST_URL, SERVER_PID, SIM_PID.

REST_E2E="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$REST_E2E/../.." && pwd)"
SERVER_PID=""
SIM_PID=""

say() { echo "== e2e/rest: $*"; }

# find_bin: the proxmox-mcp binary ($E2E_BIN, or a debug build of the workspace).
find_bin() {
  if [ -n "${E2E_BIN:-}" ]; then
    BIN="$E2E_BIN"
    return
  fi
  say "building proxmox-mcp"
  (cd "$ROOT" && cargo build -p proxmox-mcp --locked --quiet)
  local target
  target="$(cd "$ROOT" && cargo metadata --format-version 1 --no-deps --locked |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
  BIN="$target/debug/proxmox-mcp"
}

# start_server DIR [ENV=VALUE...]: the demo simulator (`proxmox-mcp sim`, task durations scaled by
# $E2E_TIME_SCALE, default 0.05: the realistic durations, twenty times faster) and a server
# managing it through the ordinary client (token, pinned certificate), MCP and REST on 127.0.0.1
# free ports. Logs go to DIR. Sets REST_URL once the REST door answers.
start_server() {
  local dir=$1 i port="" fp="" secret
  shift
  secret="$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
  # The logs exist before the processes start: the background shell may open them after the
  # first poll below, and a failed read would end the script (set -e, pipefail).
  : >"$dir/sim.log"
  : >"$dir/server.log"
  "$BIN" sim --listen 127.0.0.1:0 --time-scale "${E2E_TIME_SCALE:-0.05}" \
    --api-token "root@pam!e2e=$secret" >"$dir/sim.log" 2>&1 &
  SIM_PID=$!
  for i in $(seq 1 300); do
    port="$(sed -n 's|.*listening on https://127\.0\.0\.1:\([0-9]*\)/api2/json.*|\1|p' "$dir/sim.log" | head -n 1)"
    fp="$(sed -n 's|^certificate SHA-256 fingerprint: \([0-9A-F:]*\).*|\1|p' "$dir/sim.log" | head -n 1)"
    if [ -n "$port" ] && [ -n "$fp" ]; then break; fi
    if ! kill -0 "$SIM_PID" 2>/dev/null; then break; fi
    sleep 0.1
  done
  if [ -z "$port" ] || [ -z "$fp" ]; then
    echo "e2e/rest: the simulator did not come up; its output:" >&2
    tail -n 20 "$dir/sim.log" >&2 || true
    stop_server
    return 1
  fi
  env PROXMOX_HOST=127.0.0.1 PROXMOX_PORT="$port" PROXMOX_USER=root@pam PROXMOX_TOKEN_NAME=e2e \
    PROXMOX_TOKEN_VALUE="$secret" PROXMOX_FINGERPRINT="$fp" "$@" \
    "$BIN" serve --mcp-listen 127.0.0.1:0 --rest-listen 127.0.0.1:0 >"$dir/server.log" 2>&1 &
  SERVER_PID=$!
  REST_URL=""
  for i in $(seq 1 600); do
    if [ -z "$REST_URL" ]; then
      REST_URL="$(sed -n 's|.*REST listening on \(http://127\.0\.0\.1:[0-9]*\).*|\1|p' "$dir/server.log" | head -n 1)"
    fi
    if [ -n "$REST_URL" ] && curl -sf -o /dev/null -m 2 "$REST_URL/openapi.json"; then
      return 0
    fi
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then break; fi
    sleep 0.1
  done
  echo "e2e/rest: the server did not come up; its output:" >&2
  tail -n 40 "$dir/server.log" >&2 || true
  stop_server
  return 1
}

stop_server() {
  local pid
  for pid in "$SERVER_PID" "$SIM_PID"; do
    if [ -n "$pid" ]; then
      kill "$pid" 2>/dev/null || true
      { wait "$pid"; } 2>/dev/null || true
    fi
  done
  SERVER_PID=""
  SIM_PID=""
}
