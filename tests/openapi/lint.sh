#!/usr/bin/env bash
# Lints the OpenAPI document with `redocly lint` (tests/openapi/redocly.yaml: the
# recommended rules, each an error). The tools are installed into
# tests/openapi/node_modules by scripts/install-deps.sh (npm ci, package-lock.json).
#   tests/openapi/lint.sh [DOCUMENT]     (default daemon/http/openapi.json)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
doc="${1:-$here/../../daemon/http/openapi.json}"
cli="$here/node_modules/@redocly/cli/bin/cli.js"
if [ ! -f "$cli" ]; then
  echo "lint.sh: $cli is missing; run scripts/install-deps.sh" >&2
  exit 1
fi
cd "$here"
exec node "$cli" lint --config "$here/redocly.yaml" --format stylish "$doc"
