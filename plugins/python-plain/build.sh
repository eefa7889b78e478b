#!/usr/bin/env bash
# Builds plugins/python-plain into a WASI 0.2 component:
#   bash plugins/python-plain/build.sh [OUT.wasm]
# It installs componentize-py (pinned) into a virtual environment under the
# workspace's target/ when missing, and writes the component to OUT.wasm
# (default target/python-plain.wasm).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
top="$(cd "$here/../.." && pwd)"
out="${1:-$top/target/python-plain.wasm}"
venv="$top/target/py-plugin-venv"
if [ ! -x "$venv/bin/componentize-py" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet componentize-py==0.25.1
fi
cd "$here"
"$venv/bin/componentize-py" -d "$top/wit/v1.0.0" -w backup-plugin componentize app -p "$here" -o "$out"
