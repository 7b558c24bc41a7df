#!/usr/bin/env bash
# Runs every test stage; called by `make test` after `make build` has built build/.
#   1. the include-graph check (scripts/check-layers.py), then ctest in build/ (RelWithDebInfo)
#   2. the same tests built and run under ASan/UBSan in build-asan/
#   3. the concurrency tests built and run under TSan in build-tsan/
#   4. every libFuzzer target (clang) in build-fuzz/ for FUZZ_SECONDS each, on a copy of
#      tests/fuzz/corpus, after replaying tests/fuzz/crashes (known crash reproducers)
# A failing stage does not stop later ones. The last line is "N passed, M failed"
# (stages); the exit status is non-zero if any stage failed.
#
# Environment: FUZZ_SECONDS (default 15) per fuzz target, JOBS (default: nproc) for
# builds, CTEST_JOBS (default 2), STAGES (default "unit asan fuzz": which groups to run).
set -euo pipefail

cd "$(dirname "$0")/.."

FUZZ_SECONDS="${FUZZ_SECONDS:-15}"
JOBS="${JOBS:-$(nproc)}"
CTEST_JOBS="${CTEST_JOBS:-2}"
STAGES="${STAGES:-unit asan tsan fuzz}"
FUZZ_TARGETS=(fuzz_manifest fuzz_pack_index fuzz_ref fuzz_store_header fuzz_tree_node
  fuzz_sealed_manifest fuzz_key_files fuzz_replication_wire fuzz_kv_protocol fuzz_criu_files)

passed=0
failed=0
failed_names=()

header() {
  printf '\n==================== %s ====================\n' "$1"
}

# stage <name> <command...>: runs the command, records the outcome.
stage() {
  local name="$1"
  shift
  header "$name"
  local start=$SECONDS rc=0
  "$@" || rc=$?
  if [[ $rc -eq 0 ]]; then
    echo "--- $name: PASSED ($((SECONDS - start)) s)"
    passed=$((passed + 1))
  else
    echo "--- $name: FAILED (exit $rc, $((SECONDS - start)) s)"
    failed=$((failed + 1))
    failed_names+=("$name")
  fi
  return $rc
}

# skip <name> <why>: a stage that could not run because one it depends on failed.
skip() {
  header "$1"
  echo "--- $1: FAILED (not run: $2)"
  failed=$((failed + 1))
  failed_names+=("$1")
}

run_ctest() {
  ctest --test-dir "$1" --output-on-failure --no-tests=error -j"$CTEST_JOBS"
}

# Stage bodies run with errexit suspended (they are called from `if`/`||`), so every
# step is chained explicitly.
build_asan() {
  cmake -S . -B build-asan -DCKPT_SANITIZE=address,undefined -DCMAKE_BUILD_TYPE=Debug >/dev/null &&
    cmake --build build-asan -j"$JOBS"
}

run_asan_tests() {
  ASAN_OPTIONS="detect_leaks=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}" \
  UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}" \
    run_ctest build-asan
}

build_fuzz() {
  CC=clang CXX=clang++ cmake -S . -B build-fuzz -DCKPT_FUZZ=ON \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null &&
    cmake --build build-fuzz -j"$JOBS" &&
    # Fresh seeds from the current encoders next to the committed ones. The repository
    # is never written: libFuzzer adds what it finds to build-fuzz/corpus.
    mkdir -p build-fuzz/corpus &&
    cp -R tests/fuzz/corpus/. build-fuzz/corpus/ &&
    build-fuzz/bin/fuzz_seeds build-fuzz/corpus
}

# The interesting lines of a libFuzzer/sanitizer log: what went wrong and the frames in
# ckpt's own sources.
summarize_crash() {
  grep -E 'Running:|ERROR:|runtime error|invariant failed|SUMMARY|#[0-9]+ 0x.* (/[^ ]*)?/(src|tests)/' "$1" |
    head -60 || true
}

