#!/usr/bin/env bash
# Property-based check of the REST door with schemathesis (pinned in e2e/rest/requirements.txt):
# reads /openapi.json of a fresh server over the demo simulator (see common.sh), calls every operation with generated
# arguments (valid and invalid; destructive tools included: it is the demo simulator), and fails
# on any 5xx answer (not_a_server_error) or any answer that breaks its documented schema
# (response_schema_conformance). Examples per operation: $ST_MAX_EXAMPLES (default 30; about 45 s).
# Ends with "N passed, M failed, K skipped" (one test: the schemathesis run) and exits non-zero on failure.
set -euo pipefail
source "$(dirname "$0")/common.sh"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/proxmox-mcp-rest-st.XXXXXX")"
cleanup() {
  stop_server
  if [ -n "${E2E_KEEP:-}" ]; then echo "e2e/rest: reports kept in $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

find_bin

VENV="$REST_E2E/.venv"
REQ="$REST_E2E/requirements.txt"
if [ "$(cat "$VENV/.req.sha256" 2>/dev/null)" != "$(sha256sum "$REQ" | cut -d' ' -f1)" ]; then
  say "pip install -r requirements.txt (into e2e/rest/.venv)"
  [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps -r "$REQ"
  "$VENV/bin/python" -m pip check --disable-pip-version-check
  sha256sum "$REQ" | cut -d' ' -f1 >"$VENV/.req.sha256"
fi

start_server "$WORK"
say "schemathesis $("$VENV/bin/schemathesis" --version | awk '{print $NF}') against $REST_URL/openapi.json"
status=0
cd "$WORK" # schemathesis keeps a cache (.schemathesis/) in the current directory
"$VENV/bin/schemathesis" run "$REST_URL/openapi.json" \
  --checks not_a_server_error,response_schema_conformance \
  --max-examples "${ST_MAX_EXAMPLES:-30}" --seed "${ST_SEED:-20261124}" \
  --workers "${ST_WORKERS:-1}" --request-timeout 60 --warnings off \
  --report junit --report-junit-path "$WORK/schemathesis.xml" || status=$?
if [ "$status" -ne 0 ]; then
  echo "e2e/rest: schemathesis failed; server output (tail):" >&2
  tail -n 30 "$WORK/server.log" >&2 || true
  echo "0 passed, 1 failed, 0 skipped"
  exit 1
fi
echo "1 passed, 0 failed, 0 skipped"
