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
  # the house format, checked by scripts/test.sh
  clang-format
  # the fuzz targets (scripts/fuzz.sh): clang with libFuzzer and the sanitizers' runtime
  clang libclang-rt-14-dev
  # packaging: cpack -G DEB (dpkg-shlibdeps, dpkg-buildflags, file), strings/readelf,
  # systemd-analyze, lintian, hardening-check (devscripts), man (lintian's man page check)
  dpkg-dev file binutils systemd lintian devscripts man-db
  # promtool (check metrics / check rules) for tests/integration/metrics_test.cc
  prometheus
)

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