run_fuzz() {
  local t="$1"
  local bin="build-fuzz/bin/$t" corpus="build-fuzz/corpus/$t"
  local artifacts="build-fuzz/artifacts/$t" log="build-fuzz/logs/$t.log"
  mkdir -p "$corpus" "$artifacts" "$(dirname "$log")" || return 1
  export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
  # Known reproducers must not crash any more.
  local crashes=()
  if [[ -d tests/fuzz/crashes/$t ]]; then
    mapfile -t crashes < <(find "tests/fuzz/crashes/$t" -type f | sort)
  fi
  if [[ ${#crashes[@]} -gt 0 ]]; then
    echo "replaying ${#crashes[@]} reproducer(s) from tests/fuzz/crashes/$t"
    local f still=0
    : >"$log.replay"
    for f in "${crashes[@]}"; do
      if ! "$bin" -runs=1 "$f" >>"$log.replay" 2>&1; then
        echo "STILL CRASHES: $f"
        still=$((still + 1))
      fi
    done
    if [[ $still -gt 0 ]]; then
      summarize_crash "$log.replay"
      echo "$t: $still reproducer(s) in tests/fuzz/crashes/$t still crash (full log: $log.replay)"
      return 1
    fi
  fi
  echo "fuzzing $t for ${FUZZ_SECONDS} s (corpus $corpus, log $log)"
  local rc=0
  "$bin" -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$artifacts/" "$corpus" >"$log" 2>&1 || rc=$?
  grep -E '^#[0-9]+[[:space:]]+DONE' "$log" || true
  if [[ $rc -ne 0 ]]; then
    summarize_crash "$log"
    grep -E 'Test unit written|^Base64' "$log" || true
    echo "$t crashed (exit $rc); reproducer in $artifacts/, full log $log"
    echo "replay with: $bin $artifacts/<file>"
    return 1
  fi
}

# ThreadSanitizer: the concurrency tests (trackers, strategies with several writer
# threads, background persist). Only those: TSan's shadow memory covers the fixed
# addresses where arenas live, so arena tests run in the other builds. The uffd-wp-sync
# combinations are left out: their ordering (the handler reads a page while the writer
# is blocked in the kernel, then un-protects it) goes through the kernel, which TSan
# cannot see, so it would report every such page as a race.
TSAN_FILTER='*Consistency*:*TrackerTest*:*FreezeBudget*:*LazyRestore*:*ReplicationStream*:*EncryptedReplication*:PackFds.Evicts*:-*uffd_wp_sync*:*DamagedChunk*'
build_tsan() {
  cmake -S . -B build-tsan -DCKPT_SANITIZE=thread -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null &&
    cmake --build build-tsan -j"$JOBS" --target ckpt-tests
}
run_tsan_tests() {
  TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1${TSAN_OPTIONS:+ $TSAN_OPTIONS}" \
    build-tsan/bin/ckpt-tests --gtest_filter="$TSAN_FILTER"
}

wanted() { [[ " $STAGES " == *" $1 "* ]]; }

# The process-checkpoint tests (tests/criu/) run in the unit and ASan stages (the ckpt
# binary under test is instrumented, the programs it dumps are plain python3/sh) and not
# under TSan (its filter above selects the concurrency tests only). Binaries in
# build-asan/ look for CRIU next to themselves, where there is none: point them at the
# private build scripts/setup-criu.sh made, unless a CRIU was chosen already.
if [[ -z "${CKPT_CRIU:-}" && -x build/criu/sbin/criu ]]; then
  export CKPT_CRIU="$PWD/build/criu/sbin/criu"
fi

if wanted unit; then
  stage "layers: include graph (scripts/check-layers.py)" python3 scripts/check-layers.py || true
  stage "unit tests (build)" run_ctest build || true
fi

if wanted asan; then
  if stage "ASan/UBSan build (build-asan)" build_asan; then
    stage "ASan/UBSan tests (build-asan)" run_asan_tests || true
  else
    skip "ASan/UBSan tests (build-asan)" "build failed"
  fi
fi

if wanted tsan; then
  if stage "TSan build (build-tsan)" build_tsan; then
    stage "TSan tests (build-tsan)" run_tsan_tests || true
  else
    skip "TSan tests (build-tsan)" "build failed"
  fi
fi

if wanted fuzz; then
  if stage "fuzz build (build-fuzz)" build_fuzz; then
    for t in "${FUZZ_TARGETS[@]}"; do
      stage "fuzz $t" run_fuzz "$t" || true
    done
  else
    for t in "${FUZZ_TARGETS[@]}"; do skip "fuzz $t" "fuzz build failed"; done
  fi
fi

header "summary"
for n in "${failed_names[@]+"${failed_names[@]}"}"; do echo "FAILED: $n"; done
echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
