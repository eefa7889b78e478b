#!/usr/bin/env bash
# Installs what the browser tests need, only when it is missing (safe to run every time):
# Debian's chromium (/usr/bin/chromium) and the npm packages pinned in package-lock.json.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

if [ ! -x /usr/bin/chromium ]; then
  echo "browser tests: installing Debian's chromium" >&2
  sudo_cmd=()
  if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
  "${sudo_cmd[@]}" apt-get update
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y chromium
fi

if [ ! -f "$here/node_modules/playwright-core/package.json" ] \
  || [ "$here/package-lock.json" -nt "$here/node_modules/.package-lock.json" ]; then
  echo "browser tests: installing npm packages (npm ci)" >&2
  (cd "$here" && npm ci --no-audit --no-fund)
fi
