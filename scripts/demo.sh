#!/usr/bin/env bash
# ckpt demo: crash a computation with SIGKILL, restart it, and get the same answer.
#
# ckpt-heat (examples/heat) runs a deterministic heat-diffusion simulation whose grids
# live in a ckpt arena and takes a checkpoint every few steps. This script:
#   1. runs it once without interruption in a scratch store: the reference checksum;
#   2. runs it on the demo store and kills it with SIGKILL mid-run, three times,
#      restarting it each time (it resumes from its latest checkpoint);
#   3. lets the last restart finish and compares its checksum with the reference;
#   4. lists and verifies the demo store with the ckpt CLI;
#   5. the hot-spare act (scripts/demo-hot-spare.sh): ckpt-kv primary + spare, writes,
#      SIGKILL of the primary, the spare serves every acknowledged key.
#
# Run it with `make demo` (which builds first) or directly after a build.
# Environment: DEMO_STORE (default ./demo-store), BUILD_DIR (default ./build).
set -euo pipefail

cd "$(dirname "$0")/.."
BIN="${BUILD_DIR:-$PWD/build}/bin"
STORE="${DEMO_STORE:-$PWD/demo-store}"
SIZE=512 STEPS=400 EVERY=20 KILLS=3
HEAT=("$BIN/ckpt-heat" --size "$SIZE" --steps "$STEPS" --every "$EVERY")

for tool in ckpt ckpt-heat ckpt-kv; do
  [[ -x "$BIN/$tool" ]] || { echo "demo: $BIN/$tool is missing; run 'make build' first" >&2; exit 1; }
done

REF_STORE="$(mktemp -d /var/tmp/ckpt-demo-ref.XXXXXX)"
LOG="$(mktemp /var/tmp/ckpt-demo-log.XXXXXX)"
PID=""
cleanup() {
  [[ -n "$PID" ]] && kill -KILL "$PID" 2>/dev/null || true
  rm -rf "$REF_STORE" "$LOG"
}
trap cleanup EXIT

section() { printf '\n== %s\n' "$*"; }
checksum_of() { awk '$1 == "checksum" { print $2 }' "$1"; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
# Highest "... at step N" progress line ckpt-heat has printed so far (0 if none).
last_step() { { grep -o 'at step [0-9]*' "$1" || echo "at step 0"; } | tail -n 1 | awk '{ print $3 }'; }

section "1. Reference: ${SIZE}x${SIZE} grid, $STEPS steps, checkpoint every $EVERY steps, no crash"
t0=$(now_ms)
"${HEAT[@]}" --store "$REF_STORE" --quiet > "$LOG"
ref_ms=$(( $(now_ms) - t0 ))
REF=$(checksum_of "$LOG")
echo "reference checksum $REF (took ${ref_ms} ms)"

section "2. Crash it: run on $STORE and SIGKILL it mid-run, $KILLS times"
rm -rf "$STORE"
for round in $(seq 1 "$KILLS"); do
  # Let each run get a quarter further than the last, then kill it at a random instant
  # 0-300 ms later: mid-step or mid-checkpoint, never after the end.
  target=$(( STEPS * round / (KILLS + 1) ))
  "${HEAT[@]}" --store "$STORE" > "$LOG" 2>&1 &
  PID=$!
  until [[ $(last_step "$LOG") -ge $target ]]; do
    kill -0 "$PID" 2>/dev/null || { echo "demo: ckpt-heat exited early:" >&2; cat "$LOG" >&2; exit 1; }
    sleep 0.05
  done
  sleep "0.$(printf '%03d' $((RANDOM % 300)))"
  kill -0 "$PID" 2>/dev/null || { echo "demo: ckpt-heat finished before the kill" >&2; exit 1; }
  kill -KILL "$PID"
  rc=0; wait "$PID" 2>/dev/null || rc=$?
  PID=""
  [[ $rc -eq 137 ]] || { echo "demo: expected exit status 137 (SIGKILL), got $rc" >&2; exit 1; }
  echo "-- round $round: SIGKILLed; its last words were:"
  tail -n 2 "$LOG" | sed 's/^/     /'
done
echo "-- what the store holds now (oldest and newest checkpoints):"
"$BIN/ckpt" --store "$STORE" ls > "$LOG"
head -n 3 "$LOG"; echo "..."; tail -n 2 "$LOG"

section "3. Restart: resume from the latest checkpoint and finish"
"${HEAT[@]}" --store "$STORE" > "$LOG" 2>&1
grep -E '^resumed' "$LOG" || true
GOT=$(checksum_of "$LOG")
echo "restarted checksum $GOT"

section "4. Compare with the reference"
if [[ -n "$REF" && "$GOT" == "$REF" ]]; then
  echo "MATCH: the crashed-and-restarted run computed exactly the reference result"
else
  echo "MISMATCH: reference '$REF', restarted '$GOT'" >&2
  exit 1
fi

section "5. Inspect the store with the ckpt CLI"
"$BIN/ckpt" --store "$STORE" ls
"$BIN/ckpt" --store "$STORE" verify

scripts/demo-hot-spare.sh

echo
echo "demo OK. The store is left in $STORE; try: $BIN/ckpt --store $STORE ls"
