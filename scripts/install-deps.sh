#!/usr/bin/env bash
# Installs every Debian package trashd needs to build, test and benchmark, then the npm
# tools of the tests from their committed lock files. Safe to run again; needs root
# (or sudo) on Debian bookworm.
set -euo pipefail

packages=(
  build-essential cmake pkg-config git
  libboost1.81-dev libboost-system1.81-dev libboost-filesystem1.81-dev
  libboost-url1.81-dev libboost-json1.81-dev
  libyaml-cpp-dev liblmdb-dev libssl-dev libspdlog-dev libfmt-dev
  catch2 libsystemd-dev libcli11-dev
  # the PostgreSQL store (libpqxx) and the throwaway cluster its tests start
  libpqxx-dev libpq-dev postgresql
  # the house format, checked by scripts/test.sh
  clang-format
  # the fuzz targets (scripts/fuzz.sh): clang with libFuzzer and the sanitizers' runtime
  clang libclang-rt-14-dev
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
# node for the npm tools below (tests/openapi: redocly lint, ajv; tests/ui:
# playwright-core, axe-core); Debian's nodejs comes without npm.
command -v node >/dev/null 2>&1 || packages+=(nodejs)
command -v npm >/dev/null 2>&1 || packages+=(npm)

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages already installed"
else
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -q
  "${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# npm tools of the tests, each folder from its committed package-lock.json, again only
# when the lock changed since the last install. playwright-core downloads no browser
# (the tests use Debian's chromium).
cd "$(dirname "$0")/.."
for dir in tests/openapi tests/ui; do
  if ! cmp -s "$dir/package-lock.json" "$dir/node_modules/.installed-lock.json"; then
    echo "install-deps: npm ci in $dir"
    (cd "$dir" && npm ci --no-audit --no-fund --ignore-scripts &&
      cp package-lock.json node_modules/.installed-lock.json)
  fi
done
