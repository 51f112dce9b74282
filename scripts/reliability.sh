#!/usr/bin/env bash
# The kill -9 loop for long runs (issue 13): builds trashd (with its test clock) and
# the driver in build-reliability/, then runs CYCLES cycles (default 1000) and prints
# one line per cycle and a summary. More arguments go to the driver (--seed S,
# --clients K, --dir DIR, --keep). scripts/test.sh runs 20 cycles through ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
cycles=${1:-1000}
shift || true
build=${TRASHD_RELIABILITY_BUILD:-build-reliability}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTRASHD_TESTS=ON \
  -DTRASHD_TEST_CLOCK=ON -DTRASHD_BENCH=OFF >/dev/null
cmake --build "$build" -j"$(nproc)" --target crash_loop trashd >/dev/null
exec "$build/tests/reliability/crash_loop" --cycles "$cycles" "$@"
