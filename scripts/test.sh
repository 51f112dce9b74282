#!/usr/bin/env bash
# Runs every test: installs the Debian packages, builds with warnings as errors, runs
# the suite with ctest, then builds and runs the same suite under ASan + UBSan, then
# runs each fuzz target for 10 seconds (scripts/fuzz.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh

jobs=$(nproc)
echo "== format (clang-format --dry-run -Werror, .clang-format at the root)"
git ls-files -z -- '*.cc' '*.h' | xargs -0 clang-format --dry-run -Werror

# Release, as scripts/setup.sh builds (GCC warns of some things only at -O3, and
# warnings are errors). No debug information: it made each file take about half as
# long again to compile; the ASan stage runs every test again with it, for traces.
echo "== build (Release) and test"
bash scripts/build.sh build-test -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_CXX_FLAGS_RELEASE="-O3 -DNDEBUG" -DTRASHD_BENCH=ON
ctest --test-dir build-test --output-on-failure -j"$jobs"

# Debug information as line tables only (-g1): a sanitizer's report still names each
# frame's function, file and line, and each file compiles in less time (a sixth less
# for a Beast file).
echo "== build (ASan + UBSan) and test"
bash scripts/build.sh build-asan -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG=-g1 \
  -DTRASHD_SANITIZE=ON -DTRASHD_BENCH=OFF
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
  LSAN_OPTIONS=suppressions="$PWD/tests/sanitizers/lsan.supp" \
  ctest --test-dir build-asan --output-on-failure -j"$jobs"

echo "== fuzz (libFuzzer, 10 s per target; scripts/fuzz.sh SECONDS for long runs)"
bash scripts/fuzz.sh 10
