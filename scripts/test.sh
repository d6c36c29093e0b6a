#!/usr/bin/env bash
# The whole test suite, as the README gives it and CI runs it: Rust unit and integration tests
# (real servers on 127.0.0.1:0), then end-to-end tests with third-party clients when present.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== cargo test (workspace)"
cargo test --workspace --locked

if [ -x e2e/run.sh ]; then
  echo "== end-to-end clients"
  e2e/run.sh
fi
