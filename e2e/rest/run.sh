#!/usr/bin/env bash
# The REST door's end-to-end checks, each against a fresh server over the demo simulator:
#   run_schemathesis.sh  schemathesis on /openapi.json (no 5xx, answers match their schemas)
#   run_docs_browser.sh  headless Chromium on /docs with no network (lists tools, Try it works)
# Ends with the plain line "N passed, M failed, K skipped" (the sum of both) and exits non-zero
# on any failure. E2E_BIN=path skips the build.
set -uo pipefail
DIR="$(cd "$(dirname "$0")" && pwd)"
PASSED=0 FAILED=0 SKIPPED=0
for script in run_schemathesis.sh run_docs_browser.sh; do
  out="$(mktemp)"
  "$DIR/$script" 2>&1 | tee "$out"
  line="$(grep -E '^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$' "$out" | tail -n 1)"
  rm -f "$out"
  if [ -z "$line" ]; then
    echo "e2e/rest: $script gave no summary line" >&2
    FAILED=$((FAILED + 1))
    continue
  fi
  read -r p _ f _ s _ <<<"$line"
  PASSED=$((PASSED + p)) FAILED=$((FAILED + f)) SKIPPED=$((SKIPPED + s))
done
echo "$PASSED passed, $FAILED failed, $SKIPPED skipped"
[ "$FAILED" -eq 0 ]
