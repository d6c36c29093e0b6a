#!/usr/bin/env bash
# End-to-end test of pve-client's SSH against a real OpenSSH server (Debian's openssh-server,
# installed with apt-get when sshd is missing and we are root, as the browser test installs
# Chromium). Everything lives in a temp dir: host keys (ed25519, RSA), client keys (ed25519,
# ECDSA, RSA, and an ed25519 key with a passphrase), authorized_keys, known_hosts (plain and
# hashed), and an sshd_config for `sshd -D` on a free 127.0.0.1 port, run as the current user.
# The sessions get PATH=<tmp>/bin first, holding e2e/ssh/pct: a stand-in `pct` that records its
# argv, its connection and a SIGHUP, and answers like `pct exec`. Then the #[ignore]d tests of
# crates/pve-client/tests/it/openssh.rs (the SSH client) and of
# crates/proxmox-mcp/tests/it/openssh_tool.rs (execute_container_command through the server's
# REST door, the simulator as the API) run against it (PVE_SSH_E2E names the temp dir).
# Ends with the plain line "N passed, M failed, K skipped".
set -euo pipefail

SSH_E2E="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$SSH_E2E/../.." && pwd)"
say() { echo "== e2e/ssh: $*"; }

SSHD="${SSHD:-/usr/sbin/sshd}"
if [ ! -x "$SSHD" ]; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    say "installing openssh-server (apt-get)"
    # The package must not start a system sshd on port 22: without a policy-rc.d, add one that
    # forbids service starts for the install (Debian's documented switch) and remove it after.
    POLICY=/usr/sbin/policy-rc.d
    ADDED_POLICY=""
    if [ ! -e "$POLICY" ]; then
      printf '#!/bin/sh\nexit 101\n' >"$POLICY"
      chmod +x "$POLICY"
      ADDED_POLICY=1
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends openssh-server >/dev/null
    if [ -n "$ADDED_POLICY" ]; then rm -f "$POLICY"; fi
  else
    echo "e2e/ssh: $SSHD is missing (apt-get install openssh-server, or set SSHD)" >&2
    echo "0 passed, 0 failed, 1 skipped"
    exit 0
  fi
fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/proxmox-mcp-ssh.XXXXXX")"
SSHD_PID=""
cleanup() {
  if [ -n "$SSHD_PID" ]; then
    kill "$SSHD_PID" 2>/dev/null || true
    wait "$SSHD_PID" 2>/dev/null || true
  fi
  if [ -n "${E2E_KEEP:-}" ]; then echo "e2e/ssh: files kept in $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Keys.
keygen() { ssh-keygen -q -t "$1" ${3:+-b "$3"} -N "${4:-}" -C "$2" -f "$WORK/$2"; }
keygen ed25519 host_ed25519
keygen rsa host_rsa 3072
keygen ed25519 id_ed25519
keygen ecdsa id_ecdsa 256
keygen rsa id_rsa 3072
PASSPHRASE="e2e-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
keygen ed25519 id_ed25519_pass "" "$PASSPHRASE"
printf '%s\n' "$PASSPHRASE" >"$WORK/passphrase"
keygen ed25519 id_stranger # a key sshd does not know
cat "$WORK"/id_ed25519.pub "$WORK"/id_ecdsa.pub "$WORK"/id_rsa.pub "$WORK"/id_ed25519_pass.pub \
  >"$WORK/authorized_keys"
chmod 600 "$WORK/authorized_keys"

# The stand-in pct and the directories the sessions use.
mkdir -p "$WORK/bin" "$WORK/log" "$WORK/home"
cp "$SSH_E2E/pct" "$WORK/bin/pct"
chmod 755 "$WORK/bin/pct"

PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
echo "$PORT" >"$WORK/port"
id -un >"$WORK/user"

# HOME points into the temp dir so the login shell reads no personal rc file (whose output would
# mix with the commands'); PATH puts the stand-in pct first.
cat >"$WORK/sshd_config" <<EOF
Port $PORT
ListenAddress 127.0.0.1
HostKey $WORK/host_ed25519
HostKey $WORK/host_rsa
PidFile $WORK/sshd.pid
AuthorizedKeysFile $WORK/authorized_keys
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
UsePAM no
StrictModes no
UseDNS no
PrintMotd no
PrintLastLog no
MaxSessions 10
LogLevel VERBOSE
SetEnv PATH=$WORK/bin:/usr/local/bin:/usr/bin:/bin HOME=$WORK/home PCT_STANDIN_LOG=$WORK/log
EOF

# sshd's privilege separation directory (root only; Debian's service creates it at boot).
if [ "$(id -u)" -eq 0 ]; then mkdir -p /run/sshd && chmod 755 /run/sshd; fi
"$SSHD" -t -f "$WORK/sshd_config"
"$SSHD" -D -e -f "$WORK/sshd_config" >"$WORK/sshd.log" 2>&1 &
SSHD_PID=$!
echo "$SSHD_PID" >"$WORK/sshd.listener"
up=""
for _ in $(seq 1 100); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then up=1; break; fi
  if ! kill -0 "$SSHD_PID" 2>/dev/null; then break; fi
  sleep 0.1
done
if [ -z "$up" ]; then
  echo "e2e/ssh: sshd did not come up; its log:" >&2
  tail -n 20 "$WORK/sshd.log" >&2 || true
  echo "0 passed, 1 failed, 0 skipped"
  exit 1
fi

# What a careful admin would hold: known_hosts lines for the node, plain and hashed.
printf '[127.0.0.1]:%s %s\n' "$PORT" "$(cut -d' ' -f1,2 "$WORK/host_ed25519.pub")" >"$WORK/known_hosts"
printf '[127.0.0.1]:%s %s\n' "$PORT" "$(cut -d' ' -f1,2 "$WORK/host_rsa.pub")" >"$WORK/known_hosts_rsa"
cp "$WORK/known_hosts" "$WORK/known_hosts_hashed"
ssh-keygen -q -H -f "$WORK/known_hosts_hashed" >/dev/null 2>&1
rm -f "$WORK/known_hosts_hashed.old"
for k in host_ed25519 host_rsa; do
  ssh-keygen -l -E sha256 -f "$WORK/$k.pub" | awk '{print $2}' >"$WORK/$k.fingerprint"
done
say "$("$SSHD" -V 2>&1 | head -n 1) on 127.0.0.1:$PORT as $(id -un), host key $(cat "$WORK/host_ed25519.fingerprint")"

# The #[ignore]d tests of one package's `it` binary whose names start with `$2`; adds to the
# totals.
passed_total=0
failed_total=0
run_tests() {
  local pkg="$1" filter="$2" out="$WORK/cargo-test-$1.out" status=0 line passed failed
  (cd "$ROOT" && PVE_SSH_E2E="$WORK" cargo test -p "$pkg" --locked --test it -- "$filter" \
    --ignored --test-threads=1) 2>&1 | tee "$out" || status=$?
  line="$(grep -E '^test result: ' "$out" | tail -n 1 || true)"
  if [ -z "$line" ]; then
    echo "e2e/ssh: the $pkg tests did not run (exit $status); sshd log (tail):" >&2
    tail -n 30 "$WORK/sshd.log" >&2 || true
    failed_total=$((failed_total + 1))
    return
  fi
  passed="$(sed -n 's/.* \([0-9]*\) passed.*/\1/p' <<<"$line")"
  failed="$(sed -n 's/.* \([0-9]*\) failed.*/\1/p' <<<"$line")"
  if [ "$status" -ne 0 ] && [ "${failed:-0}" -eq 0 ]; then failed=1; fi
  if [ "${failed:-0}" -ne 0 ]; then
    echo "e2e/ssh: sshd log (tail):" >&2
    tail -n 30 "$WORK/sshd.log" >&2 || true
  fi
  passed_total=$((passed_total + ${passed:-0}))
  failed_total=$((failed_total + ${failed:-0}))
}

# pve-client's SSH client, then the server's execute_container_command through its REST door.
run_tests pve-client openssh::
run_tests proxmox-mcp openssh_tool::
echo "$passed_total passed, $failed_total failed, 0 skipped"
[ "$failed_total" -eq 0 ]
