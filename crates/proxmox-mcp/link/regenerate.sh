#!/usr/bin/env bash
# Regenerates link/hot-text.ld (see its header and ARCHITECTURE.md): builds the release binary
# with its symbols, runs it under valgrind's callgrind against the simulator, drives it with
# exercise.py, and lists every function that ran. Needs valgrind and python3. Run it after
# changes that move code on the start or call paths; a stale list only costs memory.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
work="$(mktemp -d)"
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
cd "$root"
cargo rustc --release -p proxmox-mcp --bin proxmox-mcp -- -C strip=none
cp target/release/proxmox-mcp "$work/proxmox-mcp"
touch crates/proxmox-mcp/src/main.rs # the next build strips again
token='root@pam!hot=00000000-0000-0000-0000-000000000001'
"$work/proxmox-mcp" sim --listen 127.0.0.1:18906 --api-token "$token" --time-scale 0 \
    --cert-out "$work/cert.pem" >"$work/sim.out" 2>"$work/sim.log" &
for _ in $(seq 100); do grep -q 'fingerprint:' "$work/sim.out" 2>/dev/null && break; sleep 0.1; done
fp="$(sed -n 's/.*fingerprint: *//p' "$work/sim.out")"
env -i PROXMOX_HOST=https://127.0.0.1:18906 PROXMOX_USER=root@pam PROXMOX_TOKEN_NAME=hot \
    PROXMOX_TOKEN_VALUE=00000000-0000-0000-0000-000000000001 PROXMOX_FINGERPRINT="$fp" \
    valgrind --tool=callgrind --dump-instr=no --compress-strings=no --demangle=no \
    --callgrind-out-file="$work/callgrind.out" \
    "$work/proxmox-mcp" serve --mcp-listen 127.0.0.1:18912 --rest-listen 127.0.0.1:18911 \
    2>"$work/serve.log" &
serve=$!
for _ in $(seq 600); do grep -q 'REST listening' "$work/serve.log" && break; sleep 0.1; done
python3 "$here/exercise.py" 18912 18911 --initialize-only
callgrind_control --dump=initialized "$serve" >/dev/null
python3 "$here/exercise.py" 18912 18911
kill -INT "$serve"
wait "$serve" || true
python3 "$here/make_script.py" "$here/hot-text.ld" "$work"/callgrind.out.*[0-9] "$work/callgrind.out"
