#!/usr/bin/env bash
# Fuzzes the image decoders and the JSON config readers with libFuzzer (docs/fuzzing.md): configures
# build/fuzz with clang (ccache, ninja, -DVG_BUILD_FUZZ=ON), builds the targets, runs the io unit tests and
# the replay of tests/fuzz_regressions/ under AddressSanitizer + UBSan, writes the seed corpus, runs each
# target SECONDS (default 20) on its corpus build/fuzz/corpus/<target> (kept between runs), and exits
# non-zero when a sanitized test fails or any target finds an input that crashes, trips a sanitizer or
# throws anything but a UserError. Such inputs are copied into tests/fuzz_regressions/<target>/, which the
# ordinary test suite replays too (tests/fuzz/fuzz_regressions_test.cpp): commit them with the fix.
#   scripts/fuzz.sh [SECONDS] [TARGET...]      e.g. scripts/fuzz.sh 60 png tiff
# Environment: JOBS (build parallelism, default nproc).
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-20}"
shift || true
scripts/setup.sh fuzz
export CCACHE_BASEDIR="$PWD"
export CCACHE_SLOPPINESS="pch_defines,time_macros,include_file_mtime,include_file_ctime"
export CCACHE_MAXSIZE="${CCACHE_MAXSIZE:-5G}"
B=build/fuzz
# Configure every time (seconds): the config targets' sources are chosen by content (fuzz/CMakeLists.txt).
CC=clang CXX=clang++ cmake -S . -B "$B" -G Ninja -DVG_BUILD_FUZZ=ON -DVG_BUILD_TESTS=OFF -DVG_BUILD_BENCH=OFF \
  -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE=-O1 >/dev/null
ninja -C "$B" -j"${JOBS:-$(nproc)}" vg_fuzzers vg_fuzz_tests

# A sanitizer report aborts (under libFuzzer, which then keeps the input).
export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
for t in test_io_sanitized test_fuzz_sanitized; do
  "$B/fuzz/$t" --gtest_brief=1 >"$B/$t.log" 2>&1 || { tail -40 "$B/$t.log" >&2; echo "fuzz: $t failed" >&2; exit 1; }
  echo "$t: $(grep -E '^\[  PASSED  \]' "$B/$t.log")"
done

targets=("$@")
if ((${#targets[@]} == 0)); then  # every target fuzz/CMakeLists.txt builds
  for f in "$B"/fuzz/fuzz_*; do
    [ "$f" = "$B/fuzz/fuzz_seed_corpus" ] || targets+=("${f##*/fuzz_}")
  done
fi
rm -rf "$B/seeds"
"$B/fuzz/fuzz_seed_corpus" "$B/seeds"
failed=()
printf '%-16s %8s %10s %8s %6s %s\n' target runs execs/s cov ft result
for t in "${targets[@]}"; do
  corpus="$B/corpus/$t" artifacts="$B/artifacts/$t"
  rm -rf "$artifacts"  # only this run's findings are copied below
  mkdir -p "$corpus" "$artifacts"
  dict=()
  [ -f "$B/seeds/$t.dict" ] && dict=(-dict="$B/seeds/$t.dict")
  log="$B/logs/$t.log"
  mkdir -p "$B/logs"
  rc=0
  "$B/fuzz/fuzz_$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=4096 -print_final_stats=1 \
    -artifact_prefix="$artifacts/" "${dict[@]}" "$corpus" "$B/seeds/$t" >"$log" 2>&1 || rc=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  cov=$(sed -n 's/.* cov: \([0-9]*\) .*/\1/p' "$log" | tail -1)
  ft=$(sed -n 's/.* ft: \([0-9]*\) .*/\1/p' "$log" | tail -1)
  result=ok
  if [ "$rc" != 0 ]; then
    result="FOUND (exit $rc, log $log)"
    failed+=("$t")
    mkdir -p "tests/fuzz_regressions/$t"
    for f in "$artifacts"/*; do
      [ -f "$f" ] && cp "$f" "tests/fuzz_regressions/$t/" && result+=" kept tests/fuzz_regressions/$t/$(basename "$f")"
    done
    grep -m3 -E 'ERROR: |runtime error:|terminate called|what\(\):' "$log" >&2 || true
  fi
  printf '%-16s %8s %10s %8s %6s %s\n' "$t" "${runs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "$result"
done
if ((${#failed[@]})); then
  echo "fuzz: findings in ${failed[*]}; inputs kept in tests/fuzz_regressions/ (replayed by ctest -R FuzzRegressions)" >&2
  exit 1
fi
