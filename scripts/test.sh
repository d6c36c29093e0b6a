#!/usr/bin/env bash
# The whole test suite, as the README gives it and CI runs it: Rust unit and integration tests
# (real servers on 127.0.0.1:0), then end-to-end tests with third-party clients when present.
set -euo pipefail
cd "$(dirname "$0")/.."

# The OpenSSH client: pve-sim's tests check that a real `ssh` interoperates with its SSH server.
if ! command -v ssh >/dev/null 2>&1; then
  echo "== apt-get install openssh-client"
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssh-client
fi

# The Kubernetes manifests render (kubectl; Debian's kubernetes-client when missing) and
# validate against the Kubernetes schema (kubernetes-validate from PyPI); the it test
# tests/it/kubernetes.rs then requires both tools.
echo "== Kubernetes manifests"
packaging/kubernetes/check.sh
export PROXMOX_MCP_REQUIRE_K8S_TOOLS=1

echo "== cargo test (workspace)"
cargo test --workspace --locked

# The fuzz targets (fuzz/, a workspace of its own), a few seconds each: see bench/README.md.
echo "== fuzz targets, smoke run"
scripts/fuzz.sh --smoke

# The soak run, a few seconds against the debug server: see bench/README.md.
echo "== soak, smoke run"
cargo run -q -p proxmox-mcp-bench --bin soak -- --seconds 5 --sample-seconds 1 --debug

if [ -x e2e/run.sh ]; then
  echo "== end-to-end clients"
  e2e/run.sh
fi
