#!/usr/bin/env bash
# Installs every Debian package trashd needs to build, test and benchmark.
# Safe to run again; needs root (or sudo) on Debian bookworm.
set -euo pipefail

packages=(
  build-essential cmake pkg-config git
  libboost1.81-dev libboost-system1.81-dev libboost-filesystem1.81-dev
  libboost-url1.81-dev libboost-json1.81-dev
  libyaml-cpp-dev liblmdb-dev libssl-dev libspdlog-dev libfmt-dev
  catch2 libsystemd-dev libcli11-dev
  # the PostgreSQL store (libpqxx) and the throwaway cluster its tests start
  libpqxx-dev postgresql
  # the house format, checked by scripts/test.sh
  clang-format
  # packaging: cpack -G DEB (dpkg-shlibdeps, dpkg-buildflags, file), strings/readelf,
  # systemd-analyze, lintian, hardening-check (devscripts), man (lintian's man page check)
  dpkg-dev file binutils systemd lintian devscripts man-db
  # promtool (check metrics / check rules) for tests/integration/metrics_test.cc
  prometheus
  # Argon2id password hashes for the web page's log-in
  libsodium-dev
  # the web page's browser tests (tests/ui): Debian's chromium, driven from node
  chromium
)
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then packages+=(nodejs npm); fi

# playwright-core and axe-core for tests/ui, at the versions its package-lock.json
# pins; playwright-core downloads no browser (the tests use Debian's chromium).
ui_packages() {
  local ui
  ui="$(cd "$(dirname "$0")/.." && pwd)/tests/ui"
  if [ ! -d "$ui/node_modules/playwright-core" ] || [ ! -d "$ui/node_modules/axe-core" ]; then
    echo "install-deps: npm ci in tests/ui"
    (cd "$ui" && npm ci --no-audit --no-fund)
  fi
}
trap 'rc=$?; if [ $rc -eq 0 ]; then ui_packages; fi' EXIT

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages already installed"
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -q
"${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
