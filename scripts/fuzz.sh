#!/usr/bin/env bash
# Runs every fuzz target in fuzz/ (cargo-fuzz, libFuzzer) for a set time each and reports the
# executions and crashes per target; exits non-zero on a crash. Stable Rust is enough: the
# targets are built with `--sanitizer none`, which passes no -Z flag to rustc (Rust's code is
# memory-safe; what the targets look for is panics, overflows and broken properties).
#
#   scripts/fuzz.sh                 every target, 300 s each
#   scripts/fuzz.sh --time 60       every target, 60 s each
#   scripts/fuzz.sh --smoke         every target, 3 s each (the test command runs this)
#   scripts/fuzz.sh sim_params ...  only these targets
#
# New inputs go to fuzz/target/fuzz-run/<target>/ (not the committed seeds in fuzz/corpus/);
# a crash is saved under fuzz/artifacts/<target>/ and replays with
#   fuzz/target/x86_64-unknown-linux-gnu/release/<target> fuzz/artifacts/<target>/crash-...
set -euo pipefail
cd "$(dirname "$0")/../fuzz"

CARGO_FUZZ_VERSION=0.13.2
SECONDS_EACH=300
TARGETS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --smoke) SECONDS_EACH=3 ;;
    --time) SECONDS_EACH="$2"; shift ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    -*) echo "unknown option $1" >&2; exit 2 ;;
    *) TARGETS+=("$1") ;;
  esac
  shift
done

if [ "$(cargo fuzz --version 2>/dev/null | awk '{print $2}')" != "$CARGO_FUZZ_VERSION" ]; then
  echo "== cargo install cargo-fuzz@$CARGO_FUZZ_VERSION"
  cargo install --locked "cargo-fuzz@$CARGO_FUZZ_VERSION"
fi

TRIPLE="$(rustc -vV | sed -n 's/^host: //p')"
echo "== cargo fuzz build --sanitizer none (release, debug assertions and overflow checks on)"
cargo fuzz build --sanitizer none --target "$TRIPLE"

if [ ${#TARGETS[@]} -eq 0 ]; then
  mapfile -t TARGETS < <(cargo fuzz list)
fi

BIN="target/$TRIPLE/release"
RUN="target/fuzz-run"
total=0
crashed=()
rows=()
for t in "${TARGETS[@]}"; do
  [ -x "$BIN/$t" ] || { echo "no such fuzz target: $t" >&2; exit 2; }
  mkdir -p "$RUN/$t" "artifacts/$t"
  log="$RUN/$t.log"
  echo "== $t (${SECONDS_EACH} s)"
  started=$SECONDS
  set +e
  "$BIN/$t" "$RUN/$t" "corpus/$t" \
    -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 -max_len=8192 \
    -artifact_prefix="artifacts/$t/" -print_final_stats=1 >"$log" 2>&1
  rc=$?
  set -e
  took=$((SECONDS - started))
  execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)"
  execs="${execs:-0}"
  rate="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)"
  total=$((total + execs))
  corpus="$(find "$RUN/$t" -type f | wc -l)"
  if [ "$rc" -eq 0 ]; then
    result="ok"
  else
    result="CRASH (exit $rc): $(ls -t "artifacts/$t" 2>/dev/null | head -1)"
    crashed+=("$t")
    grep -m1 -A4 -E "panicked at|ERROR: libFuzzer" "$log" | sed 's/^/    /' || true
  fi
  rows+=("$(printf '%-20s %8s s %14s %12s/s %8s  %s' "$t" "$took" "$execs" "${rate:-0}" \
    "$corpus" "$result")")
done

echo
printf '%-20s %10s %14s %14s %8s  %s\n' target time executions rate corpus result
printf '%s\n' "${rows[@]}"
echo "total executions: $total"
if [ ${#crashed[@]} -gt 0 ]; then
  echo "crashed: ${crashed[*]} (inputs under fuzz/artifacts/, logs under fuzz/$RUN/)" >&2
  exit 1
fi
