#!/usr/bin/env bash
# Runs the browser tests from a fresh machine: installs Node.js, chromium and the npm packages
# when missing, builds the server (unless KINESIS_BIN names a built one), then runs every
# tests/browser/*.test.mjs with `node --test`, naming the files (Node 22 and later take no folder
# there), or only the test files given as arguments. Screenshots land in tests/artifacts/.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
bash "$repo/tests/browser/install.sh"
if [ -z "${KINESIS_BIN:-}" ]; then
  (cd "$repo" && cargo build -p kinesis-backup)
fi
cd "$repo"
shopt -s nullglob
if [ "$#" -gt 0 ]; then files=("$@"); else files=(tests/browser/*.test.mjs); fi
if [ "${#files[@]}" -eq 0 ]; then
  echo "browser tests: no tests/browser/*.test.mjs found" >&2
  exit 1
fi
exec node --test "${files[@]}"
