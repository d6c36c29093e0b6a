#!/usr/bin/env bash
# Independent Proxmox VE clients from PyPI, run unmodified against the simulator
# (`proxmox-mcp sim`): proxmoxer (token and ticket auth, guests from create to delete, tasks,
# errors) and prometheus-pve-exporter (a full scrape checked against the simulator's state).
# Dependencies install from requirements.txt into e2e/pve-clients/.venv, once per lock change.
# Ends with the plain line "N passed, M failed, K skipped"; exits non-zero on any failure.
# E2E_BIN=path skips the build.
set -uo pipefail
DIR="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$DIR/../.." && pwd)"
say() { echo "== e2e/pve-clients: $*"; }
sha() { sha256sum "$1" | cut -d' ' -f1; }

if [ -z "${E2E_BIN:-}" ]; then
  say "building proxmox-mcp"
  (cd "$ROOT" && cargo build -p proxmox-mcp --locked --quiet) || { echo "0 passed, 1 failed, 0 skipped"; exit 1; }
  TARGET="$(cd "$ROOT" && cargo metadata --format-version 1 --no-deps --locked |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
  E2E_BIN="$TARGET/debug/proxmox-mcp"
fi
export E2E_BIN

cd "$DIR"
if [ "$(cat .venv/.e2e-req.sha256 2>/dev/null)" != "$(sha requirements.txt)" ]; then
  say "pip install -r requirements.txt (into e2e/pve-clients/.venv)"
  { [ -x .venv/bin/python ] || python3 -m venv .venv; } &&
    .venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps -r requirements.txt &&
    .venv/bin/python -m pip check --disable-pip-version-check &&
    sha requirements.txt >.venv/.e2e-req.sha256 ||
    { echo "e2e/pve-clients: installing the clients failed" >&2; echo "0 passed, 1 failed, 0 skipped"; exit 1; }
fi
say "proxmoxer $(.venv/bin/python -c 'import proxmoxer; print(proxmoxer.__version__)')," \
  "prometheus-pve-exporter $(.venv/bin/python -c 'import importlib.metadata as m; print(m.version("prometheus-pve-exporter"))')"

REPORT="$(mktemp "${TMPDIR:-/tmp}/pve-clients.XXXXXX.xml")"
.venv/bin/python -m pytest -q -p no:cacheprovider --junit-xml="$REPORT" \
  -o junit_suite_name=pve-clients test_proxmoxer.py test_exporter.py
read -r PASSED FAILED SKIPPED <<<"$(python3 "$DIR/../tally.py" junit "$REPORT")"
rm -f "$REPORT"
echo "$PASSED passed, $FAILED failed, $SKIPPED skipped"
[ "$FAILED" -eq 0 ]
