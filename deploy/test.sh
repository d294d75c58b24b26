#!/usr/bin/env bash
# The full test run (README's second command, and what CI runs):
#   1. installs the Debian packages (deploy/install-deps.sh),
#   2. Release build with -Werror, every ctest test,
#   3. AddressSanitizer + UBSan build, every ctest test,
#   4. each libFuzzer target for a bounded time (FUZZ_SECONDS, default 30).
# Build trees go to build/ (override with SCHAKEL_BUILD_DIR). Safe to re-run: builds are incremental.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
build=${SCHAKEL_BUILD_DIR:-$root/build}
fuzz_seconds=${FUZZ_SECONDS:-30}
jobs=${JOBS:-$(nproc)}

bash deploy/install-deps.sh

step() { printf '\n==== %s ====\n' "$*"; }
# The cache lives outside the clone; hashing paths relative to the clone's root (and not the build
# folder's name) lets a fresh clone elsewhere, as CI makes, reuse what a working tree compiled.
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/ccache} CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-8G}
export CCACHE_BASEDIR=$root CCACHE_NOHASHDIR=true
export CTEST_OUTPUT_ON_FAILURE=1

step "release build (-Werror)"
cmake -S . -B "$build/release" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSCHAKEL_WERROR=ON >/dev/null
cmake --build "$build/release" -j "$jobs"
step "release tests"
ctest --test-dir "$build/release" -j "$jobs" --timeout 300

step "sanitizer build (ASan + UBSan)"
# g++ 12, like the release build: clang 14 lacks C++20 lambda captures of structured bindings, and
# the g++ 12 coroutine false reports the stack notes warn about did not show in this code.
cmake -S . -B "$build/asan" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DSCHAKEL_WERROR=ON -DSCHAKEL_SANITIZE=ON \
  -DSCHAKEL_BENCH=OFF >/dev/null
cmake --build "$build/asan" -j "$jobs"
step "sanitizer tests"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir "$build/asan" -j "$jobs" --timeout 600

step "fuzz targets (${fuzz_seconds}s each)"
cmake -S . -B "$build/fuzz" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSCHAKEL_FUZZ=ON -DSCHAKEL_TESTS=OFF \
  -DSCHAKEL_BENCH=OFF -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 >/dev/null
# Only the fuzz targets and what they link: the rest of the tree is covered by the two builds above.
fuzz_targets=$(ninja -C "$build/fuzz" -t targets all | grep -o '^fuzz_[a-z0-9_]*' | sort -u)
cmake --build "$build/fuzz" -j "$jobs" --target $fuzz_targets
fuzz_failed=0
for target in "$build"/fuzz/bin/fuzz_*; do
  name=$(basename "$target")
  corpus_src="$root/tests/fuzz/corpus/${name#fuzz_}"
  work=$(mktemp -d)
  [ -d "$corpus_src" ] && cp -r "$corpus_src"/. "$work"/
  if "$target" -max_total_time="$fuzz_seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
       -artifact_prefix="$build/fuzz/$name-" \
       "$work" >"$build/fuzz/$name.log" 2>&1; then
    echo "fuzz: $name ok ($(grep -m1 -o 'stat::number_of_executed_units: *[0-9]*' "$build/fuzz/$name.log" | grep -o '[0-9]*$') runs)"
  else
    echo "fuzz: $name FAILED"; tail -40 "$build/fuzz/$name.log"; fuzz_failed=1
  fi
  rm -rf "$work"
done
[ "$fuzz_failed" = 0 ] || { echo "a fuzz target failed"; exit 1; }
step "all tests passed"
