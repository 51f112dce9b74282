#!/usr/bin/env bash
# Builds the benchmarks in Release mode and runs each one. Figures go to stdout; pass
# a smaller scale (e.g. SCALE=0.1) for a quick look.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh build-bench -DCMAKE_BUILD_TYPE=Release -DTRASHD_BENCH=ON -DTRASHD_TESTS=ON
for b in build-bench/tests/bench/bench_*; do
  [ -x "$b" ] || continue
  echo "== $(basename "$b")"
  "$b" "${SCALE:-1}"
done
