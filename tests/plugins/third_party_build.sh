#!/usr/bin/env bash
# Installs trashd's SDK from a build tree into a temp prefix, then configures and builds
# the notebook plugin as a separate CMake project against it, as a third party would.
# Usage: third_party_build.sh BUILD_DIR SOURCE_DIR OUT_DIR
set -euo pipefail
build_dir=$1 src_dir=$2 out=$3
rm -rf "$out"
mkdir -p "$out"
cmake --install "$build_dir" --prefix "$out/prefix" --component sdk
cmake -S "$src_dir/tests/plugins/notebook" -B "$out/build" \
  -DCMAKE_PREFIX_PATH="$out/prefix" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$out/build"
test -f "$out/build/libtrashd_notebook.so"
# The SDK carries no header of LMDB, Asio, spdlog or yaml-cpp.
if grep -rlE "lmdb\.h|asio|spdlog|yaml-cpp" "$out/prefix/include"; then
  echo "the installed SDK exposes a private dependency" >&2
  exit 1
fi
echo "built $out/build/libtrashd_notebook.so against the SDK in $out/prefix"
