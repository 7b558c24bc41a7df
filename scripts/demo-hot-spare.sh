#!/usr/bin/env bash
# ckpt demo, hot-spare act: a ckpt-kv primary replicates every checkpoint to a spare;
# clients write keys (each OK means the spare has committed the write); the primary is
# SIGKILLed; the spare takes over and serves every acknowledged key.
# Run by scripts/demo.sh. Environment: BUILD_DIR (default ./build), KV_PORT_BASE (17400).
set -euo pipefail

cd "$(dirname "$0")/.."
BIN="${BUILD_DIR:-$PWD/build}/bin"
BASE="${KV_PORT_BASE:-17400}"
REPL=127.0.0.1:$BASE PRIMARY_PORT=$((BASE + 1)) SPARE_PORT=$((BASE + 2))
KEYS=500
DIR="$(mktemp -d /var/tmp/ckpt-demo-kv.XXXXXX)"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  rm -rf "$DIR"
}
trap cleanup EXIT

# Sends stdin's lines to 127.0.0.1:$1 at once and prints one reply line per request.
ask() {
  local port=$1 lines n reply
  lines=$(cat)
  n=$(printf '%s\n' "$lines" | wc -l)
  exec 3<>"/dev/tcp/127.0.0.1/$port"
  printf '%s\n' "$lines" >&3
  for ((i = 0; i < n; i++)); do read -r -t 10 reply <&3 && echo "$reply"; done
  exec 3>&-
}
wait_port() {
  for _ in $(seq 200); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.05; done
  echo "demo: nothing listens on port $1" >&2; return 1
}

printf '\n== 6. Hot spare: ckpt-kv primary + spare, SIGKILL the primary\n'
"$BIN/ckpt" keygen --psk "$DIR/psk"
"$BIN/ckpt-kv" --role spare --store "$DIR/spare" --psk "$DIR/psk" --listen "$REPL" \
  --clients "127.0.0.1:$SPARE_PORT" --timeout-ms 100 2> "$DIR/spare.log" &
PIDS+=($!)
disown
"$BIN/ckpt-kv" --role primary --store "$DIR/primary" --psk "$DIR/psk" --listen \
  "127.0.0.1:$PRIMARY_PORT" --spare "$REPL" --timeout-ms 100 2> "$DIR/primary.log" &
PRIMARY=$!
PIDS+=($PRIMARY)
disown
wait_port "$PRIMARY_PORT"
oks=$(for i in $(seq $KEYS); do echo "SET key$i value$i"; done | ask "$PRIMARY_PORT" | grep -c '^OK$' || true)
echo "primary acknowledged $oks of $KEYS writes (each OK: on the spare's disk)"
start=$(date +%s%N)
kill -KILL "$PRIMARY"
wait_port "$SPARE_PORT"
echo "spare serving clients $(( ($(date +%s%N) - start) / 1000000 )) ms after the SIGKILL:"
sed 's/^/     /' "$DIR/spare.log" | grep -E 'lost|taking over|restored'
got=$(for i in $(seq $KEYS); do echo "GET key$i"; done | ask "$SPARE_PORT" | grep -c '^VALUE value' || true)
echo "spare returns $got of the $oks acknowledged keys"
[[ "$got" -ge "$oks" && "$oks" -gt 0 ]] || { echo "demo: acknowledged writes lost" >&2; exit 1; }
"$BIN/ckpt" --store "$DIR/spare" verify
echo "hot-spare act OK"
