#!/usr/bin/env bash
# One command on a fresh Debian bookworm machine: install the Debian packages, then
# build trashd in Release mode into build/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh build -DCMAKE_BUILD_TYPE=Release
