#!/bin/sh
# Renders every overlay with `kubectl kustomize` and validates each object against the
# Kubernetes schema (kubernetes-validate, strict: unknown fields fail). Installs what it needs:
# Debian's kubernetes-client when kubectl is missing (as root), the validator from
# requirements.txt into packaging/kubernetes/.venv. Offline once installed; no cluster needed.
# Then `cargo test -p proxmox-mcp --test it kubernetes` finds both (tests/it/kubernetes.rs).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
say() { echo "== packaging/kubernetes: $*"; }
if ! command -v kubectl >/dev/null; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    say "installing kubernetes-client (apt-get)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends kubernetes-client >/dev/null
  else
    echo "packaging/kubernetes: kubectl is missing (apt-get install kubernetes-client)" >&2
    exit 1
  fi
fi
sha() { sha256sum "$1" | cut -d' ' -f1; }
if [ "$(cat "$here/.venv/.req.sha256" 2>/dev/null)" != "$(sha "$here/requirements.txt")" ]; then
  say "pip install -r requirements.txt (into packaging/kubernetes/.venv)"
  [ -x "$here/.venv/bin/python" ] || python3 -m venv "$here/.venv"
  "$here/.venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps -r "$here/requirements.txt"
  sha "$here/requirements.txt" > "$here/.venv/.req.sha256"
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for overlay in "$here"/overlays/*/; do
  name=$(basename "$overlay")
  kubectl kustomize "$overlay" > "$out/$name.yaml" 2>"$out/$name.err" || { cat "$out/$name.err" >&2; exit 1; }
  "$here/.venv/bin/kubernetes-validate" --strict --quiet "$out/$name.yaml"
  say "overlay $name renders and validates ($(grep -c '^kind:' "$out/$name.yaml") objects)"
done
