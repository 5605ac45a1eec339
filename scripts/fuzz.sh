#!/usr/bin/env bash
# Fuzzing on its own: `scripts/fuzz.sh SECONDS` runs the core driver under
# ASan+UBSan (seeds in order) and then each DNS target under libFuzzer
# (clang, ASan+UBSan), each for SECONDS (default 600). `scripts/fuzz.sh
# SECONDS libfuzzer` runs only the libFuzzer targets (CI runs them that way,
# for 18 s each). Build trees: $DF_BUILD_DIR/asan and $DF_BUILD_DIR/fuzz
# (default build/); libFuzzer keeps the inputs it found in
# $DF_BUILD_DIR/fuzz/corpus/<target>/ and a crashing input in
# $DF_BUILD_DIR/fuzz/crash-*.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-600}
only=${2:-all}
build=${DF_BUILD_DIR:-build}
jobs=$(nproc 2>/dev/null || echo 2)
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1

if [ "$only" != libfuzzer ]; then
  echo "== core fuzz driver, $seconds s"
  cmake -S . -B "$build/asan" -DCMAKE_BUILD_TYPE=Debug -DDF_WERROR=ON \
    -DDF_SANITIZER=address >/dev/null
  cmake --build "$build/asan" -j "$jobs" --target test_fuzz_core >/dev/null
  DF_FUZZ_SEEDS=1 DF_FUZZ_SECONDS="$seconds" "$build/asan/tests/test_fuzz_core"
fi

echo "== libFuzzer, $seconds s per target"
CC=clang cmake -S . -B "$build/fuzz" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDF_WERROR=ON \
  -DDF_SANITIZER=address -DDF_LIBFUZZER=ON -DDF_BUILD_BENCH=OFF \
  -DDF_BUILD_EXAMPLES=OFF >/dev/null
for target in dns_servers:256 dns_names:300 dns_answers:513; do
  name=${target%%:*}
  cmake --build "$build/fuzz" -j "$jobs" --target "fuzz_$name" >/dev/null
  mkdir -p "$build/fuzz/corpus/$name"
  "$build/fuzz/tests/fuzz_$name" -max_total_time="$seconds" \
    -max_len="${target##*:}" -timeout=20 -seed=1 -print_final_stats=1 \
    -artifact_prefix="$build/fuzz/" "$build/fuzz/corpus/$name" \
    "tests/fuzz/corpus/$name" >"$build/fuzz/$name.log" 2>&1 || {
    tail -n 60 "$build/fuzz/$name.log"
    echo "fuzz_$name failed: the input is in $build/fuzz/crash-*"
    exit 1
  }
  echo "fuzz_$name: $(sed -n 's/^stat::number_of_executed_units: *//p' \
    "$build/fuzz/$name.log") executions in $seconds s"
done
