#!/usr/bin/env bash
# Installs what is missing, builds in Release and runs deferred-bench (every
# benchmark, with the libuv and Twisted baselines side by side, and the
# pool's instruction counts under callgrind), then draws its charts next to
# the JSON (build/bench-*.png).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh
DF_PACKAGES="$DF_PACKAGES python3-matplotlib" # bench/plot.py's charts
df_install_deps

build=${DF_BUILD_DIR:-build}
cmake -S . -B "$build/release" -DCMAKE_BUILD_TYPE=Release -DDF_BUILD_TESTS=OFF >/dev/null
cmake --build "$build/release" -j "$(nproc 2>/dev/null || echo 2)"
# --callgrind: the pool's instructions per job, counted under valgrind.
"$build/release/bench/deferred-bench" all --callgrind --json "$build/bench.json" "$@"
# The charts, next to the JSON (bench/plot.py; --out DIR puts them elsewhere).
/usr/bin/python3 bench/plot.py "$build/bench.json"
