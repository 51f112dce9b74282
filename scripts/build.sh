#!/usr/bin/env bash
# Usage: scripts/build.sh BUILD_DIR [cmake options...]
# Configures (once) and builds trashd into BUILD_DIR with every core of the machine.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build}
shift || true
cmake -S . -B "$dir" "$@" >/dev/null
cmake --build "$dir" -j"$(nproc)"
