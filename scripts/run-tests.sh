#!/usr/bin/env bash
# Installs what is missing, checks the formatting of the C sources
# (.clang-format), builds, and runs every suite: plain (warnings are
# errors), under AddressSanitizer+UBSan, the threaded suites under
# ThreadSanitizer, the core suites under valgrind; builds the API docs
# (Doxygen, warnings are errors); runs the DNS fuzz targets under libFuzzer
# for a bounded time (clang); then builds a consumer against the installed
# package.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh
df_install_deps

# Formatting first: a file clang-format would change fails CI before the
# build, and is named.
echo "== clang-format"
unformatted=$(git ls-files -z '*.c' '*.h' |
  xargs -0 -n 1 sh -c 'clang-format --dry-run --Werror "$1" 2>/dev/null || echo "$1"' sh)
if [ -n "$unformatted" ]; then
  echo "not formatted with .clang-format (run clang-format -i on them):"
  echo "$unformatted" | sed 's/^/  /'
  exit 1
fi

build=${DF_BUILD_DIR:-build}
jobs=$(nproc 2>/dev/null || echo 2)
configure() { # dir, extra cmake arguments...
  local dir=$1
  shift
  cmake -S . -B "$build/$dir" -DDF_WERROR=ON "$@" >/dev/null
  cmake --build "$build/$dir" -j "$jobs"
}
total=0
run_ctest() { # dir, extra ctest arguments...
  local dir=$1
  shift
  echo "== ctest $dir $*"
  ctest --test-dir "$build/$dir" --output-on-failure -j "$jobs" "$@" |
    tee "$build/ctest-$dir.log"
  local ran
  ran=$(sed -n 's/.*tests passed, 0 tests failed out of \([0-9]*\).*/\1/p' \
    "$build/ctest-$dir.log" | tail -n 1)
  total=$((total + ${ran:-0}))
}

configure plain -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDF_VALGRIND=ON
# The API reference; an undocumented public declaration fails it.
echo "== docs"
cmake --build "$build/plain" --target docs
run_ctest plain -LE memcheck
run_ctest plain -L memcheck

configure asan -DCMAKE_BUILD_TYPE=Debug -DDF_SANITIZER=address
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
  run_ctest asan

configure tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDF_SANITIZER=thread
TSAN_OPTIONS=halt_on_error=1 run_ctest tsan -L threaded

# libFuzzer (clang, ASan+UBSan): each DNS target for 18 s from the committed
# corpus; scripts/fuzz.sh runs longer.
DF_BUILD_DIR="$build" scripts/fuzz.sh "${DF_FUZZ_TIME:-18}" libfuzzer

echo "== install and consumer"
rm -rf "$build/stage" "$build/consumer"
cmake --install "$build/plain" --prefix "$PWD/$build/stage" >/dev/null
cmake -S tests/consumer -B "$build/consumer" -DCMAKE_PREFIX_PATH="$PWD/$build/stage" >/dev/null
cmake --build "$build/consumer" -j "$jobs"
"$build/consumer/consumer_cmake"
if [ -x "$build/consumer/consumer_remote" ]; then "$build/consumer/consumer_remote"; fi
PKG_CONFIG_PATH="$PWD/$build/stage/lib/pkgconfig" \
  cc -std=c11 -Wall -Wextra -Werror tests/consumer/main.c -o "$build/consumer/consumer_pc" \
  $(PKG_CONFIG_PATH="$PWD/$build/stage/lib/pkgconfig" pkg-config --cflags --libs deferred) \
  -Wl,-rpath,"$PWD/$build/stage/lib"
"$build/consumer/consumer_pc"
# The installed static libraries, linked by a program built without LTO.
cc -std=c11 -Wall -Wextra -Werror tests/consumer/main.c -o "$build/consumer/consumer_static" \
  -I"$build/stage/include" "$build/stage/lib/libdeferred_pool.a" \
  "$build/stage/lib/libdeferred.a" -pthread
"$build/consumer/consumer_static"
echo "all test phases passed"
echo "$total passed, 0 failed"
