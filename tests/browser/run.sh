#!/usr/bin/env bash
# Runs the browser tests from a fresh machine: installs chromium and the npm packages when
# missing, builds the server (unless KINESIS_BIN names a built one), then `node --test`.
# Screenshots land in tests/artifacts/.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
bash "$repo/tests/browser/install.sh"
if [ -z "${KINESIS_BIN:-}" ]; then
  (cd "$repo" && cargo build -p kinesis-backup)
fi
cd "$repo"
exec node --test tests/browser/
