#!/usr/bin/env bash
# Builds the benchmarks in Release mode and runs each one: the engine's against their
# raw-LMDB floors, then bench_http, the real trashd binary over HTTP (wrk against an
# nginx serving the same bytes, durable deletes and restores from 1 to 32 clients, and
# that load during a 100,000-item sweep), bench_pg (the store on PostgreSQL against a
# soft-delete peer), and the web Trash page's figures in chromium (1,000 and 100,000
# items). Figures go to stdout; pass a smaller scale (e.g. SCALE=0.1) for a quick look.
# BENCH_BUILD_DIR picks the build directory.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh

# bench_http's load generator and reference server, when their programs are missing.
# Installing nginx on a machine run by systemd also starts and enables its service on
# port 80; the benchmark runs its own nginx, so that service is stopped again.
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
missing=()
command -v wrk >/dev/null || missing+=(wrk)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx-light)
if [ ${#missing[@]} -gt 0 ]; then
  echo "bench: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -q
  "${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
  if [[ " ${missing[*]} " == *" nginx-light "* ]] && [ -d /run/systemd/system ]; then
    "${sudo_cmd[@]}" systemctl disable --now nginx || true
  fi
fi

# Only what the benchmarks need: their programs, trashd and the plugins they load.
dir=${BENCH_BUILD_DIR:-build-bench}
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Release -DTRASHD_BENCH=ON -DTRASHD_TESTS=ON \
  >/dev/null
mapfile -t targets < <(cmake --build "$dir" --target help |
  grep -oE '\bbench_[a-z0-9_]+\b' | sort -u)
cmake --build "$dir" -j"$(nproc)" --target "${targets[@]}" trashd trashctl

for name in "${targets[@]}"; do
  # last: they start daemons (and bench_pg a PostgreSQL cluster) and take the cores
  [ "$name" = bench_http ] || [ "$name" = bench_pg ] && continue
  b="$dir/tests/bench/$name"
  [ -x "$b" ] || continue
  echo "== $name"
  "$b" "${SCALE:-1}"
done
if [ -x "$dir/tests/bench/bench_http" ]; then
  echo "== bench_http"
  "$dir/tests/bench/bench_http" "${SCALE:-1}"
fi
if [ -x "$dir/tests/bench/bench_pg" ]; then
  echo "== bench_pg"
  "$dir/tests/bench/bench_pg" "${SCALE:-1}"
fi

# The web Trash page: how soon it is usable with 1,000 items, and how fast a search and a
# sort answer with 100,000 (scaled), measured in the browser (tests/ui/figures.mjs).
echo "== the web Trash page (chromium)"
big=$(awk -v s="${SCALE:-1}" 'BEGIN { n = int(100000 * s); print (n < 1000 ? 1000 : n) }')
node tests/ui/trash_page_test.mjs --figures-only --big "$big" \
  --trashd "$dir/daemon/trashd" --trashctl "$dir/daemon/trashctl" \
  --chromium "$(command -v chromium || echo /usr/bin/chromium)" --out "$dir/tests/ui"
