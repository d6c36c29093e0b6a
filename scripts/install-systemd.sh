#!/bin/sh
# Installs proxmox-mcp as a systemd service (run as root from the repository root):
#   cargo build --profile dist --locked -p proxmox-mcp
#   sudo scripts/install-systemd.sh [path/to/proxmox-mcp]
# Installs the binary, the unit and (only when absent) an example config and an empty token
# secret file; never overwrites your config or secret. It does not start the service.
set -eu

BIN=${1:-target/dist/proxmox-mcp}
PREFIX=${PREFIX:-/usr/local}
ETC=${ETC:-/etc/proxmox-mcp}
UNIT_DIR=${UNIT_DIR:-/etc/systemd/system}

if [ ! -x "$BIN" ]; then
    echo "no binary at $BIN: run 'cargo build --profile dist --locked -p proxmox-mcp' first, or pass its path" >&2
    exit 1
fi

install -D -m 0755 "$BIN" "$PREFIX/bin/proxmox-mcp"
install -D -m 0644 packaging/systemd/proxmox-mcp.service "$UNIT_DIR/proxmox-mcp.service"
install -D -m 0644 docs/install.md "$PREFIX/share/doc/proxmox-mcp/install.md"
install -d -m 0755 "$ETC"
if [ ! -e "$ETC/config.toml" ]; then
    install -m 0644 packaging/config/proxmox-mcp.example.toml "$ETC/config.toml"
    echo "wrote $ETC/config.toml: edit [cluster] and add [[keys]] (proxmox-mcp keys new)"
fi
if [ ! -e "$ETC/pve_token_value" ]; then
    install -m 0600 /dev/null "$ETC/pve_token_value"
    echo "created $ETC/pve_token_value (empty, mode 0600): put the PVE token secret in it"
fi
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
    systemctl daemon-reload
fi
cat <<MSG
Installed. Next:
  proxmox-mcp doctor --config $ETC/config.toml   # needs PROXMOX_TOKEN_VALUE_FILE=$ETC/pve_token_value
  systemctl enable --now proxmox-mcp
  journalctl -u proxmox-mcp -f
MSG
