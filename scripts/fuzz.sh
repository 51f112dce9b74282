#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz (clang, ASan + UBSan, in build-fuzz/) if
# needed and runs each for SECONDS (default 60) on its seed corpus
# (tests/fuzz/corpus/<target>/, read only; what a run finds goes to
# build-fuzz/corpus/<target>/). Prints per target: executions, coverage (cov: edges,
# ft: features), corpus size and whether it crashed; a crashing input is saved as
# build-fuzz/crashes/<target>/crash-*, and printed (base64) with the end of the
# target's log. Exits non-zero if any target crashed.
#   scripts/fuzz.sh [SECONDS] [TARGET...]     e.g. scripts/fuzz.sh 20 record settings
# FUZZ_BUILD_DIR overrides build-fuzz; FUZZ_RUN_DIR puts logs, corpora and crashes
# elsewhere than in it; FUZZ_ARGS adds libFuzzer flags (-runs=N, ...). The targets run
# as many at a time as there are cores (FUZZ_JOBS=N: N at a time; FUZZ_PARALLEL=1: all
# at once). A long run, in the background:
#   FUZZ_PARALLEL=1 FUZZ_RUN_DIR=build-fuzz/long FUZZ_ARGS=-runs=10000000 \
#     nice -n 19 scripts/fuzz.sh 7200 > fuzz-long.txt 2>&1 &
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
all=(record stored_record settings trash_cursor json_body http_api admin)
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=("${all[@]}")
build=${FUZZ_BUILD_DIR:-build-fuzz}
out=${FUZZ_RUN_DIR:-$build}
cxx=${CXX_FUZZ:-$(command -v clang++ || command -v clang++-14)}

launcher=()
if command -v ccache >/dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
# Debug information as line tables only: a crash's stack still names function, file
# and line, and the build takes less time.
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER="$cxx" \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -gline-tables-only -DNDEBUG" \
  -DTRASHD_FUZZ=ON -DTRASHD_TESTS=OFF -DTRASHD_BENCH=OFF "${launcher[@]}" >/dev/null
cmake --build "$build" -j"$(nproc)" --target $(printf '%s_fuzz ' "${targets[@]}")

# A leak found at exit is reported by the suite's ASan build; here only crashes count.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# The targets' stores live in memory when they can: a store on disk halves the rate.
run_tmp=$(mktemp -d "$( [ -w /dev/shm ] && echo /dev/shm || echo "${TMPDIR:-/tmp}")/trashd-fuzz-run.XXXXXX")
trap 'rm -rf "$run_tmp"' EXIT
export TMPDIR=$run_tmp
run() {  # one target: its log is $out/fuzz-<target>.log, its exit code the log's last line
  local t=$1 dict=()
  mkdir -p "$out/corpus/$t" "$out/crashes/$t"
  [ -f "tests/fuzz/$t.dict" ] && dict=(-dict="tests/fuzz/$t.dict")
  local rc=0
  "$build/tests/fuzz/${t}_fuzz" -max_total_time="$seconds" -print_final_stats=1 \
    -timeout=10 -rss_limit_mb=4096 -max_len=8192 -artifact_prefix="$out/crashes/$t/" \
    "${dict[@]}" ${FUZZ_ARGS:-} "$out/corpus/$t" "tests/fuzz/corpus/$t" \
    >"$out/fuzz-$t.log" 2>&1 || rc=$?
  echo "exit code: $rc" >>"$out/fuzz-$t.log"
}

# As many at a time as the machine has cores (each target is one process on one core:
# it runs as long, and as fast, as alone); FUZZ_JOBS=N sets how many, FUZZ_PARALLEL=1
# runs them all at once (long runs).
at_once=${FUZZ_JOBS:-$(nproc)}
[ "${FUZZ_PARALLEL:-0}" = 1 ] && at_once=${#targets[@]}
for t in "${targets[@]}"; do
  # run always returns 0 (its target's exit code goes to the log), so wait -n is safe
  # under set -e.
  while [ "$(jobs -rp | wc -l)" -ge "$at_once" ]; do wait -n; done
  run "$t" &
done
wait

failed=0
printf '%-14s %12s %8s %8s %8s  %s\n' target execs cov ft corpus result
for t in "${targets[@]}"; do
  log=$out/fuzz-$t.log
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  last=$(grep -E '^#[0-9]+' "$log" | tail -1)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  corp=$(sed -n 's/.* corp: \([0-9]*\).*/\1/p' <<<"$last")
  rc=$(sed -n 's/^exit code: //p' "$log" | tail -1)
  result=ok
  if [ "$rc" != 0 ]; then
    result="CRASH (exit $rc): see $log and $out/crashes/$t/"
    failed=1
  fi
  printf '%-14s %12s %8s %8s %8s  %s\n' "$t" "${execs:-?}" "${cov:-?}" "${ft:-?}" \
    "${corp:-?}" "$result"
done
# A crash's own report (the harness's "fuzz:" line, the sanitizer's stack), where only
# this output is kept (CI): the end of each crashing target's log.
for t in "${targets[@]}"; do
  log=$out/fuzz-$t.log
  [ "$(sed -n 's/^exit code: //p' "$log" | tail -1)" = 0 ] && continue
  echo "---- $t: what $log says of the crash, then its end"
  grep -E '^fuzz:|==ERROR|^SUMMARY|deadly signal|Test unit written' "$log" | head -n 20 || true
  grep -vE '^#[0-9]+' "$log" | tail -n 60
  for f in "$out/crashes/$t"/*; do
    [ -f "$f" ] || continue
    echo "---- $t: $f, base64:"
    head -c 8192 "$f" | base64
  done
done
exit $failed
